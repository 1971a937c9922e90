//! The kinds of weighted routes, how `--route` names one, and what a route attaches to.

/// The route kinds that carry weighted backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RouteKind {
    #[default]
    Tcp,
    Http,
    Grpc,
    Tls,
}

impl RouteKind {
    pub const ALL: [RouteKind; 4] = [
        RouteKind::Tcp,
        RouteKind::Http,
        RouteKind::Grpc,
        RouteKind::Tls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
            RouteKind::Tls => "TLSRoute",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            RouteKind::Tcp => "tcproutes",
            RouteKind::Http => "httproutes",
            RouteKind::Grpc => "grpcroutes",
            RouteKind::Tls => "tlsroutes",
        }
    }

    /// The versions to read it as, in order: the first the cluster serves is used (the
    /// object is the same in each). TCPRoute first as v1alpha2, what Istio 1.24 uses.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            RouteKind::Tcp => &["v1alpha2", "v1"],
            RouteKind::Http => &["v1", "v1beta1"],
            RouteKind::Grpc => &["v1"],
            RouteKind::Tls => &["v1alpha2", "v1alpha3", "v1"],
        }
    }

    /// `TCPRoute`, `tcproute`, `tcproutes` (any case), and so on for each kind.
    pub fn parse(text: &str) -> Option<RouteKind> {
        let lower = text.to_ascii_lowercase();
        RouteKind::ALL.into_iter().find(|k| {
            let name = k.name().to_ascii_lowercase();
            lower == name || lower == k.plural()
        })
    }

    /// Whether its requests are HTTP (GRPCRoute's too, over HTTP/2).
    pub fn is_http(self) -> bool {
        matches!(self, RouteKind::Http | RouteKind::Grpc)
    }
}

impl std::fmt::Display for RouteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A route as `--route` names it: `NAME` or `KIND/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRef {
    pub kind: Option<RouteKind>,
    pub name: String,
}

/// A `--route` that names no route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?}: write the route as NAME or KIND/NAME, KIND one of tcproute, httproute, grpcroute, tlsroute"
)]
pub struct BadRouteRef(pub String);

impl std::str::FromStr for RouteRef {
    type Err = BadRouteRef;
    fn from_str(s: &str) -> Result<RouteRef, BadRouteRef> {
        let bad = || BadRouteRef(s.to_string());
        match s.split_once('/') {
            Some((kind, name)) if !name.is_empty() && !name.contains('/') => Ok(RouteRef {
                kind: Some(RouteKind::parse(kind).ok_or_else(bad)?),
                name: name.to_string(),
            }),
            None if !s.is_empty() => Ok(RouteRef {
                kind: None,
                name: s.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for RouteRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Some(kind) => write!(f, "{}/{}", kind.plural().trim_end_matches('s'), self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What a route attaches to: a Service (east-west, through its waypoint) or a Gateway
/// (north-south, at the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParentKind {
    #[default]
    Service,
    Gateway,
}

impl ParentKind {
    pub fn name(self) -> &'static str {
        match self {
            ParentKind::Service => "Service",
            ParentKind::Gateway => "Gateway",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_route_refs() {
        assert_eq!(RouteKind::parse("HTTPRoute"), Some(RouteKind::Http));
        assert_eq!(RouteKind::parse("tlsroutes"), Some(RouteKind::Tls));
        assert_eq!(RouteKind::parse("route"), None);
        let named: RouteRef = "httproute/web".parse().unwrap();
        assert_eq!(
            (named.kind, named.name.as_str()),
            (Some(RouteKind::Http), "web")
        );
        assert_eq!(named.to_string(), "httproute/web");
        let bare: RouteRef = "web".parse().unwrap();
        assert_eq!(bare.kind, None);
        assert!("service/web".parse::<RouteRef>().is_err());
        assert!("httproute/".parse::<RouteRef>().is_err());
    }
}
