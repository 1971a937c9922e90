//! A Gateway API `TCPRoute` (served as `v1alpha2` or `v1`) as splitscope reasons about it:
//! the Service it attaches to and the weighted backends of its first rule.

use serde_json::Value;

use crate::json::str_at;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub namespace: String,
    pub port: u16,
    /// Absent in the object means 1; 0 means no traffic.
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    pub namespace: String,
    /// The parent Service's name.
    pub parent: String,
    /// The parent port, when the route names one.
    pub parent_port: Option<u16>,
    pub backends: Vec<Backend>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error(
        "TCPRoute {0} has no parentRef of kind Service: splitscope watches in-mesh (east/west) routes, whose parent is a Service"
    )]
    NoServiceParent(String),
    #[error("TCPRoute {0} has no rules with backendRefs")]
    NoBackends(String),
    #[error("TCPRoute {route}: backendRef {index} is invalid: {why}")]
    BadBackend {
        route: String,
        index: usize,
        why: String,
    },
    #[error("TCPRoute {0}: every backend has weight 0, so no traffic may flow")]
    AllZero(String),
}

fn is_core_service(r: &Value) -> bool {
    matches!(str_at(r, "/group").unwrap_or(""), "" | "core")
        && str_at(r, "/kind").unwrap_or("Service") == "Service"
}

impl Route {
    /// Reads a TCPRoute object of either served version.
    pub fn from_object(obj: &Value) -> Result<Route, RouteError> {
        let name = str_at(obj, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let namespace = str_at(obj, "/metadata/namespace")
            .unwrap_or("default")
            .to_string();
        let parent = obj
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            // A parentRef without a kind defaults to Gateway, so Service must be explicit.
            .find(|p| str_at(p, "/kind") == Some("Service") && is_core_service(p))
            .ok_or_else(|| RouteError::NoServiceParent(name.clone()))?;
        let refs = obj
            .pointer("/spec/rules/0/backendRefs")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| RouteError::NoBackends(name.clone()))?;
        let mut backends = Vec::new();
        for (index, b) in refs.iter().enumerate() {
            let bad = |why: &str| RouteError::BadBackend {
                route: name.clone(),
                index,
                why: why.to_string(),
            };
            if !is_core_service(b) {
                return Err(bad("only Service backends are supported"));
            }
            let backend_name = str_at(b, "/name").ok_or_else(|| bad("it has no name"))?;
            let port = b
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("it needs a port from 1 to 65535"))?;
            let weight = match b.get("weight") {
                None | Some(Value::Null) => 1,
                Some(w) => w
                    .as_i64()
                    .and_then(|w| u32::try_from(w).ok())
                    .ok_or_else(|| bad("its weight must be a whole number, 0 or more"))?,
            };
            backends.push(Backend {
                name: backend_name.to_string(),
                namespace: str_at(b, "/namespace").unwrap_or(&namespace).to_string(),
                port,
                weight,
            });
        }
        if backends.iter().all(|b| b.weight == 0) {
            return Err(RouteError::AllZero(name));
        }
        Ok(Route {
            parent: str_at(parent, "/name").unwrap_or_default().to_string(),
            parent_port: parent
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok()),
            name,
            namespace,
            backends,
        })
    }

    /// Whether `other` is this route with other weights at most: the same name and the
    /// same backends, in order.
    pub(crate) fn same_backends(&self, other: &Route) -> bool {
        self.name == other.name
            && self.backends.len() == other.backends.len()
            && self
                .backends
                .iter()
                .zip(&other.backends)
                .all(|(x, y)| x.name == y.name && x.namespace == y.namespace && x.port == y.port)
    }

    pub(crate) fn total_weight(&self) -> u64 {
        self.backends.iter().map(|b| b.weight as u64).sum()
    }

    /// A backend's configured share of connections, 0 to 1.
    pub fn share(&self, backend: &Backend) -> f64 {
        let total = self.total_weight();
        if total == 0 {
            0.0
        } else {
            backend.weight as f64 / total as f64
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
            assert_eq!(r.parent, "tcp-echo");
            assert_eq!(r.parent_port, Some(9000));
            assert_eq!(r.backends[0].weight, 90);
            assert_eq!(r.backends[1].weight, 1);
            assert!((r.share(&r.backends[0]) - 90.0 / 91.0).abs() < 1e-9);
        }
    }

    #[test]
    fn refuses_routes_it_cannot_judge() {
        let zero = route("v1", json!([{"name": "a", "port": 9000, "weight": 0}]));
        assert!(matches!(
            Route::from_object(&zero),
            Err(RouteError::AllZero(_))
        ));
        let negative = route("v1", json!([{"name": "a", "port": 9000, "weight": -5}]));
        assert!(matches!(
            Route::from_object(&negative),
            Err(RouteError::BadBackend { .. })
        ));
        let mut gateway_parent = route("v1", json!([{"name": "a", "port": 9000}]));
        gateway_parent["spec"]["parentRefs"] = json!([{"name": "gw"}]);
        assert!(matches!(
            Route::from_object(&gateway_parent),
            Err(RouteError::NoServiceParent(_))
        ));
    }
}
