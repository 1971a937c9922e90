//! The known data-plane bugs splitscope has a workaround for. This table alone decides
//! whether `p` and `patch apply` are offered: where no row applies, the verdict alone is
//! the answer, and no EnvoyFilter is written.

use crate::istio::parse_version;
use crate::route::{ParentKind, Route, RouteKind};

/// One bug: the routes it hits, the releases it is in, and what works around it.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownBug {
    /// Where it is tracked.
    pub id: &'static str,
    pub what: &'static str,
    pub kind: RouteKind,
    pub parent: ParentKind,
    /// The first release without it.
    pub fixed_in: (u32, u32),
}

pub static KNOWN_BUGS: [KnownBug; 1] = [KnownBug {
    id: "istio/istio#54119",
    what: "an ambient waypoint below Istio 1.26 ignores a TCPRoute whose parent is a Service",
    kind: RouteKind::Tcp,
    parent: ParentKind::Service,
    fixed_in: (1, 26),
}];

/// Whether a known bug applies to a route on an Istio version.
#[derive(Debug, PartialEq, Eq)]
pub enum Applies {
    Yes(&'static KnownBug),
    /// It would, below its fix, but the version is not known.
    Unknown(&'static KnownBug),
    No,
}

/// The bug that applies to `route` on Istio `version` (as the header reads it), if any.
pub fn applies(route: &Route, version: Option<&str>) -> Applies {
    let Some(bug) = KNOWN_BUGS
        .iter()
        .find(|b| b.kind == route.kind && b.parent == route.parent_kind)
    else {
        return Applies::No;
    };
    match version.and_then(parse_version) {
        Some(v) if v < bug.fixed_in => Applies::Yes(bug),
        Some(_) => Applies::No,
        None => Applies::Unknown(bug),
    }
}

/// What `p` and `patch apply` say where no known bug applies.
pub fn none_applies(route: &Route, version: Option<&str>) -> String {
    format!(
        "no known bug applies to {} (parent {} {}) on Istio {}: there is nothing to patch, and the verdict alone is the answer",
        route.title(),
        route.parent_kind.name(),
        route.parent,
        version.unwrap_or("of unknown version")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(kind: RouteKind, parent: ParentKind) -> Route {
        Route {
            kind,
            parent_kind: parent,
            name: "r".into(),
            ..Route::default()
        }
    }

    #[test]
    fn only_a_tcproute_on_a_service_below_1_26() {
        let tcp = route(RouteKind::Tcp, ParentKind::Service);
        assert_eq!(applies(&tcp, Some("1.24.3")), Applies::Yes(&KNOWN_BUGS[0]));
        assert_eq!(applies(&tcp, Some("1.26.0")), Applies::No);
        assert_eq!(applies(&tcp, None), Applies::Unknown(&KNOWN_BUGS[0]));
        for (kind, parent) in [
            (RouteKind::Http, ParentKind::Service),
            (RouteKind::Tcp, ParentKind::Gateway),
            (RouteKind::Tls, ParentKind::Service),
        ] {
            assert_eq!(applies(&route(kind, parent), Some("1.24.0")), Applies::No);
        }
        let said = none_applies(&route(RouteKind::Http, ParentKind::Service), Some("1.24.0"));
        assert!(
            said.starts_with("no known bug applies to HTTPRoute r"),
            "{said}"
        );
    }
}
