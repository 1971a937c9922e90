//! The waypoint at L7: each request on a connection to an HTTP Service port is routed
//! on its own (an HTTPRoute's weights apply per request, whatever the connection), sent
//! to the chosen endpoint, and its response written back, as Envoy does. The errors are
//! Envoy's: 503 `no healthy upstream` where the chosen Service has no endpoint, 503
//! `upstream connect error …` where it cannot be reached, 500 where the matched rule has
//! no backend with weight.

use std::net::SocketAddr;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::sandbox::wire::{Request, Response, read_request, read_response, respond};

/// Where one request goes, as the waypoint decides.
pub(super) enum Upstream {
    Endpoint(SocketAddr),
    /// The chosen Service has no ready endpoint.
    NoneHealthy,
    /// The matched rule has no backend with weight.
    NoBackend,
    /// At a Gateway, no route matched.
    NotFound,
}

const TEXT: &str = "text/plain";

async fn forward(addr: SocketAddr, request: &Request) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&request.to_bytes()).await?;
    read_response(&mut BufReader::new(stream)).await
}

/// Serves one client connection until it closes, each request where `pick` says.
pub(super) async fn proxy(pick: impl Fn(&Request) -> Upstream + Send, inbound: TcpStream) {
    let (read, mut write) = inbound.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let request = match read_request(&mut reader).await {
            Ok(Some(request)) => request,
            Ok(None) => break,
            Err(_) => {
                let bad = respond(400, "Bad Request", TEXT, "Bad Request");
                let _ = write.write_all(&bad.to_bytes()).await;
                break;
            }
        };
        let mut response = match pick(&request) {
            Upstream::Endpoint(addr) => forward(addr, &request).await.unwrap_or_else(|_| {
                respond(
                    503,
                    "Service Unavailable",
                    TEXT,
                    "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
                )
            }),
            Upstream::NoneHealthy => respond(503, "Service Unavailable", TEXT, "no healthy upstream"),
            Upstream::NoBackend => respond(500, "Internal Server Error", TEXT, ""),
            Upstream::NotFound => respond(404, "Not Found", TEXT, ""),
        };
        response
            .head
            .headers
            .push(("server".into(), "istio-envoy".into()));
        if write.write_all(&response.to_bytes()).await.is_err() || !request.head.keep_alive() {
            break;
        }
    }
    let _ = write.shutdown().await;
}
