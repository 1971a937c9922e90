//! A spawned task tied to the value that owns it, and a lock that outlives a panic.

use tokio::task::JoinHandle;

/// Aborts its task when dropped, so background work (a probe, a poll, a server in the
/// sandbox) ends with whatever owns it.
pub struct AbortOnDrop(pub JoinHandle<()>);

impl AbortOnDrop {
    pub fn spawn(future: impl Future<Output = ()> + Send + 'static) -> AbortOnDrop {
        AbortOnDrop(tokio::spawn(future))
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Locks a mutex, taking over a poisoned one: a panic in one task (a request in the
/// sandbox, a replay's reader) must not take everything else down with it.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
