//! splitscope: watch a TCP traffic split in an Istio ambient mesh live, against the
//! weights of its Gateway API `TCPRoute`.

pub mod bugs;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod istio;
pub mod json;
pub mod patch;
pub mod replay;
pub mod rollout;
pub mod route;
pub mod route_list;
pub mod sample;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod session;
pub mod split;
pub mod task;
pub mod tui;
pub mod units;
pub mod verdict;
