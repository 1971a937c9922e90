//! The objects the sandbox starts with: the tcp-echo task of Istio's docs in an ambient
//! namespace with a waypoint and a weighted TCPRoute, as after step 9 of the bug report.

use serde_json::{Value, json};

use super::scenario::{CANARY_PODS, ROLLOUT, ROLLOUT_PAUSE, Scenario, WAYPOINTS_NAMESPACE};
use super::storage::catalogue::{
    DEPLOYMENTS, GATEWAYCLASSES, GATEWAYS, HTTPROUTES, MUTATINGWEBHOOKCONFIGURATIONS, NAMESPACES,
    ROLLOUTS, SERVICEACCOUNTS, SERVICES, TCPROUTES,
};
use super::storage::{Resource, Store};
use crate::istio::control::REV_LABEL;
use crate::istio::waypoint::{USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, WAYPOINT_FOR};

pub const NAMESPACE: &str = "istio-io-tcp-traffic-shifting";
pub const ROUTE: &str = "tcp-echo-ew";
/// The HTTPRoute of the `http` and `ingress` scenarios.
pub const HTTP_ROUTE: &str = "helloworld";
/// The Gateway of the `ingress` scenario, as Istio's sample names it.
pub const INGRESS_GATEWAY: &str = "helloworld-gateway";

/// The kind and name of the route a scenario seeds.
pub fn seeded_route(scenario: Scenario) -> (&'static str, &'static str) {
    if scenario.is_http() {
        ("HTTPRoute", HTTP_ROUTE)
    } else {
        ("TCPRoute", ROUTE)
    }
}

fn echo_deployment(version: &str, prefix: &str, replicas: u32) -> Value {
    let labels = json!({"app": "tcp-echo", "version": version});
    json!({
        "metadata": {"name": format!("tcp-echo-{version}"), "labels": labels},
        "spec": {
            "replicas": replicas,
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

/// What to seed: the control plane's version, the route's weights for v1 and v2, and
/// the variant.
pub struct Seed<'a> {
    pub istio: &'a str,
    pub weights: (u32, u32),
    pub scenario: Scenario,
}

/// The revision a version's istiod carries in `revisioned`: `1.24.0` -> `1-24-0`.
pub(crate) fn revision_of(istio: &str) -> String {
    istio.replace('.', "-")
}

/// An istiod Deployment in istio-system, of a revision or the default one.
fn istiod(name: &str, revision: Option<&str>, image: &str) -> Value {
    let mut labels = json!({"app": "istiod", "istio": "pilot"});
    if let Some(rev) = revision {
        labels[REV_LABEL] = json!(rev);
    }
    json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "discovery", "image": image,
                                     "args": ["discovery", "--monitoringAddr=:15014"]}]},
        }},
    })
}

/// The istiod Deployments a scenario runs in istio-system.
fn istiods(scenario: Scenario, istio: &str) -> Vec<Value> {
    let rev = revision_of(istio);
    let image = format!("docker.io/istio/pilot:{istio}");
    let default = || istiod("istiod", None, &image);
    match scenario {
        // The default revision runs a fixed release; the waypoint's revision does not.
        Scenario::Revisioned => {
            let digest = "sha256:4f0c2ae65ab4b1f38f1c1cb2e38c4fa2b5a1c5b6d0f7e8a9b0c1d2e3f4a5b6c7";
            vec![
                istiod("istiod", None, "docker.io/istio/pilot:1.26.0"),
                istiod(
                    &format!("istiod-{rev}"),
                    Some(&rev),
                    &format!("{image}@{digest}"),
                ),
            ]
        }
        Scenario::RevisionTag | Scenario::DefaultTag => {
            let mut out = vec![istiod(
                "istiod-1-26-0",
                Some("1-26-0"),
                "docker.io/istio/pilot:1.26.0",
            )];
            if scenario == Scenario::RevisionTag {
                out.push(default());
            } else if rev != "1-26-0" {
                out.push(istiod(&format!("istiod-{rev}"), Some(&rev), &image));
            }
            out
        }
        _ => vec![default()],
    }
}

/// A revision tag, as `istioctl tag set` makes it: a MutatingWebhookConfiguration
/// `istio-revision-tag-<tag>` labelled with the tag and the revision it points at.
fn revision_tag(tag: &str, revision: &str) -> Value {
    json!({
        "metadata": {"name": format!("istio-revision-tag-{tag}"),
                     "labels": {"istio.io/tag": tag, REV_LABEL: revision}},
        "webhooks": [{
            "name": "rev.namespace.sidecar-injector.istio.io",
            "clientConfig": {"service": {"name": format!("istiod-{revision}"),
                                         "namespace": "istio-system", "path": "/inject"}},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1beta1", "v1"],
            "namespaceSelector": {"matchLabels": {REV_LABEL: tag}},
        }],
    })
}

/// The curl client; in `sidecar-client` its pod runs an istio-proxy container first.
fn curl_deployment(sidecar: bool) -> Value {
    let mut containers = vec![json!({
        "name": "curl", "image": "curlimages/curl", "command": ["/bin/sleep", "infinity"],
        "imagePullPolicy": "IfNotPresent",
    })];
    if sidecar {
        containers.insert(
            0,
            json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0",
                                     "args": ["proxy", "sidecar"]}),
        );
    }
    json!({
        "metadata": {"name": "curl"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "curl"}}, "template": {
            "metadata": {"labels": {"app": "curl"}},
            "spec": {"terminationGracePeriodSeconds": 0, "serviceAccountName": "curl",
                     "containers": containers},
        }},
    })
}

/// The namespace's labels: ambient, and the waypoint unless the Service names it.
fn namespace_labels(scenario: Scenario, istio: &str) -> Value {
    let mut labels = json!({
        "kubernetes.io/metadata.name": NAMESPACE,
        "istio.io/dataplane-mode": "ambient",
    });
    match scenario {
        Scenario::ServiceWaypoint => {}
        Scenario::CrossNamespace => {
            labels[USE_WAYPOINT] = json!("waypoint");
            labels[USE_WAYPOINT_NAMESPACE] = json!(WAYPOINTS_NAMESPACE);
        }
        Scenario::Revisioned => {
            labels[USE_WAYPOINT] = json!("waypoint");
            labels[REV_LABEL] = json!(revision_of(istio));
        }
        Scenario::RevisionTag => {
            labels[USE_WAYPOINT] = json!("waypoint");
            labels[REV_LABEL] = json!("prod");
        }
        _ => labels[USE_WAYPOINT] = json!("waypoint"),
    }
    labels
}

/// An object of the seed that the store refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seeding {plural}: {message}")]
pub struct SeedError {
    pub plural: &'static str,
    pub message: String,
}

/// Fills an empty store.
#[expect(
    clippy::too_many_lines,
    reason = "the seeded objects read best as one list"
)]
pub fn seed(store: &mut Store, seed: &Seed) -> Result<(), SeedError> {
    let (istio, weights, scenario) = (seed.istio, seed.weights, seed.scenario);
    let mut put = |res: &Resource, ns: &str, obj: Value| -> Result<(), SeedError> {
        store
            .create(res, res.versions[0], ns, obj)
            .map(|_| ())
            .map_err(|e| SeedError {
                plural: res.plural,
                message: e.message,
            })
    };
    for ns in ["default", "kube-system", "istio-system"] {
        put(
            &NAMESPACES,
            "",
            json!({"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}),
        )?;
    }
    // The classes istiod installs: waypoints, and gateways at the edge.
    for (class, controller, what) in [
        ("istio-waypoint", "istio.io/mesh-controller", "waypoints"),
        (
            "istio",
            "istio.io/gateway-controller",
            "ingress and egress gateways",
        ),
    ] {
        put(
            &GATEWAYCLASSES,
            "",
            json!({"metadata": {"name": class},
                   "spec": {"controllerName": controller, "description": format!("The default Istio GatewayClass for {what}")}}),
        )?;
    }
    put(
        &NAMESPACES,
        "",
        json!({"metadata": {"name": NAMESPACE, "labels": namespace_labels(scenario, istio)}}),
    )?;
    if scenario == Scenario::CrossNamespace {
        put(
            &NAMESPACES,
            "",
            json!({"metadata": {"name": WAYPOINTS_NAMESPACE, "labels": {
                "kubernetes.io/metadata.name": WAYPOINTS_NAMESPACE,
                "istio.io/dataplane-mode": "ambient",
            }}}),
        )?;
    }
    for deployment in istiods(scenario, istio) {
        put(&DEPLOYMENTS, "istio-system", deployment)?;
    }
    if let Some((tag, target)) = match scenario {
        Scenario::RevisionTag => Some(("prod", "1-26-0".to_string())),
        Scenario::DefaultTag => Some(("default", revision_of(istio))),
        _ => None,
    } {
        put(
            &MUTATINGWEBHOOKCONFIGURATIONS,
            "",
            revision_tag(tag, &target),
        )?;
    }

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
        curl_deployment(scenario == Scenario::SidecarClient),
    )?;
    // A Rollout sets the weights from its first step on, starting from the stable.
    let weights = if scenario.is_rollout() {
        (100, 0)
    } else {
        weights
    };
    if scenario.is_http() || scenario == Scenario::Mixed {
        seed_helloworld(&mut put, weights, scenario)?;
    }
    if !scenario.is_http() {
        seed_tcp_echo(&mut put, scenario, weights)?;
    }
    if scenario.is_rollout() {
        put(&ROLLOUTS, NAMESPACE, rollout(scenario))?;
    }
    let mut waypoint_labels = json!({WAYPOINT_FOR: "service"});
    if scenario == Scenario::Revisioned {
        waypoint_labels[REV_LABEL] = json!(revision_of(istio));
    }
    // A waypoint shared from another namespace must let the route's namespace in, as
    // `istioctl waypoint apply` does for one it makes for other namespaces.
    let mut hbone = json!({"name": "mesh", "port": 15008, "protocol": "HBONE"});
    if scenario == Scenario::CrossNamespace {
        hbone["allowedRoutes"] = json!({"namespaces": {"from": "Selector", "selector":
            {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}}});
    }
    put(
        &GATEWAYS,
        scenario.waypoint_namespace(NAMESPACE),
        json!({
            "metadata": {"name": "waypoint", "labels": waypoint_labels},
            "spec": {"gatewayClassName": "istio-waypoint", "listeners": [hbone]},
        }),
    )?;
    Ok(())
}

type Put<'a> = dyn FnMut(&Resource, &str, Value) -> Result<(), SeedError> + 'a;

/// Istio's TCP traffic-shifting task: tcp-echo v1 and v2 and the weighted TCPRoute.
fn seed_tcp_echo(put: &mut Put, scenario: Scenario, weights: (u32, u32)) -> Result<(), SeedError> {
    let parent = echo_service(
        "tcp-echo",
        json!({"app": "tcp-echo"}),
        json!([{"name": "tcp", "port": 9000}, {"name": "tcp-other", "port": 9001}]),
    );
    // The waypoint has clusters only for Services bound to it: the backends need the
    // label as much as the parent does.
    let by_service = |mut svc: Value| {
        if scenario == Scenario::ServiceWaypoint {
            svc["metadata"]["labels"][USE_WAYPOINT] = json!("waypoint");
        }
        svc
    };
    put(&SERVICES, NAMESPACE, by_service(parent))?;
    for v in ["v1", "v2"] {
        put(
            &SERVICES,
            NAMESPACE,
            by_service(echo_service(
                &format!("tcp-echo-{v}"),
                json!({"app": "tcp-echo", "version": v}),
                json!([{"name": "tcp", "port": 9000}]),
            )),
        )?;
    }
    let v1_replicas = if scenario == Scenario::Replicas { 3 } else { 1 };
    let v2_replicas = if scenario.is_rollout() {
        CANARY_PODS
    } else {
        1
    };
    put(
        &DEPLOYMENTS,
        NAMESPACE,
        echo_deployment("v1", "one", v1_replicas),
    )?;
    put(
        &DEPLOYMENTS,
        NAMESPACE,
        echo_deployment("v2", "two", v2_replicas),
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

/// Istio's helloworld sample (its Services and Deployments as in samples/helloworld)
/// and an HTTPRoute whose parent is the helloworld Service, as GAMMA routes are written.
fn seed_helloworld(
    put: &mut Put,
    weights: (u32, u32),
    scenario: Scenario,
) -> Result<(), SeedError> {
    let edge = scenario == Scenario::Ingress;
    let service = |name: &str, selector: Value| {
        json!({"metadata": {"name": name, "labels": {"app": "helloworld", "service": name}},
               "spec": {"ports": [{"port": 5000, "name": "http"}], "selector": selector}})
    };
    put(
        &SERVICES,
        NAMESPACE,
        service("helloworld", json!({"app": "helloworld"})),
    )?;
    for v in ["v1", "v2"] {
        let labels = json!({"app": "helloworld", "version": v});
        let replicas = if v == "v2" && scenario.is_rollout() {
            CANARY_PODS
        } else {
            1
        };
        put(
            &SERVICES,
            NAMESPACE,
            service(&format!("helloworld-{v}"), labels.clone()),
        )?;
        put(
            &DEPLOYMENTS,
            NAMESPACE,
            json!({
                "metadata": {"name": format!("helloworld-{v}"), "labels": labels},
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{
                        "name": "helloworld",
                        "image": format!("docker.io/istio/examples-helloworld-{v}:1.0"),
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 5000}],
                    }]},
                }},
            }),
        )?;
    }
    // At the edge, Istio's sample Gateway and the route on it; in the mesh, the Service.
    let parent = if edge {
        put(
            &GATEWAYS,
            NAMESPACE,
            json!({
                "metadata": {"name": INGRESS_GATEWAY},
                "spec": {"gatewayClassName": "istio", "listeners": [{
                    "name": "http", "port": 80, "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                }]},
            }),
        )?;
        json!({"name": INGRESS_GATEWAY})
    } else {
        json!({"group": "", "kind": "Service", "name": "helloworld", "port": 5000})
    };
    put(
        &HTTPROUTES,
        NAMESPACE,
        json!({
            "metadata": {"name": HTTP_ROUTE},
            "spec": {
                "parentRefs": [parent],
                "rules": [{
                    "matches": [{"path": {"type": "Exact", "value": "/hello"}}],
                    "backendRefs": [
                        {"name": "helloworld-v1", "port": 5000, "weight": weights.0},
                        {"name": "helloworld-v2", "port": 5000, "weight": weights.1},
                    ],
                }],
            },
        }),
    )
}

/// The rollout scenarios' Argo Rollout: the canary Deployment's template by reference
/// (`workloadRef`), the v2 Service as the canary and v1 as the stable, the Gateway API
/// plugin naming the route, and steps 10, 30, 60, 100 with pauses between.
fn rollout(scenario: Scenario) -> Value {
    let (app, route_key, route) = if scenario.is_http() {
        ("helloworld", "httpRoute", HTTP_ROUTE)
    } else {
        ("tcp-echo", "tcpRoute", ROUTE)
    };
    let pause = json!({"pause": {"duration": format!("{}s", ROLLOUT_PAUSE.as_secs())}});
    json!({
        "metadata": {"name": ROLLOUT, "labels": {"app": app}},
        "spec": {
            "replicas": CANARY_PODS,
            "selector": {"matchLabels": {"app": app, "version": "v2"}},
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("{app}-v2")},
            "strategy": {"canary": {
                "canaryService": format!("{app}-v2"),
                "stableService": format!("{app}-v1"),
                "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {
                    route_key: route, "namespace": NAMESPACE,
                }}},
                "steps": [
                    {"setWeight": 10}, pause.clone(), {"setWeight": 30}, pause.clone(),
                    {"setWeight": 60}, pause, {"setWeight": 100},
                ],
            }},
        },
    })
}
