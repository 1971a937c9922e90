//! What the mesh says about a route, read from the cluster as istiod reads it: the
//! waypoint that serves the route's Service (and why that one), and the control plane
//! that serves the waypoint, with its version and the waypoint proxy's own (read in
//! `control_plane.rs`).

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use super::discover::GATEWAY_GROUP;
use super::{Cluster, ClusterError};
use crate::istio::waypoint::{Choice, Class, Source, WaypointRef, binds, choose, why_none};

/// The annotation that renames a Gateway's Deployment.
pub(super) const NAME_OVERRIDE: &str = "gateway.istio.io/name-override";

/// Which waypoint serves the route's Service, as far as the cluster lets us know.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum WaypointInfo {
    /// Not read yet.
    #[default]
    Unknown,
    Named(WaypointRef),
    /// No waypoint serves the Service (the patch would select nothing), and why.
    NoneServes(String),
    /// The cluster would not say (RBAC, say): unknown, not "none".
    Unreadable(ClusterError),
}

impl WaypointInfo {
    pub fn name(&self) -> Option<&str> {
        match self {
            WaypointInfo::Named(w) => Some(&w.name),
            _ => None,
        }
    }

    pub fn waypoint(&self) -> Option<&WaypointRef> {
        match self {
            WaypointInfo::Named(w) => Some(w),
            _ => None,
        }
    }
}

/// What the cluster says about the route's mesh, as the header shows it: the waypoint, and the control plane
/// that serves it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterInfo {
    pub waypoint: WaypointInfo,
    /// The version of the istiod that serves the waypoint.
    pub istio: Option<String>,
    /// Why the version is unknown, when it is.
    pub istio_unknown: Option<String>,
    /// The control plane's revision, when not the default.
    pub revision: Option<String>,
    /// The revision tag that chose it, when one did ("revision tag prod -> 1-26-0").
    pub tag: Option<String>,
    /// The waypoint proxy's version, when it differs from the control plane's.
    pub proxy: Option<String>,
    /// What stands in the patch's way: backends the waypoint does not serve.
    pub warnings: Vec<String>,
    /// What could not be read (RBAC) and was done without.
    pub notes: Vec<String>,
}

/// The control plane that serves the waypoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlPlane {
    /// Its version, or why it cannot be told.
    pub version: Option<String>,
    pub unknown: Option<String>,
    /// The revision, when not the default.
    pub revision: Option<String>,
    /// How the revision was found (a tag, the default tag, the waypoint's pod).
    pub how: Option<String>,
    /// The waypoint proxy's version, when it differs from the control plane's.
    pub proxy: Option<String>,
}

fn labels_value<K: serde::Serialize>(obj: &K) -> Option<Value> {
    serde_json::to_value(obj)
        .ok()?
        .pointer("/metadata/labels")
        .cloned()
}

/// What one look at the mesh found: the waypoint, its control plane, and the backends
/// it does not serve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MeshFacts {
    pub waypoint: WaypointInfo,
    pub plane: ControlPlane,
    pub warnings: Vec<String>,
    /// What could not be read (RBAC) and was done without.
    pub notes: Vec<String>,
}

/// Namespaces read during one look at the mesh: the Service's, its backends' and the
/// waypoint's are mostly one, and it is read once.
#[derive(Default)]
pub(super) struct Seen {
    namespaces: HashMap<String, Option<Value>>,
    /// What could not be read and was done without (RBAC), for the facts' notes.
    pub(super) notes: Vec<String>,
}

impl Cluster {
    /// The Istio version of the control plane that serves the route's waypoint, as the
    /// header shows it.
    pub async fn istio_version(
        &self,
        route: &crate::route::Route,
    ) -> Result<Option<String>, ClusterError> {
        Ok(self.mesh_facts(route).await?.plane.version)
    }

    /// The waypoint for the route's Service, the control plane that serves it, and the
    /// route's backends it does not serve. Only an error that says nothing of the cluster
    /// (unreachable, 5xx, 429) is an error; the rest is told in the facts.
    pub(crate) async fn mesh_facts(
        &self,
        route: &crate::route::Route,
    ) -> Result<MeshFacts, ClusterError> {
        let mut seen = Seen::default();
        // At the edge the route's Gateway stands where a waypoint does in the mesh.
        let resolved = match route.parent_kind {
            crate::route::ParentKind::Service => {
                self.resolve_waypoint(&mut seen, &route.parent).await
            }
            crate::route::ParentKind::Gateway => self.parent_gateway(route).await,
        };
        let (waypoint, gateway) = match resolved {
            Ok(found) => found,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => (WaypointInfo::Unreadable(e), None),
        };
        let namespace = match waypoint.waypoint() {
            Some(w) => self
                .namespace_object(&mut seen, &w.namespace)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let plane = match self
            .control_plane_of(
                &mut seen,
                waypoint.waypoint(),
                gateway.as_ref(),
                namespace.as_ref(),
            )
            .await
        {
            Ok(plane) => plane,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => ControlPlane {
                unknown: Some(format!("cannot read istiod: {e}")),
                ..ControlPlane::default()
            },
        };
        let warnings = match waypoint.waypoint().filter(|w| w.source != Source::Parent) {
            Some(w) => match self.unbound_backends(&mut seen, route, w).await {
                Ok(unbound) => unbound,
                Err(e) if e.is_transient() => return Err(e),
                // Not allowed to look: no warning rather than a wrong one.
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        Ok(MeshFacts {
            waypoint,
            plane,
            warnings,
            notes: seen.notes,
        })
    }

    /// The waypoint for the Service `service` of this namespace: its label, else the
    /// namespace's, where such a waypoint exists and serves Services.
    pub async fn waypoint_for(&self, service: &str) -> Result<WaypointInfo, ClusterError> {
        let (waypoint, _) = self.resolve_waypoint(&mut Seen::default(), service).await?;
        Ok(waypoint)
    }

    /// The waypoint, and its Gateway as read.
    async fn resolve_waypoint(
        &self,
        seen: &mut Seen,
        service: &str,
    ) -> Result<(WaypointInfo, Option<Value>), ClusterError> {
        let choice = self.waypoint_choice(seen, &self.namespace, service).await?;
        let Choice::Uses(waypoint) = choice else {
            return Ok((WaypointInfo::NoneServes(why_none(&choice)), None));
        };
        let gateways = self.dynamic_in(&waypoint.namespace, GATEWAY_GROUP, "v1", "Gateway");
        let gateway = match gateways.get_opt(&waypoint.name).await {
            Ok(Some(g)) => serde_json::to_value(g).unwrap_or(Value::Null),
            Ok(None) => {
                let why = format!(
                    "{} names waypoint {}/{}, which does not exist",
                    waypoint.source.describe().trim_start_matches("from "),
                    waypoint.namespace,
                    waypoint.name
                );
                return Ok((WaypointInfo::NoneServes(why), None));
            }
            Err(e) => {
                return Err(ClusterError::from_kube(
                    e,
                    "get",
                    "gateways",
                    &waypoint.namespace,
                ));
            }
        };
        let class = self.gateway_class(seen, &gateway).await?;
        let service_ns = self
            .namespace_object(seen, &self.namespace)
            .await?
            .and_then(|n| n.pointer("/metadata/labels").cloned());
        let class = match &class {
            Some(found) => Class::Read(found.as_ref()),
            None => Class::Unreadable,
        };
        Ok(
            match binds(&self.namespace, service_ns.as_ref(), &gateway, class) {
                Err(why) => (WaypointInfo::NoneServes(why.to_string()), None),
                Ok(()) => (WaypointInfo::Named(waypoint), Some(gateway)),
            },
        )
    }

    /// The GatewayClass of `gateway`: Some(None) when there is none of that name, None
    /// when RBAC does not let us read classes (said once in the facts' notes).
    async fn gateway_class(
        &self,
        seen: &mut Seen,
        gateway: &Value,
    ) -> Result<Option<Option<Value>>, ClusterError> {
        let name = gateway
            .pointer("/spec/gatewayClassName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let classes: Api<DynamicObject> = Api::all_with(
            self.client.clone(),
            &ApiResource::from_gvk(&GroupVersionKind::gvk(GATEWAY_GROUP, "v1", "GatewayClass")),
        );
        match classes.get_opt(name).await {
            Ok(found) => Ok(Some(found.and_then(|c| serde_json::to_value(c).ok()))),
            Err(e) => match ClusterError::from_kube(e, "get", "gatewayclasses", "the cluster") {
                e if e.is_transient() => Err(e),
                e => {
                    seen.notes.push(format!(
                        "cannot read GatewayClasses ({e}); taking istio-waypoint as the only waypoint class"
                    ));
                    Ok(None)
                }
            },
        }
    }

    /// A namespace as an object, read once a look.
    pub(super) async fn namespace_object(
        &self,
        seen: &mut Seen,
        namespace: &str,
    ) -> Result<Option<Value>, ClusterError> {
        if let Some(found) = seen.namespaces.get(namespace) {
            return Ok(found.clone());
        }
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let found = namespaces
            .get_opt(namespace)
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "namespaces", namespace))?
            .and_then(|n| serde_json::to_value(n).ok());
        seen.namespaces.insert(namespace.to_string(), found.clone());
        Ok(found)
    }

    /// What the labels of the Service `service` in `namespace`, and of its namespace, say.
    async fn waypoint_choice(
        &self,
        seen: &mut Seen,
        namespace: &str,
        service: &str,
    ) -> Result<Choice, ClusterError> {
        let services: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let svc = services
            .get_opt(service)
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "services", namespace))?;
        let ns = self.namespace_object(seen, namespace).await?;
        Ok(choose(
            namespace,
            svc.as_ref().and_then(labels_value).as_ref(),
            ns.as_ref().and_then(|n| n.pointer("/metadata/labels")),
        ))
    }

    /// The route's backends that `waypoint` does not serve: it has no cluster for them,
    /// so the patch cannot send traffic there. Each with why, for the screen.
    async fn unbound_backends(
        &self,
        seen: &mut Seen,
        route: &crate::route::Route,
        waypoint: &WaypointRef,
    ) -> Result<Vec<String>, ClusterError> {
        let mut unbound = Vec::new();
        for backend in &route.backends {
            let choice = self
                .waypoint_choice(seen, &backend.namespace, &backend.name)
                .await?;
            let bound = matches!(&choice, Choice::Uses(w)
                if w.name == waypoint.name && w.namespace == waypoint.namespace);
            if !bound {
                unbound.push(format!(
                    "backend {} is not bound to waypoint {} ({}): the patch cannot send traffic to it",
                    backend.name,
                    waypoint.name,
                    match &choice {
                        Choice::Uses(w) => format!("it uses {}/{}", w.namespace, w.name),
                        other => why_none(other),
                    }
                ));
            }
        }
        Ok(unbound)
    }
}
