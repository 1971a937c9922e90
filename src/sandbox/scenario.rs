//! The sandbox's variants of a real mesh, each a way real clusters differ from the
//! seed's one: a revisioned control plane, a waypoint chosen by the Service's label or in
//! another namespace, several pods behind one backend, a client pod with a sidecar.

/// One way to seed the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Istio's TCP traffic-shifting task: one istiod, the waypoint by the namespace's label.
    #[default]
    Default,
    /// istiod of a revision (`istiod-1-24-0`, `istio.io/rev` on the namespace and the
    /// waypoint, its image pinned by digest) beside a default istiod of a fixed release.
    Revisioned,
    /// The waypoint named by the Services' labels (the parent's and the backends'); the
    /// namespace has none.
    ServiceWaypoint,
    /// The waypoint in the namespace `istio-waypoints`, named with
    /// `istio.io/use-waypoint-namespace`.
    CrossNamespace,
    /// Three v1 pods and one v2 pod: the mesh's default split is 75/25.
    Replicas,
    /// The client pod runs an `istio-proxy` container first, then `curl`.
    SidecarClient,
    /// A revision tag `prod` on the namespace points at `istiod-1-26-0`, while a default
    /// istiod of `--istio` runs too: the route is honoured unpatched.
    RevisionTag,
    /// Only revisioned istiods (`--istio`'s and 1.26's) and a `default` tag pointing at
    /// `--istio`'s: it serves the waypoint, which carries no revision.
    DefaultTag,
    /// Istio's helloworld sample and an HTTPRoute 90/10 whose parent is the helloworld
    /// Service: the waypoint honours it request by request on every version.
    Http,
    /// helloworld at the edge: an ingress Gateway of class `istio` (its router and
    /// Service deployed by istiod) and an HTTPRoute 90/10 on it for GET /hello.
    Ingress,
    /// tcp-echo's TCPRoute and helloworld's HTTPRoute in one namespace: with none
    /// named, the screen opens on the list of routes.
    Mixed,
    /// An Argo Rollout moves helloworld's HTTPRoute from the stable `helloworld-v1` to
    /// the canary `helloworld-v2` in steps (10, 30, 60, 100, with pauses of
    /// [`ROLLOUT_PAUSE`]): the waypoint honours every step.
    Rollout,
    /// The same rollout on tcp-echo's TCPRoute: on Istio below 1.26 the waypoint ignores
    /// every step (bug 54119), and the canary takes what its pods' share gives it.
    RolloutTcp,
}

/// The Rollout the rollout scenarios seed, and how long each of its pauses lasts.
pub const ROLLOUT: &str = "web";
pub const ROLLOUT_PAUSE: std::time::Duration = std::time::Duration::from_secs(15);
/// The canary's pods in the rollout scenarios (the stable has one): the mesh's default
/// split gives the canary four in five, far from every step's weight, so the traffic
/// tells honoured from ignored within a few dozen samples at each step.
pub const CANARY_PODS: u32 = 4;

impl Scenario {
    pub const ALL: [Scenario; 13] = [
        Scenario::Default,
        Scenario::Revisioned,
        Scenario::ServiceWaypoint,
        Scenario::CrossNamespace,
        Scenario::Replicas,
        Scenario::SidecarClient,
        Scenario::RevisionTag,
        Scenario::DefaultTag,
        Scenario::Http,
        Scenario::Ingress,
        Scenario::Mixed,
        Scenario::Rollout,
        Scenario::RolloutTcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Default => "default",
            Scenario::Revisioned => "revisioned",
            Scenario::ServiceWaypoint => "service-waypoint",
            Scenario::CrossNamespace => "cross-namespace",
            Scenario::Replicas => "replicas",
            Scenario::SidecarClient => "sidecar-client",
            Scenario::RevisionTag => "revision-tag",
            Scenario::DefaultTag => "default-tag",
            Scenario::Http => "http",
            Scenario::Ingress => "ingress",
            Scenario::Mixed => "mixed",
            Scenario::Rollout => "rollout",
            Scenario::RolloutTcp => "rollout-tcp",
        }
    }

    /// One line for `--scenario list`.
    pub fn describe(self) -> &'static str {
        match self {
            Scenario::Default => {
                "Istio's TCP traffic-shifting task: one istiod, the waypoint by the namespace's label"
            }
            Scenario::Revisioned => {
                "istiod of a revision (istio.io/rev on namespace and waypoint, image by digest) beside a default istiod of 1.26"
            }
            Scenario::ServiceWaypoint => {
                "the waypoint named by the Service's istio.io/use-waypoint label; the namespace has none"
            }
            Scenario::CrossNamespace => {
                "the waypoint in namespace istio-waypoints (istio.io/use-waypoint-namespace)"
            }
            Scenario::Replicas => {
                "three tcp-echo-v1 pods and one v2 pod: the default split is 75/25"
            }
            Scenario::SidecarClient => {
                "the curl pod runs an istio-proxy container first, then curl"
            }
            Scenario::RevisionTag => {
                "a revision tag prod on the namespace points at istiod-1-26-0 beside a default istiod: honoured unpatched"
            }
            Scenario::DefaultTag => {
                "only revisioned istiods, and the default tag points at --istio's: it serves the unlabelled waypoint"
            }
            Scenario::Http => {
                "Istio's helloworld and an HTTPRoute 90/10 on the helloworld Service (GET /hello): honoured per request on every version"
            }
            Scenario::Ingress => {
                "helloworld at the edge: an ingress Gateway of class istio and an HTTPRoute 90/10 on it (GET /hello)"
            }
            Scenario::Mixed => {
                "tcp-echo's TCPRoute and helloworld's HTTPRoute in one namespace: the screen opens on the list of routes"
            }
            Scenario::Rollout => {
                "an Argo Rollout moves helloworld's HTTPRoute to the canary in steps 10, 30, 60, 100 (15 s pauses): every step honoured"
            }
            Scenario::RolloutTcp => {
                "the same Rollout on tcp-echo's TCPRoute on Istio below 1.26: every step ignored (the canary's four pods take four in five)"
            }
        }
    }

    /// Whether it seeds helloworld and an HTTPRoute rather than tcp-echo and a TCPRoute.
    pub fn is_http(self) -> bool {
        matches!(self, Scenario::Http | Scenario::Ingress | Scenario::Rollout)
    }

    /// Whether an Argo Rollout moves the route's weights.
    pub fn is_rollout(self) -> bool {
        matches!(self, Scenario::Rollout | Scenario::RolloutTcp)
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Where the waypoint's Gateway lives, for a route in `namespace`.
    pub(crate) fn waypoint_namespace(self, namespace: &str) -> &str {
        match self {
            Scenario::CrossNamespace => WAYPOINTS_NAMESPACE,
            _ => namespace,
        }
    }
}

/// The namespace of the shared waypoint in `cross-namespace`.
pub(crate) const WAYPOINTS_NAMESPACE: &str = "istio-waypoints";
