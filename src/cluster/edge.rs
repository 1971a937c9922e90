//! Routes at the edge: the Gateway a route attaches to stands where a waypoint does in
//! the mesh, and the probe reaches it through the Service its controller made.

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::discover::GATEWAY_GROUP;
use super::mesh::WaypointInfo;
use super::{Cluster, ClusterError};
use crate::istio::waypoint::{GATEWAY_NAME_LABEL, Source, WaypointRef};

impl Cluster {
    /// The route's parent Gateway, as read.
    pub(crate) async fn parent_gateway(
        &self,
        route: &crate::route::Route,
    ) -> Result<(WaypointInfo, Option<Value>), ClusterError> {
        let gateway = self
            .dynamic_in(&route.parent_namespace, GATEWAY_GROUP, "v1", "Gateway")
            .get_opt(&route.parent)
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "gateways", &route.parent_namespace))?;
        Ok(match gateway {
            Some(g) => (
                WaypointInfo::Named(WaypointRef {
                    name: route.parent.clone(),
                    namespace: route.parent_namespace.clone(),
                    source: Source::Parent,
                }),
                serde_json::to_value(g).ok(),
            ),
            None => (
                WaypointInfo::NoneServes(format!(
                    "the route's parent Gateway {}/{} does not exist",
                    route.parent_namespace, route.parent
                )),
                None,
            ),
        })
    }

    /// Where the probe reaches a route's parent Gateway from inside the cluster: the
    /// Service its controller made for it (labelled with the Gateway's name), on the
    /// port of the listener the route attaches to (its `sectionName` or port, else the
    /// first listener of the route's protocol).
    pub(crate) async fn gateway_target(
        &self,
        route: &crate::route::Route,
    ) -> Result<(String, u16), ClusterError> {
        let section = route.section.as_deref();
        let ns = &route.parent_namespace;
        let gateway = self
            .dynamic_in(ns, GATEWAY_GROUP, "v1", "Gateway")
            .get(&route.parent)
            .await
            .map_err(|e| ClusterError::from_kube(e, "get", "gateways", ns))?;
        let gateway = serde_json::to_value(gateway).unwrap_or(Value::Null);
        let listeners = gateway
            .pointer("/spec/listeners")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // The probe speaks plain HTTP: an HTTPS listener would need TLS.
        let protocols: &[&str] = match route.kind {
            crate::route::RouteKind::Http | crate::route::RouteKind::Grpc => &["HTTP"],
            crate::route::RouteKind::Tls => &["TLS", "HTTPS"],
            crate::route::RouteKind::Tcp => &["TCP"],
        };
        let listener = listeners
            .iter()
            .find(|l| {
                let name = l.get("name").and_then(Value::as_str);
                let port = l.get("port").and_then(Value::as_u64);
                // sectionName and port both, where both are given.
                match (section, route.parent_port) {
                    (Some(s), Some(p)) => name == Some(s) && port == Some(u64::from(p)),
                    (Some(s), None) => name == Some(s),
                    (None, Some(p)) => port == Some(u64::from(p)),
                    (None, None) => l
                        .get("protocol")
                        .and_then(Value::as_str)
                        .is_some_and(|p| protocols.contains(&p)),
                }
            })
            .ok_or_else(|| {
                ClusterError::Unreached(format!(
                    "Gateway {ns}/{} has no listener for this {}; pass --target HOST:PORT",
                    route.parent, route.kind
                ))
            })?;
        let port = listener
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(80);
        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        let label = format!("{GATEWAY_NAME_LABEL}={}", route.parent);
        let found = services
            .list(&ListParams::default().labels(&label))
            .await
            .map_err(|e| ClusterError::from_kube(e, "list", "services", ns))?;
        let service = found
            .items
            .first()
            .and_then(|s| s.metadata.name.clone())
            .ok_or_else(|| {
                ClusterError::Unreached(format!(
                    "Gateway {ns}/{} has no Service labelled {label} yet (is it programmed?); pass --target HOST:PORT",
                    route.parent
                ))
            })?;
        Ok((format!("{service}.{ns}"), port))
    }
}
