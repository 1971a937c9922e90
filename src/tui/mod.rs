//! The watch screen: terminal, event loop, state and panels.

pub mod app;
pub mod cast;
pub mod follow;
pub mod headless;
pub mod launch;
pub mod runtime;
pub mod shot;
mod signals;
pub mod tape;
pub mod terminal;
pub mod theme;
pub mod view;

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEventKind, KeyModifiers};
use futures::StreamExt;

use app::{App, Key, Msg};
use runtime::Runtime;

fn key(event: crossterm::event::KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    Some(match event.code {
        KeyCode::Char('c') if event.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
        KeyCode::Char(' ') => Key::Space,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Esc => Key::Esc,
        _ => Key::Other,
    })
}

/// Draws the app. The screen's recording gets the frame, and a picture asked for is
/// taken of exactly that frame; then the notice saying where it went is drawn.
fn draw(
    terminal: &mut terminal::Term,
    app: &mut App,
    runtime: &mut Runtime,
) -> std::io::Result<()> {
    let frame = terminal.draw(|f| view::render(f, app, app.themes.current()))?;
    runtime.frame_drawn(frame.buffer, app);
    if !app.pending_shot {
        return Ok(());
    }
    let saved = shot::save(
        frame.buffer,
        app.themes.current(),
        &app.settings.shots_dir,
        &app.settings.shot_formats,
        jiff::Timestamp::now(),
    );
    app.update(Msg::Shot(saved));
    draw(terminal, app, runtime)
}

/// A fault drill: with `SPLITSCOPE_DRILL_PANIC` set, the screen panics once it is up,
/// to show that the terminal comes back and the exit code is 101.
#[allow(clippy::panic)]
fn drill_panic() {
    if std::env::var_os("SPLITSCOPE_DRILL_PANIC").is_some() {
        panic!("a panic drill (SPLITSCOPE_DRILL_PANIC is set)");
    }
}

/// Runs the screen until the user quits. Returns what the run left behind.
pub async fn run(mut app: App, mut runtime: Runtime) -> std::io::Result<app::report::RunReport> {
    let mut guard = terminal::Guard::new()?;
    let tx = runtime.sender();
    let input_tx = tx.clone();
    let input_clock = runtime.clock();
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
    let clock = runtime.clock();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            if tx.send(Msg::Tick(clock.now())).is_err() {
                break;
            }
        }
    });
    // A signal from outside (a closed window, a supervisor, kill) ends the run as `q`
    // does, so the terminal is put back and the exit message still comes.
    let signal_tx = runtime.sender();
    let signals = tokio::spawn(async move {
        if let Some(signal) = signals::next().await {
            let _ = signal_tx.send(Msg::Signal(signal));
        }
    });
    let result = async {
        draw(&mut guard.terminal, &mut app, &mut runtime)?;
        drill_panic();
        while let Some(msg) = runtime.next().await {
            if !runtime.handle(&mut app, msg) {
                break;
            }
            // Take what else is waiting before drawing once.
            let mut quit = false;
            for _ in 0..256 {
                let Some(msg) = runtime.try_next() else { break };
                if !runtime.handle(&mut app, msg) {
                    quit = true;
                    break;
                }
            }
            if quit {
                break;
            }
            draw(&mut guard.terminal, &mut app, &mut runtime)?;
        }
        Ok::<(), std::io::Error>(())
    }
    .await;
    input.abort();
    ticker.abort();
    signals.abort();
    drop(guard);
    result.map(|()| app.report())
}
