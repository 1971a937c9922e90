//! HTTPRoutes end to end: the sandbox's helloworld behind a waypoint that routes each
//! request, judged through the binary and the library with the curl probe.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use splitscope::sandbox::SandboxOptions;
use splitscope::sandbox::scenario::Scenario;
use splitscope::split::Verdict;

use crate::common::serve::serve;
use crate::common::watch::{start, weights};
use crate::common::{exec, sandbox_with, splitscope};

const LIMIT: Duration = Duration::from_secs(60);

fn check(kubeconfig: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--kubeconfig", kubeconfig, "--interval", "0.02s"];
    args.extend(["--timeout", "60s"]);
    args.extend_from_slice(extra);
    splitscope(&args, None)
}

#[test]
fn check_judges_the_http_route_by_pod_name_through_curl() {
    let server = serve(&["--scenario", "http"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = check(&kc, &["--output", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "HONOURED");
    assert_eq!(report["route"]["kind"], "HTTPRoute");
    assert_eq!(report["route"]["name"], "helloworld");
    assert_eq!(report["route"]["rule"], 1);
    assert_eq!(report["route"]["path"], "/hello");
    assert_eq!(report["route"]["parent_kind"], "Service");
    // Every reply named a backend's pod: none unmapped, none unparsable.
    assert_eq!(report["unmapped"], 0, "{out}");
    assert_eq!(report["unparsable"], 0, "{out}");
    assert_eq!(report["backends"][0]["name"], "helloworld-v1");

    // Five requests a connection: the waypoint routes each request, so the split holds.
    let (code, out, err) = check(&kc, &["--requests-per-connection", "5"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("HONOURED"), "{out}");

    // Any other client, run once a sample, its output classified like any reply.
    let (code, out, err) = check(
        &kc,
        &[
            "--probe-command",
            "curl -s helloworld:5000/hello",
            "--route",
            "httproute/helloworld",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("HONOURED"), "{out}");

    // A missing route and a path no rule matches are clear errors.
    let (code, _, err) = check(&kc, &["--route", "httproute/nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no HTTPRoute \"nope\"") && err.contains("httproute/helloworld"),
        "{err}"
    );
    let (code, _, err) = check(&kc, &["--path", "/bye"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no rule of HTTPRoute helloworld matches path /bye"),
        "{err}"
    );
    let (code, _, err) = check(&kc, &["--header", "no colon"]);
    assert_eq!(code, 2);
    assert!(err.contains("NAME: VALUE"), "{err}");

    // No known bug applies to an HTTPRoute: patch apply says so and writes nothing.
    let (code, _, err) = splitscope(&["patch", "apply", "--kubeconfig", &kc], None);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no known bug applies to HTTPRoute helloworld"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weight_edit_is_followed_and_errors_are_counted_by_status() {
    let options = SandboxOptions {
        scenario: Scenario::Http,
        propagation_delay: Duration::from_millis(50),
        ..SandboxOptions::default()
    };
    let mut w = start(
        options,
        None,
        "deploy/curl",
        Duration::from_millis(20),
        Duration::from_secs(2),
    )
    .await;
    w.until("HONOURED 90/10", LIMIT, |a| {
        a.split().verdict() == Verdict::Honoured
    })
    .await;
    assert_eq!(w.app().route().unwrap().name, "helloworld");
    assert_eq!(w.app().needs_patch(), Some(false));
    // `p` says why there is nothing to patch.
    w.key('p');
    let notice = w.app().notice().unwrap_or_default().to_string();
    assert!(
        notice.contains("no known bug applies to HTTPRoute helloworld"),
        "{notice}"
    );

    let routes = w
        .cluster
        .dynamic("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let edit = json!({"spec": {"rules": [{
        "matches": [{"path": {"type": "Exact", "value": "/hello"}}],
        "backendRefs": [{"name": "helloworld-v1", "port": 5000, "weight": 70},
                        {"name": "helloworld-v2", "port": 5000, "weight": 30}]}]}});
    routes
        .patch("helloworld", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.until("HONOURED 70/30", LIMIT, |a| {
        weights(a) == [70, 30] && a.split().verdict() == Verdict::Honoured && a.split().total() > 0
    })
    .await;
    let share = w.fresh_share(400).await;
    assert!(
        (share - 0.7).abs() <= 0.08,
        "v1 share after the edit {share}"
    );

    // v2 without pods: the waypoint answers 503 for its share, counted by code and
    // never as a sample.
    let samples = w.app().split().total();
    w.cluster
        .dynamic("apps", "v1", "Deployment")
        .patch(
            "helloworld-v2",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    w.until("503s", LIMIT, |a| {
        a.statuses().get(&503).is_some_and(|n| *n >= 5)
    })
    .await;
    assert!(w.app().split().total() > samples, "v1 still answers");
    assert!(
        w.app()
            .log()
            .iter()
            .any(|l| l.text.starts_with("HTTP 503: no healthy upstream")),
        "the log says what the waypoint answered"
    );
}

#[tokio::test]
async fn the_pods_curl_speaks_http_and_says_what_it_cannot() {
    let (_sandbox, client) = sandbox_with(SandboxOptions {
        scenario: Scenario::Http,
        propagation_delay: Duration::ZERO,
        ..SandboxOptions::default()
    })
    .await;
    let (out, err, _) = exec(
        &client,
        r"curl -sS -w '\t%{http_code}\r' helloworld:5000/hello helloworld:5000/hello | tr '\n\r' ' \n'",
    )
    .await;
    assert!(err.is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        assert!(line.starts_with("Hello version: v"), "{line}");
        assert!(line.ends_with("\t200"), "{line}");
    }
    let (out, _, _) = exec(
        &client,
        "curl -s -o /dev/null -w '%{http_code}' helloworld:5000/nope",
    )
    .await;
    assert_eq!(out, "404");
    for (script, said) in [
        ("curl -v helloworld:5000/hello", "is not supported"),
        (
            "curl -sS nowhere:5000/",
            "curl: (6) Could not resolve host: nowhere",
        ),
        (
            "curl -sS helloworld:81/",
            "curl: (7) Failed to connect to helloworld port 81",
        ),
        (
            "curl -o /tmp/x helloworld:5000/",
            "use -o /dev/null or -o -",
        ),
        ("curl -sS https://helloworld:5000/", "speaks http:// only"),
    ] {
        let (_, err, status) = exec(&client, script).await;
        assert!(err.contains(said), "{script}: {err}");
        assert_ne!(
            status.and_then(|s| s.status),
            Some("Success".into()),
            "{script}"
        );
    }
}

#[test]
fn at_the_edge_the_probe_goes_through_the_gateway_and_the_header_says_so() {
    let server = serve(&["--scenario", "ingress"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = check(&kc, &["--output", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "HONOURED");
    assert_eq!(report["route"]["parent_kind"], "Gateway");
    assert_eq!(report["route"]["parent"], "helloworld-gateway");
    assert_eq!(report["unmapped"], 0, "{out}");

    let dir = std::env::temp_dir().join(format!("splitscope-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, shot) = (dir.join("t.tape"), dir.join("edge.txt"));
    std::fs::write(
        &tape,
        format!(
            "wait /n=1[0-9]/ 60s\npress p\nshot {}\nquit\n",
            shot.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "demo",
            "--scenario",
            "ingress",
            "--tape",
            &tape_arg,
            "--size",
            "160x30",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let screen = std::fs::read_to_string(&shot).unwrap();
    for said in [
        "route HTTPRoute helloworld 90/10 · edge: Gateway helloworld-gateway · /hello",
        "gateway helloworld-gateway (the route's parent, at the edge)",
        "(no known bug applies)",
        "no known bug applies to HTTPRoute helloworld",
    ] {
        assert!(screen.contains(said), "{said:?} not in\n{screen}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn several_routes_are_listed_chosen_in_a_tape_and_named_to_check() {
    let server = serve(&["--scenario", "mixed"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(&["routes", "--kubeconfig", &kc], None);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("ROUTE") && lines[0].contains("WEIGHTS"),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("tcproute/tcp-echo-ew")
            && l.contains("Service tcp-echo:9000")
            && l.contains("tcp-echo-v1=90 tcp-echo-v2=10")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("httproute/helloworld")),
        "{out}"
    );
    let (code, out, _) = splitscope(&["routes", "--kubeconfig", &kc, "--output", "json"], None);
    assert_eq!(code, 0);
    let rows: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(rows[1]["kind"], "HTTPRoute");
    assert_eq!(rows[1]["weights"][0], json!(["helloworld-v1", 90]));

    // check cannot choose, and says how to; named, each is judged.
    let (code, _, err) = check(&kc, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("several routes") && err.contains("splitscope routes"),
        "{err}"
    );
    let (code, out, err) = check(&kc, &["--route", "tcproute/tcp-echo-ew"]);
    assert_eq!(code, 1, "the TCPRoute on 1.24 is ignored: {out}{err}");
    let (code, out, err) = check(&kc, &["--route", "httproute/helloworld", "--rule", "1"]);
    assert_eq!(code, 0, "{out}{err}");

    // The screen opens on the list; enter watches the one chosen, esc comes back.
    let dir = std::env::temp_dir().join(format!("splitscope-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (list, watching, back) = (
        dir.join("list.txt"),
        dir.join("watching.txt"),
        dir.join("back.txt"),
    );
    let tape = dir.join("t.tape");
    std::fs::write(
        &tape,
        format!(
            "wait /choose one below/ 30s\nshot {}\npress down enter\nwait /helloworld-v1 .*%/ 60s\nshot {}\npress esc\nwait /choose one below/ 30s\nshot {}\nquit\n",
            list.display(),
            watching.display(),
            back.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "demo",
            "--scenario",
            "mixed",
            "--tape",
            &tape_arg,
            "--size",
            "120x30",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let list = std::fs::read_to_string(&list).unwrap();
    assert!(list.contains("› tcproute/tcp-echo-ew"), "{list}");
    assert!(list.contains("  httproute/helloworld"), "{list}");
    let watching = std::fs::read_to_string(&watching).unwrap();
    assert!(
        watching.contains("route HTTPRoute helloworld 90/10"),
        "{watching}"
    );
    let back = std::fs::read_to_string(&back).unwrap();
    assert!(
        back.contains("› httproute/helloworld"),
        "the choice is kept: {back}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_backend_in_another_namespace_needs_a_reference_grant() {
    use kube::api::{DynamicObject, PostParams};
    let (sandbox, client) = sandbox_with(SandboxOptions {
        scenario: Scenario::Http,
        propagation_delay: Duration::ZERO,
        ..SandboxOptions::default()
    })
    .await;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig()).unwrap();
    let cluster = splitscope::cluster::Cluster::from_kubeconfig(kubeconfig, None, None)
        .await
        .unwrap();
    let ns = cluster.namespace.clone();
    let api_in = |namespace: &str, group: &str, version: &str, kind: &str| {
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        kube::Api::<DynamicObject>::namespaced_with(
            client.clone(),
            namespace,
            &kube::api::ApiResource::from_gvk(&gvk),
        )
    };
    let create = |api: kube::Api<DynamicObject>, obj: Value| async move {
        let obj: DynamicObject = serde_json::from_value(obj).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    };
    create(
        kube::Api::all_with(
            client.clone(),
            &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()),
        ),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}),
    )
    .await;
    // A Service in namespace other: it selects pods of its own namespace, and has none.
    create(
        api_in("other", "", "v1", "Service"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hello-v2"},
               "spec": {"ports": [{"port": 5000, "name": "http"}], "selector": {"app": "helloworld", "version": "v2"}}}),
    )
    .await;
    let routes = cluster.dynamic("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let edit = json!({"spec": {"rules": [{
        "matches": [{"path": {"type": "Exact", "value": "/hello"}}],
        "backendRefs": [{"name": "helloworld-v1", "port": 5000, "weight": 50},
                        {"name": "hello-v2", "namespace": "other", "port": 5000, "weight": 50}]}]}});
    let written = jiff::Timestamp::now();
    routes
        .patch("helloworld", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    crate::common::pushed(&sandbox, written).await;
    let route = cluster.find_route(&Default::default()).await.unwrap();
    let why = route.backends[1].refused.clone().unwrap_or_default();
    assert!(
        why.contains("no ReferenceGrant in namespace other"),
        "{why}"
    );
    assert_eq!(route.weights_in_effect(), [50, 0]);
    // The sandbox's waypoint drops it too: every reply comes from v1.
    let (out, _, _) = exec(
        &client,
        "i=0; while [ $i -lt 20 ]; do curl -s helloworld:5000/hello; i=$((i+1)); done",
    )
    .await;
    assert_eq!(
        out.lines().filter(|l| l.contains("version: v1")).count(),
        20,
        "{out}"
    );

    let written = jiff::Timestamp::now();
    create(
        api_in("other", "gateway.networking.k8s.io", "v1beta1", "ReferenceGrant"),
        json!({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
               "metadata": {"name": "from-routes"},
               "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": ns}],
                        "to": [{"group": "", "kind": "Service"}]}}),
    )
    .await;
    crate::common::pushed(&sandbox, written).await;
    let route = cluster.find_route(&Default::default()).await.unwrap();
    assert_eq!(route.backends[1].refused, None);
    let (out, _, _) = exec(
        &client,
        "i=0; while [ $i -lt 40 ]; do curl -s helloworld:5000/hello; i=$((i+1)); done",
    )
    .await;
    // Permitted, half the requests go there, where nothing answers: Envoy's 503.
    assert!(out.contains("no healthy upstream"), "{out}");
}

#[test]
fn an_http_run_is_recorded_and_replays_to_the_same_verdict() {
    let dir = std::env::temp_dir().join(format!("splitscope-http-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, record) = (dir.join("live.tape"), dir.join("run.jsonl"));
    std::fs::write(&tape, "wait honoured 60s\nquit\n").unwrap();
    let (tape_arg, record_arg) = (
        tape.to_string_lossy().into_owned(),
        record.to_string_lossy().into_owned(),
    );
    let mut args = vec![
        "demo",
        "--scenario",
        "http",
        "--tape",
        &tape_arg,
        "--record",
        &record_arg,
    ];
    args.extend(crate::common::QUICK_DEMO);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    let records = std::fs::read_to_string(&record).unwrap();
    assert!(
        records.contains("\"route_kind\":\"HTTPRoute\""),
        "{records}"
    );
    assert!(
        records.contains("helloworld-v1-"),
        "samples name their pods: {records}"
    );

    let replay_tape = dir.join("replay.tape");
    std::fs::write(&replay_tape, "wait /replay ended/ 30s\nquit\n").unwrap();
    let replay_arg = replay_tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &["replay", &record_arg, "--instant", "--tape", &replay_arg],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the verdict was HONOURED"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
