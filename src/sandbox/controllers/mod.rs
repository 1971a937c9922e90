//! The controllers a cluster runs, reduced to what the mesh needs: Gateways of class
//! `istio-waypoint` get a waypoint Deployment, Deployments get a ReplicaSet, ReplicaSets
//! get Running pods, Services get a cluster IP, routes get an `Accepted` status, Rollouts move through their canary steps.

mod gateway;
pub mod istiod;
mod owners;
mod rollouts;
mod routes;
mod services;
mod workloads;

use crate::sandbox::storage::Store;

pub use gateway::{Deploys, GATEWAY_NAME_LABEL, WAYPOINT_CLASS, deploys};

/// Brings derived objects in line with their owners. The store calls it after every write.
pub(crate) fn reconcile(store: &mut Store) {
    gateway::waypoints(store);
    workloads::deployments(store);
    workloads::replica_sets(store);
    services::cluster_ips(store);
    routes::route_status(store);
    rollouts::rollouts(store);
}
