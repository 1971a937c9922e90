//! A spawned task tied to the value that owns it.

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
