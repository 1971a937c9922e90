//! The real `kubectl` against `splitscope demo --serve`: the binary as a user runs it.
//! Skipped when kubectl is missing, unless SPLITSCOPE_REQUIRE_KUBECTL=1 (as in CI).

use std::io::{BufRead, BufReader};

use crate::common::serve::serve;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("SPLITSCOPE_REQUIRE_KUBECTL").is_ok_and(|v| v == "1") {
        panic!("kubectl is required (SPLITSCOPE_REQUIRE_KUBECTL=1) but was not found on PATH");
    }
    found
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let (success, out, err) = kubectl(kubeconfig, args);
    assert!(success, "kubectl {args:?} failed:\n{out}\n{err}");
    out
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn kubectl_gets_applies_deletes_and_execs() {
    if !kubectl_available() {
        eprintln!("kubectl not found; skipping");
        return;
    }
    let server = serve(&[]);
    let kc = &server.kubeconfig;

    let routes = ok(kc, &["get", "tcproute"]);
    assert!(routes.contains("tcp-echo-ew"), "{routes}");
    let filters = ok(kc, &["get", "envoyfilter", "-A"]);
    assert!(
        filters.trim().is_empty() || filters.contains("No resources"),
        "{filters}"
    );
    let (_, _, err) = kubectl(kc, &["get", "envoyfilter"]);
    assert!(err.contains("No resources found"), "{err}");
    let pods = ok(kc, &["get", "pods"]);
    for name in ["curl-", "tcp-echo-v1-", "tcp-echo-v2-", "waypoint-"] {
        assert!(
            pods.lines()
                .any(|l| l.starts_with(name) && l.contains("Running")),
            "{pods}"
        );
    }
    let weights = ok(
        kc,
        &[
            "get",
            "tcproute",
            "tcp-echo-ew",
            "-o",
            "jsonpath={.spec.rules[0].backendRefs[*].weight}",
        ],
    );
    assert_eq!(weights, "90 10");

    // The project's own manifests: a client, two backends, a 70/30 route.
    let own = [
        "echo-client.yaml",
        "echo-backends.yaml",
        "echo-route-70-30.yaml",
    ]
    .map(|m| path_text(&common::fixtures::own(m)));
    apply_get_delete(kc, &own, "echo", "70 30");
    let pods = ok(kc, &["get", "pods"]);
    for name in ["echo-client-", "echo-blue-", "echo-green-"] {
        assert!(
            pods.lines()
                .any(|l| l.starts_with(name) && l.contains("Running")),
            "{pods}"
        );
    }

    // The seed's loop, with a fast sleep, streams replies until we stop reading.
    let mut exec = Command::new("kubectl")
        .env("KUBECONFIG", kc)
        .args([
            "exec",
            "deploy/curl",
            "--",
            "sh",
            "-c",
            "while true; do date | nc tcp-echo 9000; sleep 0.01; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = BufReader::new(exec.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        lines.push(line);
        if lines.len() == 20 {
            break;
        }
    }
    let _ = exec.kill();
    let _ = exec.wait();
    assert_eq!(lines.len(), 20);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("one ") || l.starts_with("two ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("two ")),
        "v2 answers too: {lines:?}"
    );

    let (success, out, err) = kubectl(
        kc,
        &[
            "exec",
            "deploy/curl",
            "--",
            "sh",
            "-c",
            "date | nc nowhere 9000",
        ],
    );
    assert!(!success);
    assert!(out.is_empty());
    assert!(
        err.contains("nc: bad address 'nowhere'") && err.contains("exit code 1"),
        "{err}"
    );
}

/// Applies manifests server-side, reads the route's weights, deletes the route.
fn apply_get_delete(kc: &Path, manifests: &[String], route: &str, weights: &str) {
    for manifest in manifests {
        let out = ok(kc, &["apply", "--server-side", "-f", manifest]);
        assert!(out.contains("serverside-applied"), "{out}");
    }
    let read = ok(
        kc,
        &[
            "get",
            "tcproute",
            route,
            "-o",
            "jsonpath={.spec.rules[0].backendRefs[*].weight}",
        ],
    );
    assert_eq!(read, weights);
    let out = ok(kc, &["delete", "tcproute", route]);
    assert!(out.contains("deleted"), "{out}");
    let (success, _, err) = kubectl(kc, &["get", "tcproute", route]);
    assert!(!success && err.contains("NotFound"), "{err}");
}

/// Istio's own samples, as a user copies them from the Istio docs.
#[test]
fn kubectl_applies_the_istio_samples() {
    let samples: Option<Vec<String>> =
        ["curl.yaml", "tcp-echo-services.yaml", "tcp-echo-20-v2.yaml"]
            .iter()
            .map(|m| {
                common::fixtures::upstream(&format!("istio-1.24-samples/{m}"))
                    .map(|p| path_text(&p))
            })
            .collect();
    let Some(samples) = samples else {
        return;
    };
    if !kubectl_available() {
        eprintln!("kubectl not found; skipping");
        return;
    }
    let server = serve(&[]);
    apply_get_delete(&server.kubeconfig, &samples, "tcp-echo", "80 20");
}

#[test]
fn serve_stops_cleanly_on_sigterm_and_refuses_bad_flags() {
    let bad = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(["demo", "--serve", "--weights", "90"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("give two weights"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let mut server = serve(&["--istio", "1.26.0", "--weights", "70,30"]);
    let text = std::fs::read_to_string(&server.kubeconfig).unwrap();
    assert!(text.contains("current-context: splitscope-sandbox"));
    assert!(text.contains("namespace: istio-io-tcp-traffic-shifting"));
    assert!(text.contains("server: https://127.0.0.1:"));
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sandbox did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(server.child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(
        out.contains("Istio 1.26.0") && out.contains("tcp-echo-v1=70 tcp-echo-v2=30"),
        "{out}"
    );
}

fn splitscope(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn the_patch_command_prints_applies_and_removes_only_its_own() {
    let server = serve(&[]);
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let (ok_print, yaml, err) = splitscope(&["patch", "print", "--kubeconfig", &kc]);
    assert!(ok_print, "{err}");
    assert!(yaml.contains("name: splitscope-tcp-echo-ew"), "{yaml}");
    assert!(
        yaml.contains(
            "inbound-vip|9000|tcp|tcp-echo.istio-io-tcp-traffic-shifting.svc.cluster.local"
        ),
        "{yaml}"
    );
    assert!(
        yaml.contains("app.kubernetes.io/managed-by: splitscope"),
        "{yaml}"
    );

    let (applied, out, err) = splitscope(&["patch", "apply", "--kubeconfig", &kc]);
    assert!(applied, "{err}");
    assert!(
        out.contains("envoyfilter splitscope-tcp-echo-ew applied"),
        "{out}"
    );
    let (removed, out, err) = splitscope(&["patch", "remove", "--kubeconfig", &kc]);
    assert!(removed, "{err}");
    assert!(out.contains("deleted"), "{out}");
    let (again, out, _) = splitscope(&["patch", "remove", "--kubeconfig", &kc]);
    assert!(again && out.contains("was not there"), "{out}");

    if kubectl_available() {
        // An EnvoyFilter of the same name that is not ours is never touched.
        let foreign = yaml.replace("app.kubernetes.io/managed-by: splitscope", "team: mesh");
        let path = server.kubeconfig.with_file_name("foreign.yaml");
        std::fs::write(&path, foreign).unwrap();
        ok(
            &server.kubeconfig,
            &["apply", "--server-side", "-f", &path.to_string_lossy()],
        );
        let refused = |err: &str, whose: &str| {
            err.contains("is not splitscope's")
                && err.contains(whose)
                && err.contains("kubectl delete envoyfilter splitscope-tcp-echo-ew")
        };
        let (removed, _, err) = splitscope(&["patch", "remove", "--kubeconfig", &kc]);
        assert!(
            !removed && refused(&err, "has no app.kubernetes.io/managed-by=splitscope label"),
            "{err}"
        );
        let (applied, _, err) = splitscope(&["patch", "apply", "--kubeconfig", &kc]);
        assert!(!applied && refused(&err, "written by kubectl"), "{err}");
        let still = ok(
            &server.kubeconfig,
            &[
                "get",
                "envoyfilter",
                "splitscope-tcp-echo-ew",
                "-o",
                "jsonpath={.metadata.labels.team}",
            ],
        );
        assert_eq!(still, "mesh");
        // Our label, but written by another field manager: not ours either.
        ok(
            &server.kubeconfig,
            &["delete", "envoyfilter", "splitscope-tcp-echo-ew"],
        );
        let path = server.kubeconfig.with_file_name("lookalike.yaml");
        std::fs::write(&path, &yaml).unwrap();
        ok(
            &server.kubeconfig,
            &[
                "apply",
                "--server-side",
                "--field-manager=platform-team",
                "-f",
                &path.to_string_lossy(),
            ],
        );
        let (removed, _, err) = splitscope(&["patch", "remove", "--kubeconfig", &kc]);
        assert!(
            !removed && refused(&err, "splitscope never wrote it, written by platform-team"),
            "{err}"
        );
        let (applied, _, err) = splitscope(&["patch", "apply", "--kubeconfig", &kc]);
        assert!(!applied && refused(&err, "platform-team"), "{err}");
        let still = ok(
            &server.kubeconfig,
            &["get", "envoyfilter", "splitscope-tcp-echo-ew", "-o", "name"],
        );
        assert!(still.contains("splitscope-tcp-echo-ew"), "{still}");
    }

    // Offline, from a manifest.
    let route = server.kubeconfig.with_file_name("route.yaml");
    std::fs::write(&route, "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata:\n  name: r\n  namespace: shop\nspec:\n  parentRefs:\n  - {group: \"\", kind: Service, name: cart, port: 7000}\n  rules:\n  - backendRefs:\n    - {name: cart-v1, port: 7000, weight: 3}\n    - {name: cart-v2, port: 7000}\n").unwrap();
    let (printed, yaml, err) = splitscope(&["patch", "print", "--file", &route.to_string_lossy()]);
    assert!(printed, "{err}");
    assert!(
        yaml.contains("inbound-vip|7000|tcp|cart.shop.svc.cluster.local"),
        "{yaml}"
    );
    assert!(
        yaml.contains("weight: 3") && yaml.contains("weight: 1"),
        "{yaml}"
    );
    let (refused, _, err) = splitscope(&["patch", "apply", "--file", &route.to_string_lossy()]);
    assert!(
        !refused && err.contains("--file only works with `patch print`"),
        "{err}"
    );
}

#[test]
fn kubectl_get_watch_streams_changes() {
    if !kubectl_available() {
        eprintln!("kubectl not found; skipping");
        return;
    }
    let server = serve(&[]);
    let kc = &server.kubeconfig;
    let old = ok(kc, &["get", "pods", "-l", "app=curl", "-o", "name"]);
    let old = old.trim().trim_start_matches("pod/").to_string();
    let mut watch = Command::new("kubectl")
        .env("KUBECONFIG", kc)
        .args([
            "get",
            "pods",
            "-l",
            "app=curl",
            "--watch",
            "--output-watch-events",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("a header");
    assert!(first.starts_with("EVENT"), "{first}");
    let added = rx.recv_timeout(Duration::from_secs(20)).expect("the pod");
    assert!(
        added.starts_with("ADDED") && added.contains(&old),
        "{added}"
    );
    ok(kc, &["delete", "pod", &old, "--wait=false"]);
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(lines
        .iter()
        .any(|l: &String| l.starts_with("DELETED") && l.contains(&old))
        && lines
            .iter()
            .any(|l| l.starts_with("ADDED") && !l.contains(&old)))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("kubectl get -w showed no replacement: {lines:?}"),
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
}

/// What istiod's rules read, served for kubectl: GatewayClasses, revision tags, and the
/// Gateway's status subresource, whose address a patch can clear (and with it the
/// waypoint, as istiod would have it).
#[test]
fn kubectl_reads_classes_and_tags_and_clears_a_waypoints_address() {
    if !kubectl_available() {
        eprintln!("skipping: kubectl is not installed");
        return;
    }
    let server = crate::common::serve::serve(&["--scenario", "revision-tag"]);
    let kc = server.kubeconfig.as_path();
    let classes = ok(kc, &["get", "gatewayclasses", "-o", "name"]);
    assert!(
        classes.contains("gatewayclass.gateway.networking.k8s.io/istio-waypoint"),
        "{classes}"
    );
    let tags = ok(
        kc,
        &[
            "get",
            "mutatingwebhookconfigurations",
            "-l",
            "istio.io/tag=prod",
            "-o",
            "jsonpath={.items[*].metadata.labels.istio\\.io/rev}",
        ],
    );
    assert_eq!(tags.trim(), "1-26-0");
    let annotation = ok(
        kc,
        &[
            "get",
            "deploy",
            "waypoint",
            "-o",
            "jsonpath={.spec.template.metadata.annotations.istio\\.io/rev}",
        ],
    );
    assert_eq!(annotation.trim(), "1-26-0", "the revision that deployed it");
    ok(
        kc,
        &[
            "patch",
            "gateway",
            "waypoint",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"addresses":null}}"#,
        ],
    );
    let addresses = ok(
        kc,
        &[
            "get",
            "gateway",
            "waypoint",
            "-o",
            "jsonpath={.status.addresses}",
        ],
    );
    assert_eq!(addresses.trim(), "", "cleared");
    // Without its waypoint the Service's traffic goes straight to the pods: the route's
    // weights are not applied, on 1.26 too, and there is nothing to patch.
    let kc_text = path_text(kc);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--kubeconfig", &kc_text, "--interval", "0.05s"];
        args.extend_from_slice(&["--timeout", "30s"]);
        args.extend_from_slice(extra);
        crate::common::splitscope(&args, None)
    };
    let (code, out, err) = check(&[]);
    assert_eq!(code, 1, "{out}{err}");
    let (code, out, err) = check(&["--with-patch"]);
    assert_eq!(code, 2, "no waypoint, so no patch: {out}{err}");
    assert!(err.contains("has no address yet"), "{err}");
}

/// kubectl patches the HTTPRoute of `--scenario http` to 70/30; `check` judges the new
/// weights honoured, and kubectl reads the route and the helloworld replies the sandbox serves.
#[test]
fn kubectl_patches_an_httproute_and_check_follows() {
    if !kubectl_available() {
        eprintln!("kubectl not found; skipping");
        return;
    }
    let server = serve(&["--scenario", "http"]);
    let kc = &server.kubeconfig;
    let routes = ok(kc, &["get", "httproute"]);
    assert!(routes.contains("helloworld"), "{routes}");
    let edit = r#"{"spec":{"rules":[{"matches":[{"path":{"type":"Exact","value":"/hello"}}],"backendRefs":[{"name":"helloworld-v1","port":5000,"weight":70},{"name":"helloworld-v2","port":5000,"weight":30}]}]}}"#;
    ok(
        kc,
        &[
            "patch",
            "httproute",
            "helloworld",
            "--type",
            "merge",
            "-p",
            edit,
        ],
    );
    let reply = ok(
        kc,
        &[
            "exec",
            "deploy/curl",
            "--",
            "curl",
            "-s",
            "helloworld:5000/hello",
        ],
    );
    assert!(reply.starts_with("Hello version: v"), "{reply}");
    let (success, out, err) = splitscope(&[
        "check",
        "--kubeconfig",
        &path_text(kc),
        "--interval",
        "0.02s",
        "--timeout",
        "60s",
        "--output",
        "json",
    ]);
    assert!(success, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "HONOURED", "{out}");
    assert_eq!(report["backends"][0]["weight"], 70, "{out}");
}
