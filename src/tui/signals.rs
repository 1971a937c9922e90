//! The signals that end the screen from outside: SIGTERM (a supervisor, `kill`), SIGHUP
//! (the terminal went away) and SIGINT (`kill -INT`; a typed Ctrl-C arrives as a key in
//! raw mode).

/// The next of them to arrive, as its number; None where they cannot be listened for.
#[cfg(unix)]
pub async fn next() -> Option<i32> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok()?;
    let mut hup = signal(SignalKind::hangup()).ok()?;
    let mut int = signal(SignalKind::interrupt()).ok()?;
    tokio::select! {
        _ = term.recv() => Some(15),
        _ = hup.recv() => Some(1),
        _ = int.recv() => Some(2),
    }
}

#[cfg(not(unix))]
pub async fn next() -> Option<i32> {
    tokio::signal::ctrl_c().await.ok().map(|()| 2)
}
