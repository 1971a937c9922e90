//! Which waypoint serves a Service, by istiod's rules: the Service's
//! `istio.io/use-waypoint` label wins over its namespace's; `istio.io/use-waypoint-namespace`
//! beside it names a waypoint in another namespace; the value `none` opts out; and a
//! waypoint serves Services only when its `istio.io/waypoint-for` is `service` (the
//! default) or `all`.

use serde_json::Value;

use super::label;

pub(crate) const USE_WAYPOINT: &str = "istio.io/use-waypoint";
pub(crate) const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
pub(crate) const WAYPOINT_FOR: &str = "istio.io/waypoint-for";
/// The Gateway class of waypoints.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";
/// The label a Gateway's pods carry with its name: what a `workloadSelector` selects.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// Where the choice of waypoint comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Service,
    Namespace,
}

impl Source {
    /// "from the Service's label", as the header says it.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Service => "from the Service's label",
            Source::Namespace => "from the namespace's label",
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
    /// Neither the Service nor its namespace names a waypoint.
    Unlabelled,
}

/// The waypoint a Service in `service_ns` uses, from its labels and its namespace's.
pub(crate) fn choose(
    service_ns: &str,
    service: Option<&Value>,
    namespace: Option<&Value>,
) -> Choice {
    for (labels, source) in [(service, Source::Service), (namespace, Source::Namespace)] {
        let Some(name) = label(labels, USE_WAYPOINT) else {
            continue;
        };
        if name == "none" {
            return Choice::OptedOut(source);
        }
        let ns = label(labels, USE_WAYPOINT_NAMESPACE).unwrap_or(service_ns);
        return Choice::Uses(WaypointRef {
            name: name.to_string(),
            namespace: ns.to_string(),
            source,
        });
    }
    Choice::Unlabelled
}

/// A waypoint whose `istio.io/waypoint-for` keeps Services out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its {WAYPOINT_FOR} is {0}, so it serves no Services")]
pub(crate) struct ServesNoServices(pub String);

/// Whether a waypoint Gateway (by its labels) takes traffic addressed to Services.
pub(crate) fn serves_services(gateway_labels: Option<&Value>) -> Result<(), ServesNoServices> {
    match label(gateway_labels, WAYPOINT_FOR).unwrap_or("service") {
        "service" | "all" => Ok(()),
        other => Err(ServesNoServices(other.to_string())),
    }
}

/// Why no waypoint serves a Service, in words for the header and messages.
pub(crate) fn why_none(choice: &Choice) -> String {
    match choice {
        Choice::OptedOut(source) => format!(
            "opted out: {USE_WAYPOINT}=none {}",
            source.describe().replace("from ", "on ")
        ),
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
    fn waypoint_for_decides_whether_services_are_served() {
        assert!(serves_services(None).is_ok());
        assert!(serves_services(Some(&json!({WAYPOINT_FOR: "all"}))).is_ok());
        let why = serves_services(Some(&json!({WAYPOINT_FOR: "workload"})))
            .unwrap_err()
            .to_string();
        assert!(why.contains("workload"), "{why}");
        assert!(serves_services(Some(&json!({WAYPOINT_FOR: "none"}))).is_err());
    }
}
