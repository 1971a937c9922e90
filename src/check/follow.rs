//! `check --follow`: every weight the canary rollout behind the route sets is judged as
//! it lands, until the rollout completes or aborts. The first step IGNORED ends the
//! check (exit 1, naming the step); a step not decided before the next one came makes
//! the end 3; every step HONOURED, 0.

use serde::Serialize;

use crate::session::App;
use crate::session::app::{Landed, StepRow};
use crate::split::Verdict;

/// Whether a follow may stop now: Some(Ok) at its end, Some(Err) with what to do when
/// there is nothing to follow; None to go on. A rollout that had ended before the check
/// began is waited on: its next revision's steps are the ones to judge.
pub(super) fn follow_done(app: &App) -> Option<Result<(), String>> {
    let route = app.route()?;
    if !app.rollout_read() {
        return None;
    }
    let Some(rollout) = app.rollout() else {
        let refused = app.rollouts_refused();
        if !refused.is_empty() {
            return Some(Err(format!(
                "cannot list {} in namespace {} (forbidden): --follow needs get, list and watch on them (deploy/rbac.yaml grants them)",
                refused.join(" or "),
                route.namespace
            )));
        }
        return Some(Err(format!(
            "no Argo Rollout or Flagger Canary in namespace {} names {} {}: --follow follows the canary rollout behind a route (a Rollout's gatewayAPI plugin config, or a Canary with the gatewayapi provider)",
            route.namespace, route.kind, route.name
        )));
    };
    let steps = app.steps();
    if steps.iter().any(|s| s.decided() == Some(Verdict::Ignored)) {
        return Some(Ok(()));
    }
    let end = rollout.end?;
    let last = steps.back()?;
    // Completed, the steps' weights after the last one seen are still to come.
    let to_come = (last.index + 1..rollout.steps.len())
        .any(|i| matches!(rollout.steps[i], crate::rollout::Step::SetWeight(_)));
    if end == crate::rollout::End::Completed && to_come && !last.closed {
        return None;
    }
    let over = last.decided().is_some()
        || last.cut_short
        || last.closed
        || matches!(last.landed, Some(Landed::NotSeen { .. }));
    over.then_some(Ok(()))
}

/// One step as the report gives it.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// The step's place in the rollout, from 1, and how many it has.
    pub step: usize,
    pub of: usize,
    /// The canary's weight the step set, and the route's weights then, backend by backend.
    pub weight: u32,
    pub weights: Vec<u32>,
    /// When it was seen written (RFC 3339).
    pub at: String,
    /// HONOURED, IGNORED, UNDECIDED or AMBIGUOUS, as its evidence stood when the next
    /// step came (or at the end).
    pub verdict: &'static str,
    /// The next step came before this one was decided.
    pub cut_short: bool,
    /// The rollout completed (and sent the traffic back to stable) before this step,
    /// its last, was decided: not counted against the rollout.
    pub promoted: bool,
    /// "before the start" (in place when the check began), "landed", "waiting",
    /// "invisible" (its split and the one before are alike), "not seen" (by
    /// `--lag-timeout`) or "superseded".
    pub landing: &'static str,
    /// Seconds from the write to when the traffic followed it, and the interval, once
    /// it landed.
    pub landed_after_s: Option<f64>,
    pub between_s: Option<[f64; 2]>,
    /// Samples the verdict rests on.
    pub samples: u64,
    /// The canary's share seen, and its interval at the check's alpha.
    pub canary_share: Option<f64>,
    pub canary_interval: Option<[f64; 2]>,
}

/// The rollout followed, how it ended, and every step.
#[derive(Debug, Clone, Serialize)]
pub struct FollowReport {
    /// "Rollout web", "Canary podinfo".
    pub rollout: String,
    /// "completed", "aborted", "in progress" (the check stopped first), or "not
    /// started" (no step came before the check stopped).
    pub outcome: &'static str,
    pub steps: Vec<StepReport>,
    /// The first step IGNORED, from 1.
    pub ignored_at_step: Option<usize>,
    /// 0 every step HONOURED and the rollout over (completed or aborted), 1 a step
    /// IGNORED, 3 a step undecided (cut short by the next, or the check stopped first)
    /// or no step seen.
    pub exit: u8,
}

impl FollowReport {
    /// What the follow found, from the app at its end.
    pub fn of(app: &App) -> Option<FollowReport> {
        let rollout = app.rollout()?;
        let canary = app
            .route()?
            .backends
            .iter()
            .position(|b| b.name == rollout.canary_service);
        let steps: Vec<StepReport> = app.steps().iter().map(|s| step(s, canary)).collect();
        let ignored = app
            .steps()
            .iter()
            .find(|s| s.decided() == Some(Verdict::Ignored))
            .map(|s| s.index + 1);
        let all_decided = app
            .steps()
            .iter()
            .all(|s| s.decided().is_some() || s.promoted);
        let outcome = match rollout.end {
            _ if steps.is_empty() => "not started",
            Some(crate::rollout::End::Completed) => "completed",
            Some(crate::rollout::End::Aborted) => "aborted",
            None => "in progress",
        };
        // At least one step judged: a rollout whose only step was promoted says nothing.
        let judged = app.steps().iter().any(|s| s.decided().is_some());
        let exit = match (ignored, all_decided && rollout.end.is_some()) {
            (Some(_), _) => 1,
            (None, true) if judged => 0,
            _ => 3,
        };
        Some(FollowReport {
            rollout: format!("{} {}", rollout.controller.kind(), rollout.name),
            outcome,
            steps,
            ignored_at_step: ignored,
            exit,
        })
    }

    /// The follow when no rollout was read before the check stopped.
    pub fn unread() -> FollowReport {
        FollowReport {
            rollout: "no rollout read".into(),
            outcome: "not started",
            steps: vec![],
            ignored_at_step: None,
            exit: 3,
        }
    }

    /// A line for the rollout, then one per step.
    pub fn lines(&self) -> String {
        let head = match (self.ignored_at_step, self.exit) {
            (Some(step), _) => {
                let of = self.steps.first().map_or(0, |s| s.of);
                format!(
                    "{}: step {step} of {of} IGNORED ({})",
                    self.rollout, self.outcome
                )
            }
            (None, 0) => format!("{} {}: every step HONOURED", self.rollout, self.outcome),
            _ if self.steps.is_empty() => format!(
                "{}: no step began before the check stopped (one that had ended before the check is not judged; --follow waits for the next)",
                self.rollout
            ),
            _ if self.outcome == "in progress"
                && self.steps.iter().all(|s| s.verdict == "HONOURED") =>
            {
                format!(
                    "{} still in progress when the check stopped: every step so far HONOURED",
                    self.rollout
                )
            }
            _ => format!(
                "{} {}: not every step was decided (cut short: the next step came first)",
                self.rollout, self.outcome
            ),
        };
        let mut out = head;
        for s in &self.steps {
            let landed = match (s.landed_after_s, s.between_s) {
                (Some(a), Some([l, h])) => format!("landed after {a:.1}s ({l:.1}-{h:.1})"),
                _ => s.landing.to_string(),
            };
            let share = match (s.canary_share, s.canary_interval) {
                (Some(p), Some([l, h])) => format!(
                    " · canary {:.0}% [{:.0}–{:.0}]",
                    p * 100.0,
                    l * 100.0,
                    h * 100.0
                ),
                _ => String::new(),
            };
            let cut = if s.cut_short {
                " (cut short by the next step)"
            } else if s.promoted {
                " (the rollout completed first)"
            } else {
                ""
            };
            out.push_str(&format!(
                "\nstep {} of {} (setWeight {}): {}{cut} · {landed}{share} · n={}",
                s.step, s.of, s.weight, s.verdict, s.samples
            ));
        }
        out
    }
}

fn step(row: &StepRow, canary: Option<usize>) -> StepReport {
    let round = |s: f64| (s * 1000.0).round() / 1000.0;
    let landed = match row.landed {
        Some(Landed::At { at, low, high }) => Some((
            round(at - row.written),
            [
                round((low - row.written).max(0.0)),
                round(high - row.written),
            ],
        )),
        _ => None,
    };
    let share = canary.and_then(|c| row.judged.as_ref()?.shares.get(c).copied());
    StepReport {
        step: row.index + 1,
        of: row.of,
        weight: row.weight,
        weights: row.weights.clone(),
        at: row.at.to_string(),
        verdict: row
            .judged
            .as_ref()
            .map_or(Verdict::Undecided, |j| j.verdict)
            .word(),
        cut_short: row.cut_short,
        promoted: row.promoted,
        landing: match row.landed {
            None => "before the start",
            Some(Landed::At { .. }) => "landed",
            Some(Landed::Open) => "waiting",
            Some(Landed::Invisible) => "invisible",
            Some(Landed::NotSeen { .. }) => "not seen",
            Some(Landed::Superseded) => "superseded",
        },
        landed_after_s: landed.map(|l| l.0),
        between_s: landed.map(|l| l.1),
        samples: row.judged.as_ref().map_or(0, |j| j.samples),
        canary_share: share.map(|s| s.share),
        canary_interval: share.and_then(|s| s.interval).map(|i| [i.low, i.high]),
    }
}
