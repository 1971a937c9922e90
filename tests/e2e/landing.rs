//! When a change lands, held to the truth: the sandbox keeps the moment each waypoint
//! replica took each push (`/sandbox/installs`), and splitscope's estimate of when the
//! traffic followed a patch toggle or a route edit must hold it, through the binary.
//! The measurements behind the README's figures are the `#[ignore]`d runs at the end
//! (`cargo test --test e2e landing -- --ignored --nocapture`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use splitscope::sandbox::mesh::push::{Install, took_effect};

use crate::common::serve::{Server, serve};

/// What the sandbox did: each replica's every push, and whether every write so far has
/// reached every replica.
fn pushes(kubeconfig: &Path) -> (Vec<Install>, bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let config = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        let cluster = splitscope::cluster::Cluster::from_kubeconfig(config, None, None)
            .await
            .unwrap();
        let request = http::Request::get("/sandbox/installs")
            .body(Vec::new())
            .unwrap();
        let doc: Value = cluster.client.request(request).await.unwrap();
        let installs = serde_json::from_value(doc["installs"].clone()).unwrap();
        (installs, doc["settled"] == true)
    })
}

fn installs(kubeconfig: &Path) -> Vec<Install> {
    pushes(kubeconfig).0
}

/// Waits until every write so far is in effect (the last run's patch removal, say).
fn settled(kubeconfig: &Path) {
    let started = Instant::now();
    while !pushes(kubeconfig).1 {
        assert!(started.elapsed() < Duration::from_secs(30), "never settled");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One change as the record says it landed, and when the sandbox says it did.
#[derive(Debug)]
struct Held {
    cause: String,
    estimate: f64,
    between: [f64; 2],
    truth: f64,
}

impl Held {
    fn inside(&self) -> bool {
        self.between[0] <= self.truth && self.truth <= self.between[1]
    }

    fn error(&self) -> f64 {
        (self.estimate - self.truth).abs()
    }
}

/// The changes in a record, each with the moment the first replica took it.
fn held(record: &Path, installs: &[Install]) -> (Vec<Held>, Vec<Value>) {
    let changes: Vec<Value> = std::fs::read_to_string(record)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r["kind"] == "change")
        .collect();
    let held = changes
        .iter()
        .filter(|c| c["landed_after_s"].is_number())
        .map(|c| {
            let at: Timestamp = c["at"].as_str().unwrap().parse().unwrap();
            // The write came a moment before splitscope saw it: the push that carried it
            // is the first compiled after the write (100 ms of debounce after it). Half a
            // second before `at` allows for a slow API reply; the change before was
            // seconds earlier, and nothing else writes meanwhile.
            let took = took_effect(installs, at - jiff::SignedDuration::from_millis(500));
            let truth = (took.iter().map(|(_, t)| *t).min())
                .unwrap_or_else(|| panic!("no push after {c} in {installs:?}"));
            let between = c["between_s"].as_array().unwrap();
            Held {
                cause: c["cause"].as_str().unwrap().to_string(),
                estimate: c["landed_after_s"].as_f64().unwrap(),
                between: [between[0].as_f64().unwrap(), between[1].as_f64().unwrap()],
                truth: (truth - at).total(jiff::Unit::Millisecond).unwrap() / 1000.0,
            }
        })
        .collect();
    (held, changes)
}

/// `watch` on the server under `tape`, with a record; `during` runs beside it (edits
/// made from outside). Returns the record's path.
fn watch_with(server: &Server, tape: &str, during: impl FnOnce(&Path) + Send) -> PathBuf {
    let dir = server
        .kubeconfig
        .with_file_name(format!("landing-{}", crate::common::serve::rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape_path, record) = (dir.join("t.tape"), dir.join("run.jsonl"));
    std::fs::write(&tape_path, tape).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(["watch", "--kubeconfig"])
        .arg(&server.kubeconfig)
        .args(["--interval", "0.5s", "--tape"])
        .arg(&tape_path)
        .arg("--record")
        .arg(&record)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    during(&record);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    record
}

/// `n` patch toggles `gap` apart on the bug (Istio 1.24) with pushes of `delay`.
fn toggles(n: usize, gap: &str, delay: &str) -> Vec<Held> {
    let server = serve(&["--propagation-delay", delay]);
    let mut tape = String::from("wait ignored 60s\n");
    for _ in 0..n {
        tape.push_str(&format!("press p\nsleep {gap}\n"));
    }
    tape.push_str("quit\n");
    let record = watch_with(&server, &tape, |_| {});
    let (held, changes) = held(&record, &installs(&server.kubeconfig));
    assert_eq!(changes.len(), n, "{changes:?}");
    held
}

/// `n` route edits `gap` apart on Istio 1.26 (the route honoured) with pushes of
/// `delay`, between 90/10 and 20/80.
fn edits(n: usize, gap: Duration, delay: &str) -> Vec<Held> {
    let server = serve(&["--istio", "1.26.0", "--propagation-delay", delay]);
    let total = gap * u32::try_from(n + 1).unwrap();
    let tape = format!("wait honoured 60s\nsleep {}s\nquit\n", total.as_secs());
    let kubeconfig = server.kubeconfig.clone();
    let record = watch_with(&server, &tape, |record| {
        // Edits begin once the run has read the route and answered.
        let started = Instant::now();
        while samples(record) < 20 {
            assert!(started.elapsed() < Duration::from_secs(60), "no samples");
            std::thread::sleep(Duration::from_millis(100));
        }
        for i in 0..n {
            let (v1, v2) = if i % 2 == 0 { (20, 80) } else { (90, 10) };
            edit_route(&kubeconfig, v1, v2);
            std::thread::sleep(gap);
        }
    });
    let (held, changes) = held(&record, &installs(&server.kubeconfig));
    assert_eq!(changes.len(), n, "{changes:?}");
    held
}

fn samples(record: &Path) -> usize {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"kind\":\"sample\""))
        .count()
}

fn edit_route(kubeconfig: &Path, v1: u32, v2: u32) {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let config = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        let cluster = splitscope::cluster::Cluster::from_kubeconfig(config, None, None)
            .await
            .unwrap();
        let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1alpha2", "TCPRoute");
        let routes: Api<DynamicObject> = Api::namespaced_with(
            cluster.client.clone(),
            &cluster.namespace,
            &ApiResource::from_gvk(&gvk),
        );
        let edit = json!({"spec": {"rules": [{"backendRefs": [
            {"name": "tcp-echo-v1", "port": 9000, "weight": v1},
            {"name": "tcp-echo-v2", "port": 9000, "weight": v2}]}]}});
        routes
            .patch(
                splitscope::sandbox::ROUTE,
                &PatchParams::default(),
                &Patch::Merge(&edit),
            )
            .await
            .unwrap();
    });
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(what: &str, held: &[Held]) {
    let inside = held.iter().filter(|h| h.inside()).count();
    let errors: Vec<f64> = held.iter().map(Held::error).collect();
    let truths: Vec<f64> = held.iter().map(|h| h.truth).collect();
    let widths: Vec<f64> = held.iter().map(|h| h.between[1] - h.between[0]).collect();
    eprintln!(
        "{what}: {inside} of {} inside between_s; error median {:.3}s, max {:.3}s; true landing median {:.2}s; interval width median {:.2}s",
        held.len(),
        median(errors.clone()),
        errors.iter().copied().fold(0.0, f64::max),
        median(truths),
        median(widths),
    );
}

#[test]
fn patch_toggles_land_where_the_sandbox_says() {
    let held = toggles(4, "7s", "2s");
    report("patch toggles, 2 s pushes", &held);
    assert!(held.len() >= 3, "{held:?}");
    assert!(held.iter().any(|h| h.cause == "patch on"), "{held:?}");
    assert!(held.iter().any(|h| h.cause == "patch off"), "{held:?}");
    // At alpha 0.01 each interval holds the truth with chance 0.99 or more.
    assert!(
        held.iter().filter(|h| h.inside()).count() + 1 >= held.len(),
        "{held:?}"
    );
    assert!(
        median(held.iter().map(Held::error).collect()) < 0.5,
        "{held:?}"
    );
}

#[test]
fn route_edits_land_where_the_sandbox_says() {
    let held = edits(4, Duration::from_secs(7), "2s");
    report("route edits, 2 s pushes", &held);
    assert!(held.len() >= 3, "{held:?}");
    assert!(held.iter().all(|h| h.cause == "route edit"), "{held:?}");
    assert!(
        held.iter().filter(|h| h.inside()).count() + 1 >= held.len(),
        "{held:?}"
    );
    assert!(
        median(held.iter().map(Held::error).collect()) < 0.5,
        "{held:?}"
    );
}

/// The target, measured: 20 patch toggles and 20 route edits with pushes of
/// 3 s. `cargo test --test e2e landing -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement of a few minutes; its figures are quoted in README"]
fn twenty_changes_each_with_three_second_pushes() {
    let toggled = toggles(20, "9s", "3s");
    report("20 patch toggles, 3 s pushes", &toggled);
    for miss in toggled.iter().filter(|h| !h.inside()) {
        eprintln!("  outside: {miss:?}");
    }
    let edited = edits(20, Duration::from_secs(9), "3s");
    report("20 route edits, 3 s pushes", &edited);
    for miss in edited.iter().filter(|h| !h.inside()) {
        eprintln!("  outside: {miss:?}");
    }
}

/// Wall-clock seconds of `args` through the binary, with its exit code.
fn timed(args: &[&str]) -> (f64, i32) {
    let started = Instant::now();
    let (code, _, _) = crate::common::splitscope(args, None);
    (started.elapsed().as_secs_f64(), code)
}

fn summary(what: &str, runs: &[(f64, i32)]) {
    let times: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let codes: Vec<i32> = runs.iter().map(|r| r.1).collect();
    eprintln!(
        "{what}: median {:.2}s, max {:.2}s over {} runs; exit codes {codes:?}",
        median(times.clone()),
        times.iter().copied().fold(0.0, f64::max),
        runs.len()
    );
}

/// The timing targets, measured through the binary with default flags:
/// `cargo test --test e2e answers_come_quickly -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement of a few minutes; its figures are quoted in README"]
fn answers_come_quickly() {
    let server = serve(&["--propagation-delay", "1s"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let bug: Vec<_> = (0..20)
        .map(|_| timed(&["check", "--kubeconfig", &kc]))
        .collect();
    summary("check on the bug", &bug);
    let with_patch: Vec<_> = (0..20)
        .map(|_| {
            // The patch comes off at the end of each: that lands before the next run.
            settled(&server.kubeconfig);
            timed(&["check", "--kubeconfig", &kc, "--with-patch"])
        })
        .collect();
    summary("check --with-patch (1 s pushes)", &with_patch);
    let (code, _, err) = crate::common::splitscope(&["patch", "apply", "--kubeconfig", &kc], None);
    assert_eq!(code, 0, "{err}");
    settled(&server.kubeconfig);
    let patched: Vec<_> = (0..20)
        .map(|_| timed(&["check", "--kubeconfig", &kc]))
        .collect();
    summary("check on the patched mesh", &patched);
    let dir = server.kubeconfig.with_file_name("demo-timing");
    std::fs::create_dir_all(&dir).unwrap();
    let tape = dir.join("t.tape");
    std::fs::write(&tape, "wait ignored 30s\nquit\n").unwrap();
    let tape = tape.to_string_lossy().into_owned();
    let demo: Vec<_> = (0..20).map(|_| timed(&["demo", "--tape", &tape])).collect();
    summary("demo launch to the verdict on screen (and quit)", &demo);
}
