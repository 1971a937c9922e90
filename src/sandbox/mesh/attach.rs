//! How istiod reads a mesh route's attachment, whatever its kind: oldest route first,
//! its Service parents in its own namespace (a GAMMA route attaches to no Service
//! elsewhere), and the Service ports its backendRefs name with their weights.

use serde_json::Value;

use super::port::ServicePort;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::REFERENCEGRANTS;
use crate::sandbox::storage::meta::{name_of, namespace_of, str_at};

/// Routes oldest first: the oldest wins a conflict, as Gateway API asks.
pub(super) fn oldest_first(routes: &mut [&Value]) {
    routes.sort_by_key(|r| {
        (
            str_at(r, "/metadata/creationTimestamp")
                .unwrap_or_default()
                .to_string(),
            name_of(r).to_string(),
        )
    });
}

/// The Service parents of a route in namespace `ns`: each name and port, if given.
pub(super) fn service_parents<'a>(
    route: &'a Value,
    ns: &'a str,
) -> impl Iterator<Item = (&'a str, Option<u64>)> + 'a {
    route
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |p| {
            matches!(str_at(p, "/group").unwrap_or(""), "" | "core")
                && str_at(p, "/kind") == Some("Service")
                && str_at(p, "/namespace").is_none_or(|n| n == ns)
        })
        .filter_map(|p| Some((str_at(p, "/name")?, p.get("port").and_then(Value::as_u64))))
}

/// Whether a parent's port (or none) names a Service port.
pub(super) fn port_matches(port: Option<u64>, sp: &ServicePort) -> bool {
    port.is_none_or(|p| p == u64::from(sp.port))
}

/// Whether a ReferenceGrant in the backend's namespace lets a route of `kind` in `ns`
/// reach it; a backend in the route's own namespace needs none.
fn permitted(store: &Store, kind: &str, ns: &str, backend: &ServicePort) -> bool {
    backend.namespace == ns
        || store
            .all(&REFERENCEGRANTS)
            .filter(|g| namespace_of(g) == backend.namespace)
            .any(|g| {
                let list = |p: &str| {
                    g.pointer(p)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                };
                list("/spec/from").iter().any(|f| {
                    str_at(f, "/group") == Some("gateway.networking.k8s.io")
                        && str_at(f, "/kind") == Some(kind)
                        && str_at(f, "/namespace") == Some(ns)
                }) && list("/spec/to").iter().any(|t| {
                    matches!(str_at(t, "/group"), Some("" | "core"))
                        && str_at(t, "/kind") == Some("Service")
                        && str_at(t, "/name").is_none_or(|n| n == backend.service)
                })
            })
}

/// A rule's Service backends and their weights (absent is 1). A backend in another
/// namespace that no ReferenceGrant permits is dropped: it gets weight 0.
pub(super) fn targets(
    store: &Store,
    kind: &str,
    rule: &Value,
    ns: &str,
) -> Vec<(ServicePort, u32)> {
    rule.get("backendRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|b| {
            matches!(str_at(b, "/group").unwrap_or(""), "" | "core")
                && str_at(b, "/kind").unwrap_or("Service") == "Service"
        })
        .filter_map(|b| {
            let sp = ServicePort {
                namespace: str_at(b, "/namespace").unwrap_or(ns).to_string(),
                service: str_at(b, "/name")?.to_string(),
                port: u16::try_from(b.get("port")?.as_u64()?).ok()?,
            };
            let weight =
                u32::try_from(b.get("weight").and_then(Value::as_u64).unwrap_or(1)).ok()?;
            let weight = if permitted(store, kind, ns, &sp) {
                weight
            } else {
                0
            };
            Some((sp, weight))
        })
        .collect()
}

/// The Gateway parents of a route: each namespace (the route's unless given) and name.
pub(super) fn gateway_parents<'a>(
    route: &'a Value,
    ns: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    route
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| {
            str_at(p, "/group").unwrap_or("gateway.networking.k8s.io")
                == "gateway.networking.k8s.io"
                && str_at(p, "/kind").unwrap_or("Gateway") == "Gateway"
        })
        .filter_map(move |p| Some((str_at(p, "/namespace").unwrap_or(ns), str_at(p, "/name")?)))
}
