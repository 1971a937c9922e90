//! The screen without a terminal, following a tape: the same app, runtime and panels,
//! drawn into a buffer of `--size`, for pictures and shows that run the same every time.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::time::Instant;

use super::app::report::RunReport;
use super::app::{App, Msg};
use super::runtime::Runtime;
use super::tape::{Step, Tape};
use super::{shot, view};

/// Why a tape stopped early: the line and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("tape line {line}: {why}")]
pub struct TapeError {
    pub line: usize,
    pub why: String,
}

struct Screen {
    terminal: Terminal<TestBackend>,
}

impl Screen {
    /// Draws the app; the screen's recording gets the frame too. Returns the text.
    fn draw(&mut self, app: &mut App, runtime: &mut Runtime) -> Result<String, String> {
        let frame = self
            .terminal
            .draw(|f| view::render(f, app, app.themes.current()))
            .map_err(|e| e.to_string())?;
        runtime.frame_drawn(frame.buffer, app);
        Ok(shot::text(self.terminal.backend().buffer()))
    }
}

/// Plays `tape` on the app and runtime; returns the run's report once the tape ends.
pub async fn play(
    mut app: App,
    mut runtime: Runtime,
    tape: &Tape,
    size: (u16, u16),
) -> Result<RunReport, TapeError> {
    let fail = |line: usize| move |why: String| TapeError { line, why };
    let mut screen = Screen {
        terminal: Terminal::new(TestBackend::new(size.0, size.1))
            .map_err(|e| fail(0)(e.to_string()))?,
    };
    for (line, step) in &tape.steps {
        let line = *line;
        match step {
            Step::WaitVerdict(verdict, timeout) => {
                let want = *verdict;
                follow(&mut app, &mut runtime, &mut screen, *timeout, |a, _| {
                    a.split.verdict() == want
                })
                .await
                .map_err(fail(line))?
                .then_some(())
                .ok_or_else(|| {
                    fail(line)(format!(
                        "wait {}: still {} after {:.0?}",
                        want.word().to_lowercase(),
                        app.split.verdict().word(),
                        timeout
                    ))
                })?;
            }
            Step::WaitText(regex, timeout) => {
                follow(&mut app, &mut runtime, &mut screen, *timeout, |_, text| {
                    regex.is_match(text)
                })
                .await
                .map_err(fail(line))?
                .then_some(())
                .ok_or_else(|| {
                    fail(line)(format!(
                        "wait /{}/: not on the screen after {timeout:.0?}",
                        regex.as_str()
                    ))
                })?;
            }
            Step::Press(keys) => {
                for key in keys {
                    if !runtime.handle(&mut app, Msg::Key(*key)) {
                        return Ok(app.report());
                    }
                }
                screen.draw(&mut app, &mut runtime).map_err(fail(line))?;
            }
            Step::Sleep(d) => {
                follow(&mut app, &mut runtime, &mut screen, *d, |_, _| false)
                    .await
                    .map_err(fail(line))?;
            }
            Step::Shot(path, format) => {
                screen.draw(&mut app, &mut runtime).map_err(fail(line))?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| fail(line)(format!("cannot create {}: {e}", dir.display())))?;
                }
                let picture =
                    format.render(screen.terminal.backend().buffer(), app.themes.current());
                std::fs::write(path, picture)
                    .map_err(|e| fail(line)(format!("cannot write {}: {e}", path.display())))?;
            }
            Step::Resize(w, h) => {
                screen.terminal.backend_mut().resize(*w, *h);
                screen.draw(&mut app, &mut runtime).map_err(fail(line))?;
            }
            Step::Quit => break,
        }
    }
    Ok(app.report())
}

/// Feeds the app for up to `limit`, redrawing, until `done` holds for the app and the
/// screen's text; returns whether it did.
async fn follow(
    app: &mut App,
    runtime: &mut Runtime,
    screen: &mut Screen,
    limit: Duration,
    done: impl Fn(&App, &str) -> bool,
) -> Result<bool, String> {
    let deadline = Instant::now() + limit;
    loop {
        let text = screen.draw(app, runtime)?;
        if done(app, &text) {
            return Ok(true);
        }
        match tokio::time::timeout_at(deadline, runtime.next()).await {
            Err(_) => return Ok(false),
            Ok(None) => return Ok(false),
            Ok(Some(msg)) => {
                runtime.handle(app, msg);
                // Take what else is waiting before drawing once.
                while let Some(msg) = runtime.try_next() {
                    runtime.handle(app, msg);
                }
            }
        }
    }
}
