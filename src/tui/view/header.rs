//! Header, a line each: where we look (context, namespace, route and its weights); the
//! waypoint and why it is the one, and the version of the control plane that serves it,
//! whether it needs the patch, and the proxy's version where it differs; the patch, and
//! the canary rollout behind the route where there is one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::format::duration;
use crate::route::{ParentKind, Route, RouteKind};
use crate::session::app::{App, PatchState, WaypointInfo};
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let first = route_line(app, theme);
    let second = cluster_line(app, theme);
    let mut third = patch_spans(app, theme);
    third.extend(rollout_spans(app, theme));
    let block = Block::default()
        .borders(Borders::TOP | Borders::LEFT | Borders::RIGHT)
        .title(Span::styled(" splitscope ", theme.strong(theme.accent)))
        .border_style(theme.dim());
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(first),
            Line::from(second),
            Line::from(third),
        ])
        .block(block),
        area,
    );
}

/// Context, namespace and the route with its weights.
fn route_line(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let dim = theme.dim();
    let label = |s: &'static str| Span::styled(s, dim);
    let mut first = vec![
        Span::raw(app.settings().context.clone()),
        label(" · "),
        Span::raw(app.settings().namespace.clone()),
        label(" · route "),
    ];
    match (app.route(), app.route_error()) {
        _ if app.choosing().is_some() => first.push(Span::styled(
            "several, choose one below",
            theme.strong(theme.undecided),
        )),
        (Some(route), _) => {
            // A TCPRoute on a Service is the seed's case; any other says what it is.
            let plain = route.kind == RouteKind::Tcp && route.parent_kind == ParentKind::Service;
            if !plain {
                first.push(Span::styled(format!("{} ", route.kind), dim));
            }
            first.push(Span::styled(route.name.clone(), theme.strong(theme.text)));
            first.push(Span::raw(" "));
            for (i, b) in route.backends.iter().enumerate() {
                if i > 0 {
                    first.push(label("/"));
                }
                first.push(Span::styled(
                    b.weight.to_string(),
                    theme.strong(theme.backend(i)),
                ));
            }
        }
        (None, Some(err)) => first.push(Span::styled(err.to_string(), theme.strong(theme.error))),
        (None, None) => first.push(Span::styled("looking…", dim)),
    }
    if let Some(route) = app.route() {
        first.extend(parent_spans(route, theme));
        // A backend the route may not reach: an implementation drops it, so it counts
        // as weight 0 in the verdict.
        for b in route.backends.iter().filter(|b| b.refused.is_some()) {
            first.push(Span::styled(
                format!(
                    " · {} not permitted (no ReferenceGrant): counted as 0",
                    b.name
                ),
                theme.fg(theme.error),
            ));
        }
    }
    first
}

/// Where the route attaches, when it is not the seed's case, and what the probe asks.
fn parent_spans(route: &Route, theme: &Theme) -> Vec<Span<'static>> {
    let dim = theme.dim();
    if route.kind == RouteKind::Tcp && route.parent_kind == ParentKind::Service {
        return vec![];
    }
    let side = match route.parent_kind {
        ParentKind::Service => "mesh",
        ParentKind::Gateway => "edge",
    };
    let mut text = format!(" · {side}: {} {}", route.parent_kind.name(), route.parent);
    if route.rules > 1 {
        text.push_str(&format!(" · rule {} of {}", route.rule + 1, route.rules));
    }
    if let Some(path) = &route.path {
        text.push_str(&format!(" · {path}"));
    }
    vec![Span::styled(text, dim)]
}

/// The waypoint and why, and the control plane's version.
fn cluster_line(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let dim = theme.dim();
    let label = |s: &'static str| Span::styled(s, dim);
    // At the edge the route's Gateway stands where the waypoint does.
    let edge = matches!(&app.info().waypoint, WaypointInfo::Named(w) if w.source == crate::istio::waypoint::Source::Parent);
    let mut second = vec![label(if edge { "gateway " } else { "waypoint " })];
    match &app.info().waypoint {
        WaypointInfo::Named(w) => {
            let elsewhere = app
                .route()
                .as_ref()
                .is_some_and(|r| !r.namespace.is_empty() && r.namespace != w.namespace);
            second.push(Span::raw(if elsewhere {
                format!("{}/{}", w.namespace, w.name)
            } else {
                w.name.clone()
            }));
            second.push(Span::styled(format!(" ({})", w.source.describe()), dim));
        }
        WaypointInfo::NoneServes(why) => {
            second.push(Span::styled("none", theme.fg(theme.error)));
            second.push(Span::styled(format!(" ({why})"), dim));
        }
        WaypointInfo::Unknown => second.push(Span::styled("…", dim)),
        WaypointInfo::Unreadable(_) => {
            second.push(Span::styled("unknown (cannot read)", theme.fg(theme.error)));
        }
    }
    second.push(label(" · Istio "));
    second.extend(istio_spans(app, theme));
    second
}

/// The version, its revision, whether it needs the patch, and the proxy's if it differs.
fn istio_spans(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let dim = theme.dim();
    let info = app.info();
    let Some(version) = &info.istio else {
        let why = info.istio_unknown.as_deref().unwrap_or("not read yet");
        return vec![Span::styled(format!("version unknown ({why})"), dim)];
    };
    let mut spans = vec![Span::raw(version.clone())];
    // A tag names its revision itself.
    match (&info.tag, &info.revision) {
        (Some(tag), _) => spans.push(Span::styled(format!(" ({tag})"), dim)),
        (None, Some(rev)) => spans.push(Span::styled(format!(" rev {rev}"), dim)),
        (None, None) => {}
    }
    match app.needs_patch() {
        Some(true) => spans.push(Span::styled(
            " (needs the patch)",
            theme.fg(theme.undecided),
        )),
        // The seed's route works from 1.26 on; any other kind has no known bug here.
        Some(false) if app.route().is_some_and(|r| r.kind == RouteKind::Tcp) => {
            spans.push(Span::styled(" (routes work unpatched)", dim));
        }
        Some(false) => spans.push(Span::styled(" (no known bug applies)", dim)),
        None => {}
    }
    if let Some(proxy) = &info.proxy {
        spans.push(Span::styled(format!(" · proxy {proxy}"), dim));
    }
    spans
}

/// The canary rollout behind the route and where it is, with the key for its steps.
fn rollout_spans(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let Some(rollout) = app.rollout() else {
        return vec![];
    };
    let style = match rollout.end {
        Some(crate::rollout::End::Aborted) => theme.strong(theme.error),
        _ => theme.strong(theme.text),
    };
    vec![
        Span::styled(" · ", theme.dim()),
        Span::styled(rollout.headline(), style),
        Span::styled(" · o: steps", theme.dim()),
    ]
}

/// The patch's state, read-only when it is, and what would keep it from working.
fn patch_spans(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let dim = theme.dim();
    let mut spans = vec![Span::styled("patch ", dim)];
    let since = |t: &jiff::Timestamp| {
        duration((app.now().as_millisecond() - t.as_millisecond()) as f64 / 1000.0)
    };
    let (text, style) = match app.patch() {
        PatchState::Unknown => ("…".to_string(), dim),
        PatchState::Off => ("off".to_string(), theme.strong(theme.text)),
        PatchState::Applying(_) => ("applying…".to_string(), theme.strong(theme.undecided)),
        PatchState::On(t) => {
            let clock = t.to_zoned(jiff::tz::TimeZone::UTC).strftime("%H:%M:%S");
            (
                format!("on since {clock} UTC ({})", since(t)),
                theme.strong(theme.honoured),
            )
        }
        PatchState::Removing(_) => ("removing…".to_string(), theme.strong(theme.undecided)),
        PatchState::Failed(why) => (format!("failed: {why}"), theme.strong(theme.error)),
    };
    spans.push(Span::styled(text, style));
    if app.settings().read_only {
        spans.push(Span::styled(" · read-only", dim));
    }
    // What would make the patch useless, said where the patch is.
    match app.info().warnings.len() {
        0 => {}
        1 => spans.push(Span::styled(
            " · a backend is not served by the waypoint (see the log)",
            theme.fg(theme.error),
        )),
        n => spans.push(Span::styled(
            format!(" · {n} backends are not served by the waypoint (see the log)"),
            theme.fg(theme.error),
        )),
    }
    spans
}
