//! Putting the EnvoyFilter workaround on and taking it off. Only objects that carry our
//! label are ever changed or deleted; anyone else's EnvoyFilter is left alone.

use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::Value;

use super::{Cluster, ClusterError};
use crate::patch::{MANAGED_BY_LABEL, MANAGER, envoy_filter, name_for};
use crate::route::Route;

const GROUP: &str = "networking.istio.io";
const VERSION: &str = "v1alpha3";

fn ours(obj: &kube::api::DynamicObject) -> bool {
    obj.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(MANAGER)
}

impl Cluster {
    /// When our patch for `route` exists: its creation time.
    pub async fn patch_present(
        &self,
        route: &Route,
    ) -> Result<Option<jiff::Timestamp>, ClusterError> {
        let api = self.dynamic(GROUP, VERSION, "EnvoyFilter");
        match api.get_opt(&name_for(route)).await {
            Ok(Some(obj)) if ours(&obj) => Ok(Some(
                obj.metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or_else(jiff::Timestamp::now, |t| t.0),
            )),
            Ok(_) => Ok(None),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
            Err(e) => Err(self.err(e, "get", "envoyfilters")),
        }
    }

    /// Applies the patch with server-side apply as field manager `splitscope`.
    pub async fn apply_patch(
        &self,
        route: &Route,
        waypoint: &str,
        port: u16,
    ) -> Result<(), ClusterError> {
        let api = self.dynamic(GROUP, VERSION, "EnvoyFilter");
        let name = name_for(route);
        match api.get_opt(&name).await {
            Ok(Some(existing)) if !ours(&existing) => {
                return Err(ClusterError::Api(format!(
                    "an EnvoyFilter named {name} exists and is not managed by splitscope; leaving it alone"
                )));
            }
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(self.err(e, "get", "envoyfilters")),
        }
        let filter: Value = envoy_filter(route, waypoint, port);
        // The object is ours by name and label, so we take over any field of it.
        let params = PatchParams::apply(MANAGER).force();
        api.patch(&name, &params, &Patch::Apply(&filter))
            .await
            .map_err(|e| self.err(e, "patch", "envoyfilters"))?;
        Ok(())
    }

    /// Deletes our patch for `route`; absent already is success.
    pub async fn remove_patch(&self, route: &Route) -> Result<bool, ClusterError> {
        let api = self.dynamic(GROUP, VERSION, "EnvoyFilter");
        let name = name_for(route);
        let existing = match api.get_opt(&name).await {
            Ok(Some(obj)) => obj,
            Ok(None) => return Ok(false),
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
            Err(e) => return Err(self.err(e, "get", "envoyfilters")),
        };
        if !ours(&existing) {
            return Err(ClusterError::Api(format!(
                "the EnvoyFilter {name} is not managed by splitscope (no {MANAGED_BY_LABEL}={MANAGER} label); not deleting it"
            )));
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
            Err(e) => Err(self.err(e, "delete", "envoyfilters")),
        }
    }
}
