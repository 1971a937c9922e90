//! The shell of the sandbox's pods: a busybox-flavoured sh subset that runs what people
//! exec into the `curl` pod (`while true; do date | nc tcp-echo 9000; sleep 2; done` and
//! its bounded variants) against the simulated mesh.

mod arith;
mod commands;
mod lex;
pub mod parse;
mod run;

pub use run::{Env, Output, Stream, exec};
