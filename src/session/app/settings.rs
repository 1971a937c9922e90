//! What the user asked for on the command line that the session needs, with its defaults.

use crate::cluster::discover::ClientSpec;

use super::msg::Target;

/// What the user asked for on the command line that the session needs. Start from
/// [`Settings::new`], which holds every default, and change what the flags say.
#[derive(Debug, Clone)]
pub struct Settings {
    pub context: String,
    pub namespace: String,
    pub read_only: bool,
    pub window: usize,
    /// `--label PREFIX=BACKEND` mappings; they win over discovered ones.
    pub manual_labels: Vec<(String, String)>,
    /// Which pod runs the probe.
    pub client: ClientSpec,
    /// `--target HOST:PORT`; None: the route's parent Service and port.
    pub target: Option<Target>,
    /// The level of the verdict's tests and the intervals (`--alpha`).
    pub alpha: f64,
    /// After a change (a patch toggle, a route edit), how long at most until the evidence
    /// counts afresh when the traffic has not shown the change by then: samples from
    /// before it lands would count against it.
    pub settle: std::time::Duration,
    /// How long a change is looked for in the traffic before it is said not seen.
    pub lag_timeout: std::time::Duration,
    /// Keep every sample and the route and patch changes for `--record`.
    pub record: bool,
    /// A replay: the pace it plays at (`4×`, `instant`). Nothing runs in a cluster then.
    pub replay: Option<String>,
    /// How the probe asks: `--path`, `--header`, `--requests-per-connection`,
    /// `--probe-command`.
    pub probe: ProbeFlags,
}

/// How the probe asks, as the flags say; the route decides the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeFlags {
    /// Where HTTP requests go (default: a path the route's rule accepts).
    pub path: Option<String>,
    /// Sent with every HTTP request, after those the rule's match asks for.
    pub headers: Vec<(String, String)>,
    /// HTTP requests over one connection; 0 or 1: one each.
    pub per_connection: u32,
    /// Any other client, run once per sample.
    pub command: Option<String>,
}

/// After a change, how long at most until the evidence counts afresh (`--settle`): the
/// traffic usually shows the change sooner, and the evidence counts from there. Pushes
/// that take several seconds are common, so this is no guess at a push's time.
pub const DEFAULT_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a change is looked for in the traffic (`--lag-timeout`).
pub const DEFAULT_LAG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Settings {
    /// The defaults, for a run in `context` and `namespace`.
    pub fn new(context: impl Into<String>, namespace: impl Into<String>) -> Settings {
        Settings {
            context: context.into(),
            namespace: namespace.into(),
            read_only: false,
            window: crate::split::DEFAULT_WINDOW,
            manual_labels: Vec::new(),
            client: ClientSpec::default(),
            target: None,
            alpha: crate::verdict::DEFAULT_ALPHA,
            settle: DEFAULT_SETTLE,
            lag_timeout: DEFAULT_LAG_TIMEOUT,
            record: false,
            replay: None,
            probe: ProbeFlags::default(),
        }
    }
}
