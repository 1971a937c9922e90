//! What the terminal and tapes share: a ratatui terminal the app is drawn on, the themes
//! `t` cycles, where `s` puts pictures, and the screen's recording (`--record-cast`).
//! It is the session's [`Screen`] for both.

use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use ratatui::buffer::Buffer;

use super::cast::Cast;
use super::shot::{self, ShotFormat};
use super::theme::{Theme, Themes};
use super::view;
use crate::session::{App, Screen};

/// Where `s` writes pictures, and in which formats.
#[derive(Debug, Clone)]
pub struct Shots {
    pub dir: std::path::PathBuf,
    pub formats: Vec<ShotFormat>,
}

/// How the screen looks and what it keeps: the same for the terminal and a tape.
pub struct Look {
    pub themes: Themes,
    pub shots: Shots,
    pub cast: Option<Cast>,
}

pub struct Display<B: Backend> {
    terminal: Terminal<B>,
    look: Look,
}

impl<B: Backend> Display<B> {
    pub fn new(terminal: Terminal<B>, look: Look) -> Display<B> {
        Display { terminal, look }
    }

    pub fn theme(&self) -> &Theme {
        self.look.themes.current()
    }

    pub(crate) fn terminal_mut(&mut self) -> &mut Terminal<B> {
        &mut self.terminal
    }

    /// Draws the app and hands the frame to the screen's recording, then to `after`
    /// (a picture is taken of exactly that frame). Returns the notice when the recording
    /// had to stop, and what `after` gave.
    fn draw<T>(
        &mut self,
        app: &App,
        after: impl FnOnce(&Buffer, &Theme) -> T,
    ) -> Result<(Option<String>, T), B::Error> {
        let Look { themes, cast, .. } = &mut self.look;
        let frame = self
            .terminal
            .draw(|f| view::render(f, app, themes.current()))?;
        let mut notice = None;
        if let Some(recording) = cast
            && let Err(e) = recording.frame(frame.buffer)
        {
            notice = Some(format!("screen recording stopped: {e}"));
            *cast = None;
        }
        Ok((notice, after(frame.buffer, themes.current())))
    }
}

impl Display<TestBackend> {
    /// What a tape's screen shows, as text.
    pub fn text(&self) -> String {
        shot::text(self.terminal.backend().buffer())
    }

    pub fn buffer(&self) -> &Buffer {
        self.terminal.backend().buffer()
    }
}

impl<B: Backend> Screen for Display<B> {
    type Error = B::Error;

    fn show(&mut self, app: &App) -> Result<Option<String>, B::Error> {
        self.draw(app, |_, _| ()).map(|(notice, ())| notice)
    }

    fn picture(&mut self, app: &App) -> String {
        // The picture is of the app as it is now, drawn like any frame.
        let shots = self.look.shots.clone();
        let saved = self.draw(app, |buffer, theme| {
            shot::save(
                buffer,
                theme,
                &shots.dir,
                &shots.formats,
                jiff::Timestamp::now(),
            )
        });
        match saved {
            Ok((_, Ok(paths))) => format!("saved {}", paths.join(", ")),
            Ok((_, Err(why))) => format!("no picture: {why}"),
            Err(e) => format!("no picture: the screen could not be drawn ({e})"),
        }
    }

    fn next_theme(&mut self) -> String {
        let themes = &mut self.look.themes;
        if themes.several() {
            format!("theme: {}", themes.advance())
        } else {
            format!("theme: {} (the only one)", themes.name())
        }
    }
}
