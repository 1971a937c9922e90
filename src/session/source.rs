//! Where a session's messages come from when no cluster sends them (a replay), and the
//! clock its screen shows.

use std::sync::Arc;

use futures::future::BoxFuture;
use jiff::Timestamp;

use super::app::Msg;

/// A time that is not the wall clock's: a replay's, which runs at the replay's pace.
pub trait Now: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The time the screen shows: the wall clock, or a source's own.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<dyn Now>>);

impl Clock {
    pub fn of(now: Arc<dyn Now>) -> Clock {
        Clock(Some(now))
    }

    pub fn now(&self) -> Timestamp {
        self.0.as_ref().map_or_else(Timestamp::now, |c| c.now())
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Clock(source)"
        } else {
            "Clock(wall)"
        })
    }
}

/// Messages at their own pace, standing in for a cluster: a replay's feed.
pub trait Source: Send {
    /// The next message when its time comes. Safe to cancel: nothing is lost.
    fn next(&mut self) -> BoxFuture<'_, Msg>;
    /// The next message if it is due now.
    fn try_next(&mut self) -> Option<Msg>;
    /// The source's time.
    fn clock(&self) -> Clock;
}
