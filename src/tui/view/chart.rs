//! Chart: each backend's observed share (over the sliding window) through time, against
//! its configured weight as a flat line; patch toggles and probe gaps marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker as Dot;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};

use super::format::duration;
use crate::tui::app::{App, Marker};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let split = app.shown_split();
    let points = split.history().points();
    let backends = split.expected().len();
    let end = app
        .elapsed(app.frozen.as_ref().map_or(app.now, |f| f.at))
        .max(points.last().map_or(0.0, |p| p.0))
        .max(10.0);
    let start = points.first().map_or(0.0, |p| p.0).min(end - 10.0).max(0.0);

    let series: Vec<Vec<(f64, f64)>> = (0..backends)
        .map(|b| {
            points
                .iter()
                .map(|(t, shares)| (*t, shares.get(b).copied().unwrap_or(0.0) * 100.0))
                .collect()
        })
        .collect();
    let weights: Vec<[(f64, f64); 2]> = split
        .expected()
        .iter()
        .map(|e| [(start, e * 100.0), (end, e * 100.0)])
        .collect();
    let marks: Vec<([(f64, f64); 2], Style)> = app
        .markers
        .iter()
        .filter_map(|m| {
            let (t, style) = match m {
                Marker::PatchOn(t) => (*t, theme.fg(theme.honoured)),
                Marker::PatchOff(t) => (*t, theme.fg(theme.ignored)),
                Marker::Gap(t) => (*t, theme.dim()),
            };
            (t >= start && t <= end).then_some(([(t, 0.0), (t, 100.0)], style))
        })
        .collect();

    let mut datasets = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        datasets.push(
            Dataset::default()
                .marker(Dot::Dot)
                .graph_type(GraphType::Line)
                .style(
                    theme
                        .fg(theme.backend(i))
                        .add_modifier(ratatui::style::Modifier::DIM),
                )
                .data(w),
        );
    }
    for (data, style) in &marks {
        datasets.push(
            Dataset::default()
                .marker(Dot::Braille)
                .graph_type(GraphType::Line)
                .style(*style)
                .data(data),
        );
    }
    for (i, s) in series.iter().enumerate() {
        datasets.push(
            Dataset::default()
                .marker(Dot::Braille)
                .graph_type(GraphType::Line)
                .style(theme.fg(theme.backend(i)))
                .data(s),
        );
    }
    let labels_x = vec![
        Span::styled(duration(start), theme.dim()),
        Span::styled(duration(end), theme.dim()),
    ];
    let labels_y = vec![
        Span::styled("0%", theme.dim()),
        Span::styled("50%", theme.dim()),
        Span::styled("100%", theme.dim()),
    ];
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(
                    " share over time · ┄ configured weight ",
                    theme.dim(),
                ))
                .border_style(theme.dim()),
        )
        .x_axis(
            Axis::default()
                .bounds([start, end])
                .labels(labels_x)
                .style(theme.dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, 100.0])
                .labels(labels_y)
                .style(theme.dim()),
        );
    frame.render_widget(chart, area);
}
