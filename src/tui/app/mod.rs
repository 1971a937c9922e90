//! The watch screen's state and its pure update: `App::update(Msg) -> Vec<Effect>`.
//! No I/O and no clock reads here: time arrives in the messages, and everything the app
//! wants done to the world leaves as an `Effect`, whose result comes back as a `Msg`.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use crate::cluster::probe::ProbeEvent;
use crate::route::Route;
use crate::sample::LineParser;
use crate::split::{DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW, Split};

mod keys;

/// Lines the log keeps.
pub const LOG_LINES: usize = 200;
/// Patch toggles and gaps the chart marks.
pub const MARKERS: usize = 64;
const WINDOW_STEPS: [usize; 8] = [
    MIN_WINDOW,
    10,
    DEFAULT_WINDOW,
    50,
    100,
    200,
    500,
    MAX_WINDOW,
];

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
    Failed(String),
}

/// What the cluster says about the namespace, read once at start and on route changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterInfo {
    pub waypoint: Option<String>,
    pub istio: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    Tick(Timestamp),
    Probe(ProbeEvent, Timestamp),
    Info(ClusterInfo),
    /// The route as last read; an error says why there is none.
    Route(Result<Route, String>, Timestamp),
    /// Prefix to backend index, and the backends that have none.
    Labels(BTreeMap<String, usize>, Vec<String>),
    /// Whether our EnvoyFilter exists, as last read, and since when.
    PatchObserved(Option<Timestamp>),
    Patch(PatchOutcome, Timestamp),
    /// Where the probe connects, once known.
    Target(String),
    /// An error from a background read, shown until the next one clears it.
    Problem(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    ApplyPatch(Route),
    RemovePatch(Route),
    DiscoverLabels(Route),
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchState {
    Unknown,
    Off,
    Applying(Timestamp),
    On(Timestamp),
    Removing(Timestamp),
    Failed(String),
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
    pub target: String,
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
    pub route_error: Option<String>,
    pub info: ClusterInfo,
    pub labels: BTreeMap<String, usize>,
    pub label_problems: Vec<String>,
    pub split: Split,
    pub log: VecDeque<LogLine>,
    pub errors: u64,
    pub unparsable: u64,
    pub patch: PatchState,
    pub markers: VecDeque<Marker>,
    pub probe: ProbeState,
    pub problem: Option<String>,
    pub notice: Option<String>,
    pub frozen: Option<Frozen>,
    pub show_help: bool,
    pub quitting: bool,
    pub started_at: Timestamp,
    pub now: Timestamp,
}

fn seconds(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
}

impl App {
    pub fn new(settings: Settings, parser: LineParser, now: Timestamp) -> App {
        let window = settings.window;
        App {
            settings,
            parser,
            route: None,
            route_error: None,
            info: ClusterInfo::default(),
            labels: BTreeMap::new(),
            label_problems: Vec::new(),
            split: Split::new(&[], window),
            log: VecDeque::new(),
            errors: 0,
            unparsable: 0,
            patch: PatchState::Unknown,
            markers: VecDeque::new(),
            probe: ProbeState::Connecting,
            problem: None,
            notice: None,
            frozen: None,
            show_help: false,
            quitting: false,
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
                self.info = info;
                vec![]
            }
            Msg::Route(result, at) => self.route_update(result, at),
            Msg::Labels(labels, problems) => {
                self.labels = labels;
                self.label_problems = problems;
                vec![]
            }
            Msg::PatchObserved(present) => {
                // Reconcile with what the cluster shows, unless a change of ours is under way.
                match (&self.patch, present) {
                    (PatchState::Applying(_) | PatchState::Removing(_), _) => {}
                    (PatchState::On(_), None) => {
                        self.patch = PatchState::Off;
                        self.notice = Some("the patch was removed outside splitscope".into());
                    }
                    (PatchState::On(_), Some(_)) => {}
                    (_, Some(since)) => self.patch = PatchState::On(since),
                    (PatchState::Failed(_), None) => {}
                    (_, None) => self.patch = PatchState::Off,
                }
                vec![]
            }
            Msg::Patch(outcome, at) => {
                self.now = at;
                let t = self.elapsed(at);
                match outcome {
                    PatchOutcome::Applied => {
                        if !matches!(self.patch, PatchState::On(_)) {
                            self.mark(Marker::PatchOn(t));
                            self.push_log(at, LineKind::Note, "patch applied".into());
                        }
                        self.patch = PatchState::On(at);
                    }
                    PatchOutcome::Removed => {
                        self.patch = PatchState::Off;
                        self.mark(Marker::PatchOff(t));
                        self.push_log(at, LineKind::Note, "patch removed".into());
                    }
                    PatchOutcome::Failed(why) => {
                        self.push_log(at, LineKind::Error, format!("patch failed: {why}"));
                        self.patch = PatchState::Failed(why);
                    }
                }
                vec![]
            }
            Msg::Target(target) => {
                self.settings.target = target;
                vec![]
            }
            Msg::Problem(problem) => {
                self.problem = problem;
                vec![]
            }
        }
    }

    fn probe_event(&mut self, event: ProbeEvent, at: Timestamp) {
        match event {
            ProbeEvent::Started { pod } => {
                if let ProbeState::Gap { since, .. } = &self.probe {
                    let gap = seconds(*since, at);
                    self.push_log(
                        at,
                        LineKind::Note,
                        format!("probe resumed in {pod} after a {gap:.1}s gap"),
                    );
                } else {
                    self.push_log(at, LineKind::Note, format!("probe started in {pod}"));
                }
                self.probe = ProbeState::Running { pod, since: at };
            }
            ProbeEvent::Ended { reason, retry_in } => {
                let t = self.elapsed(at);
                self.mark(Marker::Gap(t));
                self.push_log(
                    at,
                    LineKind::Note,
                    format!("{reason}; reconnecting in {:.1}s", retry_in.as_secs_f64()),
                );
                if !matches!(self.probe, ProbeState::Gap { .. }) {
                    self.probe = ProbeState::Gap { since: at, reason };
                }
            }
            ProbeEvent::Stderr(line) => {
                self.errors += 1;
                let text = crate::sample::clean(&line).into_owned();
                self.push_log(at, LineKind::Error, text);
            }
            ProbeEvent::Stdout(line) => {
                // Cleaned once: the parser and the log read the same text.
                let text = crate::sample::clean(&line);
                match self.parser.parse(&text) {
                    Ok(reply) => {
                        let backend = self.backend_for(&reply.label);
                        let t = self.elapsed(at);
                        self.split.record(backend, t);
                        let kind = backend.map_or(LineKind::Unmapped, LineKind::Backend);
                        self.push_log(at, kind, text.trim().to_string());
                    }
                    Err(crate::sample::LineError::Empty) => {}
                    Err(e) => {
                        self.unparsable += 1;
                        self.push_log(at, LineKind::Unparsable, format!("{text}  ({e})"));
                    }
                }
            }
        }
    }

    fn route_update(&mut self, result: Result<Route, String>, at: Timestamp) -> Vec<Effect> {
        let route = match result {
            Err(why) => {
                self.route_error = Some(why);
                return vec![];
            }
            Ok(route) => route,
        };
        self.route_error = None;
        let weights: Vec<u32> = route.backends.iter().map(|b| b.weight).collect();
        let mut effects = Vec::new();
        match &self.route {
            Some(old) if *old == route => return vec![],
            Some(old) if same_backends(old, &route) => {
                self.split.set_weights(&weights);
                self.push_log(
                    at,
                    LineKind::Note,
                    format!("route weights changed to {}", weight_text(&route)),
                );
                if matches!(self.patch, PatchState::On(_)) && !self.settings.read_only {
                    // Keep an active patch in line with the route.
                    self.patch = PatchState::Applying(at);
                    effects.push(Effect::ApplyPatch(route.clone()));
                }
            }
            _ => {
                self.split = Split::new(&weights, self.split.window());
                self.markers.clear();
                self.started_at = at;
                effects.push(Effect::DiscoverLabels(route.clone()));
            }
        }
        self.route = Some(route);
        effects
    }

    /// What to print after the screen is gone.
    pub fn exit_message(&self) -> String {
        let ns = &self.settings.namespace;
        match (&self.patch, &self.route) {
            (PatchState::On(_) | PatchState::Applying(_), Some(route)) => format!(
                "The patch {} stays applied in namespace {ns}. Remove it with:\n  splitscope patch remove -n {ns} --route {}",
                crate::patch::name_for(route),
                route.name
            ),
            _ => "No splitscope patch is applied.".to_string(),
        }
    }
}

fn same_backends(a: &Route, b: &Route) -> bool {
    a.name == b.name
        && a.backends.len() == b.backends.len()
        && a.backends
            .iter()
            .zip(&b.backends)
            .all(|(x, y)| x.name == y.name && x.namespace == y.namespace && x.port == y.port)
}

pub fn weight_text(route: &Route) -> String {
    route
        .backends
        .iter()
        .map(|b| format!("{}={}", b.name, b.weight))
        .collect::<Vec<_>>()
        .join(" ")
}
