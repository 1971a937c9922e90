//! `splitscope check`, the binary: transcripts with `--from`, and the sandbox's cluster.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::serve::{rand_suffix, serve};
use crate::common::{QUICK_DEMO, splitscope, transcript};

fn file(text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "splitscope-check-{}-{}.txt",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn transcripts_reach_their_verdicts_with_exit_codes() {
    // The bug: half and half against 90/10.
    let bug = file(&transcript(200, |i| if i % 2 == 0 { "one" } else { "two" }));
    let (code, out, err) = splitscope(
        &[
            "check",
            "--from",
            bug.to_str().unwrap(),
            "--weights",
            "one=90,two=10",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("IGNORED:"), "{out}");

    // Patched: nine in ten, with garbage lines mixed in, from stdin, as JSON.
    let mut patched = String::new();
    for (i, line) in transcript(200, |i| if i % 10 == 3 { "two" } else { "one" })
        .lines()
        .enumerate()
    {
        patched.push_str(line);
        patched.push('\n');
        if i % 7 == 0 {
            patched.push_str("nc: bad address 'tcp-echo'\n\x1b[31mgarbage\n\n");
        }
    }
    let (code, out, err) = splitscope(
        &[
            "check",
            "--from",
            "-",
            "--weights",
            "one=90,two=10",
            "--output",
            "json",
        ],
        Some(&patched),
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "HONOURED");
    assert_eq!(
        report["alpha"],
        crate::common::TEST_ALPHA,
        "the environment's alpha"
    );
    let decided = report["decided_after"].as_u64().unwrap();
    assert!((5..=40).contains(&decided), "{report}");
    assert!(report["unparsable"].as_u64().unwrap() > 0);
    assert_eq!(report["regime"]["cause"], "start");
    assert!(report["evidence"]["route_over_bug"].as_f64().unwrap() >= 100.0);
    let backends = report["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2);
    for b in backends {
        let [low, high] = [
            b["interval"][0].as_f64().unwrap(),
            b["interval"][1].as_f64().unwrap(),
        ];
        let share = b["share"].as_f64().unwrap();
        assert!(low <= share && share <= high, "{b}");
        assert!(b["weight"].is_u64() && b["expected"].is_f64());
    }

    // Everything to one backend under 100/0: honoured; one reply from the other: ignored.
    let all_one = transcript(50, |_| "one");
    let (code, out, _) = splitscope(
        &["check", "--from", "-", "--weights", "one=100,two=0"],
        Some(&all_one),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = splitscope(
        &["check", "--from", "-", "--weights", "one=100,two=0"],
        Some(&format!(
            "{}two Thu Dec  5 00:14:09 UTC 2024\n",
            transcript(3, |_| "one")
        )),
    );
    assert_eq!(code, 1, "{out}");

    // Too few samples: undecided at the end, exit 3.
    let (code, out, _) = splitscope(
        &["check", "--from", "-", "--weights", "one=90,two=10"],
        Some(&transcript(3, |_| "one")),
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.starts_with("UNDECIDED"), "{out}");
}

#[test]
fn all_reads_to_the_end_and_reports_the_last_regime() {
    // The bug, then someone's patch: --all follows the change.
    let text = transcript(400, |i| {
        if i < 100 {
            if i % 2 == 0 { "one" } else { "two" }
        } else if i % 10 == 3 {
            "two"
        } else {
            "one"
        }
    });
    let (code, out, _) = splitscope(
        &[
            "check",
            "--from",
            "-",
            "--weights",
            "one=90,two=10",
            "--all",
            "--output",
            "json",
        ],
        Some(&text),
    );
    assert_eq!(code, 0, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["regime"]["cause"], "turned to route");
    let start = report["regime"]["start"].as_f64().unwrap();
    assert!((95.0..=130.0).contains(&start), "{report}");
    assert_eq!(report["samples"], 400);
}

#[test]
fn a_route_file_and_labels_name_the_backends() {
    let route = file(
        "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata:\n  name: r\nspec:\n  parentRefs:\n  - {group: \"\", kind: Service, name: tcp-echo, port: 9000}\n  rules:\n  - backendRefs:\n    - {name: tcp-echo-v1, port: 9000, weight: 75}\n    - {name: tcp-echo-v2, port: 9000, weight: 25}\n",
    );
    let route = route.to_str().unwrap();
    let text = transcript(300, |i| if i % 4 == 1 { "two" } else { "one" });
    let mapped = [
        "check",
        "--from",
        "-",
        "--route-file",
        route,
        "--label",
        "one=tcp-echo-v1",
        "--label",
        "two=tcp-echo-v2",
    ];
    let (code, out, _) = splitscope(&[&mapped[..], &["--output", "json"]].concat(), Some(&text));
    assert_eq!(code, 0, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["backends"][0]["name"], "tcp-echo-v1");
    // Three endpoints to one make the bug's own split 75/25: no telling them apart.
    let (code, out, _) = splitscope(
        &[&mapped[..], &["--default-split", "one=3,two=1"]].concat(),
        Some(&text),
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.starts_with("AMBIGUOUS"), "{out}");
    // Usage errors exit 2 and say what to do.
    let (code, _, err) = splitscope(
        &["check", "--from", "-", "--route-file", route],
        Some(&text),
    );
    assert_eq!(code, 2);
    assert!(err.contains("--label PREFIX=BACKEND"), "{err}");
    let (code, _, err) = splitscope(
        &["check", "--from", "/nonexistent/x", "--weights", "one=1"],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/x"), "{err}");
}

#[test]
fn check_on_the_sandbox_ignored_patched_and_fixed() {
    let server = serve(&[]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let fast = ["--interval", "0.01s", "--timeout", "60s"];
    let mut args = vec!["check", "--kubeconfig", &kc];
    args.extend(fast);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("IGNORED"), "{out}");

    args.extend(["--with-patch", "--output", "json"]);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "HONOURED");
    assert_ne!(report["regime"]["cause"], "start");
    // When the patch took effect, with the interval the samples allow.
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{report}");
    let change = &changes[0];
    assert_eq!(change["cause"], "patch on", "{change}");
    assert_eq!(change["outcome"], "landed", "{change}");
    assert!(
        change["at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    let after = change["landed_after_s"].as_f64().unwrap();
    let between = change["between_s"].as_array().unwrap();
    let (low, high) = (between[0].as_f64().unwrap(), between[1].as_f64().unwrap());
    assert!(low <= after && after <= high, "{change}");
    // The sandbox's pushes here: 100 ms of debounce, then some 50 ms.
    assert!(high > 0.1 && low < 2.0, "{change}");
    // The text says it too, once the last run's removal has reached the waypoint.
    args.pop();
    args.pop();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("patch on took effect after")),
        "{out}"
    );
    // No EnvoyFilter is left behind.
    let (code, out, err) = splitscope(&["patch", "remove", "--kubeconfig", &kc], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("was not there"), "{out}");

    let fixed = serve(&["--istio", "1.26.0"]);
    let kc = fixed.kubeconfig.to_string_lossy().into_owned();
    let mut args = vec!["check", "--kubeconfig", &kc];
    args.extend(fast);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");

    // A cluster error is exit 2 with the reason.
    let (code, _, err) = splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--route",
            "nope",
            "--timeout",
            "20s",
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no route \"nope\""), "{err}");
}

#[test]
fn an_interrupted_check_with_the_patch_takes_it_off() {
    let server = serve(&[]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args([
            "check",
            "--kubeconfig",
            &kc,
            "--with-patch",
            "--interval",
            "1s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the patch is on, then interrupt as Ctrl-C would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if crate::common::serve::envoyfilters(&server.kubeconfig) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the patch never went on"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("interrupted; the patch was removed"), "{err}");
    assert_eq!(crate::common::serve::envoyfilters(&server.kubeconfig), 0);
}

#[test]
fn a_tape_makes_its_pictures_and_a_failed_wait_names_its_line() {
    let dir = std::env::temp_dir().join(format!("splitscope-tape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tape = dir.join("show.tape");
    std::fs::write(
        &tape,
        format!(
            "# the bug, the patch, the help\nwait ignored 60s\nshot {d}/ignored.svg\npress p\nwait honoured 60s\nshot {d}/honoured.txt\npress ?\nshot {d}/help.html\nresize 80x24\nshot {d}/narrow.txt\nquit\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let mut args = vec!["demo", "--tape", &tape_arg, "--seed", "7"];
    args.extend(QUICK_DEMO);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    let svg = std::fs::read_to_string(dir.join("ignored.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert!(svg.contains("split · ignored"));
    let honoured = std::fs::read_to_string(dir.join("honoured.txt")).unwrap();
    assert!(honoured.contains("split · honoured"), "{honoured}");
    assert_eq!(honoured.lines().count(), 30);
    assert!(
        std::fs::read_to_string(dir.join("help.html"))
            .unwrap()
            .contains("put the EnvoyFilter workaround on")
    );
    let narrow = std::fs::read_to_string(dir.join("narrow.txt")).unwrap();
    assert_eq!(narrow.lines().count(), 24);
    assert!(narrow.lines().all(|l| l.chars().count() <= 80));

    // `s` under a tape, as in the terminal: the picture goes to --shots-dir and the
    // notice says where.
    let shots = dir.join("shots");
    std::fs::write(
        &tape,
        format!(
            "wait ignored 60s\npress s\nshot {d}/after-s.txt\nwait /saved / 5s\nquit\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let shots_arg = shots.to_string_lossy().into_owned();
    let mut args = vec!["demo", "--tape", &tape_arg, "--shots-dir", &shots_arg];
    args.extend(QUICK_DEMO);
    let (code, out, err) = splitscope(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    let mut written: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written[0].starts_with("splitscope-") && written[0].ends_with(".svg"));
    assert!(written[1].ends_with(".txt"), "{written:?}");
    let text = std::fs::read_to_string(shots.join(&written[1])).unwrap();
    assert!(text.contains("split · ignored"), "{text}");

    std::fs::write(&tape, "press p\nwait /words that never show/ 1s\nquit\n").unwrap();
    let (code, _, err) = splitscope(&["demo", "--tape", &tape_arg], None);
    assert_ne!(code, 0);
    assert!(
        err.contains("tape line 2") && err.contains("words that never show"),
        "{err}"
    );
    std::fs::write(&tape, "wait sometime\n").unwrap();
    let (code, _, err) = splitscope(&["demo", "--tape", &tape_arg], None);
    assert_ne!(code, 0);
    assert!(err.contains("line 1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
