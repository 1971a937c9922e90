//! The terminal side: the screen (panels in `view`, themes, pictures, the screen's
//! recording) and the drivers that show a session on it: the terminal (`run`) and tapes
//! (`headless`).

pub mod cast;
pub mod display;
pub(crate) mod headless;
pub mod shot;
mod signals;
pub mod tape;
pub mod terminal;
pub mod theme;
pub mod view;

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;

use crate::session::{Key, Msg, RunReport, Session};
use display::{Display, Look};

fn key(event: crossterm::event::KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    Some(match event.code {
        KeyCode::Char('c') if event.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
        KeyCode::Char(' ') => Key::Space,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Esc => Key::Esc,
        KeyCode::Enter => Key::Enter,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        _ => Key::Other,
    })
}

/// A fault drill: with `SPLITSCOPE_DRILL_PANIC` set, the screen panics once it is up,
/// to show that the terminal comes back and the exit code is 101.
#[allow(clippy::panic)]
fn drill_panic() {
    if std::env::var_os("SPLITSCOPE_DRILL_PANIC").is_some() {
        panic!("a panic drill (SPLITSCOPE_DRILL_PANIC is set)");
    }
}

/// A signal from outside (a closed window, a supervisor, kill) ends the run as `q` does,
/// on the terminal and under a tape alike: the terminal is put back, the records closed
/// and the exit message still comes.
pub(crate) fn on_signal(session: &Session) -> tokio::task::JoinHandle<()> {
    let tx = session.sender();
    tokio::spawn(async move {
        if let Some(signal) = signals::next().await {
            let _ = tx.send(Msg::Signal(signal));
        }
    })
}

/// Runs the session on the terminal until it quits. Returns what the run left behind.
pub async fn run(mut session: Session, look: Look) -> std::io::Result<RunReport> {
    let (guard, terminal) = terminal::Guard::enter()?;
    let mut display = Display::new(terminal, look);
    let tx = session.sender();
    let input_tx = tx.clone();
    let input_clock = session.clock();
    let input = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(Ok(event)) = events.next().await {
            let msg = match event {
                Event::Key(k) => match key(k) {
                    Some(k) => Msg::Key(k),
                    None => continue,
                },
                // A resize only needs a redraw; a tick carries it.
                Event::Resize(_, _) => Msg::Tick(input_clock.now()),
                _ => continue,
            };
            if input_tx.send(msg).is_err() {
                break;
            }
        }
    });
    // The header's clocks count seconds: one tick a second is enough.
    let clock = session.clock();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            if tx.send(Msg::Tick(clock.now())).is_err() {
                break;
            }
        }
    });
    let signals = on_signal(&session);
    let result = async {
        session.show(&mut display)?;
        drill_panic();
        session.run(&mut display, None, |_, _| None::<()>).await
    }
    .await;
    input.abort();
    ticker.abort();
    signals.abort();
    drop(display);
    drop(guard);
    result.map(|_| session.finish())
}
