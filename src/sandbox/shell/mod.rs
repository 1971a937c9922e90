//! The shell of the sandbox's pods: a busybox-flavoured sh subset that runs what people
//! exec into the `curl` pod (`while true; do date | nc tcp-echo 9000; sleep 2; done` and
//! its bounded variants) against the simulated mesh.

mod arith;
mod commands;
mod curl;
mod lex;
pub(crate) mod net;
pub mod parse;
mod process;
mod run;
mod tr;

pub use process::{Env, Output, Stream};
pub use run::exec;
