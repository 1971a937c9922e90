//! `check` on a cluster: the session without a screen, until the first decision or a
//! limit. `--with-patch` puts the workaround on first and always takes it off again, on
//! a verdict, a limit, an error or Ctrl-C.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::CheckError;
use super::report::{CheckReport, RunFacts};
use crate::cluster::Cluster;
use crate::sample::LineParser;
use crate::session::app::{PatchState, ProbeState};
use crate::session::{App, Msg, NoScreen, Runtime, RuntimeOptions, Session, Settings, Stop};
use crate::split::Verdict;
use crate::verdict::RegimeCause;

/// Probe ends with not one sample, none of them a server that could not answer now,
/// before the check gives up on the client.
const FRUITLESS_ENDS: u32 = 3;
/// How long the check waits for a cluster that cannot answer (unreachable, 5xx, 429),
/// to its reads and to the probe's exec alike, before it gives up with exit 2.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub struct LiveOptions {
    pub runtime: RuntimeOptions,
    pub samples: Option<u64>,
    pub timeout: Option<Duration>,
    pub with_patch: bool,
    /// `--follow`: every step of the rollout behind the route, to its end.
    pub follow: bool,
    /// `--record FILE`: the samples and changes, as the screen would record them.
    pub record: Option<std::path::PathBuf>,
}

pub async fn check(
    cluster: Cluster,
    settings: Settings,
    parser: LineParser,
    options: LiveOptions,
) -> Result<CheckReport, CheckError> {
    let app = App::new(settings, parser, Timestamp::now());
    let runtime = Runtime::start(cluster.clone(), options.runtime.clone());
    let mut session = Session::new(app, runtime);
    if let Some(path) = &options.record {
        let file = std::fs::File::create(path)
            .map_err(|e| CheckError::Usage(format!("cannot record to {}: {e}", path.display())))?;
        session.record_to(file);
    }
    if options.with_patch {
        let _ = session.sender().send(Msg::WantPatch);
    }
    let outcome = tokio::select! {
        r = drive(&mut session, &options) => r,
        _ = tokio::signal::ctrl_c() => Err(CheckError::Interrupted(String::new())),
    };
    let app = session.app().clone();
    // Every record reaches the disk, whatever the outcome.
    let _ = session.finish();
    if options.with_patch
        && let Some(route) = app.route()
    {
        // Whatever happened, the workaround comes off again.
        let removed = cluster
            .remove_patch(route, &app.patch_namespace(route))
            .await;
        if let Err(e) = removed {
            return Err(match outcome {
                Err(first) => first,
                Ok(()) => CheckError::Cluster(e),
            });
        }
        if let Err(CheckError::Interrupted(_)) = outcome {
            return Err(CheckError::Interrupted("; the patch was removed".into()));
        }
    }
    outcome?;
    Ok(report(&app, options.follow))
}

fn report(app: &App, follow: bool) -> CheckReport {
    let (names, weights): (Vec<String>, Vec<u32>) = app
        .route()
        .iter()
        .flat_map(|r| r.backends.iter().map(|b| (b.name.clone(), b.weight)))
        .unzip();
    let split = app.split();
    let mut report = CheckReport::new(
        split.judge(),
        &RunFacts {
            names: &names,
            weights: &weights,
            samples: split.total() - split.unmapped().1,
            unmapped: split.unmapped().1,
            unparsable: app.unparsable(),
            errors: app.errors(),
            unit: "seconds",
        },
    );
    report.route = app.route().map(crate::check::report::RouteReport::of);
    report.statuses = app.statuses().clone();
    report.changes = app
        .changes()
        .iter()
        .map(crate::check::report::ChangeReport::of)
        .collect();
    if follow {
        report.follow = Some(
            super::follow::FollowReport::of(app)
                .unwrap_or_else(super::follow::FollowReport::unread),
        );
    }
    report
}

/// Runs the session until a verdict the check may stop at, a limit, or an error.
async fn drive(session: &mut Session, options: &LiveOptions) -> Result<(), CheckError> {
    let until = options.timeout.map(|t| Instant::now() + t);
    let mut trouble = Trouble::default();
    let stop = session
        .run(&mut NoScreen, until, |app, _| {
            verdict_or_trouble(app, options, &mut trouble)
        })
        .await;
    match stop {
        Ok(Stop::Done(outcome)) => outcome,
        Ok(Stop::Quit | Stop::TimedOut | Stop::Closed) => Ok(()),
        Err(never) => match never {},
    }
}

/// How long the check has gone without progress while the cluster could not answer.
#[derive(Default)]
struct Trouble {
    /// Since when the cluster has not answered (unreachable, 5xx, 429) and no sample came.
    since: Option<Instant>,
    /// Samples counted when last looked.
    samples: u64,
}

impl Trouble {
    /// Whether a cluster that cannot answer now has held the check up for longer than
    /// PATIENCE. Samples still arriving are progress: the verdict does not wait on the
    /// reads that failed.
    fn too_long(&mut self, samples: u64) -> bool {
        if samples > self.samples {
            self.samples = samples;
            self.since = None;
        }
        self.since.get_or_insert_with(Instant::now).elapsed() > PATIENCE
    }
}

/// Some once the check may stop: Ok at a verdict or a limit, Err when the cluster or
/// the probe cannot be used.
fn verdict_or_trouble(
    app: &App,
    options: &LiveOptions,
    trouble: &mut Trouble,
) -> Option<Result<(), CheckError>> {
    let fruitless = app.fruitless();
    // Before the first sample, the most telling of the probe's ends; after it, the gap
    // the probe is in now (a pod or an exec that keeps failing must not hold the check
    // for ever).
    let probe_trouble = match app.probe() {
        _ if app.split().total() == 0 => fruitless.last.as_ref(),
        ProbeState::Gap { reason, .. } => Some(reason),
        ProbeState::Connecting | ProbeState::Running { .. } => None,
    };
    if let Some(end) = probe_trouble.filter(|e| !e.is_transient())
        && app.split().total() == 0
        && fruitless.ends >= FRUITLESS_ENDS
    {
        return Some(Err(CheckError::Probe(format!(
            "the probe found no replies: {end}"
        ))));
    }
    // A server that cannot answer now is given PATIENCE; anything else ends the check.
    let samples = app.split().total();
    let cluster_trouble = app.route_error().or(app.problem()).cloned();
    match cluster_trouble {
        Some(e) if !e.is_transient() => return Some(Err(CheckError::Cluster(e))),
        Some(e) => {
            if trouble.too_long(samples) {
                return Some(Err(CheckError::Cluster(e)));
            }
        }
        // Before any sample, only a server that could not answer is waited for; after
        // samples, any gap is (a client pod may be restarting).
        None => match probe_trouble.filter(|e| e.is_transient() || app.split().total() > 0) {
            Some(end) => {
                if trouble.too_long(samples) {
                    return Some(Err(CheckError::Probe(format!(
                        "the probe found no replies: {end}"
                    ))));
                }
            }
            None => trouble.since = None,
        },
    }
    if options.with_patch {
        if let PatchState::Failed(e) = app.patch() {
            return Some(Err(CheckError::Cluster(e.clone())));
        }
        if let Some(why) = app.patch_refused() {
            return Some(Err(CheckError::Usage(why.to_string())));
        }
    }
    // Following a rollout, its steps decide the end (one over before the check began
    // is waited on until --timeout, for its next revision).
    if options.follow {
        return super::follow::follow_done(app).map(|r| r.map_err(CheckError::Usage));
    }
    let decided = matches!(app.split().verdict(), Verdict::Honoured | Verdict::Ignored);
    // With the patch, only a regime from the patch on counts.
    let relevant = !options.with_patch
        || (matches!(app.patch(), PatchState::On(_))
            && app.split().regime().cause != RegimeCause::Start);
    // A change still waiting to show is waited for (`--lag-timeout` at most), so the
    // report can say when it landed.
    let landing = app
        .changes()
        .back()
        .is_some_and(|c| c.landed == crate::session::app::Landed::Open);
    if decided && relevant && !landing || options.samples.is_some_and(|n| app.split().total() >= n)
    {
        return Some(Ok(()));
    }
    None
}
