//! The observed split: per backend, counts and shares over the whole run and over a
//! sliding window, 95 % Wilson intervals, and a verdict on whether the configured
//! weights hold. Memory stays bounded however long it runs: the window keeps at most
//! `MAX_WINDOW` samples and the chart history is downsampled.

use std::collections::VecDeque;

pub const Z95: f64 = 1.959_963_985;
pub const Z99: f64 = 2.575_829_304;
pub const MIN_WINDOW: usize = 5;
pub const MAX_WINDOW: usize = 1000;
pub const DEFAULT_WINDOW: usize = 20;
/// Fewer samples than this say nothing either way.
pub const MIN_DECIDE: u64 = 10;
/// Points the chart history keeps before it halves its resolution.
pub const HISTORY_POINTS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, p: f64) -> bool {
        // A hair of slack so a share of exactly 0 or 1 sits inside its own bound.
        p >= self.low - 1e-12 && p <= self.high + 1e-12
    }
}

/// The Wilson score interval for `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64, z: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Interval {
        low: (center - half).max(0.0),
        high: (center + half).min(1.0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Undecided,
    Honoured,
    Ignored,
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Undecided => "UNDECIDED",
            Verdict::Honoured => "HONOURED",
            Verdict::Ignored => "IGNORED",
        }
    }
}

/// One backend's figures over some set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub count: u64,
    pub share: f64,
    pub interval: Interval,
    /// The configured share (weight / total weight).
    pub expected: f64,
    /// Whether the configured share lies inside the 95 % interval.
    pub inside: bool,
}

fn shares(counts: &[u64], expected: &[f64]) -> Vec<Share> {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(expected)
        .map(|(&k, &e)| {
            let interval = wilson(k, n, Z95);
            Share {
                count: k,
                share: if n == 0 { 0.0 } else { k as f64 / n as f64 },
                interval,
                expected: e,
                inside: interval.contains(e),
            }
        })
        .collect()
}

/// The interval rule: a configured share outside the 99 % interval (or any traffic to
/// a weight-0 backend) means the route is ignored; every share inside its 95 % interval
/// means it is honoured; in between, the previous verdict stands, so the word does not
/// flicker on noise.
pub fn judge(counts: &[u64], expected: &[f64], previous: Verdict) -> Verdict {
    let n: u64 = counts.iter().sum();
    if counts
        .iter()
        .zip(expected)
        .any(|(&k, &e)| e == 0.0 && k > 0)
    {
        return Verdict::Ignored;
    }
    if n < MIN_DECIDE {
        return Verdict::Undecided;
    }
    if counts
        .iter()
        .zip(expected)
        .any(|(&k, &e)| !wilson(k, n, Z99).contains(e))
    {
        return Verdict::Ignored;
    }
    if counts
        .iter()
        .zip(expected)
        .all(|(&k, &e)| wilson(k, n, Z95).contains(e))
    {
        return Verdict::Honoured;
    }
    previous
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
    verdict: Verdict,
    history: History,
}

impl Split {
    /// `weights` in route order; shares are computed from them.
    pub fn new(weights: &[u32], window: usize) -> Split {
        let n = weights.len();
        let mut split = Split {
            expected: Vec::new(),
            totals: vec![0; n],
            unmapped_total: 0,
            recent: VecDeque::new(),
            window: window.clamp(MIN_WINDOW, MAX_WINDOW),
            window_counts: vec![0; n],
            window_unmapped: 0,
            verdict: Verdict::Undecided,
            history: History::default(),
        };
        split.set_weights(weights);
        split
    }

    /// New weights for the same backends (a route edited while we watch). A different
    /// number of backends starts over.
    pub fn set_weights(&mut self, weights: &[u32]) {
        let total: u64 = weights.iter().map(|w| *w as u64).sum();
        self.expected = weights
            .iter()
            .map(|w| {
                if total == 0 {
                    0.0
                } else {
                    *w as f64 / total as f64
                }
            })
            .collect();
        if weights.len() != self.totals.len() {
            *self = Split::new(weights, self.window);
            return;
        }
        self.verdict = judge(&self.window_counts, &self.expected, Verdict::Undecided);
    }

    /// Counts one sample at `t` seconds since the run began.
    pub fn record(&mut self, backend: Option<usize>, t: f64) {
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
        self.verdict = judge(&self.window_counts, &self.expected, self.verdict);
        let n: u64 = self.window_counts.iter().sum();
        if n > 0 {
            let shares: Vec<f64> = self
                .window_counts
                .iter()
                .map(|k| *k as f64 / n as f64)
                .collect();
            self.history.push(t, &shares);
        }
    }

    /// Resizes the window; it is refilled from the samples kept.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(MIN_WINDOW, MAX_WINDOW);
        self.window_counts.iter_mut().for_each(|c| *c = 0);
        self.window_unmapped = 0;
        for b in self.recent.iter().rev().take(self.window) {
            match b {
                Some(b) => self.window_counts[*b] += 1,
                None => self.window_unmapped += 1,
            }
        }
        self.verdict = judge(&self.window_counts, &self.expected, Verdict::Undecided);
    }

    pub fn window(&self) -> usize {
        self.window
    }

    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    pub fn window_shares(&self) -> Vec<Share> {
        shares(&self.window_counts, &self.expected)
    }

    pub fn total_shares(&self) -> Vec<Share> {
        shares(&self.totals, &self.expected)
    }

    /// The verdict the rule gives on the whole run (no hysteresis).
    pub fn total_verdict(&self) -> Verdict {
        judge(&self.totals, &self.expected, Verdict::Undecided)
    }

    pub fn total(&self) -> u64 {
        self.totals.iter().sum::<u64>() + self.unmapped_total
    }

    pub fn window_len(&self) -> u64 {
        self.window_counts.iter().sum::<u64>() + self.window_unmapped
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
    fn wilson_matches_known_values() {
        // 9 of 10 at 95 %: [0.596, 0.982], worked by hand from the formula.
        let i = wilson(9, 10, Z95);
        assert!(
            (i.low - 0.5958).abs() < 1e-3 && (i.high - 0.9821).abs() < 1e-3,
            "{i:?}"
        );
        let i = wilson(0, 10, Z95);
        assert_eq!(i.low, 0.0);
        assert!((i.high - 0.2775).abs() < 1e-3);
        assert_eq!(
            wilson(0, 0, Z95),
            Interval {
                low: 0.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn the_rule_separates_ninety_ten_from_fifty_fifty() {
        let expected = [0.9, 0.1];
        assert_eq!(
            judge(&[10, 10], &expected, Verdict::Undecided),
            Verdict::Ignored
        );
        assert_eq!(
            judge(&[18, 2], &expected, Verdict::Undecided),
            Verdict::Honoured
        );
        assert_eq!(
            judge(&[3, 2], &expected, Verdict::Honoured),
            Verdict::Undecided
        );
        // Between the two intervals the previous verdict stands.
        assert_eq!(
            judge(&[15, 5], &expected, Verdict::Honoured),
            Verdict::Honoured
        );
        assert_eq!(
            judge(&[15, 5], &expected, Verdict::Ignored),
            Verdict::Ignored
        );
        // Any reply from a weight-0 backend is proof enough.
        assert_eq!(
            judge(&[3, 1], &[1.0, 0.0], Verdict::Undecided),
            Verdict::Ignored
        );
    }

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
        assert_eq!(s.window_len(), 20);
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
        s.set_weights(&[50, 50]);
        assert_eq!(s.verdict(), Verdict::Honoured);
        assert_eq!(s.expected(), &[0.5, 0.5]);
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
