//! Istio's helloworld sample, started for real on loopback for each pod that runs it:
//! `GET /hello` answers `Hello version: vN, instance: <pod name>`, as its app.py does
//! (the version from `SERVICE_VERSION`, which each image sets: examples-helloworld-v2 is
//! v2), `GET /health` answers `Healthy`, and any other path 404 as Flask does.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufReader};

use crate::sandbox::storage::meta::name_of;
use crate::sandbox::wire::{read_request, respond};
use crate::task::AbortOnDrop;

/// The port helloworld's server listens on when the container names none.
const PORT: u16 = 5000;

/// What a helloworld pod serves: its container port, its version and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hello {
    pub port: u16,
    pub version: String,
    pub instance: String,
}

/// A pod whose container runs a helloworld image.
pub(crate) fn hello_args(pod: &Value) -> Option<Hello> {
    let container = pod
        .pointer("/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| {
            c.get("image")
                .and_then(Value::as_str)
                .is_some_and(|i| i.contains("examples-helloworld"))
        })?;
    let image = container.get("image")?.as_str()?;
    let from_env = container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("name").and_then(Value::as_str) == Some("SERVICE_VERSION"))
        .and_then(|e| e.get("value")?.as_str());
    // `…/examples-helloworld-v2:1.0` sets SERVICE_VERSION=v2.
    let from_image = image
        .rsplit('/')
        .next()?
        .split(':')
        .next()?
        .strip_prefix("examples-helloworld-")
        .unwrap_or("none");
    let port = container
        .pointer("/ports/0/containerPort")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(PORT);
    Some(Hello {
        port,
        version: from_env.unwrap_or(from_image).to_string(),
        instance: name_of(pod).to_string(),
    })
}

const NOT_FOUND: &str = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n";

/// Serves one pod's helloworld until the task is dropped.
pub(crate) fn start_hello(hello: Hello) -> std::io::Result<(SocketAddr, AbortOnDrop)> {
    let (addr, listener) = super::loopback::listen()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let hello = hello.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                while let Ok(Some(request)) = read_request(&mut reader).await {
                    let path = request.path.split('?').next().unwrap_or_default();
                    let response = match (request.method.as_str(), path) {
                        ("GET", "/hello") => respond(
                            200,
                            "OK",
                            "text/html; charset=utf-8",
                            &format!(
                                "Hello version: {}, instance: {}\n",
                                hello.version, hello.instance
                            ),
                        ),
                        ("GET", "/health") => {
                            respond(200, "OK", "text/html; charset=utf-8", "Healthy")
                        }
                        _ => respond(404, "NOT FOUND", "text/html; charset=utf-8", NOT_FOUND),
                    };
                    if write.write_all(&response.to_bytes()).await.is_err()
                        || !request.head.keep_alive()
                    {
                        break;
                    }
                }
                let _ = write.shutdown().await;
            });
        }
    });
    Ok((addr, AbortOnDrop(task)))
}
