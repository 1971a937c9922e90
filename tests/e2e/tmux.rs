//! The real binary in a real terminal: `splitscope demo` in tmux, keys sent as a person
//! types them, the screen read back, and the terminal usable afterwards.
//! Skipped without tmux, unless SPLITSCOPE_REQUIRE_TMUX=1 (as in CI).

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("SPLITSCOPE_REQUIRE_TMUX").is_ok_and(|v| v == "1") {
        panic!("tmux is required (SPLITSCOPE_REQUIRE_TMUX=1) but was not found on PATH");
    }
    found
}

struct Session {
    name: String,
    socket: String,
}

impl Session {
    fn screen(&self) -> String {
        tmux(&["-L", &self.socket, "capture-pane", "-p", "-t", &self.name])
    }

    fn keys(&self, keys: &str) {
        tmux(&["-L", &self.socket, "send-keys", "-t", &self.name, keys]);
    }

    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `command` in a detached 100x30 session on a private tmux server.
fn start(socket: String, command: &str, env: &[&str]) -> Session {
    let name = "splitscope".to_string();
    let mut args: Vec<&str> = vec![
        "-L",
        &socket,
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "100",
        "-y",
        "30",
    ];
    for e in env {
        args.extend(["-e", e]);
    }
    args.push(command);
    let status = Command::new("tmux")
        .args(&args)
        .env_remove("NO_COLOR")
        .status()
        .unwrap();
    assert!(status.success());
    Session { name, socket }
}

impl Drop for Session {
    fn drop(&mut self) {
        tmux(&["-L", &self.socket, "kill-server"]);
    }
}

#[test]
fn demo_in_tmux_patch_quit_and_the_terminal_is_usable() {
    if !tmux_available() {
        eprintln!("tmux not found; skipping");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_splitscope");
    // After the program: its exit code, then whether the tty is back in canonical mode.
    let shots = std::env::temp_dir().join(format!("splitscope-shots-{}", std::process::id()));
    let command = format!(
        "{bin} demo --interval 0.05s --propagation-delay 100ms --shots-dir {} --shot-format svg,html,txt; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 60",
        shots.display()
    );
    let session = start(
        format!("splitscope-test-{}", std::process::id()),
        &command,
        &[],
    );

    let screen = session.wait_for("IGNORED under Istio 1.24", Duration::from_secs(60), |s| {
        s.contains("▀█▀ █▀▀ █▀▄ █▀█ █▀▄ █▀▀ █▀▄") && s.contains("patch off")
    });
    assert!(screen.contains("route tcp-echo-ew 90/10"), "{screen}");
    assert!(
        screen.contains("Istio 1.24.0 (needs the patch)"),
        "{screen}"
    );

    session.keys("p");
    session.wait_for("the patch on and HONOURED", Duration::from_secs(60), |s| {
        s.contains("patch on since") && s.contains("█ █ █▀█ █▀▄ █▀█ █ █ █▀▄ █▀▀ █▀▄")
    });
    session.keys("?");
    session.wait_for("the help", Duration::from_secs(10), |s| {
        s.contains("put the EnvoyFilter workaround on")
    });
    session.keys("Escape");
    session.wait_for("the help closed", Duration::from_secs(10), |s| {
        !s.contains("put the EnvoyFilter workaround on")
    });
    // `s` saves the screen as it is, and the notice says where.
    session.keys("s");
    session.wait_for("the saved pictures", Duration::from_secs(10), |s| {
        s.contains("saved ") && s.contains("splitscope-shots-")
    });
    let saved: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for ext in ["svg", "html", "txt"] {
        assert!(saved.iter().any(|n| n.ends_with(ext)), "{saved:?}");
    }
    let text = saved.iter().find(|n| n.ends_with("txt")).unwrap();
    let text = std::fs::read_to_string(shots.join(text)).unwrap();
    assert!(text.contains("split · honoured"), "{text}");
    let _ = std::fs::remove_dir_all(&shots);

    // `t` moves to the next theme, and the notice names it.
    session.keys("t");
    session.wait_for("the light theme", Duration::from_secs(10), |s| {
        s.contains("theme: light")
    });

    // Resizing redraws; below the minimum size it says so, and recovers.
    tmux(&[
        "-L",
        &session.socket,
        "resize-window",
        "-t",
        &session.name,
        "-x",
        "50",
        "-y",
        "14",
    ]);
    session.wait_for("the too-small message", Duration::from_secs(10), |s| {
        s.contains("needs a terminal of at least")
    });
    tmux(&[
        "-L",
        &session.socket,
        "resize-window",
        "-t",
        &session.name,
        "-x",
        "80",
        "-y",
        "24",
    ]);
    session.wait_for("the 80x24 screen", Duration::from_secs(10), |s| {
        s.contains("share over time") && s.lines().all(|l| l.chars().count() <= 80)
    });

    session.keys("q");
    let after = session.wait_for("the exit", Duration::from_secs(20), |s| {
        s.contains("EXIT=") && s.contains("icanon")
    });
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(after.contains("The sandbox has stopped"), "{after}");
    // Canonical mode is back (raw mode would show -icanon), and the screen is the normal one.
    assert!(after.lines().any(|l| l.trim() == "icanon"), "{after}");
    assert!(
        !after.contains("share over time"),
        "the alternate screen is gone:\n{after}"
    );
}

#[test]
fn no_color_means_no_colour_codes() {
    if !tmux_available() {
        eprintln!("tmux not found; skipping");
        return;
    }
    let command = format!(
        "{} demo --interval 0.05s; sleep 60",
        env!("CARGO_BIN_EXE_splitscope")
    );
    let session = start(
        format!("splitscope-nocolor-{}", std::process::id()),
        &command,
        &["NO_COLOR=1"],
    );
    session.wait_for("the screen", Duration::from_secs(60), |s| {
        s.contains("share over time") && s.contains("n=2")
    });
    let styled = tmux(&[
        "-L",
        &session.socket,
        "capture-pane",
        "-e",
        "-p",
        "-t",
        &session.name,
    ]);
    // SGR colour codes: 30-37, 90-97 (foreground), 38;5 / 38;2 (extended).
    let colour = regex::Regex::new(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[0-9;]*m").unwrap();
    assert!(
        !colour.is_match(&styled),
        "colour codes under NO_COLOR:\n{styled:?}"
    );
    session.keys("q");
}

#[test]
fn without_a_terminal_it_refuses_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal on stdout"), "{err}");
}

#[test]
fn a_broken_kubeconfig_is_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(["watch", "--kubeconfig", "/nonexistent/kubeconfig"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot load the kubeconfig") && err.contains("/nonexistent/kubeconfig"),
        "{err}"
    );
    let dir = std::env::temp_dir().join(format!("splitscope-badkc-{}", std::process::id()));
    std::fs::write(
        &dir,
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\ncontexts: []\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(["--kubeconfig"])
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no context named \"nowhere\""), "{err}");
}

/// The pid of the demo started with `--seed seed`: the one process whose command line
/// begins with the binary and those arguments.
fn demo_pid(seed: u32) -> String {
    let pattern = format!("^{} demo --seed {seed}", env!("CARGO_BIN_EXE_splitscope"));
    let out = Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    let pids = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pids = pids.lines();
    let pid = pids
        .next()
        .unwrap_or_else(|| panic!("no demo with seed {seed}"))
        .to_string();
    assert!(pids.next().is_none(), "more than one demo with seed {seed}");
    pid
}

#[test]
fn a_signal_or_a_panic_puts_the_terminal_back_with_the_shells_exit_code() {
    if !tmux_available() {
        eprintln!("tmux not found; skipping");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_splitscope");
    let base = 40_000 + std::process::id() % 10_000;
    for (i, (how, code)) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("panic", 101)]
        .into_iter()
        .enumerate()
    {
        let seed = base * 10 + i as u32;
        let drill = if how == "panic" {
            "SPLITSCOPE_DRILL_PANIC=1 RUST_BACKTRACE=0 "
        } else {
            ""
        };
        // After the program: its exit code, and whether the tty echoes in canonical mode.
        let command = format!(
            "{drill}{bin} demo --seed {seed}; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon\\|-\\?echo'; sleep 60"
        );
        let session = start(format!("splitscope-signal-{seed}"), &command, &[]);
        if how != "panic" {
            session.wait_for("the screen", Duration::from_secs(60), |s| {
                s.contains("share over time")
            });
            let pid = demo_pid(seed);
            assert!(
                Command::new("kill")
                    .args([format!("-{how}"), pid])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let after = session.wait_for("the exit", Duration::from_secs(20), |s| {
            s.contains("EXIT=") && s.lines().any(|l| l.trim().ends_with("echo"))
        });
        assert!(after.contains(&format!("EXIT={code}")), "{how}: {after}");
        assert!(
            after.lines().any(|l| l.trim() == "icanon"),
            "{how}: {after}"
        );
        assert!(after.lines().any(|l| l.trim() == "echo"), "{how}: {after}");
        assert!(
            !after.contains("share over time"),
            "{how}: the alternate screen stayed:\n{after}"
        );
        if how == "panic" {
            assert!(after.contains("a panic drill"), "{after}");
        } else {
            assert!(after.contains("The sandbox has stopped"), "{how}: {after}");
        }
    }
}
