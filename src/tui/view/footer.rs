//! Footer: the keys, and one line of status (frozen, notices, problems, the probe).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::session::app::keymap::{self, BINDINGS};
use crate::session::app::{App, ProbeState};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let key = |k: &'static str| Span::styled(k, theme.strong(theme.accent));
    let text = |t: String| Span::styled(t, theme.dim());
    let mut spans = vec![Span::raw(" ")];
    for binding in BINDINGS {
        if let Some((keys, word)) = keymap::footer_word(binding, app.frozen().is_some()) {
            spans.push(key(keys));
            spans.push(text(format!(" {word} ")));
        }
    }
    spans.push(Span::raw(" "));
    if app.frozen().is_some() {
        spans.push(Span::styled(
            " FROZEN ",
            theme
                .strong(theme.undecided)
                .add_modifier(ratatui::style::Modifier::REVERSED),
        ));
        spans.push(Span::raw(" "));
    }
    if let Some(problem) = app.problem() {
        spans.push(Span::styled(problem.to_string(), theme.strong(theme.error)));
    } else if let Some(notice) = app.notice() {
        spans.push(Span::styled(notice.to_string(), theme.fg(theme.undecided)));
    } else {
        match app.probe() {
            ProbeState::Connecting => spans.push(text("connecting the probe…".into())),
            ProbeState::Running { pod, .. } if app.settings().replay.is_some() => {
                spans.push(text(format!("playing the replies of {pod}")));
            }
            ProbeState::Running { pod, .. } => {
                let target = app
                    .probe_target()
                    .as_ref()
                    .map_or_else(|| "…".to_string(), ToString::to_string);
                spans.push(text(format!("probe {pod} → {target}")));
            }
            ProbeState::Gap { reason, .. } => spans.push(Span::styled(
                format!("gap: {reason}"),
                theme.fg(theme.error),
            )),
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
