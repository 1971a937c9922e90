//! A configured change (a patch toggle, a route edit) and what the traffic showed of it.

use jiff::Timestamp;

use crate::verdict::{Landing, RegimeCause};

/// How many changes a run keeps (the oldest go first).
pub(super) const KEPT: usize = 256;

/// What came of a change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Landed {
    /// Not seen in the traffic yet.
    Open,
    /// Seen: took effect between `low` and `high` run seconds, most likely at `at`.
    At { at: f64, low: f64, high: f64 },
    /// The split before and after are too alike for the traffic to show it.
    Invisible,
    /// Not seen within `--lag-timeout` (seconds).
    NotSeen { after: f64 },
    /// Another change came before this one showed.
    Superseded,
}

/// One configured change and what the traffic showed of it.
#[derive(Debug, Clone)]
pub struct Change {
    pub cause: RegimeCause,
    /// When splitscope saw it written.
    pub at: Timestamp,
    /// The same, in run seconds.
    pub written: f64,
    pub landed: Landed,
    pub(crate) landing: Landing,
}

impl Change {
    /// Seconds from the write to when it landed, with the interval, when it did.
    pub fn landed_after(&self) -> Option<(f64, [f64; 2])> {
        match self.landed {
            Landed::At { at, low, high } => {
                Some((at - self.written, [low - self.written, high - self.written]))
            }
            _ => None,
        }
    }

    /// What a change is, for the log ("patch on", "route edit").
    pub fn what(&self) -> &'static str {
        self.cause.label()
    }
}
