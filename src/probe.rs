//! What the probe reports as it runs: the exec'd loop's lines and its starts and ends.
//! The cluster layer produces these; the screen and the verdict consume them.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum ProbeEvent {
    /// The loop runs in this pod.
    Started { pod: String },
    /// One line of the loop's standard output: a reply, normally.
    Stdout(String),
    /// One line of its standard error (`nc: bad address …`).
    Stderr(String),
    /// The stream ended; the next attempt comes after `retry_in`.
    Ended { reason: String, retry_in: Duration },
}
