//! Watches on the sandbox as the API server serves them: kube's runtime watcher follows
//! it, and the raw protocol (resourceVersion, 410, bookmarks, timeouts, selectors) holds.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use splitscope::sandbox::NAMESPACE;

use crate::common::{curl_pod, sandbox};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn kubes_runtime_watcher_follows_pods_through_a_replacement() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), Duration::from_millis(50)).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let old = curl_pod(&client).await;
    let mut events = watcher(pods.clone(), watcher::Config::default().labels("app=curl")).boxed();
    // The initial list, then the changes.
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, events.try_next())
            .await
            .unwrap()
            .unwrap()
        {
            Some(watcher::Event::InitApply(p)) => seen.push(p.metadata.name.unwrap()),
            Some(watcher::Event::InitDone) => break,
            _ => {}
        }
    }
    assert_eq!(seen, vec![old.clone()]);
    pods.delete(&old, &DeleteParams::default()).await.unwrap();
    let (mut deleted, mut replacement) = (false, None);
    while !deleted || replacement.is_none() {
        match tokio::time::timeout(WAIT, events.try_next())
            .await
            .unwrap()
            .unwrap()
        {
            Some(watcher::Event::Delete(p)) if p.metadata.name.as_deref() == Some(&old) => {
                deleted = true;
            }
            Some(watcher::Event::Apply(p)) if p.metadata.name.as_deref() != Some(&old) => {
                replacement = p.metadata.name;
            }
            _ => {}
        }
    }
    assert_eq!(replacement, Some(curl_pod(&client).await));
}

#[tokio::test]
async fn a_watch_from_a_version_sees_what_came_after_it_and_nothing_else() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), Duration::from_millis(50)).await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let list = accounts.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let params = WatchParams::default().labels("watched=yes").timeout(10);
    let mut stream = accounts.watch(&params, &rv).await.unwrap().boxed();
    let account = |name: &str, watched: &str| {
        serde_json::from_value::<ServiceAccount>(serde_json::json!({
            "metadata": {"name": name, "labels": {"watched": watched}}
        }))
        .unwrap()
    };
    accounts
        .create(&Default::default(), &account("ignored", "no"))
        .await
        .unwrap();
    accounts
        .create(&Default::default(), &account("seen", "yes"))
        .await
        .unwrap();
    // The ignored one comes to match: ADDED; then it stops matching: DELETED.
    let relabel =
        |v: &str| Patch::Merge(serde_json::json!({"metadata": {"labels": {"watched": v}}}));
    accounts
        .patch("ignored", &PatchParams::default(), &relabel("yes"))
        .await
        .unwrap();
    accounts
        .patch("ignored", &PatchParams::default(), &relabel("no"))
        .await
        .unwrap();
    accounts
        .delete("seen", &DeleteParams::default())
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 4 {
        let event = tokio::time::timeout(WAIT, stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.push(match event {
            WatchEvent::Added(a) => format!("ADDED {}", a.metadata.name.unwrap()),
            WatchEvent::Modified(a) => format!("MODIFIED {}", a.metadata.name.unwrap()),
            WatchEvent::Deleted(a) => format!("DELETED {}", a.metadata.name.unwrap()),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => panic!("{e:?}"),
        });
    }
    assert_eq!(
        got,
        [
            "ADDED seen",
            "ADDED ignored",
            "DELETED ignored",
            "DELETED seen"
        ]
    );
}

#[tokio::test]
async fn bookmarks_timeouts_and_a_version_too_old() {
    let (_sandbox, client) = sandbox("1.24.0", (90, 10), Duration::from_millis(50)).await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let rv = accounts
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    // A bookmark (kube asks for them) within the watch's six seconds, then the server
    // ends it.
    let params = WatchParams::default().timeout(6);
    let started = std::time::Instant::now();
    let events: Vec<_> = accounts
        .watch(&params, &rv)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(5), "ended early");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, WatchEvent::Bookmark(b) if b.metadata.resource_version == rv)),
        "{events:?}"
    );
    // More changes than the server keeps: a watch from before them is told 410.
    let created = serde_json::from_value::<ServiceAccount>(serde_json::json!({
        "metadata": {"name": "busy"}
    }))
    .unwrap();
    accounts
        .create(&Default::default(), &created)
        .await
        .unwrap();
    for i in 0..4100 {
        let patch = Patch::Merge(serde_json::json!({"metadata": {"labels": {"n": i.to_string()}}}));
        accounts
            .patch("busy", &PatchParams::default(), &patch)
            .await
            .unwrap();
    }
    let first: Vec<_> = accounts
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .take(1)
        .try_collect()
        .await
        .unwrap();
    match &first[..] {
        [WatchEvent::Error(e)] => {
            assert_eq!(e.code, 410, "{e:?}");
            assert!(e.message.contains("too old resource version"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
}
