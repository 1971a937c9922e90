//! Random input for every parser that reads what others wrote: reply lines (the general
//! parser, the busybox fast path, `--line-regex`), timestamps, themes, routes, and the
//! sandbox shell's lexer and parser. None may panic; errors are values; the fast path
//! reads what the general parser reads.
//!
//! Each property runs `PROPTEST_CASES` inputs (500 by default: a few thousand in all for
//! `cargo test`). A full run: `PROPTEST_CASES=100000 cargo test --test properties`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use splitscope::route::Route;
use splitscope::sample::{LineParser, busybox_utc, clean, parse_timestamp};
use splitscope::tui::theme::Theme;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(500);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Seconds from 1970 to 2099.
fn any_second() -> impl Strategy<Value = i64> {
    0i64..4_102_444_800
}

fn busybox(prefix: &str, second: i64) -> String {
    let t = jiff::Timestamp::from_second(second).unwrap();
    let date = t
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %b %e %H:%M:%S UTC %Y");
    format!("{prefix} {date}")
}

/// A reply line with some of its bytes changed: near misses of every shape.
fn mangled_reply() -> impl Strategy<Value = Vec<u8>> {
    (
        "[a-z0-9-]{1,10}",
        any_second(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(prefix, second, edits)| {
            let mut line = busybox(&prefix, second).into_bytes();
            for (at, byte) in edits {
                let i = at.index(line.len());
                line[i] = byte;
            }
            line
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9 ./:-]{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("spec".to_string()),
                    Just("rules".to_string()),
                    Just("backendRefs".to_string()),
                    Just("parentRefs".to_string()),
                    Just("metadata".to_string()),
                    Just("name".to_string()),
                    Just("weight".to_string()),
                    Just("port".to_string()),
                    Just("kind".to_string()),
                    Just("namespace".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_reply_line_is_a_value_or_an_error(line in any::<String>()) {
        let _ = LineParser::default().parse(&line);
        let cleaned = clean(&line);
        prop_assert!(!cleaned.contains('\x1b'), "an escape survived: {cleaned:?}");
    }

    #[test]
    fn busybox_replies_read_back_exactly(prefix in "[a-z0-9][a-z0-9-]{0,11}", second in any_second()) {
        let line = busybox(&prefix, second);
        let reply = LineParser::default().parse(&line).unwrap();
        prop_assert_eq!(&reply.label, &prefix);
        prop_assert_eq!(reply.sent_at.map(jiff::Timestamp::as_second), Some(second));
        let (label, fast) = busybox_utc(line.as_bytes()).unwrap();
        prop_assert_eq!(label, prefix.as_bytes());
        prop_assert_eq!(fast, second);
    }

    #[test]
    fn the_fast_path_reads_only_what_the_general_parser_reads(line in mangled_reply()) {
        if let Some((label, second)) = busybox_utc(&line) {
            let text = std::str::from_utf8(&line).expect("the fast path takes ASCII only");
            let reply = LineParser::default().parse(text).unwrap();
            prop_assert_eq!(reply.label.as_bytes(), label);
            prop_assert_eq!(reply.sent_at.map(jiff::Timestamp::as_second), Some(second));
        }
    }

    #[test]
    fn timestamps_of_every_format(text in any::<String>(), second in any_second(), nanos in 0i32..1_000_000_000) {
        let _ = parse_timestamp(&text);
        let t = jiff::Timestamp::new(second, nanos).unwrap();
        prop_assert_eq!(parse_timestamp(&t.to_string()), Some(Some(t)));
        // Epoch seconds of 9 to 11 digits (1973 on), and milliseconds of 13.
        if second >= 100_000_000 {
            prop_assert_eq!(
                parse_timestamp(&second.to_string()).flatten().map(jiff::Timestamp::as_second),
                Some(second)
            );
        }
        if second >= 1_000_000_000_000 / 1000 {
            let ms = second * 1000 + i64::from(nanos / 1_000_000);
            prop_assert_eq!(
                parse_timestamp(&ms.to_string()).flatten().map(jiff::Timestamp::as_millisecond),
                Some(ms)
            );
        }
        let unix = busybox("x", second);
        let date = unix.trim_start_matches("x ");
        prop_assert_eq!(parse_timestamp(date).flatten().map(jiff::Timestamp::as_second), Some(second));
    }

    #[test]
    fn line_regexes_and_what_they_read(pattern in any::<String>(), line in any::<String>(), pick in 0usize..4) {
        // Any pattern is a parser or an error.
        let _ = LineParser::new(Some(&pattern));
        let good = [
            r"^(?P<label>\S+) (?P<ts>.*)$",
            r"backend=(?P<label>\w+)",
            r"^\[(?P<ts>[^\]]*)\] (?P<label>.+)$",
            r"(?P<label>.)",
        ][pick];
        let parser = LineParser::new(Some(good)).unwrap();
        if let Ok(reply) = parser.parse(&line) {
            prop_assert!(!reply.label.is_empty());
        }
    }

    #[test]
    fn themes_parse_or_say_why(text in any::<String>(), colours in proptest::collection::vec("[#a-zA-Z0-9-]{0,9}", 13)) {
        let _ = Theme::parse(&text);
        let keys = ["unmapped", "weight", "honoured", "ignored", "undecided", "error", "unparsable", "note", "accent", "muted", "text", "background"];
        let mut yaml = format!("backends: [\"{}\"]\n", colours[0]);
        for (key, colour) in keys.iter().zip(&colours[1..]) {
            yaml.push_str(&format!("{key}: \"{colour}\"\n"));
        }
        let _ = Theme::parse_for(&yaml, true);
    }

    #[test]
    fn any_object_is_a_route_or_a_reason(obj in json_value()) {
        let _ = Route::from_object(&obj);
        let _ = Route::from_object(&json!({"spec": obj}));
    }

    #[test]
    fn routes_with_any_weights_keep_their_shares(weights in proptest::collection::vec(0u32..1_000_000, 1..6)) {
        let refs: Vec<Value> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| json!({"name": format!("b{i}"), "port": 9000, "weight": w}))
            .collect();
        let obj = json!({
            "apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TCPRoute",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"parentRefs": [{"kind": "Service", "group": "", "name": "svc", "port": 9000}],
                     "rules": [{"backendRefs": refs}]},
        });
        match Route::from_object(&obj) {
            Ok(route) => {
                prop_assert_eq!(route.backends.len(), weights.len());
                let total: f64 = route.backends.iter().map(|b| route.share(b)).sum();
                prop_assert!((total - 1.0).abs() < 1e-9, "shares sum to {total}");
            }
            Err(e) => prop_assert!(weights.iter().all(|w| *w == 0), "{e}"),
        }
    }
}

#[cfg(feature = "sandbox")]
mod shell {
    use proptest::prelude::*;
    use splitscope::sandbox::shell::parse::parse;

    /// Shell-shaped text: words, quotes, operators, expansions and keywords.
    fn script() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z0-9_=./-]{1,6}",
            Just(" ".to_string()),
            Just("\n".to_string()),
            prop::sample::select(vec![
                ";", "|", "||", "&&", "&", "(", ")", "{", "}", "<", ">", ">>", "2>&1", "'", "\"",
                "\\", "$", "$(", "$((", "))", "${", "`", "#", "=", "*", "?", "[", "]", "!", "if",
                "then", "else", "elif", "fi", "while", "until", "do", "done", "for", "in", "case",
                "esac", ";;", "date", "nc", "sleep", "echo", "$?", "$#", "$@",
            ])
            .prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(super::config())]

        #[test]
        fn any_text_is_a_script_or_a_syntax_error(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn shell_shaped_text_is_a_script_or_a_syntax_error(text in script()) {
            if let Err(e) = parse(&text) {
                prop_assert!(!e.is_empty());
            }
        }
    }
}

/// Nesting deeper than any script needs is an error, not a crashed sandbox.
#[cfg(feature = "sandbox")]
#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    use splitscope::sandbox::shell::parse::parse;
    for open in ["(", "if true; then ", "while true; do ", "$(", "$(("] {
        let deep = open.repeat(100_000);
        assert!(parse(&deep).is_err(), "{open}");
    }
    let balanced = format!(
        "{}true{}",
        "if true; then ".repeat(100_000),
        "; fi".repeat(100_000)
    );
    let why = parse(&balanced).unwrap_err();
    assert!(why.contains("nested too deeply"), "{why}");
}
