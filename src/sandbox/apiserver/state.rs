//! What every request handler shares.

use std::sync::{Arc, Mutex};

use crate::sandbox::drills::Drills;
use crate::sandbox::mesh::Mesh;
use crate::sandbox::storage::Store;

pub struct ApiState {
    pub store: Arc<Mutex<Store>>,
    pub mesh: Arc<Mesh>,
    pub token: String,
    pub server_address: String,
    pub git_version: String,
    /// (verb, resource) pairs answered with 403, as RBAC would: `("patch", "envoyfilters")`.
    pub forbidden: Vec<(String, String)>,
    /// Faults made on purpose: API errors and latency here, cuts in exec streams.
    pub drills: Arc<Drills>,
    /// Turns true when the sandbox stops.
    pub stopped: tokio::sync::watch::Receiver<bool>,
}
