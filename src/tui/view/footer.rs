//! Footer: the keys, and one line of status (frozen, notices, problems, the probe).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, ProbeState};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let key = |k: &'static str| Span::styled(k, theme.strong(theme.accent));
    let text = |t: &'static str| Span::styled(t, theme.dim());
    let mut spans = vec![
        key(" p"),
        text(" patch "),
        key("space"),
        text(if app.frozen.is_some() {
            " thaw "
        } else {
            " freeze "
        }),
        key("r"),
        text(" reset "),
        key("+/-"),
        text(" window "),
        key("?"),
        text(" help "),
        key("q"),
        text(" quit  "),
    ];
    if app.frozen.is_some() {
        spans.push(Span::styled(
            " FROZEN ",
            theme
                .strong(theme.undecided)
                .add_modifier(ratatui::style::Modifier::REVERSED),
        ));
        spans.push(Span::raw(" "));
    }
    if let Some(problem) = &app.problem {
        spans.push(Span::styled(problem.clone(), theme.strong(theme.error)));
    } else if let Some(notice) = &app.notice {
        spans.push(Span::styled(notice.clone(), theme.fg(theme.undecided)));
    } else {
        match &app.probe {
            ProbeState::Connecting => spans.push(text("connecting the probe…")),
            ProbeState::Running { pod, .. } => spans.push(Span::styled(
                format!("probe {pod} → {}", app.settings.target),
                theme.dim(),
            )),
            ProbeState::Gap { reason, .. } => spans.push(Span::styled(
                format!("gap: {reason}"),
                theme.fg(theme.error),
            )),
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
