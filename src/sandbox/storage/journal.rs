//! The store's recent changes, for watches: each object's change with the revision it
//! made, the oldest forgotten beyond a bound. A watch from before what is kept is told
//! 410 Gone.

use std::collections::VecDeque;

use serde_json::Value;

/// Changes kept; a watch from before the oldest of them gets 410.
const KEPT: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One object's change, as a watch reports it: the object after it (for a deletion, as it
/// was, at the deletion's `resourceVersion`) and, for a modification, before it.
#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeKind,
    /// The type's key (`Resource::key`).
    pub type_key: String,
    pub object: Value,
    pub previous: Option<Value>,
}

#[derive(Debug, Default)]
pub(crate) struct Journal {
    changes: VecDeque<Change>,
    /// The newest revision whose change is no longer kept.
    forgotten: u64,
}

impl Journal {
    /// Keeps a change, forgetting the oldest beyond `KEPT`.
    pub(crate) fn keep(&mut self, change: Change) {
        if self.changes.len() >= KEPT
            && let Some(old) = self.changes.pop_front()
        {
            self.forgotten = old.rv;
        }
        self.changes.push_back(change);
    }

    /// The changes after revision `rv`, oldest first; Err(oldest kept) when some of them
    /// are forgotten.
    pub fn since(&self, rv: u64) -> Result<impl Iterator<Item = &Change>, u64> {
        if rv < self.forgotten {
            return Err(self.forgotten + 1);
        }
        let start = self.changes.partition_point(|c| c.rv <= rv);
        Ok(self.changes.range(start..))
    }
}
