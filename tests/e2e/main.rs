//! End to end: the library and the binary against the sandbox over real sockets, with
//! the real kubectl and tmux where they are installed. One test binary, so the crate and
//! its dependencies are linked once rather than once per file.

// Tests and benchmarks may panic and print: a failed unwrap there is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]
#![cfg(feature = "sandbox")]

mod common;

mod check;
mod cli;
mod crd_schema;
mod drills;
mod follow;
mod http_routes;
mod istiod_rules;
mod kubectl;
mod landing;
mod manifests;
mod records;
mod replay;
mod rollouts;
mod sandbox_errors;
mod sandbox_kube;
mod sandbox_watch;
mod scenarios;
mod tmux;
mod watch_e2e;
mod watch_errors;
