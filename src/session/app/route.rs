//! The route as the app follows it: a new route starts the counts afresh, a weight edit
//! keeps them and re-applies an active patch.

use jiff::Timestamp;

use super::{App, Effect, LineKind, Marker, PatchState};
use crate::cluster::ClusterError;
use crate::route::Route;
use crate::verdict::RegimeCause;

impl App {
    pub(super) fn route_update(
        &mut self,
        result: Result<Route, ClusterError>,
        at: Timestamp,
    ) -> Vec<Effect> {
        // While the list is shown, no route is watched: the follower may still be
        // finishing a read of the one left.
        if self.choosing().is_some() && result.is_ok() {
            return vec![];
        }
        let route = match result {
            Err(why) => {
                self.route_error = Some(why);
                return vec![];
            }
            Ok(route) => route,
        };
        self.route_error = None;
        let weights = route.weights_in_effect();
        // Said once in the log, where the header has no room for the reason.
        let known = |name: &str| {
            self.route.as_ref().is_some_and(|old| {
                old.backends
                    .iter()
                    .any(|b| b.name == name && b.refused.is_some())
            })
        };
        let refusals: Vec<String> = route
            .backends
            .iter()
            .filter(|b| !known(&b.name))
            .filter_map(|b| b.refused.clone())
            .collect();
        for why in refusals {
            self.push_log(
                at,
                LineKind::Error,
                format!("{why}: an implementation drops it"),
            );
        }
        let mut effects = Vec::new();
        let mut edited = false;
        match &self.route {
            Some(old) if *old == route => return vec![],
            Some(old) if old.same_backends(&route) => {
                let t = self.elapsed(at);
                self.mark(Marker::Regime(t));
                self.push_log(
                    at,
                    LineKind::Note,
                    format!("route weights changed to {}", weight_text(&route)),
                );
                // The old weights hold until the traffic shows the new ones.
                self.open_change(RegimeCause::RouteEdit, at, Some(weights.clone()));
                edited = true;
                if matches!(self.patch, PatchState::On(_)) && self.may_write() {
                    // Keep an active patch in line with the route.
                    effects.extend(self.apply_patch(&route, at));
                    self.realigning = !effects.is_empty();
                }
            }
            _ => {
                self.started_at = at;
                self.split = self.new_split(&weights, at);
                self.markers.clear();
                self.steps.clear();
                self.rollout_restarted = false;
                self.forget_pending();
            }
        }
        let fresh = !self
            .route
            .as_ref()
            .is_some_and(|old| old.same_backends(&route));
        effects.extend(self.reprobe_if_asked_otherwise(&route));
        effects.extend(self.start_probe_for_route(&route));
        let canary_before = self.canary_weight();
        self.route = Some(route);
        self.steps_after_route(edited, canary_before, at);
        if let Some(record) = self.route_record(at) {
            self.keep(|_| record);
        }
        // The backends' endpoints may have been read before the route came.
        if fresh
            && !self.endpoints.is_empty()
            && let Some(record) = self.endpoints_record(at)
        {
            self.keep(|_| record);
        }
        effects
    }
}

fn weight_text(route: &Route) -> String {
    route
        .backends
        .iter()
        .map(|b| format!("{}={}", b.name, b.weight))
        .collect::<Vec<_>>()
        .join(" ")
}
