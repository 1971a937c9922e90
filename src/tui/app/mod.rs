//! The watch screen's state and its pure update: `App::update(Msg) -> Vec<Effect>`.
//! No I/O and no clock reads here: time arrives in the messages, and everything the app
//! wants done to the world leaves as an `Effect`, whose result comes back as a `Msg`.
//! What to do is decided here; the runtime only carries it out.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use crate::cluster::ClusterError;
use crate::cluster::discover::ClientSpec;
use crate::probe::ProbeEvent;
use crate::route::Route;
use crate::sample::LineParser;
use crate::split::Split;

pub mod keymap;
mod keys;
mod patch;
mod probe;
pub mod record;
mod recording;
pub mod report;
mod route;

/// Lines the log keeps.
pub const LOG_LINES: usize = 200;
/// Patch toggles and gaps the chart marks.
pub const MARKERS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Space,
    Esc,
    CtrlC,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchOutcome {
    Applied,
    Removed,
    Failed(ClusterError),
}

pub use crate::cluster::mesh::{ClusterInfo, WaypointInfo};
pub use crate::istio::waypoint::{Source as WaypointSource, WaypointRef};

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
    /// Ready endpoints per backend: the mesh's default split, which the bug produces.
    Endpoints(Vec<u32>),
    /// Whether our EnvoyFilter exists, as last read, and since when.
    PatchObserved(Option<Timestamp>),
    Patch(PatchOutcome, Timestamp),
    /// The first port of a Service, read for a route that names no parent port.
    ServicePort(String, Result<u16, ClusterError>),
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
    /// What came of a picture of the screen: the files written, or why not.
    Shot(Result<Vec<String>, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run the probe loop in the client's pod against `target`, for the rest of the run.
    StartProbe {
        client: ClientSpec,
        target: Target,
    },
    /// Read the ports of a Service (the route's parent names none).
    ReadServicePort(String),
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
    Quit,
}

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
    Running { pod: String, since: Timestamp },
    Gap { since: Timestamp, reason: String },
}

/// A mark on the chart's time axis (seconds since the run began).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    PatchOn(f64),
    PatchOff(f64),
    Gap(f64),
    /// A regime began that no patch toggle marks: a route edit, a change in the stream.
    Regime(f64),
}

/// What the user asked for on the command line that the screen needs.
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
    /// Where `s` writes pictures of the screen, and in which formats.
    pub shots_dir: std::path::PathBuf,
    pub shot_formats: Vec<crate::tui::shot::ShotFormat>,
    /// How long after a patch toggle the evidence starts counting: a push takes a moment
    /// to reach the waypoint, and samples from before it would count against the change.
    pub settle: std::time::Duration,
    /// Keep every sample and the route and patch changes for `--record`.
    pub record: bool,
    /// A replay: the pace it plays at (`4×`, `instant`). Nothing runs in a cluster then.
    pub replay: Option<String>,
}

/// The frozen picture shown while the display is frozen.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub split: Split,
    pub log: VecDeque<LogLine>,
    pub at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct App {
    pub settings: Settings,
    pub parser: LineParser,
    pub route: Option<Route>,
    pub route_error: Option<ClusterError>,
    pub info: ClusterInfo,
    pub labels: BTreeMap<String, usize>,
    pub label_problems: Vec<String>,
    /// Ready endpoints per backend, as last read: the bug's split.
    pub endpoints: Vec<u32>,
    pub split: Split,
    pub log: VecDeque<LogLine>,
    pub errors: u64,
    pub unparsable: u64,
    /// Gaps in the probe's stream since the start: each one counted once.
    pub gaps: u64,
    pub patch: PatchState,
    pub markers: VecDeque<Marker>,
    /// A regime due to begin once a patch toggle has settled.
    pub pending_regime: Option<(crate::verdict::RegimeCause, Timestamp)>,
    pub probe: ProbeState,
    /// Where the probe connects, once decided.
    pub probe_target: Option<Target>,
    pub problem: Option<ClusterError>,
    pub notice: Option<String>,
    pub frozen: Option<Frozen>,
    pub show_help: bool,
    /// A picture of the screen is due at the next frame (`s`).
    pub pending_shot: bool,
    /// Records kept for `--record`, until the runtime writes them.
    pub records: Vec<record::Record>,
    /// The themes `t` cycles through, and the one in use.
    pub themes: crate::tui::theme::Themes,
    pub quitting: bool,
    /// The signal that ended the run, if one did.
    pub signal: Option<i32>,
    pub started_at: Timestamp,
    pub now: Timestamp,
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
            info: ClusterInfo::default(),
            labels: BTreeMap::new(),
            label_problems: Vec::new(),
            endpoints: Vec::new(),
            split,
            log: VecDeque::new(),
            errors: 0,
            unparsable: 0,
            gaps: 0,
            patch: PatchState::Unknown,
            markers: VecDeque::new(),
            pending_regime: None,
            probe: ProbeState::Connecting,
            probe_target: None,
            problem: None,
            notice: None,
            frozen: None,
            show_help: false,
            pending_shot: false,
            records: Vec::new(),
            themes: crate::tui::theme::Themes::default(),
            quitting: false,
            signal: None,
            started_at: now,
            now,
        }
    }

    /// The split the screen shows: the frozen one while frozen.
    pub fn shown_split(&self) -> &Split {
        self.frozen.as_ref().map_or(&self.split, |f| &f.split)
    }

    pub fn shown_log(&self) -> &VecDeque<LogLine> {
        self.frozen.as_ref().map_or(&self.log, |f| &f.log)
    }

    /// Seconds since the run began, for the chart's time axis.
    pub fn elapsed(&self, at: Timestamp) -> f64 {
        seconds(self.started_at, at)
    }

    /// Whether the app may change the cluster: not read-only, and not a replay.
    pub fn may_write(&self) -> bool {
        !self.settings.read_only && self.settings.replay.is_none()
    }

    /// Whether the Istio version needs the workaround: below 1.26, or unknown.
    pub fn needs_patch(&self) -> Option<bool> {
        crate::istio::needs_patch(self.info.istio.as_deref()?)
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

    /// The backend index a prefix maps to: `--label` first, then discovered.
    pub fn backend_for(&self, label: &str) -> Option<usize> {
        let route = self.route.as_ref()?;
        if let Some((_, backend)) = self.settings.manual_labels.iter().find(|(p, _)| p == label) {
            return route.backends.iter().position(|b| &b.name == backend);
        }
        self.labels.get(label).copied()
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
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
            Msg::Info(info) => {
                if info != self.info {
                    if info.warnings != self.info.warnings {
                        for warning in &info.warnings {
                            self.push_log(self.now, LineKind::Error, warning.clone());
                        }
                    }
                    self.info = info;
                    self.keep(|app| app.cluster_record(app.now));
                }
                vec![]
            }
            Msg::Route(result, at) => self.route_update(result, at),
            Msg::Labels(labels, problems) => {
                self.labels = labels;
                self.label_problems = problems;
                vec![]
            }
            Msg::Endpoints(endpoints) => {
                if endpoints != self.endpoints {
                    self.split.set_default(&endpoints);
                    self.endpoints = endpoints;
                    if let Some(record) = self.endpoints_record(self.now) {
                        self.keep(|_| record);
                    }
                }
                vec![]
            }
            Msg::PatchObserved(present) => {
                self.patch_observed(present);
                vec![]
            }
            Msg::Patch(outcome, at) => {
                self.patch_outcome(outcome, at);
                vec![]
            }
            Msg::ServicePort(service, port) => self.service_port(service, port),
            Msg::Problem(problem) => {
                self.problem = problem;
                vec![]
            }
            Msg::Sandbox(text, at) => {
                self.push_log(at, LineKind::Error, text);
                vec![]
            }
            Msg::Signal(signal) => {
                self.quitting = true;
                self.signal = Some(signal);
                vec![Effect::Quit]
            }
            Msg::Settle(settle) => {
                self.settings.settle = settle;
                vec![]
            }
            Msg::Note { text, at, notice } => {
                if notice {
                    self.notice = Some(text.clone());
                }
                self.push_log(at, LineKind::Note, text);
                vec![]
            }
            Msg::Shot(saved) => {
                self.pending_shot = false;
                self.notice = Some(match saved {
                    Ok(paths) => format!("saved {}", paths.join(", ")),
                    Err(why) => format!("no picture: {why}"),
                });
                vec![]
            }
        }
    }
}
