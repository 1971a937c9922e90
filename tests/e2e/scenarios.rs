//! Every sandbox scenario through the real binary: unpatched, Istio 1.24 ignores the
//! route and `check` says so; with the patch it honours it and nothing is left behind;
//! the header names the waypoint, why it is the one, and the version of its control
//! plane. `replicas` shows the endpoint-weighted default split.

use std::time::Duration;

use splitscope::sandbox::SandboxOptions;
use splitscope::sandbox::scenario::Scenario;

use crate::common::serve::{envoyfilters, serve};
use crate::common::{sample, splitscope, v1_share};

/// Scenario, and what the header's waypoint line says for it.
const SCENARIOS: [(&str, &str); 7] = [
    (
        "default",
        "waypoint waypoint (from the namespace's label) · Istio 1.24.0 (needs the patch)",
    ),
    (
        "revisioned",
        "waypoint waypoint (from the namespace's label) · Istio 1.24.0 rev 1-24-0 (needs the patch)",
    ),
    (
        "service-waypoint",
        "waypoint waypoint (from the Service's label) · Istio 1.24.0 (needs the patch)",
    ),
    (
        "cross-namespace",
        "waypoint istio-waypoints/waypoint (from the namespace's label) · Istio 1.24.0 (needs the patch)",
    ),
    (
        "replicas",
        "waypoint waypoint (from the namespace's label) · Istio 1.24.0 (needs the patch)",
    ),
    (
        "sidecar-client",
        "waypoint waypoint (from the namespace's label) · Istio 1.24.0 (needs the patch)",
    ),
    (
        "default-tag",
        "waypoint waypoint (from the namespace's label) · Istio 1.24.0 (default tag -> 1-24-0) (needs the patch)",
    ),
];

/// A revision tag on the namespace points at 1.26's istiod while a default 1.24 istiod
/// runs: the header reads 1.26 by the tag, and the route is honoured unpatched.
#[test]
fn a_revision_tag_chooses_the_control_plane() {
    let server = serve(&["--scenario", "revision-tag"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--interval",
            "0.03s",
            "--timeout",
            "60s",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("HONOURED"), "{out}");
    let dir = std::env::temp_dir().join(format!("splitscope-tag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, shot) = (dir.join("t.tape"), dir.join("tag.txt"));
    std::fs::write(
        &tape,
        format!("wait /revision tag/ 60s\nshot {}\nquit\n", shot.display()),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "demo",
            "--scenario",
            "revision-tag",
            "--tape",
            &tape_arg,
            "--size",
            "120x30",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let screen = std::fs::read_to_string(&shot).unwrap();
    assert!(
        screen.contains("Istio 1.26.0 (revision tag prod -> 1-26-0) (routes work unpatched)"),
        "{screen}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_scenario_is_ignored_unpatched_and_honoured_patched() {
    for (scenario, _) in SCENARIOS {
        let server = serve(&["--scenario", scenario]);
        let kc = server.kubeconfig.to_string_lossy().into_owned();
        let check = |extra: &[&str]| {
            let mut args = vec!["check", "--kubeconfig", &kc, "--interval", "0.03s"];
            args.extend(["--timeout", "60s", "--settle", "0.3s"]);
            args.extend_from_slice(extra);
            splitscope(&args, None)
        };
        let (code, out, err) = check(&[]);
        assert_eq!(code, 1, "{scenario}: {out}{err}");
        assert!(out.starts_with("IGNORED"), "{scenario}: {out}");
        let (code, out, err) = check(&["--with-patch"]);
        assert_eq!(code, 0, "{scenario} with the patch: {out}{err}");
        assert!(out.starts_with("HONOURED"), "{scenario}: {out}");
        assert_eq!(
            envoyfilters(&server.kubeconfig),
            0,
            "{scenario}: a filter was left"
        );
    }
}

#[test]
fn the_header_names_the_waypoint_why_and_the_version() {
    let dir = std::env::temp_dir().join(format!("splitscope-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (scenario, waypoint_line) in SCENARIOS {
        let tape = dir.join("t.tape");
        let shot = dir.join(format!("{scenario}.txt"));
        std::fs::write(
            &tape,
            format!("wait /n=1[0-9]/ 60s\nshot {}\nquit\n", shot.display()),
        )
        .unwrap();
        let (code, out, err) = splitscope(
            &[
                "demo",
                "--scenario",
                scenario,
                "--tape",
                &tape.to_string_lossy(),
                "--interval",
                "0.03s",
                "--size",
                "120x30",
            ],
            None,
        );
        assert_eq!(code, 0, "{scenario}: {out}{err}");
        let screen = std::fs::read_to_string(&shot).unwrap();
        assert!(screen.contains(waypoint_line), "{scenario}:\n{screen}");
        let bug = if scenario == "replicas" {
            "75/25"
        } else {
            "50/50"
        };
        assert!(
            screen.contains(&format!("bug's split {bug} (endpoints)")),
            "{scenario}:\n{screen}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sandbox of `scenario` and a kube client for it.
async fn sandbox_of(scenario: Scenario) -> (splitscope::sandbox::Sandbox, kube::Client) {
    crate::common::sandbox_with(SandboxOptions {
        scenario,
        propagation_delay: Duration::from_millis(20),
        ..SandboxOptions::default()
    })
    .await
}

#[tokio::test]
async fn three_v1_pods_and_one_v2_split_75_25_unpatched() {
    let (_sandbox, client) = sandbox_of(Scenario::Replicas).await;
    let share = v1_share(sample(&client, 400).await);
    assert!((share - 0.75).abs() <= 0.08, "v1 share {share} over 400");
}

#[test]
fn the_probe_runs_in_the_container_asked_for_and_names_the_others() {
    let server = serve(&["--scenario", "sidecar-client"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let in_container = |container: &str| {
        let args = ["check", "--kubeconfig", &kc, "--interval", "0.03s"];
        splitscope(&[&args[..], &["--container", container]].concat(), None)
    };
    let (code, out, err) = in_container("shell");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("has no container shell; its containers: istio-proxy, curl"),
        "{err}"
    );
    // Istio's proxy has no shell: the exec fails, and the check says how.
    let (code, out, err) = in_container("istio-proxy");
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("executable file not found"), "{err}");
}

#[test]
fn scenario_list_names_them_all() {
    let (code, out, err) = splitscope(&["demo", "--scenario", "list"], None);
    assert_eq!(code, 0, "{err}");
    for (scenario, _) in SCENARIOS {
        assert!(out.lines().any(|l| l.starts_with(scenario)), "{out}");
    }
    // The scenarios the bug does not show in are listed too, each with its words.
    for scenario in ["revision-tag", "http", "ingress", "mixed"] {
        let line = out.lines().find(|l| l.starts_with(scenario));
        assert!(line.is_some_and(|l| l.len() > scenario.len() + 10), "{out}");
    }
    let (code, _, err) = splitscope(&["demo", "--scenario", "nope"], None);
    assert_ne!(code, 0);
    assert!(
        err.contains("the scenarios are default, revisioned"),
        "{err}"
    );
}

/// The sandbox's waypoint applies istiod's rules: a patch in the wrong namespace, or for
/// a waypoint that is not for Services, changes nothing.
#[tokio::test]
async fn a_patch_in_the_wrong_place_has_no_effect() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    use splitscope::istio::waypoint::WaypointRef;
    use splitscope::patch::{envoy_filter, envoy_filter_on};
    use splitscope::route::Route;
    use splitscope::sandbox::NAMESPACE;

    let (_sandbox, client) = sandbox_of(Scenario::CrossNamespace).await;
    let api = |ns: &str, kind: &str, group: &str, version: &str| -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        Api::namespaced_with(client.clone(), ns, &ApiResource::from_gvk(&gvk))
    };
    let route = api(NAMESPACE, "TCPRoute", "gateway.networking.k8s.io", "v1")
        .get("tcp-echo-ew")
        .await
        .unwrap();
    let route = Route::from_object(&serde_json::to_value(route).unwrap()).unwrap();
    let apply = |filter: serde_json::Value| {
        let ns = filter["metadata"]["namespace"]
            .as_str()
            .unwrap()
            .to_string();
        let name = filter["metadata"]["name"].as_str().unwrap().to_string();
        let filters = api(&ns, "EnvoyFilter", "networking.istio.io", "v1alpha3");
        async move {
            filters
                .patch(
                    &name,
                    &PatchParams::apply("test").force(),
                    &Patch::Apply(&filter),
                )
                .await
                .unwrap();
        }
    };
    // In the route's namespace: the waypoint lives elsewhere, so nothing selects it.
    apply(envoy_filter(&route, "waypoint", 9000)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let share = v1_share(sample(&client, 200).await);
    assert!(
        (share - 0.5).abs() <= 0.12,
        "a filter in the wrong namespace: {share}"
    );
    // In the waypoint's namespace, with the Services' chain and clusters: it works.
    let shared = WaypointRef::of_namespace("waypoint", "istio-waypoints");
    apply(envoy_filter_on(&route, &shared, 9000)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let share = v1_share(sample(&client, 200).await);
    assert!(
        (share - 0.9).abs() <= 0.07,
        "a filter in the waypoint's namespace: {share}"
    );
    // A waypoint for workloads only serves no Service: the route's traffic goes direct.
    let gateway = api(
        "istio-waypoints",
        "Gateway",
        "gateway.networking.k8s.io",
        "v1",
    );
    let relabel =
        serde_json::json!({"metadata": {"labels": {"istio.io/waypoint-for": "workload"}}});
    gateway
        .patch("waypoint", &PatchParams::default(), &Patch::Merge(&relabel))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let share = v1_share(sample(&client, 200).await);
    assert!(
        (share - 0.5).abs() <= 0.12,
        "a waypoint for workloads: {share}"
    );
}

/// The control plane as the cluster shows it: the proxy's version beside istiod's when
/// they differ, "unknown" with a reason for an image pinned by digest alone, and istiod
/// found by its label when Istio runs outside istio-system.
#[tokio::test]
async fn the_control_plane_is_read_wherever_istio_runs() {
    use kube::api::{Api, Patch, PatchParams, PostParams};
    use splitscope::cluster::Cluster;
    use splitscope::istio::waypoint::WaypointRef;
    use splitscope::sandbox::NAMESPACE;

    let (sandbox, client) = sandbox_of(Scenario::Default).await;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig()).unwrap();
    let mut cluster = Cluster::from_kubeconfig(kubeconfig, None, None)
        .await
        .unwrap();
    let waypoint = WaypointRef::of_namespace("waypoint", NAMESPACE);
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert_eq!(
        (plane.version.as_deref(), plane.proxy),
        (Some("1.24.0"), None)
    );

    // The waypoint's proxy a patch release behind: shown beside istiod's version.
    let deployments = |ns: &str| -> Api<k8s_openapi::api::apps::v1::Deployment> {
        Api::namespaced(client.clone(), ns)
    };
    let image = |image: &str| {
        Patch::Merge(
            serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "istio-proxy", "image": image}]}}}}),
        )
    };
    deployments(NAMESPACE)
        .patch(
            "waypoint",
            &PatchParams::default(),
            &image("docker.io/istio/proxyv2:1.24.1"),
        )
        .await
        .unwrap();
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert_eq!(plane.proxy.as_deref(), Some("1.24.1"));

    // istiod pinned by digest alone: the version is unknown, and the reason says why.
    let pinned = Patch::Merge(
        serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "discovery", "image": "docker.io/istio/pilot@sha256:0123456789abcdef"}]}}}}),
    );
    deployments("istio-system")
        .patch("istiod", &PatchParams::default(), &pinned)
        .await
        .unwrap();
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert_eq!(plane.version, None);
    assert!(plane.unknown.unwrap().contains("digest alone"));

    // Istio in its own namespace: found by the label, or named with --istio-namespace.
    deployments("istio-system")
        .delete("istiod", &Default::default())
        .await
        .unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(serde_json::json!({"metadata": {"name": "mesh-cp"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let istiod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "istiod", "labels": {"app": "istiod"}},
        "spec": {"selector": {"matchLabels": {"app": "istiod"}}, "template": {
            "metadata": {"labels": {"app": "istiod"}},
            "spec": {"containers": [{"name": "discovery", "image": "quay.example.com/istio/pilot:1.25.2-distroless"}]}}},
    }))
    .unwrap();
    deployments("mesh-cp")
        .create(&PostParams::default(), &istiod)
        .await
        .unwrap();
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert_eq!(plane.version.as_deref(), Some("1.25.2"));
    cluster.istio_namespace = Some("istio-system".into());
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert!(plane.unknown.unwrap().contains("no istiod Deployment"));
    cluster.istio_namespace = Some("mesh-cp".into());
    let plane = cluster.control_plane(Some(&waypoint)).await.unwrap();
    assert_eq!(plane.version.as_deref(), Some("1.25.2"));
}

/// A backend the waypoint does not serve leaves the patch nothing to send to: the screen
/// says so, in the header and the log, and says it no more once the label is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_the_waypoint_does_not_serve_is_named() {
    use kube::api::{Api, Patch, PatchParams};
    use splitscope::session::app::LineKind;

    let options = SandboxOptions {
        scenario: Scenario::ServiceWaypoint,
        propagation_delay: Duration::from_millis(20),
        ..SandboxOptions::default()
    };
    let limit = Duration::from_secs(30);
    let mut w = watching(options, limit).await;
    assert!(
        w.app().info().warnings.is_empty(),
        "{:?}",
        w.app().info().warnings
    );
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(w.cluster.client.clone(), splitscope::sandbox::NAMESPACE);
    let label = |v: Option<&str>| {
        Patch::Merge(serde_json::json!({"metadata": {"labels": {"istio.io/use-waypoint": v}}}))
    };
    services
        .patch("tcp-echo-v2", &PatchParams::default(), &label(None))
        .await
        .unwrap();
    w.until("the warning", limit, |a| a.info().warnings.len() == 1)
        .await;
    let warning = &w.app().info().warnings[0];
    assert!(
        warning.contains("backend tcp-echo-v2 is not bound to waypoint waypoint")
            && warning.contains("no istio.io/use-waypoint label"),
        "{warning}"
    );
    assert!(
        w.app()
            .log()
            .iter()
            .any(|l| l.kind == LineKind::Error && l.text == *warning)
    );
    services
        .patch(
            "tcp-echo-v2",
            &PatchParams::default(),
            &label(Some("waypoint")),
        )
        .await
        .unwrap();
    w.until("no warning", limit, |a| a.info().warnings.is_empty())
        .await;
}

/// istiod's rules through the sandbox and the screen: a waypoint whose HBONE listener
/// selects other namespaces, or that has lost its address, serves the Service no more;
/// the header says why, and the mesh splits as it does without a waypoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waypoint_that_does_not_allow_the_route_or_has_no_address_is_none() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    use splitscope::session::app::WaypointInfo;

    let options = SandboxOptions {
        propagation_delay: Duration::from_millis(20),
        forbidden: vec![
            ("get".into(), "gatewayclasses".into()),
            ("list".into(), "mutatingwebhookconfigurations".into()),
        ],
        ..SandboxOptions::default()
    };
    let limit = Duration::from_secs(30);
    let mut w = watching(options, limit).await;
    // Classes and tags hidden by RBAC: said, and the rules go on with what can be read.
    // They are notes, not backends the waypoint fails to serve.
    let notes = w.app().info().notes.join("\n");
    assert!(notes.contains("cannot read GatewayClasses"), "{notes}");
    assert!(notes.contains("cannot read revision tags"), "{notes}");
    assert!(
        w.app().info().warnings.is_empty(),
        "{:?}",
        w.app().info().warnings
    );
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "Gateway");
    let gateways: Api<DynamicObject> = Api::namespaced_with(
        w.cluster.client.clone(),
        &w.cluster.namespace,
        &ApiResource::from_gvk(&gvk),
    );
    let none_because = |words: &'static str| move |a: &splitscope::session::App| matches!(&a.info().waypoint, WaypointInfo::NoneServes(why) if why.contains(words));
    // A Selector applies in the waypoint's own namespace too.
    let listeners = Patch::Merge(serde_json::json!({"spec": {"listeners": [
        {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces":
            {"from": "Selector", "selector": {"matchLabels": {"team": "elsewhere"}}}}}]}}));
    gateways
        .patch("waypoint", &PatchParams::default(), &listeners)
        .await
        .unwrap();
    w.until(
        "not allowed",
        limit,
        none_because("does not allow routes from namespace"),
    )
    .await;
    let open = Patch::Merge(serde_json::json!({"spec": {"listeners": [
        {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "All"}}}]}}));
    gateways
        .patch("waypoint", &PatchParams::default(), &open)
        .await
        .unwrap();
    w.until("the waypoint again", limit, |a| {
        a.info().waypoint.name().is_some()
    })
    .await;
    // Its address cleared through the status subresource: no waypoint yet, by istiod's
    // rule (the sandbox's mesh, following the same rule, stops using it too).
    let cleared = Patch::Merge(serde_json::json!({"status": {"addresses": null}}));
    gateways
        .patch_status("waypoint", &PatchParams::default(), &cleared)
        .await
        .unwrap();
    w.until("no address", limit, none_because("has no address yet"))
        .await;
    let gateway = gateways.get("waypoint").await.unwrap();
    let status = serde_json::to_value(&gateway).unwrap()["status"].clone();
    assert!(status.get("addresses").is_none(), "{status}");
    assert!(
        status["conditions"].is_array(),
        "only the addresses went: {status}"
    );
    // Through every change of the waypoint, what RBAC hides was said once.
    for note in ["cannot read GatewayClasses", "cannot read revision tags"] {
        let said = (w.app().log().iter())
            .filter(|l| l.text.starts_with(note))
            .count();
        assert_eq!(said, 1, "{note}");
    }
}

/// The session on a sandbox of `options`, probing every 50 ms and never polling, once it
/// has read the waypoint.
async fn watching(options: SandboxOptions, limit: Duration) -> crate::common::watch::Watch {
    let mut w = crate::common::watch::start(
        options,
        None,
        "deploy/curl",
        Duration::from_millis(50),
        Duration::from_secs(3600),
    )
    .await;
    w.until("the waypoint", limit, |a| {
        a.info().waypoint.name().is_some()
    })
    .await;
    w
}
