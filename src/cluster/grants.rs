//! ReferenceGrants: a route may send traffic to a Service in another namespace only where
//! a grant there lists the route's kind and namespace under `from` and the Service (or
//! every Service) under `to`; an implementation drops a backend no grant permits.

use kube::api::ListParams;
use serde_json::Value;

use super::discover::GATEWAY_GROUP;
use super::{Cluster, ClusterError};
use crate::json::str_at;
use crate::route::Route;

impl Cluster {
    /// Marks the backends in other namespaces that no ReferenceGrant there lets the
    /// route reach: one must list the route's kind and namespace under `from`, and the
    /// Service (or every Service) under `to`. Where grants cannot be read (RBAC), the
    /// backend is left as permitted: that cannot be told.
    pub(crate) async fn check_grants(&self, route: &mut Route) -> Result<(), ClusterError> {
        let namespaces: std::collections::BTreeSet<String> = route
            .backends
            .iter()
            .filter(|b| b.namespace != route.namespace)
            .map(|b| b.namespace.clone())
            .collect();
        for ns in namespaces {
            let grants = match self.reference_grants(&ns).await {
                Ok(grants) => grants,
                Err(e) if e.is_transient() => return Err(e),
                Err(_) => continue,
            };
            for backend in route.backends.iter_mut().filter(|b| b.namespace == ns) {
                let permits = |g: &Value| {
                    let from = g.pointer("/spec/from").and_then(Value::as_array);
                    let to = g.pointer("/spec/to").and_then(Value::as_array);
                    from.into_iter().flatten().any(|f| {
                        str_at(f, "/group") == Some(GATEWAY_GROUP)
                            && str_at(f, "/kind") == Some(route.kind.name())
                            && str_at(f, "/namespace") == Some(route.namespace.as_str())
                    }) && to.into_iter().flatten().any(|t| {
                        matches!(str_at(t, "/group"), Some("" | "core"))
                            && str_at(t, "/kind") == Some("Service")
                            && str_at(t, "/name").is_none_or(|n| n == backend.name)
                    })
                };
                if !grants.iter().any(permits) {
                    backend.refused = Some(format!(
                        "no ReferenceGrant in namespace {ns} lets {} {}/{} reach Service {}",
                        route.kind, route.namespace, route.name, backend.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The ReferenceGrants of a namespace; none where the cluster does not serve them.
    async fn reference_grants(&self, ns: &str) -> Result<Vec<Value>, ClusterError> {
        for version in ["v1beta1", "v1"] {
            match self
                .dynamic_in(ns, GATEWAY_GROUP, version, "ReferenceGrant")
                .list(&ListParams::default())
                .await
            {
                Ok(list) => {
                    return Ok(list
                        .items
                        .iter()
                        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
                        .collect());
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(ClusterError::from_kube(e, "list", "referencegrants", ns)),
            }
        }
        Ok(Vec::new())
    }
}
