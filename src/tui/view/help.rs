//! The `?` overlay: keys and how to read the screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::session::app::App;
use crate::session::app::keymap::BINDINGS;
use crate::tui::theme::Theme;

/// What the word, the odds and the intervals mean; also in the README.
pub(crate) const HELP_READING: &str = "Evidence counts from the last change (start, r, a patch toggle, a route edit, \
or a change the stream itself shows; marked on the chart). IGNORED: the samples are 2/α times likelier \
under another split than under the route's weights (or a weight-0 backend answered); if the mesh honours \
the weights, that happens with chance α at most, however long you watch. HONOURED: the samples are 1/α \
times likelier under the weights than under the mesh's default split (what the bug gives: uniform over \
ready endpoints, so 3 v1 pods and 1 v2 pod give 75/25; shown as bug's split) and nothing rejected the weights. UNDECIDED shows the odds each way and about how many samples are left. AMBIGUOUS: \
the weights are the default split, so no sample can tell them apart. Brackets hold each share with \
chance 1-α at every moment. The window (chart) only smooths.";

/// When a change landed, as the log and the chart say it.
const HELP_LANDING: &str = "A change (p, a route edit) is placed in time: \"patch on took effect after 3.1s \
(2.9-3.3)\" is when the traffic began to follow it, counted from the write, and the interval that holds \
the true moment with chance 1-α; the chart's bar runs from the write to the interval's end. Its evidence \
counts from there, or from --settle at the latest; \"not seen in the traffic after 60 s\" when it never showed.";

/// What a rollout's steps are, as the header and the steps panel show them.
const HELP_STEPS: &str = "With a canary rollout behind the route (an Argo Rollout, a Flagger Canary) the header \
says where it is, and each weight it sets is a step whose evidence counts from its landing, with its own verdict. \
o lists them: when each was written, when the traffic followed it (with its interval), the verdict (CUT SHORT: the \
next step came first; promoted: the rollout completed first), the canary's share seen in brackets at 1-α, and the samples behind it.";

/// What the log's counts mean for an HTTP route.
const HELP_STATUSES: &str = "A reply whose HTTP status is not 2xx or 3xx is an error, counted by code in the \
log's title (503 x12), never a sample.";

pub fn render(frame: &mut Frame, area: Rect, _app: &App, theme: &Theme) {
    let [row] = Layout::vertical([Constraint::Length(area.height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(area.width.saturating_sub(4).min(96))])
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
        Line::raw(HELP_READING),
        Line::raw(HELP_LANDING),
        Line::raw(HELP_STEPS),
        Line::raw(HELP_STATUSES),
        Line::raw(""),
        Line::styled(
            "The patch replaces the waypoint's tcp_proxy for the route's parent Service with a weighted one (Istio bug 54119, fixed in 1.26); it is offered only where that bug applies.",
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
