//! Simulated streams through the real engine: how soon and how often the verdict is
//! right. `cargo bench --bench verdict` prints the table; tests check the bounds on fewer
//! runs.

use super::judge::{Judge, RegimeCause};
use super::outcome::Verdict;

/// A small, fast, seedable generator (SplitMix64): the same runs every time, and
/// well mixed even from neighbouring seeds.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A backend drawn from `shares` (summing to 1).
    pub fn pick(&mut self, shares: &[f64]) -> usize {
        let mut roll = self.next_f64();
        for (i, s) in shares.iter().enumerate() {
            if roll < *s {
                return i;
            }
            roll -= s;
        }
        shares.len() - 1
    }
}

/// One simulated situation.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub weights: Vec<f64>,
    /// The mesh's default split (the bug's signature).
    pub default: Vec<f64>,
    /// What the mesh really sends, before and (if `change_at`) after the change.
    pub mesh: Vec<f64>,
    pub after: Option<(usize, Vec<f64>)>,
    /// A patch toggle (a new regime) at this sample, `settle` samples before the change
    /// reaches the wire; None: nobody says (the stream must show it).
    pub toggle: Option<usize>,
    /// The verdict that is right (after the change, if any).
    pub right: Verdict,
    pub samples: usize,
}

/// What many runs of a scenario gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub runs: usize,
    /// Samples (after the change, if any) until the right verdict first shows.
    pub median: Option<usize>,
    pub p90: Option<usize>,
    /// Runs whose first verdict (after the change) was the wrong one.
    pub first_wrong: f64,
    /// Runs that ever showed IGNORED (for scenarios where HONOURED is right).
    pub ever_ignored: f64,
    /// Runs that showed the right verdict by the end.
    pub right_by_end: f64,
}

/// Runs `scenario` `runs` times from `seed`.
pub fn simulate(scenario: &Scenario, runs: usize, seed: u64, alpha: f64) -> Stats {
    let mut latencies = Vec::with_capacity(runs);
    let (mut first_wrong, mut ever_ignored, mut right_by_end) = (0, 0, 0);
    for run in 0..runs {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(run as u64));
        let mut judge = Judge::new(&scenario.weights, &scenario.default, alpha, 0.0);
        let change = scenario.after.as_ref().map_or(0, |(at, _)| *at);
        let (mut first, mut latency, mut saw_ignored) = (None, None, false);
        for i in 0..scenario.samples {
            if scenario.toggle == Some(i) {
                judge.start(RegimeCause::PatchOn, i as f64);
            }
            let shares = match &scenario.after {
                Some((at, after)) if i >= *at => after,
                _ => &scenario.mesh,
            };
            judge.record(rng.pick(shares), i as f64);
            if i < change {
                continue;
            }
            let verdict = judge.verdict();
            saw_ignored |= verdict == Verdict::Ignored;
            if first.is_none() && matches!(verdict, Verdict::Honoured | Verdict::Ignored) {
                first = Some(verdict);
            }
            if latency.is_none() && verdict == scenario.right {
                latency = Some(i - change + 1);
            }
        }
        first_wrong += usize::from(first.is_some_and(|v| v != scenario.right));
        ever_ignored += usize::from(saw_ignored);
        right_by_end += usize::from(judge.verdict() == scenario.right);
        latencies.push(latency.unwrap_or(usize::MAX));
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let v = latencies[((runs as f64 * q) as usize).min(runs - 1)];
        (v != usize::MAX).then_some(v)
    };
    let share = |n: usize| n as f64 / runs as f64;
    Stats {
        runs,
        median: at(0.5),
        p90: at(0.9),
        first_wrong: share(first_wrong),
        ever_ignored: share(ever_ignored),
        right_by_end: share(right_by_end),
    }
}

/// The scenarios the verdict is held to.
pub fn scenarios() -> Vec<Scenario> {
    let two = |a: f64, b: f64| vec![a, b];
    let third = 1.0 / 3.0;
    vec![
        Scenario {
            name: "the bug: mesh 50/50, route 90/10",
            weights: two(0.9, 0.1),
            default: two(0.5, 0.5),
            mesh: two(0.5, 0.5),
            after: None,
            toggle: None,
            right: Verdict::Ignored,
            samples: 2000,
        },
        Scenario {
            name: "patched: mesh 90/10, route 90/10",
            weights: two(0.9, 0.1),
            default: two(0.5, 0.5),
            mesh: two(0.9, 0.1),
            after: None,
            toggle: None,
            right: Verdict::Honoured,
            samples: 2000,
        },
        Scenario {
            name: "off by ten: mesh 80/20, route 90/10",
            weights: two(0.9, 0.1),
            default: two(0.5, 0.5),
            mesh: two(0.8, 0.2),
            after: None,
            toggle: None,
            right: Verdict::Ignored,
            samples: 1000,
        },
        Scenario {
            name: "three backends: mesh 1/3 each, route 60/30/10",
            weights: vec![0.6, 0.3, 0.1],
            default: vec![third, third, third],
            mesh: vec![third, third, third],
            after: None,
            toggle: None,
            right: Verdict::Ignored,
            samples: 2000,
        },
        Scenario {
            name: "three backends patched: mesh 60/30/10",
            weights: vec![0.6, 0.3, 0.1],
            default: vec![third, third, third],
            mesh: vec![0.6, 0.3, 0.1],
            after: None,
            toggle: None,
            right: Verdict::Honoured,
            samples: 2000,
        },
        Scenario {
            name: "patch on at sample 200 (toggle, settled)",
            weights: two(0.9, 0.1),
            default: two(0.5, 0.5),
            mesh: two(0.5, 0.5),
            after: Some((200, two(0.9, 0.1))),
            toggle: Some(200),
            right: Verdict::Honoured,
            samples: 1200,
        },
        Scenario {
            name: "someone else's patch at sample 200 (no toggle)",
            weights: two(0.9, 0.1),
            default: two(0.5, 0.5),
            mesh: two(0.5, 0.5),
            after: Some((200, two(0.9, 0.1))),
            toggle: None,
            right: Verdict::Honoured,
            samples: 1200,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds the verdict is held to, on 400 runs of each scenario (the bench runs
    /// 10,000); the slack covers what 400 runs leave to chance.
    #[test]
    fn the_verdict_keeps_its_bounds() {
        let all = scenarios();
        let run = |i: usize| simulate(&all[i], 400, 7, 0.01);
        let bug = run(0);
        assert!(bug.median.is_some_and(|m| m <= 10), "{bug:?}");
        assert!(bug.first_wrong <= 0.02, "{bug:?}");
        let patched = run(1);
        assert!(patched.median.is_some_and(|m| m <= 13), "{patched:?}");
        assert!(
            patched.first_wrong <= 0.02 && patched.ever_ignored <= 0.025,
            "{patched:?}"
        );
        let off = run(2);
        assert!(off.median.is_some_and(|m| m <= 170), "{off:?}");
        assert!(
            off.ever_ignored >= 0.98 && off.right_by_end >= 0.98,
            "{off:?}"
        );
        let three = run(3);
        assert!(three.median.is_some_and(|m| m <= 30), "{three:?}");
        let three_patched = run(4);
        assert!(
            three_patched.median.is_some_and(|m| m <= 30),
            "{three_patched:?}"
        );
        assert!(three_patched.ever_ignored <= 0.025, "{three_patched:?}");
        let toggled = run(5);
        assert!(toggled.median.is_some_and(|m| m <= 20), "{toggled:?}");
        let unannounced = run(6);
        assert!(
            unannounced.median.is_some_and(|m| m <= 40),
            "{unannounced:?}"
        );
        assert!(unannounced.right_by_end >= 0.97, "{unannounced:?}");
    }

    #[test]
    fn the_generator_is_uniform_enough() {
        let mut rng = Rng::new(1);
        let n = 100_000;
        let ones = (0..n).filter(|_| rng.pick(&[0.9, 0.1]) == 0).count();
        assert!((ones as f64 / n as f64 - 0.9).abs() < 0.005);
    }
}
