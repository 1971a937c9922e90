//! Trouble shows on the screen, not as a crash: forbidden calls, a missing, ambiguous or
//! unusable route, a backend without a prefix, no client pod, an API that went away.

use crate::common;

use std::time::Duration;

use common::watch::Watch;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;
use splitscope::sandbox::SandboxOptions;
use splitscope::session::app::PatchState;

const LIMIT: Duration = Duration::from_secs(20);

async fn watch(options: SandboxOptions, route: Option<&str>, client: &str) -> Watch {
    let options = SandboxOptions {
        propagation_delay: Duration::from_millis(50),
        ..options
    };
    common::watch::start(
        options,
        route,
        client,
        Duration::from_millis(20),
        Duration::from_millis(100),
    )
    .await
}

/// Presses `p`; the patch must fail, and this is why.
async fn press_p_and_fail(w: &mut Watch) -> String {
    w.key('p');
    w.until("the patch to fail", LIMIT, |a| {
        matches!(a.patch(), PatchState::Failed(_))
    })
    .await;
    match w.app().patch() {
        PatchState::Failed(why) => why.to_string(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_forbidden_patch_says_which_verb_on_which_resource() {
    let options = SandboxOptions {
        forbidden: vec![("patch".into(), "envoyfilters".into())],
        ..SandboxOptions::default()
    };
    let mut w = watch(options, None, "deploy/curl").await;
    w.until("the route and the waypoint", LIMIT, |a| {
        a.route().is_some() && a.info().waypoint.name().is_some() && *a.patch() == PatchState::Off
    })
    .await;
    let why = press_p_and_fail(&mut w).await;
    assert!(
        why.contains(
            "forbidden: cannot patch envoyfilters in namespace istio-io-tcp-traffic-shifting"
        ),
        "{why}"
    );
    assert!(why.contains("--read-only"), "{why}");
    // Counting goes on.
    let before = w.app().split().total();
    w.until("more samples", LIMIT, |a| a.split().total() > before + 5)
        .await;
}

#[tokio::test]
async fn a_missing_route_names_the_ones_there() {
    let mut w = watch(SandboxOptions::default(), Some("nope"), "deploy/curl").await;
    w.until("the route error", LIMIT, |a| a.route_error().is_some())
        .await;
    let err = w.app().route_error().unwrap().to_string();
    assert!(
        err.contains("no route \"nope\"") && err.contains("tcproute/tcp-echo-ew"),
        "{err}"
    );
}

#[tokio::test]
async fn an_ambiguous_route_asks_for_one_and_all_zero_weights_are_refused() {
    let mut w = watch(SandboxOptions::default(), None, "deploy/curl").await;
    w.until("the route", LIMIT, |a| a.route().is_some()).await;
    let routes = w
        .cluster
        .dynamic("gateway.networking.k8s.io", "v1", "TCPRoute");
    let second: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "TCPRoute",
        "metadata": {"name": "tcp-echo-other"},
        "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "tcp-echo"}],
                 "rules": [{"backendRefs": [{"name": "tcp-echo-v1", "port": 9000}]}]},
    }))
    .unwrap();
    routes
        .create(&PostParams::default(), &second)
        .await
        .unwrap();
    // The route being watched stays the one watched: another that comes later does not
    // take its place or stop the screen.
    w.until("more samples", LIMIT, |a| a.split().total() >= 40)
        .await;
    assert!(w.app().route_error().is_none());
    assert_eq!(w.app().route().unwrap().name, "tcp-echo-ew");
    // Asked afresh with no name, the cluster's two routes cannot be chosen between.
    let err = w
        .cluster
        .find_route(&Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tcproute/tcp-echo-ew")
            && err.contains("tcproute/tcp-echo-other")
            && err.contains("--route"),
        "{err}"
    );
    routes
        .delete("tcp-echo-other", &Default::default())
        .await
        .unwrap();
    w.until("one route again", LIMIT, |a| a.route_error().is_none())
        .await;

    let zero = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "tcp-echo-v1", "port": 9000, "weight": 0}, {"name": "tcp-echo-v2", "port": 9000, "weight": 0}]}]}});
    routes
        .patch("tcp-echo-ew", &PatchParams::default(), &Patch::Merge(&zero))
        .await
        .unwrap();
    w.until("the zero weights", LIMIT, |a| {
        a.route_error()
            .as_ref()
            .is_some_and(|e| e.to_string().contains("weight 0"))
    })
    .await;
}

#[tokio::test]
async fn a_backend_without_a_prefix_is_named() {
    let mut w = watch(SandboxOptions::default(), None, "deploy/curl").await;
    w.until("the route", LIMIT, |a| a.route().is_some()).await;
    let routes = w
        .cluster
        .dynamic("gateway.networking.k8s.io", "v1", "TCPRoute");
    let edit = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "tcp-echo-v1", "port": 9000, "weight": 90}, {"name": "curl", "port": 80, "weight": 10}]}]}});
    routes
        .patch("tcp-echo-ew", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    w.until("the label problem", LIMIT, |a| {
        a.label_problems()
            .iter()
            .any(|p| p.contains("backend curl"))
    })
    .await;
    assert!(
        w.app().label_problems()[0].contains("--label"),
        "{:?}",
        w.app().label_problems()
    );
}

#[tokio::test]
async fn no_client_pod_is_a_gap_with_a_reason() {
    let mut w = watch(SandboxOptions::default(), None, "deploy/nope").await;
    w.until("the probe gap", LIMIT, |a| matches!(a.probe(), splitscope::session::app::ProbeState::Gap { reason, .. } if reason.to_string().contains("no Deployment nope"))).await;
}

#[tokio::test]
async fn an_api_that_goes_away_is_retried_and_said() {
    let mut w = watch(SandboxOptions::default(), None, "deploy/curl").await;
    w.until("samples", LIMIT, |a| a.split().total() >= 5).await;
    drop(w.sandbox.take());
    w.until("the unreachable API", LIMIT, |a| {
        a.problem()
            .as_ref()
            .is_some_and(|p| p.to_string().contains("unreachable"))
    })
    .await;
    assert!(
        w.app()
            .problem()
            .as_ref()
            .unwrap()
            .to_string()
            .contains("retrying")
    );
    assert!(w.app().route().is_some(), "the last route stays on screen");
}

#[tokio::test]
async fn someone_elses_envoyfilter_under_our_name_is_left_alone_and_named() {
    let mut w = watch(SandboxOptions::default(), None, "deploy/curl").await;
    w.until("the route and the waypoint", LIMIT, |a| {
        a.route().is_some() && a.info().waypoint.name().is_some() && *a.patch() == PatchState::Off
    })
    .await;
    // The platform team applied a filter of that name, with our label even.
    let filter =
        splitscope::patch::envoy_filter(w.app().route().as_ref().unwrap(), "waypoint", 9000);
    let filters = w
        .cluster
        .dynamic("networking.istio.io", "v1alpha3", "EnvoyFilter");
    filters
        .patch(
            "splitscope-tcp-echo-ew",
            &PatchParams::apply("platform-team"),
            &Patch::Apply(&filter),
        )
        .await
        .unwrap();
    let why = press_p_and_fail(&mut w).await;
    assert!(
        why.contains("is not splitscope's")
            && why.contains("written by platform-team")
            && why.contains("kubectl delete envoyfilter splitscope-tcp-echo-ew"),
        "{why}"
    );
    let kept = filters.get("splitscope-tcp-echo-ew").await.unwrap();
    let managers: Vec<_> = kept
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert_eq!(managers, ["platform-team"]);
}
