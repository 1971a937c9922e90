//! The probe as the app sees it: where it connects (decided here, once), and what its
//! events do to the counts, the log and the chart.

use jiff::Timestamp;

use super::{App, Effect, LineKind, Marker, ProbeState, Target, seconds};
use crate::cluster::ClusterError;
use crate::cluster::probe::{ProbeEnd, ProbeEvent};
use crate::route::Route;

impl App {
    /// With `--target`, the probe starts at once.
    pub(super) fn start_probe_at_flag(&mut self) -> Vec<Effect> {
        match self.settings.target.clone() {
            Some(target) => self.start_probe(target),
            None => vec![],
        }
    }

    /// Without `--target`, the route's parent Service and port; a route that names no
    /// port needs the Service's first port read first.
    pub(super) fn start_probe_for_route(&mut self, route: &Route) -> Vec<Effect> {
        // A replay's samples come from its file.
        if self.probe_target.is_some()
            || self.settings.target.is_some()
            || self.settings.replay.is_some()
        {
            return vec![];
        }
        match route.parent_port {
            Some(port) => self.start_probe(Target {
                host: route.parent.clone(),
                port,
            }),
            None => vec![Effect::ReadServicePort(route.parent.clone())],
        }
    }

    pub(super) fn service_port(
        &mut self,
        service: String,
        port: Result<u16, ClusterError>,
    ) -> Vec<Effect> {
        if self.probe_target.is_some() {
            return vec![];
        }
        match port {
            Ok(port) => self.start_probe(Target {
                host: service,
                port,
            }),
            Err(e) => {
                self.notice = Some(format!(
                    "cannot read the ports of Service {service} ({e}); pass --target HOST:PORT"
                ));
                vec![]
            }
        }
    }

    fn start_probe(&mut self, target: Target) -> Vec<Effect> {
        self.probe_target = Some(target.clone());
        vec![Effect::StartProbe {
            client: self.settings.client.clone(),
            target,
        }]
    }

    pub(super) fn probe_event(&mut self, event: ProbeEvent, at: Timestamp) {
        match event {
            ProbeEvent::Started { pod } => {
                if let ProbeState::Gap { since, .. } = &self.probe {
                    let gap = seconds(*since, at);
                    self.push_log(
                        at,
                        LineKind::Note,
                        format!("probe resumed in {pod} after a {gap:.1}s gap"),
                    );
                } else {
                    self.push_log(at, LineKind::Note, format!("probe started in {pod}"));
                }
                self.probe = ProbeState::Running { pod, since: at };
            }
            ProbeEvent::Ended { reason, retry_in } => {
                if self.split.total() == 0 {
                    self.fruitless.ends += 1;
                    // A link that broke says less than a loop that said why it ended.
                    let telling = |e: &ProbeEnd| {
                        !matches!(e, ProbeEnd::Broke { .. } | ProbeEnd::Closed { .. })
                    };
                    if !self.fruitless.last.as_ref().is_some_and(telling) || telling(&reason) {
                        self.fruitless.last = Some(reason.clone());
                    }
                }
                let next = if retry_in.is_zero() {
                    "starting again".to_string()
                } else {
                    format!(
                        "trying again within {:.1}s, or as soon as a client pod is ready",
                        retry_in.as_secs_f64()
                    )
                };
                self.push_log(at, LineKind::Note, format!("{reason}; {next}"));
                // One mark a gap, however many tries it takes to end it.
                if !matches!(self.probe, ProbeState::Gap { .. }) {
                    self.gaps += 1;
                    self.mark(Marker::Gap(self.elapsed(at)));
                    self.probe = ProbeState::Gap { since: at, reason };
                }
            }
            ProbeEvent::Stderr(line) => {
                self.errors += 1;
                let text = crate::sample::clean(&line).into_owned();
                self.push_log(at, LineKind::Error, text);
            }
            ProbeEvent::Stdout(line) => self.reply(&line, at),
        }
    }

    fn reply(&mut self, line: &str, at: Timestamp) {
        // Cleaned once: the parser and the log read the same text.
        let text = crate::sample::clean(line);
        match self.parser.parse(&text) {
            Ok(reply) => {
                self.begin_due_regime(at);
                let backend = self.backend_for(&reply.label);
                let t = self.elapsed(at);
                let changed = self.split.record(backend, t);
                self.keep(|app| app.sample_record(at, &reply.label, backend, text.trim()));
                let kind = backend.map_or(LineKind::Unmapped, LineKind::Backend);
                self.push_log(at, kind, text.trim().to_string());
                if let Some(regime) = changed {
                    self.mark(Marker::Regime(regime.started));
                    self.push_log(
                        at,
                        LineKind::Note,
                        format!(
                            "{}: the evidence counts from {:.0}s on the chart",
                            regime.cause.describe(),
                            regime.started
                        ),
                    );
                }
            }
            Err(crate::sample::LineError::Empty) => {}
            Err(e) => {
                self.unparsable += 1;
                self.push_log(at, LineKind::Unparsable, format!("{text}  ({e})"));
            }
        }
    }
}
