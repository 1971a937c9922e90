//! The control plane as the cluster shows it: Deployments labelled `app=istiod`, one a
//! revision, in whichever namespace Istio runs. The one that serves a waypoint is chosen
//! by the same rules splitscope reads the cluster with.

use serde_json::Value;

use crate::istio::control::{Istiod, Tag, Tags, serving as rules};
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{DEPLOYMENTS, MUTATINGWEBHOOKCONFIGURATIONS, NAMESPACES};
use crate::sandbox::storage::meta::{labels_of, name_of, namespace_of};

/// Every istiod Deployment, in any namespace.
pub(crate) fn istiods(store: &Store) -> Vec<Istiod> {
    store
        .all(&DEPLOYMENTS)
        .filter(|d| {
            labels_of(d)
                .and_then(|l| l.get("app"))
                .and_then(Value::as_str)
                == Some("istiod")
        })
        .map(Istiod::from_object)
        .collect()
}

/// The revision tags: MutatingWebhookConfigurations labelled `istio.io/tag`.
pub(crate) fn tags(store: &Store) -> Vec<Tag> {
    store
        .all(&MUTATINGWEBHOOKCONFIGURATIONS)
        .filter_map(Tag::from_object)
        .collect()
}

/// The istiod that serves a waypoint Gateway, by istiod's rules (its revision label or
/// its namespace's, tags, the default tag); None when nothing serves it.
pub fn serving(store: &Store, gateway: &Value) -> Option<Istiod> {
    let namespace = store
        .all(&NAMESPACES)
        .find(|n| name_of(n) == namespace_of(gateway));
    let (all, tags) = (istiods(store), tags(store));
    rules(&all, Tags::Read(&tags), Some(gateway), namespace, None)
        .ok()
        .map(|(istiod, _)| istiod.clone())
}
