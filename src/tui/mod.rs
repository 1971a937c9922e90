//! The watch screen: terminal, event loop, state and panels.

pub mod app;
pub mod cast;
pub mod follow;
pub mod headless;
pub mod launch;
pub mod runtime;
pub mod shot;
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
    let result = async {
        let frame = guard
            .terminal
            .draw(|f| view::render(f, &app, app.themes.current()))?;
        runtime.frame_drawn(frame.buffer, &mut app);
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
            let frame = guard
                .terminal
                .draw(|f| view::render(f, &app, app.themes.current()))?;
            runtime.frame_drawn(frame.buffer, &mut app);
            if app.pending_shot {
                // The picture is of exactly what was just drawn.
                let buffer = frame.buffer.clone();
                let saved = shot::save(
                    &buffer,
                    app.themes.current(),
                    &app.settings.shots_dir,
                    &app.settings.shot_formats,
                    jiff::Timestamp::now(),
                );
                app.update(Msg::Shot(saved));
                let frame = guard
                    .terminal
                    .draw(|f| view::render(f, &app, app.themes.current()))?;
                runtime.frame_drawn(frame.buffer, &mut app);
            }
        }
        Ok::<(), std::io::Error>(())
    }
    .await;
    input.abort();
    ticker.abort();
    drop(guard);
    result.map(|()| app.report())
}
