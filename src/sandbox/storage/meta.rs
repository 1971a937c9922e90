//! Reading an object's metadata and plain fields, defined once for every room: stored
//! objects are JSON, and a missing field reads as empty rather than failing.

use serde_json::Value;

pub use crate::json::str_at;

pub(crate) fn name_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/name").unwrap_or_default()
}

/// The namespace; empty for a cluster-scoped object.
pub(crate) fn namespace_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/namespace").unwrap_or_default()
}

pub(crate) fn uid_of(obj: &Value) -> Option<&str> {
    str_at(obj, "/metadata/uid")
}

pub(crate) fn labels_of(obj: &Value) -> Option<&Value> {
    obj.pointer("/metadata/labels")
}

/// Whether a pod is in phase Running.
pub(crate) fn is_running(pod: &Value) -> bool {
    str_at(pod, "/status/phase") == Some("Running")
}

/// Now, as the API server writes timestamps.
pub(crate) fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random suffix from the alphabet Kubernetes uses for generated names.
pub(crate) fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}
