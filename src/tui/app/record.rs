//! What `--record FILE` keeps: every sample, and the route, the patch, the ready endpoints
//! and the cluster facts as they change, one JSON object a line. The app only collects
//! them; the runtime writes them; `splitscope replay` reads them back.

use serde::{Deserialize, Serialize};

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
        name: String,
        /// Backend name and weight, in the route's order.
        weights: Vec<(String, u32)>,
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
    /// Ready endpoints per backend: the split the bug produces.
    Endpoints {
        at: String,
        ready: Vec<(String, u32)>,
    },
    /// The waypoint and the Istio version, as the header shows them.
    Cluster {
        at: String,
        waypoint: Option<String>,
        istio: Option<String>,
    },
}

impl Record {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// When it happened, as written.
    pub fn at(&self) -> &str {
        match self {
            Record::Sample { at, .. }
            | Record::Route { at, .. }
            | Record::Patch { at, .. }
            | Record::Endpoints { at, .. }
            | Record::Cluster { at, .. } => at,
        }
    }
}
