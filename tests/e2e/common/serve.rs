//! `splitscope demo --serve` as a child process, with the kubeconfig it writes.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub kubeconfig: PathBuf,
    _dir: TempDir,
}

pub struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(extra: &[&str]) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "splitscope-kubectl-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("sandbox.kubeconfig");
    // Quick pushes, unless the test asks for others.
    let delay: &[&str] = if extra.contains(&"--propagation-delay") {
        &[]
    } else {
        &["--propagation-delay", "50ms"]
    };
    let child = Command::new(env!("CARGO_BIN_EXE_splitscope"))
        .args(["demo", "--serve", "--write-kubeconfig"])
        .arg(&kubeconfig)
        .args(delay)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("splitscope starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kubeconfig.exists() {
        assert!(Instant::now() < deadline, "the sandbox wrote no kubeconfig");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        kubeconfig,
        _dir: TempDir(dir),
    }
}

pub fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        % 1_000_000_007
}

/// How many EnvoyFilters the sandbox holds, in every namespace, read through its
/// kubeconfig.
pub fn envoyfilters(kubeconfig: &std::path::Path) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        let cluster = splitscope::cluster::Cluster::from_kubeconfig(kubeconfig, None, None)
            .await
            .unwrap();
        let gvk =
            kube::api::GroupVersionKind::gvk("networking.istio.io", "v1alpha3", "EnvoyFilter");
        let api: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
            cluster.client.clone(),
            &kube::api::ApiResource::from_gvk(&gvk),
        );
        api.list(&Default::default()).await.unwrap().items.len()
    })
}
