//! Cluster DNS, as a pod sees it: Service names in their short and long forms, and
//! cluster IPs.

use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::SERVICES;
use crate::sandbox::storage::meta::{name_of, namespace_of, str_at};

/// A Service a host name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub namespace: String,
    pub service: String,
    pub cluster_ip: String,
}

/// Resolves a host as cluster DNS would from namespace `from`: `svc`, `svc.ns`,
/// `svc.ns.svc`, `svc.ns.svc.cluster.local`, or a Service's cluster IP.
pub fn resolve(store: &Store, from: &str, host: &str) -> Option<Resolved> {
    let host = host.trim_end_matches('.');
    let parts: Vec<&str> = host.split('.').collect();
    let candidate = match parts.as_slice() {
        [svc] => Some((from, *svc)),
        [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => Some((*ns, *svc)),
        _ => None,
    };
    if let Some((ns, name)) = candidate
        && let Ok(svc) = store.get(&SERVICES, "v1", ns, name)
    {
        return Some(Resolved {
            namespace: ns.to_string(),
            service: name.to_string(),
            cluster_ip: str_at(&svc, "/spec/clusterIP")
                .unwrap_or_default()
                .to_string(),
        });
    }
    store
        .all(&SERVICES)
        .find(|s| str_at(s, "/spec/clusterIP") == Some(host))
        .map(|s| Resolved {
            namespace: namespace_of(s).to_string(),
            service: name_of(s).to_string(),
            cluster_ip: host.to_string(),
        })
}

/// Whether the Service exposes `port`.
pub(crate) fn has_port(store: &Store, namespace: &str, service: &str, port: u16) -> bool {
    store
        .get(&SERVICES, "v1", namespace, service)
        .ok()
        .and_then(|s| s.pointer("/spec/ports")?.as_array().cloned())
        .is_some_and(|ports| {
            ports
                .iter()
                .any(|p| p.get("port").and_then(serde_json::Value::as_u64) == Some(u64::from(port)))
        })
}
