//! Recordings and replays through the binary: `--record-cast` plays back to the screen
//! that was shown, and `replay` brings a `--record` file or a transcript to the same
//! screen and verdict.

use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{QUICK_DEMO, splitscope, transcript};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("splitscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The split panel's rows of a 100-column screen: the right-hand column, rows 3 to 10.
fn split_panel(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip(3)
        .take(8)
        .map(|l| l.chars().skip(58).collect())
        .collect()
}

/// Plays an asciicast's output events into a terminal emulator; returns its header and
/// the final screen, row by row, trailing spaces trimmed.
fn play_cast(cast: &str) -> (Value, Vec<String>) {
    let mut lines = cast.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let size = |v: &Value| NonZeroU16::new(u16::try_from(v.as_u64().unwrap()).unwrap()).unwrap();
    let mut term = vt100::Parser::new(size(&header["height"]), size(&header["width"]), 0);
    let mut last = 0.0;
    for line in lines {
        let event: Value = serde_json::from_str(line).unwrap();
        let t = event[0].as_f64().unwrap();
        assert!(t >= last, "events go forward in time: {line}");
        last = t;
        let data = event[2].as_str().unwrap();
        match event[1].as_str().unwrap() {
            "o" => term.process(data.as_bytes()),
            "r" => {
                let (w, h) = data.split_once('x').unwrap();
                term.set_size(h.parse().unwrap(), w.parse().unwrap());
            }
            other => panic!("unexpected event kind {other}"),
        }
    }
    let (rows, cols) = term.screen().size();
    let text = term
        .screen()
        .rows(0, cols.get())
        .take(usize::from(rows.get()))
        .map(|r| r.trim_end().to_string())
        .collect();
    (header, text)
}

#[test]
fn a_recorded_show_replays_to_the_screen_and_verdict_it_showed() {
    let dir = scratch("recorded");
    let tape = dir.join("live.tape");
    std::fs::write(
        &tape,
        format!(
            "wait ignored 60s\npress p\nwait honoured 60s\nsleep 3s\npress ?\nsleep 200ms\npress ?\nshot {}/live.txt\nquit\n",
            dir.display()
        ),
    )
    .unwrap();
    let (record, cast) = (dir.join("run.jsonl"), dir.join("run.cast"));
    let (tape, record_arg, cast_arg) = (arg(&tape), arg(&record), arg(&cast));
    let mut args = vec![
        "demo",
        "--tape",
        &tape,
        "--seed",
        "11",
        "--record",
        &record_arg,
    ];
    args.extend(["--record-cast", &cast_arg]);
    args.extend(QUICK_DEMO);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    let live = std::fs::read_to_string(dir.join("live.txt")).unwrap();
    assert!(live.contains("split · honoured"), "{live}");

    // The cast: an asciicast v2 header, and output that draws the screen last shown.
    let (header, played) = play_cast(&std::fs::read_to_string(&cast).unwrap());
    assert_eq!(header["version"], 2);
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(100), Some(30))
    );
    assert!(header["timestamp"].as_i64().unwrap() > 1_700_000_000);
    assert!(header["title"].as_str().unwrap().starts_with("splitscope"));
    let live_rows: Vec<&str> = live.lines().collect();
    assert_eq!(played, live_rows, "the cast replays to the last screen");

    // The record: the route, the patch and the facts as well as every sample.
    let records = std::fs::read_to_string(&record).unwrap();
    for kind in ["route", "patch", "endpoints", "cluster", "sample"] {
        assert!(
            records.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind} record in {records}"
        );
    }

    assert!(records.contains("\"settle\":0.3"), "{records}");

    // The replay comes to the same split, the same odds and the same verdict, its new
    // regime starting where the run's did (the settle comes from the recording).
    let replay_tape = dir.join("replay.tape");
    std::fs::write(
        &replay_tape,
        format!(
            "wait /replay ended/ 30s\nshot {d}/replayed.txt\npress p\nshot {d}/refused.txt\nquit\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let replay_record = dir.join("replayed.jsonl");
    let (code, out, err) = splitscope(
        &[
            "replay",
            &arg(&record),
            "--instant",
            "--tape",
            &arg(&replay_tape),
            "--record",
            &arg(&replay_record),
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the verdict was HONOURED"), "{out}");
    // When the patch landed: in the record, and worked out again the same by the replay.
    let change = |text: &str| -> Value {
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["kind"] == "change")
            .unwrap_or_else(|| panic!("no change record in {text}"))
    };
    let live_change = change(&records);
    assert_eq!(live_change["cause"], "patch on", "{live_change}");
    assert!(live_change["landed_after_s"].is_number(), "{live_change}");
    let replayed_change = change(&std::fs::read_to_string(&replay_record).unwrap());
    for key in ["cause", "landed_after_s", "between_s"] {
        assert_eq!(replayed_change[key], live_change[key], "{key}");
    }
    let replayed = std::fs::read_to_string(dir.join("replayed.txt")).unwrap();
    assert_eq!(split_panel(&replayed), split_panel(&live), "{replayed}");
    assert!(replayed.contains("replay (instant)"), "{replayed}");
    assert!(replayed.contains("patch on since"), "{replayed}");
    let refused = std::fs::read_to_string(dir.join("refused.txt")).unwrap();
    assert!(refused.contains("a replay cannot patch"), "{refused}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Replays `input` (a file, or stdin with `-`) with `flags` and a tape that waits for
/// `wait`; returns the exit code, stdout and stderr, and the screen's text at the end.
fn replay(
    dir: &Path,
    input: &str,
    stdin: Option<&str>,
    flags: &[&str],
    wait: &str,
) -> (i32, String, String) {
    let tape = dir.join("t.tape");
    let shot = dir.join("end.txt");
    let _ = std::fs::remove_file(&shot);
    std::fs::write(&tape, format!("{wait}\nshot {}\nquit\n", shot.display())).unwrap();
    let tape = arg(&tape);
    let mut args = vec!["replay", input, "--tape", &tape];
    args.extend_from_slice(flags);
    let (code, out, err) = splitscope(&args, stdin);
    let screen = std::fs::read_to_string(&shot).unwrap_or_default();
    (code, out + &screen, err)
}

#[test]
fn transcripts_replay_to_the_verdicts_they_hold() {
    let dir = scratch("transcripts");
    // 50/50 against a 90/10 route: the bug.
    let even = transcript(400, |i| if i % 2 == 0 { "one" } else { "two" });
    let (code, out, err) = replay(
        &dir,
        "-",
        Some(&even),
        &["--instant", "--weights", "one=90,two=10"],
        "wait ignored 20s",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("the verdict was IGNORED") && out.contains("split · ignored"),
        "{out}"
    );
    assert!(out.contains("replay (instant) · stdin"), "{out}");

    // 9 in 10 to `one` from a file, judged against the route's manifest.
    let ninety = dir.join("ninety.txt");
    std::fs::write(
        &ninety,
        transcript(400, |i| if i % 10 == 0 { "two" } else { "one" }),
    )
    .unwrap();
    let route = dir.join("route.yaml");
    std::fs::write(
        &route,
        "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata:\n  name: echo\nspec:\n  parentRefs:\n  - {group: \"\", kind: Service, name: tcp-echo, port: 9000}\n  rules:\n  - backendRefs:\n    - {name: tcp-echo-v1, port: 9000, weight: 90}\n    - {name: tcp-echo-v2, port: 9000, weight: 10}\n",
    )
    .unwrap();
    let (code, out, err) = replay(
        &dir,
        &arg(&ninety),
        None,
        &[
            "--instant",
            "--route-file",
            &arg(&route),
            "--label",
            "one=tcp-echo-v1",
            "--label",
            "two=tcp-echo-v2",
        ],
        "wait honoured 20s",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("the verdict was HONOURED") && out.contains("route echo 90/10"),
        "{out}"
    );

    // At the recorded pace, an hour of lines takes an hour: not over in two seconds.
    let hour = dir.join("hour.txt");
    std::fs::write(
        &hour,
        transcript(3600, |i| if i % 2 == 0 { "one" } else { "two" }),
    )
    .unwrap();
    let (code, _, err) = replay(
        &dir,
        &arg(&hour),
        None,
        &["--weights", "one=90,two=10"],
        "wait /replay ended/ 2s",
    );
    assert_ne!(code, 0);
    assert!(err.contains("tape line 1"), "{err}");
    // Ten thousand times as fast, it is.
    let (code, _, err) = replay(
        &dir,
        &arg(&hour),
        None,
        &["--weights", "one=90,two=10", "--speed", "10000"],
        "wait /replay ended/ 20s",
    );
    assert_eq!(code, 0, "{err}");

    // Reply lines say nothing of the route: the weights must come from somewhere.
    let (code, _, err) = replay(&dir, &arg(&ninety), None, &["--instant"], "quit");
    assert_eq!(code, 1);
    assert!(err.contains("--weights one=90,two=10"), "{err}");
    let (code, _, err) = replay(&dir, "-", Some(""), &["--instant"], "quit");
    assert_eq!(code, 1);
    assert!(err.contains("nothing to replay"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
