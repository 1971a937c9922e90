//! Runs what the app asks for: the probe, a poll of the route and the patch, and the
//! effects. Everything comes back as a `Msg` on one channel. The terminal loop and the
//! end-to-end tests drive the same runtime.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{App, ClusterInfo, Effect, Msg, PatchOutcome};
use crate::cluster::probe::{self, ProbeConfig};
use crate::cluster::{Cluster, ClusterError, discover::ClientSpec};

/// How the probe and the poll run.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub route: Option<String>,
    pub client: ClientSpec,
    /// `HOST:PORT`; None: the route's parent Service and port.
    pub target: Option<(String, u16)>,
    pub interval: Duration,
    pub deadline: Duration,
    /// How often the route, the patch and the cluster facts are read again.
    pub poll: Duration,
}

struct Aborting(JoinHandle<()>);

impl Drop for Aborting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct Runtime {
    cluster: Cluster,
    options: RuntimeOptions,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    tasks: Vec<Aborting>,
    probe: Option<Aborting>,
}

impl Runtime {
    pub fn start(cluster: Cluster, options: RuntimeOptions) -> Runtime {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut runtime = Runtime {
            cluster,
            options,
            tx,
            rx,
            tasks: Vec::new(),
            probe: None,
        };
        runtime.tasks.push(Aborting(tokio::spawn(poll(
            runtime.cluster.clone(),
            runtime.options.clone(),
            runtime.tx.clone(),
        ))));
        runtime
    }

    /// A sender for other sources of messages (keys, ticks).
    pub fn sender(&self) -> mpsc::UnboundedSender<Msg> {
        self.tx.clone()
    }

    /// The next message; None only if every sender is gone.
    pub async fn next(&mut self) -> Option<Msg> {
        self.rx.recv().await
    }

    pub fn try_next(&mut self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// Feeds one message to the app and carries out its effects. Returns false once the
    /// app asked to quit.
    pub fn handle(&mut self, app: &mut App, msg: Msg) -> bool {
        let effects = app.update(msg);
        self.ensure_probe(app);
        let mut keep_going = true;
        for effect in effects {
            match effect {
                Effect::Quit => keep_going = false,
                Effect::ApplyPatch(route) => {
                    let (cluster, tx) = (self.cluster.clone(), self.tx.clone());
                    let waypoint = app.info.waypoint.clone();
                    let port = route
                        .parent_port
                        .or(self.options.target.as_ref().map(|t| t.1));
                    tokio::spawn(async move {
                        let outcome = match (waypoint, port) {
                            (None, _) => {
                                PatchOutcome::Failed("no waypoint serves this namespace".into())
                            }
                            (_, None) => PatchOutcome::Failed(
                                "the route names no parent port; pass --target HOST:PORT".into(),
                            ),
                            (Some(w), Some(p)) => match cluster.apply_patch(&route, &w, p).await {
                                Ok(()) => PatchOutcome::Applied,
                                Err(e) => PatchOutcome::Failed(e.to_string()),
                            },
                        };
                        let _ = tx.send(Msg::Patch(outcome, Timestamp::now()));
                    });
                }
                Effect::RemovePatch(route) => {
                    let (cluster, tx) = (self.cluster.clone(), self.tx.clone());
                    tokio::spawn(async move {
                        let outcome = match cluster.remove_patch(&route).await {
                            Ok(_) => PatchOutcome::Removed,
                            Err(e) => PatchOutcome::Failed(e.to_string()),
                        };
                        let _ = tx.send(Msg::Patch(outcome, Timestamp::now()));
                    });
                }
                Effect::DiscoverLabels(route) => {
                    let (cluster, tx) = (self.cluster.clone(), self.tx.clone());
                    tokio::spawn(async move {
                        match cluster.discover_labels(&route).await {
                            Ok((labels, problems)) => {
                                let _ = tx.send(Msg::Labels(labels, problems));
                            }
                            Err(e) => {
                                let _ = tx.send(Msg::Problem(Some(e.to_string())));
                            }
                        }
                    });
                }
            }
        }
        keep_going
    }

    /// Starts the probe once its target is known (at once with --target, else from the
    /// route's parent).
    fn ensure_probe(&mut self, app: &App) {
        if self.probe.is_some() {
            return;
        }
        let target = match (&self.options.target, &app.route) {
            (Some(t), _) => t.clone(),
            (None, Some(route)) => match route.parent_port {
                Some(port) => (route.parent.clone(), port),
                None => {
                    // The parent port comes from the Service when the route names none.
                    let (cluster, tx, parent) =
                        (self.cluster.clone(), self.tx.clone(), route.parent.clone());
                    let options = self.options.clone();
                    self.probe = Some(Aborting(tokio::spawn(async move {
                        let services: kube::Api<k8s_openapi::api::core::v1::Service> =
                            kube::Api::namespaced(cluster.client.clone(), &cluster.namespace);
                        let port = services
                            .get(&parent)
                            .await
                            .ok()
                            .and_then(|s| s.spec?.ports?.first().map(|p| p.port as u16));
                        match port {
                            Some(port) => run_probe(cluster, options, (parent, port), tx).await,
                            None => {
                                let _ = tx.send(Msg::Problem(Some(format!(
                                    "cannot read the ports of Service {parent}; pass --target HOST:PORT"
                                ))));
                            }
                        }
                    })));
                    return;
                }
            },
            (None, None) => return,
        };
        let (cluster, tx, options) = (self.cluster.clone(), self.tx.clone(), self.options.clone());
        self.probe = Some(Aborting(tokio::spawn(run_probe(
            cluster, options, target, tx,
        ))));
    }
}

async fn run_probe(
    cluster: Cluster,
    options: RuntimeOptions,
    target: (String, u16),
    tx: mpsc::UnboundedSender<Msg>,
) {
    let _ = tx.send(Msg::Target(format!("{}:{}", target.0, target.1)));
    let cfg = ProbeConfig {
        client: options.client.clone(),
        host: target.0,
        port: target.1,
        interval: options.interval,
        deadline: options.deadline,
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let probe = Aborting(tokio::spawn(probe::run(cluster, cfg, events_tx)));
    while let Some(event) = events.recv().await {
        if tx.send(Msg::Probe(event, Timestamp::now())).is_err() {
            break;
        }
    }
    drop(probe);
}

/// Reads the route, the patch and the cluster facts now and then, and says what changed.
async fn poll(cluster: Cluster, options: RuntimeOptions, tx: mpsc::UnboundedSender<Msg>) {
    let mut last_info: Option<ClusterInfo> = None;
    let mut rounds = 0u64;
    loop {
        // Cluster facts change rarely: read them at the start and every 15 rounds.
        if last_info.is_none() || rounds.is_multiple_of(15) {
            let waypoint = cluster.waypoint().await.unwrap_or(None);
            let istio = cluster.istio_version().await;
            let info = ClusterInfo { waypoint, istio };
            if last_info.as_ref() != Some(&info) {
                let _ = tx.send(Msg::Info(info.clone()));
                last_info = Some(info);
            }
        }
        let route = cluster.find_route(options.route.as_deref()).await;
        let mut problem = None;
        match &route {
            Ok(route) => {
                match cluster.patch_present(route).await {
                    Ok(present) => {
                        let _ = tx.send(Msg::PatchObserved(present));
                    }
                    Err(e) => problem = Some(e.to_string()),
                }
                // Pods come and go: read the prefixes again now and then.
                if rounds % 10 == 5
                    && let Ok((labels, problems)) = cluster.discover_labels(route).await
                {
                    let _ = tx.send(Msg::Labels(labels, problems));
                }
            }
            Err(ClusterError::Unreachable(_)) | Err(ClusterError::Forbidden { .. }) => {
                problem = route.as_ref().err().map(ToString::to_string);
            }
            Err(_) => {}
        }
        let unreachable = matches!(route, Err(ClusterError::Unreachable(_)));
        if !unreachable {
            let _ = tx.send(Msg::Route(
                route.map_err(|e| e.to_string()),
                Timestamp::now(),
            ));
        }
        if tx.send(Msg::Problem(problem)).is_err() {
            return;
        }
        rounds += 1;
        tokio::time::sleep(options.poll).await;
    }
}
