//! Following the cluster with watches rather than polls: each watched kind says when it
//! changed, and the follower reads what it shows again. kube's `runtime::watcher` lists
//! for a version to start from, then follows events, bookmarks and timeouts; a 410 or a
//! dropped stream lists again, after a backoff. Where watching is forbidden, the caller
//! polls instead.

use futures::StreamExt;
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use tokio::sync::mpsc;

use super::discover::GATEWAY_GROUP;
use super::{Cluster, ClusterError};
use crate::istio::control::{ISTIO_NAMESPACE, ISTIOD_SELECTOR, TAG_LABEL};
use crate::route::RouteKind;

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
    /// The Argo Rollout or Flagger Canary that moves the route's weights.
    Rollout,
}

/// One kind to watch, and what its changes mean.
pub struct Watched {
    pub topic: Topic,
    /// The resource's plural, for messages.
    pub what: &'static str,
    pub api: Api<DynamicObject>,
    pub fields: Option<String>,
    pub labels: Option<String>,
    /// How long the server keeps one watch open before it is started again.
    pub timeout: u32,
}

/// Why a watch stopped for good.
#[derive(Debug, Clone, PartialEq)]
pub enum Unwatchable {
    /// RBAC allows no watch (or no list) here: poll instead.
    Forbidden(ClusterError),
    /// The cluster does not serve this kind (say, one version of TCPRoute).
    NotServed,
}

/// The server ends a watch after this long; it is started again from where it was.
const WATCH_SECONDS: u32 = 290;

impl Cluster {
    /// The kinds the screen follows: routes (every kind and version), EnvoyFilters and pods
    /// in the namespace, the Gateways and the namespace itself for the waypoint, the
    /// Services whose labels choose it, the control plane's Deployments for its version,
    /// cluster-wide the GatewayClasses and revision tags that istiod's rules read, and
    /// the Argo Rollouts and Flagger Canaries that move the route's weights.
    pub fn watched(&self) -> Vec<Watched> {
        let ns = Some(self.namespace.as_str());
        let istio_ns = Some(self.istio_namespace.as_deref().unwrap_or(ISTIO_NAMESPACE));
        let kind = |group: &str, version: &str, kind: &str| {
            ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
        };
        // Every route kind in every version it is served as: a version the cluster does
        // not serve ends its watch at once.
        let mut out: Vec<Watched> = RouteKind::ALL
            .into_iter()
            .flat_map(|k| k.versions().iter().map(move |v| (k, *v)))
            .map(|(k, v)| {
                self.watch(
                    Topic::Route,
                    k.plural(),
                    kind(GATEWAY_GROUP, v, k.name()),
                    ns,
                )
            })
            .collect();
        // ReferenceGrants live in the backends' namespaces: watched cluster-wide, where
        // RBAC allows it; otherwise they are read with the route.
        out.push(self.watch(
            Topic::Route,
            "referencegrants",
            kind(GATEWAY_GROUP, "v1beta1", "ReferenceGrant"),
            None,
        ));
        let envoyfilters = kind("networking.istio.io", "v1alpha3", "EnvoyFilter");
        out.push(self.watch(Topic::Patch, "envoyfilters", envoyfilters, ns));
        out.push(self.watch(Topic::Pods, "pods", ApiResource::erase::<Pod>(&()), ns));
        let gateways = kind(GATEWAY_GROUP, "v1", "Gateway");
        out.push(self.watch(Topic::Facts, "gateways", gateways, ns));
        let mut namespace = self.watch(
            Topic::Facts,
            "namespaces",
            ApiResource::erase::<Namespace>(&()),
            None,
        );
        namespace.fields = Some(format!("metadata.name={}", self.namespace));
        out.push(namespace);
        let services = ApiResource::erase::<Service>(&());
        out.push(self.watch(Topic::Facts, "services", services, ns));
        let deployments = ApiResource::erase::<Deployment>(&());
        let mut istiods = self.watch(Topic::Facts, "deployments", deployments, istio_ns);
        istiods.labels = Some(ISTIOD_SELECTOR.into());
        out.push(istiods);
        let classes = kind(GATEWAY_GROUP, "v1", "GatewayClass");
        out.push(self.watch(Topic::Facts, "gatewayclasses", classes, None));
        let webhooks = ApiResource::erase::<MutatingWebhookConfiguration>(&());
        let mut tags = self.watch(
            Topic::Facts,
            "mutatingwebhookconfigurations",
            webhooks,
            None,
        );
        tags.labels = Some(TAG_LABEL.into());
        out.push(tags);
        // The canary controllers' objects, where their CRDs are installed.
        let rollouts = kind("argoproj.io", "v1alpha1", "Rollout");
        out.push(self.watch(Topic::Rollout, "rollouts", rollouts, ns));
        let canaries = kind("flagger.app", "v1beta1", "Canary");
        out.push(self.watch(Topic::Rollout, "canaries", canaries, ns));
        out
    }

    /// One kind to watch in `namespace` (None: the whole cluster), with no selector.
    fn watch(
        &self,
        topic: Topic,
        what: &'static str,
        resource: ApiResource,
        namespace: Option<&str>,
    ) -> Watched {
        let api = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        };
        Watched {
            topic,
            what,
            api,
            fields: None,
            labels: None,
            timeout: WATCH_SECONDS,
        }
    }
}

impl Watched {
    /// Follows the kind with kube's watcher (it lists, watches from there, follows
    /// bookmarks, lists again on a 410 and backs off after a failure) until the receiver
    /// goes, or until the kind cannot be watched. Every change, and every fresh list, sends
    /// the topic, with when it came; so does every failure, so the read that follows shows
    /// why.
    pub async fn run(self, tx: mpsc::UnboundedSender<(Topic, jiff::Timestamp)>) -> Unwatchable {
        let mut config = watcher::Config::default().timeout(self.timeout);
        if let Some(fields) = &self.fields {
            config = config.fields(fields);
        }
        if let Some(labels) = &self.labels {
            config = config.labels(labels);
        }
        let mut events = watcher(self.api.clone(), config).default_backoff().boxed();
        while let Some(event) = events.next().await {
            match event {
                // A fresh list is read once it is whole.
                Ok(Event::Init | Event::InitApply(_)) => continue,
                Ok(Event::InitDone | Event::Apply(_) | Event::Delete(_)) => {}
                Err(e) => {
                    if let Some(gone) = self.gone(e) {
                        return gone;
                    }
                }
            }
            // Dated here: what it changed was written by then.
            if tx.send((self.topic, jiff::Timestamp::now())).is_err() {
                break;
            }
        }
        Unwatchable::NotServed
    }

    /// Whether a failure means the kind cannot be watched here at all.
    fn gone(&self, e: watcher::Error) -> Option<Unwatchable> {
        let (e, verb) = match e {
            watcher::Error::InitialListFailed(e) => (e, "list"),
            watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => (e, "watch"),
            watcher::Error::WatchError(status) => (kube::Error::Api(status), "watch"),
            watcher::Error::NoResourceVersion => return None,
        };
        match &e {
            kube::Error::Api(s) if s.code == 404 && verb == "list" => Some(Unwatchable::NotServed),
            kube::Error::Api(s) if s.code == 403 => {
                let ns = self.api.namespace().unwrap_or("all namespaces").to_string();
                Some(Unwatchable::Forbidden(ClusterError::from_kube(
                    e, verb, self.what, &ns,
                )))
            }
            _ => None,
        }
    }
}
