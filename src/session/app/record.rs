//! What `--record FILE` keeps: every sample, and the route, the patch, the ready endpoints
//! and the cluster facts as they change, one JSON object a line. The app only collects
//! them; the runtime writes them; `splitscope replay` reads them back.

use serde::{Deserialize, Serialize};

use crate::cluster::mesh::{ClusterInfo, WaypointInfo};
use crate::istio::waypoint::WaypointRef;

fn tcp_route() -> String {
    crate::route::RouteKind::Tcp.name().to_string()
}

fn is_tcp_route(kind: &str) -> bool {
    kind == crate::route::RouteKind::Tcp.name()
}

fn first_rule() -> usize {
    1
}

fn is_first_rule(rule: &usize) -> bool {
    *rule == 1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Sample {
        at: String,
        pod: Option<String>,
        prefix: String,
        /// The backend the prefix maps to; None for an unmapped reply.
        backend: Option<String>,
        line: String,
    },
    Route {
        at: String,
        /// `HTTPRoute`, …; absent in older recordings, which were all of TCPRoutes.
        #[serde(
            rename = "route_kind",
            default = "tcp_route",
            skip_serializing_if = "is_tcp_route"
        )]
        route_kind: String,
        /// The rule the split is read from, from 1.
        #[serde(default = "first_rule", skip_serializing_if = "is_first_rule")]
        rule: usize,
        name: String,
        #[serde(default)]
        namespace: String,
        /// Backend name and weight, in the route's order.
        weights: Vec<(String, u32)>,
        /// Backends the route may not reach (no ReferenceGrant): counted as weight 0.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        refused: Vec<String>,
    },
    Patch {
        at: String,
        on: bool,
        /// Seen in the cluster (there at the start, or changed by someone else), rather
        /// than a toggle of ours: it starts no regime.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        observed: bool,
        /// For a toggle: the `--settle` the run waited after it, in seconds, so a replay
        /// starts the new regime where the run did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        settle: Option<f64>,
    },
    /// A configured change (a patch toggle, a route edit) and when the traffic showed
    /// it: written at `at`, landed `landed_after_s` later, between `between_s` (seconds
    /// after `at`), or not seen within `not_seen_after_s`. A replay works it out again
    /// from the samples, so reading one back changes nothing.
    Change {
        at: String,
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        landed_after_s: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        between_s: Option<[f64; 2]>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_seen_after_s: Option<f64>,
        /// "invisible" (the splits before and after are alike), "superseded" (another
        /// change came first) or "waiting" (the run ended before it showed); absent
        /// when it landed or was not seen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    /// Ready endpoints per backend: the split the bug produces.
    Endpoints {
        at: String,
        ready: Vec<(String, u32)>,
    },
    /// The waypoint and the control plane, as the header shows them.
    Cluster {
        at: String,
        /// The waypoint that serves the route's Service, and why that one.
        #[serde(default)]
        waypoint: Option<WaypointRef>,
        /// Why no waypoint does, when none does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        no_waypoint: Option<String>,
        #[serde(default)]
        istio: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        istio_unknown: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<String>,
        /// The revision tag that chose the control plane, when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proxy: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
        /// What could not be read (RBAC) and was done without.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
}

impl Record {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The record of what the header shows of the cluster.
    pub(crate) fn of_cluster(at: String, info: &ClusterInfo) -> Record {
        Record::Cluster {
            at,
            waypoint: info.waypoint.waypoint().cloned(),
            no_waypoint: match &info.waypoint {
                WaypointInfo::NoneServes(why) => Some(why.clone()),
                _ => None,
            },
            istio: info.istio.clone(),
            istio_unknown: info.istio_unknown.clone(),
            revision: info.revision.clone(),
            tag: info.tag.clone(),
            proxy: info.proxy.clone(),
            warnings: info.warnings.clone(),
            notes: info.notes.clone(),
        }
    }

    /// What a cluster record says, for a replay's header.
    pub(crate) fn cluster_info(&self) -> Option<ClusterInfo> {
        let Record::Cluster {
            waypoint,
            no_waypoint,
            istio,
            istio_unknown,
            revision,
            tag,
            proxy,
            warnings,
            notes,
            ..
        } = self
        else {
            return None;
        };
        let waypoint = match (waypoint, no_waypoint) {
            (Some(w), _) => WaypointInfo::Named(w.clone()),
            (None, Some(why)) => WaypointInfo::NoneServes(why.clone()),
            (None, None) => WaypointInfo::Unknown,
        };
        Some(ClusterInfo {
            waypoint,
            istio: istio.clone(),
            istio_unknown: istio_unknown.clone(),
            revision: revision.clone(),
            tag: tag.clone(),
            proxy: proxy.clone(),
            warnings: warnings.clone(),
            notes: notes.clone(),
        })
    }

    /// When it happened, as written.
    pub fn at(&self) -> &str {
        match self {
            Record::Sample { at, .. }
            | Record::Route { at, .. }
            | Record::Patch { at, .. }
            | Record::Change { at, .. }
            | Record::Endpoints { at, .. }
            | Record::Cluster { at, .. } => at,
        }
    }
}
