//! What a check found: one line for people, one JSON object for programs, and the exit code.

use serde::Serialize;

use crate::verdict::{Judge, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct BackendReport {
    pub name: String,
    pub weight: u32,
    /// The weight as a share.
    pub expected: f64,
    /// The mesh's default split for this backend (the bug's signature).
    pub default: f64,
    /// Samples in the last regime.
    pub count: u64,
    pub share: f64,
    /// The share's confidence sequence at level alpha: [low, high].
    pub interval: [f64; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceReport {
    /// Likelihood ratio of the route's weights over the bug's split.
    pub route_over_bug: f64,
    /// The e-value against the route's weights.
    pub against_weights: f64,
    /// HONOURED when route_over_bug reaches this.
    pub honoured_at: f64,
    /// IGNORED when against_weights reaches this.
    pub ignored_at: f64,
    pub samples_to_decide: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegimeReport {
    /// Why the last regime began: start, reset, patch on, patch off, route edit,
    /// turned to route, turned to bug.
    pub cause: &'static str,
    /// Where it began: seconds into the run (a cluster) or the sample number (a transcript).
    pub start: f64,
    pub unit: &'static str,
}

/// The route a check judged: its kind, which rule, and where it attaches.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    /// The rule the split was read from, from 1.
    pub rule: usize,
    pub parent_kind: &'static str,
    pub parent: String,
    /// The path the probe requested (HTTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl RouteReport {
    pub fn of(route: &crate::route::Route) -> RouteReport {
        RouteReport {
            kind: route.kind.name(),
            name: route.name.clone(),
            namespace: route.namespace.clone(),
            rule: route.rule + 1,
            parent_kind: route.parent_kind.name(),
            parent: route.parent.clone(),
            path: route.path.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub verdict: &'static str,
    /// The route judged (a live check; a transcript names none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteReport>,
    /// Samples counted in the whole run (mapped to a backend).
    pub samples: u64,
    /// Samples in the last regime, the ones the verdict rests on.
    pub regime_samples: u64,
    /// The regime's sample at which the verdict was reached.
    pub decided_after: Option<u64>,
    pub alpha: f64,
    pub regime: RegimeReport,
    pub evidence: EvidenceReport,
    pub backends: Vec<BackendReport>,
    pub unmapped: u64,
    pub unparsable: u64,
    pub errors: u64,
    /// Replies whose HTTP status was not 2xx or 3xx, by code: errors, not samples.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// The configured changes of the run (a patch toggle, a route edit) and when the
    /// traffic showed each.
    pub changes: Vec<ChangeReport>,
    /// `--follow`: the rollout, how it ended, and every step it set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow: Option<crate::check::follow::FollowReport>,
}

/// A change and when it landed, in seconds after it was written.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// "patch on", "patch off", "route edit".
    pub cause: &'static str,
    /// When it was written, as splitscope saw it (RFC 3339).
    pub at: String,
    /// "landed", "waiting", "invisible" (the splits before and after are alike),
    /// "not seen" (by `--lag-timeout`) or "superseded" (another change came first).
    pub outcome: &'static str,
    /// Seconds from the write to the moment it most likely took effect.
    pub landed_after_s: Option<f64>,
    /// The interval the samples allow for that moment, at the verdict's alpha.
    pub between_s: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_seen_after_s: Option<f64>,
}

impl ChangeReport {
    pub fn of(change: &crate::session::app::Change) -> ChangeReport {
        use crate::session::app::Landed;
        let landed = change.landed_after();
        let round = |s: f64| (s * 1000.0).round() / 1000.0;
        ChangeReport {
            cause: change.what(),
            at: change.at.to_string(),
            outcome: match change.landed {
                Landed::Open => "waiting",
                Landed::At { .. } => "landed",
                Landed::Invisible => "invisible",
                Landed::NotSeen { .. } => "not seen",
                Landed::Superseded => "superseded",
            },
            landed_after_s: landed.map(|(after, _)| round(after)),
            between_s: landed.map(|(_, [low, high])| [round(low.max(0.0)), round(high)]),
            not_seen_after_s: match change.landed {
                Landed::NotSeen { after } => Some(after),
                _ => None,
            },
        }
    }

    /// One line for the text output.
    pub fn line(&self) -> String {
        match (self.landed_after_s, self.between_s, self.not_seen_after_s) {
            (Some(after), Some([low, high]), _) => format!(
                "{} took effect after {after:.1}s ({low:.1}-{high:.1})",
                self.cause
            ),
            (_, _, Some(limit)) => {
                format!("{}: not seen in the traffic after {limit:.0} s", self.cause)
            }
            _ => format!("{}: {}", self.cause, self.outcome),
        }
    }
}

/// The run's side of a report: what the judge does not know.
pub struct RunFacts<'a> {
    pub names: &'a [String],
    pub weights: &'a [u32],
    pub samples: u64,
    pub unmapped: u64,
    pub unparsable: u64,
    pub errors: u64,
    /// "seconds" or "sample".
    pub unit: &'static str,
}

impl CheckReport {
    pub fn new(judge: &Judge, facts: &RunFacts) -> CheckReport {
        let engine = judge.engine();
        let alpha = engine.alpha();
        let n = engine.samples();
        let evidence = engine.evidence();
        let backends = facts
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let count = engine.counts().get(i).copied().unwrap_or(0);
                let interval = crate::verdict::confidence_sequence(count, n, alpha);
                BackendReport {
                    name: name.clone(),
                    weight: facts.weights.get(i).copied().unwrap_or(0),
                    expected: engine.weights().get(i).copied().unwrap_or(0.0),
                    default: engine.default_split().get(i).copied().unwrap_or(0.0),
                    count,
                    share: if n == 0 { 0.0 } else { count as f64 / n as f64 },
                    interval: [interval.low, interval.high],
                }
            })
            .collect();
        let regime = judge.regime();
        CheckReport {
            verdict: judge.verdict().word(),
            route: None,
            samples: facts.samples,
            regime_samples: n,
            decided_after: engine.decided_after(),
            alpha,
            regime: RegimeReport {
                cause: regime.cause.label(),
                start: regime.started,
                unit: facts.unit,
            },
            evidence: EvidenceReport {
                route_over_bug: evidence.route_over_bug,
                against_weights: evidence.against_weights,
                honoured_at: 1.0 / alpha,
                ignored_at: 2.0 / alpha,
                samples_to_decide: evidence.samples_to_decide,
            },
            backends,
            unmapped: facts.unmapped,
            unparsable: facts.unparsable,
            errors: facts.errors,
            statuses: std::collections::BTreeMap::new(),
            changes: Vec::new(),
            follow: None,
        }
    }

    /// 0 HONOURED, 1 IGNORED, 3 no decision (UNDECIDED or AMBIGUOUS) at the limit;
    /// following a rollout, its steps' (see `FollowReport::exit`).
    pub fn exit_code(&self) -> u8 {
        if let Some(follow) = &self.follow {
            return follow.exit;
        }
        match self.verdict {
            v if v == Verdict::Honoured.word() => 0,
            v if v == Verdict::Ignored.word() => 1,
            _ => 3,
        }
    }

    /// One line: the verdict, the shares against the weights, the odds, the regime; then
    /// a line for each change and when it landed.
    pub fn summary(&self) -> String {
        let shares: Vec<String> = self
            .backends
            .iter()
            .map(|b| {
                format!(
                    "{} {:.0}% [{:.0}–{:.0}] (weight {:.0}%)",
                    b.name,
                    b.share * 100.0,
                    b.interval[0] * 100.0,
                    b.interval[1] * 100.0,
                    b.expected * 100.0
                )
            })
            .collect();
        let when = match self.decided_after {
            Some(n) => format!("decided after {n} samples"),
            None => format!("undecided after {} samples", self.regime_samples),
        };
        let statuses: String = self
            .statuses
            .iter()
            .map(|(code, n)| format!(" · HTTP {code} x{n}"))
            .collect();
        let follow = self
            .follow
            .as_ref()
            .map(|f| format!("{}\nlast regime: ", f.lines()))
            .unwrap_or_default();
        follow
            + &format!(
                "{}: {} · route/bug {} · against weights {} · alpha {} · {} since {} {} ({}){statuses}",
                self.verdict,
                shares.join(", "),
                crate::verdict::odds(self.evidence.route_over_bug),
                crate::verdict::odds(self.evidence.against_weights),
                self.alpha,
                when,
                self.regime.unit,
                self.regime.start,
                self.regime.cause
            )
            + &self
                .changes
                .iter()
                .map(|c| format!("\n{}", c.line()))
                .collect::<String>()
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
