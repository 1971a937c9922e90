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

use super::mesh::Mesh;
use super::shell::{self, Env, Stream};

pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What the exec request asked for.
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    /// The pod's uid: a replacement pod of the same name is another pod.
    pub uid: String,
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
