//! Plays items into the screen's messages at the recorded pace, faster, or all at once,
//! and keeps the replay's clock: the screen's "now" is the recording's time, never past
//! the latest item read, so every duration on the screen is one the recording saw.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::read::{Item, What};
use crate::check::transcript::Plan;
use crate::cluster::probe::ProbeEvent;
use crate::route::{Backend, Route};
use crate::session::app::{Msg, PatchOutcome};
use crate::session::source::{Clock, Now, Source};
use crate::task::lock;
use futures::future::BoxFuture;

/// How fast a replay plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pace {
    /// This many times the recorded pace.
    Speed(f64),
    /// Everything at once.
    Instant,
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pace::Instant => write!(f, "instant"),
            Pace::Speed(s) => write!(f, "{s}×"),
        }
    }
}

#[derive(Debug, Default)]
struct ClockState {
    /// The first item's time, and when it was played.
    origin: Option<(Timestamp, std::time::Instant)>,
    /// The latest item's time: the clock never passes it.
    cap: Option<Timestamp>,
    /// None: all at once.
    speed: Option<f64>,
}

/// The replay's time, shared with whatever ticks the screen.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplayClock(Arc<Mutex<ClockState>>);

impl ReplayClock {
    pub fn now(&self) -> Timestamp {
        let state = lock(&self.0);
        let (Some((start, real)), Some(cap)) = (state.origin, state.cap) else {
            return state.cap.unwrap_or_else(Timestamp::now);
        };
        let Some(speed) = state.speed else {
            return cap;
        };
        let played = real.elapsed().as_secs_f64() * speed;
        let scaled = jiff::SignedDuration::try_from_secs_f64(played)
            .ok()
            .and_then(|d| start.checked_add(d).ok())
            .unwrap_or(cap);
        scaled.min(cap)
    }

    /// When an item of time `at` is due at this pace; None: at once.
    fn due(&self, at: Timestamp) -> Option<std::time::Instant> {
        let state = lock(&self.0);
        let ((start, real), speed) = (state.origin?, state.speed?);
        let recorded = (at.as_millisecond() - start.as_millisecond()) as f64 / 1000.0;
        Some(real + std::time::Duration::from_secs_f64((recorded / speed).max(0.0)))
    }

    fn saw(&self, at: Timestamp) {
        let mut state = lock(&self.0);
        if state.origin.is_none() {
            state.origin = Some((at, std::time::Instant::now()));
        }
        state.cap = Some(state.cap.map_or(at, |c| c.max(at)));
    }
}

impl Now for ReplayClock {
    fn now(&self) -> Timestamp {
        ReplayClock::now(self)
    }
}

impl Source for Feed {
    fn next(&mut self) -> BoxFuture<'_, Msg> {
        Box::pin(self.next_due())
    }

    fn try_next(&mut self) -> Option<Msg> {
        self.try_due()
    }

    fn clock(&self) -> Clock {
        Clock::of(Arc::new(self.clock.clone()))
    }
}

/// What the replay plays against: the recording's route, or the one the flags give.
pub(crate) struct Feed {
    items: mpsc::Receiver<Item>,
    /// The replay's time and pace.
    clock: ReplayClock,
    pending: Option<Item>,
    outbox: VecDeque<Msg>,
    /// Weights from `--weights` or `--route-file`: the recording's route is set aside.
    plan: Option<Plan>,
    /// The backends of the route being played, in its order.
    names: Vec<String>,
    /// The recorded route's kind and rule (0-based): a TCPRoute's first until one says.
    kind: (crate::route::RouteKind, usize),
    /// The recorded route's backends it could not reach.
    refused: Vec<String>,
    /// Prefix to backend name, as the recording mapped them.
    label_names: BTreeMap<String, String>,
    pod: Option<String>,
    /// What the source is called, for the log (a file name, or stdin).
    source: String,
    samples: u64,
    said_set_aside: bool,
    ended: bool,
}

impl Feed {
    pub fn new(
        items: mpsc::Receiver<Item>,
        pace: Pace,
        plan: Option<Plan>,
        source: String,
    ) -> Feed {
        let clock = ReplayClock::default();
        lock(&clock.0).speed = match pace {
            Pace::Speed(s) => Some(s),
            Pace::Instant => None,
        };
        Feed {
            items,
            clock,
            pending: None,
            outbox: VecDeque::new(),
            plan,
            names: Vec::new(),
            kind: (crate::route::RouteKind::Tcp, 0),
            refused: Vec::new(),
            label_names: BTreeMap::new(),
            pod: None,
            source,
            samples: 0,
            said_set_aside: false,
            ended: false,
        }
    }

    /// The next message when its time comes. Safe to cancel: whatever was read waits
    /// in `pending` for the next call.
    async fn next_due(&mut self) -> Msg {
        loop {
            if let Some(msg) = self.outbox.pop_front() {
                return msg;
            }
            if self.ended {
                return std::future::pending().await;
            }
            if self.pending.is_none() {
                match self.items.recv().await {
                    Some(item) => self.hold(item),
                    None => self.finish(),
                }
                continue;
            }
            if let Some(due) = self.due() {
                tokio::time::sleep_until(due).await;
            }
            self.release();
        }
    }

    /// The next message if it is due now.
    fn try_due(&mut self) -> Option<Msg> {
        loop {
            if let Some(msg) = self.outbox.pop_front() {
                return Some(msg);
            }
            if self.ended {
                return None;
            }
            if self.pending.is_none() {
                match self.items.try_recv() {
                    Ok(item) => self.hold(item),
                    Err(mpsc::error::TryRecvError::Empty) => return None,
                    Err(mpsc::error::TryRecvError::Disconnected) => self.finish(),
                }
                continue;
            }
            if self.due().is_some_and(|due| due > Instant::now()) {
                return None;
            }
            self.release();
        }
    }

    fn hold(&mut self, item: Item) {
        self.clock.saw(item.at);
        self.pending = Some(item);
    }

    /// When the pending item is due; None: now.
    fn due(&self) -> Option<Instant> {
        let at = self.pending.as_ref()?.at;
        self.clock.due(at).map(Instant::from_std)
    }

    fn release(&mut self) {
        let Some(item) = self.pending.take() else {
            return;
        };
        if self.samples == 0 && self.names.is_empty() {
            self.begin(item.at);
        }
        self.translate(item);
    }

    /// The run starts at the first item; weights from the flags come first.
    fn begin(&mut self, at: Timestamp) {
        self.outbox.push_back(Msg::Start(at));
        let Some(plan) = &self.plan else { return };
        let weights = plan
            .names
            .iter()
            .cloned()
            .zip(plan.weights.iter().copied())
            .collect();
        let labels = plan.prefixes.iter().map(|(p, i)| (p.clone(), *i)).collect();
        let (default, name) = (plan.default.clone(), plan.route.clone());
        self.set_route(name, String::new(), weights, at);
        self.outbox.push_back(Msg::Labels(labels, Vec::new()));
        if !default.is_empty() {
            self.outbox.push_back(Msg::Endpoints(default));
        }
    }

    fn set_route(
        &mut self,
        name: String,
        namespace: String,
        weights: Vec<(String, u32)>,
        at: Timestamp,
    ) {
        self.names = weights.iter().map(|(n, _)| n.clone()).collect();
        let route = Route {
            kind: self.kind.0,
            rule: self.kind.1,
            rules: self.kind.1 + 1,
            name,
            namespace,
            backends: weights
                .into_iter()
                .map(|(name, weight)| Backend {
                    refused: self
                        .refused
                        .contains(&name)
                        .then(|| "not permitted when recorded (no ReferenceGrant)".into()),
                    name,
                    namespace: String::new(),
                    port: 0,
                    weight,
                })
                .collect(),
            ..Route::default()
        };
        self.outbox.push_back(Msg::Route(Ok(route), at));
    }

    /// The recording's prefixes, as indices into the route being played.
    fn labels(&self) -> Msg {
        let labels = self
            .label_names
            .iter()
            .filter_map(|(p, b)| Some((p.clone(), self.names.iter().position(|n| n == b)?)))
            .collect();
        Msg::Labels(labels, Vec::new())
    }

    fn note(&mut self, text: String, at: Timestamp, notice: bool) {
        self.outbox.push_back(Msg::Note { text, at, notice });
    }

    fn translate(&mut self, item: Item) {
        let at = item.at;
        match item.what {
            What::Sample {
                pod,
                prefix,
                backend,
                line,
            } => self.recorded_sample(pod, prefix, backend, line, at),
            What::Line(line) => {
                if self.pod.is_none() {
                    self.started_in(self.source.clone(), at);
                }
                if self.names.is_empty() && self.samples == 0 {
                    self.note(
                        "these lines carry no weights: pass --weights one=90,two=10 or --route-file".into(),
                        at,
                        true,
                    );
                }
                self.sample(line, at);
            }
            What::Route {
                kind,
                rule,
                refused,
                name,
                namespace,
                weights,
            } => {
                self.kind = (kind, rule);
                self.refused = refused;
                self.recorded_route(name, namespace, weights, at);
            }
            What::Patch {
                on,
                observed,
                settle,
            } => {
                // The regime starts where the recorded run started it.
                if let Some(settle) = settle {
                    self.outbox.push_back(Msg::Settle(settle));
                }
                self.outbox.push_back(match (observed, on) {
                    (true, on) => Msg::PatchObserved(on.then_some(at)),
                    (false, true) => Msg::Patch(PatchOutcome::Applied, at),
                    (false, false) => Msg::Patch(PatchOutcome::Removed, at),
                });
            }
            What::Endpoints(ready) => {
                // Given weights name prefixes, not the recording's backends.
                if self.plan.is_none() {
                    let by_name: BTreeMap<String, u32> = ready.into_iter().collect();
                    let ready = self
                        .names
                        .iter()
                        .map(|n| by_name.get(n).copied().unwrap_or(0))
                        .collect();
                    self.outbox.push_back(Msg::Endpoints(ready));
                }
            }
            What::Cluster(info) => self.outbox.push_back(Msg::Info(info)),
            What::Skipped(why) => self.note(why, at, false),
            What::End { lines, error } => {
                self.finish_at(at, lines, error);
            }
        }
    }

    fn recorded_sample(
        &mut self,
        pod: Option<String>,
        prefix: String,
        backend: Option<String>,
        line: String,
        at: Timestamp,
    ) {
        if let Some(pod) = pod {
            self.started_in(pod, at);
        }
        if self.plan.is_none()
            && let Some(backend) = backend
            && self.label_names.get(&prefix) != Some(&backend)
        {
            self.label_names.insert(prefix, backend);
            self.outbox.push_back(self.labels());
        }
        self.sample(line, at);
    }

    fn recorded_route(
        &mut self,
        name: String,
        namespace: String,
        weights: Vec<(String, u32)>,
        at: Timestamp,
    ) {
        if self.plan.is_none() {
            self.set_route(name, namespace, weights, at);
            self.outbox.push_back(self.labels());
        } else if !self.said_set_aside {
            self.said_set_aside = true;
            self.note(
                format!("the recording's route {name} is set aside for the weights given"),
                at,
                false,
            );
        }
    }

    fn started_in(&mut self, pod: String, at: Timestamp) {
        if self.pod.as_ref() != Some(&pod) {
            self.pod = Some(pod.clone());
            self.outbox
                .push_back(Msg::Probe(ProbeEvent::Started { pod }, at));
        }
    }

    fn sample(&mut self, line: String, at: Timestamp) {
        self.samples += 1;
        self.outbox
            .push_back(Msg::Probe(ProbeEvent::Stdout(line), at));
    }

    /// The reader went away without saying why.
    fn finish(&mut self) {
        let at = self.clock.now();
        self.finish_at(at, 0, None);
    }

    fn finish_at(&mut self, at: Timestamp, lines: u64, error: Option<String>) {
        if self.ended {
            return;
        }
        self.ended = true;
        let read = if lines > 0 {
            format!(" ({lines} lines)")
        } else {
            String::new()
        };
        let text = match error {
            Some(e) => format!(
                "replay stopped: reading {} failed after {} replies{read}: {e}",
                self.source, self.samples
            ),
            None => format!(
                "replay ended: {} replies from {}{read}; q quits",
                self.samples, self.source
            ),
        };
        self.note(text, at, true);
    }
}
