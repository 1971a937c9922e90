//! The watch path without a terminal: the App and the Runtime on a sandbox, driven as
//! the screen's event loop drives them.

use std::time::Duration;

use splitscope::cluster::Cluster;
use splitscope::cluster::discover::ClientSpec;
use splitscope::sample::LineParser;
use splitscope::sandbox::{Sandbox, SandboxOptions};
use splitscope::tui::app::{App, Key, Msg, Settings};
use splitscope::tui::runtime::{Runtime, RuntimeOptions};

pub struct Watch {
    pub app: App,
    pub runtime: Runtime,
    pub sandbox: Option<Sandbox>,
    pub cluster: Cluster,
}

pub async fn start(
    options: SandboxOptions,
    route: Option<&str>,
    client: &str,
    interval: Duration,
    poll: Duration,
) -> Watch {
    let (sandbox, _) = super::sandbox_with(options).await;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig()).unwrap();
    let cluster = Cluster::from_kubeconfig(kubeconfig, None, None)
        .await
        .unwrap();
    let settings = Settings {
        context: cluster.context.clone(),
        namespace: cluster.namespace.clone(),
        read_only: false,
        window: 20,
        manual_labels: vec![],
        client: client.parse::<ClientSpec>().unwrap(),
        target: None,
        alpha: 0.01,
        settle: std::time::Duration::from_millis(200),
        shots_dir: std::env::temp_dir(),
        shot_formats: vec![],
        record: false,
        replay: None,
    };
    let runtime = Runtime::start(
        cluster.clone(),
        RuntimeOptions {
            route: route.map(String::from),
            interval,
            deadline: Duration::from_secs(600),
            container: None,
            poll,
        },
    );
    Watch {
        app: App::new(settings, LineParser::default(), jiff::Timestamp::now()),
        runtime,
        sandbox: Some(sandbox),
        cluster,
    }
}

impl Watch {
    /// Runs the loop until `done` holds, or fails after `limit` saying what it saw.
    pub async fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.app) {
            let msg = tokio::time::timeout_at(deadline, self.runtime.next())
                .await
                .unwrap_or_else(|_| {
                    let a = &self.app;
                    panic!(
                        "timed out waiting for {what}: verdict {:?}, n={}, patch {:?}, problem {:?}, route error {:?}, labels {:?}, last log {:?}",
                        a.split.verdict(), a.split.total(), a.patch, a.problem, a.route_error, a.label_problems, a.log.back()
                    )
                })
                .expect("runtime open");
            assert!(
                self.runtime.handle(&mut self.app, msg),
                "the app did not ask to quit"
            );
        }
    }

    /// Runs the loop for `d`, whatever happens.
    pub async fn run_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, self.runtime.next()).await {
            assert!(self.runtime.handle(&mut self.app, msg));
        }
    }

    pub fn key(&mut self, c: char) {
        assert!(self.runtime.handle(&mut self.app, Msg::Key(Key::Char(c))));
    }

    /// Resets the counts and collects `n` fresh samples; returns the v1 share.
    pub async fn fresh_share(&mut self, n: u64) -> f64 {
        self.key('r');
        self.until("fresh samples", Duration::from_secs(60), |a| {
            a.split.total() >= n
        })
        .await;
        self.app.split.total_shares()[0].share
    }
}

/// The weights of the route the app shows, in its order.
pub fn weights(a: &App) -> Vec<u32> {
    a.route
        .iter()
        .flat_map(|r| r.backends.iter().map(|b| b.weight))
        .collect()
}
