//! Shared by the end-to-end tests: a sandbox on loopback and a kube client for it,
//! built from the kubeconfig the sandbox writes, as a user's client would be.
#![allow(dead_code)]

pub mod fixtures;
pub mod serve;
pub mod watch;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use splitscope::sandbox::{NAMESPACE, Sandbox, SandboxOptions};
use tokio::io::AsyncReadExt;

pub async fn sandbox(istio: &str, weights: (u32, u32), delay: Duration) -> (Sandbox, Client) {
    sandbox_with(SandboxOptions {
        istio: istio.into(),
        weights,
        propagation_delay: delay,
        ..SandboxOptions::default()
    })
    .await
}

pub async fn sandbox_with(options: SandboxOptions) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(options).await.expect("sandbox starts");
    let client = client_for(&sandbox).await;
    (sandbox, client)
}

pub async fn client_for(sandbox: &Sandbox) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&sandbox.kubeconfig()).expect("kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig loads");
    Client::try_from(config).expect("client builds")
}

pub async fn curl_pod(client: &Client) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let list = pods
        .list(&ListParams::default().labels("app=curl"))
        .await
        .expect("list curl pods");
    list.items
        .first()
        .and_then(|p| p.metadata.name.clone())
        .expect("a curl pod")
}

/// Runs `script` in the curl pod through pods/exec; returns stdout, stderr and the status.
pub async fn exec(
    client: &Client,
    script: &str,
) -> (
    String,
    String,
    Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
) {
    let pod = curl_pod(client).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let mut attached = pods
        .exec(
            &pod,
            vec!["sh", "-c", script],
            &AttachParams::default().stdout(true).stderr(true),
        )
        .await
        .expect("exec starts");
    let mut stdout = attached.stdout().expect("stdout");
    let mut stderr = attached.stderr().expect("stderr");
    let status = attached.take_status().expect("status");
    let (mut out, mut err) = (String::new(), String::new());
    let (a, b) = tokio::join!(
        stdout.read_to_string(&mut out),
        stderr.read_to_string(&mut err)
    );
    a.expect("read stdout");
    b.expect("read stderr");
    let status = status.await;
    (out, err, status)
}

/// Opens `n` connections to tcp-echo:9000 from the curl pod; returns (v1, v2) replies.
pub async fn sample(client: &Client, n: usize) -> (usize, usize) {
    let script =
        format!("i=0; while [ $i -lt {n} ]; do date | nc -w 2 tcp-echo 9000; i=$((i+1)); done");
    let (out, err, _) = exec(client, &script).await;
    assert!(err.is_empty(), "nc failed: {err}");
    let ones = out.lines().filter(|l| l.starts_with("one ")).count();
    let twos = out.lines().filter(|l| l.starts_with("two ")).count();
    assert_eq!(ones + twos, n, "every connection gets one reply: {out}");
    (ones, twos)
}

pub fn v1_share(counts: (usize, usize)) -> f64 {
    counts.0 as f64 / (counts.0 + counts.1) as f64
}

/// Runs the binary with `args`, `stdin` on its standard input; returns the exit code,
/// stdout and stderr.
pub fn splitscope(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(args)
        .env("SPLITSCOPE_ALPHA", TEST_ALPHA.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The alpha the tests' runs use unless they say otherwise. At the default 0.01 a
/// verdict or a change may be wrong about once in a hundred by design, and the suite
/// asks for hundreds: a test that is wrong that often is a flaky test, not a finding.
/// An explicit `--alpha` still wins over this (flags over the environment).
pub const TEST_ALPHA: f64 = 1e-4;

/// Flags that make the demo quick for a test: fast probes, pushes and settling.
pub const QUICK_DEMO: [&str; 6] = [
    "--interval",
    "0.02s",
    "--propagation-delay",
    "50ms",
    "--settle",
    "0.3s",
];

/// `n` reply lines as busybox `date | nc` prints them, a second apart; `pick(i)` is the
/// prefix of line i.
pub fn transcript(n: usize, pick: impl Fn(usize) -> &'static str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{} Thu Dec  5 {:02}:{:02}:{:02} UTC 2024\n",
                pick(i),
                i / 3600,
                (i / 60) % 60,
                i % 60
            )
        })
        .collect()
}

/// Waits until every write so far has reached every waypoint replica.
pub async fn settled(sandbox: &Sandbox) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !sandbox.mesh().settled() {
        assert!(tokio::time::Instant::now() < deadline, "never settled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until a waypoint replica took a push compiled after `written`: what was written
/// then has reached the traffic (a debounce and a push time later).
pub async fn pushed(sandbox: &Sandbox, written: jiff::Timestamp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while splitscope::sandbox::mesh::push::took_effect(&sandbox.mesh().installs(), written)
        .is_empty()
    {
        assert!(tokio::time::Instant::now() < deadline, "never pushed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
