//! How a change reaches the waypoint, as istiod pushes it: changes are debounced (istiod
//! waits until 100 ms pass with no new event, 10 s at most: `PILOT_DEBOUNCE_AFTER` and
//! `PILOT_DEBOUNCE_MAX`), compiled once, and sent to each waypoint replica, which takes
//! it after its own push time. Push times vary around `--propagation-delay` (log-normal,
//! so most are near it and a few take twice as long), so a waypoint with several
//! replicas takes a change at several moments and the split moves in steps. Each
//! replica's moment is kept: what the sandbox did, for tests to hold estimates to.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::waypoint::Programming;

/// istiod's `PILOT_DEBOUNCE_AFTER`: a push waits until events stop for this long.
pub(crate) const DEBOUNCE_AFTER: Duration = Duration::from_millis(100);
/// istiod's `PILOT_DEBOUNCE_MAX`: and waits no longer than this after the first.
pub(crate) const DEBOUNCE_MAX: Duration = Duration::from_secs(10);
/// The spread of push times: ln of the time is normal with this deviation around the
/// median `--propagation-delay` (about 0.56 to 1.8 times it, nine pushes in ten).
const SPREAD: f64 = 0.35;
/// Replicas a waypoint may have here; more are served as this many.
pub(crate) const MAX_REPLICAS: usize = 16;
/// Moments kept (the oldest go first).
const KEPT: usize = 4096;

/// One replica taking one push: what the sandbox did, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Install {
    pub replica: usize,
    /// When the push was compiled: it carries every change written before.
    pub compiled_at: Timestamp,
    /// When the replica took it.
    pub installed_at: Timestamp,
}

/// The waypoint replicas' programming, newest push each.
pub(crate) struct Replicas {
    slots: RwLock<Vec<(u64, Arc<Programming>)>>,
    installs: std::sync::Mutex<std::collections::VecDeque<Install>>,
}

impl Replicas {
    pub fn new(initial: Arc<Programming>) -> Replicas {
        Replicas {
            slots: RwLock::new(vec![(0, initial); MAX_REPLICAS]),
            installs: std::sync::Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// What replica `r` runs now.
    pub fn of(&self, replica: usize) -> Arc<Programming> {
        let slots = self
            .slots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots[replica % MAX_REPLICAS].1.clone()
    }

    /// Replica `r` takes push `seq`, unless it has a newer one already (a slow push
    /// overtaken by a quick one).
    pub fn install(
        &self,
        replica: usize,
        seq: u64,
        compiled: Arc<Programming>,
        compiled_at: Timestamp,
    ) {
        let replica = replica % MAX_REPLICAS;
        let mut slots = self
            .slots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seq <= slots[replica].0 {
            return;
        }
        slots[replica] = (seq, compiled);
        drop(slots);
        let mut installs = crate::sandbox::sync::lock(&self.installs);
        installs.push_back(Install {
            replica,
            compiled_at,
            installed_at: Timestamp::now(),
        });
        while installs.len() > KEPT {
            installs.pop_front();
        }
    }

    /// Every replica's every push so far, oldest first.
    pub fn installs(&self) -> Vec<Install> {
        crate::sandbox::sync::lock(&self.installs)
            .iter()
            .copied()
            .collect()
    }
}

/// How long one replica's push takes: `median` spread log-normally.
pub(crate) fn push_time(median: Duration, rng: &mut impl Rng) -> Duration {
    // Box-Muller: one standard normal from two uniforms.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median.mul_f64((SPREAD * z).exp())
}

/// When the replicas took the change written at `written`: for each replica that took
/// a push compiled after it, the first such moment.
pub fn took_effect(installs: &[Install], written: Timestamp) -> Vec<(usize, Timestamp)> {
    let mut first: Vec<(usize, Timestamp)> = Vec::new();
    for i in installs.iter().filter(|i| i.compiled_at >= written) {
        match first.iter_mut().find(|(r, _)| *r == i.replica) {
            Some((_, at)) if i.installed_at < *at => *at = i.installed_at,
            Some(_) => {}
            None => first.push((i.replica, i.installed_at)),
        }
    }
    first.sort_by_key(|(r, _)| *r);
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn push_times_spread_around_the_median() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut times: Vec<f64> = (0..2000)
            .map(|_| push_time(Duration::from_secs(3), &mut rng).as_secs_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[1000];
        assert!((2.8..3.2).contains(&median), "{median}");
        // A fraction of a second to several: nine in ten within 0.56 to 1.8 times.
        assert!(times[100] > 1.4 && times[100] < 2.0, "{}", times[100]);
        assert!(times[1900] > 4.6 && times[1900] < 6.0, "{}", times[1900]);
    }

    #[test]
    fn a_replica_keeps_the_newest_push_and_its_moment() {
        let replicas = Replicas::new(Arc::new(Programming::default()));
        let t0 = Timestamp::now();
        replicas.install(0, 2, Arc::new(Programming::default()), t0);
        // Push 1 arrives late: overtaken, not installed.
        replicas.install(0, 1, Arc::new(Programming::default()), t0);
        replicas.install(1, 1, Arc::new(Programming::default()), t0);
        let installs = replicas.installs();
        assert_eq!(installs.len(), 2);
        let took = took_effect(&installs, t0);
        assert_eq!(took.iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![0, 1]);
    }
}
