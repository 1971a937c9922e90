//! The canary rollout behind the route: what it is doing (the header), and each weight
//! it set as a step with its landing and verdict (the steps panel, `check --follow`).
//! A route edit is tied to the step whose `setWeight` wrote the canary's weight.

use jiff::Timestamp;

use super::step::{Judged, KEPT_STEPS, StepRow};
use super::{App, LineKind};
use crate::rollout::{End, Rollout};
use crate::verdict::RegimeCause;

impl App {
    /// The rollout as last read (or none): said in the log when its step or end moves.
    pub(super) fn rollout_update(&mut self, rollout: Option<Rollout>, at: Timestamp) {
        self.rollout_read = true;
        let before = self.rollout.take();
        // Its step index went back, or it began again after it ended: a new revision,
        // whose steps are sought from the first.
        if let (Some(b), Some(now)) = (&before, &rollout)
            && (now.step_index < b.step_index
                || (b.end.is_some() && now.end.is_none() && !now.all_steps_done()))
        {
            self.rollout_restarted = true;
        }
        if let Some(now) = &rollout {
            let moved = before.as_ref().is_none_or(|b| {
                b.step_index != now.step_index || b.end != now.end || b.paused != now.paused
            });
            if moved {
                self.push_log(at, LineKind::Note, now.headline());
            }
        } else if let Some(gone) = &before {
            self.push_log(
                at,
                LineKind::Note,
                format!(
                    "{} {} no longer names the route",
                    gone.controller.kind(),
                    gone.name
                ),
            );
        }
        self.rollout = rollout;
        self.step_in_place(at);
        // The return to stable may come before the status says the rollout completed.
        let Some(index) = self.steps.back().map(|l| l.index) else {
            return;
        };
        let promoted = self.promoted_after(index);
        let aborted = self.rollout_end() == Some(End::Aborted);
        let Some(last) = self.steps.back_mut() else {
            return;
        };
        if promoted && last.closed && last.cut_short {
            last.cut_short = false;
            self.mark_promoted(at);
        } else if aborted && last.promoted {
            last.promoted = false;
            last.cut_short = true;
        }
    }

    /// Whether the rollout's end explains the route's return to stable after step
    /// `index`: it completed, the canary's weight is back at 0, and no step after
    /// `index` sets a weight (Argo does so right after a last `setWeight`).
    fn promoted_after(&self, index: usize) -> bool {
        self.canary_weight() == Some(0)
            && self
                .rollout
                .as_ref()
                .is_some_and(|r| r.end == Some(End::Completed) && r.sets_no_weight_after(index))
    }

    /// The latest step, undecided, was ended by the rollout's completion.
    fn mark_promoted(&mut self, at: Timestamp) {
        let Some(last) = self.steps.back_mut() else {
            return;
        };
        last.promoted = true;
        let text = format!(
            "{}: the rollout completed before it was decided",
            last.name()
        );
        self.push_log(at, LineKind::Note, text);
    }

    /// The canary backend's weight on the route, when the rollout's canary Service is
    /// one of its backends.
    pub(super) fn canary_weight(&self) -> Option<u32> {
        let (route, rollout) = (self.route.as_ref()?, self.rollout.as_ref()?);
        route
            .backends
            .iter()
            .find(|b| b.name == rollout.canary_service)
            .map(|b| b.weight)
    }

    /// A rollout under way when the run begins: the step in place is the first row,
    /// judged from the start, or from the last route edit when one came before the
    /// rollout was read.
    fn step_in_place(&mut self, at: Timestamp) {
        if !self.steps.is_empty() {
            return;
        }
        let Some(rollout) = &self.rollout else { return };
        if rollout.end.is_some() {
            return;
        }
        let Some(weight) = self.canary_weight() else {
            return;
        };
        let from = rollout.step_index.map_or(0, |i| i.saturating_sub(1));
        let Some(index) = rollout.step_setting(weight, from) else {
            return;
        };
        let edit = self
            .changes
            .back()
            .filter(|c| c.cause == RegimeCause::RouteEdit)
            .map(|c| (c.at, c.written, c.landed));
        let (at, written, landed) = match edit {
            Some((at, written, landed)) => (at, written, Some(landed)),
            None => (at, self.split.regime().started, None),
        };
        let row = StepRow {
            index,
            of: rollout.len(),
            weight,
            weights: self.route_weights(),
            at,
            written,
            landed,
            judged: None,
            cut_short: false,
            promoted: false,
            closed: false,
        };
        self.rollout_restarted = false;
        self.steps.push_back(row);
    }

    fn route_weights(&self) -> Vec<u32> {
        self.route
            .iter()
            .flat_map(|r| r.backends.iter().map(|b| b.weight))
            .collect()
    }

    /// The route's weights changed (a change was opened at `at`): when the canary's
    /// weight moved to one the next steps set, that step is a new row. An edit that
    /// leaves the canary's weight alone, or sets one no step ahead sets (the return to
    /// stable at the end, an abort), adds none.
    fn step_written(&mut self, canary_before: Option<u32>, at: Timestamp) {
        let (Some(weight), Some(rollout)) = (self.canary_weight(), self.rollout.as_ref()) else {
            self.step_in_place(at);
            return;
        };
        if canary_before == Some(weight) {
            return;
        }
        // A rollout begun again (a new revision) starts its steps from the first.
        let from = match self.steps.back() {
            Some(_) if self.rollout_restarted => 0,
            Some(last) => last.index + 1,
            None => rollout.step_index.map_or(0, |i| i.saturating_sub(1)),
        };
        let Some(index) = rollout.step_setting(weight, from) else {
            return;
        };
        let of = rollout.len();
        if let Some(last) = self.steps.back_mut()
            && last.decided().is_none()
            && !last.closed
        {
            last.cut_short = true;
            let name = last.name();
            self.push_log(
                at,
                LineKind::Error,
                format!("{name} was not decided before the next step came"),
            );
        }
        self.rollout_restarted = false;
        let row = StepRow {
            index,
            of,
            weight,
            weights: self.route_weights(),
            at,
            written: self.elapsed(at),
            landed: Some(super::Landed::Open),
            judged: None,
            cut_short: false,
            promoted: false,
            closed: false,
        };
        self.steps.push_back(row);
        while self.steps.len() > KEPT_STEPS {
            self.steps.pop_front();
        }
    }

    /// Brings the latest step up to date: its landing from its change, and the verdict
    /// of the regime that began at or after it was written.
    pub(super) fn follow_step(&mut self) {
        let regime = self.split.regime();
        let judged = Judged {
            verdict: self.split.verdict(),
            samples: self.split.regime_len(),
            decided_after: self.split.decided_after(),
            shares: self.split.regime_shares(),
        };
        let landed = self.changes.back().map(|c| (c.at, c.landed));
        let now = self.now;
        let Some(index) = self.steps.back().map(|l| l.index) else {
            return;
        };
        // Promoted only when the status says completed and the edit sent the traffic
        // back to stable; otherwise cut short (a status saying completed later is seen
        // to in `rollout_update`).
        let promoted = self.promoted_after(index);
        let Some(last) = self.steps.back_mut() else {
            return;
        };
        if last.closed {
            return;
        }
        if let (Some((at, landed)), Some(_)) = (landed, last.landed)
            && at == last.at
        {
            last.landed = Some(landed);
        }
        // A change after the step's own: the traffic from there on is not the step's.
        if landed.is_some_and(|(at, _)| at > last.at) {
            last.closed = true;
            if last.decided().is_none() {
                if promoted {
                    self.mark_promoted(now);
                } else {
                    last.cut_short = true;
                    let text =
                        format!("{} was not decided before another change came", last.name());
                    self.push_log(now, LineKind::Error, text);
                }
            }
            return;
        }
        // Only the step's own regime speaks for it (from the start, or from where its
        // edit landed; a reset too): the stream's own turns may come before the edit's
        // watch event does, and belong to the step that is coming.
        let own = match last.landed {
            None => matches!(regime.cause, RegimeCause::Start | RegimeCause::Reset),
            Some(_) => matches!(regime.cause, RegimeCause::RouteEdit | RegimeCause::Reset),
        };
        if own && regime.started >= last.written {
            let decided_now = last.decided().is_none()
                && matches!(
                    judged.verdict,
                    crate::split::Verdict::Honoured | crate::split::Verdict::Ignored
                );
            if decided_now {
                let text = format!("{}: {}", last.name(), judged.verdict.word());
                let at = self.now;
                last.judged = Some(judged);
                self.push_log(at, LineKind::Note, text);
            } else {
                last.judged = Some(judged);
            }
        }
    }

    /// `o`: the steps panel opens or closes; without a rollout, the notice says why not.
    pub(super) fn toggle_steps(&mut self) -> Vec<super::Effect> {
        if self.rollout.is_some() || !self.steps.is_empty() {
            self.show_steps = !self.show_steps;
        } else {
            self.notice = Some(
                "o shows a canary rollout's steps; no Argo Rollout or Flagger Canary names this route"
                    .into(),
            );
        }
        vec![]
    }

    /// The route was read: a new step when its edit set one, or the step in place.
    pub(super) fn steps_after_route(
        &mut self,
        edited: bool,
        canary_before: Option<u32>,
        at: Timestamp,
    ) {
        if edited {
            self.step_written(canary_before, at);
        } else {
            self.step_in_place(at);
        }
    }

    /// How the rollout ended, once it has.
    pub fn rollout_end(&self) -> Option<End> {
        self.rollout.as_ref().and_then(|r| r.end)
    }
}
