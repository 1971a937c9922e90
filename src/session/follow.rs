//! What the screen shows of the cluster, read again when a watch says it changed: the
//! route and the patch, the pods (prefixes, ready endpoints, and a wake-up for the
//! probe), the waypoint and the control plane. Where a watch is forbidden, that part is
//! polled instead, and the screen says so once. A slow resync backs the watches up.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::app::{ClusterInfo, Msg};
use crate::cluster::discover::RouteQuery;
use crate::cluster::follow::{Topic, Unwatchable};
use crate::cluster::{Cluster, ClusterError, RouteChoice};
use crate::rollout::Rollout;
use crate::route::{Route, RouteRef};
use crate::task::AbortOnDrop;

const ALL: [Topic; 5] = [
    Topic::Route,
    Topic::Patch,
    Topic::Pods,
    Topic::Facts,
    Topic::Rollout,
];
/// Changes come in bursts (a pod replaced is several events): gather them this long,
/// then read once.
const GATHER: Duration = Duration::from_millis(100);
/// Everything is read again this often, whatever the watches say.
const RESYNC: Duration = Duration::from_secs(60);
/// A part whose read failed is read again this often until it succeeds: a server that
/// could not answer once (a 5xx) usually can a moment later.
const RETRY: Duration = Duration::from_secs(1);

struct Reader {
    cluster: Cluster,
    /// The route asked for; once found, pinned by kind and name, so a second route
    /// that appears later does not take its place.
    query: RouteQuery,
    tx: mpsc::UnboundedSender<Msg>,
    /// Ticks when the pods change: the probe wakes up to look for a ready client.
    pods: watch::Sender<u64>,
    route: Option<Route>,
    info: Option<ClusterInfo>,
    /// The rollout behind the route, as last sent.
    rollout: Option<Rollout>,
    /// Whether RBAC's refusal to list rollouts has been said.
    rollouts_refused: bool,
    /// Whether what was found (or that none was) has been sent once.
    rollout_sent: bool,
    /// The last error of each part, shown until a read of that part succeeds.
    problems: BTreeMap<Topic, ClusterError>,
    /// Parts that cannot be watched here, read every `poll` instead.
    polled: BTreeSet<Topic>,
    /// Route kinds (and grants) RBAC will not let us watch, and why: they matter only
    /// once the route followed is of that kind.
    unwatched: BTreeMap<String, String>,
    /// How often what cannot be watched is read instead.
    every: Duration,
    /// When the watch event behind the next read came: what it reads changed by then.
    noticed: Option<Timestamp>,
}

/// Follows the cluster until the screen goes: `route` by name (or the one found), and
/// what cannot be watched every `poll`.
pub async fn follow(
    cluster: Cluster,
    mut chosen: watch::Receiver<RouteQuery>,
    poll: Duration,
    tx: mpsc::UnboundedSender<Msg>,
    pods: watch::Sender<u64>,
) {
    let (topics_tx, mut topics) = mpsc::unbounded_channel();
    let (lost_tx, mut lost) = mpsc::unbounded_channel();
    let _watches: Vec<AbortOnDrop> = cluster
        .watched()
        .into_iter()
        .map(|w| {
            let (topics, lost) = (topics_tx.clone(), lost_tx.clone());
            let (topic, what) = (w.topic, w.what);
            AbortOnDrop::spawn(async move {
                let why = w.run(topics).await;
                let _ = lost.send((topic, what, why));
            })
        })
        .collect();
    let mut reader = Reader {
        cluster,
        query: chosen.borrow_and_update().clone(),
        tx,
        pods,
        route: None,
        info: None,
        rollout: None,
        rollouts_refused: false,
        rollout_sent: false,
        problems: BTreeMap::new(),
        polled: BTreeSet::new(),
        unwatched: BTreeMap::new(),
        every: poll,
        noticed: None,
    };
    reader.read(&ALL).await;
    let every = poll;
    let mut poll = tokio::time::interval(every);
    let mut resync = tokio::time::interval(RESYNC);
    let mut retry = tokio::time::interval(RETRY);
    // Ticks missed while nothing failed are not owed: no burst of reads when one does.
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    poll.tick().await;
    resync.tick().await;
    retry.tick().await;
    while !reader.tx.is_closed() {
        tokio::select! {
            Some((topic, at)) = topics.recv() => {
                // A route change is dated from its watch event (the earliest of those
                // gathered), not from the read it leads to.
                let mut noticed = (topic == Topic::Route).then_some(at);
                let mut due = BTreeSet::from([topic]);
                tokio::time::sleep(GATHER).await;
                while let Ok((topic, at)) = topics.try_recv() {
                    if topic == Topic::Route {
                        noticed = Some(noticed.map_or(at, |n: Timestamp| n.min(at)));
                    }
                    due.insert(topic);
                }
                reader.noticed = noticed;
                reader.read(&due.into_iter().collect::<Vec<_>>()).await;
            }
            Some((topic, what, why)) = lost.recv() => reader.lost(topic, what, why, every),
            // A route chosen in the list, or none (back to the list): read afresh.
            Ok(()) = chosen.changed() => {
                reader.query = chosen.borrow_and_update().clone();
                reader.route = None;
                reader.read(&ALL).await;
            }
            _ = poll.tick(), if !reader.polled.is_empty() => {
                let due: Vec<Topic> = reader.polled.iter().copied().collect();
                reader.read(&due).await;
            }
            _ = resync.tick() => reader.read(&ALL).await,
            // `read` takes the parts that failed along with what it is given.
            _ = retry.tick(), if !reader.problems.is_empty() => reader.read(&[]).await,
        }
    }
}

impl Reader {
    /// A part that cannot be watched is polled from now on; the screen hears it once.
    fn lost(&mut self, topic: Topic, what: &str, why: Unwatchable, every: Duration) {
        let Unwatchable::Forbidden(e) = why else {
            // Not served here (one of two route versions, say): nothing to follow.
            return;
        };
        // Of the route kinds, only the followed one's changes matter (a Role for
        // TCPRoutes alone is common); the grants are read with the route anyway.
        if topic == Topic::Route && self.route.as_ref().is_none_or(|r| r.kind.plural() != what) {
            self.unwatched.insert(what.to_string(), e.to_string());
            return;
        }
        self.poll_instead(topic, what, &e.to_string(), every);
    }

    /// Reads `topic` every `every` from now on; the screen hears it once.
    fn poll_instead(&mut self, topic: Topic, what: &str, why: &str, every: Duration) {
        if self.polled.insert(topic) {
            let _ = self.tx.send(Msg::Note {
                text: format!(
                    "cannot watch {what} ({why}); reading them every {every:.0?} instead"
                ),
                at: Timestamp::now(),
                notice: true,
            });
        }
    }

    async fn read(&mut self, topics: &[Topic]) {
        let noticed = self.noticed.take();
        // Parts whose last read failed are retried with whatever comes next, so a
        // passing storm clears every problem it left, not only the one that changed.
        let mut topics = topics.to_vec();
        topics.extend(self.problems.keys().copied());
        let topics = &topics[..];
        let wants = |t: Topic| topics.contains(&t);
        let mut another = false;
        if wants(Topic::Route) || wants(Topic::Patch) || self.route.is_none() {
            // Another route (not only new weights) has other backends and waypoint.
            let said;
            (another, said) = self.read_route(noticed).await;
            // Its backends' pods are read before the app hears of it: the probe starts
            // with the route, and its first replies must find the names they carry.
            if another {
                self.read_pods().await;
            }
            // The rollout's step is known before the weights it set arrive.
            if wants(Topic::Rollout) || another {
                self.read_rollout().await;
            }
            let _ = self.tx.send(said);
        } else if wants(Topic::Rollout) {
            self.read_rollout().await;
        }
        // The waypoint and control plane belong to the route's Service.
        if wants(Topic::Facts) || another {
            self.read_facts().await;
        }
        // Our patch lives in the waypoint's namespace.
        if wants(Topic::Route) || wants(Topic::Patch) || wants(Topic::Facts) || another {
            self.read_patch().await;
        }
        if wants(Topic::Pods) && !another {
            self.read_pods().await;
        }
        let _ = self
            .tx
            .send(Msg::Problem(self.problems.values().next().cloned()));
    }

    /// The waypoint of the route's Service, and the control plane that serves it.
    async fn read_facts(&mut self) {
        let Some(route) = &self.route else { return };
        let facts = match self.cluster.mesh_facts(route).await {
            Ok(facts) => facts,
            // The server could not answer now: what was read before stands.
            Err(e) => {
                self.problems.insert(Topic::Facts, e);
                return;
            }
        };
        self.problems.remove(&Topic::Facts);
        let plane = facts.plane;
        let info = ClusterInfo {
            waypoint: facts.waypoint,
            istio: plane.version,
            istio_unknown: plane.unknown,
            revision: plane.revision,
            tag: plane.how,
            proxy: plane.proxy,
            warnings: facts.warnings,
            notes: facts.notes,
        };
        if self.info.as_ref() != Some(&info) {
            let _ = self.tx.send(Msg::Info(info.clone()));
            self.info = Some(info);
        }
    }

    /// Whether our patch for the route is there, in the waypoint's namespace.
    async fn read_patch(&mut self) {
        let Some(route) = &self.route else { return };
        let namespace = self
            .info
            .as_ref()
            .and_then(|i| i.waypoint.waypoint())
            .map_or_else(|| route.namespace.clone(), |w| w.namespace.clone());
        match self.cluster.patch_present(route, &namespace).await {
            Ok(present) => {
                self.problems.remove(&Topic::Patch);
                let _ = self.tx.send(Msg::PatchObserved(present));
            }
            Err(e) => {
                self.problems.insert(Topic::Patch, e);
            }
        }
    }

    /// The route. Returns whether it is another route than before (other backends, or
    /// the first), and the message that tells the app.
    async fn read_route(&mut self, noticed: Option<Timestamp>) -> (bool, Msg) {
        let route = self.cluster.find_route(&self.query).await;
        // Several and none named: the screen offers the list.
        if matches!(route, Err(ClusterError::Route(RouteChoice::Several { .. })))
            && self.query.name.is_none()
            && let Ok(listed) = self.cluster.routes().await
        {
            let listed: Vec<_> = listed.into_iter().map(|l| (l.kind, l.object)).collect();
            let _ = self.tx.send(Msg::Routes(crate::route_list::rows(&listed)));
        }
        if let Ok(found) = &route {
            self.query.name.get_or_insert_with(|| RouteRef {
                kind: Some(found.kind),
                name: found.name.clone(),
            });
        }
        self.problems.remove(&Topic::Route);
        match &route {
            Err(e) if e.is_transient() || matches!(e, ClusterError::Forbidden { .. }) => {
                self.problems.insert(Topic::Route, e.clone());
            }
            _ => {}
        }
        // An API that cannot answer now says nothing about the route: the last one stays.
        if route.as_ref().is_err_and(ClusterError::is_transient) {
            return (false, Msg::Problem(self.problems.values().next().cloned()));
        }
        let another = match (&self.route, &route) {
            // Another parent has another waypoint too.
            (Some(old), Ok(new)) => {
                !old.same_backends(new)
                    || old.parent != new.parent
                    || old.parent_kind != new.parent_kind
            }
            (None, Ok(_)) => true,
            _ => false,
        };
        self.route = route.as_ref().ok().cloned();
        // The kind followed now may be one that cannot be watched.
        if let Some(plural) = self.route.as_ref().map(|r| r.kind.plural())
            && let Some(why) = self.unwatched.get(plural).cloned()
        {
            self.poll_instead(Topic::Route, plural, &why, self.every);
        }
        (
            another,
            Msg::Route(route, noticed.unwrap_or_else(Timestamp::now)),
        )
    }

    /// The Argo Rollout or Flagger Canary behind the route, sent when it changed.
    async fn read_rollout(&mut self) {
        let Some(route) = &self.route else { return };
        let read = match self.cluster.rollout_behind(route).await {
            Ok(read) => read,
            Err(e) => {
                self.problems.insert(Topic::Rollout, e);
                return;
            }
        };
        self.problems.remove(&Topic::Rollout);
        if !read.forbidden.is_empty() && !self.rollouts_refused {
            self.rollouts_refused = true;
            let _ = self.tx.send(Msg::Note {
                text: format!(
                    "cannot list {} (forbidden): a canary rollout behind the route is not followed",
                    read.forbidden.join(" or ")
                ),
                at: Timestamp::now(),
                notice: false,
            });
        }
        // The first read is sent whatever it found: none is an answer too.
        if read.rollout != self.rollout || !self.rollout_sent {
            self.rollout_sent = true;
            self.rollout.clone_from(&read.rollout);
            let _ = self.tx.send(Msg::Rollout {
                rollout: read.rollout,
                refused: read.forbidden,
                at: Timestamp::now(),
            });
        }
    }

    /// Pods came or went: the probe looks for its client again, and the backends'
    /// prefixes and ready endpoints are read again.
    async fn read_pods(&mut self) {
        self.pods.send_modify(|n| *n += 1);
        let Some(route) = &self.route else { return };
        match self.cluster.discover_labels(route).await {
            Ok(found) => {
                self.problems.remove(&Topic::Pods);
                let _ = self.tx.send(Msg::Labels(found.labels, found.problems));
                let _ = self.tx.send(Msg::Names(found.names));
                let _ = self.tx.send(Msg::Endpoints(found.endpoints));
            }
            Err(e) => {
                self.problems.insert(Topic::Pods, e);
            }
        }
    }
}
