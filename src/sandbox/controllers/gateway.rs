//! Gateways of a waypoint class get a waypoint Deployment when an istiod serves them, and
//! an address and a Programmed status once its pod runs. Gateways of Istio's own class
//! (`istio`, controller `istio.io/gateway-controller`) get a router Deployment and a
//! Service named `<gateway>-<class>` with a port per listener, as istiod's deployment
//! controller makes them.

use serde_json::{Value, json};

use super::istiod::serving;
use super::owners::owner_ref;
use crate::istio::waypoint::MESH_CONTROLLER;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{DEPLOYMENTS, GATEWAYCLASSES, GATEWAYS, PODS, SERVICES};
use crate::sandbox::storage::meta::{is_running, name_of, namespace_of, now_rfc3339, str_at};

pub use crate::istio::waypoint::{GATEWAY_NAME_LABEL, WAYPOINT_CLASS};

/// Istio's controller of gateways at the edge.
pub const GATEWAY_CONTROLLER: &str = "istio.io/gateway-controller";

/// What istiod deploys for a Gateway: a waypoint (its class's controller is the mesh
/// controller; `istio-waypoint` is built in where no class of that name exists), a
/// router at the edge (Istio's gateway controller; `istio` is built in), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deploys {
    Waypoint,
    Router,
}

pub fn deploys(store: &Store, gateway: &Value) -> Option<Deploys> {
    let class = str_at(gateway, "/spec/gatewayClassName").unwrap_or_default();
    let controller = match store.all(&GATEWAYCLASSES).find(|c| name_of(c) == class) {
        Some(c) => str_at(c, "/spec/controllerName").unwrap_or_default(),
        None if class == WAYPOINT_CLASS => MESH_CONTROLLER,
        None if class == "istio" => GATEWAY_CONTROLLER,
        None => "",
    };
    match controller {
        MESH_CONTROLLER => Some(Deploys::Waypoint),
        GATEWAY_CONTROLLER => Some(Deploys::Router),
        _ => None,
    }
}

/// A router's Service: a port per listener, selecting the router's pods.
fn router_service(gw: &Value, name: &str, gateway_name: &str) -> Value {
    let ports: Vec<Value> = gw
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let port = l.get("port")?.as_u64()?;
            let protocol = str_at(l, "/protocol").unwrap_or("TCP").to_ascii_lowercase();
            Some(
                json!({"name": format!("{protocol}-{port}"), "port": port, "protocol": "TCP",
                        "appProtocol": if protocol == "http" { "http" } else { "tcp" }}),
            )
        })
        .collect();
    json!({
        "metadata": {"name": name, "namespace": namespace_of(gw),
                     "labels": {GATEWAY_NAME_LABEL: gateway_name},
                     "ownerReferences": owner_ref(gw, "Gateway", "gateway.networking.k8s.io/v1")},
        "spec": {"type": "LoadBalancer", "ports": ports,
                 "selector": {GATEWAY_NAME_LABEL: gateway_name}},
    })
}

pub(super) fn waypoints(store: &mut Store) {
    let gateways: Vec<(Value, Deploys)> = store
        .all(&GATEWAYS)
        .filter_map(|g| Some((g.clone(), deploys(store, g)?)))
        .collect();
    let deployments = &DEPLOYMENTS;
    for (gw, kind) in gateways {
        let ns = namespace_of(&gw);
        let gateway_name = name_of(&gw).to_string();
        // istiod names the Deployment after the Gateway (and its class, at the edge)
        // unless its annotation renames it.
        let class = str_at(&gw, "/spec/gatewayClassName").unwrap_or_default();
        let default = match kind {
            Deploys::Waypoint => gateway_name.clone(),
            Deploys::Router => format!("{gateway_name}-{class}"),
        };
        let name = str_at(&gw, "/metadata/annotations/gateway.istio.io~1name-override")
            .filter(|n| !n.is_empty())
            .map_or(default, String::from);
        // Nothing serves it (only revisioned istiods, no default tag): istiod never
        // deploys it, and it gets no address.
        let Some(istiod) = serving(store, &gw) else {
            continue;
        };
        if !store.exists(deployments, ns, &name) {
            // The proxy runs the version of the control plane that serves it, and its pod
            // carries the revision that istiod resolved, as istiod's template writes it.
            let version = istiod.version().unwrap_or_else(|_| "1.24.0".into());
            let revision = istiod.revision.clone().unwrap_or_else(|| "default".into());
            let labels =
                json!({GATEWAY_NAME_LABEL: gateway_name, "istio.io/gateway-name": gateway_name});
            let deploy = json!({
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                              "ownerReferences": owner_ref(&gw, "Gateway", "gateway.networking.k8s.io/v1")},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {GATEWAY_NAME_LABEL: gateway_name}},
                    "template": {
                        "metadata": {"labels": labels, "annotations": {"istio.io/rev": revision}},
                        "spec": {"containers": [{
                            "name": "istio-proxy",
                            "image": format!("docker.io/istio/proxyv2:{version}"),
                            "args": ["proxy", if kind == Deploys::Waypoint { "waypoint" } else { "router" }],
                            "env": [{"name": "CA_ADDR",
                                     "value": format!("{}.{}.svc:15012", istiod.name, istiod.namespace)}],
                            "ports": [{"containerPort": 15008, "name": "mesh", "protocol": "TCP"}],
                        }]},
                    },
                },
            });
            store.put_internal(deployments, deploy);
        }
        if kind == Deploys::Router && !store.exists(&SERVICES, ns, &name) {
            store.put_internal(&SERVICES, router_service(&gw, &name, &gateway_name));
        }
        // The address comes once the waypoint's pod runs; cleared later (through the
        // status subresource), it stays cleared, as istiod leaves a status it wrote.
        let runs = store.all(&PODS).any(|p| {
            namespace_of(p) == ns
                && is_running(p)
                && str_at(
                    p,
                    "/metadata/labels/gateway.networking.k8s.io~1gateway-name",
                ) == Some(gateway_name.as_str())
        });
        if runs && gw.pointer("/status/conditions").is_none() {
            let mut gw = gw.clone();
            let generation = gw
                .pointer("/metadata/generation")
                .cloned()
                .unwrap_or(json!(1));
            let now = now_rfc3339();
            gw["status"] = json!({
                "addresses": [{"type": "Hostname", "value": format!("{name}.{ns}.svc.cluster.local")}],
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted",
                     "observedGeneration": generation, "lastTransitionTime": now},
                    {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "Resource programmed, assigned to service(s)",
                     "observedGeneration": generation, "lastTransitionTime": now},
                ],
            });
            store.put_internal(&GATEWAYS, gw);
        }
    }
}
