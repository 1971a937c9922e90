//! The probe: a `date | nc` loop exec'd in the client pod that ends by itself at a
//! deadline (a loop we start must never outlive us there), read line by line. When the
//! stream ends or the pod is replaced, it starts again in the pod that is ready then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::api::AttachParams;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, watch};

use super::discover::ClientSpec;
use super::{Cluster, ClusterError};

/// What the probe reports as it runs: the exec'd loop's lines and its starts and ends.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeEvent {
    /// The loop runs in this pod.
    Started { pod: String },
    /// One line of the loop's standard output: a reply, normally.
    Stdout(String),
    /// One line of its standard error (`nc: bad address …`).
    Stderr(String),
    /// The loop ended; the next attempt comes after `retry_in`.
    Ended {
        reason: ProbeEnd,
        retry_in: Duration,
    },
}

/// Why one attempt of the probe ended.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeEnd {
    #[error("the loop in {pod} reached its deadline")]
    Deadline { pod: String },
    #[error("the loop in {pod} ended: {message}")]
    Exited { pod: String, message: String },
    /// The link broke (the connection to the API server, or the server's to the node).
    #[error("the exec stream to {pod} broke ({why})")]
    Broke { pod: String, why: String },
    #[error("the exec stream to {pod} closed")]
    Closed { pod: String },
    /// No ready client pod, or it could not be read.
    #[error(transparent)]
    NoClient(ClusterError),
    /// The server refused the exec.
    #[error(transparent)]
    Refused(ClusterError),
}

impl ProbeEnd {
    /// Whether it only says the API server could not answer now (unreachable, 5xx, 429).
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, ProbeEnd::NoClient(e) | ProbeEnd::Refused(e) if e.is_transient())
    }
}

/// What one sample of the probe is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Request {
    /// `date | nc`: one TCP connection and one line, as tcp-echo answers it.
    #[default]
    Line,
    /// `curl`: HTTP requests, each printed as one line: the reply, then its status code.
    Http(HttpRequest),
    /// A command of the user's (`--probe-command`), run once per sample; what it prints
    /// is one reply.
    Command(String),
}

/// The requests `curl` sends each time round the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub path: String,
    /// Sent as `Host` (a Gateway's listener chooses routes by it).
    pub host: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Requests over one connection (curl reuses it for the URLs it is given together).
    pub per_connection: u32,
}

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub client: ClientSpec,
    /// The container to run in (`--container`); None: the first that is not istio-proxy.
    pub container: Option<String>,
    pub host: String,
    pub port: u16,
    pub request: Request,
    pub interval: Duration,
    /// The remote loop ends by itself after this long.
    pub deadline: Duration,
}

/// A word for `sh`, quoted so that nothing in it is expanded.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// One sample's command. Each prints one line a sample: `nc` the echo's reply; `curl`
/// the reply with its newlines as spaces and then the status code (`-w` ends each
/// request with a CR, which `tr` turns into the line's end); a command its output
/// joined into one line.
fn sample_command(cfg: &ProbeConfig, wait: u64) -> String {
    let (host, port) = (&cfg.host, cfg.port);
    match &cfg.request {
        Request::Line => format!("date | nc -w {wait} {host} {port}"),
        Request::Http(http) => {
            let mut words = vec![format!("curl -sS -m {wait}")];
            if let Some(h) = &http.host {
                words.push(format!("-H {}", quote(&format!("Host: {h}"))));
            }
            for (name, value) in &http.headers {
                words.push(format!("-H {}", quote(&format!("{name}: {value}"))));
            }
            words.push(r"-w '\t%{http_code}\r'".into());
            let url = quote(&format!("http://{host}:{port}{}", http.path));
            for _ in 0..http.per_connection.max(1) {
                words.push(url.clone());
            }
            format!(r"{} | tr '\n\r' ' \n'", words.join(" "))
        }
        Request::Command(command) => {
            format!("sh -c {} | tr '\\n' ' '; echo", quote(command))
        }
    }
}

/// Seconds as `sleep` takes them: `0.5`, `2`, `0.05`.
fn sleep_text(d: Duration) -> String {
    let text = format!("{:.3}", d.as_secs_f64());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".into()
    } else {
        text.into()
    }
}

/// The shell loop: POSIX sh and busybox only. `nc -w` and `curl -m` bound every
/// connection, the deadline bounds the loop.
pub fn script(cfg: &ProbeConfig) -> String {
    let wait = cfg.interval.as_secs().clamp(2, 10);
    format!(
        "end=$(( $(date +%s) + {deadline} )); while [ $(date +%s) -lt $end ]; do {sample}; sleep {sleep}; done",
        deadline = cfg.deadline.as_secs().max(1),
        sample = sample_command(cfg, wait),
        sleep = sleep_text(cfg.interval),
    )
}

/// How fast and how long the probe samples while an answer is open (`--burst`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Samples a second.
    pub rate: f64,
    /// Samples at most, per burst.
    pub count: u32,
}

impl Burst {
    /// About 20 samples a second for up to 60: an answer in a second or two, at most
    /// three seconds of load a change.
    pub const DEFAULT: Burst = Burst {
        rate: 20.0,
        count: 60,
    };

    /// The time between a burst's samples: never slower than the steady pace.
    pub fn gap(self, interval: Duration) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate).min(interval)
    }
}

/// A burst: `count` samples a `gap` apart, in a loop that ends by itself after them.
pub fn burst_script(cfg: &ProbeConfig, burst: Burst) -> String {
    let gap = burst.gap(cfg.interval);
    let wait = gap.as_secs().clamp(2, 10);
    format!(
        "i=0; while [ $i -lt {count} ]; do {sample}; sleep {sleep}; i=$((i+1)); done",
        count = burst.count,
        sample = sample_command(cfg, wait),
        sleep = sleep_text(gap),
    )
}

/// Runs one burst beside the steady loop, in the client's ready pod; its replies come
/// as the loop's do. It ends after its samples, or sooner when dropped (the remote loop
/// still ends by itself after them). A burst that cannot start is no gap: the steady
/// loop says what is wrong.
pub async fn burst(
    cluster: Cluster,
    cfg: ProbeConfig,
    burst: Burst,
    tx: mpsc::UnboundedSender<ProbeEvent>,
) {
    let command = burst_script(&cfg, burst);
    let _ = attempt(&cluster, &cfg, &command, &tx, false).await;
}

/// Sends each line as an event, counting them in `lines`.
async fn forward_lines<R: AsyncRead + Unpin>(
    reader: R,
    tx: &mpsc::UnboundedSender<ProbeEvent>,
    stderr: bool,
    lines: &AtomicU64,
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
                lines.fetch_add(1, Ordering::Relaxed);
                if tx.send(event).is_err() {
                    return;
                }
            }
        }
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The longest wait after the API server could not answer (kube's client already honours
/// a 429's Retry-After).
const BUSY_BACKOFF: Duration = Duration::from_secs(2);

/// How one attempt ended.
enum Attempt {
    /// The loop ran and its stream ended, after this many lines.
    Streamed { reason: ProbeEnd, lines: u64 },
    /// No ready client pod, or the exec was refused.
    Failed(ProbeEnd),
    /// Nobody listens any more.
    Closed,
}

/// Runs until the receiver is dropped. A stream that ended after some lines is followed
/// at once by the next attempt, in whichever pod is ready then; only while no client pod
/// is ready (or the exec fails) does it back off, and a change in the pods (`wake`) cuts
/// the wait short, so a replacement pod is used as soon as it runs, however many came
/// before it.
pub async fn run(
    cluster: Cluster,
    cfg: ProbeConfig,
    mut wake: watch::Receiver<u64>,
    tx: mpsc::UnboundedSender<ProbeEvent>,
) {
    let mut backoff = FIRST_BACKOFF;
    let command = script(&cfg);
    while !tx.is_closed() {
        // Changes from here on wake a wait below.
        wake.borrow_and_update();
        let (reason, retry_in) = match attempt(&cluster, &cfg, &command, &tx, true).await {
            Attempt::Closed => return,
            Attempt::Streamed { reason, lines } if lines > 0 => {
                backoff = FIRST_BACKOFF;
                (reason, Duration::ZERO)
            }
            // A server that could not answer now (5xx, 429) usually can a moment later:
            // its waits stay short.
            Attempt::Failed(reason) if reason.is_transient() => {
                let wait = backoff.min(BUSY_BACKOFF);
                (reason, wait)
            }
            Attempt::Streamed { reason, .. } | Attempt::Failed(reason) => (reason, backoff),
        };
        if tx.send(ProbeEvent::Ended { reason, retry_in }).is_err() {
            return;
        }
        if retry_in.is_zero() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(retry_in) => {}
            changed = wake.changed() => if changed.is_err() {
                tokio::time::sleep(retry_in).await;
            },
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One exec of the loop in the client's ready pod, read to its end.
async fn attempt(
    cluster: &Cluster,
    cfg: &ProbeConfig,
    command: &str,
    tx: &mpsc::UnboundedSender<ProbeEvent>,
    announce: bool,
) -> Attempt {
    let (pod, container) = match cluster
        .client_pod(&cfg.client, cfg.container.as_deref())
        .await
    {
        Ok(found) => found,
        Err(e) => return Attempt::Failed(ProbeEnd::NoClient(e)),
    };
    let params = AttachParams::default()
        .container(container)
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let mut attached = match cluster
        .pods()
        .exec(&pod, vec!["sh", "-c", command], &params)
        .await
    {
        Ok(attached) => attached,
        Err(e) => {
            return Attempt::Failed(ProbeEnd::Refused(cluster.err(e, "create", "pods/exec")));
        }
    };
    if announce && tx.send(ProbeEvent::Started { pod: pod.clone() }).is_err() {
        attached.abort();
        return Attempt::Closed;
    }
    let (stdout, stderr) = (attached.stdout(), attached.stderr());
    let status = attached.take_status();
    let lines = AtomicU64::new(0);
    let reading = async {
        let out = async {
            if let Some(s) = stdout {
                forward_lines(s, tx, false, &lines).await;
            }
        };
        let err = async {
            if let Some(s) = stderr {
                forward_lines(s, tx, true, &lines).await;
            }
        };
        tokio::join!(out, err);
    };
    let ended = attached.join();
    tokio::pin!(reading, ended);
    let broken = tokio::select! {
        () = &mut reading => (&mut ended).await.err(),
        result = &mut ended => {
            if result.is_ok() {
                (&mut reading).await;
            } else {
                // When the link breaks, kube leaves stdout and stderr open: take what
                // came before the break, then stop reading.
                let _ = tokio::time::timeout(DRAIN, &mut reading).await;
            }
            result.err()
        }
    };
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    let reason = match (status, broken) {
        (Some(s), _) if s.status.as_deref() == Some("Success") => ProbeEnd::Deadline { pod },
        (Some(s), _) => ProbeEnd::Exited {
            pod,
            message: s.message.unwrap_or_default(),
        },
        (None, Some(e)) => ProbeEnd::Broke {
            pod,
            why: e.to_string(),
        },
        (None, None) => ProbeEnd::Closed { pod },
    };
    Attempt::Streamed {
        reason,
        lines: lines.load(Ordering::Relaxed),
    }
}

/// How long lines sent before a broken link may take to arrive.
const DRAIN: Duration = Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_bounded() {
        let cfg = ProbeConfig {
            client: ClientSpec::Deployment("curl".into()),
            container: None,
            host: "tcp-echo".into(),
            port: 9000,
            request: Request::Line,
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
        let http = ProbeConfig {
            host: "helloworld".into(),
            port: 5000,
            request: Request::Http(HttpRequest {
                path: "/hello".into(),
                host: Some("web.example.com".into()),
                headers: vec![("x-canary".into(), "it's".into())],
                per_connection: 2,
            }),
            ..fast.clone()
        };
        assert_eq!(
            sample_command(&http, 2),
            r"curl -sS -m 2 -H 'Host: web.example.com' -H 'x-canary: it'\''s' -w '\t%{http_code}\r' http://helloworld:5000/hello http://helloworld:5000/hello | tr '\n\r' ' \n'"
        );
        let bursting = burst_script(&fast, Burst::DEFAULT);
        assert!(
            bursting.starts_with(
                "i=0; while [ $i -lt 60 ]; do date | nc -w 2 tcp-echo 9000; sleep 0.05;"
            ),
            "{bursting}"
        );
        assert_eq!(
            Burst::DEFAULT.gap(Duration::from_millis(20)),
            Duration::from_millis(20)
        );
        let command = ProbeConfig {
            request: Request::Command("grpcurl -plaintext x:9000 list".into()),
            ..fast
        };
        assert_eq!(
            sample_command(&command, 2),
            "sh -c 'grpcurl -plaintext x:9000 list' | tr '\\n' ' '; echo"
        );
    }
}
