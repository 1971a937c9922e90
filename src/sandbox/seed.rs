//! The objects the sandbox starts with: the tcp-echo task of Istio's docs in an ambient
//! namespace with a waypoint and a weighted TCPRoute, as after step 9 of the bug report.

use serde_json::{Value, json};

use super::storage::catalogue::{
    DEPLOYMENTS, GATEWAYS, NAMESPACES, SERVICEACCOUNTS, SERVICES, TCPROUTES,
};
use super::storage::{Resource, Store};

pub const NAMESPACE: &str = "istio-io-tcp-traffic-shifting";
pub const ROUTE: &str = "tcp-echo-ew";

fn echo_deployment(version: &str, prefix: &str) -> Value {
    let labels = json!({"app": "tcp-echo", "version": version});
    json!({
        "metadata": {"name": format!("tcp-echo-{version}"), "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "tcp-echo",
                    "image": "docker.io/istio/tcp-echo-server:1.3",
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["9000,9001,9002", prefix],
                    "ports": [{"containerPort": 9000}, {"containerPort": 9001}],
                }]},
            },
        },
    })
}

fn echo_service(name: &str, selector: Value, ports: Value) -> Value {
    json!({"metadata": {"name": name, "labels": {"app": "tcp-echo", "service": name}},
           "spec": {"ports": ports, "selector": selector}})
}

/// Fills an empty store. `weights` are the route's weights for v1 and v2.
pub fn seed(store: &mut Store, istio: &str, weights: (u32, u32)) -> Result<(), String> {
    let mut put = |res: &Resource, ns: &str, obj: Value| -> Result<(), String> {
        store
            .create(res, res.versions[0], ns, obj)
            .map(|_| ())
            .map_err(|e| format!("seeding {}: {}", res.plural, e.message))
    };
    for ns in ["default", "kube-system", "istio-system"] {
        put(
            &NAMESPACES,
            "",
            json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}),
        )?;
    }
    put(
        &NAMESPACES,
        "",
        json!({"metadata": {"name": NAMESPACE, "labels": {
            "kubernetes.io/metadata.name": NAMESPACE,
            "istio.io/dataplane-mode": "ambient",
            "istio.io/use-waypoint": "waypoint",
        }}}),
    )?;
    let istiod_labels = json!({"app": "istiod", "istio": "pilot"});
    put(
        &DEPLOYMENTS,
        "istio-system",
        json!({
            "metadata": {"name": "istiod", "labels": istiod_labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": istiod_labels}, "template": {
                "metadata": {"labels": istiod_labels},
                "spec": {"containers": [{"name": "discovery", "image": format!("docker.io/istio/pilot:{istio}"),
                                         "args": ["discovery", "--monitoringAddr=:15014"]}]},
            }},
        }),
    )?;

    put(
        &SERVICEACCOUNTS,
        NAMESPACE,
        json!({"metadata": {"name": "curl"}}),
    )?;
    put(
        &SERVICES,
        NAMESPACE,
        json!({"metadata": {"name": "curl", "labels": {"app": "curl", "service": "curl"}},
        "spec": {"ports": [{"port": 80, "name": "http"}], "selector": {"app": "curl"}}}),
    )?;
    put(
        &DEPLOYMENTS,
        NAMESPACE,
        json!({
            "metadata": {"name": "curl"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "curl"}}, "template": {
                "metadata": {"labels": {"app": "curl"}},
                "spec": {"terminationGracePeriodSeconds": 0, "serviceAccountName": "curl", "containers": [{
                    "name": "curl", "image": "curlimages/curl", "command": ["/bin/sleep", "infinity"],
                    "imagePullPolicy": "IfNotPresent",
                }]},
            }},
        }),
    )?;
    put(
        &SERVICES,
        NAMESPACE,
        echo_service(
            "tcp-echo",
            json!({"app": "tcp-echo"}),
            json!([{"name": "tcp", "port": 9000}, {"name": "tcp-other", "port": 9001}]),
        ),
    )?;
    for v in ["v1", "v2"] {
        put(
            &SERVICES,
            NAMESPACE,
            echo_service(
                &format!("tcp-echo-{v}"),
                json!({"app": "tcp-echo", "version": v}),
                json!([{"name": "tcp", "port": 9000}]),
            ),
        )?;
    }
    put(&DEPLOYMENTS, NAMESPACE, echo_deployment("v1", "one"))?;
    put(&DEPLOYMENTS, NAMESPACE, echo_deployment("v2", "two"))?;
    put(
        &GATEWAYS,
        NAMESPACE,
        json!({
            "metadata": {"name": "waypoint", "labels": {"istio.io/waypoint-for": "service"}},
            "spec": {"gatewayClassName": "istio-waypoint",
                     "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
        }),
    )?;
    put(
        &TCPROUTES,
        NAMESPACE,
        json!({
            "metadata": {"name": ROUTE},
            "spec": {
                "parentRefs": [{"group": "", "kind": "Service", "name": "tcp-echo", "port": 9000}],
                "rules": [{"backendRefs": [
                    {"name": "tcp-echo-v1", "port": 9000, "weight": weights.0},
                    {"name": "tcp-echo-v2", "port": 9000, "weight": weights.1},
                ]}],
            },
        }),
    )?;
    Ok(())
}
