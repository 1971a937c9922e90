//! A Service port's endpoints: the Running pods its selector matches, and the container
//! port each one is reached on.

use serde_json::Value;

use super::waypoint::ServicePort;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{PODS, SERVICES};
use crate::sandbox::storage::meta::{is_running, labels_of, namespace_of, uid_of};
use crate::sandbox::storage::selector::LabelSelector;

/// One ready endpoint: the pod (by uid) and the container port the Service targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub pod_uid: String,
    pub port: u16,
}

/// The ready endpoints of a Service port, in the store's order.
pub fn endpoints(store: &Store, target: &ServicePort) -> Vec<Endpoint> {
    let Ok(svc) = store.get(&SERVICES, "v1", &target.namespace, &target.service) else {
        return vec![];
    };
    let Some(selector) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
        return vec![];
    };
    let selector = LabelSelector::from_map(selector);
    let Some(port) = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .and_then(|ps| {
            ps.iter()
                .find(|p| p.get("port").and_then(Value::as_u64) == Some(u64::from(target.port)))
        })
    else {
        return vec![];
    };
    store
        .all(&PODS)
        .filter(|p| namespace_of(p) == target.namespace && is_running(p))
        .filter(|p| selector.matches(labels_of(p)))
        .filter_map(|p| {
            Some(Endpoint {
                pod_uid: uid_of(p)?.to_string(),
                port: target_port(port, p)?,
            })
        })
        .collect()
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
