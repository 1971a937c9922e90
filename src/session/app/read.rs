//! What the drivers and the view read of the app: its state, read-only.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use super::{
    App, Change, ClusterInfo, Frozen, Fruitless, LogLine, Marker, PatchState, PatchWish,
    ProbeState, Settings, StepRow, Target, seconds,
};
use crate::cluster::ClusterError;
use crate::cluster::probe::Request;
use crate::route::Route;
use crate::split::Split;

impl App {
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn route(&self) -> Option<&Route> {
        self.route.as_ref()
    }

    /// Why there is no route, when there is none.
    pub fn route_error(&self) -> Option<&ClusterError> {
        self.route_error.as_ref()
    }

    /// The waypoint and control plane, as last read.
    pub fn info(&self) -> &ClusterInfo {
        &self.info
    }

    /// Prefix to backend index, as discovered.
    pub fn labels(&self) -> &BTreeMap<String, usize> {
        &self.labels
    }

    /// Backends whose prefix could not be found.
    pub fn label_problems(&self) -> &[String] {
        &self.label_problems
    }

    /// Ready endpoints per backend, as last read.
    pub fn endpoints(&self) -> &[u32] {
        &self.endpoints
    }

    /// The split as counted, live.
    pub fn split(&self) -> &Split {
        &self.split
    }

    /// The log, live.
    pub fn log(&self) -> &VecDeque<LogLine> {
        &self.log
    }

    /// Lines on the probe's standard error.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Lines that were not replies.
    pub fn unparsable(&self) -> u64 {
        self.unparsable
    }

    /// Replies with an HTTP status that is not 2xx or 3xx, by code.
    pub fn statuses(&self) -> &BTreeMap<u16, u64> {
        &self.statuses
    }

    /// What each of the probe's samples is, once decided.
    pub fn request(&self) -> Option<&Request> {
        self.request.as_ref()
    }

    /// Gaps in the probe's stream, each counted once.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    pub fn patch(&self) -> &PatchState {
        &self.patch
    }

    /// Why `check --with-patch` cannot have its patch, when it cannot.
    pub fn patch_refused(&self) -> Option<&str> {
        match &self.patch_wish {
            PatchWish::Refused(why) => Some(why),
            _ => None,
        }
    }

    /// The configured changes so far, oldest first, and when each landed.
    pub fn changes(&self) -> &VecDeque<Change> {
        &self.changes
    }

    /// The canary rollout behind the route, if one was found.
    pub fn rollout(&self) -> Option<&crate::rollout::Rollout> {
        self.rollout.as_ref()
    }

    /// Whether the follower has looked for a rollout yet.
    pub fn rollout_read(&self) -> bool {
        self.rollout_read
    }

    /// The rollout kinds RBAC forbade listing ("rollouts.argoproj.io").
    pub fn rollouts_refused(&self) -> &[String] {
        &self.rollouts_refused
    }

    /// Each weight the rollout set, oldest first.
    pub fn steps(&self) -> &VecDeque<StepRow> {
        &self.steps
    }

    pub fn show_steps(&self) -> bool {
        self.show_steps
    }

    pub fn markers(&self) -> &VecDeque<Marker> {
        &self.markers
    }

    pub fn probe(&self) -> &ProbeState {
        &self.probe
    }

    /// Where the probe connects, once decided.
    pub fn probe_target(&self) -> Option<&Target> {
        self.probe_target.as_ref()
    }

    /// Why the probe has brought no reply yet, while it has brought none: how many of
    /// its attempts ended, and the last reason.
    pub(crate) fn fruitless(&self) -> &Fruitless {
        &self.fruitless
    }

    /// The error of the last background read, until a read clears it.
    pub fn problem(&self) -> Option<&ClusterError> {
        self.problem.as_ref()
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn frozen(&self) -> Option<&Frozen> {
        self.frozen.as_ref()
    }

    pub fn show_help(&self) -> bool {
        self.show_help
    }

    /// The time of the latest message.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The split the screen shows: the frozen one while frozen.
    pub fn shown_split(&self) -> &Split {
        self.frozen.as_ref().map_or(&self.split, |f| &f.split)
    }

    pub(crate) fn shown_log(&self) -> &VecDeque<LogLine> {
        self.frozen.as_ref().map_or(&self.log, |f| &f.log)
    }

    /// Seconds since the run began, for the chart's time axis.
    pub fn elapsed(&self, at: Timestamp) -> f64 {
        seconds(self.started_at, at)
    }

    /// Whether the app may change the cluster: not read-only, and not a replay.
    pub(crate) fn may_write(&self) -> bool {
        !self.settings.read_only && self.settings.replay.is_none()
    }

    /// Whether a known bug applies to the route on this Istio version (the table in
    /// `bugs.rs`): None while either is unknown.
    pub fn needs_patch(&self) -> Option<bool> {
        let route = self.route.as_ref()?;
        match crate::bugs::applies(route, self.info.istio.as_deref()) {
            crate::bugs::Applies::Yes(_) => Some(true),
            crate::bugs::Applies::Unknown(_) => None,
            crate::bugs::Applies::No => Some(false),
        }
    }
}
