//! `?watch=true` on every collection, as the API server serves it: from a
//! `resourceVersion` (or the current state, as ADDED events, without one), with label and
//! field selectors, `allowWatchBookmarks` and `timeoutSeconds`, one JSON event a line
//! over a chunked response. A watch from before the changes still kept gets an ERROR
//! event with a 410 `Status`, as kubectl and kube's watcher expect, and lists again.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::request::ResourceRequest;
use super::response::{Body, json_stream};
use super::state::ApiState;
use super::table;
use crate::sandbox::storage::journal::{Change, ChangeKind};
use crate::sandbox::storage::selector::{FieldSelector, LabelSelector};
use crate::sandbox::storage::{ApiError, Resource, Store};
use crate::sandbox::sync::{lock, until_stopped};

/// How long a watch lasts when the client names no `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What one watch sends: which objects, from when, and in which shape.
struct Watch {
    res: &'static Resource,
    version: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    table: bool,
    include: String,
    bookmarks: bool,
}

pub fn serve(state: &Arc<ApiState>, r: &ResourceRequest) -> Result<Response<Body>, ApiError> {
    let since = match r.query.get("resourceVersion").map(String::as_str) {
        None | Some("" | "0") => None,
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("resourceVersion {rv:?} is not a resource version"))
        })?),
    };
    let timeout = match r.query.get("timeoutSeconds") {
        None => DEFAULT_TIMEOUT,
        Some(t) => Duration::from_secs(t.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("timeoutSeconds {t:?} is not a number of seconds"))
        })?),
    };
    let watch = Watch {
        res: r.res,
        version: r.version.clone(),
        namespace: r.namespace.clone(),
        labels: r.labels.clone(),
        fields: r.fields.clone(),
        table: r.wants_table,
        include: r.include.clone(),
        bookmarks: r
            .query
            .get("allowWatchBookmarks")
            .is_some_and(|b| b == "true" || b == "1"),
    };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(stream(state.clone(), watch, since, timeout, tx));
    Ok(json_stream(rx))
}

async fn stream(
    state: Arc<ApiState>,
    watch: Watch,
    since: Option<u64>,
    timeout: Duration,
    tx: mpsc::Sender<Bytes>,
) {
    let mut changes = lock(&state.store).subscribe();
    let mut stopped = state.stopped.clone();
    let (mut sent, first) = {
        let store = lock(&state.store);
        match since {
            // Without a version: the current state first, as ADDED events.
            None => (store.revision(), watch.current(&store)),
            Some(rv) => (rv, Vec::new()),
        }
    };
    for event in first {
        if tx.send(event).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut bookmark = tokio::time::interval(BOOKMARK_EVERY);
    bookmark.tick().await;
    loop {
        let read = {
            let store = lock(&state.store);
            watch
                .since(&store, sent)
                .map(|events| (events, store.revision()))
        };
        let (events, upto) = match read {
            Ok(read) => read,
            Err(gone) => {
                let _ = tx.send(gone).await;
                return;
            }
        };
        sent = sent.max(upto);
        for event in events {
            if tx.send(event).await.is_err() {
                return;
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = bookmark.tick(), if watch.bookmarks => {
                if tx.send(watch.bookmark(sent)).await.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(deadline) => return,
            () = until_stopped(&mut stopped) => return,
            () = tx.closed() => return,
        }
    }
}

fn line(event: &Value) -> Bytes {
    let mut text = event.to_string();
    text.push('\n');
    Bytes::from(text)
}

impl Watch {
    fn wants(&self, change: &Change, obj: &Value) -> bool {
        change.type_key == self.res.key()
            && (!self.res.namespaced
                || self.namespace.as_deref().is_none_or(|ns| {
                    obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                }))
            && self.labels.matches(obj.pointer("/metadata/labels"))
            && self.fields.matches(obj)
    }

    fn event(&self, kind: &str, obj: &Value) -> Bytes {
        let obj = Store::present(self.res, &self.version, obj);
        let object = if self.table {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|rv| rv.parse().ok())
                .unwrap_or(0);
            table::render(self.res, &[obj], rv, &self.include)
        } else {
            obj
        };
        line(&json!({"type": kind, "object": object}))
    }

    /// Everything that matches now, as ADDED events.
    fn current(&self, store: &Store) -> Vec<Bytes> {
        store
            .list(
                self.res,
                &self.version,
                self.namespace.as_deref(),
                &self.labels,
                &self.fields,
            )
            .iter()
            .map(|obj| self.event("ADDED", obj))
            .collect()
    }

    /// The events after revision `rv`. An object that comes to match the selectors is
    /// ADDED, one that stops matching DELETED, as the API server's watch cache does.
    fn since(&self, store: &Store, rv: u64) -> Result<Vec<Bytes>, Bytes> {
        let changes = store.changes_since(rv).map_err(|oldest| {
            let gone = ApiError::gone(rv, oldest);
            line(&json!({"type": "ERROR", "object": gone.to_status()}))
        })?;
        Ok(changes
            .filter_map(|change| {
                let now = self.wants(change, &change.object);
                let before = change
                    .previous
                    .as_ref()
                    .is_some_and(|prev| self.wants(change, prev));
                let kind = match (change.kind, before, now) {
                    (ChangeKind::Added, _, true) => "ADDED",
                    (ChangeKind::Deleted, _, true) => "DELETED",
                    (ChangeKind::Modified, true, true) => "MODIFIED",
                    (ChangeKind::Modified, false, true) => "ADDED",
                    (ChangeKind::Modified, true, false) => "DELETED",
                    _ => return None,
                };
                Some(self.event(kind, &change.object))
            })
            .collect())
    }

    /// Says every change up to `rv` was sent.
    fn bookmark(&self, rv: u64) -> Bytes {
        line(&json!({
            "type": "BOOKMARK",
            "object": {
                "kind": self.res.kind,
                "apiVersion": self.res.api_version(&self.version),
                "metadata": {"resourceVersion": rv.to_string()},
            },
        }))
    }
}
