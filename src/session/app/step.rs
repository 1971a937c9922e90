//! One weight a canary rollout set, as the traffic judged it: the row of the steps
//! panel and of `check --follow`.

use jiff::Timestamp;

use super::change::Landed;
use crate::split::{Share, Verdict};

/// How many steps a run keeps (the oldest go first).
pub(super) const KEPT_STEPS: usize = 256;

/// What the traffic said of a step while it was the latest.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub verdict: Verdict,
    /// Samples the verdict rests on (its regime's).
    pub samples: u64,
    /// The regime's sample at which it was decided.
    pub decided_after: Option<u64>,
    /// The shares seen, with their anytime-valid intervals.
    pub shares: Vec<Share>,
}

/// One `setWeight` of the rollout behind the route, as the route showed it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    /// The step's place in the rollout's steps, from 0.
    pub index: usize,
    /// How many steps the rollout has.
    pub of: usize,
    /// The canary's weight the step set.
    pub weight: u32,
    /// The route's weights, backend by backend.
    pub weights: Vec<u32>,
    /// When splitscope saw it written (for a step in place at the start: the start).
    pub at: Timestamp,
    /// The same, in run seconds.
    pub written: f64,
    /// When it landed; None for a step in place before the run began.
    pub landed: Option<Landed>,
    /// What the traffic said, once its evidence began.
    pub judged: Option<Judged>,
    /// The next step came before this one was decided.
    pub cut_short: bool,
    /// The rollout completed and sent the traffic back to its stable Service before the
    /// step was decided (Argo does so right after a last `setWeight`): not counted as
    /// cut short, since no later step was waiting on it.
    pub promoted: bool,
    /// Another change came after it (a weight no step sets, a patch toggle): what the
    /// traffic shows from then on is not this step's.
    pub closed: bool,
}

impl StepRow {
    /// Decided: HONOURED or IGNORED.
    pub fn decided(&self) -> Option<Verdict> {
        self.judged
            .as_ref()
            .map(|j| j.verdict)
            .filter(|v| matches!(v, Verdict::Honoured | Verdict::Ignored))
    }

    /// "step 3 of 7 (setWeight 30)".
    pub fn name(&self) -> String {
        format!(
            "step {} of {} (setWeight {})",
            self.index + 1,
            self.of,
            self.weight
        )
    }
}
