//! The app's side of `--record`: which records a run keeps, and when.

use jiff::Timestamp;

use super::record::Record;
use super::{App, ProbeState};

fn stamp(at: Timestamp) -> String {
    at.to_string()
}

impl App {
    /// Keeps a record, when the run records.
    pub(super) fn keep(&mut self, record: impl FnOnce(&App) -> Record) {
        if self.settings.record {
            let record = record(self);
            self.records.push(record);
        }
    }

    pub(super) fn sample_record(
        &self,
        at: Timestamp,
        prefix: &str,
        backend: Option<usize>,
        line: &str,
    ) -> Record {
        Record::Sample {
            at: stamp(at),
            pod: match &self.probe {
                ProbeState::Running { pod, .. } => Some(pod.clone()),
                _ => None,
            },
            prefix: prefix.to_string(),
            backend: backend.and_then(|b| Some(self.route.as_ref()?.backends.get(b)?.name.clone())),
            line: line.to_string(),
        }
    }

    pub(super) fn route_record(&self, at: Timestamp) -> Option<Record> {
        let route = self.route.as_ref()?;
        Some(Record::Route {
            at: stamp(at),
            route_kind: route.kind.name().to_string(),
            refused: route
                .backends
                .iter()
                .filter(|b| b.refused.is_some())
                .map(|b| b.name.clone())
                .collect(),
            rule: route.rule + 1,
            name: route.name.clone(),
            namespace: route.namespace.clone(),
            weights: route
                .backends
                .iter()
                .map(|b| (b.name.clone(), b.weight))
                .collect(),
        })
    }

    pub(super) fn endpoints_record(&self, at: Timestamp) -> Option<Record> {
        let route = self.route.as_ref()?;
        Some(Record::Endpoints {
            at: stamp(at),
            ready: route
                .backends
                .iter()
                .zip(&self.endpoints)
                .map(|(b, n)| (b.name.clone(), *n))
                .collect(),
        })
    }

    pub(super) fn cluster_record(&self, at: Timestamp) -> Record {
        Record::of_cluster(stamp(at), &self.info)
    }

    /// The records kept since the last call, for the runtime to write.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    /// The run ends: a change still waiting to show is recorded as such, so the record
    /// holds every change made (each other one was recorded when it was settled).
    pub fn record_waiting_changes(&mut self) {
        let waiting: Vec<Record> = self
            .changes
            .iter()
            .filter(|c| c.landed == super::Landed::Open)
            .map(change_record)
            .collect();
        for record in waiting {
            self.keep(|_| record);
        }
    }
}

/// When a change landed, or that it was not seen.
pub(super) fn change_record(change: &super::Change) -> Record {
    let landed = change.landed_after();
    Record::Change {
        at: stamp(change.at),
        cause: change.what().to_string(),
        landed_after_s: landed.map(|(after, _)| round(after)),
        between_s: landed.map(|(_, [low, high])| [round(low.max(0.0)), round(high)]),
        not_seen_after_s: match change.landed {
            super::Landed::NotSeen { after } => Some(after),
            _ => None,
        },
        outcome: match change.landed {
            super::Landed::Invisible => Some("invisible".into()),
            super::Landed::Superseded => Some("superseded".into()),
            super::Landed::Open => Some("waiting".into()),
            _ => None,
        },
    }
}

/// Milliseconds are as fine as the samples' times.
fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A patch change: a toggle of ours carries the settle it waits for, one seen in the
/// cluster none.
pub(super) fn patch_record(at: Timestamp, on: bool, settle: Option<std::time::Duration>) -> Record {
    Record::Patch {
        at: stamp(at),
        on,
        observed: settle.is_none(),
        settle: settle.map(|d| d.as_secs_f64()),
    }
}
