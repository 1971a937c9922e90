//! Configured changes (a patch toggle, a route edit) and when the traffic showed each:
//! the split before it and the split it aims at are told apart in the samples since it
//! was written (`verdict::landing`). The new regime's evidence starts where it landed,
//! or at `--settle` at the latest; the log, the chart, `--record` and `check` say when it
//! landed and within what interval, or that it was not seen by `--lag-timeout`.

use jiff::Timestamp;

use super::change::{Change, KEPT, Landed};
use super::{App, LineKind, Marker, PatchState};
use crate::split::Verdict;
use crate::verdict::{Landing, RegimeCause, Seen};

impl App {
    /// A change was written at `at`: from now on the samples are held to the split
    /// before it (what the traffic showed) and the split it aims at. `weights`: the
    /// route's new weights, for a route edit; they are judged from where it lands.
    pub(super) fn open_change(
        &mut self,
        cause: RegimeCause,
        at: Timestamp,
        weights: Option<Vec<u32>>,
    ) {
        let written = self.elapsed(at);
        self.supersede();
        let before = self.split_before();
        let after = self.split_after(cause, weights.as_deref());
        let landing = Landing::new(&before, &after, self.split.alpha(), written);
        if weights.is_some() {
            self.pending_weights = weights;
        }
        let mut change = Change {
            cause,
            at,
            written,
            landed: Landed::Open,
            landing,
        };
        if change.landing.seen() == Seen::Invisible {
            // Nothing in the traffic can show it: the evidence counts from now.
            change.landed = Landed::Invisible;
            self.push_log(
                at,
                LineKind::Note,
                format!(
                    "{}: the split before and after are alike, so the traffic cannot show when it lands; the evidence counts afresh from now",
                    change.what()
                ),
            );
            let weights = self.pending_weights.take();
            self.split
                .start_regime_from(cause, written, weights.as_deref());
            self.pending_regime = None;
            let record = super::recording::change_record(&change);
            self.keep(|_| record);
        } else {
            self.begin_regime_after_settle(cause, at);
        }
        self.changes.push_back(change);
        while self.changes.len() > KEPT {
            self.changes.pop_front();
        }
    }

    /// The split the traffic showed before the change: the current regime's counts,
    /// with two samples' worth of what its verdict says it follows.
    fn split_before(&self) -> Vec<f64> {
        let prior = match self.split.verdict() {
            Verdict::Honoured => self.split.expected(),
            _ => self.split.default_split(),
        };
        crate::verdict::landing::split_before(self.split.judge().engine().counts(), prior)
    }

    /// The split a change aims at: the weights when the waypoint will apply them (the
    /// patch on, or no known bug), else the mesh's default split.
    fn split_after(&self, cause: RegimeCause, weights: Option<&[u32]>) -> Vec<f64> {
        let shares = |w: &[u32]| {
            crate::verdict::normalise(&w.iter().map(|w| f64::from(*w)).collect::<Vec<_>>())
        };
        // A patch toggled while a route edit waits aims at the edit's weights.
        let weights = match weights.or(self.pending_weights.as_deref()) {
            Some(w) => shares(w),
            None => self.split.expected().to_vec(),
        };
        // What the traffic shows counts too: a route honoured now (its Istio version
        // unknown, say) is honoured after an edit.
        let shown = self.split.verdict() == Verdict::Honoured;
        let honoured = match cause {
            RegimeCause::PatchOn => true,
            RegimeCause::PatchOff => self.needs_patch() == Some(false),
            _ => {
                matches!(self.patch, PatchState::On(_) | PatchState::Applying(_))
                    || self.needs_patch() == Some(false)
                    || shown
            }
        };
        if honoured {
            weights
        } else {
            self.split.default_split().to_vec()
        }
    }

    /// Feeds a sample to the open change; once it shows, the regime it waited for
    /// begins where it landed.
    pub(super) fn follow_change(&mut self, backend: Option<usize>, at: Timestamp) {
        let t = self.elapsed(at);
        let Some(change) = self.changes.back_mut() else {
            return;
        };
        if change.landed != Landed::Open {
            return;
        }
        if let Some(b) = backend {
            change.landing.push(b, t);
        }
        let Seen::Landed {
            at: moment,
            low,
            high,
        } = change.landing.seen()
        else {
            return;
        };
        change.landed = Landed::At {
            at: moment,
            low,
            high,
        };
        let change = change.clone();
        self.mark(Marker::Landed {
            written: change.written,
            at: moment,
            high,
        });
        let (after, between) = change.landed_after().unwrap_or_default();
        self.push_log(
            at,
            LineKind::Note,
            format!(
                "{} took effect after {after:.1}s ({:.1}-{:.1})",
                change.what(),
                between[0].max(0.0),
                between[1]
            ),
        );
        self.keep(|_| super::recording::change_record(&change));
        // The regime it waited for counts from the next sample on: the samples that
        // showed the landing favour the new split by their choosing, and must not count
        // for it again. Also when `--settle` started it already, on samples from before.
        let from = t + f64::EPSILON.max(t.abs() * 1e-12);
        // The stream's own turn the same way since the write already counts from where
        // it turned, and may have decided: starting over would take its answer back.
        let regime = self.split.regime();
        let turned = match change.cause {
            RegimeCause::PatchOn => RegimeCause::ChangeToRoute,
            RegimeCause::PatchOff => RegimeCause::ChangeToBug,
            other => other,
        };
        if regime.cause == turned
            && turned != change.cause
            && regime.started >= change.written
            && self.pending_weights.is_none()
        {
            self.pending_regime = None;
            return;
        }
        if let Some((cause, _, written)) = self.pending_regime
            && written == change.at
        {
            self.pending_regime = None;
            let weights = self.pending_weights.take();
            self.split
                .start_regime_from(cause, from, weights.as_deref());
        } else {
            let regime = self.split.regime();
            if regime.cause == change.cause && regime.started >= change.written {
                self.split.start_regime_from(change.cause, from, None);
            }
        }
    }

    /// Counts that start over (a reset, another route) wait for no change.
    pub(super) fn forget_pending(&mut self) {
        self.pending_regime = None;
        self.pending_weights = None;
        self.supersede();
    }

    /// The open change, if any, will not be followed further: another came first. Said
    /// in the log and the record, so every change has its end.
    fn supersede(&mut self) {
        let Some(open) = self.changes.back_mut() else {
            return;
        };
        if open.landed != Landed::Open {
            return;
        }
        open.landed = Landed::Superseded;
        let change = open.clone();
        self.push_log(
            self.now,
            LineKind::Note,
            format!("{}: another change came before it showed", change.what()),
        );
        self.keep(|_| super::recording::change_record(&change));
    }

    /// A change not seen by `--lag-timeout` is said so, once.
    pub(super) fn time_out_change(&mut self, now: Timestamp) {
        let limit = self.settings.lag_timeout.as_secs_f64();
        let t = self.elapsed(now);
        let Some(change) = self.changes.back_mut() else {
            return;
        };
        if change.landed != Landed::Open || t - change.written < limit {
            return;
        }
        change.landed = Landed::NotSeen { after: limit };
        let change = change.clone();
        // Nothing waits for it any more.
        if let Some((cause, _, written)) = self.pending_regime
            && written == change.at
        {
            self.pending_regime = None;
            let weights = self.pending_weights.take();
            self.split.start_regime_from(cause, t, weights.as_deref());
        }
        self.push_log(
            now,
            LineKind::Error,
            format!(
                "{}: not seen in the traffic after {limit:.0} s",
                change.what()
            ),
        );
        self.keep(|_| super::recording::change_record(&change));
    }
}
