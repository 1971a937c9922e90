//! `pods/exec` over WebSocket, as the kubelet speaks it (`v5.channel.k8s.io` and
//! `v4.channel.k8s.io`): every binary message starts with its channel, 0 stdin,
//! 1 stdout, 2 stderr, 3 the exit `Status`, 4 resize, 255 close (v5).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::api::{ApiState, Body, lock};
use super::mesh::Mesh;
use super::resources;
use super::shell::{self, Env, Stream};
use super::status::ApiError;

pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What the exec request asked for.
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    /// The pod's uid: a replacement pod of the same name is another pod.
    pub uid: String,
    /// Turns true when the sandbox stops: every process ends then.
    pub stopped: tokio::sync::watch::Receiver<bool>,
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// The first protocol the client offers that we speak.
pub fn negotiate(offered: &str) -> Option<&'static str> {
    offered
        .split(',')
        .map(str::trim)
        .find_map(|p| PROTOCOLS.iter().find(|ours| **ours == p).copied())
}

/// The exit `Status` the kubelet sends on channel 3.
pub fn exit_status(code: i32) -> Value {
    if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{code}], exit code {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        })
    }
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(data);
    Message::binary(bytes)
}

/// Serves one exec stream until the process ends or the client goes. A process
/// whose client has gone keeps running until it ends by itself, as in a real pod.
pub async fn serve(upgraded: Upgraded, mesh: Arc<Mesh>, req: ExecRequest) {
    let io = TokioIo::new(upgraded);
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    // The kubelet opens each channel with a message that holds only its number.
    let mut opened = vec![3u8];
    if req.stdin {
        opened.insert(0, 0);
    }
    if req.stdout {
        opened.push(1);
    }
    if req.stderr && !req.tty {
        opened.push(2);
    }
    opened.sort_unstable();
    for ch in opened {
        if ws.send(Message::binary(vec![ch])).await.is_err() {
            return;
        }
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut changes = mesh.changes();
    let mut stopped = req.stopped.clone();
    let env = Env {
        mesh: mesh.clone(),
        namespace: req.namespace.clone(),
        pod: req.pod.clone(),
        out: tx,
    };
    let mut process = tokio::spawn(shell::exec(env, req.command));

    // Runs until the process ends or its pod goes. A client that leaves does not stop
    // the process, as with a real kubelet; a deleted pod does.
    let mut client_gone = false;
    let mut killed = false;
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some((stream, data)) = out else { break };
                if client_gone {
                    continue;
                }
                let channel = match stream {
                    Stream::Stdout if req.stdout => 1,
                    Stream::Stderr if req.tty && req.stdout => 1,
                    Stream::Stderr if req.stderr => 2,
                    _ => continue,
                };
                if ws.send(frame(channel, &data)).await.is_err() {
                    client_gone = true;
                }
            }
            incoming = ws.next(), if !client_gone => {
                match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => client_gone = true,
                    // stdin, resize and close signals are accepted and not needed by
                    // the commands the pods run.
                    Some(Ok(_)) => {}
                }
            }
            _ = super::until_stopped(&mut stopped) => {
                process.abort();
                return;
            }
            changed = changes.changed() => {
                if changed.is_err() || !mesh.pod_running(&req.namespace, &req.pod, &req.uid) {
                    process.abort();
                    killed = true;
                    break;
                }
            }
        }
    }
    if client_gone {
        return;
    }
    // A container killed with its pod exits with 128 + SIGKILL.
    let code = if killed {
        137
    } else {
        (&mut process).await.unwrap_or(1)
    };
    let status = exit_status(code).to_string();
    let _ = ws.send(frame(3, status.as_bytes())).await;
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = ws.close(Some(normal)).await;
}

fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query.get(name).is_some_and(|v| v == "true" || v == "1")
}

/// Checks an exec request and answers its WebSocket upgrade; the stream is served in
/// the background.
pub fn upgrade(
    state: Arc<ApiState>,
    mut req: Request<Incoming>,
    ns: &str,
    name: &str,
    query: &HashMap<String, String>,
    command: Vec<String>,
) -> Result<Response<Body>, ApiError> {
    let pod = lock(&state.store).get(
        resources::find("", "v1", "pods").ok_or_else(|| ApiError::internal("no pods"))?,
        "v1",
        ns,
        name,
    )?;
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    match query.get("container") {
        Some(c) if !containers.contains(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "pod {name} has no containers"
            )));
        }
        _ => {}
    }
    if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
        return Err(ApiError::bad_request(format!(
            "pod {name} is not running; cannot exec into it"
        )));
    }
    if command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    let (stdin, stdout, stderr, tty) = (
        flag(query, "stdin"),
        flag(query, "stdout"),
        flag(query, "stderr"),
        flag(query, "tty"),
    );
    if !stdin && !stdout && !stderr {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let headers = req.headers();
    let is_websocket = headers
        .get(header::UPGRADE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !is_websocket {
        return Err(ApiError::bad_request(
            "Upgrade request required: this server speaks pods/exec over WebSocket only (v5.channel.k8s.io or v4.channel.k8s.io)",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec())
        .ok_or_else(|| ApiError::bad_request("missing Sec-WebSocket-Key"))?;
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|h| h.to_str().ok().map(String::from))
        .collect();
    let protocol = negotiate(&offered.join(","))
        .ok_or_else(|| ApiError::bad_request("no supported exec protocol offered: this server speaks v5.channel.k8s.io and v4.channel.k8s.io"))?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);

    let upgrade = hyper::upgrade::on(&mut req);
    let uid = pod
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let exec_req = ExecRequest {
        namespace: ns.to_string(),
        pod: name.to_string(),
        uid,
        stopped: state.stopped.clone(),
        command,
        stdin,
        stdout,
        stderr,
        tty,
    };
    let mesh = state.mesh.clone();
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            serve(upgraded, mesh, exec_req).await;
        }
    });
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_the_newest_protocol_we_speak() {
        assert_eq!(
            negotiate("v5.channel.k8s.io, v4.channel.k8s.io"),
            Some("v5.channel.k8s.io")
        );
        assert_eq!(
            negotiate("base64.channel.k8s.io,v4.channel.k8s.io"),
            Some("v4.channel.k8s.io")
        );
        assert_eq!(negotiate("channel.k8s.io"), None);
    }

    #[test]
    fn exit_status_carries_the_code() {
        assert_eq!(exit_status(0)["status"], "Success");
        let failed = exit_status(127);
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(failed["details"]["causes"][0]["message"], "127");
    }
}
