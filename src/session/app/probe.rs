//! The probe as the app sees it: where it connects (decided here, once), and what its
//! events do to the counts, the log and the chart.

use jiff::Timestamp;

use super::{App, Effect, LineKind, Marker, ProbeState, Target, seconds};
use crate::cluster::ClusterError;
use crate::cluster::probe::{HttpRequest, ProbeEnd, ProbeEvent, Request};
use crate::route::{ParentKind, Route, RouteKind};

impl App {
    /// With `--target` and `--probe-command`, the probe starts at once: nothing about
    /// it waits for the route.
    pub(super) fn start_probe_at_flag(&mut self) -> Vec<Effect> {
        match (self.settings.target.clone(), &self.settings.probe.command) {
            (Some(target), Some(command)) => {
                let request = Request::Command(command.clone());
                self.start_probe(target, request)
            }
            _ => vec![],
        }
    }

    /// How the probe asks the route: `nc` for a TCPRoute, `curl` for an HTTPRoute, the
    /// user's command where one is given; a GRPCRoute or TLSRoute needs one.
    fn request_for(&self, route: &Route) -> Result<Request, String> {
        let flags = &self.settings.probe;
        if let Some(command) = &flags.command {
            return Ok(Request::Command(command.clone()));
        }
        match route.kind {
            RouteKind::Tcp => Ok(Request::Line),
            RouteKind::Http => {
                let mut headers = route.headers.clone();
                headers.extend(flags.headers.iter().cloned());
                Ok(Request::Http(HttpRequest {
                    path: flags
                        .path
                        .clone()
                        .or_else(|| route.path.clone())
                        .unwrap_or_else(|| "/".into()),
                    // At the edge the Gateway's listener picks routes by host name.
                    host: match route.parent_kind {
                        ParentKind::Gateway => {
                            route.hostnames.first().map(|h| h.replace('*', "probe"))
                        }
                        ParentKind::Service => None,
                    },
                    headers,
                    per_connection: flags.per_connection.max(1),
                }))
            }
            RouteKind::Grpc => Err(format!(
                "{}: pass --probe-command with a gRPC client, e.g. --probe-command 'grpcurl -plaintext {}:{} list'",
                route.title(),
                route.parent,
                route.parent_port.unwrap_or(443)
            )),
            RouteKind::Tls => Err(format!(
                "{}: pass --probe-command with a TLS client, e.g. --probe-command 'openssl s_client -connect {}:{} -servername {}'",
                route.title(),
                route.parent,
                route.parent_port.unwrap_or(443),
                route.hostnames.first().map_or("HOST", String::as_str)
            )),
        }
    }

    /// A route edit that changes how the probe must ask (another path, host or header,
    /// another parent or port) stops the probe, so it starts again as the route says:
    /// requests to the old path would meet another rule, or none.
    pub(super) fn reprobe_if_asked_otherwise(&mut self, route: &Route) -> Vec<Effect> {
        let Some(old) = &self.route else {
            return vec![];
        };
        if self.probe_target.is_none() || self.settings.replay.is_some() {
            return vec![];
        }
        let moved = self.settings.target.is_none()
            && (old.parent != route.parent
                || old.parent_kind != route.parent_kind
                || old.parent_namespace != route.parent_namespace
                || old.parent_port != route.parent_port
                || old.section != route.section);
        if !moved && self.request_for(route).ok() == self.request {
            return vec![];
        }
        self.probe_target = None;
        self.request = None;
        self.probe = ProbeState::Connecting;
        self.push_log(
            self.now,
            LineKind::Note,
            "the route asks to be probed otherwise now: the probe starts again".into(),
        );
        vec![Effect::StopProbe]
    }

    /// The route's parent Service and port, or `--target`; a route that names no port
    /// needs the Service's first port read first.
    pub(super) fn start_probe_for_route(&mut self, route: &Route) -> Vec<Effect> {
        // A replay's samples come from its file.
        if self.probe_target.is_some() || self.settings.replay.is_some() {
            return vec![];
        }
        let request = match self.request_for(route) {
            Ok(request) => request,
            Err(why) => {
                self.notice = Some(why);
                return vec![];
            }
        };
        if let Some(target) = self.settings.target.clone() {
            return self.start_probe(target, request);
        }
        if route.parent_kind == ParentKind::Gateway {
            return vec![Effect::ReadGatewayTarget(route.clone())];
        }
        match route.parent_port {
            Some(port) => self.start_probe(
                Target {
                    host: route.parent.clone(),
                    port,
                },
                request,
            ),
            None => vec![Effect::ReadServicePort(route.parent.clone())],
        }
    }

    pub(super) fn service_port(
        &mut self,
        service: String,
        port: Result<u16, ClusterError>,
    ) -> Vec<Effect> {
        let target = port
            .map(|port| Target {
                host: service.clone(),
                port,
            })
            .map_err(|e| {
                format!("cannot read the ports of Service {service} ({e}); pass --target HOST:PORT")
            });
        self.probe_parent(&service, target)
    }

    /// At the edge: the probe connects to the Gateway's Service, once found.
    pub(super) fn gateway_target(
        &mut self,
        gateway: &str,
        target: Result<Target, ClusterError>,
    ) -> Vec<Effect> {
        self.probe_parent(gateway, target.map_err(|e| e.to_string()))
    }

    /// Starts the probe where a read of the route's parent (by name) says it is reached,
    /// or says why it cannot be. An answer for a route no longer watched is no answer.
    fn probe_parent(&mut self, parent: &str, target: Result<Target, String>) -> Vec<Effect> {
        if self.probe_target.is_some() || self.route.as_ref().is_none_or(|r| r.parent != parent) {
            return vec![];
        }
        let Some(request) = self.route.as_ref().and_then(|r| self.request_for(r).ok()) else {
            return vec![];
        };
        match target {
            Ok(target) => self.start_probe(target, request),
            Err(why) => {
                self.notice = Some(why);
                vec![]
            }
        }
    }

    fn start_probe(&mut self, target: Target, request: Request) -> Vec<Effect> {
        self.probe_target = Some(target.clone());
        self.request = Some(request.clone());
        vec![Effect::StartProbe {
            client: self.settings.client.clone(),
            target,
            request,
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

    /// Whether replies are HTTP lines (a status code after the reply): as the probe
    /// asks, or in a replay as the route's kind says.
    fn replies_are_http(&self) -> bool {
        match &self.request {
            Some(request) => matches!(request, Request::Http(_)),
            None => self
                .route
                .as_ref()
                .is_some_and(|r| r.kind == RouteKind::Http),
        }
    }

    /// Reads one reply: `PREFIX TIMESTAMP` from `nc`, otherwise any text that names a
    /// backend's pod, version or prefix.
    fn read_reply(&self, text: &str) -> Result<crate::sample::Reply, crate::sample::LineError> {
        match &self.request {
            Some(Request::Line) => self.parser.parse(text),
            None if self.route.as_ref().is_none_or(|r| r.kind == RouteKind::Tcp) => {
                self.parser.parse(text)
            }
            _ => {
                let manual = self.settings.manual_labels.iter().map(|(p, _)| p.as_str());
                let known = self.labels.keys().chain(self.names.keys());
                self.parser
                    .find(text, known.map(String::as_str).chain(manual))
            }
        }
    }

    fn reply(&mut self, line: &str, at: Timestamp) {
        // Cleaned once: the parser and the log read the same text.
        let text = crate::sample::clean(line);
        let (body, status) = if self.replies_are_http() {
            crate::sample::split_status(&text)
        } else {
            (text.as_ref(), None)
        };
        if let Some(code) = status.filter(|c| !(200..400).contains(c)) {
            // 000: curl had no reply at all, and its own error line says why.
            if code != 0 {
                *self.statuses.entry(code).or_default() += 1;
                self.push_log(at, LineKind::Error, format!("HTTP {code}: {body}"));
            }
            return;
        }
        match self.read_reply(body) {
            Ok(reply) => {
                self.begin_due_regime(at);
                let backend = self.backend_for(&reply.label);
                let t = self.elapsed(at);
                let changed = self.split.record(backend, t);
                self.follow_change(backend, at);
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

    /// Bursts while an answer is open: when the probe starts and whenever a regime
    /// begins, the probe samples fast until the verdict comes; when a change is written
    /// (the traffic may change any moment from then), until it shows, `--settle` at most.
    pub(super) fn pace(
        &mut self,
        before: &crate::verdict::Regime,
        toggled: Option<Timestamp>,
        effects: &[Effect],
    ) -> Vec<Effect> {
        if self.probe_target.is_none() {
            self.bursting = false;
            return vec![];
        }
        let started = effects
            .iter()
            .any(|e| matches!(e, Effect::StartProbe { .. }));
        let regime = self.split.regime();
        let pending = self.pending_regime.map(|(_, _, at)| at);
        let open = self.split.verdict() == crate::split::Verdict::Undecided || pending.is_some();
        let began = regime.started != before.started || regime.cause != before.cause;
        if pending.is_some() && pending != toggled {
            self.bursting = true;
            return vec![Effect::BurstUntil(self.settings.settle)];
        }
        if open && (started || began) {
            self.bursting = true;
            return vec![Effect::Burst];
        }
        if self.bursting && !open {
            self.bursting = false;
            return vec![Effect::EndBurst];
        }
        vec![]
    }
}
