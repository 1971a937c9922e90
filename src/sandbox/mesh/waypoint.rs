//! What istiod would push to the waypoints, compiled from the objects: which Services a
//! waypoint serves (by the rules in `istio::waypoint`), the TCPRoutes it enforces (when
//! the istiod of its revision is 1.26 or later: bug 54119), and the EnvoyFilters that
//! would really change its `tcp_proxy`. Pure: objects in, decisions out.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::attach;
use super::http_routes::{self, EdgeRules, HttpDecision, HttpRule};
pub use super::port::ServicePort;
use crate::istio::waypoint::{Choice, Class, binds, choose};
use crate::istio::{FIXED_IN, parse_version};
use crate::sandbox::controllers::istiod::serving;
use crate::sandbox::controllers::{Deploys, GATEWAY_NAME_LABEL, deploys};
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{
    ENVOYFILTERS, GATEWAYCLASSES, GATEWAYS, NAMESPACES, PODS, SERVICES, TCPROUTES,
};
use crate::sandbox::storage::meta::{is_running, labels_of, name_of, namespace_of, str_at};

pub(crate) const TCP_PROXY: &str = "envoy.filters.network.tcp_proxy";
pub(crate) const TCP_PROXY_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
pub(crate) const WAYPOINT_LISTENER: &str = "main_internal";

/// Where the waypoint sends one new connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not through a waypoint: kube-proxy style, uniform over the Service's endpoints.
    Direct,
    /// Through the waypoint with its default load balancing over the Service's endpoints.
    WaypointDefault,
    /// Weighted over backend Services, from a route or from a patched `tcp_proxy`.
    Weighted {
        targets: Vec<(ServicePort, u32)>,
        source: WeightSource,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum WeightSource {
    Route(String),
    EnvoyFilter(String),
}

/// A waypoint by namespace and name.
type WaypointKey = (String, String);

#[derive(Debug, Default, Clone)]
pub struct Programming {
    /// Service ports served by a waypoint, and which.
    served: HashMap<ServicePort, WaypointKey>,
    /// The version of the istiod that serves each waypoint.
    versions: HashMap<WaypointKey, Option<(u32, u32)>>,
    /// Running pods of each waypoint: its replicas, each taking a push at its own moment.
    replicas: HashMap<WaypointKey, usize>,
    weighted: HashMap<ServicePort, (Vec<(ServicePort, u32)>, WeightSource)>,
    /// HTTP Service ports served by a waypoint, and which: routed request by request.
    served_http: HashMap<ServicePort, WaypointKey>,
    /// The HTTPRoute rules attached to each served HTTP port.
    http_rules: HashMap<ServicePort, Vec<HttpRule>>,
    /// The ports of the Services of Gateways at the edge, and whose they are.
    edge: HashMap<ServicePort, (String, String)>,
    /// The HTTPRoutes attached to each Gateway at the edge.
    edge_rules: HashMap<(String, String), EdgeRules>,
}

/// A running waypoint: its Gateway exists and a pod runs for it; whether it serves a
/// Service is istiod's rule (`binds`).
struct Waypoint<'a> {
    namespace: &'a str,
    name: &'a str,
    gateway: &'a Value,
    pod_labels: Vec<&'a Value>,
    /// The version of the istiod of its revision.
    istio: Option<(u32, u32)>,
}

impl Waypoint<'_> {
    fn key(&self) -> WaypointKey {
        (self.namespace.to_string(), self.name.to_string())
    }
}

/// The GatewayClass of a Gateway, where the store has it.
fn class_of<'a>(store: &'a Store, gateway: &Value) -> Option<&'a Value> {
    let class = str_at(gateway, "/spec/gatewayClassName")?;
    store.all(&GATEWAYCLASSES).find(|c| name_of(c) == class)
}

fn running_waypoints(store: &Store) -> Vec<Waypoint<'_>> {
    let pods: Vec<&Value> = store.all(&PODS).collect();
    store
        .all(&GATEWAYS)
        .filter_map(|g| {
            let pod_labels: Vec<&Value> = pods
                .iter()
                .filter(|p| namespace_of(p) == namespace_of(g) && is_running(p))
                .filter_map(|p| labels_of(p))
                .filter(|l| l.get(GATEWAY_NAME_LABEL).and_then(Value::as_str) == Some(name_of(g)))
                .collect();
            (!pod_labels.is_empty()).then(|| Waypoint {
                namespace: namespace_of(g),
                name: name_of(g),
                gateway: g,
                pod_labels,
                istio: serving(store, g)
                    .and_then(|istiod| istiod.version().ok())
                    .and_then(|v| parse_version(&v)),
            })
        })
        .collect()
}

/// Gateways at the edge that istiod deploys a router for.
fn routers(store: &Store) -> Vec<&Value> {
    store
        .all(&GATEWAYS)
        .filter(|g| deploys(store, g) == Some(Deploys::Router))
        .collect()
}

/// The ports of the routers' Services (labelled with their Gateway's name), each with
/// its Gateway: the router takes every request there.
fn edge_ports(store: &Store) -> HashMap<ServicePort, (String, String)> {
    let routers = routers(store);
    let mut out = HashMap::new();
    for svc in store.all(&SERVICES) {
        let Some(gateway) = str_at(
            svc,
            "/metadata/labels/gateway.networking.k8s.io~1gateway-name",
        ) else {
            continue;
        };
        let ns = namespace_of(svc);
        if !routers
            .iter()
            .any(|g| namespace_of(g) == ns && name_of(g) == gateway)
        {
            continue;
        }
        for (sp, _) in service_ports(svc) {
            out.insert(sp, (ns.to_string(), gateway.to_string()));
        }
    }
    out
}

/// A Service's ports, each as a `ServicePort` and as written.
fn service_ports(svc: &Value) -> impl Iterator<Item = (ServicePort, &Value)> {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(move |p| {
            let port = u16::try_from(p.get("port")?.as_u64()?).ok()?;
            let sp = ServicePort {
                namespace: namespace_of(svc).to_string(),
                service: name_of(svc).to_string(),
                port,
            };
            Some((sp, p))
        })
}

fn port_is_tcp(port: &Value) -> bool {
    let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
    let app = port
        .get("appProtocol")
        .and_then(Value::as_str)
        .unwrap_or_default();
    !(name == "http"
        || name.starts_with("http-")
        || app.starts_with("http")
        || name == "grpc"
        || name.starts_with("grpc-"))
}

impl Programming {
    pub(crate) fn compile(store: &Store) -> Programming {
        let waypoints = running_waypoints(store);
        let namespaces: HashMap<&str, &Value> =
            store.all(&NAMESPACES).map(|n| (name_of(n), n)).collect();
        let mut served = HashMap::new();
        let mut served_http = HashMap::new();
        for svc in store.all(&SERVICES) {
            let ns = namespace_of(svc);
            let namespace = namespaces.get(ns).and_then(|n| labels_of(n));
            let Choice::Uses(wanted) = choose(ns, labels_of(svc), namespace) else {
                continue;
            };
            // The waypoint must run, and istiod must bind the Service to it.
            let Some(wp) = waypoints.iter().find(|w| {
                w.namespace == wanted.namespace
                    && w.name == wanted.name
                    && binds(
                        ns,
                        namespace,
                        w.gateway,
                        Class::Read(class_of(store, w.gateway)),
                    )
                    .is_ok()
            }) else {
                continue;
            };
            for (sp, port) in service_ports(svc) {
                if port_is_tcp(port) {
                    served.insert(sp, wp.key());
                } else {
                    served_http.insert(sp, wp.key());
                }
            }
        }
        let mut prog = Programming {
            served,
            versions: waypoints.iter().map(|w| (w.key(), w.istio)).collect(),
            replicas: (waypoints.iter())
                .map(|w| (w.key(), w.pod_labels.len()))
                .collect(),
            weighted: HashMap::new(),
            http_rules: http_routes::compile(store, &served_http),
            served_http,
            edge: edge_ports(store),
            edge_rules: http_routes::compile_edge(store, &routers(store)),
        };
        prog.compile_routes(store);
        prog.compile_filters(store, &waypoints);
        prog
    }

    /// The most replicas any waypoint has: how many a push goes to.
    pub fn most_replicas(&self) -> usize {
        self.replicas.values().copied().max().unwrap_or(1).max(1)
    }

    /// How many replicas serve `sp`: its waypoint's running pods; 1 without a waypoint.
    pub fn replicas(&self, sp: &ServicePort) -> usize {
        (self.served.get(sp))
            .or_else(|| self.served_http.get(sp))
            .and_then(|wp| self.replicas.get(wp))
            .copied()
            .unwrap_or(1)
            .max(1)
    }

    /// Whether the waypoint serving `sp` programs routes: its istiod is 1.26 or later.
    fn honours_routes(&self, sp: &ServicePort) -> bool {
        self.served
            .get(sp)
            .and_then(|wp| self.versions.get(wp))
            .copied()
            .flatten()
            .is_some_and(|v| v >= FIXED_IN)
    }

    /// Istio 1.26+: a TCPRoute whose parent is a served Service sets its weights, where
    /// the waypoint's control plane is that recent.
    fn compile_routes(&mut self, store: &Store) {
        let mut routes: Vec<&Value> = store.all(&TCPROUTES).collect();
        attach::oldest_first(&mut routes);
        for route in routes {
            let ns = namespace_of(route);
            let Some(rule) = route.pointer("/spec/rules/0") else {
                continue;
            };
            let targets = attach::targets(store, "TCPRoute", rule, ns);
            if targets.iter().all(|(_, w)| *w == 0) {
                continue;
            }
            for (parent, port) in attach::service_parents(route, ns) {
                let chains: Vec<ServicePort> = self
                    .served
                    .keys()
                    .filter(|sp| {
                        sp.namespace == ns
                            && sp.service == parent
                            && attach::port_matches(port, sp)
                            && self.honours_routes(sp)
                    })
                    .cloned()
                    .collect();
                // Later routes insert only where no older one has.
                for chain in chains {
                    self.weighted.entry(chain).or_insert_with(|| {
                        (
                            targets.clone(),
                            WeightSource::Route(name_of(route).to_string()),
                        )
                    });
                }
            }
        }
    }

    /// EnvoyFilters that a real waypoint would apply: everything about them must match.
    fn compile_filters(&mut self, store: &Store, waypoints: &[Waypoint]) {
        let mut filters: Vec<&Value> = store.all(&ENVOYFILTERS).collect();
        // Envoy applies patches in priority then creation order; the last REPLACE stands.
        filters.sort_by_key(|f| {
            (
                f.pointer("/spec/priority")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                str_at(f, "/metadata/creationTimestamp")
                    .unwrap_or_default()
                    .to_string(),
                name_of(f).to_string(),
            )
        });
        for f in filters {
            for wp in waypoints {
                if !(namespace_of(f) == wp.namespace || namespace_of(f) == "istio-system")
                    || !selects(f, wp)
                {
                    continue;
                }
                // Every Service port this waypoint serves, from whichever namespace.
                let key = wp.key();
                let clusters: BTreeMap<String, ServicePort> = self
                    .served
                    .iter()
                    .filter(|(_, w)| **w == key)
                    .map(|(sp, _)| (sp.vip_name(), sp.clone()))
                    .collect();
                for patch in f
                    .pointer("/spec/configPatches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some((chain, targets)) = weighted_tcp_proxy(patch, &clusters) {
                        self.weighted.insert(
                            chain,
                            (targets, WeightSource::EnvoyFilter(name_of(f).to_string())),
                        );
                    }
                }
            }
        }
    }

    /// What the mesh does with a new connection to a Service port.
    pub fn decide(&self, target: &ServicePort) -> Decision {
        if !self.served.contains_key(target) {
            return Decision::Direct;
        }
        match self.weighted.get(target) {
            Some((targets, source)) => Decision::Weighted {
                targets: targets.clone(),
                source: source.clone(),
            },
            None => Decision::WaypointDefault,
        }
    }

    pub fn serves(&self, target: &ServicePort) -> bool {
        self.served.contains_key(target) || self.served_http.contains_key(target)
    }

    /// Whether connections to `target` are routed request by request: an HTTP port a
    /// waypoint serves, or a Gateway's port at the edge.
    pub fn routes_requests(&self, target: &ServicePort) -> bool {
        self.edge.contains_key(target) || self.served_http.contains_key(target)
    }

    /// What the waypoint does with one HTTP request to a Service port it serves at L7;
    /// None where no waypoint serves the port as HTTP (connections pass at L4).
    pub fn decide_request(
        &self,
        target: &ServicePort,
        method: &str,
        path: &str,
        headers: &[(String, String)],
    ) -> Option<HttpDecision> {
        if let Some(gateway) = self.edge.get(target) {
            return Some(match self.edge_rules.get(gateway) {
                Some(rules) => http_routes::decide_edge(rules, method, path, headers),
                None => HttpDecision::NotFound,
            });
        }
        self.served_http.get(target)?;
        Some(match self.http_rules.get(target) {
            Some(rules) => http_routes::decide(rules, method, path, headers),
            None => HttpDecision::Default,
        })
    }
}

/// Istio 1.24 selects a waypoint for an EnvoyFilter by `workloadSelector` alone:
/// `targetRefs` is not read, so a filter with only `targetRefs` reaches no waypoint.
fn selects(filter: &Value, wp: &Waypoint) -> bool {
    match filter
        .pointer("/spec/workloadSelector/labels")
        .and_then(Value::as_object)
    {
        Some(want) => wp
            .pod_labels
            .iter()
            .any(|labels| want.iter().all(|(k, v)| labels.get(k) == Some(v))),
        None => filter.pointer("/spec/targetRefs").is_none(),
    }
}

/// Reads both spellings protobuf JSON accepts (`weightedClusters`, `weighted_clusters`).
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

/// A config patch that replaces the waypoint's `tcp_proxy` on a served chain with a
/// weighted one Envoy would accept: returns the chain and its weighted targets.
fn weighted_tcp_proxy(
    patch: &Value,
    clusters: &BTreeMap<String, ServicePort>,
) -> Option<(ServicePort, Vec<(ServicePort, u32)>)> {
    if str_at(patch, "/applyTo")? != "NETWORK_FILTER" {
        return None;
    }
    let m = patch.get("match")?;
    if !matches!(
        str_at(m, "/context").unwrap_or("ANY"),
        "ANY" | "SIDECAR_INBOUND"
    ) {
        return None;
    }
    let listener = m.get("listener")?;
    // main_internal has no port: a portNumber match never hits it.
    if listener
        .get("portNumber")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        != 0
    {
        return None;
    }
    if str_at(listener, "/name").is_some_and(|n| n != WAYPOINT_LISTENER) {
        return None;
    }
    let chain = clusters
        .get(str_at(listener, "/filterChain/name")?)?
        .clone();
    if str_at(listener, "/filterChain/filter/name")? != TCP_PROXY {
        return None;
    }
    let p = patch.get("patch")?;
    if str_at(p, "/operation")? != "REPLACE" {
        return None;
    }
    let value = p.get("value")?;
    if str_at(value, "/name")? != TCP_PROXY {
        return None;
    }
    let config = field(value, "typedConfig", "typed_config")?;
    if config.get("@type").and_then(Value::as_str)? != TCP_PROXY_TYPE {
        return None;
    }
    // Envoy rejects a TcpProxy without a stat prefix; the push is refused whole.
    if field(config, "statPrefix", "stat_prefix")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return None;
    }
    let entries = field(config, "weightedClusters", "weighted_clusters")?
        .get("clusters")?
        .as_array()?;
    let mut targets = Vec::new();
    for c in entries {
        let target = clusters.get(c.get("name")?.as_str()?)?.clone();
        let weight = c.get("weight").and_then(Value::as_u64).unwrap_or(0);
        targets.push((target, u32::try_from(weight).ok()?));
    }
    if targets.is_empty() || targets.iter().all(|(_, w)| *w == 0) {
        return None;
    }
    Some((chain, targets))
}
