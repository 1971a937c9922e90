//! Changes in the stream itself (someone else's patch, a rollout): two CUSUM statistics
//! between the route's weights and the bug's split. The one against the current
//! verdict's hypothesis reaching its threshold says the mesh changed, and where.

/// A change the stream shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// The samples since `from` favour the weights over the bug's split.
    ToRoute { from: usize },
    /// The samples since `from` favour the bug's split over the weights.
    ToBug { from: usize },
}

#[derive(Debug, Clone, Default)]
pub struct Detector {
    to_route: f64,
    to_bug: f64,
    /// Where each statistic last stood at zero: the estimated change point.
    route_from: usize,
    bug_from: usize,
}

impl Detector {
    /// Feeds sample number `index` (its log-likelihood ratio, weights over bug);
    /// returns the change each statistic now shows at `threshold` (a log).
    pub fn update(
        &mut self,
        index: usize,
        log_lr: f64,
        threshold: f64,
    ) -> (Option<Shift>, Option<Shift>) {
        self.to_route = (self.to_route + log_lr).max(0.0);
        if self.to_route == 0.0 {
            self.route_from = index + 1;
        }
        self.to_bug = (self.to_bug - log_lr).max(0.0);
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
            if let (Some(shift), _) = d.update(i, lr, 10.0) {
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
