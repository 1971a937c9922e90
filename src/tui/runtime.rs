//! Carries out what the app asks for and reports what came of it: the probe, reads of
//! the cluster, the patch. Following the cluster (`follow`) runs beside it; a replay's
//! feed stands in for both. Everything comes back as a `Msg` on one channel. The terminal loop and
//! the end-to-end tests drive the same runtime.

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::app::{App, Effect, Msg, PatchOutcome, Target};
use super::cast::Cast;
use crate::cluster::Cluster;
use crate::cluster::discover::ClientSpec;
use crate::cluster::probe::{self, ProbeConfig};
use crate::replay::feed::{Feed, ReplayClock};
use crate::task::AbortOnDrop;

/// How the probe runs and the cluster is followed.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub route: Option<String>,
    pub interval: Duration,
    pub deadline: Duration,
    /// The container the probe runs in (`--container`); None: the first that is not
    /// istio-proxy.
    pub container: Option<String>,
    /// How often what cannot be watched (RBAC forbids it) is read again.
    pub poll: Duration,
}

/// The time the screen shows: the wall clock, or a replay's.
#[derive(Debug, Clone)]
pub enum Clock {
    Wall,
    Replay(ReplayClock),
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::Wall => Timestamp::now(),
            Clock::Replay(clock) => clock.now(),
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
    probe: Option<AbortOnDrop>,
    /// A replay's messages, played at their pace.
    feed: Option<Feed>,
    /// Where `--record` writes the app's records, one JSON object a line.
    recording: Option<std::io::BufWriter<std::fs::File>>,
    /// Where `--record-cast` writes what the screen showed.
    cast: Option<Cast>,
}

impl Runtime {
    pub fn start(cluster: Cluster, options: RuntimeOptions) -> Runtime {
        let (tx, rx) = mpsc::unbounded_channel();
        // The app hears first that the run began, so it can start what needs no cluster read.
        let _ = tx.send(Msg::Start(Timestamp::now()));
        let (pods, _) = watch::channel(0);
        let follow = AbortOnDrop::spawn(super::follow::follow(
            cluster.clone(),
            options.route.clone(),
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
            probe: None,
            feed: None,
            recording: None,
            cast: None,
        }
    }

    /// A runtime that plays `feed` and touches no cluster.
    pub fn replay(feed: Feed) -> Runtime {
        let (tx, rx) = mpsc::unbounded_channel();
        Runtime {
            cluster: None,
            pods: watch::channel(0).0,
            options: RuntimeOptions {
                route: None,
                interval: Duration::from_secs(1),
                deadline: Duration::from_secs(1),
                container: None,
                poll: Duration::from_secs(2),
            },
            tx,
            rx,
            _follow: None,
            probe: None,
            feed: Some(feed),
            recording: None,
            cast: None,
        }
    }

    /// The time the screen's ticks carry.
    pub fn clock(&self) -> Clock {
        match &self.feed {
            Some(feed) => Clock::Replay(feed.clock()),
            None => Clock::Wall,
        }
    }

    /// Writes the app's records (`--record`) to `file` from now on.
    pub fn record_to(&mut self, file: std::fs::File) {
        self.recording = Some(std::io::BufWriter::new(file));
    }

    /// Writes every frame drawn (`--record-cast`) to `cast` from now on.
    pub fn record_cast_to(&mut self, cast: Cast) {
        self.cast = Some(cast);
    }

    /// A frame was drawn: the recording of the screen gets it. A recording that cannot be
    /// written stops, and the notice says why; the screen goes on.
    pub fn frame_drawn(&mut self, buffer: &ratatui::buffer::Buffer, app: &mut App) {
        if let Some(cast) = &mut self.cast
            && let Err(e) = cast.frame(buffer)
        {
            app.notice = Some(format!("screen recording stopped: {e}"));
            self.cast = None;
        }
    }

    /// A sender for other sources of messages (keys, ticks).
    pub fn sender(&self) -> mpsc::UnboundedSender<Msg> {
        self.tx.clone()
    }

    /// The next message; None only if every sender is gone.
    pub async fn next(&mut self) -> Option<Msg> {
        match &mut self.feed {
            None => self.rx.recv().await,
            // Keys first: a quick replay must not starve them.
            Some(feed) => tokio::select! {
                biased;
                msg = self.rx.recv() => msg,
                msg = feed.next() => Some(msg),
            },
        }
    }

    pub fn try_next(&mut self) -> Option<Msg> {
        if let Ok(msg) = self.rx.try_recv() {
            return Some(msg);
        }
        self.feed.as_mut()?.try_next()
    }

    /// Feeds one message to the app and carries out its effects. Returns false once the
    /// app asked to quit.
    pub fn handle(&mut self, app: &mut App, msg: Msg) -> bool {
        let mut keep_going = true;
        for effect in app.update(msg) {
            match effect {
                Effect::Quit => keep_going = false,
                Effect::StartProbe { client, target } => self.start_probe(client, target),
                other => self.spawn_effect(other),
            }
        }
        self.write_records(app);
        if !keep_going {
            if let Some(w) = &mut self.recording {
                let _ = std::io::Write::flush(w);
            }
            if let Some(cast) = &mut self.cast {
                let _ = cast.finish();
            }
        }
        keep_going
    }

    fn write_records(&mut self, app: &mut App) {
        // Drained either way: nothing piles up in the app.
        let records = app.take_records();
        let Some(writer) = &mut self.recording else {
            return;
        };
        for record in records {
            if let Err(e) = writeln!(writer, "{}", record.json()) {
                app.notice = Some(format!("recording stopped: {e}"));
                self.recording = None;
                return;
            }
        }
    }

    /// The probe runs for the rest of the run; the app asks for it once.
    fn start_probe(&mut self, client: ClientSpec, target: Target) {
        let cfg = ProbeConfig {
            client,
            container: self.options.container.clone(),
            host: target.host,
            port: target.port,
            interval: self.options.interval,
            deadline: self.options.deadline,
        };
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let (tx, wake) = (self.tx.clone(), self.pods.subscribe());
        self.probe = Some(AbortOnDrop::spawn(run_probe(cluster, cfg, wake, tx)));
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
                    let port = cluster.service_port(&service).await;
                    Msg::ServicePort(service, port)
                }
                Effect::StartProbe { .. } | Effect::Quit => return,
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
