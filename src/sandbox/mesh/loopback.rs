//! Servers and VIPs listen on free loopback ports.

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// A listener on a free loopback port.
pub(super) fn listen() -> std::io::Result<(SocketAddr, TcpListener)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    Ok((addr, TcpListener::from_std(listener)?))
}
