//! The control plane as the cluster shows it: the Deployment `istiod` in `istio-system`.

use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::DEPLOYMENTS;
use crate::sandbox::storage::meta::{name_of, namespace_of, str_at};

/// The Istio version the control plane runs: the tag of the `istiod` image.
pub fn istio_version(store: &Store) -> Option<String> {
    store
        .all(&DEPLOYMENTS)
        .find(|d| name_of(d) == "istiod" && namespace_of(d) == "istio-system")
        .and_then(|d| str_at(d, "/spec/template/spec/containers/0/image"))
        .and_then(|image| image.rsplit_once(':').map(|(_, tag)| tag.to_string()))
}
