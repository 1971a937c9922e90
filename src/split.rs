//! The observed split: per backend, counts and shares over the whole run, over a sliding
//! window (the chart's smoothing) and since the current regime began (the evidence), and
//! the verdict the sequential tests give (`verdict`). Memory stays bounded however long it
//! runs: the window keeps at most `MAX_WINDOW` samples and the chart history is
//! downsampled.

use std::collections::VecDeque;

use crate::verdict::{DEFAULT_ALPHA, Evidence, Judge, Regime, RegimeCause, confidence_sequence};
pub use crate::verdict::{Interval, Verdict};

pub(crate) const MIN_WINDOW: usize = 5;
pub(crate) const MAX_WINDOW: usize = 1000;
pub(crate) const DEFAULT_WINDOW: usize = 20;
/// Points the chart history keeps before it halves its resolution.
pub(crate) const HISTORY_POINTS: usize = 1024;

/// One backend's figures over some set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub count: u64,
    pub share: f64,
    /// An anytime-valid interval for the share, where one is given (the regime's).
    pub interval: Option<Interval>,
    /// The configured share (weight / total weight).
    pub expected: f64,
}

impl Share {
    /// Whether the configured share lies inside the interval (true without one).
    pub(crate) fn inside(&self) -> bool {
        self.interval.is_none_or(|i| i.contains(self.expected))
    }
}

fn shares(counts: &[u64], expected: &[f64], alpha: Option<f64>) -> Vec<Share> {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(expected)
        .map(|(&k, &e)| Share {
            count: k,
            share: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            interval: alpha.map(|a| confidence_sequence(k, n, a)),
            expected: e,
        })
        .collect()
}

/// The chart's history: each point is the window share of every backend at a time
/// (seconds since the run began). When full, neighbouring points merge.
#[derive(Debug, Clone, Default)]
pub struct History {
    points: Vec<(f64, Vec<f64>)>,
    stride: usize,
    pending: Option<(f64, Vec<f64>, usize)>,
}

impl History {
    fn push(&mut self, t: f64, shares: &[f64]) {
        if self.stride == 0 {
            self.stride = 1;
        }
        let (pt, sum, n) = self
            .pending
            .get_or_insert_with(|| (t, vec![0.0; shares.len()], 0));
        *pt = t;
        for (s, v) in sum.iter_mut().zip(shares) {
            *s += v;
        }
        *n += 1;
        if *n >= self.stride {
            let (t, sum, n) = self.pending.take().unwrap_or_default();
            self.points
                .push((t, sum.iter().map(|s| s / n as f64).collect()));
            if self.points.len() >= HISTORY_POINTS {
                self.points = self
                    .points
                    .chunks(2)
                    .map(|pair| {
                        let t = pair[pair.len() - 1].0;
                        let k = pair.len() as f64;
                        let width = pair[0].1.len();
                        (
                            t,
                            (0..width)
                                .map(|i| pair.iter().map(|p| p.1[i]).sum::<f64>() / k)
                                .collect(),
                        )
                    })
                    .collect();
                self.stride *= 2;
            }
        }
    }

    pub fn points(&self) -> &[(f64, Vec<f64>)] {
        &self.points
    }
}

/// Counts for one route's backends (by index) plus replies no backend claims.
#[derive(Debug, Clone)]
pub struct Split {
    expected: Vec<f64>,
    totals: Vec<u64>,
    unmapped_total: u64,
    /// The latest samples, newest last: `Some(backend)` or `None` for unmapped.
    recent: VecDeque<Option<usize>>,
    window: usize,
    window_counts: Vec<u64>,
    window_unmapped: u64,
    history: History,
    /// The mesh's default split per backend (the bug's signature), in any scale.
    default: Vec<f64>,
    judge: Judge,
}

fn as_f64(values: &[u32]) -> Vec<f64> {
    values.iter().map(|v| f64::from(*v)).collect()
}

impl Split {
    /// `weights` in route order; shares are computed from them. The default split starts
    /// uniform over the backends, until the cluster says how many endpoints each has.
    pub fn new(weights: &[u32], window: usize) -> Split {
        let n = weights.len();
        let weights = as_f64(weights);
        let default = vec![1.0; n];
        Split {
            expected: crate::verdict::normalise(&weights),
            totals: vec![0; n],
            unmapped_total: 0,
            recent: VecDeque::new(),
            window: window.clamp(MIN_WINDOW, MAX_WINDOW),
            window_counts: vec![0; n],
            window_unmapped: 0,
            history: History::default(),
            judge: Judge::new(&weights, &default, DEFAULT_ALPHA, 0.0),
            default,
        }
    }

    /// The level of the tests and intervals (`--alpha`); the evidence starts afresh.
    pub(crate) fn with_alpha(mut self, alpha: f64, at: f64) -> Split {
        let weights = self.judge.engine().weights().to_vec();
        self.judge = Judge::new(&weights, &self.default, alpha, at);
        self
    }

    pub fn alpha(&self) -> f64 {
        self.judge.engine().alpha()
    }

    /// The mesh's default split: ready endpoints per backend.
    pub(crate) fn set_default(&mut self, endpoints: &[u32]) {
        if endpoints.len() != self.totals.len() || endpoints.iter().all(|e| *e == 0) {
            return;
        }
        let default = as_f64(endpoints);
        if default != self.default {
            self.judge.set_default(&default);
            self.default = default;
        }
    }

    /// The default split per backend, as shares.
    pub fn default_split(&self) -> &[f64] {
        self.judge.engine().default_split()
    }

    /// A new regime from `from`, when a change landed: the samples since are judged
    /// again, under the new `weights` when the change brought some.
    pub(crate) fn start_regime_from(
        &mut self,
        cause: RegimeCause,
        from: f64,
        weights: Option<&[u32]>,
    ) {
        let weights = weights.filter(|w| w.len() == self.totals.len()).map(as_f64);
        if let Some(weights) = &weights {
            self.expected = crate::verdict::normalise(weights);
        }
        self.judge.start_from(cause, from, weights.as_deref());
    }

    /// A new regime now (a patch toggle, a reset): the evidence so far stops counting.
    pub(crate) fn start_regime(&mut self, cause: RegimeCause, at: f64) {
        self.judge.start(cause, at);
    }

    /// Counts one sample at `t` seconds since the run began; returns the new regime when
    /// the stream showed a change.
    pub fn record(&mut self, backend: Option<usize>, t: f64) -> Option<Regime> {
        let backend = backend.filter(|b| *b < self.totals.len());
        match backend {
            Some(b) => {
                self.totals[b] += 1;
                self.window_counts[b] += 1;
            }
            None => {
                self.unmapped_total += 1;
                self.window_unmapped += 1;
            }
        }
        self.recent.push_back(backend);
        // The window is the last `window` entries of `recent`: one falls out per push.
        if self.recent.len() > self.window {
            match self.recent[self.recent.len() - 1 - self.window] {
                Some(b) => self.window_counts[b] -= 1,
                None => self.window_unmapped -= 1,
            }
        }
        if self.recent.len() > MAX_WINDOW {
            self.recent.pop_front();
        }
        let n: u64 = self.window_counts.iter().sum();
        if n > 0 {
            let shares: Vec<f64> = self
                .window_counts
                .iter()
                .map(|k| *k as f64 / n as f64)
                .collect();
            self.history.push(t, &shares);
        }
        // Unmapped replies are no evidence either way.
        self.judge.record(backend?, t)
    }

    /// Resizes the window; it is refilled from the samples kept.
    pub(crate) fn set_window(&mut self, window: usize) {
        self.window = window.clamp(MIN_WINDOW, MAX_WINDOW);
        self.window_counts.iter_mut().for_each(|c| *c = 0);
        self.window_unmapped = 0;
        for b in self.recent.iter().rev().take(self.window) {
            match b {
                Some(b) => self.window_counts[*b] += 1,
                None => self.window_unmapped += 1,
            }
        }
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// The current regime's verdict.
    pub fn verdict(&self) -> Verdict {
        self.judge.verdict()
    }

    pub fn evidence(&self) -> Evidence {
        self.judge.evidence()
    }

    pub(crate) fn judge(&self) -> &Judge {
        &self.judge
    }

    pub fn regime(&self) -> Regime {
        self.judge.regime()
    }

    /// The sample of the regime at which its verdict was reached.
    pub fn decided_after(&self) -> Option<u64> {
        self.judge.engine().decided_after()
    }

    /// Shares since the regime began, with their confidence sequences.
    pub(crate) fn regime_shares(&self) -> Vec<Share> {
        shares(
            self.judge.engine().counts(),
            &self.expected,
            Some(self.alpha()),
        )
    }

    /// Samples the regime's evidence counts.
    pub fn regime_len(&self) -> u64 {
        self.judge.engine().samples()
    }

    /// Shares over the sliding window: the chart's smoothing, not evidence.
    pub(crate) fn window_shares(&self) -> Vec<Share> {
        shares(&self.window_counts, &self.expected, None)
    }

    pub fn total_shares(&self) -> Vec<Share> {
        shares(&self.totals, &self.expected, None)
    }

    pub fn total(&self) -> u64 {
        self.totals.iter().sum::<u64>() + self.unmapped_total
    }

    pub fn unmapped(&self) -> (u64, u64) {
        (self.window_unmapped, self.unmapped_total)
    }

    pub fn expected(&self) -> &[f64] {
        &self.expected
    }

    pub fn history(&self) -> &History {
        &self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_resizes() {
        let mut s = Split::new(&[90, 10], 10);
        for i in 0..10 {
            s.record(Some(1), i as f64);
        }
        assert_eq!(s.window_shares()[1].count, 10);
        for i in 0..10 {
            s.record(Some(0), 10.0 + i as f64);
        }
        assert_eq!(s.window_shares()[0].count, 10);
        assert_eq!(s.window_shares()[1].count, 0);
        assert_eq!(s.total_shares()[1].count, 10);
        assert_eq!(s.total(), 20);
        s.set_window(20);
        assert_eq!(s.window_shares()[1].count, 10);
        s.record(None, 21.0);
        assert_eq!(s.unmapped(), (1, 1));
        assert_eq!(s.window_counts.iter().sum::<u64>() + s.window_unmapped, 20);
        s.set_window(1);
        assert_eq!(s.window(), MIN_WINDOW);
    }

    #[test]
    fn weights_change_and_the_verdict_follows() {
        let mut s = Split::new(&[90, 10], 20);
        for i in 0..20 {
            s.record(Some(i % 2), i as f64);
        }
        assert_eq!(s.verdict(), Verdict::Ignored);
        // New weights start a new regime; 50/50 over one endpoint each is the bug's split.
        s.start_regime_from(RegimeCause::RouteEdit, 20.0, Some(&[50, 50]));
        assert_eq!(s.verdict(), Verdict::Ambiguous);
        assert_eq!(s.expected(), &[0.5, 0.5]);
        assert_eq!(s.total(), 20, "the counts stay");
        assert_eq!(s.regime_len(), 0, "the evidence starts afresh");
        // Three endpoints for v1 and one for v2 make the bug's split 75/25.
        s.start_regime_from(RegimeCause::RouteEdit, 21.0, Some(&[90, 10]));
        s.set_default(&[3, 1]);
        assert!((s.default_split()[0] - 0.75).abs() < 1e-12);
    }

    #[test]
    fn history_stays_bounded() {
        let mut s = Split::new(&[1, 1], 20);
        for i in 0..100_000 {
            s.record(Some(i % 2), i as f64);
        }
        let points = s.history().points();
        assert!(
            points.len() < HISTORY_POINTS && points.len() >= HISTORY_POINTS / 4,
            "{}",
            points.len()
        );
        assert!(points.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!((points.last().unwrap().1[0] - 0.5).abs() < 0.1);
    }
}
