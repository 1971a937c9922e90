//! Bad input gets the right `Status`, and the sandbox keeps serving; load does not break it.

use crate::common;

use std::time::Duration;

use common::{client_for, sample, sandbox};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use serde_json::{Value, json};
use splitscope::patch::envoy_filter;
use splitscope::route::Route;
use splitscope::sandbox::NAMESPACE;

const FAST: Duration = Duration::from_millis(50);

/// Sends a raw request; returns the HTTP status and the body as JSON.
async fn raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body.as_bytes().to_vec())
        .unwrap();
    match client.request::<Value>(req).await {
        Ok(v) => (200, v),
        Err(kube::Error::Api(status)) => (status.code, serde_json::to_value(&*status).unwrap()),
        Err(other) => panic!("{method} {path}: {other:?}"),
    }
}

const ROUTES: &str =
    "/apis/gateway.networking.k8s.io/v1alpha2/namespaces/istio-io-tcp-traffic-shifting/tcproutes";

#[tokio::test]
async fn bad_requests_get_kubernetes_statuses_and_the_sandbox_keeps_serving() {
    let (sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let (code, body) = raw(
        &client,
        "GET",
        &format!("{ROUTES}/missing"),
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(body["reason"], "NotFound");
    assert_eq!(
        body["message"],
        "tcproutes.gateway.networking.k8s.io \"missing\" not found"
    );

    let (code, body) = raw(
        &client,
        "GET",
        "/apis/example.com/v1/namespaces/x/widgets",
        "application/json",
        "",
    )
    .await;
    assert_eq!((code, body["reason"].as_str()), (404, Some("NotFound")));
    let (code, _) = raw(
        &client,
        "GET",
        "/api/v1/namespaces/nowhere/pods/curl",
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 404);
    let (code, body) = raw(
        &client,
        "POST",
        "/api/v1/namespaces/nowhere/services",
        "application/json",
        r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}"#,
    )
    .await;
    assert_eq!(code, 404, "{body}");

    let route = r#"{"apiVersion":"gateway.networking.k8s.io/v1alpha2","kind":"TCPRoute","metadata":{"name":"tcp-echo-ew"},"spec":{"rules":[{"backendRefs":[{"name":"a","port":1}]}]}}"#;
    let (code, body) = raw(&client, "POST", ROUTES, "application/json", route).await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    let (code, body) = raw(
        &client,
        "POST",
        ROUTES,
        "application/json",
        "{\"apiVersion\": ",
    )
    .await;
    assert_eq!((code, body["reason"].as_str()), (400, Some("BadRequest")));
    let (code, _) = raw(
        &client,
        "POST",
        ROUTES,
        "application/yaml",
        "apiVersion: [unclosed",
    )
    .await;
    assert_eq!(code, 400);
    let (code, _) = raw(
        &client,
        "PATCH",
        &format!("{ROUTES}/tcp-echo-ew"),
        "application/apply-patch+yaml",
        "kind: TCPRoute",
    )
    .await;
    assert_eq!(code, 400, "apply needs a fieldManager");
    let (code, _) = raw(
        &client,
        "PATCH",
        &format!("{ROUTES}/tcp-echo-ew"),
        "text/plain",
        "x",
    )
    .await;
    assert_eq!(code, 415);
    let (code, body) = raw(
        &client,
        "POST",
        &format!("{ROUTES}/tcp-echo-ew"),
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(
        (code, body["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );

    let bad = r#"{"apiVersion":"gateway.networking.k8s.io/v1alpha2","kind":"TCPRoute","metadata":{"name":"bad"},"spec":{"rules":[{"backendRefs":[{"name":"a","port":70000,"weight":-1}]}]}}"#;
    let (code, body) = raw(&client, "POST", ROUTES, "application/json", bad).await;
    assert_eq!((code, body["reason"].as_str()), (422, Some("Invalid")));
    let fields: Vec<&str> = body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "spec.rules[0].backendRefs[0].port",
            "spec.rules[0].backendRefs[0].weight"
        ]
    );

    // A dry run is refused rather than silently applied.
    let (code, body) = raw(
        &client,
        "POST",
        &format!("{ROUTES}?dryRun=All"),
        "application/json",
        route,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("dry run"),
        "{body}"
    );

    // A stale resourceVersion is a conflict.
    let routes = {
        let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1alpha2", "TCPRoute");
        Api::<DynamicObject>::namespaced_with(
            client.clone(),
            NAMESPACE,
            &ApiResource::from_gvk(&gvk),
        )
    };
    let mut current = routes.get("tcp-echo-ew").await.unwrap();
    current.metadata.resource_version = Some("1".into());
    let err = routes
        .replace("tcp-echo-ew", &Default::default(), &current)
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 409));

    // Exec into a missing pod or container.
    let (code, _) = raw(
        &client,
        "POST",
        "/api/v1/namespaces/istio-io-tcp-traffic-shifting/pods/ghost/exec?command=date&stdout=true",
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, 404);
    let pod = common::curl_pod(&client).await;
    let (code, body) = raw(&client, "POST", &format!("/api/v1/namespaces/istio-io-tcp-traffic-shifting/pods/{pod}/exec?command=date&stdout=true&container=nope"), "application/json", "").await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("container nope is not valid"),
        "{body}"
    );

    // Without the token: 401.
    let anonymous = sandbox
        .kubeconfig()
        .lines()
        .filter(|l| !l.trim_start().starts_with("token:"))
        .collect::<Vec<_>>()
        .join("\n");
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&anonymous).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let stranger = kube::Client::try_from(config).unwrap();
    let (code, body) = raw(
        &stranger,
        "GET",
        "/api/v1/namespaces",
        "application/json",
        "",
    )
    .await;
    assert_eq!((code, body["reason"].as_str()), (401, Some("Unauthorized")));

    // Still serving, and the mesh still answers.
    let again = client_for(&sandbox).await;
    let (ones, twos) = sample(&again, 20).await;
    assert_eq!(ones + twos, 20);
}

#[tokio::test]
async fn ten_exec_streams_keep_working_while_filters_churn() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), Duration::ZERO).await;
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "TCPRoute");
    let routes: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk));
    let route = Route::from_object(
        &serde_json::to_value(routes.get("tcp-echo-ew").await.unwrap()).unwrap(),
    )
    .unwrap();
    let filter = envoy_filter(&route, "waypoint", 9000);
    let churn_client = client.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_churn = stop.clone();
    let churn = tokio::spawn(async move {
        let gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "EnvoyFilter");
        let filters: Api<DynamicObject> =
            Api::namespaced_with(churn_client, NAMESPACE, &ApiResource::from_gvk(&gvk));
        let mut rounds = 0;
        while !stop_churn.load(std::sync::atomic::Ordering::Relaxed) {
            filters
                .patch(
                    "splitscope-tcp-echo-ew",
                    &PatchParams::apply("churn"),
                    &Patch::Apply(&filter),
                )
                .await
                .unwrap();
            filters
                .delete("splitscope-tcp-echo-ew", &DeleteParams::default())
                .await
                .unwrap();
            rounds += 1;
        }
        rounds
    });
    let streams: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { sample(&client, 100).await })
        })
        .collect();
    for s in streams {
        let (ones, twos) = s.await.unwrap();
        assert_eq!(ones + twos, 100);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = churn.await.unwrap();
    assert!(rounds > 0, "the filter churned while the streams ran");
    let _ = json!(null);
}

#[tokio::test]
async fn a_script_nested_too_deep_is_refused_and_the_sandbox_lives_on() {
    let (_sandbox, client) = common::sandbox("1.24.0", (90, 10), Duration::from_millis(50)).await;
    for script in [
        format!("echo {}x{}", "$(echo ".repeat(500), ")".repeat(500)),
        format!(
            "{}true{}",
            "while false; do ".repeat(500),
            "; done".repeat(500)
        ),
        format!("echo $(({}1{}))", "(".repeat(500), ")".repeat(500)),
        format!("echo $(({}1))", "-".repeat(500)),
    ] {
        let (_, err, _) = common::exec(&client, &script).await;
        assert!(err.contains("nested too deeply"), "{err}");
    }
    let (out, _, _) = common::exec(&client, "echo $(echo $(echo still here))").await;
    assert_eq!(out.trim(), "still here");
}
