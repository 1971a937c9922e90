//! The sandbox through the kube crate over real sockets: list, get, server-side apply,
//! delete by label, exec, and the mesh's split under each Istio version and patch.

use crate::common;

use std::time::Duration;

use common::{exec, sample, sandbox, v1_share};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::json;
use splitscope::patch::envoy_filter;
use splitscope::route::Route;
use splitscope::sandbox::NAMESPACE;

const FAST: Duration = Duration::from_millis(50);

fn tcproutes(client: &kube::Client, version: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", version, "TCPRoute");
    Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk))
}

fn envoyfilters(client: &kube::Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "EnvoyFilter");
    Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk))
}

async fn seeded_route(client: &kube::Client) -> Route {
    let obj = tcproutes(client, "v1alpha2")
        .get("tcp-echo-ew")
        .await
        .expect("seeded route");
    Route::from_object(&serde_json::to_value(obj).unwrap()).expect("route reads")
}

async fn apply_filter(client: &kube::Client, filter: serde_json::Value) {
    let name = filter["metadata"]["name"].as_str().unwrap().to_string();
    let params = PatchParams::apply("splitscope-test").force();
    envoyfilters(client)
        .patch(&name, &params, &Patch::Apply(&filter))
        .await
        .expect("apply filter");
}

#[tokio::test]
async fn kube_lists_gets_and_reads_both_route_versions() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = namespaces.get(NAMESPACE).await.unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap()["istio.io/dataplane-mode"],
        "ambient"
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let echo = pods
        .list(&ListParams::default().labels("app=tcp-echo,version in (v1,v2)"))
        .await
        .unwrap();
    assert_eq!(echo.items.len(), 2);
    for pod in &echo.items {
        assert_eq!(
            pod.status.as_ref().unwrap().phase.as_deref(),
            Some("Running")
        );
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(owner.kind, "ReplicaSet");
        let args = pod.spec.as_ref().unwrap().containers[0]
            .args
            .clone()
            .unwrap();
        assert_eq!(args[0], "9000,9001,9002");
        assert!(args[1] == "one" || args[1] == "two");
    }
    let waypoint = pods
        .list(&ListParams::default().labels("gateway.networking.k8s.io/gateway-name=waypoint"))
        .await
        .unwrap();
    assert_eq!(waypoint.items.len(), 1);

    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    let svc = services.get("tcp-echo").await.unwrap();
    let ports: Vec<i32> = svc
        .spec
        .unwrap()
        .ports
        .unwrap()
        .iter()
        .map(|p| p.port)
        .collect();
    assert_eq!(ports, vec![9000, 9001]);

    for version in ["v1alpha2", "v1"] {
        let obj = tcproutes(&client, version)
            .get("tcp-echo-ew")
            .await
            .unwrap();
        assert_eq!(
            obj.types.as_ref().unwrap().api_version,
            format!("gateway.networking.k8s.io/{version}")
        );
        let route = Route::from_object(&serde_json::to_value(&obj).unwrap()).unwrap();
        assert_eq!(route.parent, "tcp-echo");
        assert_eq!(
            route.backends.iter().map(|b| b.weight).collect::<Vec<_>>(),
            vec![90, 10]
        );
        assert_eq!(
            obj.data["status"]["parents"][0]["conditions"][0]["type"],
            "Accepted"
        );
    }

    let istiod = kube::Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(
        client.clone(),
        "istio-system",
    )
    .get("istiod")
    .await
    .unwrap();
    let image = istiod.spec.template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "docker.io/istio/pilot:1.24.0");
}

#[tokio::test]
async fn kube_applies_server_side_and_deletes_by_label() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let route = seeded_route(&client).await;
    let filter = envoy_filter(&route, "waypoint", 9000);
    let api = envoyfilters(&client);
    let params = PatchParams::apply("splitscope");
    let created = api
        .patch("splitscope-tcp-echo-ew", &params, &Patch::Apply(&filter))
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let managers: Vec<String> = created
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert_eq!(managers, vec!["splitscope"]);
    let rv1: u64 = created.metadata.resource_version.unwrap().parse().unwrap();

    // Re-applying the same object changes nothing.
    let same = api
        .patch("splitscope-tcp-echo-ew", &params, &Patch::Apply(&filter))
        .await
        .unwrap();
    assert_eq!(
        same.metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        rv1
    );

    // A changed spec moves generation and resourceVersion.
    let mut changed = filter.clone();
    changed["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["weightedClusters"]["clusters"]
        [0]["weight"] = json!(50);
    let updated = api
        .patch("splitscope-tcp-echo-ew", &params, &Patch::Apply(&changed))
        .await
        .unwrap();
    assert_eq!(updated.metadata.generation, Some(2));
    assert!(
        updated
            .metadata
            .resource_version
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv1
    );

    // Another manager changing our field conflicts unless it forces.
    let err = api
        .patch(
            "splitscope-tcp-echo-ew",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(&filter),
        )
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(status) => assert_eq!(status.code, 409),
        other => panic!("expected a 409, got {other:?}"),
    }

    // Someone else's filter survives a delete by our label.
    let mut foreign = filter.clone();
    foreign["metadata"]["name"] = json!("someone-elses");
    foreign["metadata"]["labels"] = json!({"team": "mesh"});
    api.create(
        &PostParams::default(),
        &serde_json::from_value(foreign).unwrap(),
    )
    .await
    .unwrap();
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app.kubernetes.io/managed-by=splitscope"),
    )
    .await
    .unwrap();
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert_eq!(left, vec!["someone-elses"]);
    api.delete("someone-elses", &DeleteParams::default())
        .await
        .unwrap();
    let gone = api.get("someone-elses").await.unwrap_err();
    assert!(matches!(gone, kube::Error::Api(s) if s.code == 404));
}

#[tokio::test]
async fn kube_exec_streams_the_seed_loop_and_reports_exit_codes() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let (out, err, status) = exec(
        &client,
        "i=0; while [ $i -lt 3 ]; do date | nc tcp-echo 9000; sleep 0.01; i=$((i+1)); done",
    )
    .await;
    assert!(err.is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let busybox = regex::Regex::new(r"^(one|two) (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d UTC \d{4}$").unwrap();
    for line in &lines {
        assert!(
            busybox.is_match(line),
            "{line:?} is not `PREFIX busybox-date`"
        );
    }
    assert_eq!(status.unwrap().status.as_deref(), Some("Success"));

    let (out, err, status) = exec(&client, "date | nc nowhere 9000").await;
    assert!(out.is_empty());
    assert_eq!(err.trim(), "nc: bad address 'nowhere'");
    let status = status.unwrap();
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));

    let (_, err, status) = exec(&client, "frobnicate --now").await;
    assert_eq!(err.trim(), "sh: frobnicate: not found");
    let status = status.unwrap();
    assert_eq!(
        status.details.unwrap().causes.unwrap()[0]
            .message
            .as_deref(),
        Some("127")
    );

    // Names resolve as in a cluster; tcp-echo-v1 reaches v1 only.
    for host in [
        "tcp-echo-v1",
        "tcp-echo-v1.istio-io-tcp-traffic-shifting",
        "tcp-echo-v1.istio-io-tcp-traffic-shifting.svc.cluster.local",
    ] {
        let (out, _, _) = exec(
            &client,
            &format!("for i in 1 2 3 4 5 6; do date | nc {host} 9000; done"),
        )
        .await;
        assert!(
            out.lines().count() == 6 && out.lines().all(|l| l.starts_with("one ")),
            "{host}: {out}"
        );
    }
    // A deadline-bounded loop ends by itself.
    let (out, _, status) = exec(&client, "end=$(( $(date +%s) + 1 )); while [ $(date +%s) -lt $end ]; do date | nc -w 1 tcp-echo 9000; sleep 0.2; done").await;
    assert!(!out.is_empty());
    assert_eq!(status.unwrap().status.as_deref(), Some("Success"));
    // So does one under busybox timeout.
    let (_, _, status) = exec(
        &client,
        "timeout 0.3 sh -c 'while true; do date | nc tcp-echo 9000; sleep 0.05; done'",
    )
    .await;
    assert_eq!(
        status.unwrap().details.unwrap().causes.unwrap()[0]
            .message
            .as_deref(),
        Some("143")
    );
}

#[tokio::test]
async fn istio_1_24_ignores_the_route_and_a_correct_patch_fixes_it() {
    let (sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let ignored = v1_share(sample(&client, 400).await);
    assert!(
        (ignored - 0.5).abs() <= 0.08,
        "1.24 without patch: v1 share {ignored}"
    );

    let route = seeded_route(&client).await;
    apply_filter(&client, envoy_filter(&route, "waypoint", 9000)).await;
    crate::common::settled(&sandbox).await;
    let honoured = v1_share(sample(&client, 400).await);
    assert!(
        (honoured - 0.9).abs() <= 0.05,
        "1.24 with patch: v1 share {honoured}"
    );

    envoyfilters(&client)
        .delete("splitscope-tcp-echo-ew", &DeleteParams::default())
        .await
        .unwrap();
    crate::common::settled(&sandbox).await;
    let back = v1_share(sample(&client, 400).await);
    assert!(
        (back - 0.5).abs() <= 0.08,
        "1.24 after removal: v1 share {back}"
    );
}

#[tokio::test]
async fn istio_1_26_honours_the_route_without_a_patch() {
    let (_sandbox, client) = sandbox("1.26.0", (90, 10), FAST).await;
    let share = v1_share(sample(&client, 400).await);
    assert!((share - 0.9).abs() <= 0.05, "1.26: v1 share {share}");
}

#[tokio::test]
async fn a_patch_that_would_not_match_in_envoy_has_no_effect() {
    let (sandbox, client) = sandbox("1.24.0", (90, 10), FAST).await;
    let route = seeded_route(&client).await;
    let good = envoy_filter(&route, "waypoint", 9000);
    let chain = "/spec/configPatches/0/match/listener";
    let mut broken = Vec::new();
    let mut wrong_chain = good.clone();
    wrong_chain.pointer_mut(chain).unwrap()["filterChain"]["name"] =
        json!("inbound-vip|9000|tcp|tcp-echo.default.svc.cluster.local");
    broken.push(("wrong chain name", wrong_chain));
    let mut port = good.clone();
    port.pointer_mut(chain).unwrap()["portNumber"] = json!(9000);
    broken.push(("portNumber", port));
    let mut cluster = good.clone();
    cluster["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["weightedClusters"]["clusters"]
        [1]["name"] =
        json!("inbound-vip|9000|tcp|tcp-echo-v3.istio-io-tcp-traffic-shifting.svc.cluster.local");
    broken.push(("unknown cluster", cluster));
    let mut selector = good.clone();
    selector["spec"]["workloadSelector"]["labels"] =
        json!({"gateway.networking.k8s.io/gateway-name": "other"});
    broken.push(("selector misses the waypoint", selector));
    let mut target_refs = good.clone();
    target_refs["spec"]
        .as_object_mut()
        .unwrap()
        .remove("workloadSelector");
    target_refs["spec"]["targetRefs"] =
        json!([{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}]);
    broken.push(("targetRefs only (ignored by 1.24)", target_refs));
    let mut merge = good.clone();
    merge["spec"]["configPatches"][0]["patch"]["operation"] = json!("MERGE");
    broken.push(("MERGE instead of REPLACE", merge));
    let mut no_prefix = good.clone();
    no_prefix["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]
        .as_object_mut()
        .unwrap()
        .remove("statPrefix");
    broken.push(("no stat prefix (Envoy rejects it)", no_prefix));

    let target = splitscope::sandbox::mesh::waypoint::ServicePort {
        namespace: NAMESPACE.into(),
        service: "tcp-echo".into(),
        port: 9000,
    };
    for (why, filter) in &broken {
        apply_filter(&client, filter.clone()).await;
        crate::common::settled(&sandbox).await;
        let decision = sandbox.mesh().programming().decide(&target);
        assert_eq!(
            decision,
            splitscope::sandbox::mesh::waypoint::Decision::WaypointDefault,
            "{why}"
        );
        envoyfilters(&client)
            .delete("splitscope-tcp-echo-ew", &DeleteParams::default())
            .await
            .unwrap();
    }
    // The wrong chain name, measured over real connections.
    apply_filter(&client, broken[0].1.clone()).await;
    crate::common::settled(&sandbox).await;
    let share = v1_share(sample(&client, 400).await);
    assert!(
        (share - 0.5).abs() <= 0.08,
        "wrong chain name: v1 share {share}"
    );
    // A filter in another namespace does not reach this waypoint either.
    let mut elsewhere = good.clone();
    elsewhere["metadata"]["namespace"] = json!("default");
    let gvk = GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "EnvoyFilter");
    let default_ns: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk(&gvk));
    default_ns
        .patch(
            "splitscope-tcp-echo-ew",
            &PatchParams::apply("t"),
            &Patch::Apply(&elsewhere),
        )
        .await
        .unwrap();
    crate::common::settled(&sandbox).await;
    assert_eq!(
        sandbox.mesh().programming().decide(&target),
        splitscope::sandbox::mesh::waypoint::Decision::WaypointDefault
    );
}

/// A change reaches the waypoint as istiod pushes it: after a 100 ms debounce, then a
/// push time spread around the propagation delay; the sandbox keeps the moment.
#[tokio::test]
async fn changes_reach_the_waypoint_after_the_propagation_delay() {
    let (sandbox, client) = sandbox("1.24.0", (90, 10), Duration::from_millis(800)).await;
    let route = seeded_route(&client).await;
    let target = splitscope::sandbox::mesh::waypoint::ServicePort {
        namespace: NAMESPACE.into(),
        service: "tcp-echo".into(),
        port: 9000,
    };
    let written = jiff::Timestamp::now();
    apply_filter(&client, envoy_filter(&route, "waypoint", 9000)).await;
    let weighted = || {
        matches!(
            sandbox.mesh().programming().decide(&target),
            splitscope::sandbox::mesh::waypoint::Decision::Weighted { .. }
        )
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !weighted() {
        assert!(tokio::time::Instant::now() < deadline, "never pushed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seen = jiff::Timestamp::now();
    let took = splitscope::sandbox::mesh::push::took_effect(&sandbox.mesh().installs(), written);
    assert_eq!(took.len(), 1, "one replica: {took:?}");
    let truth = took[0].1;
    let after = (truth - written).total(jiff::Unit::Millisecond).unwrap();
    // The debounce first, then a push of about 0.8 s (0.3 to 2.5 times it, nearly always).
    assert!(
        (100.0 + 240.0..100.0 + 2000.0).contains(&after),
        "{after} ms"
    );
    let lag = (seen - truth).total(jiff::Unit::Millisecond).unwrap();
    assert!(
        (0.0..100.0).contains(&lag),
        "seen {lag} ms after the recorded moment"
    );
}

#[tokio::test]
async fn without_the_waypoint_gateway_no_route_or_filter_applies() {
    let (sandbox, client) = sandbox("1.26.0", (90, 10), FAST).await;
    let route = seeded_route(&client).await;
    apply_filter(&client, envoy_filter(&route, "waypoint", 9000)).await;
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "Gateway");
    let gateways: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk));
    gateways
        .delete("waypoint", &DeleteParams::default())
        .await
        .unwrap();
    crate::common::settled(&sandbox).await;
    // The waypoint's Deployment and pod go with their Gateway.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let left = pods
        .list(&ListParams::default().labels("gateway.networking.k8s.io/gateway-name=waypoint"))
        .await
        .unwrap();
    assert!(left.items.is_empty());
    let target = splitscope::sandbox::mesh::waypoint::ServicePort {
        namespace: NAMESPACE.into(),
        service: "tcp-echo".into(),
        port: 9000,
    };
    assert_eq!(
        sandbox.mesh().programming().decide(&target),
        splitscope::sandbox::mesh::waypoint::Decision::Direct
    );
    let share = v1_share(sample(&client, 400).await);
    assert!((share - 0.5).abs() <= 0.08, "no waypoint: v1 share {share}");
}

/// A waypoint of three replicas (three running pods) takes a push at three moments, as
/// istiod's pushes reach each proxy in its own time; the sandbox keeps each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_waypoint_replica_takes_a_push_at_its_own_moment() {
    let (sandbox, client) = sandbox("1.24.0", (90, 10), Duration::from_millis(400)).await;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), NAMESPACE);
    deployments
        .patch(
            "waypoint",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    let target = splitscope::sandbox::mesh::waypoint::ServicePort {
        namespace: NAMESPACE.into(),
        service: "tcp-echo".into(),
        port: 9000,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sandbox.mesh().programming().replicas(&target) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "no three replicas");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crate::common::settled(&sandbox).await;
    let route = seeded_route(&client).await;
    let written = jiff::Timestamp::now();
    apply_filter(&client, envoy_filter(&route, "waypoint", 9000)).await;
    crate::common::settled(&sandbox).await;
    let took = splitscope::sandbox::mesh::push::took_effect(&sandbox.mesh().installs(), written);
    assert_eq!(
        took.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        [0, 1, 2],
        "{took:?}"
    );
    let moments: std::collections::BTreeSet<_> = took.iter().map(|(_, t)| *t).collect();
    assert_eq!(moments.len(), 3, "three moments: {took:?}");
    // Every replica has it now: the traffic follows the patch.
    let share = v1_share(sample(&client, 300).await);
    assert!((share - 0.9).abs() <= 0.06, "v1 share {share}");
}
