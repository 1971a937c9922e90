//! The pure `App::update`: messages in, state and effects out; no cluster, no clock.

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

use std::collections::BTreeMap;
use std::time::Duration;

use splitscope::cluster::probe::{ProbeEnd, ProbeEvent, Request};
use splitscope::cluster::{ClusterError, RouteChoice};
use splitscope::route::Route;
use splitscope::sample::LineParser;
use splitscope::session::app::report::PatchLeft;
use splitscope::session::app::{
    App, ClusterInfo, Effect, Key, LineKind, Marker, Msg, PatchOutcome, PatchState, ProbeState,
    Settings, Target, WaypointInfo, WaypointRef,
};
use splitscope::split::Verdict;
use splitscope::verdict::RegimeCause;

mod support;

use support::{route, settings, t};

/// The patch for `route` on the waypoint `waypoint`, at the route's parent port.
fn apply(route: Route) -> Effect {
    Effect::ApplyPatch {
        route,
        waypoint: WaypointRef::of_namespace("waypoint", "ns"),
        port: 9000,
    }
}

/// RBAC's refusal of `verb` on `resource`, as the cluster layer reports it.
fn forbidden(verb: &str, resource: &str) -> ClusterError {
    ClusterError::Forbidden {
        verb: verb.into(),
        resource: resource.into(),
        namespace: "ns".into(),
        hint: String::new(),
        source: None,
    }
}

/// An app that knows the route, the waypoint and the labels `one` and `two`.
fn ready() -> App {
    ready_with(settings())
}

/// `ready`, with other settings.
fn ready_with(settings: Settings) -> App {
    let app = support::ready_app(settings, route(90, 10));
    assert_eq!(
        app.probe_target(),
        Some(&Target {
            host: "tcp-echo".into(),
            port: 9000
        })
    );
    app
}

fn reply(app: &mut App, label: &str, at: i64) {
    app.update(Msg::Probe(
        ProbeEvent::Stdout(format!("{label} Sat Dec  7 01:47:37 UTC 2024")),
        t(at),
    ));
}

#[test]
fn replies_are_counted_per_backend_and_logged() {
    let mut app = ready();
    for i in 0..12 {
        reply(&mut app, if i % 2 == 0 { "one" } else { "two" }, i);
    }
    let shares = app.split().total_shares();
    assert_eq!((shares[0].count, shares[1].count), (6, 6));
    // Half and half against 90/10: 200:1 against the weights after a dozen samples.
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    assert_eq!(app.log().back().unwrap().kind, LineKind::Backend(1));
    assert_eq!(app.needs_patch(), Some(true));
}

#[test]
fn unmapped_unparsable_and_errors_are_counted_not_fatal() {
    let mut app = ready();
    reply(&mut app, "three", 1);
    app.update(Msg::Probe(
        ProbeEvent::Stdout("garbage \x1b[31mline".into()),
        t(2),
    ));
    app.update(Msg::Probe(
        ProbeEvent::Stderr("nc: bad address 'tcp-echo'".into()),
        t(3),
    ));
    app.update(Msg::Probe(ProbeEvent::Stdout("".into()), t(4)));
    assert_eq!(app.split().unmapped(), (1, 1));
    assert_eq!(app.unparsable(), 1);
    assert_eq!(app.errors(), 1);
    let kinds: Vec<LineKind> = app.log().iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        vec![LineKind::Unmapped, LineKind::Unparsable, LineKind::Error]
    );
    assert!(
        !app.log()[1].text.contains('\x1b'),
        "escapes never reach the screen"
    );
}

#[test]
fn manual_labels_win_over_discovered_ones() {
    let mut s = settings();
    s.manual_labels = vec![("one".into(), "tcp-echo-v2".into())];
    let mut app = App::new(s, LineParser::default(), t(0));
    app.update(Msg::Route(Ok(route(90, 10)), t(0)));
    app.update(Msg::Labels(BTreeMap::from([("one".into(), 0)]), vec![]));
    reply(&mut app, "one", 1);
    assert_eq!(app.split().total_shares()[1].count, 1);
}

#[test]
fn the_patch_key_applies_and_removes_and_marks_the_chart() {
    let mut app = ready();
    app.update(Msg::PatchObserved(None));
    assert_eq!(*app.patch(), PatchState::Off);
    let effects = app.update(Msg::Key(Key::Char('p')));
    assert_eq!(effects, vec![apply(route(90, 10))]);
    assert!(matches!(app.patch(), PatchState::Applying(_)));
    // A second press while it is under way does nothing.
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    // A poll during the change does not undo it.
    app.update(Msg::PatchObserved(None));
    assert!(matches!(app.patch(), PatchState::Applying(_)));
    // Applied: the traffic may change any moment now, so the probe bursts.
    assert_eq!(
        app.update(Msg::Patch(PatchOutcome::Applied, t(5))),
        vec![Effect::Burst]
    );
    assert_eq!(*app.patch(), PatchState::On(t(5)));
    assert_eq!(app.markers().back(), Some(&Marker::PatchOn(5.0)));
    assert!(
        app.exit_message()
            .contains("splitscope patch remove -n ns --route tcp-echo-ew")
    );

    assert_eq!(
        app.update(Msg::Key(Key::Char('p'))),
        vec![Effect::RemovePatch {
            route: route(90, 10),
            namespace: "ns".into()
        }]
    );
    app.update(Msg::Patch(PatchOutcome::Removed, t(9)));
    assert_eq!(*app.patch(), PatchState::Off);
    assert_eq!(app.markers().back(), Some(&Marker::PatchOff(9.0)));
    assert_eq!(app.exit_message(), "No splitscope patch is applied.");

    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(
        PatchOutcome::Failed(forbidden("patch", "envoyfilters")),
        t(10),
    ));
    assert!(
        matches!(app.patch(), PatchState::Failed(why) if why.to_string().contains("forbidden"))
    );
    assert_eq!(app.log().back().unwrap().kind, LineKind::Error);
}

#[test]
fn read_only_and_missing_pieces_refuse_to_patch() {
    let mut s = settings();
    s.read_only = true;
    let mut app = App::new(s, LineParser::default(), t(0));
    app.update(Msg::Route(Ok(route(90, 10)), t(0)));
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    assert!(app.notice().unwrap().contains("read-only"));

    let mut app = App::new(settings(), LineParser::default(), t(0));
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    assert!(app.notice().unwrap().contains("no route"));
    app.update(Msg::Route(Ok(route(90, 10)), t(0)));
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    assert!(app.notice().unwrap().contains("not read yet"));
    app.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::NoneServes("no istio.io/use-waypoint label".into()),
        ..ClusterInfo::default()
    }));
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    let notice = app.notice().unwrap();
    assert!(
        notice.contains("no waypoint serves Service tcp-echo")
            && notice.contains("no istio.io/use-waypoint label"),
        "{notice}"
    );
}

#[test]
fn a_route_edit_is_followed_and_an_active_patch_reapplied() {
    let mut app = ready();
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(1)));
    for i in 0..20 {
        reply(&mut app, if i % 2 == 0 { "one" } else { "two" }, 2 + i);
    }
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    let effects = app.update(Msg::Route(Ok(route(50, 50)), t(30)));
    assert_eq!(effects, vec![apply(route(50, 50))]);
    assert_eq!(app.split().expected(), &[0.5, 0.5]);
    // A new regime: 50/50 over one endpoint each is the bug's split, so no verdict can
    // tell the two apart.
    assert_eq!(app.split().regime().cause, RegimeCause::RouteEdit);
    assert_eq!(app.split().verdict(), Verdict::Ambiguous);
    assert_eq!(app.markers().back(), Some(&Marker::Regime(30.0)));
    assert_eq!(app.split().total(), 20, "counts survive a weight change");
    // The same route again changes nothing.
    assert!(app.update(Msg::Route(Ok(route(50, 50)), t(31))).is_empty());
    // A route that disappears is reported, and the last one is kept.
    app.update(Msg::Route(
        Err(ClusterError::Route(RouteChoice::Missing {
            name: "tcp-echo-ew".parse().unwrap(),
            namespace: "ns".into(),
            known: vec![],
        })),
        t(32),
    ));
    assert!(app.route_error().is_some());
    assert!(app.route().is_some());
}

#[test]
fn freeze_reset_window_help_and_quit() {
    let mut app = ready();
    for i in 0..10 {
        reply(&mut app, "one", i);
    }
    app.update(Msg::Key(Key::Space));
    for i in 10..15 {
        reply(&mut app, "two", i);
    }
    assert_eq!(app.shown_split().total(), 10, "the display is frozen");
    assert_eq!(app.split().total(), 15, "counting goes on");
    app.update(Msg::Key(Key::Space));
    assert_eq!(app.shown_split().total(), 15);

    app.update(Msg::Key(Key::Char('+')));
    assert_eq!(app.split().window(), 50);
    app.update(Msg::Key(Key::Char('-')));
    app.update(Msg::Key(Key::Char('-')));
    assert_eq!(app.split().window(), 10);

    app.update(Msg::Key(Key::Char('r')));
    assert_eq!(app.split().total(), 0);
    assert_eq!(app.split().window(), 10);

    app.update(Msg::Key(Key::Char('?')));
    assert!(app.show_help());
    // Any key closes help without acting.
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    assert!(!app.show_help());
    assert_eq!(app.update(Msg::Key(Key::Char('q'))), vec![Effect::Quit]);
    assert_eq!(app.update(Msg::Key(Key::CtrlC)), vec![Effect::Quit]);
}

#[test]
fn probe_gaps_are_marked() {
    let mut app = ready();
    app.update(Msg::Probe(
        ProbeEvent::Started {
            pod: "curl-1".into(),
        },
        t(1),
    ));
    assert!(matches!(app.probe(), ProbeState::Running { pod, .. } if pod == "curl-1"));
    app.update(Msg::Probe(
        ProbeEvent::Ended {
            reason: ProbeEnd::Closed {
                pod: "curl-1".into(),
            },
            retry_in: Duration::from_secs(1),
        },
        t(5),
    ));
    assert!(matches!(app.probe(), ProbeState::Gap { .. }));
    assert_eq!(app.markers().back(), Some(&Marker::Gap(5.0)));
    app.update(Msg::Probe(
        ProbeEvent::Started {
            pod: "curl-2".into(),
        },
        t(7),
    ));
    assert!(app.log().back().unwrap().text.contains("after a 2.0s gap"));
}

#[test]
fn the_patch_seen_in_the_cluster_sets_the_state() {
    let mut app = ready();
    app.update(Msg::PatchObserved(Some(t(-60))));
    assert_eq!(*app.patch(), PatchState::On(t(-60)));
    app.update(Msg::PatchObserved(None));
    assert_eq!(*app.patch(), PatchState::Off);
    assert!(app.notice().unwrap().contains("removed outside"));
}

#[test]
fn the_app_decides_where_the_probe_connects() {
    let curl: splitscope::cluster::discover::ClientSpec = "deploy/curl".parse().unwrap();
    // --target: the probe connects there, asking as the route's kind says (nc for a
    // TCPRoute), so it starts once the route is read, and only once.
    let mut s = settings();
    s.target = Some(Target {
        host: "echo".into(),
        port: 7000,
    });
    let mut app = App::new(s.clone(), LineParser::default(), t(0));
    let start = Effect::StartProbe {
        client: curl.clone(),
        target: Target {
            host: "echo".into(),
            port: 7000,
        },
        request: Request::Line,
    };
    assert!(app.update(Msg::Start(t(0))).is_empty());
    // With it, a burst: the answer is open.
    assert_eq!(
        app.update(Msg::Route(Ok(route(90, 10)), t(1))),
        vec![start, Effect::Burst]
    );
    let effects = app.update(Msg::Route(Ok(route(80, 20)), t(2)));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::StartProbe { .. })),
        "the probe starts once: {effects:?}"
    );
    // With --probe-command nothing waits for the route: it starts at once.
    s.probe.command = Some("grpcurl -plaintext echo:7000 list".into());
    let mut app = App::new(s, LineParser::default(), t(0));
    let effects = app.update(Msg::Start(t(0)));
    assert!(
        matches!(&effects[..], [Effect::StartProbe { request: Request::Command(c), .. }] if c.starts_with("grpcurl")),
        "{effects:?}"
    );

    // A route without a parent port: the Service's port is read first.
    let mut app = App::new(settings(), LineParser::default(), t(0));
    assert!(app.update(Msg::Start(t(0))).is_empty());
    let mut portless = route(90, 10);
    portless.parent_port = None;
    let effects = app.update(Msg::Route(Ok(portless), t(1)));
    assert!(effects.contains(&Effect::ReadServicePort("tcp-echo".into())));
    let effects = app.update(Msg::ServicePort("tcp-echo".into(), Ok(9000)));
    assert!(
        matches!(&effects[..], [Effect::StartProbe { target, .. }, Effect::Burst] if target.port == 9000),
        "{effects:?}"
    );
    assert_eq!(
        app.probe_target()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("tcp-echo:9000")
    );

    // A port that cannot be read says what to pass.
    let mut app = App::new(settings(), LineParser::default(), t(0));
    let mut portless = route(90, 10);
    portless.parent_port = None;
    app.update(Msg::Route(Ok(portless), t(1)));
    let refused = forbidden("get", "services");
    assert!(
        app.update(Msg::ServicePort("tcp-echo".into(), Err(refused)))
            .is_empty()
    );
    let notice = app.notice().unwrap().to_string();
    assert!(
        notice.contains("forbidden") && notice.contains("--target"),
        "{notice}"
    );
}

#[test]
fn an_unreadable_waypoint_is_unknown_not_none() {
    let mut app = App::new(settings(), LineParser::default(), t(0));
    app.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::Unreadable(forbidden("get", "namespaces")),
        istio: None,
        ..ClusterInfo::default()
    }));
    app.update(Msg::Route(Ok(route(90, 10)), t(0)));
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    let notice = app.notice().unwrap().to_string();
    assert!(
        notice.contains("cannot tell which waypoint") && notice.contains("forbidden"),
        "{notice}"
    );
}

#[test]
fn the_run_ends_with_a_typed_report() {
    let mut app = ready();
    reply(&mut app, "one", 1);
    reply(&mut app, "two", 2);
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(3)));
    let report = app.report();
    assert_eq!(
        report.patch,
        PatchLeft::On {
            name: "splitscope-tcp-echo-ew".into(),
            route: "tcp-echo-ew".into()
        }
    );
    assert_eq!((report.samples, report.errors), (2, 0));
    assert_eq!(report.message(), app.exit_message());
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Removed, t(4)));
    assert_eq!(app.report().patch, PatchLeft::Off);
}

#[test]
fn the_sandbox_speaks_through_the_log_not_the_terminal() {
    let mut app = ready();
    app.update(Msg::Sandbox(
        "sandbox: cannot start the echo server for port 9000 of a pod on loopback".into(),
        t(5),
    ));
    let last = app.log().back().unwrap();
    assert_eq!(last.kind, LineKind::Error);
    assert!(last.text.contains("echo server"), "{}", last.text);
}

#[test]
fn regimes_start_on_toggles_resets_and_changes_in_the_stream() {
    let mut app = ready();
    for i in 0..20 {
        reply(&mut app, if i % 2 == 0 { "one" } else { "two" }, i);
    }
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    assert_eq!(app.split().regime().cause, RegimeCause::Start);

    // Someone else patches the mesh: the stream shows it, and a regime starts there.
    for i in 0..80 {
        reply(&mut app, if i % 10 == 9 { "two" } else { "one" }, 20 + i);
        if app.split().regime().cause == RegimeCause::ChangeToRoute {
            break;
        }
    }
    let regime = app.split().regime();
    assert_eq!(regime.cause, RegimeCause::ChangeToRoute);
    assert!((19.0..=30.0).contains(&regime.started), "{regime:?}");
    assert_eq!(app.split().verdict(), Verdict::Honoured);
    assert!(matches!(app.markers().back(), Some(Marker::Regime(_))));
    assert!(
        app.log()
            .iter()
            .any(|l| l.text.contains("turned to the route's weights"))
    );

    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(120)));
    let regime = app.split().regime();
    assert_eq!(
        (regime.cause, regime.started),
        (RegimeCause::PatchOn, 120.0)
    );
    assert_eq!(
        app.split().verdict(),
        Verdict::Undecided,
        "the evidence starts afresh"
    );
    assert!(app.split().total() > 40, "the run's counts go on");

    app.update(Msg::Key(Key::Char('r')));
    assert_eq!(app.split().regime().cause, RegimeCause::Reset);
    assert_eq!(app.split().verdict(), Verdict::Undecided);
}

#[test]
fn the_default_split_follows_the_endpoints() {
    let mut app = ready();
    app.update(Msg::Endpoints(vec![3, 1]));
    assert!((app.split().default_split()[0] - 0.75).abs() < 1e-12);
    // A route of 75/25 is then the bug's own split.
    app.update(Msg::Route(Ok(route(75, 25)), t(1)));
    assert_eq!(app.split().verdict(), Verdict::Ambiguous);
    // And it survives a reset.
    app.update(Msg::Key(Key::Char('r')));
    assert!((app.split().default_split()[0] - 0.75).abs() < 1e-12);
}

#[test]
fn a_toggle_counts_afresh_once_the_push_has_settled() {
    let mut s = settings();
    s.settle = Duration::from_secs(2);
    let mut app = ready_with(s);
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(20)));
    assert_eq!(app.split().regime().cause, RegimeCause::Start);
    assert!(app.log().back().unwrap().text.contains("--settle 2s"));
    // A reply still from before the push reached the waypoint counts in the old regime.
    reply(&mut app, "two", 21);
    assert_eq!(app.split().regime().cause, RegimeCause::Start);
    reply(&mut app, "one", 22);
    let regime = app.split().regime();
    assert_eq!((regime.cause, regime.started), (RegimeCause::PatchOn, 22.0));
    assert_eq!(app.split().regime_len(), 1);
}

#[test]
fn t_and_s_ask_the_screen_and_its_answer_is_the_notice() {
    let mut app = ready();
    assert_eq!(
        app.update(Msg::Key(Key::Char('t'))),
        vec![Effect::NextTheme]
    );
    assert_eq!(app.update(Msg::Key(Key::Char('s'))), vec![Effect::Picture]);
    app.update(Msg::Notice("saved ./splitscope-20261130-065712.svg".into()));
    assert_eq!(app.notice(), Some("saved ./splitscope-20261130-065712.svg"));
    // The notice is for the notice line alone, not the log.
    assert!(app.log().iter().all(|l| !l.text.contains("saved")));
}

#[test]
fn t_cycles_the_themes_and_names_each() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use splitscope::session::Screen;
    use splitscope::tui::display::{Display, Look, Shots};
    let look = |no_color| Look {
        themes: splitscope::tui::theme::Themes::load(None, no_color, false, None).0,
        shots: Shots {
            dir: std::env::temp_dir(),
            formats: vec![],
        },
        cast: None,
    };
    let terminal = || Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut display = Display::new(terminal(), look(false));
    assert_eq!(display.next_theme(), "theme: light");
    let names: Vec<String> = (0..4).map(|_| display.next_theme()).collect();
    assert_eq!(names.last().map(String::as_str), Some("theme: default"));
    // Without colour there is nothing to cycle, and the notice says so.
    let mut plain = Display::new(terminal(), look(true));
    assert!(plain.next_theme().contains("the only one"));
}

#[test]
fn a_recording_run_keeps_samples_and_changes() {
    let mut s = settings();
    s.record = true;
    let mut app = ready_with(s);
    reply(&mut app, "one", 1);
    reply(&mut app, "three", 2);
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(3)));
    let lines: Vec<serde_json::Value> = app
        .take_records()
        .iter()
        .map(|r| serde_json::from_str(&r.json()).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(
        lines[0],
        serde_json::json!({"kind": "cluster", "at": lines[0]["at"], "istio": "1.24.0",
            "waypoint": {"name": "waypoint", "namespace": "ns", "source": "namespace"}})
    );
    let lines = &lines[1..];
    assert_eq!(lines[0]["kind"], "route");
    assert_eq!(
        lines[0]["weights"][0],
        serde_json::json!(["tcp-echo-v1", 90])
    );
    assert_eq!(lines[1]["kind"], "sample");
    assert_eq!(lines[1]["prefix"], "one");
    assert_eq!(lines[1]["backend"], "tcp-echo-v1");
    assert!(
        lines[1]["line"]
            .as_str()
            .unwrap()
            .starts_with("one Sat Dec  7")
    );
    assert_eq!(lines[2]["backend"], serde_json::Value::Null);
    // A toggle of ours carries the settle it waits for, so a replay starts the regime
    // where this run did.
    assert_eq!(
        lines[3],
        serde_json::json!({"kind": "patch", "at": lines[3]["at"], "on": true, "settle": 0.0})
    );
    // Removed by someone else, it is marked as seen and carries none; endpoints are kept
    // as they change, not as they are read.
    app.update(Msg::PatchObserved(None));
    app.update(Msg::Endpoints(vec![3, 1]));
    app.update(Msg::Endpoints(vec![3, 1]));
    let more: Vec<serde_json::Value> = app
        .take_records()
        .iter()
        .map(|r| serde_json::from_str(&r.json()).unwrap())
        .collect();
    assert_eq!(more.len(), 4, "{more:?}");
    assert_eq!(
        more[0],
        serde_json::json!({"kind": "patch", "at": more[0]["at"], "on": false, "observed": true})
    );
    // Every change has its end in the record: the patch going on had not shown when it
    // came off, and its coming off cannot show: the regime since it went on has no
    // sample, so the split before and after are both the mesh's default.
    assert_eq!(
        (&more[1]["cause"], &more[1]["outcome"]),
        (
            &serde_json::json!("patch on"),
            &serde_json::json!("superseded")
        )
    );
    assert_eq!(
        (&more[2]["cause"], &more[2]["outcome"]),
        (
            &serde_json::json!("patch off"),
            &serde_json::json!("invisible")
        )
    );
    let more = &more[2..];
    assert_eq!(
        more[1]["ready"],
        serde_json::json!([["tcp-echo-v1", 3], ["tcp-echo-v2", 1]])
    );
    assert!(app.take_records().is_empty());
}

#[test]
fn a_wish_for_the_patch_waits_for_the_waypoint_then_asks_or_says_why_not() {
    // Asked before anything is known: nothing yet.
    let mut app = App::new(settings(), LineParser::default(), t(0));
    assert!(app.update(Msg::WantPatch).is_empty());
    app.update(Msg::PatchObserved(None));
    assert!(
        !app.update(Msg::Route(Ok(route(90, 10)), t(1)))
            .contains(&apply(route(90, 10)))
    );
    // The waypoint arrives, then the traffic is seen for a moment (the split the patch
    // changes from): the patch is asked for.
    let effects = app.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::Named(WaypointRef::of_namespace("waypoint", "ns")),
        istio: Some("1.24.0".into()),
        ..ClusterInfo::default()
    }));
    assert!(!effects.contains(&apply(route(90, 10))));
    app.update(Msg::Labels(
        BTreeMap::from([("one".into(), 0), ("two".into(), 1)]),
        vec![],
    ));
    for i in 0..9 {
        reply(&mut app, pattern(i, 5), 2 + i);
        assert!(app.patch() == &PatchState::Off, "not before ten samples");
    }
    let effects = app.update(Msg::Probe(
        ProbeEvent::Stdout("one Sat Dec  7 01:47:37 UTC 2024".into()),
        t(12),
    ));
    assert!(effects.contains(&apply(route(90, 10))), "{effects:?}");
    assert!(app.patch_refused().is_none());
    // With no waypoint serving the Service, the wish is refused, with the reason.
    let mut none = App::new(settings(), LineParser::default(), t(0));
    none.update(Msg::WantPatch);
    none.update(Msg::PatchObserved(None));
    none.update(Msg::Route(Ok(route(90, 10)), t(1)));
    none.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::NoneServes("waypoint ns/waypoint has no address yet".into()),
        ..ClusterInfo::default()
    }));
    assert!(
        none.patch_refused()
            .is_some_and(|why| why.contains("no address yet")),
        "{:?}",
        none.patch_refused()
    );
    // Ours already on: the evidence counts from now, as a patch-on regime.
    let mut on = ready();
    on.update(Msg::PatchObserved(Some(t(0))));
    on.update(Msg::Tick(t(5)));
    // A new regime opens an answer: the probe bursts.
    assert_eq!(on.update(Msg::WantPatch), vec![Effect::Burst]);
    assert_eq!(on.split().regime().cause, RegimeCause::PatchOn);
}

#[test]
fn the_route_list_opens_chooses_and_goes_back() {
    use splitscope::route_list::rows;
    let mut app = App::new(settings(), LineParser::default(), t(0));
    let tcp = serde_json::json!({"kind": "TCPRoute", "metadata": {"name": "a", "namespace": "ns"},
        "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "s", "port": 1}],
                 "rules": [{"backendRefs": [{"name": "x", "port": 1, "weight": 3}, {"name": "y", "port": 1}]}]}});
    let http = serde_json::json!({"kind": "HTTPRoute", "metadata": {"name": "b", "namespace": "ns"},
        "spec": {"parentRefs": [{"name": "gw"}],
                 "rules": [{"backendRefs": [{"name": "x", "port": 1}]}, {"backendRefs": [{"name": "y", "port": 1}]}]}});
    let listed = rows(&[
        (splitscope::route::RouteKind::Tcp, tcp),
        (splitscope::route::RouteKind::Http, http),
    ]);
    assert_eq!(listed.len(), 3);
    app.update(Msg::Routes(listed.clone()));
    assert_eq!(app.choosing().map(|l| l.selected), Some(0));
    // Keys that act on a route say there is none yet.
    assert!(app.update(Msg::Key(Key::Char('p'))).is_empty());
    assert!(app.notice().unwrap().contains("choose a route first"));
    app.update(Msg::Key(Key::Down));
    app.update(Msg::Key(Key::Down));
    app.update(Msg::Key(Key::Down));
    assert_eq!(app.choosing().map(|l| l.selected), Some(2), "the list ends");
    let effects = app.update(Msg::Key(Key::Enter));
    let [Effect::Follow(query)] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(query.name.as_ref().unwrap().to_string(), "httproute/b");
    assert_eq!(query.pick.rule, Some(2));
    assert!(app.choosing().is_none());
    // A list read before the choice reached the cluster does not take it back.
    app.update(Msg::Routes(listed));
    assert!(app.choosing().is_none());
    app.update(Msg::Route(Ok(route(90, 10)), t(1)));
    assert!(app.route().is_some());
    let effects = app.update(Msg::Key(Key::Esc));
    assert!(effects.contains(&Effect::StopProbe), "{effects:?}");
    assert!(matches!(effects.last(), Some(Effect::Follow(q)) if q.name.is_none()));
    assert!(app.route().is_none());
    assert_eq!(app.choosing().map(|l| l.selected), Some(2));
}

#[test]
fn a_route_edit_that_changes_the_path_starts_the_probe_again() {
    let http = |path: &str, w1: u32| {
        let obj = serde_json::json!({"kind": "HTTPRoute", "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "web", "port": 80}],
                     "rules": [{"matches": [{"path": {"type": "Exact", "value": path}}],
                                "backendRefs": [{"name": "a", "port": 80, "weight": w1}, {"name": "b", "port": 80, "weight": 10}]}]}});
        Route::from_object(&obj).unwrap()
    };
    let path_of = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::StartProbe {
                request: Request::Http(h),
                ..
            } => Some(h.path.clone()),
            _ => None,
        })
    };
    let mut app = App::new(settings(), LineParser::default(), t(0));
    let effects = app.update(Msg::Route(Ok(http("/v1", 90)), t(1)));
    assert_eq!(path_of(&effects).as_deref(), Some("/v1"));
    // New weights alone: the probe asks as before.
    let effects = app.update(Msg::Route(Ok(http("/v1", 70)), t(2)));
    assert!(!effects.contains(&Effect::StopProbe), "{effects:?}");
    // Another path: the probe stops and starts again, asking there.
    let effects = app.update(Msg::Route(Ok(http("/v2", 70)), t(3)));
    assert_eq!(effects.first(), Some(&Effect::StopProbe), "{effects:?}");
    assert_eq!(path_of(&effects).as_deref(), Some("/v2"));
}

/// Ten replies a cycle: `ones` of them from `one`, the rest from `two`.
fn pattern(i: i64, ones: i64) -> &'static str {
    if i.rem_euclid(10) < ones {
        "one"
    } else {
        "two"
    }
}

#[test]
fn a_toggle_counts_afresh_where_the_traffic_shows_it() {
    let mut s = settings();
    s.settle = Duration::from_secs(600);
    let mut app = ready_with(s);
    for i in 0..30 {
        reply(&mut app, pattern(i, 5), i);
    }
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(40)));
    // The push reaches the waypoint at 50: until then the traffic is the bug's.
    for i in 41..50 {
        reply(&mut app, pattern(i, 5), i);
        assert_eq!(app.split().regime().cause, RegimeCause::Start);
    }
    for i in 50..120 {
        reply(&mut app, pattern(i, 9), i);
    }
    let change = &app.changes()[0];
    assert_eq!(change.cause, RegimeCause::PatchOn);
    let (after, [low, high]) = change.landed_after().expect("landed");
    assert!(low <= 10.0 && 10.0 <= high, "{low}-{high}");
    assert!((after - 10.0).abs() <= 3.0, "{after}");
    // The evidence counts from the sample after the one that showed the landing (those
    // that showed it favour the new split by their choosing), long before the settle's
    // limit.
    let regime = app.split().regime();
    assert_eq!(regime.cause, RegimeCause::PatchOn);
    assert!(regime.started > 40.0 + high, "{regime:?}");
    assert!((50.0..=85.0).contains(&regime.started), "{regime:?}");
    assert_eq!(app.split().verdict(), Verdict::Honoured);
    assert!(
        app.log()
            .iter()
            .any(|l| l.text.starts_with("patch on took effect after")),
        "{:?}",
        app.log()
    );
}

/// Istio 1.26 (the waypoint honours the route itself), at a sample a second: a change
/// takes a while to show at this pace, so no lag timeout or settle cuts in.
fn honouring() -> App {
    let mut s = settings();
    s.lag_timeout = Duration::from_secs(600);
    s.settle = Duration::from_secs(600);
    let mut app = ready_with(s);
    app.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::Named(WaypointRef::of_namespace("waypoint", "ns")),
        istio: Some("1.26.0".into()),
        ..ClusterInfo::default()
    }));
    app
}

#[test]
fn a_route_edit_is_judged_from_where_it_lands() {
    let mut app = honouring();
    for i in 0..40 {
        reply(&mut app, pattern(i, 9), i);
    }
    assert_eq!(app.split().verdict(), Verdict::Honoured);
    app.update(Msg::Route(Ok(route(70, 30)), t(40)));
    // Until the edit reaches the traffic, the old weights hold: the samples from before
    // it lands count against nothing new.
    for i in 41..60 {
        reply(&mut app, pattern(i, 9), i);
        assert_ne!(app.split().verdict(), Verdict::Ignored, "at {i}");
    }
    for i in 60..300 {
        reply(&mut app, pattern(i, 7), i);
        assert_ne!(app.split().verdict(), Verdict::Ignored, "at {i}");
    }
    let change = &app.changes()[0];
    assert_eq!(change.cause, RegimeCause::RouteEdit);
    let (_, [low, high]) = change.landed_after().expect("landed");
    assert!(low <= 20.0 && 20.0 <= high, "{low}-{high}");
    let regime = app.split().regime();
    assert_eq!(regime.cause, RegimeCause::RouteEdit);
    assert!(regime.started >= 55.0, "{regime:?}");
    assert!((app.split().expected()[0] - 0.7).abs() < 1e-9);
    assert_eq!(app.split().verdict(), Verdict::Honoured);
}

#[test]
fn a_change_the_traffic_never_shows_is_said_after_the_lag_timeout() {
    let mut s = settings();
    s.settle = Duration::from_secs(5);
    s.lag_timeout = Duration::from_secs(30);
    let mut app = ready_with(s);
    for i in 0..20 {
        reply(&mut app, pattern(i, 5), i);
    }
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(20)));
    // The patch does nothing: the bug's split goes on.
    for i in 21..45 {
        reply(&mut app, pattern(i, 5), i);
    }
    // The settle's limit started the regime, and it reads the bug.
    assert_eq!(app.split().regime().cause, RegimeCause::PatchOn);
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    assert_eq!(
        app.changes()[0].landed,
        splitscope::session::app::Landed::Open
    );
    app.update(Msg::Tick(t(51)));
    assert!(matches!(
        app.changes()[0].landed,
        splitscope::session::app::Landed::NotSeen { .. }
    ));
    assert_eq!(
        app.log().back().unwrap().text,
        "patch on: not seen in the traffic after 30 s"
    );
}

#[test]
fn a_patch_put_on_outside_splitscope_is_a_change_too() {
    let mut s = settings();
    s.settle = Duration::from_secs(600);
    let mut app = ready_with(s);
    app.update(Msg::PatchObserved(None));
    for i in 0..30 {
        reply(&mut app, pattern(i, 5), i);
    }
    app.update(Msg::Tick(t(30)));
    app.update(Msg::PatchObserved(Some(t(30))));
    assert_eq!(app.changes().len(), 1);
    assert_eq!(app.changes()[0].cause, RegimeCause::PatchOn);
    for i in 31..40 {
        reply(&mut app, pattern(i, 5), i);
    }
    for i in 40..120 {
        reply(&mut app, pattern(i, 9), i);
    }
    let (_, [low, high]) = app.changes()[0].landed_after().expect("landed");
    assert!(low <= 10.0 && 10.0 <= high, "{low}-{high}");
    assert_eq!(app.split().verdict(), Verdict::Honoured);
}

#[test]
fn a_change_that_lands_after_the_settle_starts_its_regime_again_where_it_showed() {
    let mut s = settings();
    s.settle = Duration::from_secs(5);
    let mut app = ready_with(s);
    for i in 0..20 {
        reply(&mut app, pattern(i, 5), i);
    }
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(20)));
    // The push is slow: the settle's limit starts the regime on the bug's split.
    for i in 21..40 {
        reply(&mut app, pattern(i, 5), i);
    }
    assert_eq!(app.split().regime().cause, RegimeCause::PatchOn);
    assert_eq!(app.split().verdict(), Verdict::Ignored);
    // It lands at 40: seen, the regime counts again from after it showed.
    for i in 40..140 {
        reply(&mut app, pattern(i, 9), i);
    }
    assert!(app.changes()[0].landed_after().is_some());
    // From where it showed: by the landing, or by the stream's own turn if that came first.
    assert!(
        app.split().regime().started >= 40.0,
        "{:?}",
        app.split().regime()
    );
    assert_eq!(app.split().verdict(), Verdict::Honoured);
}

#[test]
fn a_route_edit_with_the_patch_on_is_one_change() {
    let mut app = ready();
    app.update(Msg::Key(Key::Char('p')));
    app.update(Msg::Patch(PatchOutcome::Applied, t(1)));
    for i in 2..60 {
        reply(&mut app, pattern(i, 9), i);
    }
    let before = app.changes().len();
    let effects = app.update(Msg::Route(Ok(route(70, 30)), t(60)));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ApplyPatch { .. })),
        "{effects:?}"
    );
    app.update(Msg::Patch(PatchOutcome::Applied, t(60)));
    assert_eq!(app.changes().len(), before + 1);
    assert_eq!(app.changes().back().unwrap().cause, RegimeCause::RouteEdit);
}

/// The Rollout behind the route, whose canary is tcp-echo-v2: setWeight 10, a minute's
/// pause, 30, a pause until promoted, 50; at step `index`, the canary's weight `weight`.
fn web(index: usize, weight: u32) -> splitscope::rollout::Rollout {
    use splitscope::rollout::{Controller, Rollout, Step};
    Rollout {
        controller: Controller::Argo,
        name: "web".into(),
        namespace: "ns".into(),
        steps: vec![
            Step::SetWeight(10),
            Step::Pause(Some(Duration::from_secs(60))),
            Step::SetWeight(30),
            Step::Pause(None),
            Step::SetWeight(50),
        ],
        step_index: Some(index),
        phase: "Paused".into(),
        paused: true,
        weight: Some(weight),
        canary_service: "tcp-echo-v2".into(),
        stable_service: "tcp-echo-v1".into(),
        end: None,
    }
}

/// Istio 1.26 (the route honoured) and `web` at its second step: setWeight 10 in
/// place, pausing.
fn rolling() -> App {
    let mut app = honouring();
    app.update(Msg::Rollout {
        rollout: Some(web(1, 10)),
        refused: vec![],
        at: t(0),
    });
    app
}

#[test]
fn each_step_of_a_rollout_is_judged_from_its_own_landing() {
    let mut app = rolling();
    let first = &app.steps()[0];
    assert_eq!((first.index, first.weight, first.landed), (0, 10, None));
    for i in 0..40 {
        reply(&mut app, pattern(i, 9), i);
    }
    assert_eq!(app.steps()[0].decided(), Some(Verdict::Honoured));
    // The plugin's edit for step 3: the old split holds until the push lands at 50.
    app.update(Msg::Route(Ok(route(70, 30)), t(40)));
    assert_eq!(app.steps().len(), 2);
    let second = &app.steps()[1];
    assert_eq!((second.index, second.weight), (2, 30));
    assert_eq!(second.landed, Some(splitscope::session::app::Landed::Open));
    for i in 41..50 {
        reply(&mut app, pattern(i, 9), i);
        assert_eq!(
            app.steps()[1].judged,
            None,
            "nothing judged before it lands"
        );
    }
    for i in 50..250 {
        reply(&mut app, pattern(i, 7), i);
    }
    let second = &app.steps()[1];
    let Some(splitscope::session::app::Landed::At { low, high, .. }) = second.landed else {
        panic!("landed: {second:?}");
    };
    assert!(low <= 50.0 && 50.0 <= high, "{low}-{high}");
    assert_eq!(second.decided(), Some(Verdict::Honoured));
    let canary = second.judged.as_ref().unwrap().shares[1];
    assert!(canary.interval.unwrap().contains(0.3), "{canary:?}");
    // A hand edit no step explains ends the step; it keeps its verdict.
    app.update(Msg::Route(Ok(route(60, 40)), t(250)));
    assert_eq!(app.steps().len(), 2);
    for i in 251..260 {
        reply(&mut app, pattern(i, 6), i);
    }
    let second = &app.steps()[1];
    assert!(second.closed && !second.cut_short, "{second:?}");
    assert_eq!(second.decided(), Some(Verdict::Honoured));
}

#[test]
fn the_streams_own_turn_before_an_edit_is_seen_does_not_judge_the_step_before() {
    let mut app = rolling();
    for i in 0..40 {
        reply(&mut app, pattern(i, 9), i);
    }
    assert_eq!(app.steps()[0].decided(), Some(Verdict::Honoured));
    // The traffic turns before the edit's watch event arrives: the turn belongs to the
    // step that is coming, not to the one in place.
    for i in 40..80 {
        reply(&mut app, pattern(i, 5), i);
    }
    assert_ne!(
        app.split().regime().cause,
        RegimeCause::Start,
        "the stream turned"
    );
    assert_eq!(app.steps()[0].decided(), Some(Verdict::Honoured));
}

#[test]
fn a_step_not_decided_before_the_next_is_cut_short() {
    let mut app = rolling();
    for i in 0..2 {
        reply(&mut app, pattern(i, 9), i);
    }
    app.update(Msg::Route(Ok(route(70, 30)), t(3)));
    let first = &app.steps()[0];
    assert!(first.cut_short && first.decided().is_none(), "{first:?}");
    assert!(
        app.log()
            .iter()
            .any(|l| l.text
                == "step 1 of 5 (setWeight 10) was not decided before the next step came"),
        "{:?}",
        app.log()
    );
    // Without a rollout, o says why there are no steps.
    let mut plain = ready();
    plain.update(Msg::Key(Key::Char('o')));
    assert!(!plain.show_steps());
    assert!(
        plain
            .notice()
            .unwrap()
            .contains("no Argo Rollout or Flagger Canary")
    );
    app.update(Msg::Key(Key::Char('o')));
    assert!(app.show_steps());
    app.update(Msg::Key(Key::Esc));
    assert!(!app.show_steps());
}

/// The Rollout of `rolling`, moved on: at `index`, the canary's weight in its status,
/// completed when `done`.
fn moved(app: &mut App, index: usize, weight: u32, done: bool, at: i64) {
    let mut rollout = app.rollout().unwrap().clone();
    rollout.step_index = Some(index);
    rollout.weight = Some(weight);
    rollout.paused = false;
    if done {
        rollout.end = Some(splitscope::rollout::End::Completed);
        rollout.phase = "Healthy".into();
    }
    app.update(Msg::Rollout {
        rollout: Some(rollout),
        refused: vec![],
        at: t(at),
    });
}

#[test]
fn an_edit_to_a_weight_no_step_ahead_sets_is_no_step() {
    let mut app = rolling();
    app.update(Msg::Route(Ok(route(70, 30)), t(1)));
    assert_eq!(app.steps().len(), 2);
    // Back to 10 by hand: step 1 set 10, but it is behind; no row, the step is closed.
    app.update(Msg::Route(Ok(route(90, 10)), t(2)));
    reply(&mut app, pattern(3, 9), 3);
    assert_eq!(app.steps().len(), 2, "{:?}", app.steps());
    assert!(app.steps()[1].closed);
    // The rollout completes; the step the hand edit cut short stays so (steps were to
    // come after it); a new revision begins again from its first step.
    moved(&mut app, 5, 0, true, 4);
    assert!(app.steps()[1].cut_short && !app.steps()[1].promoted);
    app.update(Msg::Route(Ok(route(100, 0)), t(5)));
    let mut again = app.rollout().unwrap().clone();
    again.end = None;
    again.step_index = Some(0);
    app.update(Msg::Rollout {
        rollout: Some(again),
        refused: vec![],
        at: t(6),
    });
    app.update(Msg::Route(Ok(route(90, 10)), t(7)));
    let last = app.steps().back().unwrap();
    assert_eq!((app.steps().len(), last.index, last.weight), (3, 0, 10));
}

#[test]
fn a_last_step_the_rollout_completed_before_it_was_decided_is_promoted_not_cut_short() {
    let mut app = rolling();
    for i in 0..40 {
        reply(&mut app, pattern(i, 9), i);
    }
    // The last step, setWeight 50, then Argo's return to the stable Service at once.
    app.update(Msg::Route(Ok(route(50, 50)), t(40)));
    moved(&mut app, 5, 50, false, 40);
    assert_eq!(app.steps().back().unwrap().index, 4);
    app.update(Msg::Route(Ok(route(100, 0)), t(41)));
    reply(&mut app, pattern(42, 9), 42);
    moved(&mut app, 5, 0, true, 43);
    let last = app.steps().back().unwrap();
    assert_eq!(app.steps().len(), 2, "the return to stable is no step");
    assert!(last.promoted && !last.cut_short && last.closed, "{last:?}");
    // Read in the other order (the status first), the same.
    let mut app = rolling();
    app.update(Msg::Route(Ok(route(50, 50)), t(40)));
    moved(&mut app, 5, 0, true, 41);
    app.update(Msg::Route(Ok(route(100, 0)), t(41)));
    reply(&mut app, pattern(42, 9), 42);
    let last = app.steps().back().unwrap();
    assert!(last.promoted && !last.cut_short, "{last:?}");
    // An abort's return to 0 after the last step is no promotion: cut short.
    let mut app = rolling();
    app.update(Msg::Route(Ok(route(50, 50)), t(40)));
    moved(&mut app, 5, 50, false, 40);
    app.update(Msg::Route(Ok(route(100, 0)), t(41)));
    reply(&mut app, pattern(42, 9), 42);
    let mut aborted = app.rollout().unwrap().clone();
    aborted.end = Some(splitscope::rollout::End::Aborted);
    app.update(Msg::Rollout {
        rollout: Some(aborted),
        refused: vec![],
        at: t(43),
    });
    let last = app.steps().back().unwrap();
    assert!(last.cut_short && !last.promoted, "{last:?}");
}

#[test]
fn a_step_written_before_the_rollout_was_read_is_judged_from_its_landing() {
    let mut app = honouring();
    for i in 0..20 {
        reply(&mut app, pattern(i, 9), i);
    }
    // The plugin's edit for step 3 comes before the Rollout is first read.
    app.update(Msg::Route(Ok(route(70, 30)), t(20)));
    app.update(Msg::Rollout {
        rollout: Some(web(2, 30)),
        refused: vec![],
        at: t(21),
    });
    assert_eq!(app.steps().len(), 1);
    assert_eq!(app.steps()[0].index, 2);
    for i in 25..250 {
        reply(&mut app, pattern(i, 7), i);
    }
    let step = &app.steps()[0];
    assert!(
        matches!(
            step.landed,
            Some(splitscope::session::app::Landed::At { .. })
        ),
        "{step:?}"
    );
    assert_eq!(step.decided(), Some(Verdict::Honoured), "{step:?}");
}
