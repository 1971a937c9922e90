//! Canary rollouts through the binary and the library against the sandbox: the
//! sandbox's Rollout controller behaves as Argo Rollouts with the Gateway API plugin does
//! (weights by Service name in every rule, pause conditions, promotion by a status patch,
//! abort), `check --follow` judges every step to the rollout's end, a Flagger Canary
//! moved by the test is followed the same way, and the steps panel shows it all.

use std::time::Duration;

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use splitscope::sandbox::scenario::Scenario;
use splitscope::sandbox::seed::HTTP_ROUTE;
use splitscope::sandbox::{NAMESPACE, SandboxOptions};
use splitscope::split::Verdict;

use crate::common::serve::serve;
use crate::common::{sandbox_with, splitscope};

const LIMIT: Duration = Duration::from_secs(60);

fn api(client: &kube::Client, group: &str, version: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::from_gvk(&gvk))
}

fn routes(client: &kube::Client) -> Api<DynamicObject> {
    api(client, "gateway.networking.k8s.io", "v1", "HTTPRoute")
}

async fn weights(client: &kube::Client) -> Vec<u64> {
    let route = routes(client).get(HTTP_ROUTE).await.unwrap();
    let route = serde_json::to_value(route).unwrap();
    route["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["weight"].as_u64().unwrap())
        .collect()
}

/// Polls `read` until `done` holds of what it returns, or fails after LIMIT.
async fn until<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    what: &str,
    read: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let got = read().await;
        if done(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waiting for {what}: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_sandbox_steps_a_rollout_as_argo_does_pausing_until_promoted_and_aborting() {
    let (_sandbox, client) = sandbox_with(SandboxOptions {
        scenario: Scenario::Http,
        propagation_delay: Duration::from_millis(50),
        ..SandboxOptions::default()
    })
    .await;
    let rollouts = api(&client, "argoproj.io", "v1alpha1", "Rollout");
    let rollout: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "hello"},
        "spec": {"strategy": {"canary": {
            "canaryService": "helloworld-v2", "stableService": "helloworld-v1",
            "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": HTTP_ROUTE}}},
            "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "1h"}}],
        }}},
    }))
    .unwrap();
    rollouts
        .create(&PostParams::default(), &rollout)
        .await
        .unwrap();
    let status = || async {
        let r = rollouts.get("hello").await.unwrap();
        serde_json::to_value(r).unwrap()["status"].clone()
    };
    // The first step sets the weights by Service name; the pause holds.
    until("20 to the canary", || weights(&client), |w| *w == [80, 20]).await;
    let paused = until("the pause", status, |s| s["phase"] == "Paused").await;
    assert_eq!(paused["currentStepIndex"], 1);
    assert_eq!(paused["pauseConditions"][0]["reason"], "CanaryPauseStep");
    assert_eq!(paused["controllerPause"], true);
    assert_eq!(paused["canary"]["weights"]["canary"]["weight"], 20);
    assert_eq!(paused["canary"]["weights"]["verified"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status().await["currentStepIndex"], 1, "pause: {{}} waits");
    // Promoted as README says: the pause conditions removed through the status.
    rollouts
        .patch_status(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"pauseConditions": null}})),
        )
        .await
        .unwrap();
    until("50 to the canary", || weights(&client), |w| *w == [50, 50]).await;
    let paused = until("the timed pause", status, |s| s["currentStepIndex"] == 3).await;
    assert_eq!(paused["phase"], "Paused");
    // Aborted: all back to the stable, Degraded.
    rollouts
        .patch_status(
            "hello",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"abort": true}})),
        )
        .await
        .unwrap();
    until("back to stable", || weights(&client), |w| *w == [100, 0]).await;
    assert_eq!(status().await["phase"], "Degraded");
}

/// `check --follow` on the `rollout` scenario: every step judged HONOURED, each landing
/// measured after the propagation delay, exit 0 once the rollout completes.
#[test]
fn check_follow_passes_every_step_of_an_honoured_rollout() {
    let server = serve(&["--scenario", "rollout", "--propagation-delay", "1s"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--follow",
            "--interval",
            "0.05s",
            "--timeout",
            "120s",
            "--output",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let follow = &report["follow"];
    assert_eq!(follow["rollout"], "Rollout web");
    assert_eq!(follow["outcome"], "completed");
    assert_eq!(follow["exit"], 0);
    let steps = follow["steps"].as_array().unwrap();
    let numbers: Vec<u64> = steps.iter().map(|s| s["step"].as_u64().unwrap()).collect();
    let weights: Vec<u64> = steps
        .iter()
        .map(|s| s["weight"].as_u64().unwrap())
        .collect();
    // The first may have been set before the check began; the rest it sees written.
    assert_eq!(&numbers[numbers.len() - 3..], [3, 5, 7], "{follow}");
    assert_eq!(&weights[weights.len() - 3..], [30, 60, 100], "{follow}");
    for step in steps {
        assert_eq!(step["verdict"], "HONOURED", "{step}");
        assert_eq!(step["of"], 7);
    }
    for step in &steps[steps.len() - 3..] {
        assert_eq!(step["landing"], "landed", "{step}");
        let after = step["landed_after_s"].as_f64().unwrap();
        let [low, high] = [
            step["between_s"][0].as_f64().unwrap(),
            step["between_s"][1].as_f64().unwrap(),
        ];
        // Pushes take about a second (log-normal around --propagation-delay, a tenth
        // of it at the least); a loaded machine may stretch them.
        assert!((0.1..10.0).contains(&after), "{step}");
        assert!(low <= after && after <= high && high > 0.1, "{step}");
    }
}

/// `check --follow` on `rollout-tcp` (Istio 1.24, bug 54119): the first step is IGNORED
/// and the check says so at once, naming it.
#[test]
fn check_follow_fails_a_rollout_the_mesh_ignores_at_its_first_step() {
    let server = serve(&["--scenario", "rollout-tcp"]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let args = [
        "check",
        "--kubeconfig",
        &kc,
        "--follow",
        "--interval",
        "0.05s",
    ];
    let (code, out, err) = splitscope(&[&args[..], &["--timeout", "60s"]].concat(), None);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("Rollout web: step 1 of 7 IGNORED"), "{out}");
    let (code, out, _) = splitscope(
        &[&args[..], &["--timeout", "60s", "--output", "json"]].concat(),
        None,
    );
    assert_eq!(code, 1, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    // The rollout has moved on meanwhile: the first step this check saw is the one.
    let first = &report["follow"]["steps"][0];
    assert_eq!(
        report["follow"]["ignored_at_step"], first["step"],
        "{report}"
    );
    assert_eq!(first["verdict"], "IGNORED", "{report}");
    // The canary's four pods take about four in five, whatever the weights say.
    let share = report["follow"]["steps"][0]["canary_share"]
        .as_f64()
        .unwrap();
    assert!(share > 0.5, "{report}");
}

/// `check --follow` against a sandbox served with `serve_args`: its exit code and its
/// stdout and stderr together.
fn follow_against(serve_args: &[&str]) -> (i32, String) {
    let server = serve(serve_args);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &["check", "--kubeconfig", &kc, "--follow", "--timeout", "30s"],
        None,
    );
    (code, out + &err)
}

/// Without a rollout behind the route, `--follow` says what it needs: exit 2.
#[test]
fn check_follow_without_a_rollout_says_what_it_needs() {
    let (code, err) = follow_against(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no Argo Rollout or Flagger Canary")
            && err.contains("names TCPRoute tcp-echo-ew"),
        "{err}"
    );
}

/// Where RBAC forbids listing Rollouts, `--follow` says so (not "no rollout"): exit 2.
#[test]
fn check_follow_says_when_rbac_forbids_listing_rollouts() {
    let (code, err) = follow_against(&[
        "--scenario",
        "rollout",
        "--forbid",
        "list:rollouts",
        "--forbid",
        "watch:rollouts",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot list rollouts.argoproj.io") && err.contains("forbidden"),
        "{err}"
    );
}

/// A rollout over before the check began is not judged again: the check waits for its
/// next revision, and with none by --timeout, says no step came (exit 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_follow_waits_for_a_rollout_to_begin() {
    let (sandbox, client) = sandbox_with(SandboxOptions {
        scenario: Scenario::Rollout,
        ..SandboxOptions::default()
    })
    .await;
    let rollouts = api(&client, "argoproj.io", "v1alpha1", "Rollout");
    // Past every step: the status a Rollout keeps once it completed.
    let done = json!({"status": {"currentStepIndex": 7, "phase": "Healthy",
                                 "pauseConditions": null, "controllerPause": false}});
    rollouts
        .patch_status("web", &PatchParams::default(), &Patch::Merge(done))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "splitscope-follow-wait-{}",
        crate::common::serve::rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig).unwrap();
    let kc = kubeconfig.to_string_lossy().into_owned();
    let run = move |output: &'static str| {
        let kc = kc.clone();
        tokio::task::spawn_blocking(move || {
            splitscope(
                &[
                    "check",
                    "--kubeconfig",
                    &kc,
                    "--follow",
                    "--interval",
                    "0.1s",
                    "--timeout",
                    "10s",
                    "--output",
                    output,
                ],
                None,
            )
        })
    };
    let (code, out, err) = run("json").await.unwrap();
    assert_eq!(code, 3, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["follow"]["outcome"], "not started", "{report}");
    assert_eq!(report["follow"]["steps"], json!([]), "{report}");
    let (code, out, err) = run("text").await.unwrap();
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.starts_with("Rollout web: no step began before the check stopped"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Flagger Canary (Gateway API provider) owns the HTTPRoute named for its Service,
/// with backends `<name>-primary` and `<name>-canary`; the test moves the route and the
/// Canary's status as Flagger would, and each weight is a judged step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flagger_canary_is_followed_step_by_step() {
    let options = SandboxOptions {
        scenario: Scenario::Http,
        propagation_delay: Duration::from_millis(50),
        ..SandboxOptions::default()
    };
    let mut w = crate::common::watch::start(
        options,
        None,
        "deploy/curl",
        Duration::from_millis(20),
        Duration::from_secs(3600),
    )
    .await;
    let client = w.cluster.client.clone();
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), NAMESPACE);
    for (name, version) in [("helloworld-primary", "v1"), ("helloworld-canary", "v2")] {
        let svc = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"ports": [{"port": 5000, "name": "http"}],
                     "selector": {"app": "helloworld", "version": version}},
        }))
        .unwrap();
        services.create(&PostParams::default(), &svc).await.unwrap();
    }
    let set = |primary: u32, canary: u32| {
        let routes = routes(&client);
        async move {
            let patch = json!({"spec": {"rules": [{
                "matches": [{"path": {"type": "Exact", "value": "/hello"}}],
                "backendRefs": [
                    {"name": "helloworld-primary", "port": 5000, "weight": primary},
                    {"name": "helloworld-canary", "port": 5000, "weight": canary},
                ],
            }]}});
            routes
                .patch(HTTP_ROUTE, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .unwrap();
        }
    };
    set(100, 0).await;
    let canaries = api(&client, "flagger.app", "v1beta1", "Canary");
    let canary: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": {"name": "helloworld"},
        "spec": {
            "provider": "gatewayapi:v1",
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "helloworld-v2"},
            "service": {"name": "helloworld", "port": 5000,
                        "gatewayRefs": [{"name": "waypoint", "namespace": NAMESPACE}]},
            "analysis": {"interval": "1m", "threshold": 5, "stepWeight": 30, "maxWeight": 60},
        },
    }))
    .unwrap();
    canaries
        .create(&PostParams::default(), &canary)
        .await
        .unwrap();
    let status = |phase: &str, weight: u32| {
        let canaries = canaries.clone();
        let patch = json!({"status": {"phase": phase, "canaryWeight": weight}});
        async move {
            canaries
                .patch_status("helloworld", &PatchParams::default(), &Patch::Merge(patch))
                .await
                .unwrap();
        }
    };
    status("Progressing", 0).await;
    w.until("the Canary", LIMIT, |a| a.rollout().is_some())
        .await;
    // Flagger's step: the route first, then its status.
    set(70, 30).await;
    status("Progressing", 30).await;
    w.until("step 1 judged", LIMIT, |a| {
        a.steps()
            .back()
            .and_then(splitscope::session::app::StepRow::decided)
            == Some(Verdict::Honoured)
    })
    .await;
    let headline = w.app().rollout().unwrap().headline();
    assert_eq!(
        headline,
        "Canary helloworld · step 1 of 2 · canary weight 30 · setWeight 30"
    );
    set(40, 60).await;
    status("Progressing", 60).await;
    w.until("step 2 judged", LIMIT, |a| {
        a.steps().len() >= 2
            && a.steps()
                .back()
                .and_then(splitscope::session::app::StepRow::decided)
                .is_some()
    })
    .await;
    let steps: Vec<(usize, u32, Option<Verdict>)> = w
        .app()
        .steps()
        .iter()
        .map(|s| (s.index, s.weight, s.decided()))
        .collect();
    assert_eq!(
        steps,
        [
            (0, 30, Some(Verdict::Honoured)),
            (1, 60, Some(Verdict::Honoured))
        ]
    );
    // Promotion as Flagger does it: the primary takes the canary's spec, then all the
    // traffic, then the Canary says Succeeded. The falling weight is no step.
    status("Promoting", 60).await;
    status("Finalising", 60).await;
    set(100, 0).await;
    w.until("the return to the primary", LIMIT, |a| {
        a.route().is_some_and(|r| r.backends[1].weight == 0)
    })
    .await;
    status("Succeeded", 0).await;
    w.until("the end", LIMIT, |a| {
        a.rollout_end() == Some(splitscope::rollout::End::Completed)
    })
    .await;
    let app = w.app();
    assert_eq!(app.steps().len(), 2, "{:?}", app.steps());
    assert!(
        app.steps().iter().all(|s| !s.cut_short),
        "{:?}",
        app.steps()
    );
}

/// A tape mid-rollout: the header says where the rollout is, `o` opens the steps with
/// their landings and verdicts.
#[test]
fn a_tape_shows_the_steps_panel_mid_rollout() {
    let dir = std::env::temp_dir().join(format!(
        "splitscope-rollout-tape-{}",
        crate::common::serve::rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, shot) = (dir.join("t.tape"), dir.join("steps.txt"));
    std::fs::write(
        &tape,
        format!(
            "wait /step 4 of 7/ 60s\npress o\nwait /3/7 .*HONOURED/ 10s\nshot {}\nquit\n",
            shot.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "demo",
            "--scenario",
            "rollout",
            "--tape",
            &tape_arg,
            "--size",
            "160x40",
            "--interval",
            "0.05s",
            "--propagation-delay",
            "0.3s",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let screen = std::fs::read_to_string(&shot).unwrap();
    assert!(
        screen.contains("Rollout web · step 4 of 7 · canary weight 30 · paused 15s"),
        "{screen}"
    );
    assert!(screen.contains("steps of Rollout web"), "{screen}");
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("/7 ")).collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("1/7") && r.contains("before the start")),
        "{screen}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("3/7") && r.contains("30") && r.contains("HONOURED")),
        "{screen}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
