//! The watch screen's state and its pure update: `App::update(Msg) -> Vec<Effect>`.
//! No I/O and no clock reads here: time arrives in the messages, and everything the app
//! wants done to the world leaves as an `Effect`, whose result comes back as a `Msg`.
//! What to do is decided here; the runtime only carries it out.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use crate::cluster::ClusterError;
use crate::cluster::probe::Request;
use crate::route::Route;
use crate::sample::LineParser;
use crate::split::Split;

mod change;
mod changes;
mod choose;
pub(crate) mod keymap;
mod keys;
mod msg;
mod patch;
mod probe;
mod read;
pub mod record;
mod recording;
pub mod report;
mod rollout;
mod route;
mod settings;
mod step;

/// Lines the log keeps.
pub(crate) const LOG_LINES: usize = 200;
/// Patch toggles and gaps the chart marks.
pub(crate) const MARKERS: usize = 64;

pub use crate::cluster::mesh::{ClusterInfo, WaypointInfo};
pub use crate::istio::waypoint::{Source as WaypointSource, WaypointRef};
pub use crate::route_list::RouteList;
pub use change::{Change, Landed};
pub use msg::{Effect, Key, Msg, PatchOutcome, Target};
pub use settings::{DEFAULT_LAG_TIMEOUT, DEFAULT_SETTLE, ProbeFlags, Settings};
pub use step::{Judged, StepRow};

#[derive(Debug, Clone, PartialEq)]
pub enum PatchState {
    Unknown,
    Off,
    Applying(Timestamp),
    On(Timestamp),
    Removing(Timestamp),
    Failed(ClusterError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A reply from the backend with this index.
    Backend(usize),
    Unmapped,
    Unparsable,
    Error,
    /// Our own notes: gaps, reconnects, patch changes.
    Note,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Timestamp,
    pub kind: LineKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProbeState {
    Connecting,
    Running {
        pod: String,
        since: Timestamp,
    },
    Gap {
        since: Timestamp,
        reason: crate::cluster::probe::ProbeEnd,
    },
}

/// A mark on the chart's time axis (seconds since the run began).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    PatchOn(f64),
    PatchOff(f64),
    Gap(f64),
    /// A regime began that no patch toggle marks: a route edit, a change in the stream.
    Regime(f64),
    /// A change written at `written` took effect at `at`, at the latest by `high`.
    Landed {
        written: f64,
        at: f64,
        high: f64,
    },
}

/// The probe's ends while it has brought no reply at all: `check` gives up on a client
/// that never answers, and waits out an API server that cannot answer now.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fruitless {
    pub ends: u32,
    pub last: Option<crate::cluster::probe::ProbeEnd>,
}

/// The frozen picture shown while the display is frozen.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub split: Split,
    pub log: VecDeque<LogLine>,
    pub at: Timestamp,
}

/// What `check --with-patch` asked of the patch, and how far it got.
#[derive(Debug, Clone, PartialEq)]
enum PatchWish {
    None,
    /// Waiting for the route and its waypoint.
    Waiting,
    /// Asked for (or found on): done.
    Asked,
    /// It cannot be placed, and why.
    Refused(String),
}

/// The session's state. Its fields are its own: drivers read them through the methods
/// below and change them only by messages.
#[derive(Debug, Clone)]
pub struct App {
    settings: Settings,
    parser: LineParser,
    route: Option<Route>,
    route_error: Option<ClusterError>,
    /// The namespace's routes, when it has several and none was named.
    routes: Option<RouteList>,
    info: ClusterInfo,
    labels: BTreeMap<String, usize>,
    label_problems: Vec<String>,
    /// Pod names and versions to backend index, as discovered.
    names: BTreeMap<String, usize>,
    /// Ready endpoints per backend, as last read: the bug's split.
    endpoints: Vec<u32>,
    split: Split,
    log: VecDeque<LogLine>,
    errors: u64,
    unparsable: u64,
    /// Gaps in the probe's stream since the start: each one counted once.
    gaps: u64,
    /// How the probe's attempts went while it has brought no reply at all.
    fruitless: Fruitless,
    patch: PatchState,
    patch_wish: PatchWish,
    markers: VecDeque<Marker>,
    /// A regime due to begin once a patch toggle has settled: its cause, when it is
    /// due, and when the toggle was.
    pending_regime: Option<(crate::verdict::RegimeCause, Timestamp, Timestamp)>,
    /// A route edit's weights, judged once the change lands (or at `--settle`).
    pending_weights: Option<Vec<u32>>,
    /// Configured changes and when each landed.
    changes: VecDeque<Change>,
    /// The canary rollout behind the route, as last read.
    rollout: Option<crate::rollout::Rollout>,
    /// Whether the follower has looked for one yet.
    rollout_read: bool,
    /// The rollout kinds RBAC forbade listing, as last read.
    rollouts_refused: Vec<String>,
    /// The rollout began again (a new revision) since the last step was seen.
    rollout_restarted: bool,
    /// Each weight the rollout set, with its landing and verdict.
    steps: VecDeque<StepRow>,
    /// The steps panel is open.
    show_steps: bool,
    /// The patch is being applied again to follow a route edit: part of that change.
    realigning: bool,
    probe: ProbeState,
    /// Where the probe connects, once decided.
    probe_target: Option<Target>,
    /// What each of its samples is, once decided.
    request: Option<Request>,
    /// Replies whose HTTP status was not 2xx or 3xx, by code: errors, never samples.
    statuses: BTreeMap<u16, u64>,
    /// A burst is under way: the answer it serves is still open.
    bursting: bool,
    problem: Option<ClusterError>,
    notice: Option<String>,
    frozen: Option<Frozen>,
    show_help: bool,
    /// Records kept for `--record`, until the session writes them.
    records: Vec<record::Record>,
    /// The signal that ended the run, if one did.
    signal: Option<i32>,
    started_at: Timestamp,
    now: Timestamp,
}

fn seconds(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
}

impl App {
    pub fn new(settings: Settings, parser: LineParser, now: Timestamp) -> App {
        let window = settings.window;
        let split = Split::new(&[], window).with_alpha(settings.alpha, 0.0);
        App {
            settings,
            parser,
            route: None,
            route_error: None,
            routes: None,
            info: ClusterInfo::default(),
            labels: BTreeMap::new(),
            label_problems: Vec::new(),
            names: BTreeMap::new(),
            endpoints: Vec::new(),
            split,
            log: VecDeque::new(),
            errors: 0,
            unparsable: 0,
            gaps: 0,
            fruitless: Fruitless::default(),
            patch: PatchState::Unknown,
            patch_wish: PatchWish::None,
            markers: VecDeque::new(),
            pending_regime: None,
            pending_weights: None,
            changes: VecDeque::new(),
            rollout: None,
            rollout_read: false,
            rollouts_refused: Vec::new(),
            rollout_restarted: false,
            steps: VecDeque::new(),
            show_steps: false,
            realigning: false,
            probe: ProbeState::Connecting,
            probe_target: None,
            request: None,
            statuses: BTreeMap::new(),
            bursting: false,
            problem: None,
            notice: None,
            frozen: None,
            show_help: false,
            records: Vec::new(),
            signal: None,
            started_at: now,
            now,
        }
    }

    /// An app that starts with a notice (a theme that could not be read, say).
    #[must_use]
    pub(crate) fn with_notice(mut self, notice: Option<String>) -> App {
        self.notice = notice;
        self
    }

    fn push_log(&mut self, at: Timestamp, kind: LineKind, text: String) {
        self.log.push_back(LogLine { at, kind, text });
        while self.log.len() > LOG_LINES {
            self.log.pop_front();
        }
    }

    fn mark(&mut self, marker: Marker) {
        self.markers.push_back(marker);
        while self.markers.len() > MARKERS {
            self.markers.pop_front();
        }
    }

    /// A fresh split for `weights`, its evidence starting at `at`.
    fn new_split(&self, weights: &[u32], at: Timestamp) -> Split {
        let mut split = Split::new(weights, self.split.window())
            .with_alpha(self.settings.alpha, self.elapsed(at));
        split.set_default(&self.endpoints);
        split
    }

    /// The backend index a label maps to: `--label` first, then a discovered prefix,
    /// then a pod's name or version.
    pub(crate) fn backend_for(&self, label: &str) -> Option<usize> {
        let route = self.route.as_ref()?;
        if let Some((_, backend)) = self.settings.manual_labels.iter().find(|(p, _)| p == label) {
            return route.backends.iter().position(|b| &b.name == backend);
        }
        self.labels
            .get(label)
            .or_else(|| self.names.get(label))
            .copied()
    }

    /// Takes one message; returns what the world should do about it.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let regime = self.split.regime();
        let toggled = self.pending_regime.map(|(_, _, at)| at);
        let mut effects = self.take(msg);
        self.time_out_change(self.now);
        self.follow_step();
        // A wish for the patch is pursued whenever what it waits for may have come.
        if self.patch_wish == PatchWish::Waiting {
            effects.extend(self.pursue_patch());
        }
        effects.extend(self.pace(&regime, toggled, &effects));
        effects
    }

    fn take(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Start(now) => {
                self.now = now;
                self.started_at = now;
                self.start_probe_at_flag()
            }
            Msg::Key(key) => self.key(key),
            Msg::Tick(now) => {
                self.now = now;
                vec![]
            }
            Msg::Probe(event, at) => {
                self.now = at;
                self.probe_event(event, at);
                vec![]
            }
            Msg::Route(result, at) => self.route_update(result, at),
            Msg::Rollout {
                rollout,
                refused,
                at,
            } => {
                self.rollouts_refused = refused;
                self.rollout_update(rollout, at);
                vec![]
            }
            Msg::ServicePort(service, port) => self.service_port(service, port),
            Msg::GatewayTarget(gateway, target) => self.gateway_target(&gateway, target),
            Msg::Routes(rows) => {
                self.routes_listed(rows);
                vec![]
            }
            Msg::Patch(outcome, at) => {
                self.patch_outcome(outcome, at);
                vec![]
            }
            Msg::PatchObserved(present) => {
                self.patch_observed(present);
                vec![]
            }
            Msg::WantPatch => {
                self.patch_wish = PatchWish::Waiting;
                vec![]
            }
            Msg::Signal(signal) => {
                self.signal = Some(signal);
                vec![Effect::Quit]
            }
            msg @ (Msg::Info(_)
            | Msg::Labels(..)
            | Msg::Names(_)
            | Msg::Endpoints(_)
            | Msg::Problem(_)
            | Msg::Sandbox(..)
            | Msg::Settle(_)
            | Msg::Note { .. }
            | Msg::Notice(_)) => {
                self.note(msg);
                vec![]
            }
        }
    }

    /// Messages that only change what is shown or kept.
    fn note(&mut self, msg: Msg) {
        match msg {
            Msg::Info(info) => self.cluster_info(info),
            Msg::Labels(labels, problems) => {
                self.labels = labels;
                self.label_problems = problems;
            }
            Msg::Names(names) => self.names = names,
            Msg::Endpoints(endpoints) => self.ready_endpoints(endpoints),
            Msg::Problem(problem) => self.problem = problem,
            Msg::Sandbox(text, at) => self.push_log(at, LineKind::Error, text),
            Msg::Settle(settle) => self.settings.settle = settle,
            Msg::Note { text, at, notice } => {
                if notice {
                    self.notice = Some(text.clone());
                }
                self.push_log(at, LineKind::Note, text);
            }
            Msg::Notice(text) => self.notice = Some(text),
            // `take` hands over the messages above only.
            _ => {}
        }
    }

    fn cluster_info(&mut self, info: ClusterInfo) {
        if info == self.info {
            return;
        }
        if info.warnings != self.info.warnings {
            for warning in &info.warnings {
                self.push_log(self.now, LineKind::Error, warning.clone());
            }
        }
        // What RBAC hides is said once, not with every change of the rest.
        let new_notes: Vec<String> = (info.notes.iter())
            .filter(|n| !self.info.notes.contains(n))
            .cloned()
            .collect();
        for note in new_notes {
            self.push_log(self.now, LineKind::Note, note);
        }
        self.info = info;
        self.keep(|app| app.cluster_record(app.now));
    }

    fn ready_endpoints(&mut self, endpoints: Vec<u32>) {
        if endpoints == self.endpoints {
            return;
        }
        self.split.set_default(&endpoints);
        self.endpoints = endpoints;
        if let Some(record) = self.endpoints_record(self.now) {
            self.keep(|_| record);
        }
    }
}
