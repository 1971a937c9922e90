//! What a pod's processes reach the network through. The shell knows only this trait;
//! the sandbox's mesh implements it.

use std::future::Future;
use std::pin::Pin;

use tokio::net::TcpStream;

pub(crate) type Connecting<'a> =
    Pin<Box<dyn Future<Output = Result<TcpStream, String>> + Send + 'a>>;

pub trait Network: Send + Sync {
    /// Opens a connection from a pod in namespace `from` to `host:port`. The error is
    /// the line busybox `nc` prints (`nc: bad address 'nowhere'`).
    fn connect<'a>(&'a self, from: &'a str, host: &'a str, port: u16) -> Connecting<'a>;
}
