//! The HTTPRoutes a waypoint enforces on the HTTP ports of the Services it serves, on
//! every Istio version (bug 54119 is about TCPRoutes), and the rule one request meets.
//! Gateway API orders matches: an Exact path first, then the longest PathPrefix, then a
//! regular expression; then a method match, then the most header matches; a tie goes
//! to the oldest route, then to the earlier rule. A request no rule matches goes to the
//! parent Service, as without a route. Pure: objects in, decisions out.

use std::collections::HashMap;

use serde_json::Value;

use super::attach;
use super::port::ServicePort;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::HTTPROUTES;
use crate::sandbox::storage::meta::{name_of, namespace_of, str_at};

/// One match of a rule.
#[derive(Debug, Clone, PartialEq)]
struct Match {
    path_type: String,
    path: String,
    method: Option<String>,
    /// Name (lower case), value, and whether the value is a regular expression.
    headers: Vec<(String, String, bool)>,
}

/// One rule of a route attached to a Service port.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRule {
    pub route: String,
    matches: Vec<Match>,
    /// Backend Services and weights; empty, or all 0: the waypoint answers 500.
    pub targets: Vec<(ServicePort, u32)>,
}

/// What the waypoint does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpDecision {
    /// No rule matched (or no route is attached): the parent Service's endpoints.
    Default,
    /// At a Gateway, no route matched: Envoy answers 404.
    NotFound,
    Weighted {
        targets: Vec<(ServicePort, u32)>,
        route: String,
    },
    /// The matched rule has no backend with weight: Gateway API asks for a 500.
    NoBackend { route: String },
}

fn read_match(m: &Value) -> Match {
    Match {
        path_type: str_at(m, "/path/type").unwrap_or("PathPrefix").to_string(),
        path: str_at(m, "/path/value").unwrap_or("/").to_string(),
        method: str_at(m, "/method").map(String::from),
        headers: m
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| {
                Some((
                    str_at(h, "/name")?.to_ascii_lowercase(),
                    str_at(h, "/value")?.to_string(),
                    str_at(h, "/type") == Some("RegularExpression"),
                ))
            })
            .collect(),
    }
}

fn read_rule(store: &Store, route: &str, namespace: &str, rule: &Value) -> HttpRule {
    let matches = match rule.get("matches").and_then(Value::as_array) {
        Some(ms) if !ms.is_empty() => ms.iter().map(read_match).collect(),
        _ => vec![read_match(&Value::Null)],
    };
    let targets = attach::targets(store, "HTTPRoute", rule, namespace);
    HttpRule {
        route: route.to_string(),
        matches,
        targets,
    }
}

/// The HTTPRoutes, oldest first: the oldest wins a conflict.
fn oldest_routes(store: &Store) -> Vec<&Value> {
    let mut routes: Vec<&Value> = store.all(&HTTPROUTES).collect();
    attach::oldest_first(&mut routes);
    routes
}

/// A route's rules, as the waypoint reads them.
fn rules_of(store: &Store, route: &Value) -> Vec<HttpRule> {
    route
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| read_rule(store, name_of(route), namespace_of(route), r))
        .collect()
}

/// The rules of every HTTPRoute whose parent is a served HTTP Service port, oldest
/// route first.
pub fn compile<W>(
    store: &Store,
    served: &HashMap<ServicePort, W>,
) -> HashMap<ServicePort, Vec<HttpRule>> {
    let mut out: HashMap<ServicePort, Vec<HttpRule>> = HashMap::new();
    for route in oldest_routes(store) {
        let ns = namespace_of(route);
        let rules = rules_of(store, route);
        for (name, port) in attach::service_parents(route, ns) {
            for sp in served.keys().filter(|sp| {
                sp.namespace == ns && sp.service == name && attach::port_matches(port, sp)
            }) {
                out.entry(sp.clone())
                    .or_default()
                    .extend(rules.iter().cloned());
            }
        }
    }
    out
}

/// How well a match fits a request, best last: the path's kind (Exact, PathPrefix,
/// RegularExpression) and length, a method match, the number of header matches.
type Fit = (u8, usize, bool, usize);

/// How well a match fits a request: None when it does not.
fn fit(m: &Match, method: &str, path: &str, headers: &[(String, String)]) -> Option<Fit> {
    let path = path.split('?').next().unwrap_or_default();
    let (rank, len) = match m.path_type.as_str() {
        "Exact" => (path == m.path).then_some((3, m.path.len()))?,
        "PathPrefix" => {
            let prefix = m.path.trim_end_matches('/');
            let ok = prefix.is_empty()
                || path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|r| r.starts_with('/'));
            ok.then_some((2, prefix.len()))?
        }
        "RegularExpression" => regex::Regex::new(&format!("^(?:{})$", m.path))
            .ok()
            .filter(|re| re.is_match(path))
            .map(|_| (1, m.path.len()))?,
        _ => return None,
    };
    if m.method.as_deref().is_some_and(|want| want != method) {
        return None;
    }
    for (name, value, regex) in &m.headers {
        let got = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())?;
        let ok = if *regex {
            regex::Regex::new(&format!("^(?:{value})$")).is_ok_and(|re| re.is_match(got))
        } else {
            got == value
        };
        if !ok {
            return None;
        }
    }
    Some((rank, len, m.method.is_some(), m.headers.len()))
}

/// The rule a request meets among a port's rules, and what the waypoint does with it.
pub fn decide(
    rules: &[HttpRule],
    method: &str,
    path: &str,
    headers: &[(String, String)],
) -> HttpDecision {
    let mut best: Option<(Fit, &HttpRule)> = None;
    for rule in rules {
        for m in &rule.matches {
            if let Some(score) = fit(m, method, path, headers)
                && best.as_ref().is_none_or(|(s, _)| score > *s)
            {
                best = Some((score, rule));
            }
        }
    }
    match best {
        None => HttpDecision::Default,
        Some((_, rule)) if rule.targets.iter().all(|(_, w)| *w == 0) => HttpDecision::NoBackend {
            route: rule.route.clone(),
        },
        Some((_, rule)) => HttpDecision::Weighted {
            targets: rule.targets.clone(),
            route: rule.route.clone(),
        },
    }
}

/// The rules of the HTTPRoutes attached to one Gateway, each with its route's hostnames.
pub type EdgeRules = Vec<(Vec<String>, HttpRule)>;

/// Whether a listener of `gateway` lets routes from `ns` attach: its `allowedRoutes`
/// (Same by default, or All).
fn allows(gateway: &Value, ns: &str) -> bool {
    gateway
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(
            |l| match str_at(l, "/allowedRoutes/namespaces/from").unwrap_or("Same") {
                "All" => true,
                "Same" => namespace_of(gateway) == ns,
                _ => false,
            },
        )
}

/// The HTTPRoutes attached to each Gateway (namespace, name), oldest route first.
pub fn compile_edge(store: &Store, gateways: &[&Value]) -> HashMap<(String, String), EdgeRules> {
    let mut out: HashMap<(String, String), EdgeRules> = HashMap::new();
    for route in oldest_routes(store) {
        let ns = namespace_of(route);
        let hostnames: Vec<String> = route
            .pointer("/spec/hostnames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(String::from))
            .collect();
        for (gw_ns, gw_name) in attach::gateway_parents(route, ns) {
            let Some(gateway) = gateways
                .iter()
                .find(|g| namespace_of(g) == gw_ns && name_of(g) == gw_name)
            else {
                continue;
            };
            if !allows(gateway, ns) {
                continue;
            }
            let rules = rules_of(store, route)
                .into_iter()
                .map(|r| (hostnames.clone(), r));
            out.entry((gw_ns.to_string(), gw_name.to_string()))
                .or_default()
                .extend(rules);
        }
    }
    out
}

/// Whether a route's hostname (`*.example.com` a wildcard) covers a request's host.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|label| label.ends_with('.') && label.len() > 1),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// What a Gateway does with one request: the routes whose hostnames cover its `Host`,
/// then the best match among their rules; none is a 404.
pub fn decide_edge(
    rules: &EdgeRules,
    method: &str,
    path: &str,
    headers: &[(String, String)],
) -> HttpDecision {
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.rsplit_once(':').map_or(v.as_str(), |(h, _)| h))
        .unwrap_or_default();
    let covering: Vec<HttpRule> = rules
        .iter()
        .filter(|(names, _)| names.is_empty() || names.iter().any(|n| host_matches(n, host)))
        .map(|(_, rule)| rule.clone())
        .collect();
    match decide(&covering, method, path, headers) {
        HttpDecision::Default => HttpDecision::NotFound,
        other => other,
    }
}
