//! The watch path end to end against the sandbox, through the real kube client over its
//! socket: probe, poll, App and effects, with a fast probe interval.

use crate::common;

use std::time::Duration;

use common::watch::Watch;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use splitscope::sandbox::SandboxOptions;
use splitscope::session::app::PatchState;
use splitscope::split::Verdict;

async fn watch(istio: &str) -> Watch {
    let options = SandboxOptions {
        istio: istio.into(),
        propagation_delay: Duration::from_millis(50),
        ..SandboxOptions::default()
    };
    let w = common::watch::start(
        options,
        None,
        "deploy/curl",
        Duration::from_millis(5),
        Duration::from_millis(200),
    )
    .await;
    assert_eq!(w.cluster.namespace, splitscope::sandbox::NAMESPACE);
    w
}

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_1_24_ignored_then_patched_then_unpatched_then_edited() {
    let mut w = watch("1.24.0").await;
    w.until("the route and labels", LIMIT, |a| {
        a.route().is_some()
            && a.labels().len() == 2
            && a.info().waypoint.name().is_some()
            && a.probe_target().is_some()
    })
    .await;
    assert_eq!(w.app().info().istio.as_deref(), Some("1.24.0"));
    assert_eq!(
        w.app()
            .probe_target()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("tcp-echo:9000")
    );
    w.until("IGNORED", LIMIT, |a| {
        a.split().verdict() == Verdict::Ignored && a.split().total() >= 20
    })
    .await;
    let share = w.fresh_share(400).await;
    assert!((share - 0.5).abs() <= 0.08, "unpatched v1 share {share}");

    w.key('p');
    w.until("the patch on", LIMIT, |a| {
        matches!(a.patch(), PatchState::On(_))
    })
    .await;
    // Give the push time to reach the waypoint (taking what comes meanwhile), then
    // measure afresh.
    w.run_for(Duration::from_secs(1)).await;
    let share = w.fresh_share(400).await;
    assert!(
        (share - 0.9).abs() <= 0.05,
        "patched v1 share {share} over 400 samples"
    );
    w.until("HONOURED", LIMIT, |a| {
        a.split().verdict() == Verdict::Honoured
    })
    .await;

    // A route edited to 50/50 is followed, and the active patch re-applied with it.
    let routes = w
        .cluster
        .dynamic("gateway.networking.k8s.io", "v1", "TCPRoute");
    let edit = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "tcp-echo-v1", "port": 9000, "weight": 50},
        {"name": "tcp-echo-v2", "port": 9000, "weight": 50}]}]}});
    routes
        .patch("tcp-echo-ew", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.until("the edited weights", LIMIT, |a| {
        a.split().expected() == [0.5, 0.5]
    })
    .await;
    w.until("the patch re-applied", LIMIT, |a| {
        matches!(a.patch(), PatchState::On(_))
    })
    .await;
    let filters = w
        .cluster
        .dynamic("networking.istio.io", "v1alpha3", "EnvoyFilter");
    let filter = filters.get("splitscope-tcp-echo-ew").await.unwrap();
    let clusters = &filter.data["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["weightedClusters"]
        ["clusters"];
    assert_eq!(
        (
            clusters[0]["weight"].as_u64(),
            clusters[1]["weight"].as_u64()
        ),
        (Some(50), Some(50))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let share = w.fresh_share(400).await;
    assert!(
        (share - 0.5).abs() <= 0.08,
        "patched 50/50 v1 share {share}"
    );
    // 50/50 over one endpoint each is also what the bug gives: the screen says the two
    // cannot be told apart rather than claim either.
    w.until("AMBIGUOUS at 50/50", LIMIT, |a| {
        a.split().verdict() == Verdict::Ambiguous
    })
    .await;

    // Back to 90/10; then the patch off brings the bug back.
    let edit = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "tcp-echo-v1", "port": 9000, "weight": 90},
        {"name": "tcp-echo-v2", "port": 9000, "weight": 10}]}]}});
    routes
        .patch("tcp-echo-ew", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.until("90/10 again", LIMIT, |a| {
        a.split().expected() == [0.9, 0.1] && matches!(a.patch(), PatchState::On(_))
    })
    .await;
    w.key('p');
    w.until("the patch off", LIMIT, |a| *a.patch() == PatchState::Off)
        .await;
    assert!(
        filters
            .get_opt("splitscope-tcp-echo-ew")
            .await
            .unwrap()
            .is_none()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.key('r');
    w.until("IGNORED again", LIMIT, |a| {
        a.split().verdict() == Verdict::Ignored
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_1_26_honours_the_route_unpatched() {
    let mut w = watch("1.26.0").await;
    w.until("HONOURED", LIMIT, |a| {
        a.split().verdict() == Verdict::Honoured && a.split().total() >= 40
    })
    .await;
    assert_eq!(*w.app().patch(), PatchState::Off);
    assert_eq!(w.app().needs_patch(), Some(false));
    let share = w.fresh_share(400).await;
    assert!((share - 0.9).abs() <= 0.05, "1.26 v1 share {share}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_client_pod_is_followed_after_a_gap() {
    let mut w = watch("1.24.0").await;
    w.until("samples", LIMIT, |a| a.split().total() >= 10).await;
    let first = match w.app().probe() {
        splitscope::session::app::ProbeState::Running { pod, .. } => pod.clone(),
        other => panic!("probe not running: {other:?}"),
    };
    w.cluster
        .pods()
        .delete(&first, &Default::default())
        .await
        .unwrap();
    w.until("a new pod", LIMIT, |a| matches!(a.probe(), splitscope::session::app::ProbeState::Running { pod, .. } if *pod != first)).await;
    assert!(
        w.app()
            .markers()
            .iter()
            .any(|m| matches!(m, splitscope::session::app::Marker::Gap(_)))
    );
    let before = w.app().split().total();
    w.until("samples from the new pod", LIMIT, |a| {
        a.split().total() >= before + 10
    })
    .await;
}
