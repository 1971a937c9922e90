//! The data plane: a real tcp-echo server on loopback for every pod that runs one, and
//! for every Service port a loopback listener standing for its VIP, behind which the
//! (simulated) waypoint picks a backend per connection and splices the bytes through.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::store::{Store, name_of, resource};
use super::waypoint::{Decision, Programming, ServicePort};

/// Aborts its task when dropped, so servers die with the pod or the sandbox.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct PodServers {
    ports: HashMap<u16, SocketAddr>,
    _tasks: Vec<Task>,
}

pub struct Mesh {
    store: Arc<Mutex<Store>>,
    programming: RwLock<(u64, Arc<Programming>)>,
    pods: Mutex<HashMap<String, PodServers>>,
    vips: Mutex<HashMap<ServicePort, (SocketAddr, Task)>>,
    delay: Duration,
    watcher: Mutex<Option<Task>>,
}

/// Why `nc` could not connect, in busybox's words.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    BadAddress(String),
    Refused(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::BadAddress(host) => write!(f, "nc: bad address '{host}'"),
            ConnectError::Refused(ip) => write!(
                f,
                "nc: can't connect to remote host ({ip}): Connection refused"
            ),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere must not take the mesh down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Mesh {
    /// Starts the mesh over `store`: pods get echo servers at once, route and filter
    /// changes reach the waypoint after `delay`, as istiod pushes do.
    pub fn start(store: Arc<Mutex<Store>>, delay: Duration) -> Arc<Mesh> {
        let (initial, mut changes) = {
            let s = lock(&store);
            (Programming::compile(&s), s.subscribe())
        };
        let mesh = Arc::new(Mesh {
            store,
            programming: RwLock::new((0, Arc::new(initial))),
            pods: Mutex::new(HashMap::new()),
            vips: Mutex::new(HashMap::new()),
            delay,
            watcher: Mutex::new(None),
        });
        mesh.sync_pods();
        let weak = Arc::downgrade(&mesh);
        let handle = tokio::spawn(async move {
            let mut seq = 0u64;
            while changes.changed().await.is_ok() {
                let Some(mesh) = weak.upgrade() else { break };
                mesh.sync_pods();
                seq += 1;
                let compiled = Arc::new(Programming::compile(&lock(&mesh.store)));
                let weak = Arc::downgrade(&mesh);
                let delay = mesh.delay;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(mesh) = weak.upgrade() {
                        let mut current =
                            mesh.programming.write().unwrap_or_else(|e| e.into_inner());
                        // Pushes land in order; an older one never overwrites a newer.
                        if seq > current.0 {
                            *current = (seq, compiled);
                        }
                    }
                });
            }
        });
        *lock(&mesh.watcher) = Some(Task(handle));
        mesh
    }

    /// Tells each time the cluster's objects change.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        lock(&self.store).subscribe()
    }

    /// Whether the pod with this uid still exists and runs.
    pub fn pod_running(&self, namespace: &str, name: &str, uid: &str) -> bool {
        lock(&self.store)
            .get(resource("pods"), "v1", namespace, name)
            .is_ok_and(|p| {
                p.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid)
                    && p.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
            })
    }

    pub fn programming(&self) -> Arc<Programming> {
        self.programming
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Starts echo servers for new tcp-echo pods and stops those of deleted ones.
    fn sync_pods(&self) {
        let wanted: Vec<(String, String, Vec<u16>)> = {
            let store = lock(&self.store);
            store
                .all(&resource("pods").key())
                .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"))
                .filter_map(|p| {
                    let uid = p.pointer("/metadata/uid")?.as_str()?.to_string();
                    let (ports, prefix) = echo_args(p)?;
                    Some((uid, prefix, ports))
                })
                .collect()
        };
        let mut pods = lock(&self.pods);
        pods.retain(|uid, _| wanted.iter().any(|(u, _, _)| u == uid));
        for (uid, prefix, ports) in wanted {
            if pods.contains_key(&uid) {
                continue;
            }
            let mut servers = PodServers {
                ports: HashMap::new(),
                _tasks: Vec::new(),
            };
            for port in ports {
                match start_echo(prefix.clone()) {
                    Ok((addr, task)) => {
                        servers.ports.insert(port, addr);
                        servers._tasks.push(task);
                    }
                    Err(e) => eprintln!("sandbox: cannot start echo server on loopback: {e}"),
                }
            }
            pods.insert(uid, servers);
        }
    }

    /// Resolves a host as cluster DNS would from namespace `from`: `svc`, `svc.ns`,
    /// `svc.ns.svc`, `svc.ns.svc.cluster.local`, or a Service's cluster IP.
    pub fn resolve(&self, from: &str, host: &str) -> Option<(String, String, String)> {
        let host = host.trim_end_matches('.');
        let store = lock(&self.store);
        let services = resource("services");
        let parts: Vec<&str> = host.split('.').collect();
        let candidates: Vec<(String, String)> = match parts.as_slice() {
            [svc] => vec![(from.to_string(), svc.to_string())],
            [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => {
                vec![(ns.to_string(), svc.to_string())]
            }
            _ => vec![],
        };
        for (ns, name) in candidates {
            if let Ok(svc) = store.get(services, "v1", &ns, &name) {
                let ip = svc
                    .pointer("/spec/clusterIP")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                return Some((ns, name, ip));
            }
        }
        store
            .all(&services.key())
            .find(|s| s.pointer("/spec/clusterIP").and_then(Value::as_str) == Some(host))
            .map(|s| {
                let ns = s
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (ns.to_string(), name_of(s).to_string(), host.to_string())
            })
    }

    /// Opens a connection from a pod in namespace `from` to `host:port`, through the
    /// Service's VIP and so through the waypoint.
    pub async fn connect(
        self: &Arc<Self>,
        from: &str,
        host: &str,
        port: u16,
    ) -> Result<TcpStream, ConnectError> {
        let (ns, service, ip) = self
            .resolve(from, host)
            .ok_or_else(|| ConnectError::BadAddress(host.to_string()))?;
        let has_port = {
            let store = lock(&self.store);
            store
                .get(resource("services"), "v1", &ns, &service)
                .ok()
                .and_then(|s| s.pointer("/spec/ports").and_then(Value::as_array).cloned())
                .is_some_and(|ports| {
                    ports
                        .iter()
                        .any(|p| p.get("port").and_then(Value::as_u64) == Some(port as u64))
                })
        };
        if !has_port {
            return Err(ConnectError::Refused(ip));
        }
        let vip = self
            .vip(ServicePort {
                namespace: ns,
                service,
                port,
            })
            .map_err(|_| ConnectError::Refused(ip.clone()))?;
        TcpStream::connect(vip)
            .await
            .map_err(|_| ConnectError::Refused(ip))
    }

    /// The loopback address standing for a Service port's VIP, started on first use.
    pub fn vip(self: &Arc<Self>, target: ServicePort) -> std::io::Result<SocketAddr> {
        let mut vips = lock(&self.vips);
        if let Some((addr, _)) = vips.get(&target) {
            return Ok(*addr);
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let listener = TcpListener::from_std(listener)?;
        let weak = Arc::downgrade(self);
        let key = target.clone();
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Some(mesh) = weak.upgrade() else { break };
                let backend = mesh.pick(&key);
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
        });
        vips.insert(target, (addr, Task(task)));
        Ok(addr)
    }

    /// The echo server one new connection to `target` reaches.
    pub fn pick(&self, target: &ServicePort) -> Option<SocketAddr> {
        match self.programming().decide(target) {
            Decision::Direct | Decision::WaypointDefault => self.pick_endpoint(target),
            Decision::Weighted { targets, .. } => {
                let total: u64 = targets.iter().map(|(_, w)| *w as u64).sum();
                if total == 0 {
                    return None;
                }
                let mut roll = rand::random_range(0..total);
                for (backend, weight) in &targets {
                    if roll < *weight as u64 {
                        return self.pick_endpoint(backend);
                    }
                    roll -= *weight as u64;
                }
                None
            }
        }
    }

    /// Uniform over the ready endpoints of a Service port.
    fn pick_endpoint(&self, target: &ServicePort) -> Option<SocketAddr> {
        let endpoints = self.endpoints(target);
        if endpoints.is_empty() {
            return None;
        }
        Some(endpoints[rand::random_range(0..endpoints.len())])
    }

    /// The echo servers behind a Service port: Running pods its selector matches.
    pub fn endpoints(&self, target: &ServicePort) -> Vec<SocketAddr> {
        let store = lock(&self.store);
        let Ok(svc) = store.get(
            resource("services"),
            "v1",
            &target.namespace,
            &target.service,
        ) else {
            return vec![];
        };
        let Some(selector) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
            return vec![];
        };
        let selector = super::selector::LabelSelector::from_map(selector);
        let Some(port) = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p.get("port").and_then(Value::as_u64) == Some(target.port as u64))
            })
        else {
            return vec![];
        };
        let pods = lock(&self.pods);
        store
            .all(&resource("pods").key())
            .filter(|p| {
                p.pointer("/metadata/namespace").and_then(Value::as_str)
                    == Some(target.namespace.as_str())
            })
            .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"))
            .filter(|p| selector.matches(p.pointer("/metadata/labels")))
            .filter_map(|p| {
                let uid = p.pointer("/metadata/uid")?.as_str()?;
                let container_port = target_port(port, p)?;
                pods.get(uid)?.ports.get(&container_port).copied()
            })
            .collect()
    }
}

/// A Service port's `targetPort` on a pod: a number, a container port's name, or the port.
fn target_port(port: &Value, pod: &Value) -> Option<u16> {
    match port.get("targetPort") {
        Some(Value::Number(n)) => n.as_u64().map(|n| n as u16),
        Some(Value::String(name)) => pod
            .pointer("/spec/containers")?
            .as_array()?
            .iter()
            .flat_map(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|p| p.get("containerPort")?.as_u64())
            .map(|n| n as u16),
        _ => port.get("port")?.as_u64().map(|n| n as u16),
    }
}

/// A container that runs the tcp-echo server: args `["9000,9001,9002", "one"]`.
fn echo_args(pod: &Value) -> Option<(Vec<u16>, String)> {
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
fn start_echo(prefix: String) -> std::io::Result<(SocketAddr, Task)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let listener = TcpListener::from_std(listener)?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let prefix = prefix.clone();
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
                        }
                        Ok(_) => break,
                    }
                }
                let _ = write.shutdown().await;
            });
        }
    });
    Ok((addr, Task(task)))
}
