//! Small concurrency helpers the rooms share.

pub use crate::task::lock;

/// Resolves once the sandbox stops (or its stop signal is gone).
pub(crate) async fn until_stopped(stopped: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stopped.borrow_and_update() {
            return;
        }
        if stopped.changed().await.is_err() {
            return;
        }
    }
}
