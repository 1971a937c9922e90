//! The `?` overlay: keys and how to read the screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::split::MIN_DECIDE;
use crate::tui::app::App;
use crate::tui::app::keymap::BINDINGS;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, _app: &App, theme: &Theme) {
    let [row] = Layout::vertical([Constraint::Length(20)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(area.width.min(70))])
        .flex(Flex::Center)
        .areas(row);
    let mut text: Vec<Line> = BINDINGS
        .iter()
        .filter_map(|b| b.help)
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!("  {keys:<8}"), theme.strong(theme.accent)),
                Span::raw(what),
            ])
        })
        .collect();
    text.extend([
        Line::raw(""),
        Line::styled("Reading the split", theme.strong(theme.text)),
        Line::raw(format!(
            "Bars show each backend's share of replies with its 95 % Wilson interval (▒) and the configured weight (│). \
             IGNORED: a weight lies outside its 99 % interval, or a weight-0 backend answered. HONOURED: every weight \
             lies inside its 95 % interval. In between, the last verdict stands; under {MIN_DECIDE} samples, UNDECIDED. \
             The verdict reads the sliding window; the whole run is shown beside it."
        )),
        Line::raw(""),
        Line::styled(
            "The patch replaces the waypoint's tcp_proxy for the route's parent Service with a weighted one (Istio bug 54119, fixed in 1.26).",
            theme.dim(),
        ),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" help ", theme.strong(theme.accent)))
        .border_style(theme.fg(theme.accent));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
        popup,
    );
}
