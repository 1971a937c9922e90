//! Render snapshots of the watch screen (ratatui TestBackend, insta), with fixed data
//! and a fixed clock so they are the same on every machine.

// Tests and benchmarks may panic and print: a failed unwrap there is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use splitscope::cluster::probe::ProbeEvent;
use splitscope::session::app::PatchOutcome;
use splitscope::session::{App, Key, Msg, Settings};
use splitscope::tui::theme::Theme;
use splitscope::tui::view;

mod support;

use support::{reply_line, t};

fn reply(app: &mut App, label: &str, at: i64) {
    app.update(Msg::Probe(ProbeEvent::Stdout(reply_line(label, at)), t(at)));
}

fn app() -> App {
    let settings = Settings {
        settle: std::time::Duration::ZERO,
        ..Settings::new("splitscope-sandbox", "istio-io-tcp-traffic-shifting")
    };
    let route = support::route_in("istio-io-tcp-traffic-shifting", 90, 10);
    let mut app = support::ready_app(settings, route);
    app.update(Msg::PatchObserved(None));
    app.update(Msg::Probe(
        ProbeEvent::Started {
            pod: "curl-5d8f7c9b6d-x2x7q".into(),
        },
        t(0),
    ));
    // 40 replies half and half (the bug), then the patch, then 40 at nine in ten.
    for i in 0..40 {
        reply(&mut app, if i % 2 == 0 { "one" } else { "two" }, i);
    }
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(40)));
    for i in 40..80 {
        reply(&mut app, if i % 10 == 3 { "two" } else { "one" }, i);
    }
    app.update(Msg::Probe(
        ProbeEvent::Stderr("nc: bad address 'tcp-echo'".into()),
        t(80),
    ));
    app.update(Msg::Probe(ProbeEvent::Stdout("garbage".into()), t(81)));
    app.update(Msg::Tick(t(82)));
    app
}

fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme::builtin();
    terminal.draw(|f| view::render(f, app, &theme)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn main_screen_100x30() {
    insta::assert_snapshot!(draw(&app(), 100, 30));
}

#[test]
fn main_screen_80x24() {
    insta::assert_snapshot!(draw(&app(), 80, 24));
}

#[test]
fn help_overlay() {
    let mut app = app();
    app.update(Msg::Key(Key::Char('?')));
    insta::assert_snapshot!(draw(&app, 100, 30));
}

#[test]
fn too_small_says_so() {
    let screen = draw(&app(), 50, 12);
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("needs a terminal of at least 60×18; this one is 50×12"),
        "{screen}"
    );
}

#[test]
fn frozen_screen_says_so() {
    let mut app = app();
    app.update(Msg::Key(Key::Space));
    let screen = draw(&app, 100, 30);
    assert!(
        screen.contains("FROZEN") && screen.contains("thaw"),
        "{screen}"
    );
}

#[test]
fn verdict_and_patch_state_are_on_screen() {
    let screen = draw(&app(), 100, 30);
    assert!(screen.contains("on since 01:47:20 UTC (42s)"), "{screen}");
    assert!(
        screen.contains("█ █ █▀█ █▀▄"),
        "HONOURED in large letters:\n{screen}"
    );
    assert!(screen.contains("1 errors · 1 unparsable"), "{screen}");
}

#[test]
fn an_undecided_regime_shows_its_odds_and_its_start() {
    let mut app = app();
    // The route is edited to 80/20: a new regime, marked on the chart, with little
    // evidence yet.
    let mut route = app.route().cloned().unwrap();
    route.backends[0].weight = 80;
    route.backends[1].weight = 20;
    app.update(Msg::Route(Ok(route), t(82)));
    for i in 83..87 {
        reply(&mut app, "one", i);
    }
    app.update(Msg::Tick(t(88)));
    let screen = draw(&app, 100, 30);
    insta::assert_snapshot!(screen);
    assert!(
        screen.contains("since 1m22s · route edit · n=4"),
        "{screen}"
    );
    assert!(screen.contains("more samples to decide"), "{screen}");
    assert!(screen.contains("split · undecided"), "{screen}");
}

/// The colours of a drawn screen: each foreground colour with the first text drawn in it.
fn colours(app: &App, theme: &Theme) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal.draw(|f| view::render(f, app, theme)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut seen: Vec<(String, String)> = Vec::new();
    for y in 0..buffer.area.height {
        let mut x = 0;
        while x < buffer.area.width {
            let fg = format!("{:?}", buffer[(x, y)].fg);
            let mut text = String::new();
            while x < buffer.area.width && format!("{:?}", buffer[(x, y)].fg) == fg {
                text.push_str(buffer[(x, y)].symbol());
                x += 1;
            }
            let text = text.trim().to_string();
            if !text.is_empty() && !seen.iter().any(|(c, _)| *c == fg) {
                seen.push((fg, text.chars().take(24).collect()));
            }
        }
    }
    seen.iter().map(|(c, t)| format!("{c:<28} {t}\n")).collect()
}

#[test]
fn the_light_theme_draws_in_its_own_colours() {
    let light = Theme::parse_for(splitscope::tui::theme::BUILTIN[1].1, true).unwrap();
    let drawn = colours(&app(), &light);
    insta::assert_snapshot!(drawn);
    // The verdict is drawn in the light theme's honoured green.
    assert!(drawn.contains("Rgb(0, 109, 44)"), "{drawn}");
}

#[test]
fn pictures_hold_the_screens_text_and_the_themes_colours() {
    use splitscope::tui::shot::ShotFormat;
    let app = app();
    let theme = Theme::builtin();
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal.draw(|f| view::render(f, &app, &theme)).unwrap();
    let buffer = terminal.backend().buffer().clone();

    let svg = ShotFormat::Svg.render(&buffer, &theme);
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .collect();
    let all: String = texts
        .iter()
        .filter_map(roxmltree::Node::text)
        .collect::<Vec<_>>()
        .join(" ");
    for words in [
        "splitscope-sandbox",
        "tcp-echo-ew",
        "split · honoured",
        "probe curl-5d8f7c9b6d-x2x7q",
    ] {
        assert!(all.contains(words), "{words:?} not in the SVG's text");
    }
    // The verdict's letters in the theme's honoured green, bold.
    assert!(texts.iter().any(|n| n.attribute("fill") == Some("#0dbc79")
        && n.attribute("font-weight") == Some("bold")
        && n.text().is_some_and(|t| t.contains("█ █ █▀█"))));
    assert!(svg.contains("monospace"));

    let html = ShotFormat::Html.render(&buffer, &theme);
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, options)
        .expect("the HTML is well-formed XHTML");
    let pre = doc.descendants().find(|n| n.has_tag_name("pre")).unwrap();
    let spans = pre.children().filter(|n| n.has_tag_name("span")).count();
    assert!(spans > 50, "{spans} spans");
    let text: String = pre.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("split · honoured"));

    let plain = ShotFormat::Txt.render(&buffer, &theme);
    assert_eq!(plain.lines().count(), 30);
    assert!(plain.contains("route tcp-echo-ew 90/10"));
}
