//! The workaround's state: what `p` asks for, what the cluster shows, and what came of
//! each change. Whether a patch can be placed (a waypoint, a port) is decided here.

use jiff::Timestamp;

use super::{App, Effect, LineKind, Marker, PatchOutcome, PatchState, PatchWish, WaypointInfo};
use crate::route::Route;
use crate::verdict::RegimeCause;

/// Samples `check --with-patch` sees before it puts the patch on, unless a verdict comes
/// sooner: the split before the change, which its landing is told from (half a second
/// of a burst).
const SEEN_BEFORE: u64 = 10;

impl App {
    pub(super) fn toggle_patch(&mut self) -> Vec<Effect> {
        if self.settings.replay.is_some() {
            self.notice = Some("a replay cannot patch: it plays what was recorded".into());
            return vec![];
        }
        if self.settings.read_only {
            self.notice = Some("read-only: patching is off (started with --read-only)".into());
            return vec![];
        }
        let Some(route) = self.route.clone() else {
            self.notice = Some("no route yet: nothing to patch".into());
            return vec![];
        };
        // Where no known bug applies there is nothing to work around; a patch of ours
        // that is on anyway may still be taken off.
        if self.needs_patch() == Some(false) && !matches!(self.patch, PatchState::On(_)) {
            self.notice = Some(crate::bugs::none_applies(
                &route,
                self.info.istio.as_deref(),
            ));
            return vec![];
        }
        match self.patch {
            PatchState::Applying(_) | PatchState::Removing(_) => {
                self.notice = Some("a patch change is under way".into());
                vec![]
            }
            PatchState::On(_) => {
                self.patch = PatchState::Removing(self.now);
                let namespace = self.patch_namespace(&route);
                vec![Effect::RemovePatch { route, namespace }]
            }
            _ => self.apply_patch(&route, self.now),
        }
    }

    /// `check --with-patch`: once the route and its waypoint are known, and the traffic
    /// has been seen for a moment (what the change is told from), ask for the patch;
    /// when ours is on already, the evidence counts from now.
    pub(super) fn pursue_patch(&mut self) -> Vec<Effect> {
        // Wait for the route and the waypoint to be read; none serving is an answer too.
        if self.route.is_none() || self.info.waypoint == WaypointInfo::Unknown {
            return vec![];
        }
        let placeable = matches!(self.info.waypoint, WaypointInfo::Named(_));
        let seen = self.split.regime_len() >= SEEN_BEFORE
            || matches!(
                self.split.verdict(),
                crate::split::Verdict::Honoured | crate::split::Verdict::Ignored
            );
        if self.patch == PatchState::Off && placeable && !seen {
            return vec![];
        }
        match self.patch {
            PatchState::On(_) => {
                self.patch_wish = PatchWish::Asked;
                self.split
                    .start_regime(RegimeCause::PatchOn, self.elapsed(self.now));
                vec![]
            }
            PatchState::Off => {
                let effects = self.toggle_patch();
                self.patch_wish = match (&self.patch, &self.notice) {
                    (PatchState::Applying(_), _) => PatchWish::Asked,
                    (_, Some(why)) => PatchWish::Refused(why.clone()),
                    _ => PatchWish::Refused("the patch cannot be placed".into()),
                };
                effects
            }
            // Not known yet, or a change under way: wait for what the cluster says.
            _ => vec![],
        }
    }

    /// Asks for the patch for `route`, when there is a waypoint to select and a port.
    pub(super) fn apply_patch(&mut self, route: &Route, at: Timestamp) -> Vec<Effect> {
        let waypoint = match &self.info.waypoint {
            WaypointInfo::Named(w) => w.clone(),
            WaypointInfo::Unreadable(e) => {
                self.notice = Some(format!(
                    "cannot tell which waypoint serves Service {} ({e}): the patch needs it",
                    route.parent
                ));
                return vec![];
            }
            WaypointInfo::NoneServes(why) => {
                self.notice = Some(format!(
                    "no waypoint serves Service {} ({why}): the patch would select nothing",
                    route.parent
                ));
                return vec![];
            }
            WaypointInfo::Unknown => {
                self.notice = Some("the waypoint is not read yet: try again in a moment".into());
                return vec![];
            }
        };
        let Some(port) = route
            .parent_port
            .or(self.settings.target.as_ref().map(|t| t.port))
        else {
            self.notice =
                Some("the route names no parent port: pass --target HOST:PORT to patch".into());
            return vec![];
        };
        self.patch = PatchState::Applying(at);
        vec![Effect::ApplyPatch {
            route: route.clone(),
            waypoint,
            port,
        }]
    }

    /// Where our patch for `route` lives: the waypoint's namespace (a workloadSelector
    /// selects there only), or the route's while the waypoint is unknown.
    pub(crate) fn patch_namespace(&self, route: &Route) -> String {
        self.info
            .waypoint
            .waypoint()
            .map_or_else(|| route.namespace.clone(), |w| w.namespace.clone())
    }

    /// A new regime once `settle` has passed since `at`, unless the traffic shows the
    /// change sooner; at once when it is zero.
    pub(super) fn begin_regime_after_settle(&mut self, cause: RegimeCause, at: Timestamp) {
        let settle = self.settings.settle;
        if settle.is_zero() {
            let weights = self.pending_weights.take();
            self.split
                .start_regime_from(cause, self.elapsed(at), weights.as_deref());
            self.pending_regime = None;
            return;
        }
        let due = at
            .checked_add(jiff::SignedDuration::try_from(settle).unwrap_or_default())
            .unwrap_or(at);
        self.pending_regime = Some((cause, due, at));
        let clock = due.to_zoned(jiff::tz::TimeZone::UTC).strftime("%H:%M:%S");
        self.push_log(
            at,
            LineKind::Note,
            format!(
                "the evidence counts afresh where the traffic shows the change, or from {clock} UTC at the latest (--settle {:.0}s)",
                settle.as_secs_f64()
            ),
        );
    }

    /// Starts a regime that was waiting for its toggle to settle, when its time came.
    /// Unless the stream itself showed the change the toggle was for, since the
    /// toggle: a turn to the route after the patch went on, to the bug after it came
    /// off. That regime counts only evidence from after the change already, and may have
    /// decided; starting another would throw its answer away. A turn the other way is
    /// no answer to the toggle, and the settled regime replaces it.
    pub(super) fn begin_due_regime(&mut self, at: Timestamp) {
        if let Some((cause, due, toggled)) = self.pending_regime
            && at >= due
        {
            self.pending_regime = None;
            let regime = self.split.regime();
            let expected = match cause {
                RegimeCause::PatchOn => RegimeCause::ChangeToRoute,
                RegimeCause::PatchOff => RegimeCause::ChangeToBug,
                other => other,
            };
            let shown = regime.cause == expected && regime.started >= self.elapsed(toggled);
            if !shown || self.pending_weights.is_some() {
                let weights = self.pending_weights.take();
                self.split
                    .start_regime_from(cause, self.elapsed(at), weights.as_deref());
            }
        }
    }

    /// Reconciles with what the cluster shows, unless a change of ours is under way.
    pub(super) fn patch_observed(&mut self, present: Option<Timestamp>) {
        let was_on = matches!(self.patch, PatchState::On(_));
        let was_known = !matches!(self.patch, PatchState::Unknown);
        self.reconcile(present);
        let on = matches!(self.patch, PatchState::On(_));
        if on != was_on || !was_known && matches!(self.patch, PatchState::Off) {
            let at = present.unwrap_or(self.now);
            self.keep(|_| super::recording::patch_record(at, on, None));
        }
        // Put on or taken off outside splitscope: a change all the same, placed in time
        // from when it was seen.
        if was_known && on != was_on {
            let cause = if on {
                RegimeCause::PatchOn
            } else {
                RegimeCause::PatchOff
            };
            self.open_change(cause, self.now, None);
        }
    }

    fn reconcile(&mut self, present: Option<Timestamp>) {
        match (&self.patch, present) {
            (PatchState::Applying(_) | PatchState::Removing(_), _) => {}
            (PatchState::On(_), None) => {
                self.patch = PatchState::Off;
                self.notice = Some("the patch was removed outside splitscope".into());
            }
            (PatchState::On(_), Some(_)) => {}
            (_, Some(since)) => self.patch = PatchState::On(since),
            (PatchState::Failed(_), None) => {}
            (_, None) => self.patch = PatchState::Off,
        }
    }

    pub(super) fn patch_outcome(&mut self, outcome: PatchOutcome, at: Timestamp) {
        self.now = at;
        let t = self.elapsed(at);
        match outcome {
            PatchOutcome::Applied => {
                if !matches!(self.patch, PatchState::On(_)) {
                    self.mark(Marker::PatchOn(t));
                    self.push_log(at, LineKind::Note, "patch applied".into());
                }
                // The mesh is meant to change now: the evidence starts afresh where the
                // traffic shows it. A patch that only followed a route edit is how that
                // edit reaches the traffic: the edit's change stands.
                let realigned = std::mem::take(&mut self.realigning)
                    && self.changes.back().is_some_and(|c| {
                        c.landed == super::Landed::Open && c.cause == RegimeCause::RouteEdit
                    });
                if !realigned {
                    self.open_change(RegimeCause::PatchOn, at, None);
                }
                self.patch = PatchState::On(at);
                self.keep(|app| {
                    super::recording::patch_record(at, true, Some(app.settings.settle))
                });
            }
            PatchOutcome::Removed => {
                self.patch = PatchState::Off;
                self.mark(Marker::PatchOff(t));
                self.open_change(RegimeCause::PatchOff, at, None);
                self.keep(|app| {
                    super::recording::patch_record(at, false, Some(app.settings.settle))
                });
                self.push_log(at, LineKind::Note, "patch removed".into());
            }
            PatchOutcome::Failed(why) => {
                self.realigning = false;
                self.push_log(at, LineKind::Error, format!("patch failed: {why}"));
                self.patch = PatchState::Failed(why);
            }
        }
    }
}
