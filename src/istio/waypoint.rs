//! Which waypoint serves a Service, by istiod's rules: the Service's
//! `istio.io/use-waypoint` label wins over its namespace's; `istio.io/use-waypoint-namespace`
//! beside it names a waypoint in another namespace; the value `none` opts out; and a
//! waypoint serves Services only when its `istio.io/waypoint-for` is `service` (the
//! default) or `all`.

use serde_json::Value;

use super::present;

pub(crate) const USE_WAYPOINT: &str = "istio.io/use-waypoint";
pub(crate) const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
pub(crate) const WAYPOINT_FOR: &str = "istio.io/waypoint-for";
/// The Gateway class of waypoints.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";
/// The label a Gateway's pods carry with its name: what a `workloadSelector` selects.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
/// The controller of waypoint classes: a class of any name with it is a waypoint class.
pub const MESH_CONTROLLER: &str = "istio.io/mesh-controller";
/// How a waypoint's own Service is labelled; such a Service never gets a waypoint.
pub(crate) const MANAGED_LABEL: &str = "gateway.istio.io/managed";
pub(crate) const MANAGED_BY_MESH: &str = "istio.io-mesh-controller";
/// The port of a waypoint's HBONE listener.
pub(crate) const HBONE_PORT: u64 = 15008;

/// Where the choice of waypoint comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Service,
    Namespace,
    /// Not a waypoint: the route's parent Gateway, at the edge.
    Parent,
}

impl Source {
    /// "from the Service's label", as the header says it.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Service => "from the Service's label",
            Source::Namespace => "from the namespace's label",
            Source::Parent => "the route's parent, at the edge",
        }
    }
}

/// A waypoint named by a label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WaypointRef {
    pub name: String,
    pub namespace: String,
    pub source: Source,
}

impl WaypointRef {
    /// A waypoint in `namespace` named by that namespace's label.
    pub fn of_namespace(name: &str, namespace: &str) -> WaypointRef {
        WaypointRef {
            name: name.to_string(),
            namespace: namespace.to_string(),
            source: Source::Namespace,
        }
    }
}

/// What the labels say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    Uses(WaypointRef),
    /// `istio.io/use-waypoint: none`.
    OptedOut(Source),
    /// `istio.io/use-waypoint` there but empty: istiod takes it as set, to nothing.
    Empty(Source),
    /// The Service is a waypoint's own.
    IsWaypoint,
    /// Neither the Service nor its namespace names a waypoint.
    Unlabelled,
}

/// The waypoint a Service in `service_ns` uses, from its labels and its namespace's.
pub(crate) fn choose(
    service_ns: &str,
    service: Option<&Value>,
    namespace: Option<&Value>,
) -> Choice {
    if present(service, MANAGED_LABEL) == Some(MANAGED_BY_MESH) {
        return Choice::IsWaypoint;
    }
    for (labels, source) in [(service, Source::Service), (namespace, Source::Namespace)] {
        let Some(name) = present(labels, USE_WAYPOINT) else {
            continue;
        };
        match name {
            "none" => return Choice::OptedOut(source),
            "" => return Choice::Empty(source),
            _ => {}
        }
        // Read beside the name, from the same object; there but empty names no namespace.
        let ns = present(labels, USE_WAYPOINT_NAMESPACE).unwrap_or(service_ns);
        return Choice::Uses(WaypointRef {
            name: name.to_string(),
            namespace: ns.to_string(),
            source,
        });
    }
    Choice::Unlabelled
}

/// Why a Gateway named as a Service's waypoint does not serve it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotBound {
    #[error(
        "{0} is not a waypoint (its class {1} is neither {WAYPOINT_CLASS} nor one of {MESH_CONTROLLER})"
    )]
    NotAWaypoint(String, String),
    #[error("waypoint {0} does not serve Services: its {WAYPOINT_FOR} is {1}")]
    ServesNoServices(String, String),
    #[error(
        "waypoint {0} does not serve Services: its {WAYPOINT_FOR} is empty, which istiod does not support"
    )]
    EmptyWaypointFor(String),
    #[error(
        "waypoint {waypoint} in namespace {waypoint_namespace} does not allow routes from namespace {namespace} (its HBONE listener's allowedRoutes)"
    )]
    NotAllowed {
        waypoint: String,
        waypoint_namespace: String,
        namespace: String,
    },
    #[error("waypoint {0} has no address yet")]
    NoAddress(String),
}

/// A waypoint Gateway's GatewayClass, as far as it could be read.
#[derive(Debug, Clone, Copy)]
pub enum Class<'a> {
    /// Read (None: there is no class of that name).
    Read(Option<&'a Value>),
    /// Not readable here (RBAC): the class is taken to be one by its name alone, and
    /// only the Gateway's own `waypoint-for` counts.
    Unreadable,
}

/// Whether istiod binds a Service in namespace `service_ns` (labelled `namespace_labels`)
/// to the waypoint Gateway `gateway` of class `class`: it must be a waypoint (its class
/// `istio-waypoint`, or any class of the mesh controller), serve Services (`waypoint-for`
/// on the Gateway, else on its class: `service` or `all`), have an address, and, from
/// another namespace, allow the Service's namespace on its HBONE listener.
pub fn binds(
    service_ns: &str,
    namespace_labels: Option<&Value>,
    gateway: &Value,
    class: Class<'_>,
) -> Result<(), NotBound> {
    let name = |g: &Value| -> String {
        format!(
            "{}/{}",
            at(g, "/metadata/namespace"),
            at(g, "/metadata/name")
        )
    };
    let class_name = at(gateway, "/spec/gatewayClassName");
    let class_obj = match class {
        Class::Read(obj) => obj,
        Class::Unreadable => None,
    };
    // A class object decides by its controller; `istio-waypoint` is built in where no
    // class of that name exists (or none can be read).
    let is_waypoint_class = match class_obj {
        Some(c) => at(c, "/spec/controllerName") == MESH_CONTROLLER,
        None => class_name == WAYPOINT_CLASS,
    };
    if !is_waypoint_class {
        return Err(NotBound::NotAWaypoint(
            name(gateway),
            class_name.to_string(),
        ));
    }
    let waypoint_for = present(gateway.pointer("/metadata/labels"), WAYPOINT_FOR)
        .or_else(|| present(class_obj?.pointer("/metadata/labels"), WAYPOINT_FOR))
        .unwrap_or("service");
    match waypoint_for {
        "service" | "all" => {}
        "" => return Err(NotBound::EmptyWaypointFor(name(gateway))),
        other => return Err(NotBound::ServesNoServices(name(gateway), other.to_string())),
    }
    let gateway_ns = at(gateway, "/metadata/namespace");
    if !allows(gateway, gateway_ns == service_ns, namespace_labels) {
        return Err(NotBound::NotAllowed {
            waypoint: at(gateway, "/metadata/name").to_string(),
            waypoint_namespace: gateway_ns.to_string(),
            namespace: service_ns.to_string(),
        });
    }
    let addressed = gateway
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !addressed {
        return Err(NotBound::NoAddress(name(gateway)));
    }
    Ok(())
}

/// Whether the waypoint's HBONE listener (port 15008, protocol HBONE) lets routes in
/// from the Service's namespace (labelled `namespace_labels`; `same`: the waypoint's own):
/// `from: All`; `Selector` when it matches (in the same namespace too; no selector
/// matches nothing); else `Same`, the default, also without such a listener.
fn allows(gateway: &Value, same: bool, namespace_labels: Option<&Value>) -> bool {
    let listeners = gateway.pointer("/spec/listeners").and_then(Value::as_array);
    let hbone = listeners.into_iter().flatten().find(|l| {
        l.get("port").and_then(Value::as_u64) == Some(HBONE_PORT)
            && l.get("protocol").and_then(Value::as_str) == Some("HBONE")
    });
    let namespaces = hbone.and_then(|l| l.pointer("/allowedRoutes/namespaces"));
    match namespaces
        .and_then(|n| n.get("from"))
        .and_then(Value::as_str)
    {
        Some("All") => true,
        Some("Selector") => {
            let selector = namespaces.and_then(|n| n.get("selector"));
            selector.is_some_and(|s| selects(s, namespace_labels))
        }
        _ => same,
    }
}

/// A label selector (`matchLabels`, `matchExpressions`) over a namespace's labels.
fn selects(selector: &Value, labels: Option<&Value>) -> bool {
    let value = |key: &str| present(labels, key);
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| value(k) == v.as_str());
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => value(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => !value(key).is_some_and(|v| values.contains(&v)),
                Some("Exists") => value(key).is_some(),
                Some("DoesNotExist") => value(key).is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

fn at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Why istiod binds a Service to no waypoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoWaypoint {
    /// The labels name none (or opt out).
    #[error("{0}")]
    Labels(String),
    /// The labels name a waypoint that does not exist: istiod does not fall back.
    #[error("{source} names waypoint {namespace}/{name}, which does not exist", source = .0.source.describe().trim_start_matches("from "), namespace = .0.namespace, name = .0.name)]
    Missing(WaypointRef),
    #[error(transparent)]
    NotBound(#[from] NotBound),
}

/// The whole rule, pure: the waypoint istiod binds a Service in `service_ns` to, from
/// the Service's labels and its namespace's, the Gateways there are (with their status)
/// and the GatewayClasses (None: they cannot be read); or why none.
pub fn resolve(
    service_ns: &str,
    service_labels: Option<&Value>,
    namespace_labels: Option<&Value>,
    gateways: &[Value],
    classes: Option<&[Value]>,
) -> Result<WaypointRef, NoWaypoint> {
    let choice = choose(service_ns, service_labels, namespace_labels);
    let Choice::Uses(wanted) = choice else {
        return Err(NoWaypoint::Labels(why_none(&choice)));
    };
    let gateway = gateways
        .iter()
        .find(|g| {
            at(g, "/metadata/name") == wanted.name
                && at(g, "/metadata/namespace") == wanted.namespace
        })
        .ok_or_else(|| NoWaypoint::Missing(wanted.clone()))?;
    let class = match classes {
        Some(classes) => Class::Read(
            classes
                .iter()
                .find(|c| at(c, "/metadata/name") == at(gateway, "/spec/gatewayClassName")),
        ),
        None => Class::Unreadable,
    };
    binds(service_ns, namespace_labels, gateway, class)?;
    Ok(wanted)
}

/// Why no waypoint serves a Service, in words for the header and messages.
pub(crate) fn why_none(choice: &Choice) -> String {
    match choice {
        Choice::OptedOut(source) => format!(
            "opted out: {USE_WAYPOINT}=none {}",
            source.describe().replace("from ", "on ")
        ),
        Choice::Empty(source) => format!(
            "{USE_WAYPOINT} is empty {}, so no waypoint (istiod does not look further)",
            source.describe().replace("from ", "on ")
        ),
        Choice::IsWaypoint => "it is a waypoint's own Service".to_string(),
        Choice::Unlabelled => format!("no {USE_WAYPOINT} label on the Service or its namespace"),
        Choice::Uses(w) => format!("{}/{} does not serve it", w.namespace, w.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_service_label_wins_and_names_a_namespace() {
        let svc = json!({USE_WAYPOINT: "svc-wp"});
        let ns = json!({USE_WAYPOINT: "ns-wp", USE_WAYPOINT_NAMESPACE: "istio-waypoints"});
        assert_eq!(
            choose("app", Some(&svc), Some(&ns)),
            Choice::Uses(WaypointRef {
                name: "svc-wp".into(),
                namespace: "app".into(),
                source: Source::Service
            })
        );
        assert_eq!(
            choose("app", None, Some(&ns)),
            Choice::Uses(WaypointRef {
                name: "ns-wp".into(),
                namespace: "istio-waypoints".into(),
                source: Source::Namespace
            })
        );
        let svc_elsewhere = json!({USE_WAYPOINT: "w", USE_WAYPOINT_NAMESPACE: "shared"});
        assert!(matches!(
            choose("app", Some(&svc_elsewhere), Some(&ns)),
            Choice::Uses(WaypointRef { ref namespace, source: Source::Service, .. }) if namespace == "shared"
        ));
    }

    #[test]
    fn none_opts_out_and_no_label_is_none() {
        let ns = json!({USE_WAYPOINT: "waypoint"});
        assert_eq!(
            choose("app", Some(&json!({USE_WAYPOINT: "none"})), Some(&ns)),
            Choice::OptedOut(Source::Service)
        );
        assert_eq!(
            choose("app", None, Some(&json!({USE_WAYPOINT: "none"}))),
            Choice::OptedOut(Source::Namespace)
        );
        assert_eq!(choose("app", Some(&json!({})), None), Choice::Unlabelled);
        assert!(why_none(&Choice::Unlabelled).contains("no istio.io/use-waypoint label"));
    }

    #[test]
    fn empty_labels_count_as_set() {
        let ns = json!({USE_WAYPOINT: "waypoint"});
        assert_eq!(
            choose("app", Some(&json!({USE_WAYPOINT: ""})), Some(&ns)),
            Choice::Empty(Source::Service)
        );
        let own = json!({MANAGED_LABEL: MANAGED_BY_MESH, USE_WAYPOINT: "waypoint"});
        assert_eq!(choose("app", Some(&own), Some(&ns)), Choice::IsWaypoint);
    }
}
