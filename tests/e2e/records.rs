//! Records that lose nothing: `--record` and `--record-cast` reach the disk as the run
//! goes, so `tail -f` follows them and a `kill -9` loses no more than the last moment.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;

use crate::common::QUICK_DEMO;

/// The sample records in `text`, by the time each arrived.
fn sample_times(text: &str) -> Vec<Timestamp> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["kind"] == "sample")
        .map(|r| r["at"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The output events of an asciicast, by their time.
fn cast_times(text: &str) -> Vec<f64> {
    text.lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| e[0].as_f64().unwrap())
        .collect()
}

fn seconds_since(at: Timestamp) -> f64 {
    (Timestamp::now().as_millisecond() - at.as_millisecond()) as f64 / 1000.0
}

#[test]
fn records_reach_the_disk_as_the_run_goes_and_a_kill_loses_at_most_a_moment() {
    let dir = std::env::temp_dir().join(format!("splitscope-records-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, record, cast) = (dir.join("t.tape"), dir.join("r.jsonl"), dir.join("r.cast"));
    std::fs::write(&tape, "wait ignored 60s\nsleep 120s\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .arg("demo")
        .args(QUICK_DEMO)
        .arg("--tape")
        .arg(&tape)
        .arg("--record")
        .arg(&record)
        .arg("--record-cast")
        .arg(&cast)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    while sample_times(&read(&record)).len() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no samples recorded"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    // While it runs: how far behind the file is, read as `tail -f` would.
    let mut behind: Vec<f64> = Vec::new();
    let mut frames = Vec::new();
    for _ in 0..15 {
        std::thread::sleep(Duration::from_millis(200));
        let last = *sample_times(&read(&record)).last().unwrap();
        behind.push(seconds_since(last));
        frames.push(cast_times(&read(&cast)).len());
    }
    behind.sort_by(f64::total_cmp);
    eprintln!("the record file behind the run, seconds: {behind:.3?}");
    assert!(behind[behind.len() - 1] < 1.0, "{behind:?}");
    assert!(
        frames.windows(5).all(|w| w[4] > w[0]),
        "the cast grows: {frames:?}"
    );
    // kill -9: no exit path runs, yet the files hold the run up to the last moment.
    child.kill().unwrap();
    let killed = Timestamp::now();
    let killed_after = started.elapsed().as_secs_f64();
    child.wait().unwrap();
    let records = read(&record);
    for line in records.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let last = *sample_times(&records).last().unwrap();
    let lost = (killed.as_millisecond() - last.as_millisecond()) as f64 / 1000.0;
    let cast_text = read(&cast);
    let last_frame = *cast_times(&cast_text).last().unwrap();
    eprintln!(
        "after kill -9: the last sample {lost:.3}s before the kill, the last frame at {last_frame:.2}s of {killed_after:.2}s"
    );
    assert!(lost < 1.0, "{lost}");
    assert!(
        killed_after - last_frame < 1.5,
        "{last_frame} of {killed_after}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// While the answer is open the probe bursts: the first samples of a demo come about
/// 20 a second (as the record's times say), not at the demo's steady 0.5 s.
#[test]
fn the_probe_bursts_while_the_answer_is_open() {
    let dir = std::env::temp_dir().join(format!("splitscope-burst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, record) = (dir.join("t.tape"), dir.join("run.jsonl"));
    std::fs::write(&tape, "wait /n=1[0-9]/ 30s\nquit\n").unwrap();
    let (tape_arg, record_arg) = (
        tape.to_string_lossy().into_owned(),
        record.to_string_lossy().into_owned(),
    );
    let (code, out, err) = crate::common::splitscope(
        &["demo", "--tape", &tape_arg, "--record", &record_arg],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let times: Vec<jiff::Timestamp> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["kind"] == "sample")
        .filter_map(|r| r["at"].as_str()?.parse().ok())
        .collect();
    assert!(times.len() >= 10, "{} samples", times.len());
    // The first few, before any verdict (the bug needs about five at least): a burst's
    // pace. The burst stops once the verdict comes.
    // Three short gaps among the first eight: the steady pace alone has none.
    let gaps: Vec<f64> = times
        .windows(2)
        .take(8)
        .map(|w| (w[1].as_millisecond() - w[0].as_millisecond()) as f64 / 1000.0)
        .collect();
    let short = gaps.iter().filter(|g| **g < 0.2).count();
    assert!(
        short >= 3,
        "gaps {gaps:?} s are the steady pace, not a burst"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM and SIGHUP end a run as `q` does: the record holds every sample up to the
/// signal and the cast its closing event (style reset, cursor shown).
#[test]
fn a_signal_leaves_whole_records() {
    for signal in ["TERM", "HUP"] {
        let dir =
            std::env::temp_dir().join(format!("splitscope-signal-{signal}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (tape, record, cast) = (dir.join("t.tape"), dir.join("r.jsonl"), dir.join("r.cast"));
        std::fs::write(&tape, "wait ignored 60s\nsleep 120s\n").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
            .arg("demo")
            .args(QUICK_DEMO)
            .arg("--tape")
            .arg(&tape)
            .arg("--record")
            .arg(&record)
            .arg("--record-cast")
            .arg(&cast)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
        while sample_times(&read(&record)).len() < 10 {
            assert!(started.elapsed() < Duration::from_secs(60), "no samples");
            std::thread::sleep(Duration::from_millis(50));
        }
        let sent = Timestamp::now();
        let killed = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(!status.success(), "SIG{signal} ends with 128+n");
        let records = read(&record);
        for line in records.lines() {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
        let last = *sample_times(&records).last().unwrap();
        let before = (sent.as_millisecond() - last.as_millisecond()) as f64 / 1000.0;
        assert!(
            before < 1.0,
            "SIG{signal}: the last sample {before}s before it"
        );
        let cast_text = read(&cast);
        let closing = cast_text.lines().last().unwrap();
        let event: Value = serde_json::from_str(closing).unwrap();
        assert!(
            event[2].as_str().unwrap().contains("\u{1b}[?25h"),
            "SIG{signal}: the cast ends by showing the cursor: {closing}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `check --record`: every sample the verdict counted is in the file when check ends.
#[test]
fn check_records_every_sample_it_judged() {
    let server = crate::common::serve::serve(&[]);
    let record = server.kubeconfig.with_file_name("check.jsonl");
    let (kc, rec) = (
        server.kubeconfig.to_string_lossy().into_owned(),
        record.to_string_lossy().into_owned(),
    );
    let (code, out, err) = crate::common::splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--record",
            &rec,
            "--output",
            "json",
        ],
        None,
    );
    assert_eq!(code, 1, "the bug: {out}{err}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    let recorded = sample_times(&std::fs::read_to_string(&record).unwrap()).len();
    let judged = report["samples"].as_u64().unwrap();
    assert!(judged > 0, "{report}");
    assert!(
        recorded as u64 >= judged,
        "{recorded} recorded, {judged} judged"
    );
}

/// A change the traffic has not shown by the end of the run is in the record too, as
/// waiting: the record holds every change made.
#[test]
fn a_change_still_waiting_at_the_end_is_recorded() {
    let dir = std::env::temp_dir().join(format!("splitscope-waiting-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, record) = (dir.join("t.tape"), dir.join("r.jsonl"));
    std::fs::write(&tape, "wait ignored 60s\npress p\nsleep 1s\nquit\n").unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let record_arg = record.to_string_lossy().into_owned();
    // Pushes take half a minute: the patch cannot show before the quit.
    let (code, out, err) = crate::common::splitscope(
        &[
            "demo",
            "--propagation-delay",
            "30s",
            "--tape",
            &tape_arg,
            "--record",
            &record_arg,
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let changes: Vec<Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["kind"] == "change")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["cause"], "patch on", "{changes:?}");
    assert_eq!(changes[0]["outcome"], "waiting", "{changes:?}");
    assert!(changes[0]["landed_after_s"].is_null(), "{changes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
