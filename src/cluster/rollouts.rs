//! The canary rollout behind the route: an Argo Rollout or a Flagger Canary in the
//! route's namespace that names it. A cluster without their CRDs has none; where RBAC
//! forbids reading them, the screen says so once and goes on without steps.

use kube::api::DynamicObject;
use kube::api::{ListParams, ObjectList};
use serde_json::Value;

use super::{Cluster, ClusterError};
use crate::rollout::{Controller, Rollout};
use crate::route::Route;

/// Each controller's kind: group, version, kind, plural.
const KINDS: [(Controller, &str, &str, &str, &str); 2] = [
    (
        Controller::Argo,
        "argoproj.io",
        "v1alpha1",
        "Rollout",
        "rollouts",
    ),
    (
        Controller::Flagger,
        "flagger.app",
        "v1beta1",
        "Canary",
        "canaries",
    ),
];

/// What was read of the rollouts: the one behind the route, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RolloutRead {
    pub rollout: Option<Rollout>,
    /// Kinds RBAC would not let us list, and why: no steps are shown from them.
    pub forbidden: Vec<String>,
}

impl Cluster {
    /// The Argo Rollout or Flagger Canary behind `route`, if one names it. A kind the
    /// cluster does not serve is passed over; a server that cannot answer now is an
    /// error (what was read before stands).
    pub async fn rollout_behind(&self, route: &Route) -> Result<RolloutRead, ClusterError> {
        let mut read = RolloutRead::default();
        for (controller, group, version, kind, plural) in KINDS {
            let api = self.dynamic_in(&route.namespace, group, version, kind);
            let listed: ObjectList<DynamicObject> = match api.list(&ListParams::default()).await {
                Ok(list) => list,
                Err(e) => match ClusterError::from_kube(e, "list", plural, &route.namespace) {
                    e if e.is_transient() => return Err(e),
                    ClusterError::Forbidden { .. } => {
                        read.forbidden.push(format!("{plural}.{group}"));
                        continue;
                    }
                    // Not installed (404), or anything else that says none here.
                    _ => continue,
                },
            };
            let objects: Vec<Value> = listed
                .items
                .iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect();
            if let Some(found) = crate::rollout::behind(
                controller,
                &objects,
                route.kind.name(),
                &route.name,
                &route.namespace,
            ) {
                read.rollout = Some(found);
                break;
            }
        }
        Ok(read)
    }
}
