//! The control plane that serves a waypoint, as istiod's revisions and tags decide it:
//! the istiod of the waypoint's revision (its pod's annotation, its Gateway's or
//! namespace's label through a tag, or the default), its version and the waypoint
//! proxy's.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::discover::GATEWAY_GROUP;
use super::mesh::{ControlPlane, NAME_OVERRIDE, Seen};
use super::{Cluster, ClusterError};
use crate::istio::control::{
    How, ISTIO_NAMESPACE, ISTIOD_SELECTOR, Istiod, REV_ANNOTATION, Tag, Tags, serving,
};
use crate::istio::image_version;
use crate::istio::waypoint::WaypointRef;

impl Cluster {
    /// The control plane serving `waypoint` (the default revision without one): the
    /// istiod of its revision in the Istio namespace, and the versions it and the
    /// waypoint's proxy run.
    pub async fn control_plane(
        &self,
        waypoint: Option<&WaypointRef>,
    ) -> Result<ControlPlane, ClusterError> {
        let mut seen = Seen::default();
        let (gateway, namespace) = match waypoint {
            Some(w) => {
                let gateway = self
                    .dynamic_in(&w.namespace, GATEWAY_GROUP, "v1", "Gateway")
                    .get_opt(&w.name)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|g| serde_json::to_value(g).ok());
                let namespace = self
                    .namespace_object(&mut seen, &w.namespace)
                    .await
                    .ok()
                    .flatten();
                (gateway, namespace)
            }
            None => (None, None),
        };
        self.control_plane_of(&mut seen, waypoint, gateway.as_ref(), namespace.as_ref())
            .await
    }

    /// The same from the waypoint's Gateway and namespace as read, by istiod's rules:
    /// the revision on the waypoint's pod, else labels and tags, else the default tag.
    pub(super) async fn control_plane_of(
        &self,
        seen: &mut Seen,
        waypoint: Option<&WaypointRef>,
        gateway: Option<&Value>,
        namespace: Option<&Value>,
    ) -> Result<ControlPlane, ClusterError> {
        let istiods = self.istiods().await?;
        let tags = self.tags(seen).await?;
        let tags = match &tags {
            Some(tags) => Tags::Read(tags),
            None => Tags::Unreadable,
        };
        let deployment = match (waypoint, gateway) {
            (Some(w), Some(g)) => self.waypoint_deployment(w, g).await,
            _ => None,
        };
        let pod_revision = deployment.as_ref().and_then(|d| {
            d.spec
                .template
                .metadata
                .as_ref()?
                .annotations
                .as_ref()?
                .get(REV_ANNOTATION)
                .cloned()
        });
        let mut plane = ControlPlane::default();
        match serving(&istiods, tags, gateway, namespace, pod_revision.as_deref()) {
            Ok((istiod, how)) => {
                plane.revision.clone_from(&istiod.revision);
                // A tag is worth saying: the revision is not the one the labels name.
                if matches!(how, How::Tag { .. } | How::DefaultTag(_)) {
                    plane.how = Some(how.to_string());
                }
                match istiod.version() {
                    Ok(version) => plane.version = Some(version),
                    // Why in words: the header says it where the version would be.
                    Err(why) => plane.unknown = Some(why.to_string()),
                }
            }
            Err(why) => plane.unknown = Some(why.to_string()),
        }
        if let Some(proxy) = deployment.as_ref().and_then(proxy_version)
            && plane.version.as_ref() != Some(&proxy)
        {
            plane.proxy = Some(proxy);
        }
        Ok(plane)
    }

    /// The revision tags; None where RBAC forbids reading them (said once in the notes).
    async fn tags(&self, seen: &mut Seen) -> Result<Option<Vec<Tag>>, ClusterError> {
        let webhooks: Api<MutatingWebhookConfiguration> = Api::all(self.client.clone());
        let tagged = ListParams::default().labels("istio.io/tag");
        match webhooks.list(&tagged).await {
            Ok(list) => Ok(Some(
                list.items
                    .iter()
                    .filter_map(|w| serde_json::to_value(w).ok())
                    .filter_map(|w| Tag::from_object(&w))
                    .collect(),
            )),
            Err(e) => match ClusterError::from_kube(
                e,
                "list",
                "mutatingwebhookconfigurations",
                "the cluster",
            ) {
                e if e.is_transient() => Err(e),
                e => {
                    seen.notes.push(format!(
                        "cannot read revision tags ({e}); revisions are taken as written"
                    ));
                    Ok(None)
                }
            },
        }
    }

    /// The waypoint's Deployment: named after the Gateway, or as its
    /// `gateway.istio.io/name-override` says.
    async fn waypoint_deployment(
        &self,
        waypoint: &WaypointRef,
        gateway: &Value,
    ) -> Option<Deployment> {
        let name = gateway
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(NAME_OVERRIDE))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(&waypoint.name);
        let deployments: Api<Deployment> =
            Api::namespaced(self.client.clone(), &waypoint.namespace);
        deployments.get_opt(name).await.ok()?
    }

    /// istiod's Deployments: in `--istio-namespace`, else istio-system, else wherever
    /// one is labelled `app=istiod`.
    async fn istiods(&self) -> Result<Vec<Istiod>, ClusterError> {
        let by_label = ListParams::default().labels(ISTIOD_SELECTOR);
        let ns = self.istio_namespace.as_deref().unwrap_or(ISTIO_NAMESPACE);
        let read = |list: Vec<Deployment>| {
            list.iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .map(|d| Istiod::from_object(&d))
                .collect::<Vec<_>>()
        };
        let here: Api<Deployment> = Api::namespaced(self.client.clone(), ns);
        match here.list(&by_label).await {
            Ok(list) if !list.items.is_empty() || self.istio_namespace.is_some() => {
                return Ok(read(list.items));
            }
            Ok(_) => {}
            Err(e) => {
                let e = ClusterError::from_kube(e, "list", "deployments", ns);
                if e.is_transient() || self.istio_namespace.is_some() {
                    return Err(e);
                }
            }
        }
        // Istio runs elsewhere: find it by its label, where RBAC lets us look.
        let everywhere: Api<Deployment> = Api::all(self.client.clone());
        match everywhere.list(&by_label).await {
            Ok(list) => Ok(read(list.items)),
            Err(e) => {
                let e = ClusterError::from_kube(e, "list", "deployments", "all namespaces");
                if e.is_transient() {
                    Err(e)
                } else {
                    Ok(Vec::new())
                }
            }
        }
    }
}

/// The version the waypoint's proxy runs, from its Deployment's image.
fn proxy_version(deploy: &Deployment) -> Option<String> {
    let spec = deploy.spec.template.spec.as_ref()?;
    let proxy = spec
        .containers
        .iter()
        .find(|c| c.name == "istio-proxy")
        .or_else(|| spec.containers.first())?;
    image_version(proxy.image.as_deref()?).ok()
}
