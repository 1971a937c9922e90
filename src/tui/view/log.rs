//! Log: the latest replies, coloured by backend; errors, unparsable lines and our own
//! notes stand out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::session::app::{App, LineKind};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // HTTP statuses that are not 2xx or 3xx, by code: errors, never samples.
    let statuses: String = app
        .statuses()
        .iter()
        .map(|(code, n)| format!(" · {code} x{n}"))
        .collect();
    let title = format!(
        " replies · {} errors{statuses} · {} unparsable ",
        app.errors(),
        app.unparsable()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.dim()))
        .border_style(theme.dim());
    let rows = area.height.saturating_sub(2) as usize;
    let log = app.shown_log();
    let lines: Vec<Line> = log
        .iter()
        .skip(log.len().saturating_sub(rows))
        .map(|entry| {
            let time = entry
                .at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%H:%M:%S")
                .to_string();
            let (style, tag) = match entry.kind {
                LineKind::Backend(i) => (theme.fg(theme.backend(i)), ""),
                LineKind::Unmapped => (theme.fg(theme.unmapped), "unmapped  "),
                LineKind::Unparsable => (theme.fg(theme.unparsable), "unparsable  "),
                LineKind::Error => (theme.strong(theme.error), "error  "),
                LineKind::Note => (theme.dim().add_modifier(Modifier::ITALIC), "· "),
            };
            Line::from(vec![
                Span::styled(format!("{time} "), theme.dim()),
                Span::styled(tag, style),
                Span::styled(entry.text.clone(), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
