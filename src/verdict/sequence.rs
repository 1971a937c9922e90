//! Confidence sequences for one backend's share: intervals that hold at every sample at
//! once, so looking at them as often as one likes keeps their level.
//!
//! The interval is every share p for which the beta-binomial mixture martingale
//! (Jeffreys' Beta(1/2, 1/2) mixing) stays below 1/alpha: under the true p that
//! martingale passes 1/alpha with chance at most alpha, ever (Ville's inequality).

/// A range of shares.
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

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): 15 digits, enough for counts of any size.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its good range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln of the mixture martingale at share p after k hits in n.
fn ln_martingale(k: f64, n: f64, p: f64) -> f64 {
    let log_lik = if p <= 0.0 {
        if k > 0.0 { f64::NEG_INFINITY } else { 0.0 }
    } else if p >= 1.0 {
        if k < n { f64::NEG_INFINITY } else { 0.0 }
    } else {
        k * p.ln() + (n - k) * (1.0 - p).ln()
    };
    ln_beta(k + 0.5, n - k + 0.5) - ln_beta(0.5, 0.5) - log_lik
}

/// The confidence sequence for a share after `k` of `n` samples, at level `alpha`.
pub fn confidence_sequence(k: u64, n: u64, alpha: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let (kf, nf) = (k as f64, n as f64);
    let threshold = (1.0 / alpha).ln();
    let centre = kf / nf;
    let outside = |p: f64| ln_martingale(kf, nf, p) >= threshold;
    // The martingale is convex in p with its minimum at k/n: one crossing each side.
    let bisect = |mut inside: f64, mut out: f64| {
        for _ in 0..48 {
            let mid = 0.5 * (inside + out);
            if outside(mid) {
                out = mid;
            } else {
                inside = mid;
            }
        }
        inside
    };
    let low = if outside(0.0) {
        bisect(centre, 0.0)
    } else {
        0.0
    };
    let high = if outside(1.0) {
        bisect(centre, 1.0)
    } else {
        1.0
    };
    Interval { low, high }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        assert!((ln_gamma(1.0)).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-10);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-10);
        assert!((ln_gamma(101.0) - (1..=100).map(|i| (i as f64).ln()).sum::<f64>()).abs() < 1e-8);
    }

    #[test]
    fn intervals_contain_the_share_and_narrow() {
        let wide = confidence_sequence(9, 10, 0.01);
        let narrow = confidence_sequence(900, 1000, 0.01);
        assert!(wide.contains(0.9) && narrow.contains(0.9));
        assert!(narrow.high - narrow.low < wide.high - wide.low);
        assert!(narrow.high - narrow.low < 0.1, "{narrow:?}");
        // Wider than a fixed-sample 99 % interval (normal approximation, ±0.0244 at
        // 900 of 1000): the price of looking at every sample.
        assert!(narrow.high - narrow.low > 2.0 * 0.0244);
        assert_eq!(confidence_sequence(0, 0, 0.01).high, 1.0);
        let none = confidence_sequence(0, 50, 0.01);
        assert_eq!(none.low, 0.0);
        assert!(none.high < 0.2);
    }
}
