//! `splitscope check`: the verdict without a screen, for scripts and CI. The same engine
//! as the screen, fed by the same probe (`live`) or by a transcript (`transcript`).

pub mod ingest;
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
