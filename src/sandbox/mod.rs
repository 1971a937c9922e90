//! The sandbox: a simulated Istio ambient mesh behind a small Kubernetes API on
//! loopback. `splitscope demo` runs on it, the end-to-end tests run against it, and a
//! user can point `kubectl` at it.

//!
//! Rooms, from the bottom up: `storage` (the object store and what it serves),
//! `controllers` (what a cluster derives from objects), `mesh` (the data plane and the
//! waypoint's programming), `shell` (the pods' sh, reaching the network through a trait),
//! `apiserver` (the HTTP API over TLS, exec included). Each room only uses those below it.

pub(crate) mod apiserver;
pub mod controllers;
pub mod drills;
pub mod mesh;
pub mod scenario;
pub mod seed;
pub mod shell;
pub mod storage;
mod sync;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use apiserver::{ApiState, tls};
use mesh::Mesh;
use storage::Store;
use sync::until_stopped;

pub use seed::{NAMESPACE, ROUTE};

pub const CONTEXT: &str = "splitscope-sandbox";

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// The Istio version istiod reports; below 1.26 the waypoint ignores the route.
    pub istio: String,
    /// The seeded route's weights for `tcp-echo-v1` and `tcp-echo-v2`.
    pub weights: (u32, u32),
    /// How long a route or filter change takes to reach the waypoint.
    pub propagation_delay: Duration,
    /// The API's port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// (verb, resource) pairs the API refuses with 403, to show what RBAC errors look like.
    pub forbidden: Vec<(String, String)>,
    /// Seeds the waypoint's picks, so runs repeat; None: fresh each start.
    pub seed: Option<u64>,
    /// Faults to make on purpose (`Sandbox::drills` changes them while it runs).
    pub faults: drills::Faults,
    /// Which variant of a real mesh to seed.
    pub scenario: scenario::Scenario,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            istio: "1.24.0".into(),
            weights: (90, 10),
            propagation_delay: Duration::from_secs(1),
            port: 0,
            forbidden: Vec::new(),
            seed: None,
            faults: drills::Faults::default(),
            scenario: scenario::Scenario::Default,
        }
    }
}

/// The controllers' clock: what waits on the time (a Rollout's pause) is looked at
/// this often, until the sandbox stops.
async fn clock(store: Arc<Mutex<Store>>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let tick = async {
        let mut every = tokio::time::interval(Duration::from_millis(100));
        loop {
            every.tick().await;
            sync::lock(&store).tick();
        }
    };
    tokio::select! {
        () = tick => {}
        () = until_stopped(&mut stopped) => {}
    }
}

/// A running sandbox. Dropping it stops the API, the mesh and every process in it.
pub struct Sandbox {
    addr: SocketAddr,
    token: String,
    ca_pem: String,
    store: Arc<Mutex<Store>>,
    mesh: Arc<Mesh>,
    server: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
    warnings: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
}

impl Drop for Sandbox {
    /// Closes every connection and ends every process in the pods, as a cluster that
    /// goes away does.
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.server.abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source} (pick another --port, or 0 for any free port)"
    )]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot seed the sandbox: {0}")]
    Seed(#[from] seed::SeedError),
    #[error(transparent)]
    Tls(#[from] apiserver::tls::TlsError),
}

fn new_token() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sandbox {
    pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| SandboxError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            port: options.port,
            source,
        })?;
        let mut store = Store::with_controllers(controllers::reconcile);
        let seed = seed::Seed {
            istio: &options.istio,
            weights: options.weights,
            scenario: options.scenario,
        };
        seed::seed(&mut store, &seed).map_err(SandboxError::Seed)?;
        let store = Arc::new(Mutex::new(store));
        let (warn, warnings) = mpsc::unbounded_channel();
        let drills = Arc::new(drills::Drills::new(options.faults.clone()));
        let mesh = Mesh::start(
            store.clone(),
            options.propagation_delay,
            warn,
            options.seed,
            drills.clone(),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(clock(store.clone(), stopped.clone()));
        let token = new_token();
        let tls = tls::generate().map_err(SandboxError::Tls)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
        let state = Arc::new(ApiState {
            store: store.clone(),
            mesh: mesh.clone(),
            token: token.clone(),
            server_address: addr.to_string(),
            git_version: "v1.32.0-splitscope-sandbox".into(),
            forbidden: options.forbidden.clone(),
            drills: drills.clone(),
            stopped: stopped.clone(),
        });
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                let acceptor = acceptor.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let serve = async {
                        // A client that fails the handshake (plain HTTP, wrong CA) is dropped.
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return;
                        };
                        let service = service_fn(move |req| apiserver::handle(state.clone(), req));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .with_upgrades()
                            .await;
                    };
                    tokio::select! {
                        _ = serve => {}
                        _ = until_stopped(&mut stopped) => {}
                    }
                });
            }
        });
        Ok(Sandbox {
            addr,
            token,
            ca_pem: tls.ca_pem,
            store,
            mesh,
            server,
            stop,
            warnings: Mutex::new(Some(warnings)),
        })
    }

    /// What went wrong inside the sandbox while it ran (an echo server that could not
    /// start, say), for whoever shows its messages; the first caller gets them.
    pub fn warnings(&self) -> Option<mpsc::UnboundedReceiver<String>> {
        sync::lock(&self.warnings).take()
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn store(&self) -> Arc<Mutex<Store>> {
        self.store.clone()
    }

    pub fn mesh(&self) -> Arc<Mesh> {
        self.mesh.clone()
    }

    /// The fault drills: what they did, and new faults from now on.
    pub fn drills(&self) -> &drills::Drills {
        self.mesh.drills()
    }

    /// A kubeconfig whose one context, `splitscope-sandbox`, reaches this sandbox.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT}
  cluster:
    server: {url}
    certificate-authority-data: {ca}
contexts:
- name: {CONTEXT}
  context:
    cluster: {CONTEXT}
    user: {CONTEXT}
    namespace: {NAMESPACE}
current-context: {CONTEXT}
users:
- name: {CONTEXT}
  user:
    token: {token}
preferences: {{}}
",
            url = self.url(),
            token = self.token,
            ca = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &self.ca_pem)
        )
    }

    /// Writes the kubeconfig, readable by its owner only: it holds the token.
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(path)?;
        file.write_all(self.kubeconfig().as_bytes())
    }
}
