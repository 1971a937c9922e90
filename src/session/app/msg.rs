//! What reaches the app (`Msg`: keys, ticks, the probe's lines, what the cluster says) and
//! what the app asks of the world (`Effect`), whose outcomes come back as messages.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::cluster::ClusterError;
use crate::cluster::discover::ClientSpec;
use crate::cluster::mesh::ClusterInfo;
use crate::cluster::probe::{ProbeEvent, Request};
use crate::istio::waypoint::WaypointRef;
use crate::route::Route;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Space,
    Esc,
    Enter,
    Up,
    Down,
    CtrlC,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchOutcome {
    Applied,
    Removed,
    Failed(ClusterError),
}

/// Where the probe connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The runtime is up: the first message of every run.
    Start(Timestamp),
    Key(Key),
    Tick(Timestamp),
    Probe(ProbeEvent, Timestamp),
    Info(ClusterInfo),
    /// The route as last read; an error says why there is none.
    Route(Result<Route, ClusterError>, Timestamp),
    /// Prefix to backend index, and the backends that have none.
    Labels(BTreeMap<String, usize>, Vec<String>),
    /// The backends' pod names and versions, to backend index: what an HTTP reply names.
    Names(BTreeMap<String, usize>),
    /// Ready endpoints per backend: the mesh's default split, which the bug produces.
    Endpoints(Vec<u32>),
    /// Whether our EnvoyFilter exists, as last read, and since when.
    PatchObserved(Option<Timestamp>),
    Patch(PatchOutcome, Timestamp),
    /// The first port of a Service, read for a route that names no parent port.
    ServicePort(String, Result<u16, ClusterError>),
    /// Where the route's parent Gateway (by name) is reached, as read.
    GatewayTarget(String, Result<Target, ClusterError>),
    /// The namespace's weighted routes, when it has several and none is named: the
    /// screen opens on the list.
    Routes(Vec<crate::route_list::RouteRow>),
    /// The canary rollout behind the route (an Argo Rollout, a Flagger Canary), as last
    /// read, or none; the kinds RBAC forbade listing ("rollouts.argoproj.io"); when it
    /// was read.
    Rollout {
        rollout: Option<crate::rollout::Rollout>,
        refused: Vec<String>,
        at: Timestamp,
    },
    /// An error from a background read, shown until the next one clears it.
    Problem(Option<ClusterError>),
    /// Something the sandbox itself reports (demo only), for the log.
    Sandbox(String, Timestamp),
    /// A signal from outside ends the run (its number).
    Signal(i32),
    /// How long a patch toggle takes to settle, as a replayed run had it.
    Settle(std::time::Duration),
    /// A note for the log from elsewhere (a replay's skipped lines and its end); with
    /// `notice`, shown on the notice line too.
    Note {
        text: String,
        at: Timestamp,
        notice: bool,
    },
    /// A line for the notice alone: what came of a picture, a theme, a recording.
    Notice(String),
    /// `check --with-patch`: put the patch on as soon as the route and its waypoint are
    /// known (or count from now if ours is on already), so the verdict is of the mesh
    /// with the patch.
    WantPatch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run the probe loop in the client's pod against `target`, for the rest of the run.
    StartProbe {
        client: ClientSpec,
        target: Target,
        request: Request,
    },
    /// Read the ports of a Service (the route's parent names none).
    ReadServicePort(String),
    /// Find where the route's parent Gateway is reached: its Service and listener port.
    ReadGatewayTarget(Route),
    /// Follow this route from now on (chosen in the list), or none (back to the list).
    Follow(crate::cluster::discover::RouteQuery),
    /// Stop the probe: its route is left.
    StopProbe,
    /// An answer is open (a regime began): sample fast beside the steady loop, for a
    /// while (`--burst`).
    Burst,
    /// A change waits to show in the traffic: sample fast until it does, for this long
    /// at most (`--settle`), so the moment it lands is seen to a burst's gap.
    BurstUntil(std::time::Duration),
    /// The answer came: the burst may stop.
    EndBurst,
    /// Put the patch on `waypoint`, in its namespace.
    ApplyPatch {
        route: Route,
        waypoint: WaypointRef,
        port: u16,
    },
    /// Take our patch for `route` out of `namespace`.
    RemovePatch {
        route: Route,
        namespace: String,
    },
    /// A picture of the screen as it is (`s`); the screen answers with a notice.
    Picture,
    /// The next theme (`t`); the screen answers with a notice.
    NextTheme,
    Quit,
}
