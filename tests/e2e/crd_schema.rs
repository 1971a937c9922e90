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

/// The seeded HTTPRoutes and the ingress Gateway, and what the sandbox accepts and
/// refuses of every route kind, against Gateway API v1.6.1's CRDs.
#[tokio::test]
async fn http_grpc_and_tls_routes_follow_the_v1_6_1_schemas() {
    use splitscope::sandbox::SandboxOptions;
    use splitscope::sandbox::scenario::Scenario;
    let (_sandbox, client) = common::sandbox_with(SandboxOptions {
        scenario: Scenario::Ingress,
        propagation_delay: Duration::from_millis(50),
        ..SandboxOptions::default()
    })
    .await;
    let path = |version: &str, plural: &str| {
        format!("/apis/gateway.networking.k8s.io/{version}/namespaces/{NAMESPACE}/{plural}")
    };
    let get = |p: String| {
        let client = client.clone();
        async move {
            client
                .request::<Value>(http::Request::get(p).body(vec![]).unwrap())
                .await
                .unwrap()
        }
    };
    let v = |file: &str, version: &str| validator(&format!("gateway-api-v1.6.1/{file}"), version);
    let check = |schema: &Option<jsonschema::Validator>, obj: &Value, what: &str| {
        if let Some(schema) = schema {
            let errors: Vec<String> = schema.iter_errors(obj).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{what}: {errors:?}\n{obj}");
        }
    };
    let http_v1 = v("httproutes.yaml", "v1");
    let seeded = get(format!("{}/helloworld", path("v1", "httproutes"))).await;
    check(&http_v1, &seeded, "the seeded HTTPRoute");
    check(
        &v("httproutes.yaml", "v1beta1"),
        &seeded,
        "the seeded HTTPRoute as v1beta1",
    );
    let gateway = get(format!("{}/helloworld-gateway", path("v1", "gateways"))).await;
    check(&v("gateways.yaml", "v1"), &gateway, "the ingress Gateway");

    let kinds = [
        ("httproutes", "HTTPRoute", "v1", v("httproutes.yaml", "v1")),
        ("grpcroutes", "GRPCRoute", "v1", v("grpcroutes.yaml", "v1")),
        (
            "tlsroutes",
            "TLSRoute",
            "v1alpha2",
            v("tlsroutes.yaml", "v1alpha2"),
        ),
    ];
    for (plural, kind, version, schema) in &kinds {
        let obj = |name: &str, spec: Value| {
            json!({"apiVersion": format!("gateway.networking.k8s.io/{version}"), "kind": kind,
                   "metadata": {"name": name}, "spec": spec})
        };
        let backends = json!([{"name": "helloworld-v1", "port": 5000, "weight": 3}, {"name": "helloworld-v2", "port": 5000}]);
        let accepted = obj(
            &format!("ok-{plural}"),
            json!({"parentRefs": [{"name": "helloworld-gateway"}], "hostnames": ["hello.example.com"],
                   "rules": [{"backendRefs": backends}]}),
        );
        let (code, stored) = post(&client, &path(version, plural), &accepted).await;
        assert_eq!(code, 201, "{kind}: {stored}");
        check(schema, &stored, kind);
        let refused = [
            json!({"parentRefs": [{"name": "g"}], "hostnames": ["Not_A_Host"], "rules": [{"backendRefs": backends}]}),
            json!({"parentRefs": [{"name": "g"}], "rules": [{"backendRefs": [{"name": "a", "port": 70000}]}]}),
        ];
        for (i, spec) in refused.into_iter().enumerate() {
            let bad = obj(&format!("bad-{plural}-{i}"), spec);
            let (code, status) = post(&client, &path(version, plural), &bad).await;
            assert_eq!(code, 422, "{kind} {i}: {status}");
            if let Some(schema) = schema {
                assert!(
                    !schema.is_valid(&bad),
                    "{kind} {i}: the schema refuses it too"
                );
            }
        }
    }
    // HTTP matches: a path type the schema does not have; a relative path, which the
    // CRD refuses by a CEL rule (the API server's, not JSON Schema's).
    for (i, (m, by_schema)) in [
        (json!({"path": {"type": "Glob", "value": "/x"}}), true),
        (json!({"path": {"type": "PathPrefix", "value": "x"}}), false),
    ]
    .into_iter()
    .enumerate()
    {
        let bad = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": format!("bad-match-{i}")},
            "spec": {"parentRefs": [{"name": "g"}], "rules": [{"matches": [m], "backendRefs": [{"name": "a", "port": 1}]}]}});
        let (code, status) = post(&client, &path("v1", "httproutes"), &bad).await;
        assert_eq!(code, 422, "match {i}: {status}");
        if let Some(schema) = http_v1.as_ref().filter(|_| by_schema) {
            assert!(
                !schema.is_valid(&bad),
                "match {i}: the schema refuses it too"
            );
        }
    }
}
