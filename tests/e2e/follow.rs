//! Following the cluster: watches carry a route edit to the screen, a forbidden watch
//! falls back to polling and says so once, a watch keeps to its selector and comes back
//! after a 410, and the probe resumes in a replacement pod at once, however many came
//! before it.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;
use splitscope::cluster::follow::{Topic, Watched};
use splitscope::sandbox::SandboxOptions;
use splitscope::sandbox::drills::Faults;
use splitscope::sandbox::storage::catalogue::SERVICEACCOUNTS;
use splitscope::session::app::{App, Marker, ProbeState};
use splitscope::task::{AbortOnDrop, lock};

use crate::common::watch::{Watch, start, weights};

const LIMIT: Duration = Duration::from_secs(30);
/// Long enough that nothing in these tests is seen by polling.
const NEVER: Duration = Duration::from_secs(3600);

fn options(forbidden: &[(&str, &str)]) -> SandboxOptions {
    SandboxOptions {
        propagation_delay: Duration::from_millis(50),
        forbidden: forbidden
            .iter()
            .map(|(v, r)| ((*v).to_string(), (*r).to_string()))
            .collect(),
        ..SandboxOptions::default()
    }
}

async fn edit_weights(w: &Watch, v1: u32, v2: u32) -> Instant {
    let routes = w
        .cluster
        .dynamic("gateway.networking.k8s.io", "v1", "TCPRoute");
    let edit = json!({"spec": {"rules": [{"backendRefs": [
        {"name": "tcp-echo-v1", "port": 9000, "weight": v1},
        {"name": "tcp-echo-v2", "port": 9000, "weight": v2}]}]}});
    let sent = Instant::now();
    routes
        .patch("tcp-echo-ew", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_edit_reaches_the_screen_by_watch() {
    let mut w = probing(Duration::from_millis(50)).await;
    w.until("the route", LIMIT, |a| weights(a) == [90, 10])
        .await;
    let mut took = Vec::new();
    for (v1, v2) in [(70, 30), (50, 50), (90, 10)] {
        let sent = edit_weights(&w, v1, v2).await;
        w.until("the edit", LIMIT, |a| weights(a) == [v1, v2]).await;
        took.push(sent.elapsed());
    }
    // Polling would take an hour: the watch brought each edit.
    eprintln!("route edit to screen: {took:?}");
    assert!(took.iter().all(|t| *t < Duration::from_secs(5)), "{took:?}");
    // On screen within a second, as users rely on (the median, so one slow moment on a
    // loaded machine does not decide).
    let mut sorted = took.clone();
    sorted.sort();
    assert!(sorted[1] < Duration::from_secs(1), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_watch_falls_back_to_polling_and_says_so_once() {
    let mut w = edited_under(&[("watch", "tcproutes")]).await;
    // Some more polls: the fallback is said once, not once a poll.
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.until("a few samples", LIMIT, |a| a.split().total() >= 5)
        .await;
    let said: Vec<&str> = w
        .app()
        .log()
        .iter()
        .map(|l| l.text.as_str())
        .filter(|t| t.starts_with("cannot watch tcproutes"))
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("forbidden") && said[0].contains("every 300ms"),
        "{said:?}"
    );
    assert!(w.app().problem().is_none(), "{:?}", w.app().problem());
}

/// A Role for TCPRoutes alone: the other route kinds cannot be watched, which matters
/// not while the route followed is a TCPRoute; nothing is polled, nothing is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_route_kinds_that_cannot_be_watched_are_left_alone() {
    let w = edited_under(&[("watch", "httproutes"), ("watch", "referencegrants")]).await;
    let said: Vec<&str> = w
        .app()
        .log()
        .iter()
        .map(|l| l.text.as_str())
        .filter(|t| t.starts_with("cannot watch"))
        .collect();
    assert!(said.is_empty(), "{said:?}");
    assert!(w.app().notice().is_none_or(|n| !n.contains("cannot watch")));
}

/// A watch (polling every 300 ms what it cannot watch) under RBAC that forbids
/// `forbid`, once it has followed the seeded route's edit to 60/40.
async fn edited_under(forbid: &[(&str, &str)]) -> Watch {
    let mut w = start(
        options(forbid),
        None,
        "deploy/curl",
        Duration::from_millis(50),
        Duration::from_millis(300),
    )
    .await;
    w.until("the route", LIMIT, |a| weights(a) == [90, 10])
        .await;
    edit_weights(&w, 60, 40).await;
    w.until("the edit", LIMIT, |a| weights(a) == [60, 40]).await;
    w
}

/// A watch whose probe connects every `interval`, and that never polls.
async fn probing(interval: Duration) -> Watch {
    start(options(&[]), None, "deploy/curl", interval, NEVER).await
}

/// The gaps the chart marks.
fn gap_marks(a: &App) -> usize {
    a.markers()
        .iter()
        .filter(|m| matches!(m, Marker::Gap(_)))
        .count()
}

fn probe_pod(a: &App) -> Option<String> {
    match a.probe() {
        ProbeState::Running { pod, .. } => Some(pod.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_replacements_each_resume_at_once_with_one_gap_each() {
    let mut w = probing(Duration::from_millis(100)).await;
    w.until("samples", LIMIT, |a| a.split().total() >= 5).await;
    let mut resumed = Vec::new();
    for _ in 0..10 {
        let old = probe_pod(w.app()).unwrap();
        w.cluster
            .pods()
            .delete(&old, &Default::default())
            .await
            .unwrap();
        // The sandbox's ReplicaSet replaces the pod at once, Running.
        let deleted = Instant::now();
        w.until("the probe in the replacement", LIMIT, |a| {
            probe_pod(a).is_some_and(|p| p != old)
        })
        .await;
        resumed.push(deleted.elapsed());
        let n = w.app().split().total();
        w.until("samples from it", LIMIT, |a| a.split().total() > n)
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    eprintln!("resumption after each replacement: {resumed:?}");
    assert!(
        resumed.iter().all(|t| *t < Duration::from_secs(2)),
        "{resumed:?}"
    );
    let gaps = gap_marks(w.app());
    assert_eq!(gaps, 10, "{:?}", w.app().markers());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_back_after_a_long_wait_is_used_at_once_not_after_the_backoff() {
    let mut w = probing(Duration::from_millis(100)).await;
    w.until("samples", LIMIT, |a| a.split().total() >= 5).await;
    let deployments = w.cluster.dynamic("apps", "v1", "Deployment");
    let scale = |n: u32| Patch::Merge(json!({"spec": {"replicas": n}}));
    deployments
        .patch("curl", &PatchParams::default(), &scale(0))
        .await
        .unwrap();
    w.until("a gap", LIMIT, |a| {
        matches!(a.probe(), ProbeState::Gap { .. })
    })
    .await;
    // Ten seconds without a client: the backoff has grown past eight seconds.
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(10) {
        let _ =
            tokio::time::timeout(Duration::from_millis(200), w.until("", LIMIT, |_| false)).await;
    }
    let tries = w
        .app()
        .log()
        .iter()
        .filter(|l| l.text.contains("trying again within"))
        .count();
    assert!(tries >= 3, "{:?}", w.app().log());
    deployments
        .patch("curl", &PatchParams::default(), &scale(1))
        .await
        .unwrap();
    let back = Instant::now();
    w.until("the probe in the new pod", LIMIT, |a| {
        probe_pod(a).is_some()
    })
    .await;
    let took = back.elapsed();
    eprintln!("resumption after a client came back: {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let gaps = gap_marks(w.app());
    assert_eq!(
        gaps,
        1,
        "one gap, however many tries: {:?}",
        w.app().markers()
    );
}

/// The next topic the watch sends, if one comes within `within`.
async fn topic(
    topics: &mut tokio::sync::mpsc::UnboundedReceiver<(Topic, jiff::Timestamp)>,
    within: Duration,
) -> Option<Topic> {
    tokio::time::timeout(within, topics.recv())
        .await
        .ok()
        .flatten()
        .map(|(topic, _)| topic)
}

/// Takes what is waiting.
fn drain(topics: &mut tokio::sync::mpsc::UnboundedReceiver<(Topic, jiff::Timestamp)>) {
    while topics.try_recv().is_ok() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_followers_watch_keeps_to_its_selector_and_lists_again_after_a_410() {
    let w = start(options(&[]), None, "deploy/curl", NEVER, NEVER).await;
    let sandbox = w.sandbox.as_ref().unwrap();
    let resource = ApiResource::erase::<ServiceAccount>(&());
    let accounts: Api<DynamicObject> =
        Api::namespaced_with(w.cluster.client.clone(), &w.cluster.namespace, &resource);
    let account = |name: &str, labels: serde_json::Value| {
        serde_json::from_value::<DynamicObject>(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "labels": labels}
        }))
        .unwrap()
    };
    // One-second watches, so the server ends them often and the watcher starts again
    // from the version it got to.
    let watched = Watched {
        topic: Topic::Pods,
        what: "serviceaccounts",
        api: accounts.clone(),
        fields: None,
        labels: Some("watched=yes".into()),
        timeout: 1,
    };
    let (tx, mut topics) = tokio::sync::mpsc::unbounded_channel();
    let _run = AbortOnDrop::spawn(async move {
        watched.run(tx).await;
    });
    assert_eq!(
        topic(&mut topics, LIMIT).await,
        Some(Topic::Pods),
        "the first list"
    );
    // Outside the selector: nothing. Inside: a topic.
    let create = PostParams::default();
    accounts
        .create(&create, &account("other", json!({})))
        .await
        .unwrap();
    assert_eq!(topic(&mut topics, Duration::from_millis(1500)).await, None);
    accounts
        .create(&create, &account("mine", json!({"watched": "yes"})))
        .await
        .unwrap();
    assert_eq!(topic(&mut topics, LIMIT).await, Some(Topic::Pods));
    // The API fails every call while more changes land than the server keeps: the watch
    // can only come back from a version the server has forgotten.
    let before = lock(&sandbox.store()).revision();
    sandbox.drills().set(Faults {
        api_errors: vec![(500, 1.0)],
        ..Faults::default()
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    {
        let store = sandbox.store();
        let mut store = lock(&store);
        for i in 0..4100 {
            let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "other", "labels": {"n": i.to_string()}}});
            store
                .replace(&SERVICEACCOUNTS, "v1", &w.cluster.namespace, "other", obj)
                .unwrap();
        }
        assert!(store.changes_since(before).is_err(), "the journal forgot");
    }
    sandbox.drills().set(Faults::default());
    // Back: it lists again (a topic), and follows the selected object as before.
    assert_eq!(topic(&mut topics, LIMIT).await, Some(Topic::Pods));
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(&mut topics);
    let edit = Patch::Merge(json!({"metadata": {"annotations": {"seen": "yes"}}}));
    accounts
        .patch("mine", &PatchParams::default(), &edit)
        .await
        .unwrap();
    assert_eq!(
        topic(&mut topics, LIMIT).await,
        Some(Topic::Pods),
        "followed after the 410"
    );
}
