//! When a configured change took effect in the traffic: one change point between the
//! split the traffic showed before the change (`before`) and the split the change aims
//! at (`after`), found in the samples since the change was written.
//!
//! With `S(k)` the log likelihood ratio of `after` over `before` summed over the samples
//! from the k-th on, the change point that explains the samples best is the `k` of the
//! largest `S(k)` (every sample before it from `before`, every one from it on from
//! `after`).
//!
//! - **Seen**: the change points of the first `HORIZON` samples, each given weight
//!   `1 / HORIZON`, are together `1 / alpha` times likelier than no change at all. For
//!   each start `k` the ratio is a nonnegative martingale of mean one under no change
//!   (one until its sample comes), so their average is too, and by Ville's inequality it
//!   ever passes `1 / alpha` with chance at most `alpha`: a change is seen that never
//!   came with chance at most `alpha`, however long one watches. The average counts every
//!   start that fits, not only the best, so a change shows a few samples sooner than by
//!   the best alone.
//! - **Between**: every `k` whose `S(k)` is within `ln(2 / alpha)` of the largest. The
//!   true change point leaves it only if the samples on one side of it favour the wrong
//!   split by that much somewhere, which (Ville again, once per side) has chance at most
//!   `alpha`, at every moment at once. In time: at or before the first sample that fits
//!   after, and after the sample before the last that fits before (a sample's time is its
//!   reply's; its connection was routed a moment earlier).

/// How many starts the "seen" test spreads its weight over: more samples than a change
/// usually takes to land at a burst's pace (`--settle`, 200).
pub(crate) const HORIZON: usize = 256;

/// Below this much expected evidence per sample (nats, each way), the two splits are
/// too alike for the traffic to show the change.
const VISIBLE: f64 = 0.01;

/// What the samples say of a change so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen {
    /// Not yet seen in the traffic.
    Pending,
    /// The split before and the one the change aims at are too alike to tell apart.
    Invisible,
    /// Seen: it took effect between `low` and `high` (run seconds), most likely at `at`.
    Landed { at: f64, low: f64, high: f64 },
}

#[derive(Debug, Clone)]
pub struct Landing {
    /// When the change was written (run seconds): it cannot have landed before.
    written: f64,
    /// ln(after / before) per backend.
    llr: Vec<f64>,
    /// Sample times since the change, and their llr.
    times: Vec<f64>,
    gains: Vec<f64>,
    alpha: f64,
    within: f64,
    invisible: bool,
}

impl Landing {
    /// A change written at `written` from the split `before` to the split `after`
    /// (shares per backend, any scale).
    pub fn new(before: &[f64], after: &[f64], alpha: f64, written: f64) -> Landing {
        let before = smoothed(before);
        let after = smoothed(after);
        let llr: Vec<f64> = after
            .iter()
            .zip(&before)
            .map(|(a, b)| (a / b).ln())
            .collect();
        let kl =
            |p: &[f64], q: &[f64]| -> f64 { p.iter().zip(q).map(|(p, q)| p * (p / q).ln()).sum() };
        let invisible = kl(&after, &before).min(kl(&before, &after)) < VISIBLE;
        Landing {
            written,
            llr,
            times: Vec::new(),
            gains: Vec::new(),
            alpha,
            within: (2.0 / alpha).ln(),
            invisible,
        }
    }

    pub fn written(&self) -> f64 {
        self.written
    }

    /// Samples since the change.
    pub fn samples(&self) -> usize {
        self.times.len()
    }

    /// One sample of `backend` at `t` run seconds.
    pub fn push(&mut self, backend: usize, t: f64) {
        let Some(gain) = self.llr.get(backend) else {
            return;
        };
        self.times.push(t);
        self.gains.push(*gain);
    }

    /// What the samples say now.
    pub fn seen(&self) -> Seen {
        if self.invisible {
            return Seen::Invisible;
        }
        // S(k) for k = n down to 0; S(n) = 0 is "no change yet".
        let n = self.gains.len();
        let mut sums = vec![0.0; n + 1];
        for k in (0..n).rev() {
            sums[k] = sums[k + 1] + self.gains[k];
        }
        let (best, top) =
            sums.iter().enumerate().fold(
                (n, 0.0),
                |acc, (k, s)| if *s > acc.1 { (k, *s) } else { acc },
            );
        if !self.likelier_than_none(&sums) {
            return Seen::Pending;
        }
        let fits = |k: &usize| top - sums[*k] <= self.within;
        let first = (0..=n).find(fits).unwrap_or(best);
        let last = (0..=n).rev().find(fits).unwrap_or(best);
        // "Not yet" still fits: no sample is known to come after it.
        if last == n {
            return Seen::Pending;
        }
        // Change point k: after sample k-1 (or the write), at or before sample k.
        let before = |k: usize| {
            if k == 0 {
                self.written
            } else {
                self.times[k - 1]
            }
        };
        let after = |k: usize| self.times.get(k).copied().unwrap_or(f64::INFINITY);
        // A sample's time is when its reply arrived; its connection was routed a moment
        // before, after the reply before it came. So the last sample that fits before
        // bounds the moment only from the one before it on.
        Seen::Landed {
            at: (before(best) + after(best)) / 2.0,
            low: before(first.saturating_sub(1)),
            high: after(last),
        }
    }
}

impl Landing {
    /// Whether the average over the first `HORIZON` starts of each start's likelihood
    /// ratio (one for a start not reached yet) has passed `1 / alpha`. In logs, with the
    /// largest term taken out so nothing overflows.
    fn likelier_than_none(&self, sums: &[f64]) -> bool {
        let started = &sums[..sums.len().saturating_sub(1).min(HORIZON)];
        let waiting = (HORIZON - started.len()) as f64;
        let top = started.iter().copied().fold(0.0, f64::max);
        let spread: f64 =
            started.iter().map(|s| (s - top).exp()).sum::<f64>() + waiting * (-top).exp();
        top + spread.ln() >= (HORIZON as f64 / self.alpha).ln()
    }
}

/// The split the traffic showed before a change: a regime's `counts`, with two samples'
/// worth of `prior` (what its verdict says it follows), so a short regime is not read
/// as more than it says.
pub fn split_before(counts: &[u64], prior: &[f64]) -> Vec<f64> {
    let n = counts.iter().sum::<u64>() as f64;
    counts
        .iter()
        .zip(prior)
        .map(|(c, p)| (*c as f64 + 2.0 * p) / (n + 2.0))
        .collect()
}

/// Shares that sum to one, none of them zero: a backend the split never picks may still
/// answer once (a straggling connection), and must not make a change impossible.
fn smoothed(shares: &[f64]) -> Vec<f64> {
    let total: f64 = shares.iter().sum();
    let n = shares.len().max(1) as f64;
    shares
        .iter()
        .map(|s| {
            let share = if total > 0.0 { s / total } else { 1.0 / n };
            (share + 0.005) / (1.0 + 0.005 * n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed xorshift stream in [0, 1).
    fn uniform(state: &mut u64) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Samples every 0.05 s from `written`: 50/50 until `true_at`, 90/10 after. Returns
    /// what the landing says once seen (or after 400 samples).
    fn run(seed: u64, true_at: f64) -> Seen {
        let mut landing = Landing::new(&[1.0, 1.0], &[90.0, 10.0], 0.01, 10.0);
        let mut state = seed;
        let mut t = 10.0;
        for _ in 0..400 {
            t += 0.05;
            let share_v1 = if t < true_at { 0.5 } else { 0.9 };
            landing.push(usize::from(uniform(&mut state) >= share_v1), t);
            if let seen @ Seen::Landed { .. } = landing.seen() {
                return seen;
            }
        }
        landing.seen()
    }

    #[test]
    fn finds_when_the_split_moved_with_an_interval_that_holds_it() {
        let mut covered = 0;
        let mut errors = Vec::new();
        for seed in 1..=200u64 {
            let truth = 10.0 + 1.0 + (seed % 7) as f64 * 0.3;
            match run(seed * 7919, truth) {
                Seen::Landed { at, low, high } => {
                    assert!(low <= at && at <= high, "{low} {at} {high}");
                    assert!(low >= 10.0);
                    if (low..=high).contains(&truth) {
                        covered += 1;
                    }
                    errors.push((at - truth).abs());
                }
                other => panic!("seed {seed}: {other:?}"),
            }
        }
        errors.sort_by(f64::total_cmp);
        // At alpha 0.01 the interval holds the truth in at least 99 % of runs.
        assert!(covered >= 196, "{covered} of 200 covered");
        assert!(errors[100] < 0.3, "median error {}", errors[100]);
    }

    #[test]
    fn a_change_that_never_comes_is_not_seen() {
        let mut state = 42;
        let mut false_seen = 0;
        for _ in 0..200 {
            let mut landing = Landing::new(&[1.0, 1.0], &[90.0, 10.0], 0.01, 0.0);
            for i in 0..256 {
                landing.push(usize::from(uniform(&mut state) >= 0.5), f64::from(i));
                if landing.seen() != Seen::Pending {
                    false_seen += 1;
                    break;
                }
            }
        }
        // At most alpha (1 %) of runs, with room for chance.
        assert!(false_seen <= 6, "{false_seen} of 200");
    }

    #[test]
    fn splits_too_alike_cannot_show_a_change() {
        let landing = Landing::new(&[50.0, 50.0], &[51.0, 49.0], 0.01, 0.0);
        assert_eq!(landing.seen(), Seen::Invisible);
        let landing = Landing::new(&[50.0, 50.0], &[90.0, 10.0], 0.01, 0.0);
        assert_eq!(landing.seen(), Seen::Pending);
    }

    #[test]
    fn a_change_that_landed_before_the_first_sample_is_placed_after_the_write() {
        let mut landing = Landing::new(&[1.0, 1.0], &[100.0, 0.0], 0.01, 5.0);
        for i in 0..40 {
            landing.push(0, 6.0 + f64::from(i) * 0.1);
        }
        match landing.seen() {
            Seen::Landed { low, high, .. } => {
                assert!((low - 5.0).abs() < 1e-9, "{low}");
                assert!(high >= 6.0, "{high}");
            }
            other => panic!("{other:?}"),
        }
    }
}
