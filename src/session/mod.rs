//! The session: what every driver runs. The app's state and its pure update (`app`), the
//! runtime that carries out the app's effects against a cluster or a replay's source
//! (`runtime`), the cluster follower (`follow`), and the `--record` file (`records`).
//!
//! Every driver (the terminal, a tape, `check`, `replay`, the tests) goes through
//! [`Session::step`] and [`Session::run`], so a key, a quit, a notice, a picture or a
//! regime start means the same in each. A driver shows the app through a [`Screen`]:
//! the terminal and tapes draw it; `check` has none.

pub mod app;
mod follow;
mod records;
pub mod runtime;
pub mod source;

use tokio::time::Instant;

pub use app::report::{PatchLeft, RunReport};
pub use app::{App, Effect, Key, Msg, Settings};
pub use runtime::{Runtime, RuntimeOptions};
pub use source::{Clock, Source};

/// How a driver shows the app. Only the terminal and tapes have something to show; the
/// rest take the defaults.
pub trait Screen {
    type Error;

    /// Draws the app as it is now. Returns a notice for the app when something beside
    /// the drawing failed (a screen recording that stopped).
    fn show(&mut self, _app: &App) -> Result<Option<String>, Self::Error> {
        Ok(None)
    }

    /// A picture of the screen as it is now (`s`): the notice saying where it went, or
    /// why there is none.
    fn picture(&mut self, _app: &App) -> String {
        "no picture: nothing is on a screen here".into()
    }

    /// The next theme (`t`): the notice naming it.
    fn next_theme(&mut self) -> String {
        "no theme: nothing is on a screen here".into()
    }
}

/// A driver without a screen (`check`).
pub struct NoScreen;

impl Screen for NoScreen {
    type Error = std::convert::Infallible;
}

/// Whether the session goes on after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Go,
    Quit,
}

/// Why [`Session::run`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop<R> {
    /// The driver's condition held, with what it said.
    Done(R),
    /// The app asked to quit (a key, a signal).
    Quit,
    /// The time given ran out.
    TimedOut,
    /// Every source of messages is gone.
    Closed,
}

/// Messages taken at once before drawing again: a quick source cannot starve the screen.
const BATCH: usize = 256;

pub struct Session {
    app: App,
    runtime: Runtime,
    records: Option<records::RecordFile>,
}

impl Session {
    pub fn new(app: App, runtime: Runtime) -> Session {
        Session {
            app,
            runtime,
            records: None,
        }
    }

    /// Writes the app's records (`--record`) to `file` from now on, as they are kept.
    pub(crate) fn record_to(&mut self, file: std::fs::File) {
        self.records = Some(records::RecordFile::new(file));
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// A sender for other sources of messages (keys, ticks, signals, the sandbox).
    pub fn sender(&self) -> tokio::sync::mpsc::UnboundedSender<Msg> {
        self.runtime.sender()
    }

    /// The time the screen's ticks carry: the wall clock, or a replay's.
    pub fn clock(&self) -> Clock {
        self.runtime.clock()
    }

    /// What the run leaves behind, once every record is on disk.
    pub fn finish(mut self) -> RunReport {
        self.app.record_waiting_changes();
        self.write_records();
        self.app.report()
    }

    /// Feeds one message to the app and carries out what it asks for: the runtime's
    /// effects, and the screen's (a picture, a theme), whose outcome comes back to the
    /// app as a notice.
    pub fn step<S: Screen>(&mut self, msg: Msg, screen: &mut S) -> Flow {
        let mut flow = Flow::Go;
        let mut queue = vec![msg];
        while let Some(msg) = queue.pop() {
            for effect in self.app.update(msg) {
                match effect {
                    Effect::Quit => flow = Flow::Quit,
                    Effect::Picture => queue.push(Msg::Notice(screen.picture(&self.app))),
                    Effect::NextTheme => queue.push(Msg::Notice(screen.next_theme())),
                    other => self.runtime.carry_out(other),
                }
            }
        }
        flow
    }

    /// Writes the records kept so far, then draws.
    pub fn show<S: Screen>(&mut self, screen: &mut S) -> Result<(), S::Error> {
        self.write_records();
        if let Some(notice) = screen.show(&self.app)? {
            self.app.update(Msg::Notice(notice));
            screen.show(&self.app)?;
        }
        Ok(())
    }

    /// The one loop every driver runs: show the app, then feed it what arrives, drawing
    /// once per batch, until `done` says so (given the app and the screen), the app quits,
    /// `until` passes, or every source is gone.
    pub async fn run<S: Screen, R>(
        &mut self,
        screen: &mut S,
        until: Option<Instant>,
        mut done: impl FnMut(&App, &S) -> Option<R>,
    ) -> Result<Stop<R>, S::Error> {
        loop {
            self.show(screen)?;
            if let Some(r) = done(&self.app, screen) {
                return Ok(Stop::Done(r));
            }
            let next = match until {
                Some(at) => match tokio::time::timeout_at(at, self.runtime.next()).await {
                    Ok(next) => next,
                    Err(_) => return Ok(Stop::TimedOut),
                },
                None => self.runtime.next().await,
            };
            let Some(msg) = next else {
                self.write_records();
                return Ok(Stop::Closed);
            };
            let mut flow = self.step(msg, screen);
            for _ in 0..BATCH {
                if flow == Flow::Quit {
                    break;
                }
                let Some(msg) = self.runtime.try_next() else {
                    break;
                };
                flow = self.step(msg, screen);
            }
            if flow == Flow::Quit {
                self.show(screen)?;
                return Ok(Stop::Quit);
            }
        }
    }

    /// Puts what the app kept on disk: the file is written at every draw and every way
    /// out, so a run killed at any moment loses no more than the batch under way.
    fn write_records(&mut self) {
        let records = self.app.take_records();
        let Some(file) = &mut self.records else {
            return;
        };
        if let Err(e) = file.write(&records) {
            self.records = None;
            self.app
                .update(Msg::Notice(format!("recording stopped: {e}")));
        }
    }
}
