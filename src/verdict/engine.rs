//! One regime's sequential tests, updated in O(backends) per sample.

use super::outcome::Verdict;

/// How strongly the mixture's prior centres on the weights: a_i = PRIOR_MASS * w_i.
/// Larger finds small deviations sooner and large ones later; 16 keeps an 80/20 mesh
/// under a 90/10 route to about 150 samples while the bug's 50/50 stays near 10.
const PRIOR_MASS: f64 = 16.0;

/// Weights as shares that sum to 1 (all zero stays all zero).
pub fn normalise(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| if total > 0.0 { w / total } else { 0.0 })
        .collect()
}

/// The figures behind the verdict, for the screen and `check`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Likelihood ratio of the route's weights over the bug's split (HONOURED at 1/alpha).
    pub route_over_bug: f64,
    /// The larger of the two e-values against the weights (IGNORED at 2/alpha).
    pub against_weights: f64,
    /// About how many more samples a decision needs at the current shares; None when
    /// the current shares lead to none.
    pub samples_to_decide: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Engine {
    alpha: f64,
    /// ln(1/alpha) and ln(2/alpha): HONOURED's and IGNORED's thresholds, once.
    honour_at: f64,
    ignore_at: f64,
    weights: Vec<f64>,
    default: Vec<f64>,
    ambiguous: bool,
    counts: Vec<u64>,
    /// Per backend, ln(weight / default) and ln(weight): looked up, not computed, per sample.
    sample_lr: Vec<f64>,
    ln_weight: Vec<f64>,
    /// Samples from backends of non-zero weight: the mixture's n.
    n: u64,
    log_mixture: f64,
    /// ln(prior_j + count_j) per backend and ln(PRIOR_MASS + n): the mixture's terms,
    /// carried from sample to sample (see `ln_next`).
    ln_mass: Vec<f64>,
    ln_mass_total: f64,
    /// log of (weights over default) likelihood ratio.
    log_lr: f64,
    zero_weight_hit: bool,
    verdict: Verdict,
    decided_after: Option<u64>,
}

impl Engine {
    /// `weights` and `default` per backend, in any scale.
    pub fn new(weights: &[f64], default: &[f64], alpha: f64) -> Engine {
        let weights = normalise(weights);
        let default = normalise(default);
        let ambiguous = weights.len() == default.len()
            && weights
                .iter()
                .zip(&default)
                .all(|(w, q)| (w - q).abs() < 1e-9);
        let sample_lr = per_sample_lr(&weights, &default);
        Engine {
            alpha,
            honour_at: (1.0 / alpha).ln(),
            ignore_at: (2.0 / alpha).ln(),
            ln_weight: weights.iter().map(|w| w.ln()).collect(),
            sample_lr,
            counts: vec![0; weights.len()],
            n: 0,
            log_mixture: 0.0,
            ln_mass: weights.iter().map(|w| (PRIOR_MASS * w).ln()).collect(),
            ln_mass_total: PRIOR_MASS.ln(),
            log_lr: 0.0,
            zero_weight_hit: false,
            verdict: if ambiguous {
                Verdict::Ambiguous
            } else {
                Verdict::Undecided
            },
            decided_after: None,
            weights,
            default,
            ambiguous,
        }
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn default_split(&self) -> &[f64] {
        &self.default
    }

    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Samples counted in this regime.
    pub fn samples(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// The sample (1-based, in this regime) at which the verdict was reached.
    pub fn decided_after(&self) -> Option<u64> {
        self.decided_after
    }

    pub fn ambiguous(&self) -> bool {
        self.ambiguous
    }

    /// ln(weight) and ln(default share) of a backend.
    pub(crate) fn ln_weight(&self, backend: usize) -> f64 {
        self.ln_weight[backend]
    }

    /// Log-likelihood ratio of one sample from `backend`: weights over default.
    pub(crate) fn sample_log_lr(&self, backend: usize) -> f64 {
        self.sample_lr[backend]
    }

    /// Counts one sample from `backend` (an index into the weights).
    pub fn record(&mut self, backend: usize) {
        if backend >= self.counts.len() {
            return;
        }
        let w = self.weights[backend];
        if w == 0.0 {
            // Traffic to a weight-0 backend is proof at once.
            self.zero_weight_hit = true;
        } else {
            // Once rejected, the mixture has said all it will in this regime.
            if self.verdict != Verdict::Ignored {
                self.log_mixture +=
                    self.ln_mass[backend] - self.ln_mass_total - self.ln_weight[backend];
                let mass = PRIOR_MASS * w + self.counts[backend] as f64;
                self.ln_mass[backend] = ln_next(self.ln_mass[backend], mass);
                self.ln_mass_total = ln_next(self.ln_mass_total, PRIOR_MASS + self.n as f64);
            }
            self.n += 1;
            self.log_lr += self.sample_lr[backend];
        }
        self.counts[backend] += 1;
        self.decide();
    }

    /// The default split changed (endpoints came or went): the likelihood ratio is
    /// recomputed from the counts; a decision taken stands.
    pub(crate) fn set_default(&mut self, default: &[f64]) {
        let default = normalise(default);
        if default.len() != self.weights.len() {
            return;
        }
        self.sample_lr = per_sample_lr(&self.weights, &default);
        self.default = default;
        self.ambiguous = self
            .weights
            .iter()
            .zip(&self.default)
            .all(|(w, q)| (w - q).abs() < 1e-9);
        self.log_lr = (0..self.counts.len())
            .filter(|&i| self.weights[i] > 0.0)
            .map(|i| self.counts[i] as f64 * self.sample_log_lr(i))
            .sum();
        if self.verdict == Verdict::Ambiguous && !self.ambiguous {
            self.verdict = Verdict::Undecided;
        }
        if self.verdict == Verdict::Undecided && self.ambiguous {
            self.verdict = Verdict::Ambiguous;
        }
        self.decide();
    }

    fn ignored(&self) -> bool {
        self.zero_weight_hit || self.log_mixture >= self.ignore_at || -self.log_lr >= self.ignore_at
    }

    fn decide(&mut self) {
        if self.verdict == Verdict::Ignored {
            return;
        }
        let next = if self.ignored() {
            Verdict::Ignored
        } else if self.verdict == Verdict::Honoured
            || (!self.ambiguous && self.log_lr >= self.honour_at)
        {
            Verdict::Honoured
        } else {
            self.verdict
        };
        if next != self.verdict {
            self.verdict = next;
            self.decided_after = Some(self.samples());
        }
    }

    pub fn evidence(&self) -> Evidence {
        Evidence {
            route_over_bug: self.log_lr.exp(),
            against_weights: self.log_mixture.max(-self.log_lr).exp(),
            samples_to_decide: self.samples_to_decide(),
        }
    }

    /// About how many more samples a decision needs, if the shares stay as they are:
    /// each test's distance to its threshold over its expected gain per sample.
    fn samples_to_decide(&self) -> Option<u64> {
        if matches!(self.verdict, Verdict::Honoured | Verdict::Ignored) {
            return Some(0);
        }
        let k = self.counts.len() as f64;
        let total = self.samples() as f64;
        // Smoothed shares, so one sample does not read as certainty.
        let shares: Vec<f64> = self
            .counts
            .iter()
            .map(|c| (*c as f64 + 0.5) / (total + 0.5 * k))
            .collect();
        let mut drift_lr = 0.0;
        let mut kl = 0.0;
        for (i, p) in shares.iter().enumerate() {
            if self.weights[i] == 0.0 {
                continue;
            }
            drift_lr += p * self.sample_log_lr(i);
            kl += p * (p / self.weights[i]).ln();
        }
        let (honour, ignore) = (self.honour_at, self.ignore_at);
        let mut needs = Vec::new();
        if !self.ambiguous && drift_lr > 1e-9 {
            needs.push((honour - self.log_lr) / drift_lr);
        }
        if !self.ambiguous && drift_lr < -1e-9 {
            needs.push((ignore + self.log_lr) / -drift_lr);
        }
        if kl > 1e-6 {
            needs.push((ignore - self.log_mixture) / kl);
        }
        needs
            .into_iter()
            .filter(|n| n.is_finite())
            .map(|n| n.max(1.0).ceil() as u64)
            .min()
    }
}

/// ln(x + 1) from ln(x): exact below 64, a series above (the error is under 1e-11 a step,
/// so a million steps stay far inside any threshold), which spares a logarithm per sample.
fn ln_next(ln_x: f64, x: f64) -> f64 {
    if x < 64.0 {
        return (x + 1.0).ln();
    }
    let y = 1.0 / x;
    // ln(1 + y) = y - y²/2 + y³/3 - y⁴/4 + …
    ln_x + y * (1.0 - y * (0.5 - y * (1.0 / 3.0 - y * 0.25)))
}

fn per_sample_lr(weights: &[f64], default: &[f64]) -> Vec<f64> {
    weights
        .iter()
        .zip(default)
        .map(|(w, q)| if *w == 0.0 { 0.0 } else { (w / q).ln() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bug_is_ignored_and_the_patch_honoured() {
        let mut bug = Engine::new(&[90.0, 10.0], &[1.0, 1.0], 0.01);
        for i in 0..20 {
            bug.record(i % 2);
        }
        assert_eq!(bug.verdict(), Verdict::Ignored);
        assert!(bug.decided_after().is_some_and(|n| n <= 20));

        let mut patched = Engine::new(&[90.0, 10.0], &[1.0, 1.0], 0.01);
        for i in 0..30 {
            patched.record(usize::from(i % 10 == 9));
        }
        assert_eq!(patched.verdict(), Verdict::Honoured);
        assert!(patched.evidence().route_over_bug >= 100.0);
    }

    #[test]
    fn the_carried_logarithms_stay_exact() {
        let mut ln = 64f64.ln();
        for x in 64..1_000_000u32 {
            ln = ln_next(ln, f64::from(x));
        }
        assert!((ln - 1_000_000f64.ln()).abs() < 1e-6, "{ln}");
        // The mixture against the closed form after many samples.
        let mut e = Engine::new(&[90.0, 10.0], &[1.0, 1.0], 0.01);
        for i in 0..5000 {
            e.record(usize::from(i % 10 == 0));
        }
        let (a, b) = (16.0 * 0.9, 16.0 * 0.1);
        let (x, y) = (e.counts()[0] as f64, e.counts()[1] as f64);
        let ln_gamma = crate::verdict::sequence::ln_gamma;
        let closed = ln_gamma(a + x) - ln_gamma(a) + ln_gamma(b + y)
            - ln_gamma(b)
            - (ln_gamma(16.0 + x + y) - ln_gamma(16.0))
            - x * 0.9f64.ln()
            - y * 0.1f64.ln();
        assert!(
            (e.log_mixture - closed).abs() < 1e-6,
            "{} vs {closed}",
            e.log_mixture
        );
    }

    #[test]
    fn a_weight_zero_backend_answering_is_proof_at_once() {
        let mut e = Engine::new(&[100.0, 0.0], &[1.0, 1.0], 0.01);
        e.record(1);
        assert_eq!(e.verdict(), Verdict::Ignored);
        assert_eq!(e.decided_after(), Some(1));
    }

    #[test]
    fn weights_equal_to_the_default_split_cannot_be_told_apart() {
        let mut e = Engine::new(&[50.0, 50.0], &[1.0, 1.0], 0.01);
        for i in 0..200 {
            e.record(i % 2);
        }
        assert_eq!(e.verdict(), Verdict::Ambiguous);
        // A mesh that drifts away from both is still caught.
        for _ in 0..100 {
            e.record(0);
        }
        assert_eq!(e.verdict(), Verdict::Ignored);
    }

    #[test]
    fn decisions_stand_and_the_evidence_says_how_far() {
        let mut e = Engine::new(&[90.0, 10.0], &[1.0, 1.0], 0.01);
        for _ in 0..5 {
            e.record(0);
        }
        let early = e.evidence();
        assert_eq!(e.verdict(), Verdict::Undecided);
        let needs = early.samples_to_decide.unwrap();
        assert!((1..=10).contains(&needs), "{needs}");
        for _ in 0..needs {
            e.record(0);
        }
        assert_eq!(e.verdict(), Verdict::Honoured);
        // A few unlucky samples do not take it back.
        e.record(1);
        e.record(1);
        assert_eq!(e.verdict(), Verdict::Honoured);
        assert_eq!(e.evidence().samples_to_decide, Some(0));
    }

    #[test]
    fn a_new_default_split_recomputes_the_odds() {
        let mut e = Engine::new(&[75.0, 25.0], &[1.0, 1.0], 0.01);
        for i in 0..8 {
            e.record(usize::from(i % 4 == 3));
        }
        // Three v1 endpoints and one v2: the bug's split is the route's.
        e.set_default(&[3.0, 1.0]);
        assert!(e.ambiguous());
        assert_eq!(e.verdict(), Verdict::Ambiguous);
        assert!((e.evidence().route_over_bug - 1.0).abs() < 1e-9);
    }
}
