//! The watch path without a terminal: the App and the Runtime on a sandbox, driven as
//! the screen's event loop drives them.

use std::time::Duration;

use splitscope::cluster::Cluster;
use splitscope::cluster::discover::ClientSpec;
use splitscope::sample::LineParser;
use splitscope::sandbox::{Sandbox, SandboxOptions};
use splitscope::session::{
    App, Flow, Key, Msg, NoScreen, Runtime, RuntimeOptions, Session, Settings, Stop,
};

pub struct Watch {
    pub session: Session,
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
        client: client.parse::<ClientSpec>().unwrap(),
        settle: Duration::from_millis(200),
        alpha: super::TEST_ALPHA,
        ..Settings::new(cluster.context.clone(), cluster.namespace.clone())
    };
    let runtime = Runtime::start(
        cluster.clone(),
        RuntimeOptions {
            route: splitscope::cluster::discover::RouteQuery {
                name: route.map(|r| r.parse().expect("a route name")),
                ..Default::default()
            },
            interval,
            deadline: Duration::from_secs(600),
            container: None,
            poll,
            ..RuntimeOptions::default()
        },
    );
    let app = App::new(settings, LineParser::default(), jiff::Timestamp::now());
    Watch {
        session: Session::new(app, runtime),
        sandbox: Some(sandbox),
        cluster,
    }
}

impl Watch {
    pub fn app(&self) -> &App {
        self.session.app()
    }

    /// Runs the session until `done` holds, or fails after `limit` saying what it saw.
    pub async fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&App) -> bool) {
        let until = Some(tokio::time::Instant::now() + limit);
        let stop = self
            .session
            .run(&mut NoScreen, until, |a, _| done(a).then_some(()))
            .await;
        let a = self.session.app();
        assert!(
            matches!(stop, Ok(Stop::Done(()))),
            "waiting for {what}, the session stopped ({stop:?}): verdict {:?}, n={}, patch {:?}, problem {:?}, route error {:?}, labels {:?}, last log {:?}",
            a.split().verdict(),
            a.split().total(),
            a.patch(),
            a.problem(),
            a.route_error(),
            a.label_problems(),
            a.log().back()
        );
    }

    /// Runs the session for `d`, whatever happens.
    pub async fn run_for(&mut self, d: Duration) {
        let until = Some(tokio::time::Instant::now() + d);
        let stop = self
            .session
            .run(&mut NoScreen, until, |_, _| None::<()>)
            .await;
        assert!(matches!(stop, Ok(Stop::TimedOut)), "{stop:?}");
    }

    /// A key, as the terminal would send it.
    pub fn key(&mut self, c: char) {
        assert_eq!(
            self.session.step(Msg::Key(Key::Char(c)), &mut NoScreen),
            Flow::Go
        );
    }

    /// Resets the counts and collects `n` fresh samples; returns the v1 share.
    pub async fn fresh_share(&mut self, n: u64) -> f64 {
        self.key('r');
        self.until("fresh samples", Duration::from_secs(60), |a| {
            a.split().total() >= n
        })
        .await;
        self.app().split().total_shares()[0].share
    }
}

/// The weights of the route the app shows, in its order.
pub fn weights(a: &App) -> Vec<u32> {
    a.route()
        .iter()
        .flat_map(|r| r.backends.iter().map(|b| b.weight))
        .collect()
}
