//! A process in a pod: where it writes, what it reaches, and the state its shell keeps.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::net::Network;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where a process writes; sends fail silently once the client has gone, and the
/// process runs on, as a kubelet's exec does.
pub type Output = mpsc::UnboundedSender<(Stream, Vec<u8>)>;

/// What a process in a pod can reach.
pub struct Env {
    pub network: Arc<dyn Network>,
    pub namespace: String,
    pub pod: String,
    pub out: Output,
}

/// An `exit` unwinds every loop and list up to the process.
pub(crate) struct ExitNow(pub i32);

pub type Flow = Result<i32, ExitNow>;

/// Standard output of one command: the stream, or a buffer for `|` and `$(...)`.
pub(crate) enum Sink {
    Stream,
    Buffer(Vec<u8>),
}

pub struct Shell {
    pub env: Arc<Env>,
    pub vars: HashMap<String, String>,
    pub status: i32,
    /// How many shells (`sh -c`, `$(…)`, `timeout`) this one runs inside.
    pub nesting: usize,
}

/// Shells inside shells deeper than this are refused: each level is a frame on the
/// stack, and a script must not be able to overflow it and take the sandbox down.
pub(crate) const MAX_NESTING: usize = 64;

impl Shell {
    /// A shell inside this one, with its variables; None beyond `MAX_NESTING`.
    pub fn child(&self) -> Option<Shell> {
        (self.nesting < MAX_NESTING).then(|| Shell {
            env: self.env.clone(),
            vars: self.vars.clone(),
            status: 0,
            nesting: self.nesting + 1,
        })
    }

    pub fn new(env: Arc<Env>) -> Self {
        Shell {
            env,
            vars: HashMap::new(),
            status: 0,
            nesting: 0,
        }
    }

    pub fn write(&self, sink: &mut Sink, bytes: &[u8]) {
        match sink {
            Sink::Buffer(buf) => buf.extend_from_slice(bytes),
            Sink::Stream => {
                let _ = self.env.out.send((Stream::Stdout, bytes.to_vec()));
            }
        }
    }

    pub fn error(&self, message: &str) {
        let _ = self
            .env
            .out
            .send((Stream::Stderr, format!("{message}\n").into_bytes()));
    }
}
