//! Changes in the stream itself (someone else's patch, a rollout): two CUSUM statistics,
//! one for a turn to the route's weights and one for a turn to the bug's split, each
//! against the split the regime has shown so far. The one against the current verdict
//! reaching its threshold says the mesh changed, and where. Measuring against the split
//! seen (not against the other hypothesis) keeps a mesh that is merely off, say 80/20
//! under a 90/10 route, from looking like a change.

/// A change the stream shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shift {
    /// The samples since `from` favour the weights over the bug's split.
    ToRoute { from: usize },
    /// The samples since `from` favour the bug's split over the weights.
    ToBug { from: usize },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Detector {
    to_route: f64,
    to_bug: f64,
    /// Where each statistic last stood at zero: the estimated change point.
    route_from: usize,
    bug_from: usize,
}

impl Detector {
    /// Feeds sample number `index`: how much likelier it is under the weights, and under
    /// the bug's split, than under the split seen so far (logs). Returns the change each
    /// statistic now shows at `threshold` (a log).
    pub fn update(
        &mut self,
        index: usize,
        route_gain: f64,
        bug_gain: f64,
        threshold: f64,
    ) -> (Option<Shift>, Option<Shift>) {
        self.to_route = (self.to_route + route_gain).max(0.0);
        if self.to_route == 0.0 {
            self.route_from = index + 1;
        }
        self.to_bug = (self.to_bug + bug_gain).max(0.0);
        if self.to_bug == 0.0 {
            self.bug_from = index + 1;
        }
        (
            (self.to_route >= threshold).then_some(Shift::ToRoute {
                from: self.route_from,
            }),
            (self.to_bug >= threshold).then_some(Shift::ToBug {
                from: self.bug_from,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_where_the_stream_turned() {
        let mut d = Detector::default();
        // Route 90/10 against the bug's 50/50: a `one` weighs ln(0.9/0.5), a `two` ln(0.1/0.5).
        let (one, two) = ((0.9f64 / 0.5).ln(), (0.1f64 / 0.5).ln());
        let mut found = None;
        for i in 0..100 {
            // Thirty samples half and half (the bug), then only `one` (the route).
            let lr = if i < 30 && i % 2 == 1 { two } else { one };
            if let (Some(shift), _) = d.update(i, lr, -lr, 10.0) {
                found = Some((i, shift));
                break;
            }
        }
        let (at, shift) = found.unwrap();
        assert!(
            matches!(shift, Shift::ToRoute { from } if (29..=31).contains(&from)),
            "{shift:?}"
        );
        assert!(at > 30 && at < 60);
    }
}
