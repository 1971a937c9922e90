//! `--record-cast FILE`: what the terminal showed, as an asciicast v2 file that asciinema
//! plays. Each frame is written as the escape sequences that turn the frame before into
//! it, the same ones the live terminal receives, so a tape without a terminal records the
//! same show as a run in one. Each frame reaches the file as it is drawn.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use jiff::Timestamp;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;

/// Hide the cursor, home it and clear the screen: how every recording begins.
const CLEAR: &str = "\x1b[?25l\x1b[H\x1b[2J";
/// Reset the style, show the cursor again: how it ends.
const END: &str = "\x1b[0m\x1b[?25h";

pub struct Cast {
    out: BufWriter<File>,
    started: Instant,
    /// The frame the player's screen holds now.
    last: Option<Buffer>,
}

impl Cast {
    /// Starts a recording of a `size` screen (columns, rows) titled `title`.
    pub fn create(file: File, size: (u16, u16), title: &str, at: Timestamp) -> io::Result<Cast> {
        let mut out = BufWriter::new(file);
        let term = std::env::var("TERM")
            .ok()
            .filter(|t| !t.is_empty() && t != "dumb")
            .unwrap_or_else(|| "xterm-256color".into());
        let header = serde_json::json!({
            "version": 2,
            "width": size.0,
            "height": size.1,
            "timestamp": at.as_second(),
            "title": title,
            "env": { "TERM": term },
        });
        writeln!(out, "{header}")?;
        Ok(Cast {
            out,
            started: Instant::now(),
            last: None,
        })
    }

    /// Records what changed since the last frame; nothing when nothing did.
    pub fn frame(&mut self, buffer: &Buffer) -> io::Result<()> {
        let t = self.started.elapsed().as_secs_f64();
        let mut bytes: Vec<u8> = Vec::new();
        let last = match self.last.take() {
            Some(last) if last.area == buffer.area => last,
            other => {
                if other.is_some() {
                    // The terminal was resized: so is the player's.
                    let size = format!("{}x{}", buffer.area.width, buffer.area.height);
                    self.event(t, "r", &size)?;
                }
                bytes.extend_from_slice(CLEAR.as_bytes());
                Buffer::empty(buffer.area)
            }
        };
        let updates = last.diff(buffer);
        if !updates.is_empty() {
            CrosstermBackend::new(&mut bytes).draw(updates.into_iter())?;
        }
        self.last = Some(buffer.clone());
        if bytes.is_empty() {
            return Ok(());
        }
        self.event(t, "o", &String::from_utf8_lossy(&bytes))?;
        // On disk frame by frame: a run killed at any moment keeps what it showed.
        self.out.flush()
    }

    fn event(&mut self, t: f64, kind: &str, data: &str) -> io::Result<()> {
        writeln!(self.out, "{}", serde_json::json!([round(t), kind, data]))
    }

    /// Ends the recording with the terminal's style and cursor restored.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.last.take().is_some() {
            let t = self.started.elapsed().as_secs_f64();
            self.event(t, "o", END)?;
        }
        self.out.flush()
    }
}

impl Drop for Cast {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Microseconds are as fine as players read.
fn round(t: f64) -> f64 {
    (t * 1e6).round() / 1e6
}
