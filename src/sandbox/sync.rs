//! Small concurrency helpers the rooms share.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, taking over a poisoned one: a panic in one request must not take the
/// whole sandbox down with it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Resolves once the sandbox stops (or its stop signal is gone).
pub async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stopped.borrow_and_update() {
            return;
        }
        if stopped.changed().await.is_err() {
            return;
        }
    }
}
