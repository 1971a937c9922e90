//! Fault drills: the sandbox misbehaving on purpose, for tests and for anyone who wants
//! to see how splitscope copes. Exec streams cut every so often, a share of API calls
//! answered 500 or 429 (with `Retry-After`), latency on every call. What was done is
//! counted, and whether clients waited as a 429 asked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::task::lock;

/// How long a 429 asks clients to wait.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The faults to make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Cut every exec stream this long after it opens.
    pub cut_exec_every: Option<Duration>,
    /// (HTTP status, share of API calls): 500 or 429, the shares summing to at most 1.
    pub api_errors: Vec<(u16, f64)>,
    /// Added before every API answer.
    pub latency: Duration,
}

/// What the drills did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrillCounts {
    /// API calls answered with each status.
    pub answered_500: u64,
    pub answered_429: u64,
    /// Calls repeated sooner than a 429's `Retry-After` allowed.
    pub early_retries: u64,
    pub cut_streams: u64,
    /// Replies the echo servers sent.
    pub replies: u64,
}

#[derive(Debug, Default)]
pub struct Drills {
    faults: Mutex<Faults>,
    answered_500: AtomicU64,
    answered_429: AtomicU64,
    early_retries: AtomicU64,
    cut_streams: AtomicU64,
    replies: AtomicU64,
    /// Calls answered 429, by method and URI, and when they may come again.
    waiting: Mutex<HashMap<String, Instant>>,
}

impl Drills {
    pub fn new(faults: Faults) -> Drills {
        Drills {
            faults: Mutex::new(faults),
            ..Drills::default()
        }
    }

    /// Changes the faults from now on (a storm that starts or ends).
    pub fn set(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub fn counts(&self) -> DrillCounts {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        DrillCounts {
            answered_500: get(&self.answered_500),
            answered_429: get(&self.answered_429),
            early_retries: get(&self.early_retries),
            cut_streams: get(&self.cut_streams),
            replies: get(&self.replies),
        }
    }

    pub fn latency(&self) -> Duration {
        lock(&self.faults).latency
    }

    pub fn cut_exec_every(&self) -> Option<Duration> {
        lock(&self.faults).cut_exec_every
    }

    /// The status to fail the call `key` (method and URI) with, if any. Also notes a
    /// call that came back before its 429 said it might.
    pub fn fail(&self, key: &str) -> Option<u16> {
        let now = Instant::now();
        {
            let mut waiting = lock(&self.waiting);
            if let Some(until) = waiting.remove(key)
                && now < until
            {
                self.early_retries.fetch_add(1, Ordering::Relaxed);
            }
        }
        let roll: f64 = rand::random();
        let mut below = 0.0;
        let errors = lock(&self.faults).api_errors.clone();
        for (status, share) in errors {
            below += share;
            if roll < below {
                match status {
                    429 => {
                        self.answered_429.fetch_add(1, Ordering::Relaxed);
                        lock(&self.waiting).insert(key.to_string(), now + RETRY_AFTER);
                    }
                    _ => {
                        self.answered_500.fetch_add(1, Ordering::Relaxed);
                    }
                }
                return Some(status);
            }
        }
        None
    }

    pub fn cut(&self) {
        self.cut_streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn replied(&self) {
        self.replies.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_decide_and_early_retries_are_counted() {
        let drills = Drills::new(Faults {
            api_errors: vec![(429, 1.0)],
            ..Faults::default()
        });
        assert_eq!(drills.fail("GET /a"), Some(429));
        // At once again: too early.
        assert_eq!(drills.fail("GET /a"), Some(429));
        assert_eq!(drills.counts().early_retries, 1);
        drills.set(Faults::default());
        assert_eq!(drills.fail("GET /b"), None);
        drills.set(Faults {
            api_errors: vec![(500, 1.0)],
            ..Faults::default()
        });
        assert_eq!(drills.fail("GET /b"), Some(500));
        let counts = drills.counts();
        assert_eq!((counts.answered_429, counts.answered_500), (2, 1));
    }
}
