//! The tcp-echo server Istio's sample runs, started for real on loopback for each pod
//! port that runs one.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::sandbox::drills::Drills;
use crate::task::AbortOnDrop;

/// A container that runs the tcp-echo server: args `["9000,9001,9002", "one"]`.
pub(crate) fn echo_args(pod: &Value) -> Option<(Vec<u16>, String)> {
    pod.pointer("/spec/containers")?
        .as_array()?
        .iter()
        .find_map(|c| {
            let args = c.get("args")?.as_array()?;
            let ports: Vec<u16> = args
                .first()?
                .as_str()?
                .split(',')
                .map(|p| p.trim().parse().ok())
                .collect::<Option<_>>()?;
            let prefix = args.get(1)?.as_str()?.to_string();
            (!ports.is_empty()).then_some((ports, prefix))
        })
}

/// The tcp-echo server: answers every line with `PREFIX line` and keeps the
/// connection open until the client half-closes. A last line without a newline gets
/// no answer.
pub(crate) fn start_echo(
    prefix: String,
    drills: Arc<Drills>,
) -> std::io::Result<(SocketAddr, AbortOnDrop)> {
    let (addr, listener) = super::loopback::listen()?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (prefix, drills) = (prefix.clone(), drills.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line.last() == Some(&b'\n') => {
                            let mut reply = Vec::with_capacity(prefix.len() + 1 + line.len());
                            reply.extend_from_slice(prefix.as_bytes());
                            reply.push(b' ');
                            reply.extend_from_slice(&line);
                            if write.write_all(&reply).await.is_err() {
                                break;
                            }
                            drills.replied();
                        }
                        Ok(_) => break,
                    }
                }
                let _ = write.shutdown().await;
            });
        }
    });
    Ok((addr, AbortOnDrop(task)))
}
