//! What the tests and benchmarks share: a clock, a route, settings and a ready app.
//! Test crates take it with `mod support;`, the e2e binary and the benchmarks with
//! `#[path]`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use jiff::Timestamp;
use splitscope::route::{Backend, Route};
use splitscope::sample::LineParser;
use splitscope::session::app::{ClusterInfo, WaypointInfo, WaypointRef};
use splitscope::session::{App, Msg, Settings};

/// A fixed clock: `s` seconds after a moment in December 2024.
pub fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_733_536_000 + s).unwrap()
}

/// Istio's tcp-echo route in `namespace`: tcp-echo-v1 and tcp-echo-v2 behind the Service
/// tcp-echo, port 9000.
pub fn route_in(namespace: &str, w1: u32, w2: u32) -> Route {
    let b = |name: &str, weight| Backend {
        name: name.into(),
        namespace: namespace.into(),
        port: 9000,
        weight,
        refused: None,
    };
    Route {
        name: "tcp-echo-ew".into(),
        namespace: namespace.into(),
        parent: "tcp-echo".into(),
        parent_port: Some(9000),
        backends: vec![b("tcp-echo-v1", w1), b("tcp-echo-v2", w2)],
        parent_namespace: namespace.into(),
        rules: 1,
        ..Route::default()
    }
}

/// The same in namespace `ns`.
pub fn route(w1: u32, w2: u32) -> Route {
    route_in("ns", w1, w2)
}

/// The defaults in context `ctx` and namespace `ns`, with no settle: evidence counts at
/// once after a toggle.
pub fn settings() -> Settings {
    Settings {
        settle: std::time::Duration::ZERO,
        ..Settings::new("ctx", "ns")
    }
}

/// An app on `settings` that knows the waypoint (Istio 1.24), `route` and the labels
/// `one` and `two`.
pub fn ready_app(settings: Settings, route: Route) -> App {
    let namespace = route.namespace.clone();
    let mut app = App::new(settings, LineParser::default(), t(0));
    app.update(Msg::Info(ClusterInfo {
        waypoint: WaypointInfo::Named(WaypointRef::of_namespace("waypoint", &namespace)),
        istio: Some("1.24.0".into()),
        ..ClusterInfo::default()
    }));
    app.update(Msg::Route(Ok(route), t(0)));
    app.update(Msg::Labels(
        BTreeMap::from([("one".into(), 0), ("two".into(), 1)]),
        vec![],
    ));
    app
}

/// One reply from `label`, as busybox `date | nc` brings it back at `t(at)`.
pub fn reply_line(label: &str, at: i64) -> String {
    let stamp = t(at)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %b %e %H:%M:%S UTC %Y")
        .to_string();
    format!("{label} {stamp}")
}
