//! `splitscope check`: the verdict without a screen, for scripts and CI. The same engine
//! as the screen, fed by the same probe (`live`) or by a transcript (`transcript`).

pub mod follow;
pub(crate) mod ingest;
pub mod live;
pub mod report;
pub mod transcript;

pub use report::CheckReport;

/// Why a check could not give a verdict: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("{0}")]
    Probe(String),
    #[error("interrupted{0}")]
    Interrupted(String),
}

impl CheckError {
    /// What kind of failure, for programs: usage, read, cluster, probe or interrupted.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckError::Usage(_) => "usage",
            CheckError::Read { .. } => "read",
            CheckError::Cluster(_) => "cluster",
            CheckError::Probe(_) => "probe",
            CheckError::Interrupted(_) => "interrupted",
        }
    }

    /// The failure as `--output json` gives it: no verdict, exit 2, and why.
    pub fn json(&self) -> String {
        serde_json::json!({
            "verdict": serde_json::Value::Null,
            "exit": 2,
            "error": self.kind(),
            "reason": self.to_string(),
        })
        .to_string()
    }
}
