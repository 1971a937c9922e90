//! Carries out what the app asks for and reports what came of it: the probe, reads of
//! the cluster, the patch. Following the cluster (`follow`) runs beside it; a replay's
//! source stands in for both. Everything comes back as a `Msg` on one channel.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::app::{Effect, Msg, PatchOutcome, Target};
use super::source::{Clock, Source};
use crate::cluster::discover::{ClientSpec, RouteQuery};
use crate::cluster::probe::{self, Burst, ProbeConfig, Request};
use crate::cluster::{Cluster, ClusterError};
use crate::task::AbortOnDrop;

/// How often what cannot be watched (RBAC forbids it) is read instead.
pub(crate) const POLL: Duration = Duration::from_secs(2);
/// Time between probe connections on a cluster, unless `--interval` says otherwise.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// The same in the demo, livelier.
pub const DEMO_INTERVAL: Duration = Duration::from_millis(500);
/// How many times, a second apart, a parent is read again: a Gateway gets its Service a
/// moment after it is made, and an API server may falter for a while.
const PARENT_TRIES: u32 = 60;
/// The remote loop ends by itself after this long (`--deadline`).
pub(crate) const DEADLINE: Duration = Duration::from_secs(3600);

/// How the probe runs and the cluster is followed.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The route by name (`--route`, else the one found) and its rule.
    pub route: RouteQuery,
    /// Time between the probe's connections.
    pub interval: Duration,
    /// The remote loop ends by itself after this long.
    pub deadline: Duration,
    /// The container the probe runs in (`--container`); None: the first that is not
    /// istio-proxy.
    pub container: Option<String>,
    /// How often what cannot be watched is read instead.
    pub poll: Duration,
    /// Fast sampling while an answer is open (`--burst`); None: the steady pace only.
    pub burst: Option<Burst>,
}

impl Default for RuntimeOptions {
    fn default() -> RuntimeOptions {
        RuntimeOptions {
            route: RouteQuery::default(),
            interval: INTERVAL,
            deadline: DEADLINE,
            container: None,
            poll: POLL,
            burst: Some(Burst::DEFAULT),
        }
    }
}

pub struct Runtime {
    /// None in a replay: nothing runs in a cluster then.
    cluster: Option<Cluster>,
    options: RuntimeOptions,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    /// Ticks when the namespace's pods change; the probe waits on it for a client.
    pods: watch::Sender<u64>,
    _follow: Option<AbortOnDrop>,
    /// Tells the follower which route to follow when one is chosen in the list.
    query: Option<watch::Sender<RouteQuery>>,
    probe: Option<AbortOnDrop>,
    /// What the probe runs, for its bursts.
    probe_config: Option<ProbeConfig>,
    /// The burst under way, if any.
    burst: Option<AbortOnDrop>,
    /// A replay's messages, played at their pace.
    source: Option<Box<dyn Source>>,
}

impl Runtime {
    pub fn start(cluster: Cluster, options: RuntimeOptions) -> Runtime {
        let (tx, rx) = mpsc::unbounded_channel();
        // The app hears first that the run began, so it can start what needs no cluster read.
        let _ = tx.send(Msg::Start(Timestamp::now()));
        let (pods, _) = watch::channel(0);
        let (query, chosen) = watch::channel(options.route.clone());
        let follow = AbortOnDrop::spawn(super::follow::follow(
            cluster.clone(),
            chosen,
            options.poll,
            tx.clone(),
            pods.clone(),
        ));
        Runtime {
            cluster: Some(cluster),
            options,
            tx,
            rx,
            pods,
            _follow: Some(follow),
            query: Some(query),
            probe: None,
            probe_config: None,
            burst: None,
            source: None,
        }
    }

    /// A runtime that plays `source` and touches no cluster.
    pub fn replay(source: Box<dyn Source>) -> Runtime {
        let (tx, rx) = mpsc::unbounded_channel();
        Runtime {
            cluster: None,
            pods: watch::channel(0).0,
            options: RuntimeOptions::default(),
            tx,
            rx,
            _follow: None,
            query: None,
            probe: None,
            probe_config: None,
            burst: None,
            source: Some(source),
        }
    }

    /// The time the screen's ticks carry.
    pub fn clock(&self) -> Clock {
        self.source
            .as_ref()
            .map_or_else(Clock::default, |s| s.clock())
    }

    /// A sender for other sources of messages (keys, ticks).
    pub fn sender(&self) -> mpsc::UnboundedSender<Msg> {
        self.tx.clone()
    }

    /// The next message; None only if every sender is gone.
    pub async fn next(&mut self) -> Option<Msg> {
        match &mut self.source {
            None => self.rx.recv().await,
            // Keys first: a quick replay must not starve them.
            Some(source) => tokio::select! {
                biased;
                msg = self.rx.recv() => msg,
                msg = source.next() => Some(msg),
            },
        }
    }

    pub fn try_next(&mut self) -> Option<Msg> {
        if let Ok(msg) = self.rx.try_recv() {
            return Some(msg);
        }
        self.source.as_mut()?.try_next()
    }

    /// Carries out one of the app's effects on the cluster; its outcome comes back as a
    /// message. A replay has no cluster: nothing happens.
    pub(crate) fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::StartProbe {
                client,
                target,
                request,
            } => self.start_probe(client, target, request),
            Effect::StopProbe => {
                self.probe = None;
                self.probe_config = None;
                self.burst = None;
            }
            Effect::Burst => self.start_burst(None),
            Effect::BurstUntil(longest) => self.start_burst(Some(longest)),
            Effect::EndBurst => self.burst = None,
            Effect::Follow(query) => {
                if let Some(sender) = &self.query {
                    let _ = sender.send(query);
                }
            }
            other => self.spawn_effect(other),
        }
    }

    /// The probe runs for the rest of the run; the app asks for it once.
    fn start_probe(&mut self, client: ClientSpec, target: Target, request: Request) {
        let cfg = ProbeConfig {
            client,
            container: self.options.container.clone(),
            host: target.host,
            port: target.port,
            request,
            interval: self.options.interval,
            deadline: self.options.deadline,
        };
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        self.probe_config = Some(cfg.clone());
        let (tx, wake) = (self.tx.clone(), self.pods.subscribe());
        self.probe = Some(AbortOnDrop::spawn(run_probe(cluster, cfg, wake, tx)));
    }

    /// A burst beside the steady loop, replacing one under way; only where it is faster
    /// than the steady pace.
    fn start_burst(&mut self, longest: Option<Duration>) {
        let (Some(cluster), Some(cfg), Some(mut burst)) = (
            self.cluster.clone(),
            self.probe_config.clone(),
            self.options.burst,
        ) else {
            return;
        };
        if burst.gap(cfg.interval) >= cfg.interval {
            return;
        }
        // While a change waits to land: its count, or as many as `longest` takes.
        if let Some(longest) = longest {
            let samples = (longest.as_secs_f64() * burst.rate)
                .ceil()
                .min(f64::from(u32::MAX));
            burst.count = burst.count.max(samples as u32);
        }
        let tx = self.tx.clone();
        self.burst = Some(AbortOnDrop::spawn(async move {
            let (events_tx, mut events) = mpsc::unbounded_channel();
            let _burst = AbortOnDrop::spawn(probe::burst(cluster, cfg, burst, events_tx));
            while let Some(event) = events.recv().await {
                if tx.send(Msg::Probe(event, Timestamp::now())).is_err() {
                    break;
                }
            }
        }));
    }

    /// Effects that read or write the cluster run in the background and answer with a Msg.
    fn spawn_effect(&self, effect: Effect) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let msg = match effect {
                Effect::ApplyPatch {
                    route,
                    waypoint,
                    port,
                } => {
                    let outcome = match cluster.apply_patch(&route, &waypoint, port).await {
                        Ok(()) => PatchOutcome::Applied,
                        Err(e) => PatchOutcome::Failed(e),
                    };
                    Msg::Patch(outcome, Timestamp::now())
                }
                Effect::RemovePatch { route, namespace } => {
                    let outcome = match cluster.remove_patch(&route, &namespace).await {
                        Ok(_) => PatchOutcome::Removed,
                        Err(e) => PatchOutcome::Failed(e),
                    };
                    Msg::Patch(outcome, Timestamp::now())
                }
                Effect::ReadServicePort(service) => {
                    // A flaky API server is ridden out here as everywhere else: a probe
                    // that never starts would leave `check` waiting for nothing.
                    let mut port = cluster.service_port(&service).await;
                    for _ in 0..PARENT_TRIES {
                        if !port.as_ref().is_err_and(ClusterError::is_transient) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        port = cluster.service_port(&service).await;
                    }
                    Msg::ServicePort(service, port)
                }
                Effect::ReadGatewayTarget(route) => {
                    // A Gateway gets its Service a moment after it is made: wait for it.
                    let mut found = cluster.gateway_target(&route).await;
                    for _ in 0..PARENT_TRIES {
                        if !matches!(found, Err(ClusterError::Unreached(_)))
                            && !found.as_ref().is_err_and(ClusterError::is_transient)
                        {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        found = cluster.gateway_target(&route).await;
                    }
                    let target = found.map(|(host, port)| Target { host, port });
                    Msg::GatewayTarget(route.parent.clone(), target)
                }
                // The session carries these out itself.
                Effect::StartProbe { .. }
                | Effect::StopProbe
                | Effect::Burst
                | Effect::BurstUntil(_)
                | Effect::EndBurst
                | Effect::Follow(_)
                | Effect::Quit
                | Effect::Picture
                | Effect::NextTheme => {
                    return;
                }
            };
            let _ = tx.send(msg);
        });
    }
}

async fn run_probe(
    cluster: Cluster,
    cfg: ProbeConfig,
    wake: watch::Receiver<u64>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let _probe = AbortOnDrop::spawn(probe::run(cluster, cfg, wake, events_tx));
    while let Some(event) = events.recv().await {
        if tx.send(Msg::Probe(event, Timestamp::now())).is_err() {
            break;
        }
    }
}
