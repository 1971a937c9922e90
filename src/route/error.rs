//! Why a route cannot be read into a `Route`.

use super::kind::RouteKind;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error(
        "{kind} {name} has no parentRef that splitscope follows: a Service (in the mesh) or a Gateway (at the edge)"
    )]
    NoParent { kind: RouteKind, name: String },
    #[error("{kind} {name} has no rules with backendRefs")]
    NoBackends { kind: RouteKind, name: String },
    #[error("{kind} {name}: rule {rule}, backendRef {index} is invalid: {why}")]
    BadBackend {
        kind: RouteKind,
        name: String,
        rule: usize,
        index: usize,
        why: String,
    },
    #[error("{kind} {name}: every backend of rule {rule} has weight 0, so no traffic may flow")]
    AllZero {
        kind: RouteKind,
        name: String,
        rule: usize,
    },
    #[error("--rule {wanted}: {kind} {name} has {rules} rule(s); pass a number from 1 to {rules}")]
    NoSuchRule {
        kind: RouteKind,
        name: String,
        wanted: usize,
        rules: usize,
    },
    #[error("no rule of {kind} {name} matches path {path}; pass another --path, or --rule N")]
    NoRuleForPath {
        kind: RouteKind,
        name: String,
        path: String,
    },
}
