//! What a pod's processes reach the network through. The shell knows only this trait;
//! the sandbox's mesh implements it.

use std::future::Future;
use std::pin::Pin;

use tokio::net::TcpStream;

pub(crate) type Connecting<'a> =
    Pin<Box<dyn Future<Output = Result<TcpStream, ConnectError>> + Send + 'a>>;

pub trait Network: Send + Sync {
    /// Opens a connection from a pod in namespace `from` to `host:port`.
    fn connect<'a>(&'a self, from: &'a str, host: &'a str, port: u16) -> Connecting<'a>;
}

/// Why a connection could not be opened; each client says it in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The name does not resolve.
    BadAddress(String),
    /// Nothing listens there; the resolved address.
    Refused(String),
}

/// In busybox `nc`'s words.
impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::BadAddress(host) => write!(f, "nc: bad address '{host}'"),
            ConnectError::Refused(ip) => write!(
                f,
                "nc: can't connect to remote host ({ip}): Connection refused"
            ),
        }
    }
}
