//! The watch screen. One panel per file; this one lays them out.
//!
//! ```text
//! ┌ splitscope ──────────────────────────────────────────────────────────────┐
//! │context · namespace · route NAME 90/10                                    │  header
//! │waypoint NAME (why) · Istio 1.24.0 (needs the patch)                      │
//! │patch on since 01:47:20 UTC (42s)                                         │
//! ┌ share over time · ┄ configured weight ─┐┌ split · honoured ──────────────┐
//! │100%│ window share per backend,         ││since … · n=40                  │  chart,
//! │    │ ┄ weights, ⢸ toggles, gaps,       ││per backend: bar, share [CS] │w │  split
//! │ 0% │ regime starts                     ││odds each way, decided after …  │
//! │   0s                              1m22s││  V E R D I C T                 │
//! └────────────────────────────────────────┘└────────────────────────────────┘
//! ┌ replies · 1 errors · 1 unparsable ───────────────────────────────────────┐
//! │01:47:55 one Sat Dec  7 01:47:55 UTC 2024                                 │  log
//! └──────────────────────────────────────────────────────────────────────────┘
//!  p patch space freeze … ? help q quit      problem, notice or probe state     footer
//! ```
//!
//! With a canary rollout behind the route, `o` shows its steps in place of the chart.

pub mod chart;
pub(crate) mod footer;
pub mod format;
pub mod header;
pub mod help;
pub mod log;
pub mod routes;
pub mod split;
pub mod steps;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::theme::Theme;
use crate::session::App;

pub(crate) const MIN_WIDTH: u16 = 60;
pub(crate) const MIN_HEIGHT: u16 = 18;
/// From this width the steps panel leaves room for the split panel beside it.
const STEPS_BESIDE_SPLIT: u16 = 130;

/// Draws the whole screen from the app's state.
pub fn render(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = vec![
            Line::styled("splitscope", theme.strong(theme.accent)),
            Line::raw(format!(
                "needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}. Enlarge it, or press q to quit.",
                area.width, area.height
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header_area, middle, log_area, footer_area] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(10),
        Constraint::Percentage(30),
        Constraint::Length(1),
    ])
    .areas(area);
    let split_width = if area.width >= 100 { 42 } else { 36 };
    let [chart_area, split_area] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(split_width)]).areas(middle);
    header::render(frame, header_area, app, theme);
    match app.choosing() {
        Some(list) => routes::render(frame, middle, app, list, theme),
        // The steps' table wants the room: beside the split panel only when wide.
        None if app.show_steps() && area.width >= STEPS_BESIDE_SPLIT => {
            steps::render(frame, chart_area, app, theme);
            split::render(frame, split_area, app, theme);
        }
        None if app.show_steps() => steps::render(frame, middle, app, theme),
        None => {
            chart::render(frame, chart_area, app, theme);
            split::render(frame, split_area, app, theme);
        }
    }
    log::render(frame, log_area, app, theme);
    footer::render(frame, footer_area, app, theme);
    if app.show_help() {
        help::render(frame, area, app, theme);
    }
}
