//! What `--record FILE` keeps: every sample, and the route and patch as they change, one
//! JSON object a line. The app only collects them; the runtime writes them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
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
    },
}

impl Record {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
