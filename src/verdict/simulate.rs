//! Simulated streams through the real engine: how soon and how often the verdict is
//! right. `cargo bench --bench verdict` prints the table; tests check the bounds on fewer
//! runs.

use super::judge::{Judge, RegimeCause};
use super::landing::{Landing, Seen, split_before};
use super::outcome::Verdict;

/// `--settle` in samples: a burst's 20 a second for its 10 s.
const SETTLE: usize = 200;

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
    /// A configured change written at this sample (a patch toggle, or a route edit to
    /// `edit`), the traffic changing at `after`'s sample; its regime starts where the
    /// samples show it landed, as on the screen, or `SETTLE` samples later at the
    /// latest. None: nobody says (the stream must show it).
    pub toggle: Option<usize>,
    /// The route's new weights, for a route edit.
    pub edit: Option<Vec<f64>>,
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
        // A configured change waiting to land, and whether its regime has begun.
        let mut landing: Option<Landing> = None;
        let mut begun = scenario.toggle.is_none();
        for i in 0..scenario.samples {
            if scenario.toggle == Some(i) {
                landing = Some(written(&judge, scenario, alpha, i));
            }
            let shares = match &scenario.after {
                Some((at, after)) if i >= *at => after,
                _ => &scenario.mesh,
            };
            let backend = rng.pick(shares);
            judge.record(backend, i as f64);
            if let Some(waiting) = landing.as_mut() {
                waiting.push(backend, i as f64);
                let cause = if scenario.edit.is_some() {
                    RegimeCause::RouteEdit
                } else {
                    RegimeCause::PatchOn
                };
                // As the app does: from the sample after the one that showed it.
                let from = match waiting.seen() {
                    Seen::Landed { .. } => Some(i as f64 + 0.5),
                    Seen::Invisible => Some(waiting.written()),
                    Seen::Pending => {
                        (i >= waiting.written() as usize + SETTLE).then_some(i as f64 + 1.0)
                    }
                };
                if let Some(from) = from {
                    judge.start_from(cause, from, scenario.edit.as_deref());
                    landing = None;
                    begun = true;
                }
            }
            // Verdicts count from the change on, and for a configured change from the
            // regime it began: until then the screen shows the old regime's answer.
            if i < change || !begun {
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

/// A change written at sample `i`: from the split the regime shows to the weights (a
/// patch on, or a route edit's new weights).
fn written(judge: &Judge, scenario: &Scenario, alpha: f64, i: usize) -> Landing {
    let engine = judge.engine();
    let prior = match engine.verdict() {
        Verdict::Honoured => engine.weights(),
        _ => engine.default_split(),
    };
    let before = split_before(engine.counts(), prior);
    let after = scenario.edit.as_deref().unwrap_or(&scenario.weights);
    Landing::new(&before, after, alpha, i as f64)
}

/// A mesh that sends `mesh` throughout, under a route of `weights`.
fn steady(
    name: &'static str,
    weights: Vec<f64>,
    default: Vec<f64>,
    mesh: Vec<f64>,
    right: Verdict,
    samples: usize,
) -> Scenario {
    Scenario {
        name,
        weights,
        default,
        mesh,
        after: None,
        toggle: None,
        edit: None,
        right,
        samples,
    }
}

/// The scenarios the verdict is held to.
pub fn scenarios() -> Vec<Scenario> {
    let two = |a: f64, b: f64| vec![a, b];
    let third = 1.0 / 3.0;
    let thirds = vec![third, third, third];
    let (route, bug) = (two(0.9, 0.1), two(0.5, 0.5));
    let bugged = |name| {
        steady(
            name,
            route.clone(),
            bug.clone(),
            bug.clone(),
            Verdict::Honoured,
            1200,
        )
    };
    vec![
        steady(
            "the bug: mesh 50/50, route 90/10",
            route.clone(),
            bug.clone(),
            bug.clone(),
            Verdict::Ignored,
            2000,
        ),
        steady(
            "patched: mesh 90/10, route 90/10",
            route.clone(),
            bug.clone(),
            route.clone(),
            Verdict::Honoured,
            2000,
        ),
        steady(
            "off by ten: mesh 80/20, route 90/10",
            route.clone(),
            bug.clone(),
            two(0.8, 0.2),
            Verdict::Ignored,
            1000,
        ),
        steady(
            "three backends: mesh 1/3 each, route 60/30/10",
            vec![0.6, 0.3, 0.1],
            thirds.clone(),
            thirds.clone(),
            Verdict::Ignored,
            2000,
        ),
        steady(
            "three backends patched: mesh 60/30/10",
            vec![0.6, 0.3, 0.1],
            thirds.clone(),
            vec![0.6, 0.3, 0.1],
            Verdict::Honoured,
            2000,
        ),
        Scenario {
            after: Some((260, route.clone())),
            toggle: Some(200),
            ..bugged("patch on at 200, landing at 260")
        },
        Scenario {
            after: Some((200, bug.clone())),
            toggle: Some(200),
            right: Verdict::Ignored,
            ..bugged("patch on at 200 that never lands")
        },
        Scenario {
            mesh: route.clone(),
            after: Some((260, two(0.7, 0.3))),
            toggle: Some(200),
            edit: Some(two(0.7, 0.3)),
            ..bugged("route edit 90/10 to 70/30 at 200, landing at 260")
        },
        Scenario {
            after: Some((200, route.clone())),
            ..bugged("someone else's patch at sample 200 (no toggle)")
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
        // A toggle's regime begins where the traffic shows the change.
        let toggled = run(5);
        assert!(toggled.median.is_some_and(|m| m <= 40), "{toggled:?}");
        assert!(
            toggled.first_wrong <= 0.02 && toggled.ever_ignored <= 0.025,
            "{toggled:?}"
        );
        // One that never shows starts it at the settle's limit, and reads the bug.
        let never = run(6);
        assert!(never.right_by_end >= 0.98, "{never:?}");
        // A route edit is judged from where it lands: the old split counts for nothing.
        let edited = run(7);
        assert!(edited.median.is_some_and(|m| m <= 200), "{edited:?}");
        assert!(edited.ever_ignored <= 0.03, "{edited:?}");
        let unannounced = run(8);
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
