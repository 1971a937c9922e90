//! Regimes: the evidence counts from the last change, and a change the stream shows
//! starts a new regime where it began.

use super::change::{Detector, Shift};
use super::engine::{Engine, Evidence};
use super::outcome::Verdict;

/// Samples of a regime kept to re-judge from a detected change point.
const REPLAY: usize = 4096;
/// A change is declared at 1000/alpha to one: about one false change in 2,000 samples
/// per hundred runs at alpha 0.01, where 1/alpha would give dozens.
const CHANGE_FACTOR: f64 = 1000.0;

/// Why a regime began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegimeCause {
    Start,
    Reset,
    PatchOn,
    PatchOff,
    RouteEdit,
    /// The stream turned to the route's weights (someone's patch, a rollout).
    ChangeToRoute,
    /// The stream turned to the bug's split.
    ChangeToBug,
}

impl RegimeCause {
    /// A few words for the split panel.
    pub fn label(self) -> &'static str {
        match self {
            RegimeCause::Start => "start",
            RegimeCause::Reset => "reset",
            RegimeCause::PatchOn => "patch on",
            RegimeCause::PatchOff => "patch off",
            RegimeCause::RouteEdit => "route edit",
            RegimeCause::ChangeToRoute => "turned to route",
            RegimeCause::ChangeToBug => "turned to bug",
        }
    }

    /// A sentence's worth, for the log.
    pub fn describe(self) -> &'static str {
        match self {
            RegimeCause::Start => "the start",
            RegimeCause::Reset => "a reset",
            RegimeCause::PatchOn => "the patch went on",
            RegimeCause::PatchOff => "the patch came off",
            RegimeCause::RouteEdit => "the route changed",
            RegimeCause::ChangeToRoute => "the split turned to the route's weights",
            RegimeCause::ChangeToBug => "the split turned to the bug's",
        }
    }
}

/// Since when, and why, the evidence counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regime {
    pub cause: RegimeCause,
    /// Seconds on the run's clock.
    pub started: f64,
}

#[derive(Debug, Clone)]
pub struct Judge {
    engine: Engine,
    detector: Detector,
    regime: Regime,
    /// The regime's latest samples (backend, time), for re-judging from a change point.
    samples: Ring,
    /// How many of the regime's samples were dropped from the front of `samples`.
    dropped: usize,
    /// ln(CHANGE_FACTOR / alpha), once.
    change_threshold: f64,
    /// ln of the split the regime has shown, per backend: what a change is measured
    /// against. It lags one refresh behind, so samples after a change do not hide it.
    ln_seen: Vec<f64>,
    /// The counts at the last refresh, for the next one.
    snapshot: Vec<u64>,
    since_seen: u32,
}

/// Samples between refreshes of the split seen: it moves slowly, and a change shows
/// within a few dozen samples.
const SEEN_REFRESH: u32 = 64;

impl Judge {
    pub fn new(weights: &[f64], default: &[f64], alpha: f64, started: f64) -> Judge {
        Judge {
            engine: Engine::new(weights, default, alpha),
            detector: Detector::default(),
            regime: Regime {
                cause: RegimeCause::Start,
                started,
            },
            samples: Ring::default(),
            dropped: 0,
            change_threshold: (CHANGE_FACTOR / alpha).ln(),
            ln_seen: Vec::new(),
            snapshot: Vec::new(),
            since_seen: 0,
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.engine.verdict()
    }

    pub fn evidence(&self) -> Evidence {
        self.engine.evidence()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// Starts a new regime now: the evidence so far no longer counts.
    pub fn start(&mut self, cause: RegimeCause, at: f64) {
        let e = &self.engine;
        self.engine = Engine::new(e.weights(), e.default_split(), e.alpha());
        self.detector = Detector::default();
        self.samples.clear();
        self.dropped = 0;
        self.ln_seen.clear();
        self.snapshot.clear();
        self.regime = Regime { cause, started: at };
    }

    /// A new regime from `from` (run seconds), under `weights` when they changed: the
    /// samples kept from then on are judged again, none before. For a change that
    /// landed a moment ago, so the evidence counts from where the traffic showed it.
    pub(crate) fn start_from(&mut self, cause: RegimeCause, from: f64, weights: Option<&[f64]>) {
        let keep: Vec<(usize, f64)> = self.samples.iter().filter(|s| s.1 >= from).collect();
        if let Some(weights) = weights {
            let e = &self.engine;
            self.engine = Engine::new(weights, e.default_split(), e.alpha());
        }
        self.start(cause, from);
        for (backend, at) in keep {
            self.engine.record(backend);
            self.samples.push((backend, at));
        }
    }

    /// The mesh's default split changed (endpoints): the odds are recomputed.
    pub(crate) fn set_default(&mut self, default: &[f64]) {
        self.engine.set_default(default);
        self.detector = Detector::default();
    }

    /// Counts one sample; returns the new regime when the stream showed a change.
    pub fn record(&mut self, backend: usize, at: f64) -> Option<Regime> {
        if backend >= self.engine.weights().len() {
            return None;
        }
        let before = self.engine.verdict();
        self.engine.record(backend);
        if self.engine.verdict() != before {
            // A decision: measure changes from the split that led to it.
            self.snapshot.clear();
            self.ln_seen.clear();
        }
        if self.samples.push((backend, at)) {
            self.dropped += 1;
        }
        if self.engine.ambiguous() {
            return None;
        }
        let index = self.dropped + self.samples.len() - 1;
        self.since_seen += 1;
        if self.ln_seen.is_empty() || self.since_seen >= SEEN_REFRESH {
            self.refresh_seen();
        }
        // A turn to the route is measured against the split seen (the bug's, or one
        // merely off); a turn to the bug against the weights, which HONOURED stands on.
        let seen = self.ln_seen[backend];
        let (to_route, to_bug) = self.detector.update(
            index,
            self.engine.ln_weight(backend) - seen,
            -self.engine.sample_log_lr(backend),
            self.change_threshold,
        );
        let shift = match self.engine.verdict() {
            Verdict::Ignored => to_route,
            Verdict::Honoured => to_bug,
            _ => None,
        }?;
        Some(self.restart_at(shift))
    }

    /// The regime's split as of the previous refresh (or now, the first time), smoothed
    /// so an unseen backend is not impossible.
    fn refresh_seen(&mut self) {
        let counts = self.engine.counts();
        let seen = if self.snapshot.is_empty() {
            counts
        } else {
            &self.snapshot
        };
        let total = seen.iter().sum::<u64>() as f64 + 0.5 * seen.len() as f64;
        self.ln_seen = seen
            .iter()
            .map(|c| ((*c as f64 + 0.5) / total).ln())
            .collect();
        self.snapshot = counts.to_vec();
        self.since_seen = 0;
    }

    /// A new regime from the change point, re-judged on the samples since.
    fn restart_at(&mut self, shift: Shift) -> Regime {
        let (from, cause) = match shift {
            Shift::ToRoute { from } => (from, RegimeCause::ChangeToRoute),
            Shift::ToBug { from } => (from, RegimeCause::ChangeToBug),
        };
        let keep: Vec<(usize, f64)> = self
            .samples
            .iter()
            .skip(from.saturating_sub(self.dropped))
            .collect();
        let started = keep.first().map_or(0.0, |s| s.1);
        self.start(cause, started);
        // The detector starts afresh after the change: the samples that showed it must
        // not show it again.
        for (backend, at) in keep {
            self.engine.record(backend);
            self.samples.push((backend, at));
        }
        self.regime
    }
}

/// The last `REPLAY` samples in a fixed ring: pushing costs a store, not an allocation.
#[derive(Debug, Clone, Default)]
struct Ring {
    slots: Vec<(usize, f64)>,
    /// Where the oldest sample sits once the ring is full.
    head: usize,
}

impl Ring {
    /// Keeps a sample; returns true when the oldest one made room for it.
    fn push(&mut self, sample: (usize, f64)) -> bool {
        if self.slots.len() < REPLAY {
            self.slots.push(sample);
            return false;
        }
        self.slots[self.head] = sample;
        self.head = (self.head + 1) % REPLAY;
        true
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.head = 0;
    }

    /// Oldest first.
    fn iter(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (newer, older) = self.slots.split_at(self.head);
        older.iter().chain(newer).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_someone_else_applies_starts_a_regime_where_it_landed() {
        let mut judge = Judge::new(&[90.0, 10.0], &[1.0, 1.0], 0.01, 0.0);
        let mut t = 0.0;
        for i in 0..60 {
            t += 1.0;
            assert_eq!(judge.record(i % 2, t), None);
        }
        assert_eq!(judge.verdict(), Verdict::Ignored);
        let mut started = None;
        for i in 0..200 {
            t += 1.0;
            if let Some(regime) = judge.record(usize::from(i % 10 == 9), t) {
                started = Some(regime);
                break;
            }
        }
        let regime = started.unwrap();
        assert_eq!(regime.cause, RegimeCause::ChangeToRoute);
        assert!((60.0..=70.0).contains(&regime.started), "{regime:?}");
        assert_eq!(judge.verdict(), Verdict::Honoured);
    }

    #[test]
    fn a_steady_stream_does_not_keep_changing() {
        // A fixed pseudo-random 50/50 stream against 90/10: IGNORED, and (almost) no
        // regime after that.
        let mut judge = Judge::new(&[90.0, 10.0], &[1.0, 1.0], 0.01, 0.0);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut changes = 0;
        for i in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if judge.record((state >> 33) as usize % 2, i as f64).is_some() {
                changes += 1;
            }
        }
        assert!(changes <= 2, "{changes} changes in a steady stream");
        assert_eq!(judge.verdict(), Verdict::Ignored);
    }

    #[test]
    fn the_ring_keeps_the_latest_in_order() {
        let mut ring = Ring::default();
        for i in 0..REPLAY + 3 {
            assert_eq!(ring.push((i, 0.0)), i >= REPLAY);
        }
        let kept: Vec<usize> = ring.iter().map(|s| s.0).collect();
        assert_eq!(kept.len(), REPLAY);
        assert_eq!((kept[0], kept[REPLAY - 1]), (3, REPLAY + 2));
    }

    #[test]
    fn regimes_restart_the_evidence() {
        let mut judge = Judge::new(&[90.0, 10.0], &[1.0, 1.0], 0.01, 0.0);
        for i in 0..40 {
            judge.record(i % 2, i as f64);
        }
        assert_eq!(judge.verdict(), Verdict::Ignored);
        judge.start(RegimeCause::PatchOn, 41.0);
        assert_eq!(judge.verdict(), Verdict::Undecided);
        assert_eq!(judge.engine().samples(), 0);
        judge.start_from(RegimeCause::RouteEdit, 42.0, Some(&[50.0, 50.0]));
        assert_eq!(judge.verdict(), Verdict::Ambiguous);
        assert_eq!(judge.regime().cause, RegimeCause::RouteEdit);
    }
}
