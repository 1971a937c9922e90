//! The list of routes, shown in place of the chart and the split while the namespace has
//! several and none is chosen: a row per rule with its parent and weights.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::session::app::{App, RouteList};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, list: &RouteList, theme: &Theme) {
    let title = format!(
        " routes in {} · ↑/↓ choose · enter watch · q quit ",
        app.settings().namespace
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.strong(theme.accent)))
        .border_style(theme.dim());
    let width =
        |f: fn(&crate::route_list::RouteRow) -> usize| list.rows.iter().map(f).max().unwrap_or(0);
    let name_width = width(|r| r.reference.to_string().chars().count()).max(5);
    let parent_width = width(|r| r.parent.chars().count()).max(6);
    let mut lines = vec![Line::styled(
        format!(
            "  {:<name_width$}  {:<parent_width$}  RULE  WEIGHTS",
            "ROUTE", "PARENT"
        ),
        theme.dim(),
    )];
    for (i, row) in list.rows.iter().enumerate() {
        let chosen = i == list.selected;
        let style = if chosen {
            theme.strong(theme.accent)
        } else {
            theme.fg(theme.text)
        };
        let rule = if row.rule == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", row.rule, row.rules)
        };
        let what = match &row.problem {
            Some(why) => format!("cannot follow: {why}"),
            None => row.weights_text(),
        };
        lines.push(Line::from(vec![
            Span::styled(if chosen { "› " } else { "  " }, style),
            Span::styled(
                format!(
                    "{:<name_width$}  {:<parent_width$}  {rule:<4}  {what}",
                    row.reference.to_string(),
                    row.parent
                ),
                style,
            ),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "enter watches the rule chosen; esc there comes back here. `--route KIND/NAME --rule N` starts on one.",
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
