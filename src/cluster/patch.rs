//! Putting the EnvoyFilter workaround on and taking it off. Only objects that carry our
//! label are ever changed or deleted; anyone else's EnvoyFilter is left alone.

use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::Value;

use super::{Cluster, ClusterError};
use crate::istio::waypoint::WaypointRef;
use crate::patch::{MANAGED_BY_LABEL, MANAGER, envoy_filter_on, name_in};
use crate::route::Route;

const GROUP: &str = "networking.istio.io";
const VERSION: &str = "v1alpha3";

/// Whose an EnvoyFilter is: None when it is ours (our label, and, where the server keeps
/// field managers, written by us); otherwise who it belongs to, in words.
fn foreign_owner(obj: &kube::api::DynamicObject) -> Option<String> {
    let labelled = obj
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(MANAGER);
    let managers: Vec<&str> = obj
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.as_deref())
        .collect();
    let by_us = managers.is_empty() || managers.contains(&MANAGER);
    if labelled && by_us {
        return None;
    }
    let written_by = if managers.is_empty() {
        String::new()
    } else {
        format!(", written by {}", managers.join(", "))
    };
    Some(if labelled {
        format!(
            "it carries the {MANAGED_BY_LABEL}={MANAGER} label but splitscope never wrote it{written_by}"
        )
    } else {
        format!("it has no {MANAGED_BY_LABEL}={MANAGER} label{written_by}")
    })
}

fn ours(obj: &kube::api::DynamicObject) -> bool {
    foreign_owner(obj).is_none()
}

impl Cluster {
    /// When our patch for `route` exists in `namespace` (the waypoint's): its creation
    /// time.
    pub(crate) async fn patch_present(
        &self,
        route: &Route,
        namespace: &str,
    ) -> Result<Option<jiff::Timestamp>, ClusterError> {
        let api = self.dynamic_in(namespace, GROUP, VERSION, "EnvoyFilter");
        match api.get_opt(&name_in(route, namespace)).await {
            Ok(Some(obj)) if ours(&obj) => Ok(Some(
                obj.metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or_else(jiff::Timestamp::now, |t| t.0),
            )),
            Ok(_) => Ok(None),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(ClusterError::from_kube(e, "get", "envoyfilters", namespace)),
        }
    }

    /// Someone else's EnvoyFilter under our name: whose, and what to do.
    fn foreign(&self, name: &str, namespace: &str, owner: String) -> ClusterError {
        ClusterError::Foreign {
            name: name.to_string(),
            namespace: namespace.to_string(),
            owner,
        }
    }

    /// Applies the patch in the waypoint's namespace with server-side apply as field
    /// manager `splitscope`.
    pub async fn apply_patch(
        &self,
        route: &Route,
        waypoint: &WaypointRef,
        port: u16,
    ) -> Result<(), ClusterError> {
        let ns = &waypoint.namespace;
        let err = |e, verb| ClusterError::from_kube(e, verb, "envoyfilters", ns);
        let api = self.dynamic_in(ns, GROUP, VERSION, "EnvoyFilter");
        let name = name_in(route, ns);
        match api.get_opt(&name).await {
            Ok(Some(existing)) => {
                if let Some(owner) = foreign_owner(&existing) {
                    return Err(self.foreign(&name, ns, owner));
                }
            }
            Ok(None) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(err(e, "get")),
        }
        let filter: Value = envoy_filter_on(route, waypoint, port);
        // The object is ours by name and label, so we take over any field of it.
        let params = PatchParams::apply(MANAGER).force();
        api.patch(&name, &params, &Patch::Apply(&filter))
            .await
            .map_err(|e| err(e, "patch"))?;
        Ok(())
    }

    /// Deletes our patch for `route` from `namespace` (the waypoint's); absent already
    /// is success.
    pub async fn remove_patch(&self, route: &Route, namespace: &str) -> Result<bool, ClusterError> {
        let err = |e, verb| ClusterError::from_kube(e, verb, "envoyfilters", namespace);
        let api = self.dynamic_in(namespace, GROUP, VERSION, "EnvoyFilter");
        let name = name_in(route, namespace);
        let existing = match api.get_opt(&name).await {
            Ok(Some(obj)) => obj,
            Ok(None) => return Ok(false),
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
            Err(e) => return Err(err(e, "get")),
        };
        if let Some(owner) = foreign_owner(&existing) {
            return Err(self.foreign(&name, namespace, owner));
        }
        // Delete exactly the object we looked at, not one recreated meanwhile.
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: existing.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(err(e, "delete")),
        }
    }
}
