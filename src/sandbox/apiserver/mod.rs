//! The API server: a Kubernetes HTTP API over TLS on loopback. A request is parsed once
//! (`request`), routed (`router`), and served from the store (`objects`, `patch`,
//! `apply`, `table`), as a watch (`watch`) or as an exec stream (`exec`, `stream`).

mod apply;
mod discovery;
mod exec;
mod objects;
mod patch;
mod request;
mod response;
mod router;
mod state;
mod stream;
mod table;
pub(crate) mod tls;
mod watch;

pub use router::handle;
pub use state::ApiState;
