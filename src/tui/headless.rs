//! The screen without a terminal, following a tape: the same session and panels, drawn
//! into a buffer of `--size`, for pictures and shows that run the same every time.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::time::Instant;

use super::display::{Display, Look};
use super::tape::{Step, Tape};
use crate::session::{App, Flow, Msg, RunReport, Session, Stop};

/// Why a tape stopped early: the line and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("tape line {line}: {why}")]
pub(crate) struct TapeError {
    pub line: usize,
    pub why: String,
}

type Tv = Display<TestBackend>;

/// Plays `tape` on the session; returns the run's report once the tape ends or the app
/// quits.
pub(crate) async fn play(
    mut session: Session,
    look: Look,
    tape: &Tape,
    size: (u16, u16),
) -> Result<RunReport, TapeError> {
    let terminal = Terminal::new(TestBackend::new(size.0, size.1)).map_err(|e| TapeError {
        line: 0,
        why: e.to_string(),
    })?;
    let mut display = Display::new(terminal, look);
    let signals = super::on_signal(&session);
    let played = steps(&mut session, &mut display, tape).await;
    signals.abort();
    played.map(|()| session.finish())
}

/// Follows the tape's steps until its end or a quit.
async fn steps(session: &mut Session, display: &mut Tv, tape: &Tape) -> Result<(), TapeError> {
    for (line, step) in &tape.steps {
        let fail = |why: String| TapeError { line: *line, why };
        let quit = match step {
            Step::WaitVerdict(verdict, timeout) => {
                let want = *verdict;
                wait(session, display, *timeout, |app, _| {
                    app.split().verdict() == want
                })
                .await
                .map_err(|app| {
                    fail(format!(
                        "wait {}: still {} after {timeout:.0?}",
                        want.word().to_lowercase(),
                        app.split().verdict().word(),
                    ))
                })?
            }
            Step::WaitText(regex, timeout) => wait(session, display, *timeout, |_, tv| {
                regex.is_match(&tv.text())
            })
            .await
            .map_err(|_| {
                fail(format!(
                    "wait /{}/: not on the screen after {timeout:.0?}",
                    regex.as_str()
                ))
            })?,
            Step::Press(keys) => {
                let quit = keys
                    .iter()
                    .any(|key| session.step(Msg::Key(*key), display) == Flow::Quit);
                let _ = session.show(display);
                quit
            }
            Step::Sleep(d) => {
                let until = Some(Instant::now() + *d);
                let stop = session.run(display, until, |_, _| None::<()>).await;
                matches!(stop, Ok(Stop::Quit))
            }
            Step::Shot(path, format) => {
                let _ = session.show(display);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
                }
                let picture = format.render(display.buffer(), display.theme());
                std::fs::write(path, picture)
                    .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
                false
            }
            Step::Resize(w, h) => {
                display.terminal_mut().backend_mut().resize(*w, *h);
                let _ = session.show(display);
                false
            }
            Step::Quit => true,
        };
        if quit {
            break;
        }
    }
    Ok(())
}

/// Runs the session for up to `limit` until `done` holds for the app and the screen.
/// Ok(true) when the app quit on the way; Err with the app when the time ran out.
async fn wait<'s>(
    session: &'s mut Session,
    display: &mut Tv,
    limit: Duration,
    done: impl Fn(&App, &Tv) -> bool,
) -> Result<bool, &'s App> {
    let until = Some(Instant::now() + limit);
    match session
        .run(display, until, |app, tv| done(app, tv).then_some(()))
        .await
    {
        Ok(Stop::Done(())) => Ok(false),
        Ok(Stop::Quit) => Ok(true),
        Ok(Stop::TimedOut | Stop::Closed) | Err(_) => Err(session.app()),
    }
}
