//! What the mesh says about a route, read from the cluster as istiod reads it: the
//! waypoint that serves the route's Service (and why that one), and the control plane
//! that serves the waypoint, with its version and the waypoint proxy's own.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::discover::GATEWAY_GROUP;
use super::{Cluster, ClusterError};
use crate::istio::control::{ISTIO_NAMESPACE, ISTIOD_SELECTOR, Istiod, pick, revision};
use crate::istio::image_version;
use crate::istio::waypoint::{
    Choice, WAYPOINT_CLASS, WaypointRef, choose, serves_services, why_none,
};

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
    /// The waypoint proxy's version, when it differs from the control plane's.
    pub proxy: Option<String>,
    /// What stands in the patch's way: backends the waypoint does not serve.
    pub warnings: Vec<String>,
}

/// The control plane that serves the waypoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlPlane {
    /// Its version, or why it cannot be told.
    pub version: Option<String>,
    pub unknown: Option<String>,
    /// The revision, when not the default.
    pub revision: Option<String>,
    /// The waypoint proxy's version, when it differs from the control plane's.
    pub proxy: Option<String>,
}

fn labels_value<K: serde::Serialize>(obj: &K) -> Option<Value> {
    serde_json::to_value(obj)
        .ok()?
        .pointer("/metadata/labels")
        .cloned()
}

impl Cluster {
    /// The waypoint for the Service `service` of this namespace: its label, else the
    /// namespace's, where such a waypoint exists and serves Services.
    pub async fn waypoint_for(&self, service: &str) -> Result<WaypointInfo, ClusterError> {
        let choice = self.waypoint_choice(&self.namespace, service).await?;
        let Choice::Uses(waypoint) = choice else {
            return Ok(WaypointInfo::NoneServes(why_none(&choice)));
        };
        let gateways = self.dynamic_in(&waypoint.namespace, GATEWAY_GROUP, "v1", "Gateway");
        let gateway = match gateways.get_opt(&waypoint.name).await {
            Ok(Some(g)) => g,
            Ok(None) => {
                return Ok(WaypointInfo::NoneServes(format!(
                    "{} names waypoint {}/{}, which does not exist",
                    waypoint.source.describe().trim_start_matches("from "),
                    waypoint.namespace,
                    waypoint.name
                )));
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
        if gateway
            .data
            .pointer("/spec/gatewayClassName")
            .and_then(Value::as_str)
            != Some(WAYPOINT_CLASS)
        {
            return Ok(WaypointInfo::NoneServes(format!(
                "{}/{} is not a waypoint (its class is not {WAYPOINT_CLASS})",
                waypoint.namespace, waypoint.name
            )));
        }
        let labels = gateway
            .metadata
            .labels
            .as_ref()
            .and_then(|l| serde_json::to_value(l).ok());
        if let Err(why) = serves_services(labels.as_ref()) {
            return Ok(WaypointInfo::NoneServes(format!(
                "waypoint {}/{} does not serve Services: {why}",
                waypoint.namespace, waypoint.name
            )));
        }
        Ok(WaypointInfo::Named(waypoint))
    }

    /// What the labels of the Service `service` in `namespace`, and of its namespace, say.
    async fn waypoint_choice(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Choice, ClusterError> {
        let err = |e, verb, what| ClusterError::from_kube(e, verb, what, namespace);
        let services: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let svc = services
            .get_opt(service)
            .await
            .map_err(|e| err(e, "get", "services"))?;
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let ns = namespaces
            .get_opt(namespace)
            .await
            .map_err(|e| err(e, "get", "namespaces"))?;
        Ok(choose(
            namespace,
            svc.as_ref().and_then(labels_value).as_ref(),
            ns.as_ref().and_then(labels_value).as_ref(),
        ))
    }

    /// The route's backends that `waypoint` does not serve: it has no cluster for them,
    /// so the patch cannot send traffic there. Each with why, for the screen.
    pub async fn unbound_backends(
        &self,
        route: &crate::route::Route,
        waypoint: &WaypointRef,
    ) -> Result<Vec<String>, ClusterError> {
        let mut unbound = Vec::new();
        for backend in &route.backends {
            let choice = self
                .waypoint_choice(&backend.namespace, &backend.name)
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

    /// The control plane serving `waypoint` (the default revision without one): the
    /// istiod of its revision in the Istio namespace, and the versions it and the
    /// waypoint's proxy run.
    pub async fn control_plane(
        &self,
        waypoint: Option<&WaypointRef>,
    ) -> Result<ControlPlane, ClusterError> {
        let (gateway, namespace) = match waypoint {
            Some(w) => {
                let gateway = self
                    .dynamic_in(&w.namespace, GATEWAY_GROUP, "v1", "Gateway")
                    .get_opt(&w.name)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|g| serde_json::to_value(g).ok());
                let namespace = Api::<Namespace>::all(self.client.clone())
                    .get_opt(&w.namespace)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|n| serde_json::to_value(n).ok());
                (gateway, namespace)
            }
            None => (None, None),
        };
        let rev = revision(gateway.as_ref(), namespace.as_ref());
        let istiods = self.istiods().await?;
        let mut plane = ControlPlane {
            revision: rev.clone(),
            ..ControlPlane::default()
        };
        match pick(&istiods, rev.as_deref()).map(Istiod::version) {
            Ok(Ok(version)) => plane.version = Some(version),
            Ok(Err(why)) | Err(why) => plane.unknown = Some(why),
        }
        if let Some(w) = waypoint
            && let Some(proxy) = self.proxy_version(w).await
            && plane.version.as_ref() != Some(&proxy)
        {
            plane.proxy = Some(proxy);
        }
        Ok(plane)
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

    /// The version the waypoint's proxy runs, from its Deployment's image.
    async fn proxy_version(&self, waypoint: &WaypointRef) -> Option<String> {
        let deployments: Api<Deployment> =
            Api::namespaced(self.client.clone(), &waypoint.namespace);
        let deploy = deployments.get_opt(&waypoint.name).await.ok()??;
        let spec = deploy.spec.template.spec?;
        let proxy = spec
            .containers
            .iter()
            .find(|c| c.name == "istio-proxy")
            .or_else(|| spec.containers.first())?;
        image_version(proxy.image.as_deref()?).ok()
    }
}
