//! The probe: a `date | nc` loop exec'd in the client pod that ends by itself at a
//! deadline (a loop we start must never outlive us there), read line by line. When the
//! stream ends or the pod is replaced, it reconnects with backoff to the current pod.

use std::time::Duration;

use kube::api::AttachParams;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;

use super::Cluster;
use super::discover::ClientSpec;
use crate::probe::ProbeEvent;

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub client: ClientSpec,
    pub host: String,
    pub port: u16,
    pub interval: Duration,
    /// The remote loop ends by itself after this long.
    pub deadline: Duration,
}

/// The shell loop: POSIX sh and busybox only. `nc -w` bounds every connection, the
/// deadline bounds the loop.
pub fn script(cfg: &ProbeConfig) -> String {
    let sleep = format!("{:.3}", cfg.interval.as_secs_f64());
    let sleep = sleep.trim_end_matches('0').trim_end_matches('.');
    let sleep = if sleep.is_empty() { "0" } else { sleep };
    let wait = cfg.interval.as_secs().clamp(2, 10);
    format!(
        "end=$(( $(date +%s) + {deadline} )); while [ $(date +%s) -lt $end ]; do date | nc -w {wait} {host} {port}; sleep {sleep}; done",
        deadline = cfg.deadline.as_secs().max(1),
        host = cfg.host,
        port = cfg.port,
    )
}

async fn forward_lines<R: AsyncRead + Unpin>(
    reader: R,
    tx: &mpsc::UnboundedSender<ProbeEvent>,
    stderr: bool,
) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_string();
                let event = if stderr {
                    ProbeEvent::Stderr(line)
                } else {
                    ProbeEvent::Stdout(line)
                };
                if tx.send(event).is_err() {
                    return;
                }
            }
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until the receiver is dropped.
pub async fn run(cluster: Cluster, cfg: ProbeConfig, tx: mpsc::UnboundedSender<ProbeEvent>) {
    let mut backoff = Duration::from_millis(500);
    let command = script(&cfg);
    while !tx.is_closed() {
        let started = tokio::time::Instant::now();
        let reason = match cluster.client_pod(&cfg.client).await {
            Err(e) => e.to_string(),
            Ok(pod) => {
                let params = AttachParams::default()
                    .stdin(false)
                    .stdout(true)
                    .stderr(true);
                match cluster
                    .pods()
                    .exec(&pod, vec!["sh", "-c", command.as_str()], &params)
                    .await
                {
                    Err(e) => cluster.err(e, "create", "pods/exec").to_string(),
                    Ok(mut attached) => {
                        if tx.send(ProbeEvent::Started { pod: pod.clone() }).is_err() {
                            attached.abort();
                            return;
                        }
                        let stdout = attached.stdout();
                        let stderr = attached.stderr();
                        let status = attached.take_status();
                        let out = async {
                            if let Some(s) = stdout {
                                forward_lines(s, &tx, false).await;
                            }
                        };
                        let err = async {
                            if let Some(s) = stderr {
                                forward_lines(s, &tx, true).await;
                            }
                        };
                        tokio::join!(out, err);
                        let status = match status {
                            Some(s) => s.await,
                            None => None,
                        };
                        attached.abort();
                        match status {
                            Some(s) if s.status.as_deref() == Some("Success") => {
                                format!("the loop in {pod} reached its deadline")
                            }
                            Some(s) => format!(
                                "the loop in {pod} ended: {}",
                                s.message.unwrap_or_default()
                            ),
                            None => format!("the exec stream to {pod} closed"),
                        }
                    }
                }
            }
        };
        // A stream that ran a while resets the backoff.
        if started.elapsed() > Duration::from_secs(10) {
            backoff = Duration::from_millis(500);
        }
        if tx
            .send(ProbeEvent::Ended {
                reason,
                retry_in: backoff,
            })
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_bounded() {
        let cfg = ProbeConfig {
            client: ClientSpec::Deployment("curl".into()),
            host: "tcp-echo".into(),
            port: 9000,
            interval: Duration::from_millis(500),
            deadline: Duration::from_secs(3600),
        };
        let s = script(&cfg);
        assert_eq!(
            s,
            "end=$(( $(date +%s) + 3600 )); while [ $(date +%s) -lt $end ]; do date | nc -w 2 tcp-echo 9000; sleep 0.5; done"
        );
        let fast = ProbeConfig {
            interval: Duration::from_secs(2),
            ..cfg
        };
        assert!(script(&fast).ends_with("sleep 2; done"));
    }
}
