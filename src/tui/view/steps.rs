//! The steps of the canary rollout behind the route (`o`), in place of the chart: each
//! weight the rollout set, when splitscope saw it written, when the traffic showed it,
//! the verdict on it and the canary's share seen, with its interval.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::format::percent;
use crate::session::app::{App, Landed, StepRow};
use crate::split::Verdict;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let title = match app.rollout() {
        Some(r) => format!(
            " steps of {} {} · o or esc closes ",
            r.controller.kind(),
            r.name
        ),
        None => " steps · o or esc closes ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.strong(theme.accent)))
        .border_style(theme.dim());
    let canary = app.rollout().and_then(|r| {
        app.route()?
            .backends
            .iter()
            .position(|b| b.name == r.canary_service)
    });
    let mut lines = vec![Line::styled(
        "  STEP  WEIGHT  SET AT    LANDED AFTER      VERDICT    CANARY SEEN     N",
        theme.dim(),
    )];
    for row in app.steps() {
        lines.push(step_line(row, canary, theme));
    }
    if app.steps().is_empty() {
        lines.push(Line::styled(
            "  no step seen yet: each weight the rollout sets is listed here as the route shows it",
            theme.dim(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "LANDED AFTER: from the write to when the traffic followed it (the interval holds that moment with chance 1-α). \
CANARY SEEN: its share in the step's own evidence, bracketed at 1-α at every moment. N: those samples.",
        theme.dim(),
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        area,
    );
}

fn step_line(row: &StepRow, canary: Option<usize>, theme: &Theme) -> Line<'static> {
    let clock = row
        .at
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%H:%M:%S")
        .to_string();
    let landed = match row.landed {
        None => "before the start".to_string(),
        Some(Landed::Open) => "waiting…".to_string(),
        Some(Landed::At { at, low, high }) => format!(
            "{:.1}s ({:.1}-{:.1})",
            at - row.written,
            (low - row.written).max(0.0),
            high - row.written
        ),
        Some(Landed::Invisible) => "cannot show".to_string(),
        Some(Landed::NotSeen { after }) => format!("not seen in {after:.0}s"),
        Some(Landed::Superseded) => "superseded".to_string(),
    };
    let (word, style) = match (row.judged.as_ref().map(|j| j.verdict), row.cut_short) {
        (Some(Verdict::Honoured), _) => ("HONOURED", theme.strong(theme.honoured)),
        (Some(Verdict::Ignored), _) => ("IGNORED", theme.strong(theme.ignored)),
        (_, true) => ("CUT SHORT", theme.strong(theme.undecided)),
        _ if row.promoted => ("promoted", theme.fg(theme.undecided)),
        (Some(Verdict::Ambiguous), _) => ("AMBIGUOUS", theme.fg(theme.undecided)),
        _ => ("deciding…", theme.fg(theme.undecided)),
    };
    let (seen, n) = match (row.judged.as_ref(), canary) {
        (Some(j), Some(c)) => match j.shares.get(c) {
            Some(share) => {
                let interval = share
                    .interval
                    .map(|i| format!(" [{:.0}–{:.0}]", i.low * 100.0, i.high * 100.0))
                    .unwrap_or_default();
                (format!("{}{interval}", percent(share.share)), j.samples)
            }
            None => (String::new(), j.samples),
        },
        (Some(j), None) => (String::new(), j.samples),
        _ => (String::new(), 0),
    };
    Line::from(vec![
        Span::styled(
            format!(
                "  {:<5} {:<7} {clock}  {landed:<17} ",
                format!("{}/{}", row.index + 1, row.of),
                row.weight
            ),
            theme.fg(theme.text),
        ),
        Span::styled(format!("{word:<10} "), style),
        Span::styled(format!("{seen:<15} {n}"), theme.fg(theme.text)),
    ])
}
