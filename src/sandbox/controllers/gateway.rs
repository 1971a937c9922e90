//! Gateways of a waypoint class get a waypoint Deployment when an istiod serves them, and
//! an address and a Programmed status once its pod runs.

use serde_json::{Value, json};

use super::istiod::serving;
use super::owners::owner_ref;
use crate::istio::waypoint::MESH_CONTROLLER;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{DEPLOYMENTS, GATEWAYCLASSES, GATEWAYS, PODS};
use crate::sandbox::storage::meta::{is_running, name_of, namespace_of, now_rfc3339, str_at};

pub use crate::istio::waypoint::{GATEWAY_NAME_LABEL, WAYPOINT_CLASS};

/// Whether istiod deploys `gateway` as a waypoint: its class's controller is the mesh
/// controller; `istio-waypoint` is built in where no class of that name exists.
fn is_waypoint_class(store: &Store, gateway: &Value) -> bool {
    let class = str_at(gateway, "/spec/gatewayClassName").unwrap_or_default();
    match store.all(&GATEWAYCLASSES).find(|c| name_of(c) == class) {
        Some(c) => str_at(c, "/spec/controllerName") == Some(MESH_CONTROLLER),
        None => class == WAYPOINT_CLASS,
    }
}

pub(super) fn waypoints(store: &mut Store) {
    let gateways: Vec<Value> = store
        .all(&GATEWAYS)
        .filter(|g| is_waypoint_class(store, g))
        .cloned()
        .collect();
    let deployments = &DEPLOYMENTS;
    for gw in gateways {
        let ns = namespace_of(&gw);
        let gateway_name = name_of(&gw).to_string();
        // istiod names the Deployment after the Gateway unless its annotation renames it.
        let name = str_at(&gw, "/metadata/annotations/gateway.istio.io~1name-override")
            .filter(|n| !n.is_empty())
            .map_or_else(|| gateway_name.clone(), String::from);
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
                            "args": ["proxy", "waypoint"],
                            "env": [{"name": "CA_ADDR",
                                     "value": format!("{}.{}.svc:15012", istiod.name, istiod.namespace)}],
                            "ports": [{"containerPort": 15008, "name": "mesh", "protocol": "TCP"}],
                        }]},
                    },
                },
            });
            store.put_internal(deployments, deploy);
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
