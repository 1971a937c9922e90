//! Following the cluster with watches rather than polls: each watched kind says when it
//! changed, and the runtime reads what it shows again. A watch lists once for a version to
//! start from, then follows events, bookmarks and timeouts; a 410 or a dropped stream
//! lists again. Where watching is forbidden, the caller polls instead.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::sync::mpsc;

use super::discover::GATEWAY_GROUP;
use super::{Cluster, ClusterError};
use crate::istio::control::{ISTIO_NAMESPACE, ISTIOD_SELECTOR};

/// What a change asks to be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// The route (and with it, whether our patch is there).
    Route,
    /// EnvoyFilters: whether our patch is there.
    Patch,
    /// Pods: the client for the probe, the backends' prefixes and ready endpoints.
    Pods,
    /// The waypoint and the control plane's version.
    Facts,
}

/// One kind to watch, and what its changes mean.
pub struct Watched {
    pub topic: Topic,
    /// The resource's plural, for messages.
    pub what: &'static str,
    pub api: Api<DynamicObject>,
    pub fields: Option<String>,
    pub labels: Option<String>,
}

/// Why a watch stopped for good.
#[derive(Debug, Clone, PartialEq)]
pub enum Unwatchable {
    /// RBAC allows no watch (or no list) here: poll instead.
    Forbidden(ClusterError),
    /// The cluster does not serve this kind (say, one version of TCPRoute).
    NotServed,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The server ends a watch after this long; it is started again from where it was.
const WATCH_SECONDS: u32 = 290;

impl Cluster {
    /// The kinds the screen follows: routes (both served versions), EnvoyFilters and pods
    /// in the namespace, the Gateways and the namespace itself for the waypoint, and the
    /// control plane's Deployment for its version.
    pub fn watched(&self) -> Vec<Watched> {
        let ns = &self.namespace;
        let mut out: Vec<Watched> = ["v1alpha2", "v1"]
            .into_iter()
            .map(|version| Watched {
                topic: Topic::Route,
                what: "tcproutes",
                api: self.dynamic(GATEWAY_GROUP, version, "TCPRoute"),
                fields: None,
                labels: None,
            })
            .collect();
        out.push(Watched {
            topic: Topic::Patch,
            what: "envoyfilters",
            api: self.dynamic("networking.istio.io", "v1alpha3", "EnvoyFilter"),
            fields: None,
            labels: None,
        });
        let typed = |ar: ApiResource, ns: Option<&str>| match ns {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        out.push(Watched {
            topic: Topic::Pods,
            what: "pods",
            api: typed(ApiResource::erase::<Pod>(&()), Some(ns)),
            fields: None,
            labels: None,
        });
        out.push(Watched {
            topic: Topic::Facts,
            what: "gateways",
            api: self.dynamic(GATEWAY_GROUP, "v1", "Gateway"),
            fields: None,
            labels: None,
        });
        out.push(Watched {
            topic: Topic::Facts,
            what: "namespaces",
            api: typed(ApiResource::erase::<Namespace>(&()), None),
            fields: Some(format!("metadata.name={ns}")),
            labels: None,
        });
        // The Service's labels choose the waypoint; istiod's Deployments say the version.
        out.push(Watched {
            topic: Topic::Facts,
            what: "services",
            api: typed(ApiResource::erase::<Service>(&()), Some(ns)),
            fields: None,
            labels: None,
        });
        let istio_ns = self.istio_namespace.as_deref().unwrap_or(ISTIO_NAMESPACE);
        out.push(Watched {
            topic: Topic::Facts,
            what: "deployments",
            api: typed(ApiResource::erase::<Deployment>(&()), Some(istio_ns)),
            fields: None,
            labels: Some(ISTIOD_SELECTOR.into()),
        });
        out
    }
}

impl Watched {
    /// Follows the kind until the receiver goes, or until it cannot be watched. Every
    /// change, and every fresh list, sends the topic.
    pub async fn run(self, tx: mpsc::UnboundedSender<Topic>) -> Unwatchable {
        let mut backoff = FIRST_BACKOFF;
        let mut from: Option<String> = None;
        loop {
            let rv = match from.take() {
                Some(rv) => rv,
                None => match self.list().await {
                    Ok(rv) => {
                        // Whatever happened while we did not watch is read again.
                        if tx.send(self.topic).is_err() {
                            return Unwatchable::NotServed;
                        }
                        rv
                    }
                    Err(Some(gone)) => return gone,
                    Err(None) => {
                        // The read that follows shows why (an unreachable API, say).
                        let _ = tx.send(self.topic);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                },
            };
            match self.follow(&rv, &tx).await {
                Followed::TimedOut(rv) => {
                    backoff = FIRST_BACKOFF;
                    from = Some(rv);
                }
                Followed::Relist => {}
                Followed::Failed => {
                    let _ = tx.send(self.topic);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Followed::Gone(why) => return why,
            }
        }
    }

    fn params(&self) -> (ListParams, WatchParams) {
        let mut list = ListParams::default();
        let mut watch = WatchParams::default().timeout(WATCH_SECONDS);
        if let Some(fields) = &self.fields {
            list = list.fields(fields);
            watch = watch.fields(fields);
        }
        if let Some(labels) = &self.labels {
            list = list.labels(labels);
            watch = watch.labels(labels);
        }
        (list, watch)
    }

    /// The version to watch from; Err(Some) when the kind cannot be watched at all,
    /// Err(None) for a failure worth retrying.
    async fn list(&self) -> Result<String, Option<Unwatchable>> {
        let (list, _) = self.params();
        match self.api.list(&list.limit(1)).await {
            Ok(list) => Ok(list.metadata.resource_version.unwrap_or_default()),
            Err(kube::Error::Api(s)) if s.code == 404 => Err(Some(Unwatchable::NotServed)),
            Err(e @ kube::Error::Api(_)) if is_forbidden(&e) => {
                Err(Some(Unwatchable::Forbidden(self.error(e, "list"))))
            }
            Err(_) => Err(None),
        }
    }

    async fn follow(&self, rv: &str, tx: &mpsc::UnboundedSender<Topic>) -> Followed {
        let (_, params) = self.params();
        let stream = match self.api.watch(&params, rv).await {
            Ok(stream) => stream,
            Err(e) if is_forbidden(&e) => {
                return Followed::Gone(Unwatchable::Forbidden(self.error(e, "watch")));
            }
            Err(_) => return Followed::Failed,
        };
        let mut stream = stream.boxed();
        let mut rv = rv.to_string();
        loop {
            match stream.try_next().await {
                Ok(Some(
                    WatchEvent::Added(obj) | WatchEvent::Modified(obj) | WatchEvent::Deleted(obj),
                )) => {
                    if let Some(v) = obj.metadata.resource_version {
                        rv = v;
                    }
                    if tx.send(self.topic).is_err() {
                        return Followed::Gone(Unwatchable::NotServed);
                    }
                }
                Ok(Some(WatchEvent::Bookmark(b))) => rv = b.metadata.resource_version,
                // 410: the version is too old; list again. Anything else: back off first.
                Ok(Some(WatchEvent::Error(e))) if e.code == 410 => return Followed::Relist,
                Ok(Some(WatchEvent::Error(e))) if e.code == 403 => {
                    let e = kube::Error::Api(e);
                    return Followed::Gone(Unwatchable::Forbidden(self.error(e, "watch")));
                }
                Ok(Some(WatchEvent::Error(_))) | Err(_) => return Followed::Failed,
                Ok(None) => return Followed::TimedOut(rv),
            }
        }
    }

    fn error(&self, e: kube::Error, verb: &str) -> ClusterError {
        let ns = self.api.namespace().unwrap_or("all namespaces").to_string();
        ClusterError::from_kube(e, verb, self.what, &ns)
    }
}

enum Followed {
    /// The server ended the watch: start again from this version.
    TimedOut(String),
    Relist,
    Failed,
    Gone(Unwatchable),
}

fn is_forbidden(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 403)
}
