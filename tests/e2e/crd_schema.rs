//! What the sandbox accepts validates against the real CRDs in ../shared/fixtures, and
//! objects those schemas reject are refused with 422. Without ../shared (a clone of the
//! project alone) the cross-checks against the CRDs skip and the 422s are still checked;
//! SPLITSCOPE_REQUIRE_FIXTURES=1 (as in CI) makes a missing CRD a failure instead.

use crate::common;

use std::time::Duration;

use serde_json::{Value, json};
use splitscope::sandbox::NAMESPACE;

fn fixture(name: &str) -> Option<Value> {
    let path = common::fixtures::upstream(name)?;
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Some(serde_saphyr::from_str(&text).unwrap())
}

/// The upstream schemas: three TCPRoute versions and the EnvoyFilter.
struct Schemas {
    routes: [jsonschema::Validator; 3],
    filter: jsonschema::Validator,
}

fn schemas() -> Option<Schemas> {
    Some(Schemas {
        routes: [
            validator("gateway.networking.k8s.io_tcproutes.yaml", "v1alpha2")?,
            validator("gateway.networking.k8s.io_tcproutes.v1.6.1.yaml", "v1")?,
            validator(
                "gateway.networking.k8s.io_tcproutes.v1.6.1.yaml",
                "v1alpha2",
            )?,
        ],
        filter: validator("envoyfilter-crd.yaml", "v1alpha3")?,
    })
}

/// The openAPIV3Schema of one served version of a CRD, as a JSON Schema validator.
fn validator(crd_file: &str, version: &str) -> Option<jsonschema::Validator> {
    let crd = fixture(crd_file)?;
    let schema = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{crd_file} serves {version}"))["schema"]["openAPIV3Schema"]
        .clone();
    Some(jsonschema::options().build(&schema).unwrap())
}

fn route(spec: Value) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute", "metadata": {"name": "r"}, "spec": spec})
}

fn filter(spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter", "metadata": {"name": "f"}, "spec": spec})
}

async fn post(client: &kube::Client, path: &str, obj: &Value) -> (u16, Value) {
    let req = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(obj).unwrap())
        .unwrap();
    match client.request::<Value>(req).await {
        Ok(v) => (201, v),
        Err(kube::Error::Api(s)) => (s.code, serde_json::to_value(&*s).unwrap()),
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn accepted_objects_validate_and_schema_violations_are_refused() {
    let (_sandbox, client) = common::sandbox("1.24.0", (90, 10), Duration::from_millis(50)).await;
    let routes_path =
        format!("/apis/gateway.networking.k8s.io/v1alpha2/namespaces/{NAMESPACE}/tcproutes");
    let filters_path =
        format!("/apis/networking.istio.io/v1alpha3/namespaces/{NAMESPACE}/envoyfilters");
    let schemas = schemas();
    let route_schemas: &[jsonschema::Validator] = schemas.as_ref().map_or(&[], |s| &s.routes);
    let filter_schema = schemas.as_ref().map(|s| &s.filter);

    // The seeded route, and the patch splitscope builds, as stored.
    let seeded: Value = client
        .request(
            http::Request::get(format!("{routes_path}/tcp-echo-ew"))
                .body(vec![])
                .unwrap(),
        )
        .await
        .unwrap();
    for schema in route_schemas {
        assert!(
            schema.is_valid(&seeded),
            "seeded route: {:?}",
            schema
                .iter_errors(&seeded)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }
    let model = splitscope::route::Route::from_object(&seeded).unwrap();
    let patch = splitscope::patch::envoy_filter(&model, "waypoint", 9000);
    let (code, stored) = post(&client, &filters_path, &patch).await;
    assert_eq!(code, 201, "{stored}");
    if let Some(filter_schema) = filter_schema {
        assert!(
            filter_schema.is_valid(&stored),
            "{:?}",
            filter_schema
                .iter_errors(&stored)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }

    let accepted_routes = [
        route(
            json!({"parentRefs": [{"group": "", "kind": "Service", "name": "tcp-echo"}], "rules": [{"backendRefs": [{"name": "tcp-echo-v1", "port": 9000}]}]}),
        ),
        route(
            json!({"rules": [{"backendRefs": [{"name": "a", "port": 1, "weight": 0}, {"name": "b", "port": 65535, "weight": 1000000}]}]}),
        ),
    ];
    for (i, mut obj) in accepted_routes.into_iter().enumerate() {
        obj["metadata"]["name"] = json!(format!("ok-{i}"));
        let (code, stored) = post(&client, &routes_path, &obj).await;
        assert_eq!(code, 201, "{stored}");
        for schema in route_schemas {
            assert!(schema.is_valid(&stored), "{stored}");
        }
    }

    let rejected_routes = [
        (
            "no spec",
            json!({"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute", "metadata": {"name": "r"}}),
        ),
        ("no rules", route(json!({"parentRefs": [{"name": "x"}]}))),
        ("empty rules", route(json!({"rules": []}))),
        (
            "backend without name",
            route(json!({"rules": [{"backendRefs": [{"port": 9000}]}]})),
        ),
        (
            "negative weight",
            route(json!({"rules": [{"backendRefs": [{"name": "a", "port": 9000, "weight": -1}]}]})),
        ),
        (
            "weight as text",
            route(
                json!({"rules": [{"backendRefs": [{"name": "a", "port": 9000, "weight": "ninety"}]}]}),
            ),
        ),
        (
            "port out of range",
            route(json!({"rules": [{"backendRefs": [{"name": "a", "port": 70000}]}]})),
        ),
        (
            "weight too large",
            route(
                json!({"rules": [{"backendRefs": [{"name": "a", "port": 9000, "weight": 1000001}]}]}),
            ),
        ),
        (
            "parentRef without name",
            route(
                json!({"parentRefs": [{"kind": "Service"}], "rules": [{"backendRefs": [{"name": "a", "port": 1}]}]}),
            ),
        ),
        (
            "seventeen backends",
            route(json!({"rules": [{"backendRefs": vec![json!({"name": "a", "port": 1}); 17]}]})),
        ),
    ];
    for (why, obj) in &rejected_routes {
        if let Some(v1alpha2) = route_schemas.first() {
            assert!(!v1alpha2.is_valid(obj), "the v1alpha2 schema rejects {why}");
        }
        let (code, body) = post(&client, &routes_path, obj).await;
        assert_eq!(code, 422, "{why}: {body}");
        assert!(
            !body["details"]["causes"].as_array().unwrap().is_empty(),
            "{why}: {body}"
        );
    }

    let rejected_filters = [
        (
            "unknown applyTo",
            filter(json!({"configPatches": [{"applyTo": "NETWORK_FILTERS"}]})),
        ),
        (
            "unknown operation",
            filter(
                json!({"configPatches": [{"applyTo": "NETWORK_FILTER", "patch": {"operation": "SWAP"}}]}),
            ),
        ),
        (
            "unknown context",
            filter(json!({"configPatches": [{"match": {"context": "WAYPOINT"}}]})),
        ),
        (
            "port as text",
            filter(json!({"configPatches": [{"match": {"listener": {"portNumber": "9000"}}}]})),
        ),
        (
            "selector value not a string",
            filter(json!({"workloadSelector": {"labels": {"a": 1}}})),
        ),
        (
            "patch value not an object",
            filter(
                json!({"configPatches": [{"patch": {"operation": "REPLACE", "value": "tcp_proxy"}}]}),
            ),
        ),
    ];
    for (why, obj) in &rejected_filters {
        if let Some(filter_schema) = filter_schema {
            assert!(
                !filter_schema.is_valid(obj),
                "the EnvoyFilter schema rejects {why}"
            );
        }
        let (code, body) = post(&client, &filters_path, obj).await;
        assert_eq!(code, 422, "{why}: {body}");
    }
}
