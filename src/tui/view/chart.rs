//! Chart: each backend's observed share (over the sliding window) through time, against
//! its configured weight as a flat line; patch toggles and probe gaps marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker as Dot;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};

use super::format::duration;
use crate::session::app::{App, Marker};
use crate::tui::theme::Theme;

type Line2 = [(f64, f64); 2];

/// What the chart draws, in its own coordinates (seconds, percent).
struct Plot {
    start: f64,
    end: f64,
    /// Per backend, its share through time.
    series: Vec<Vec<(f64, f64)>>,
    /// Per backend, its configured weight as a flat line.
    weights: Vec<Line2>,
    /// Patch toggles and gaps as vertical lines.
    marks: Vec<(Line2, Style)>,
}

impl Plot {
    fn new(app: &App, theme: &Theme) -> Plot {
        let split = app.shown_split();
        let points = split.history().points();
        let end = app
            .elapsed(app.frozen().as_ref().map_or(app.now(), |f| f.at))
            .max(points.last().map_or(0.0, |p| p.0))
            .max(10.0);
        let start = points.first().map_or(0.0, |p| p.0).min(end - 10.0).max(0.0);
        let series = (0..split.expected().len())
            .map(|b| {
                points
                    .iter()
                    .map(|(t, shares)| (*t, shares.get(b).copied().unwrap_or(0.0) * 100.0))
                    .collect()
            })
            .collect();
        let weights = split
            .expected()
            .iter()
            .map(|e| [(start, e * 100.0), (end, e * 100.0)])
            .collect();
        let within = |t: f64| t >= start && t <= end;
        let mut marks: Vec<(Line2, Style)> = Vec::new();
        for m in app.markers() {
            let (t, style) = match m {
                Marker::PatchOn(t) => (*t, theme.fg(theme.honoured)),
                Marker::PatchOff(t) => (*t, theme.fg(theme.ignored)),
                Marker::Gap(t) => (*t, theme.dim()),
                Marker::Regime(t) => (*t, theme.fg(theme.undecided)),
                Marker::Landed { written, at, high } => {
                    // A bar along the top from the write to where it had surely
                    // landed, and a tick where it most likely did.
                    let style = theme.fg(theme.undecided);
                    let (from, to) = (written.max(start), high.min(end));
                    if from <= to {
                        marks.push(([(from, 97.0), (to, 97.0)], style));
                    }
                    if within(*at) {
                        marks.push(([(*at, 90.0), (*at, 100.0)], style));
                    }
                    continue;
                }
            };
            if within(t) {
                marks.push(([(t, 0.0), (t, 100.0)], style));
            }
        }
        Plot {
            start,
            end,
            series,
            weights,
            marks,
        }
    }

    /// Weights first, then marks, then the shares on top.
    fn datasets(&self, theme: &Theme) -> Vec<Dataset<'_>> {
        let line = |marker, style, data| {
            Dataset::default()
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(style)
                .data(data)
        };
        let dim = |i| {
            theme
                .fg(theme.backend(i))
                .add_modifier(ratatui::style::Modifier::DIM)
        };
        let weights = self.weights.iter().enumerate();
        let series = self.series.iter().enumerate();
        weights
            .map(|(i, w)| line(Dot::Dot, dim(i), &w[..]))
            .chain(
                self.marks
                    .iter()
                    .map(|(data, style)| line(Dot::Braille, *style, &data[..])),
            )
            .chain(series.map(|(i, s)| line(Dot::Braille, theme.fg(theme.backend(i)), &s[..])))
            .collect()
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let plot = Plot::new(app, theme);
    let labels_x = vec![
        Span::styled(duration(plot.start), theme.dim()),
        Span::styled(duration(plot.end), theme.dim()),
    ];
    let labels_y = vec![
        Span::styled("0%", theme.dim()),
        Span::styled("50%", theme.dim()),
        Span::styled("100%", theme.dim()),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(
            " share over time · ┄ configured weight ",
            theme.dim(),
        ))
        .border_style(theme.dim());
    let chart = Chart::new(plot.datasets(theme))
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([plot.start, plot.end])
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
