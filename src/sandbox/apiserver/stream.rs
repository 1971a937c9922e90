//! One exec stream over WebSocket, as the kubelet speaks it (`v5.channel.k8s.io` and
//! `v4.channel.k8s.io`): every binary message starts with its channel, 0 stdin,
//! 1 stdout, 2 stderr, 3 the exit `Status`, 4 resize, 255 close (v5).

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::sandbox::mesh::Mesh;
use crate::sandbox::shell::{self, Env, Stream};
use crate::sandbox::sync::until_stopped;

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// What the exec request asked for.
pub(crate) struct ExecRequest {
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
    /// Whether the container has a shell to run the command with.
    pub shell: bool,
}

impl ExecRequest {
    /// The channel a process's output goes out on, if the client asked for it.
    fn channel(&self, stream: Stream) -> Option<u8> {
        match stream {
            Stream::Stdout if self.stdout => Some(1),
            Stream::Stderr if self.tty && self.stdout => Some(1),
            Stream::Stderr if self.stderr => Some(2),
            _ => None,
        }
    }

    /// The channels the kubelet opens, in order.
    fn opened(&self) -> Vec<u8> {
        let mut opened = vec![3u8];
        if self.stdin {
            opened.insert(0, 0);
        }
        if self.stdout {
            opened.push(1);
        }
        if self.stderr && !self.tty {
            opened.push(2);
        }
        opened.sort_unstable();
        opened
    }
}

/// The exit `Status` the kubelet sends on channel 3.
pub(crate) fn exit_status(code: i32) -> Value {
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

/// How the process's run ended, as far as the stream is concerned.
enum End {
    /// The client left; the process runs on, as with a real kubelet.
    ClientGone,
    /// The sandbox stopped: nothing more is sent.
    Stopped,
    /// The process's pod went: it was killed.
    Killed,
    Exited,
    /// A fault drill cut the connection: no status, no close, as a dropped link.
    Cut,
}

/// Serves one exec stream until the process ends or the client goes. A process
/// whose client has gone keeps running until it ends by itself, as in a real pod.
pub async fn serve(upgraded: Upgraded, mesh: Arc<Mesh>, req: ExecRequest) {
    let mut ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
    // The kubelet opens each channel with a message that holds only its number.
    for ch in req.opened() {
        if ws.send(Message::binary(vec![ch])).await.is_err() {
            return;
        }
    }
    if !req.shell {
        // What a container runtime answers for a distroless image.
        let status = json!({
            "metadata": {}, "status": "Failure", "reason": "InternalError",
            "message": format!("OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": executable file not found in $PATH: unknown",
                req.command.first().map_or("", String::as_str)),
        });
        let _ = ws.send(frame(3, status.to_string().as_bytes())).await;
        close(&mut ws, None).await;
        return;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let env = Env {
        network: mesh.clone(),
        namespace: req.namespace.clone(),
        pod: req.pod.clone(),
        out: tx,
    };
    let mut process = tokio::spawn(shell::exec(env, req.command.clone()));
    let code = match pump(&mut ws, &mesh, &req, rx, &process).await {
        End::ClientGone | End::Stopped | End::Cut => return,
        // A container killed with its pod exits with 128 + SIGKILL.
        End::Killed => 137,
        End::Exited => (&mut process).await.unwrap_or(1),
    };
    let status = exit_status(code).to_string();
    let _ = ws.send(frame(3, status.as_bytes())).await;
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    close(&mut ws, Some(normal)).await;
}

/// Closes the WebSocket as the protocol asks: the close frame, then what the client
/// still sends until its own close. Dropping the socket with data unread would reset the
/// connection, and a reset can take the status frame with it before the client reads it.
async fn close(ws: &mut Socket, frame: Option<CloseFrame>) {
    if ws.close(frame).await.is_err() {
        return;
    }
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
}

/// Forwards the process's output until it ends, its pod goes, or the sandbox stops. A
/// client that leaves does not stop the process; a deleted pod does.
async fn pump(
    ws: &mut Socket,
    mesh: &Mesh,
    req: &ExecRequest,
    mut rx: mpsc::UnboundedReceiver<(Stream, Vec<u8>)>,
    process: &JoinHandle<i32>,
) -> End {
    let mut changes = mesh.changes();
    let mut stopped = req.stopped.clone();
    let mut client_gone = false;
    let cut_at = mesh
        .drills()
        .cut_exec_every()
        .map(|d| tokio::time::Instant::now() + d);
    loop {
        tokio::select! {
            () = async { tokio::time::sleep_until(cut_at.unwrap_or_else(tokio::time::Instant::now)).await }, if cut_at.is_some() && !client_gone => {
                // The link drops; the process with it (a broken pipe ends the loop).
                process.abort();
                mesh.drills().cut();
                return End::Cut;
            }
            out = rx.recv() => {
                let Some((stream, data)) = out else {
                    return if client_gone { End::ClientGone } else { End::Exited };
                };
                if client_gone {
                    continue;
                }
                let Some(channel) = req.channel(stream) else { continue };
                if ws.send(frame(channel, &data)).await.is_err() {
                    client_gone = true;
                }
            }
            incoming = ws.next(), if !client_gone => {
                // stdin, resize and close signals are accepted and not needed by the
                // commands the pods run.
                if matches!(incoming, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                    client_gone = true;
                }
            }
            _ = until_stopped(&mut stopped) => {
                process.abort();
                return End::Stopped;
            }
            changed = changes.changed() => {
                if changed.is_err() || !mesh.pod_running(&req.namespace, &req.pod, &req.uid) {
                    process.abort();
                    return if client_gone { End::ClientGone } else { End::Killed };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_carries_the_code() {
        assert_eq!(exit_status(0)["status"], "Success");
        let failed = exit_status(127);
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(failed["details"]["causes"][0]["message"], "127");
    }
}
