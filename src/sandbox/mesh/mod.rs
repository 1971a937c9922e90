//! The data plane: a real tcp-echo server on loopback for every pod that runs one, and
//! for every Service port a loopback listener standing for its VIP, behind which the
//! (simulated) waypoint picks a backend per connection and splices the bytes through.

mod attach;
pub mod dns;
mod echo;
pub mod endpoints;
mod hello;
mod http;
pub mod http_routes;
mod loopback;
mod port;
pub mod push;
pub mod waypoint;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::sandbox::drills::Drills;
use crate::sandbox::shell::net::{ConnectError, Connecting, Network};
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::PODS;
use crate::sandbox::storage::meta::{is_running, uid_of};
use crate::sandbox::sync::lock;
use crate::task::AbortOnDrop;
use http::Upstream;
use http_routes::HttpDecision;
use waypoint::{Decision, Programming, ServicePort};

use crate::sandbox::wire::Request;

/// What a pod serves: a tcp-echo on its ports, or helloworld.
enum Server {
    Echo { ports: Vec<u16>, prefix: String },
    Hello(hello::Hello),
}

struct PodServers {
    ports: HashMap<u16, SocketAddr>,
    _tasks: Vec<AbortOnDrop>,
}

pub struct Mesh {
    /// The mesh itself, for the listeners it starts; they must not keep it alive.
    me: Weak<Mesh>,
    store: Arc<Mutex<Store>>,
    /// What each waypoint replica runs: every push reaches each at its own moment.
    replicas: push::Replicas,
    pods: Mutex<HashMap<String, PodServers>>,
    vips: Mutex<HashMap<ServicePort, (SocketAddr, AbortOnDrop)>>,
    delay: Duration,
    watcher: Mutex<Option<AbortOnDrop>>,
    /// What went wrong inside the mesh, for whoever shows the sandbox's messages: the
    /// demo's screen is up, so nothing here may print.
    warnings: mpsc::UnboundedSender<String>,
    /// The waypoint's dice: seeded for runs that repeat (`--seed`).
    rng: Mutex<StdRng>,
    /// Faults made on purpose; the echo servers count their replies there.
    drills: Arc<Drills>,
    /// The store's version the newest push was compiled from, and pushes on their way to
    /// a replica: whether every write so far is in effect.
    compiled: std::sync::atomic::AtomicU64,
    in_flight: std::sync::atomic::AtomicUsize,
}

impl Mesh {
    /// Starts the mesh over `store`: pods get echo servers at once, route and filter
    /// changes reach the waypoint after `delay`, as istiod pushes do.
    pub fn start(
        store: Arc<Mutex<Store>>,
        delay: Duration,
        warnings: mpsc::UnboundedSender<String>,
        seed: Option<u64>,
        drills: Arc<Drills>,
    ) -> Arc<Mesh> {
        let (initial, changes) = {
            let s = lock(&store);
            (Programming::compile(&s), s.subscribe())
        };
        let mesh = Arc::new_cyclic(|me| Mesh {
            me: me.clone(),
            store,
            replicas: push::Replicas::new(Arc::new(initial)),
            pods: Mutex::new(HashMap::new()),
            vips: Mutex::new(HashMap::new()),
            delay,
            watcher: Mutex::new(None),
            warnings,
            rng: Mutex::new(match seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            }),
            drills,
            compiled: std::sync::atomic::AtomicU64::new(*changes.borrow()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        });
        mesh.sync_pods();
        let watcher = AbortOnDrop::spawn(follow(Arc::downgrade(&mesh), changes));
        *lock(&mesh.watcher) = Some(watcher);
        mesh
    }

    /// Tells each time the cluster's objects change.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        lock(&self.store).subscribe()
    }

    /// Whether the pod with this uid still exists and runs.
    pub(crate) fn pod_running(&self, namespace: &str, name: &str, uid: &str) -> bool {
        lock(&self.store)
            .get(&PODS, "v1", namespace, name)
            .is_ok_and(|p| uid_of(&p) == Some(uid) && is_running(&p))
    }

    pub fn drills(&self) -> &Drills {
        &self.drills
    }

    /// What the first waypoint replica runs.
    pub fn programming(&self) -> Arc<Programming> {
        self.replicas.of(0)
    }

    /// Whether every write to the store so far has reached every waypoint replica.
    pub fn settled(&self) -> bool {
        use std::sync::atomic::Ordering;
        let written = *lock(&self.store).subscribe().borrow();
        self.compiled.load(Ordering::SeqCst) == written
            && self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// Every replica's every push so far: when each took which, for tests to hold an
    /// estimate of when a change landed to the truth.
    pub fn installs(&self) -> Vec<push::Install> {
        self.replicas.installs()
    }

    /// The replica one new connection to `target` reaches (ztunnel balances them), and
    /// what it runs.
    fn replica_for(&self, target: &ServicePort) -> Arc<Programming> {
        let replicas = self.replicas.of(0).replicas(target);
        let replica = lock(&self.rng).random_range(0..replicas);
        self.replicas.of(replica)
    }

    /// Starts servers for new tcp-echo and helloworld pods and stops those of deleted ones.
    fn sync_pods(&self) {
        let wanted: Vec<(String, Server)> = {
            let store = lock(&self.store);
            store
                .all(&PODS)
                .filter(|p| is_running(p))
                .filter_map(|p| {
                    let server = match echo::echo_args(p) {
                        Some((ports, prefix)) => Server::Echo { ports, prefix },
                        None => Server::Hello(hello::hello_args(p)?),
                    };
                    Some((uid_of(p)?.to_string(), server))
                })
                .collect()
        };
        let mut pods = lock(&self.pods);
        pods.retain(|uid, _| wanted.iter().any(|(u, _)| u == uid));
        for (uid, server) in wanted {
            if pods.contains_key(&uid) {
                continue;
            }
            let mut servers = PodServers {
                ports: HashMap::new(),
                _tasks: Vec::new(),
            };
            // One server per port: each pod port of a tcp-echo, the one of a helloworld.
            let started: Vec<(u16, std::io::Result<(SocketAddr, AbortOnDrop)>)> = match server {
                Server::Echo { ports, prefix } => ports
                    .into_iter()
                    .map(|port| (port, echo::start_echo(prefix.clone(), self.drills.clone())))
                    .collect(),
                Server::Hello(hello) => vec![(hello.port, hello::start_hello(hello))],
            };
            for (port, result) in started {
                match result {
                    Ok((addr, task)) => {
                        servers.ports.insert(port, addr);
                        servers._tasks.push(task);
                    }
                    Err(e) => {
                        let _ = self.warnings.send(format!(
                            "sandbox: cannot start the server for port {port} of a pod on loopback: {e}"
                        ));
                    }
                }
            }
            pods.insert(uid, servers);
        }
    }

    /// Opens a connection from a pod in namespace `from` to `host:port`, through the
    /// Service's VIP and so through the waypoint.
    pub async fn connect(
        &self,
        from: &str,
        host: &str,
        port: u16,
    ) -> Result<TcpStream, ConnectError> {
        let (resolved, has_port) = {
            let store = lock(&self.store);
            let resolved = dns::resolve(&store, from, host)
                .ok_or_else(|| ConnectError::BadAddress(host.to_string()))?;
            let has_port = dns::has_port(&store, &resolved.namespace, &resolved.service, port);
            (resolved, has_port)
        };
        let ip = resolved.cluster_ip;
        if !has_port {
            return Err(ConnectError::Refused(ip));
        }
        let vip = self
            .vip(ServicePort {
                namespace: resolved.namespace,
                service: resolved.service,
                port,
            })
            .map_err(|_| ConnectError::Refused(ip.clone()))?;
        TcpStream::connect(vip)
            .await
            .map_err(|_| ConnectError::Refused(ip))
    }

    /// The loopback address standing for a Service port's VIP, started on first use.
    pub fn vip(&self, target: ServicePort) -> std::io::Result<SocketAddr> {
        let mut vips = lock(&self.vips);
        if let Some((addr, _)) = vips.get(&target) {
            return Ok(*addr);
        }
        let (addr, listener) = loopback::listen()?;
        let task = AbortOnDrop::spawn(splice_vip(self.me.clone(), listener, target.clone()));
        vips.insert(target, (addr, task));
        Ok(addr)
    }

    /// Where one HTTP request to `target` goes, as the replica running `programming`
    /// routes it.
    fn upstream(
        &self,
        programming: &Programming,
        target: &ServicePort,
        request: &Request,
    ) -> Upstream {
        let decision = programming.decide_request(
            target,
            &request.method,
            &request.path,
            &request.head.headers,
        );
        let picked = match decision {
            None | Some(HttpDecision::Default) => self.pick_endpoint(target),
            Some(HttpDecision::Weighted { targets, .. }) => self.pick_weighted(&targets),
            Some(HttpDecision::NoBackend { .. }) => return Upstream::NoBackend,
            Some(HttpDecision::NotFound) => return Upstream::NotFound,
        };
        picked.map_or(Upstream::NoneHealthy, Upstream::Endpoint)
    }

    /// The echo server one new connection to `target` reaches, through the replica
    /// running `programming`.
    fn pick(&self, programming: &Programming, target: &ServicePort) -> Option<SocketAddr> {
        match programming.decide(target) {
            Decision::Direct | Decision::WaypointDefault => self.pick_endpoint(target),
            Decision::Weighted { targets, .. } => self.pick_weighted(&targets),
        }
    }

    /// An endpoint of one of `targets`, chosen by their weights.
    fn pick_weighted(&self, targets: &[(ServicePort, u32)]) -> Option<SocketAddr> {
        let total: u64 = targets.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return None;
        }
        let mut roll = lock(&self.rng).random_range(0..total);
        for (backend, weight) in targets {
            if roll < u64::from(*weight) {
                return self.pick_endpoint(backend);
            }
            roll -= u64::from(*weight);
        }
        None
    }

    /// Uniform over the ready endpoints of a Service port.
    fn pick_endpoint(&self, target: &ServicePort) -> Option<SocketAddr> {
        let endpoints = self.endpoints(target);
        if endpoints.is_empty() {
            return None;
        }
        Some(endpoints[lock(&self.rng).random_range(0..endpoints.len())])
    }

    /// The echo servers behind a Service port: Running pods its selector matches.
    pub fn endpoints(&self, target: &ServicePort) -> Vec<SocketAddr> {
        let found = endpoints::endpoints(&lock(&self.store), target);
        let pods = lock(&self.pods);
        found
            .iter()
            .filter_map(|e| pods.get(&e.pod_uid)?.ports.get(&e.port).copied())
            .collect()
    }
}

impl Network for Mesh {
    fn connect<'a>(&'a self, from: &'a str, host: &'a str, port: u16) -> Connecting<'a> {
        Box::pin(Mesh::connect(self, from, host, port))
    }
}

/// Follows the store: pods get their servers at once, and changes are debounced,
/// compiled and pushed to each waypoint replica after its own push time, as istiod does.
async fn follow(mesh: Weak<Mesh>, mut changes: tokio::sync::watch::Receiver<u64>) {
    let mut seq = 0u64;
    let mut replicas = 1;
    while changes.changed().await.is_ok() {
        let Some(strong) = mesh.upgrade() else { break };
        strong.sync_pods();
        drop(strong);
        // Debounce: until events stop for DEBOUNCE_AFTER, DEBOUNCE_MAX at most.
        let first = tokio::time::Instant::now();
        loop {
            let quiet = tokio::time::sleep(push::DEBOUNCE_AFTER);
            let limit = tokio::time::sleep_until(first + push::DEBOUNCE_MAX);
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if let Some(strong) = mesh.upgrade() {
                        strong.sync_pods();
                    }
                }
                () = quiet => break,
                () = limit => break,
            }
        }
        let Some(strong) = mesh.upgrade() else { break };
        seq += 1;
        let compiled_at = jiff::Timestamp::now();
        let version = *changes.borrow_and_update();
        let compiled = Arc::new(Programming::compile(&lock(&strong.store)));
        let now = compiled.most_replicas().min(push::MAX_REPLICAS);
        // A replica that starts gets the current configuration as it starts.
        for replica in replicas..now {
            strong
                .replicas
                .install(replica, seq, compiled.clone(), compiled_at);
        }
        replicas = now;
        for replica in 0..now {
            let delay = push::push_time(strong.delay, &mut *lock(&strong.rng));
            let (mesh, compiled) = (mesh.clone(), compiled.clone());
            strong
                .in_flight
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(mesh) = mesh.upgrade() {
                    mesh.replicas.install(replica, seq, compiled, compiled_at);
                    mesh.in_flight
                        .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
        strong
            .compiled
            .store(version, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Accepts connections on a VIP and splices each to the backend the waypoint picks; a
/// waypoint that serves the port as HTTP routes each request instead.
async fn splice_vip(mesh: Weak<Mesh>, listener: TcpListener, target: ServicePort) {
    while let Ok((inbound, _)) = listener.accept().await {
        let Some(mesh) = mesh.upgrade() else { break };
        // One connection, one replica: its requests are routed as that replica says.
        let programming = mesh.replica_for(&target);
        if programming.routes_requests(&target) {
            let target = target.clone();
            let pick = move |request: &Request| mesh.upstream(&programming, &target, request);
            tokio::spawn(http::proxy(pick, inbound));
            continue;
        }
        let backend = mesh.pick(&programming, &target);
        tokio::spawn(async move {
            // No endpoint: the connection is reset, as ztunnel does.
            let Some(backend) = backend else { return };
            let Ok(mut outbound) = TcpStream::connect(backend).await else {
                return;
            };
            let mut inbound = inbound;
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}
