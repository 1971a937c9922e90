//! Gateways of class `istio-waypoint` get a waypoint Deployment and a Programmed status.

use serde_json::{Value, json};

use super::istiod::serving;
use super::owners::owner_ref;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{DEPLOYMENTS, GATEWAYS};
use crate::sandbox::storage::meta::{name_of, namespace_of, now_rfc3339};

pub use crate::istio::waypoint::{GATEWAY_NAME_LABEL, WAYPOINT_CLASS};

pub(super) fn waypoints(store: &mut Store) {
    let gateways: Vec<Value> = store
        .all(&GATEWAYS)
        .filter(|g| {
            g.pointer("/spec/gatewayClassName").and_then(Value::as_str) == Some(WAYPOINT_CLASS)
        })
        .cloned()
        .collect();
    let deployments = &DEPLOYMENTS;
    for gw in gateways {
        let ns = namespace_of(&gw);
        let name = name_of(&gw).to_string();
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
            let labels = json!({GATEWAY_NAME_LABEL: name, "istio.io/gateway-name": name});
            let deploy = json!({
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                              "ownerReferences": owner_ref(&gw, "Gateway", "gateway.networking.k8s.io/v1")},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {GATEWAY_NAME_LABEL: name}},
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
        if gw.pointer("/status/conditions").is_none() {
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
