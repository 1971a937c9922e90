//! The manifests in deploy/ are what README offers for running splitscope in a cluster:
//! the Argo Rollouts and Flagger objects validate against the real CRDs in
//! ../shared/fixtures/rollouts (read through `common::fixtures::upstream`: skipped with a
//! printed reason without them, a failure under SPLITSCOPE_REQUIRE_FIXTURES=1), the
//! Kubernetes ones read as their
//! types, and the RBAC is enough: the sandbox refusing every call it does not grant,
//! the AnalysisTemplate's own command line gates a rollout, `check --with-patch`
//! works and a watch says nothing is forbidden.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::serve::serve;
use crate::common::splitscope;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every YAML document under deploy/, with the file it came from.
fn documents() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    let mut dirs = vec![deploy()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.strip_prefix(deploy()).unwrap().display().to_string();
            docs.into_iter()
                .filter(|d| !d.is_null())
                .map(move |d| (name.clone(), d))
        })
        .collect()
}

/// The schema of `kind` at `version` in an upstream CRD file (one file may hold
/// several CRDs).
fn schema(file: &str, kind: &str, version: &str) -> Option<jsonschema::Validator> {
    let path = crate::common::fixtures::upstream(file)?;
    let text = std::fs::read_to_string(&path).unwrap();
    let crds: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let crd = crds
        .iter()
        .find(|c| c["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("{file} defines {kind}"));
    let served = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{file} serves {kind} {version}"));
    Some(
        jsonschema::options()
            .build(&served["schema"]["openAPIV3Schema"])
            .unwrap(),
    )
}

#[test]
fn the_manifests_validate_against_the_real_crds_and_types() {
    let docs = documents();
    let kinds: Vec<&str> = docs
        .iter()
        .filter_map(|(_, d)| d["kind"].as_str())
        .collect();
    for kind in [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "AnalysisTemplate",
        "Rollout",
        "Canary",
        "Job",
    ] {
        assert!(kinds.contains(&kind), "deploy/ has a {kind}: {kinds:?}");
    }
    let rollouts = "rollouts/argo-rollouts-rollout-crd.yaml";
    let templates = "rollouts/argo-rollouts-analysistemplate-crd.yaml";
    let flagger = "rollouts/flagger-crd.yaml";
    for (file, doc) in &docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        let checked = match kind {
            "Rollout" => schema(rollouts, "Rollout", "v1alpha1"),
            "AnalysisTemplate" => schema(templates, "AnalysisTemplate", "v1alpha1"),
            "Canary" => schema(flagger, "Canary", "v1beta1"),
            _ => {
                typed(file, kind, doc);
                continue;
            }
        };
        let Some(validator) = checked else { continue };
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file} {kind}: {errors:#?}");
    }
}

/// A Kubernetes object reads as its type, and names no wildcard.
fn typed(file: &str, kind: &str, doc: &Value) {
    use k8s_openapi::api::{batch, core, rbac};
    let read = match kind {
        "ServiceAccount" => {
            serde_json::from_value::<core::v1::ServiceAccount>(doc.clone()).map(|_| ())
        }
        "Role" => serde_json::from_value::<rbac::v1::Role>(doc.clone()).map(|_| ()),
        "ClusterRole" => serde_json::from_value::<rbac::v1::ClusterRole>(doc.clone()).map(|_| ()),
        "RoleBinding" => serde_json::from_value::<rbac::v1::RoleBinding>(doc.clone()).map(|_| ()),
        "ClusterRoleBinding" => {
            serde_json::from_value::<rbac::v1::ClusterRoleBinding>(doc.clone()).map(|_| ())
        }
        "Job" => serde_json::from_value::<batch::v1::Job>(doc.clone()).map(|_| ()),
        other => panic!("{file}: a {other} the test does not know"),
    };
    read.unwrap_or_else(|e| panic!("{file} {kind}: {e}"));
    let text = doc.to_string();
    assert!(
        !text.contains("\"*\""),
        "{file} {kind}: no wildcards in least RBAC"
    );
}

/// What the RBAC grants: (verb, resource) pairs, the resource as RBAC names it.
fn granted() -> Vec<(String, String)> {
    documents()
        .into_iter()
        .filter(|(_, d)| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
        .flat_map(|(_, d)| d["rules"].as_array().cloned().unwrap_or_default())
        .flat_map(|rule| {
            let list = |k: &str| -> Vec<String> {
                rule[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            };
            let (verbs, resources) = (list("verbs"), list("resources"));
            resources
                .into_iter()
                .flat_map(move |r| verbs.clone().into_iter().map(move |v| (v, r.clone())))
        })
        .collect()
}

/// `--forbid` for every call the RBAC does not grant, on every resource the sandbox
/// serves (and the subresources splitscope could use).
fn forbid_the_rest(kubeconfig: &Path) -> Vec<String> {
    let out = std::process::Command::new("kubectl")
        .args([
            "api-resources",
            "--no-headers",
            "-o",
            "name",
            "--kubeconfig",
        ])
        .arg(kubeconfig)
        .output();
    let names: Vec<String> = match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('.').next().unwrap().to_string())
            .collect(),
        // Without kubectl, the catalogue as the sandbox lists it in discovery.
        _ => splitscope::sandbox::storage::catalogue::served_plurals()
            .map(str::to_string)
            .collect(),
    };
    let mut resources: Vec<String> = names.clone();
    resources.extend(names.iter().map(|n| format!("{n}/status")));
    resources.extend(["pods/exec".to_string(), "pods/log".to_string()]);
    let granted = granted();
    let verbs = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    let mut flags = Vec::new();
    for resource in &resources {
        for verb in verbs {
            if !granted.contains(&(verb.to_string(), resource.clone())) {
                flags.push("--forbid".to_string());
                flags.push(format!("{verb}:{resource}"));
            }
        }
    }
    flags
}

/// The sandbox with every call the RBAC does not grant refused: the AnalysisTemplate's
/// command gates the ignored rollout (exit 1, not 2), the patch goes on and off, and a
/// watch says nothing is forbidden.
#[test]
fn the_rbac_is_enough_for_follow_the_patch_and_a_watch() {
    // A first sandbox only to list what the sandbox serves.
    let probe = serve(&[]);
    let forbid = forbid_the_rest(&probe.kubeconfig);
    drop(probe);
    let refs: Vec<&str> = forbid.iter().map(String::as_str).collect();
    let server = serve(&[&["--scenario", "rollout-tcp"], &refs[..]].concat());
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    // The AnalysisTemplate's own arguments, its placeholders filled in.
    let (_, template) = documents()
        .into_iter()
        .find(|(_, d)| d["kind"] == "AnalysisTemplate")
        .unwrap();
    let container = &template["spec"]["metrics"][0]["provider"]["job"]["spec"]["template"]["spec"]
        ["containers"][0];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("{{args.route}}", "tcproute/tcp-echo-ew")
                .replace("{{args.client}}", "deploy/curl")
        })
        .collect();
    let mut run: Vec<&str> = args.iter().map(String::as_str).collect();
    run.extend(["--kubeconfig", &kc, "--interval", "0.05s"]);
    let (code, out, err) = splitscope(&run, None);
    assert_eq!(
        code, 1,
        "the template's check gates the ignored rollout: {out}{err}"
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["follow"]["ignored_at_step"], 1, "{report}");

    let (code, out, err) = splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--with-patch",
            "--interval",
            "0.05s",
            "--timeout",
            "60s",
        ],
        None,
    );
    assert_eq!(code, 0, "the patch under the RBAC: {out}{err}");

    let dir = server.kubeconfig.with_file_name("rbac-watch");
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, shot) = (dir.join("t.tape"), dir.join("watch.txt"));
    std::fs::write(
        &tape,
        format!(
            "wait /IGNORED/ 30s\nsleep 1s\nshot {}\nquit\n",
            shot.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = splitscope(
        &[
            "watch",
            "--kubeconfig",
            &kc,
            "--tape",
            &tape_arg,
            "--size",
            "200x50",
            "--interval",
            "0.1s",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let screen = std::fs::read_to_string(&shot).unwrap();
    assert!(screen.contains("Rollout web"), "{screen}");
    for words in ["forbidden", "cannot watch", "cannot list", "cannot read"] {
        assert!(
            !screen.contains(words),
            "{words:?} on the screen:\n{screen}"
        );
    }
}

/// As in a pod: no kubeconfig, the API server in `KUBERNETES_SERVICE_HOST` and `_PORT`,
/// the ServiceAccount's token, CA and namespace mounted where every pod has them. A
/// private mount namespace (`unshare -m`) puts them there for the child alone; where
/// that is not allowed the test says so and skips.
#[test]
fn check_follow_runs_with_the_in_cluster_config() {
    let allowed = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !allowed {
        eprintln!("skipping: unshare -m is not allowed here, so no pod's mounts can be made");
        return;
    }
    let server = serve(&["--scenario", "rollout-tcp"]);
    let text = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let config: Value = serde_saphyr::from_str(&text).unwrap();
    let url = config["clusters"][0]["cluster"]["server"].as_str().unwrap();
    let (host, port) = url.trim_start_matches("https://").rsplit_once(':').unwrap();
    let ca = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        config["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let secrets = server.kubeconfig.with_file_name("serviceaccount");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("ca.crt"), ca).unwrap();
    std::fs::write(
        secrets.join("token"),
        config["users"][0]["user"]["token"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(secrets.join("namespace"), splitscope::sandbox::NAMESPACE).unwrap();
    let home = server.kubeconfig.with_file_name("home");
    std::fs::create_dir_all(&home).unwrap();
    // /var/run is /run on most systems; the tmpfs goes where the path really leads.
    let run = std::fs::canonicalize("/var/run").unwrap();
    let script = format!(
        "mount --make-rprivate / && mount -t tmpfs tmpfs {run} && \
         mkdir -p {run}/secrets/kubernetes.io && \
         cp -r {secrets} {run}/secrets/kubernetes.io/serviceaccount && \
         exec {bin} check --follow --interval 0.05s --timeout 60s",
        run = run.display(),
        secrets = secrets.display(),
        bin = env!("CARGO_BIN_EXE_splitscope"),
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("SPLITSCOPE_ALPHA", crate::common::TEST_ALPHA.to_string())
        .env("KUBERNETES_SERVICE_HOST", host)
        .env("KUBERNETES_SERVICE_PORT", port)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("Rollout web: step 1 of 7 IGNORED"),
        "{stdout}{stderr}"
    );
}

/// The sandbox's own Rollout validates against the real CRD, and one the CRD's schema
/// refuses (a `setWeight` that is not an integer) the sandbox refuses with 422 too.
#[tokio::test]
async fn the_sandbox_serves_rollouts_as_their_crd_has_them() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let (_sandbox, client) = crate::common::sandbox_with(splitscope::sandbox::SandboxOptions {
        scenario: splitscope::sandbox::scenario::Scenario::Rollout,
        ..splitscope::sandbox::SandboxOptions::default()
    })
    .await;
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    let rollouts: Api<DynamicObject> = Api::namespaced_with(
        client,
        splitscope::sandbox::NAMESPACE,
        &ApiResource::from_gvk(&gvk),
    );
    let seeded = serde_json::to_value(rollouts.get("web").await.unwrap()).unwrap();
    if let Some(validator) = schema(
        "rollouts/argo-rollouts-rollout-crd.yaml",
        "Rollout",
        "v1alpha1",
    ) {
        let errors: Vec<String> = validator
            .iter_errors(&seeded)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "the seeded Rollout: {errors:#?}");
    }
    let mut bad = seeded.clone();
    bad["metadata"] = serde_json::json!({"name": "bad"});
    bad.as_object_mut().unwrap().remove("status");
    bad["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = serde_json::json!("ten");
    let bad: DynamicObject = serde_json::from_value(bad).unwrap();
    match rollouts.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(status.message.contains("setWeight"), "{status:?}");
        }
        other => panic!("a setWeight of \"ten\" was taken: {other:?}"),
    }
}
