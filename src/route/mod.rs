//! A weighted Gateway API route as splitscope reasons about it: its kind (TCPRoute,
//! HTTPRoute, GRPCRoute, TLSRoute, in every served version), its parent (a Service in the
//! mesh, or a Gateway at the edge), and the weighted backends of the one rule the probe's
//! requests meet.

use serde_json::Value;

use crate::json::str_at;

mod kind;
mod rule;

mod error;

pub use error::RouteError;
pub use kind::{BadRouteRef, ParentKind, RouteKind, RouteRef};
pub use rule::RulePick;
use rule::{choose_rule, headers_of, path_for};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Backend {
    pub name: String,
    pub namespace: String,
    pub port: u16,
    /// Absent in the object means 1; 0 means no traffic.
    pub weight: u32,
    /// Why the route may not send traffic there (a backend in another namespace that no
    /// ReferenceGrant permits): an implementation drops it. None: permitted.
    pub refused: Option<String>,
}

impl Backend {
    /// The weight a correct implementation applies: 0 for a backend it must drop.
    pub fn weight_in_effect(&self) -> u32 {
        if self.refused.is_some() {
            0
        } else {
            self.weight
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub kind: RouteKind,
    pub name: String,
    pub namespace: String,
    pub parent_kind: ParentKind,
    /// The parent's name: a Service, or a Gateway.
    pub parent: String,
    /// The parent's namespace (a Gateway may live in another).
    pub parent_namespace: String,
    /// The parent port, when the route names one.
    pub parent_port: Option<u16>,
    /// The parent Gateway's listener, when the route names one (`sectionName`).
    pub section: Option<String>,
    /// The route's hostnames (HTTP and TLS): the first is sent as `Host` or SNI.
    pub hostnames: Vec<String>,
    /// The rule the split is read from (0-based), of `rules`.
    pub rule: usize,
    pub rules: usize,
    /// A path the rule's matches accept (HTTP): where the probe sends its requests.
    pub path: Option<String>,
    /// Headers the rule's first match asks for exactly, which the probe sends.
    pub headers: Vec<(String, String)>,
    pub backends: Vec<Backend>,
}

fn is_core_service(r: &Value) -> bool {
    matches!(str_at(r, "/group").unwrap_or(""), "" | "core")
        && str_at(r, "/kind").unwrap_or("Service") == "Service"
}

/// A parentRef's kind: Service only when said (its kind defaults to Gateway).
fn parent_kind(p: &Value) -> Option<ParentKind> {
    let group = str_at(p, "/group").unwrap_or("gateway.networking.k8s.io");
    match (group, str_at(p, "/kind").unwrap_or("Gateway")) {
        ("" | "core", "Service") => Some(ParentKind::Service),
        ("gateway.networking.k8s.io", "Gateway") => Some(ParentKind::Gateway),
        _ => None,
    }
}

fn port_of(v: &Value) -> Option<u16> {
    v.get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
}

/// The weighted Service backends of one rule.
fn read_backends(
    kind: RouteKind,
    name: &str,
    namespace: &str,
    rule: &Value,
    index: usize,
) -> Result<Vec<Backend>, RouteError> {
    let refs = rule
        .get("backendRefs")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| RouteError::NoBackends {
            kind,
            name: name.to_string(),
        })?;
    let mut backends = Vec::new();
    for (i, b) in refs.iter().enumerate() {
        let bad = |why: &str| RouteError::BadBackend {
            kind,
            name: name.to_string(),
            rule: index + 1,
            index: i,
            why: why.to_string(),
        };
        if !is_core_service(b) {
            return Err(bad("only Service backends are supported"));
        }
        let backend_name = str_at(b, "/name").ok_or_else(|| bad("it has no name"))?;
        let port = port_of(b).ok_or_else(|| bad("it needs a port from 1 to 65535"))?;
        let weight = match b.get("weight") {
            None | Some(Value::Null) => 1,
            Some(w) => w
                .as_i64()
                .and_then(|w| u32::try_from(w).ok())
                .ok_or_else(|| bad("its weight must be a whole number, 0 or more"))?,
        };
        backends.push(Backend {
            name: backend_name.to_string(),
            namespace: str_at(b, "/namespace").unwrap_or(namespace).to_string(),
            port,
            weight,
            refused: None,
        });
    }
    if backends.iter().all(|b| b.weight == 0) {
        return Err(RouteError::AllZero {
            kind,
            name: name.to_string(),
            rule: index + 1,
        });
    }
    Ok(backends)
}

impl Route {
    /// Reads a route object of any kind and served version, its first weighted rule.
    pub fn from_object(obj: &Value) -> Result<Route, RouteError> {
        Route::read(obj, &RulePick::default())
    }

    /// Reads a route object, the rule `pick` asks for.
    pub fn read(obj: &Value, pick: &RulePick) -> Result<Route, RouteError> {
        let kind = str_at(obj, "/kind")
            .and_then(RouteKind::parse)
            .unwrap_or_default();
        let name = str_at(obj, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let namespace = str_at(obj, "/metadata/namespace")
            .unwrap_or("default")
            .to_string();
        let parents: Vec<(&Value, ParentKind)> = obj
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p, parent_kind(p)?)))
            .collect();
        // A Service parent first: the mesh's route, what the probe reaches from inside.
        let (parent, parent_kind) = parents
            .iter()
            .find(|(_, k)| *k == ParentKind::Service)
            .or_else(|| parents.first())
            .copied()
            .ok_or_else(|| RouteError::NoParent {
                kind,
                name: name.clone(),
            })?;
        let rules: Vec<&Value> = obj
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        let (index, chosen_match) = choose_rule(kind, &name, &rules, pick)?;
        let backends = read_backends(kind, &name, &namespace, rules[index], index)?;
        let path = match (&pick.path, kind) {
            (Some(path), RouteKind::Http | RouteKind::Grpc) => Some(path.clone()),
            _ => chosen_match.as_ref().and_then(|m| path_for(kind, m)),
        };
        Ok(Route {
            kind,
            parent_kind,
            parent: str_at(parent, "/name").unwrap_or_default().to_string(),
            parent_namespace: str_at(parent, "/namespace")
                .unwrap_or(&namespace)
                .to_string(),
            parent_port: port_of(parent),
            section: str_at(parent, "/sectionName").map(String::from),
            hostnames: obj
                .pointer("/spec/hostnames")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str().map(String::from))
                .collect(),
            rule: index,
            rules: rules.len(),
            path,
            headers: chosen_match.as_ref().map(headers_of).unwrap_or_default(),
            name,
            namespace,
            backends,
        })
    }

    /// `HTTPRoute helloworld` (and the rule, where there are several).
    pub fn title(&self) -> String {
        if self.rules > 1 {
            format!(
                "{} {} rule {} of {}",
                self.kind,
                self.name,
                self.rule + 1,
                self.rules
            )
        } else {
            format!("{} {}", self.kind, self.name)
        }
    }

    /// Whether `other` is this route with other weights at most: the same kind, name,
    /// rule and backends, in order.
    pub(crate) fn same_backends(&self, other: &Route) -> bool {
        self.kind == other.kind
            && self.name == other.name
            && self.rule == other.rule
            && self.backends.len() == other.backends.len()
            && self
                .backends
                .iter()
                .zip(&other.backends)
                .all(|(x, y)| x.name == y.name && x.namespace == y.namespace && x.port == y.port)
    }

    pub(crate) fn total_weight(&self) -> u64 {
        self.backends
            .iter()
            .map(|b| u64::from(b.weight_in_effect()))
            .sum()
    }

    /// The weights a correct implementation applies, in the route's order.
    pub fn weights_in_effect(&self) -> Vec<u32> {
        self.backends
            .iter()
            .map(Backend::weight_in_effect)
            .collect()
    }

    /// A backend's configured share of connections, 0 to 1.
    pub fn share(&self, backend: &Backend) -> f64 {
        let total = self.total_weight();
        if total == 0 {
            0.0
        } else {
            f64::from(backend.weight_in_effect()) / total as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn route(version: &str, backends: Value) -> Value {
        json!({
            "apiVersion": format!("gateway.networking.k8s.io/{version}"),
            "kind": "TCPRoute",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "tcp-echo", "port": 9000}],
                     "rules": [{"backendRefs": backends}]},
        })
    }

    fn http(rules: Value) -> Value {
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"parentRefs": [{"name": "gw", "namespace": "edge"}],
                     "hostnames": ["web.example.com"], "rules": rules},
        })
    }

    fn backends(a: u32, b: u32) -> Value {
        json!([{"name": "a", "port": 80, "weight": a}, {"name": "b", "port": 80, "weight": b}])
    }

    #[test]
    fn reads_both_versions_and_defaults_weight_to_one() {
        for version in ["v1alpha2", "v1"] {
            let r = Route::from_object(&route(
                version,
                json!([
                    {"name": "a", "port": 9000, "weight": 90}, {"name": "b", "port": 9000}
                ]),
            ))
            .unwrap();
            assert_eq!(r.kind, RouteKind::Tcp);
            assert_eq!(r.parent_kind, ParentKind::Service);
            assert_eq!(r.parent, "tcp-echo");
            assert_eq!(r.parent_port, Some(9000));
            assert_eq!(r.backends[0].weight, 90);
            assert_eq!(r.backends[1].weight, 1);
            assert_eq!(r.path, None);
            assert!((r.share(&r.backends[0]) - 90.0 / 91.0).abs() < 1e-9);
        }
    }

    #[test]
    fn refuses_routes_it_cannot_judge() {
        let zero = route("v1", json!([{"name": "a", "port": 9000, "weight": 0}]));
        assert!(matches!(
            Route::from_object(&zero),
            Err(RouteError::AllZero { .. })
        ));
        let negative = route("v1", json!([{"name": "a", "port": 9000, "weight": -5}]));
        assert!(matches!(
            Route::from_object(&negative),
            Err(RouteError::BadBackend { .. })
        ));
        let mut other_parent = route("v1", json!([{"name": "a", "port": 9000}]));
        other_parent["spec"]["parentRefs"] =
            json!([{"group": "example.com", "kind": "Mesh", "name": "m"}]);
        assert!(matches!(
            Route::from_object(&other_parent),
            Err(RouteError::NoParent { .. })
        ));
    }

    #[test]
    fn a_gateway_parent_is_the_default_kind_of_parent_ref() {
        let r = Route::from_object(&http(json!([{"backendRefs": backends(90, 10)}]))).unwrap();
        assert_eq!(r.kind, RouteKind::Http);
        assert_eq!(r.parent_kind, ParentKind::Gateway);
        assert_eq!(
            (r.parent.as_str(), r.parent_namespace.as_str()),
            ("gw", "edge")
        );
        assert_eq!(r.hostnames, ["web.example.com"]);
        // No matches: the default PathPrefix / accepts every request.
        assert_eq!(r.path.as_deref(), Some("/"));
        assert_eq!(r.title(), "HTTPRoute web");
    }

    #[test]
    fn the_rule_is_the_one_the_probes_path_meets() {
        let obj = http(json!([
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": backends(1, 0)},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": backends(70, 30)},
            {"matches": [{"path": {"type": "Exact", "value": "/api/v2"}},
                         {"path": {"type": "RegularExpression", "value": "/re/[0-9]+"}}],
             "backendRefs": backends(50, 50)},
        ]));
        let rule_for = |path: &str| {
            Route::read(
                &obj,
                &RulePick {
                    rule: None,
                    path: Some(path.into()),
                },
            )
            .map(|r| r.rule)
        };
        assert_eq!(rule_for("/"), Ok(0));
        assert_eq!(
            rule_for("/apix"),
            Ok(0),
            "a prefix matches whole path elements"
        );
        assert_eq!(rule_for("/api/v1"), Ok(1));
        assert_eq!(
            rule_for("/api/v2"),
            Ok(2),
            "Exact comes before the longest prefix"
        );
        assert_eq!(
            rule_for("/re/12"),
            Ok(0),
            "a prefix comes before a regular expression"
        );
        let first = Route::from_object(&obj).unwrap();
        assert_eq!((first.rule, first.rules), (0, 3));
        assert_eq!(first.title(), "HTTPRoute web rule 1 of 3");
        let third = Route::read(
            &obj,
            &RulePick {
                rule: Some(3),
                path: None,
            },
        )
        .unwrap();
        assert_eq!(third.path.as_deref(), Some("/api/v2"));
        assert_eq!(third.backends[0].weight, 50);
        assert!(matches!(
            Route::read(
                &obj,
                &RulePick {
                    rule: Some(4),
                    path: None
                }
            ),
            Err(RouteError::NoSuchRule { rules: 3, .. })
        ));
        let only_exact = http(json!([
            {"matches": [{"path": {"type": "Exact", "value": "/hello"},
                          "headers": [{"name": "x-canary", "value": "yes"}]}],
             "backendRefs": backends(90, 10)},
        ]));
        let r = Route::from_object(&only_exact).unwrap();
        assert_eq!(r.path.as_deref(), Some("/hello"));
        assert_eq!(r.headers, [("x-canary".to_string(), "yes".to_string())]);
        assert!(matches!(
            Route::read(
                &only_exact,
                &RulePick {
                    rule: None,
                    path: Some("/bye".into())
                }
            ),
            Err(RouteError::NoRuleForPath { .. })
        ));
    }

    #[test]
    fn a_match_the_probe_cannot_meet_is_passed_over() {
        let by_method = http(json!([
            {"matches": [{"path": {"type": "Exact", "value": "/api"}, "method": "POST"}], "backendRefs": backends(50, 50)},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": backends(90, 10)},
        ]));
        let pick = RulePick {
            rule: None,
            path: Some("/api".into()),
        };
        assert_eq!(
            Route::read(&by_method, &pick).map(|r| r.rule),
            Ok(1),
            "a GET never meets a POST match, however exact"
        );
    }

    #[test]
    fn the_first_rule_with_weight_is_read_by_default() {
        let obj = http(json!([
            {"backendRefs": backends(0, 0)},
            {"backendRefs": backends(3, 1)},
        ]));
        assert_eq!(Route::from_object(&obj).unwrap().rule, 1);
    }
}
