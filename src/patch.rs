//! The EnvoyFilter workaround for Istio bug 54119, built from a Route: it replaces the
//! waypoint's `tcp_proxy` on the parent Service's filter chain with a weighted one.
//! Pure: a Route in, an object out.

use serde_json::{Value, json};

use crate::istio::waypoint::{GATEWAY_NAME_LABEL, WaypointRef};
use crate::route::Route;

pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGER: &str = "splitscope";
pub(crate) const ROUTE_ANNOTATION: &str = "splitscope.io/route";
pub(crate) const API_VERSION: &str = "networking.istio.io/v1alpha3";

/// `inbound-vip|9000|tcp|tcp-echo.ns.svc.cluster.local`: a waypoint's name for a
/// Service port's filter chain and for the cluster that reaches it.
pub(crate) fn vip_name(service: &str, namespace: &str, port: u16) -> String {
    format!("inbound-vip|{port}|tcp|{service}.{namespace}.svc.cluster.local")
}

/// The patch's name in the route's own namespace.
pub(crate) fn name_for(route: &Route) -> String {
    format!("splitscope-{}", route.name)
}

/// The patch's name in `namespace`: a waypoint's namespace may hold the patches of
/// routes from several namespaces, so there it names the route's namespace too.
pub fn name_in(route: &Route, namespace: &str) -> String {
    if namespace == route.namespace {
        name_for(route)
    } else {
        format!("splitscope-{}-{}", route.namespace, route.name)
    }
}

/// The EnvoyFilter for `route` on the waypoint named `waypoint` in the route's namespace.
pub fn envoy_filter(route: &Route, waypoint: &str, port: u16) -> Value {
    let here = WaypointRef {
        name: waypoint.to_string(),
        namespace: route.namespace.clone(),
        source: crate::istio::waypoint::Source::Namespace,
    };
    envoy_filter_on(route, &here, port)
}

/// The EnvoyFilter for `route` on `waypoint`, on the parent port `port`. It lives in the
/// waypoint's namespace (a `workloadSelector` selects workloads of its own namespace
/// only); the chain and clusters are named for the Services' namespace.
pub fn envoy_filter_on(route: &Route, waypoint: &WaypointRef, port: u16) -> Value {
    let chain = vip_name(&route.parent, &route.namespace, port);
    let clusters: Vec<Value> = route
        .backends
        .iter()
        // A backend the route may not reach (no ReferenceGrant) gets no traffic.
        .map(|b| json!({"name": vip_name(&b.name, &b.namespace, b.port), "weight": b.weight_in_effect()}))
        .collect();
    json!({
        "apiVersion": API_VERSION,
        "kind": "EnvoyFilter",
        "metadata": {
            "name": name_in(route, &waypoint.namespace),
            "namespace": waypoint.namespace,
            "labels": {MANAGED_BY_LABEL: MANAGER},
            "annotations": {ROUTE_ANNOTATION: format!("{}/{}", route.namespace, route.name)},
        },
        "spec": {
            // Istio 1.24 selects waypoints by workloadSelector only; targetRefs is not read.
            "workloadSelector": {"labels": {GATEWAY_NAME_LABEL: waypoint.name}},
            "configPatches": [{
                "applyTo": "NETWORK_FILTER",
                "match": {
                    "context": "SIDECAR_INBOUND",
                    // No portNumber: main_internal has no port, so a port match never hits.
                    "listener": {
                        "name": "main_internal",
                        "filterChain": {
                            "name": chain,
                            "filter": {"name": "envoy.filters.network.tcp_proxy"},
                        },
                    },
                },
                "patch": {
                    "operation": "REPLACE",
                    "value": {
                        "name": "envoy.filters.network.tcp_proxy",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                            "statPrefix": chain,
                            "weightedClusters": {"clusters": clusters},
                        },
                    },
                },
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Backend;

    fn route() -> Route {
        let backend = |name: &str, weight| Backend {
            name: name.into(),
            namespace: "ns".into(),
            port: 9000,
            weight,
            refused: None,
        };
        Route {
            name: "tcp-echo-ew".into(),
            namespace: "ns".into(),
            parent: "tcp-echo".into(),
            parent_port: Some(9000),
            backends: vec![backend("tcp-echo-v1", 90), backend("tcp-echo-v2", 10)],
            parent_namespace: "ns".into(),
            rules: 1,
            ..Route::default()
        }
    }

    #[test]
    fn names_the_chain_and_clusters_as_the_waypoint_does() {
        let f = envoy_filter(&route(), "waypoint", 9000);
        assert_eq!(f["metadata"]["name"], "splitscope-tcp-echo-ew");
        assert_eq!(f["metadata"]["labels"][MANAGED_BY_LABEL], "splitscope");
        let patch = &f["spec"]["configPatches"][0];
        assert_eq!(
            patch["match"]["listener"]["filterChain"]["name"],
            "inbound-vip|9000|tcp|tcp-echo.ns.svc.cluster.local"
        );
        assert!(patch["match"]["listener"].get("portNumber").is_none());
        let clusters = &patch["patch"]["value"]["typed_config"]["weightedClusters"]["clusters"];
        assert_eq!(
            clusters[0],
            json!({"name": "inbound-vip|9000|tcp|tcp-echo-v1.ns.svc.cluster.local", "weight": 90})
        );
        assert_eq!(clusters[1]["weight"], 10);
        assert_eq!(
            f["spec"]["workloadSelector"]["labels"]["gateway.networking.k8s.io/gateway-name"],
            "waypoint"
        );
    }

    #[test]
    fn a_waypoint_elsewhere_gets_the_filter_in_its_namespace() {
        let shared = WaypointRef {
            name: "waypoint".into(),
            namespace: "istio-waypoints".into(),
            source: crate::istio::waypoint::Source::Namespace,
        };
        let f = envoy_filter_on(&route(), &shared, 9000);
        assert_eq!(f["metadata"]["namespace"], "istio-waypoints");
        assert_eq!(f["metadata"]["name"], "splitscope-ns-tcp-echo-ew");
        // The chain and the clusters are the Services', in their namespace.
        let patch = &f["spec"]["configPatches"][0];
        assert_eq!(
            patch["match"]["listener"]["filterChain"]["name"],
            "inbound-vip|9000|tcp|tcp-echo.ns.svc.cluster.local"
        );
    }
}
