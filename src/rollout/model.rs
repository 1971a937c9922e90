//! A canary rollout as splitscope sees it, whichever controller runs it.

use std::time::Duration;

/// Which controller moves the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// Argo Rollouts with the `argoproj-labs/gatewayAPI` traffic router plugin.
    Argo,
    /// Flagger with the Gateway API provider.
    Flagger,
}

impl Controller {
    /// The kind, as the header names it.
    pub fn kind(self) -> &'static str {
        match self {
            Controller::Argo => "Rollout",
            Controller::Flagger => "Canary",
        }
    }
}

/// One step of a canary, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `setWeight`: the canary's share of the traffic, in percent.
    SetWeight(u32),
    /// `pause`, for a while, or until promoted (None).
    Pause(Option<Duration>),
    /// Any other step (`analysis`, `experiment`, `setCanaryScale`, …), by its key.
    Other(String),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::SetWeight(w) => write!(f, "setWeight {w}"),
            Step::Pause(Some(d)) => write!(f, "pause {}", crate::units::spell(*d)),
            Step::Pause(None) => write!(f, "pause until promoted"),
            Step::Other(key) => write!(f, "{key}"),
        }
    }
}

/// How a rollout ended, once it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Every step done and promoted.
    Completed,
    /// Aborted (by hand or by a failed analysis): the canary's weight goes back to 0.
    Aborted,
}

/// Where a rollout is, as its controller keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub controller: Controller,
    pub name: String,
    pub namespace: String,
    pub steps: Vec<Step>,
    /// The step being carried out (0-based); `steps.len()` once all are done.
    pub step_index: Option<usize>,
    /// `status.phase`: Progressing, Paused, Healthy, Degraded (Argo); Initialized,
    /// Progressing, Promoting, Finalising, Succeeded, Failed (Flagger).
    pub phase: String,
    /// Paused now (a pause step, or by hand).
    pub paused: bool,
    /// The canary's weight as the controller wrote it (its status).
    pub weight: Option<u32>,
    /// The Services the route's backends name: the canary's and the stable one's.
    pub canary_service: String,
    pub stable_service: String,
    pub end: Option<End>,
}

/// A route a rollout names: its kind's plural-free name (`HTTPRoute`), name and
/// namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteName {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
}

impl Rollout {
    /// The steps' count, every kind: what "step 3 of 8" counts (Flagger's steps are
    /// its weights only).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether no `setWeight` comes after step `index`: the last weight the rollout sets.
    pub fn sets_no_weight_after(&self, index: usize) -> bool {
        !self
            .steps
            .iter()
            .skip(index + 1)
            .any(|s| matches!(s, Step::SetWeight(_)))
    }

    /// Past its last step (promoting, or done).
    pub fn all_steps_done(&self) -> bool {
        self.step_index.is_some_and(|i| i >= self.steps.len())
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step that set `weight`: the first `setWeight` of that weight at or after
    /// `from` (the step after the last one seen). 0-based. None for a weight no step
    /// ahead sets: the return to stable, an abort, an edit by hand.
    pub fn step_setting(&self, weight: u32, from: usize) -> Option<usize> {
        (from..self.steps.len()).find(|i| self.steps[*i] == Step::SetWeight(weight))
    }

    /// The weight the last `setWeight` at or before the current step asked for.
    pub fn set_weight(&self) -> Option<u32> {
        let upto = self.step_index?.min(self.steps.len());
        self.steps[..=upto.min(self.steps.len().saturating_sub(1))]
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::SetWeight(w) => Some(*w),
                _ => None,
            })
    }

    /// One line for the header: "Rollout web · step 3 of 8 · setWeight 30 · paused 10 s".
    pub fn headline(&self) -> String {
        let mut parts = vec![format!("{} {}", self.controller.kind(), self.name)];
        let of = self.steps.len();
        match self.step_index {
            Some(i) if i >= of => parts.push(format!("all {of} steps done")),
            Some(i) => parts.push(format!("step {} of {of}", i + 1)),
            None => parts.push(format!("{of} steps, not started")),
        }
        if let Some(w) = self.weight {
            parts.push(format!("canary weight {w}"));
        }
        let state = match (self.end, self.step_index.and_then(|i| self.steps.get(i))) {
            (Some(End::Completed), _) => "completed".to_string(),
            (Some(End::Aborted), _) => "aborted".to_string(),
            (None, Some(step @ Step::Pause(_))) if self.paused => match step {
                Step::Pause(Some(d)) => format!("paused {}", crate::units::spell(*d)),
                _ => "paused until promoted".to_string(),
            },
            (None, _) if self.paused => "paused".to_string(),
            (None, Some(step)) => step.to_string(),
            (None, None) => self.phase.clone(),
        };
        parts.push(state);
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rollout(steps: Vec<Step>, index: usize) -> Rollout {
        Rollout {
            controller: Controller::Argo,
            name: "web".into(),
            namespace: "ns".into(),
            steps,
            step_index: Some(index),
            phase: "Paused".into(),
            paused: true,
            weight: Some(30),
            canary_service: "web-canary".into(),
            stable_service: "web-stable".into(),
            end: None,
        }
    }

    #[test]
    fn the_headline_says_where_the_rollout_is() {
        let steps = vec![
            Step::SetWeight(10),
            Step::Pause(Some(Duration::from_secs(10))),
            Step::SetWeight(30),
            Step::Pause(Some(Duration::from_secs(10))),
            Step::SetWeight(60),
            Step::Pause(None),
            Step::SetWeight(100),
            Step::Pause(Some(Duration::from_secs(5))),
        ];
        let r = rollout(steps.clone(), 3);
        assert_eq!(
            r.headline(),
            "Rollout web · step 4 of 8 · canary weight 30 · paused 10s"
        );
        assert_eq!(
            rollout(steps.clone(), 5).headline(),
            "Rollout web · step 6 of 8 · canary weight 30 · paused until promoted"
        );
        let mut done = rollout(steps, 8);
        done.end = Some(End::Completed);
        assert_eq!(
            done.headline(),
            "Rollout web · all 8 steps done · canary weight 30 · completed"
        );
    }

    #[test]
    fn a_weight_is_tied_to_the_step_that_set_it() {
        let steps = vec![
            Step::SetWeight(10),
            Step::Pause(None),
            Step::SetWeight(10),
            Step::SetWeight(50),
        ];
        let r = rollout(steps, 0);
        assert_eq!(r.step_setting(10, 0), Some(0));
        assert_eq!(r.step_setting(10, 1), Some(2));
        assert_eq!(r.step_setting(10, 3), None, "no step ahead sets it");
        assert_eq!(r.step_setting(50, 0), Some(3));
        assert_eq!(r.step_setting(70, 0), None);
        assert_eq!(r.set_weight(), Some(10));
    }
}
