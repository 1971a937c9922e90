//! `check` on a cluster: the screen's app and runtime without the screen, until the first
//! decision or a limit. `--with-patch` puts the workaround on first and always takes it
//! off again, on a verdict, a limit, an error or Ctrl-C.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::CheckError;
use super::report::{CheckReport, RunFacts};
use crate::cluster::Cluster;
use crate::probe::ProbeEvent;
use crate::sample::LineParser;
use crate::split::Verdict;
use crate::tui::app::{App, Key, Msg, PatchState, Settings};
use crate::tui::runtime::{Runtime, RuntimeOptions};
use crate::verdict::RegimeCause;

/// Probe ends with not one sample before the check gives up on the client.
const FRUITLESS_ENDS: u32 = 3;
/// How long the check waits for a cluster that cannot answer (unreachable, 5xx, 429)
/// before it gives up with exit 2.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct LiveOptions {
    pub route: Option<String>,
    pub interval: Duration,
    pub deadline: Duration,
    pub container: Option<String>,
    pub samples: Option<u64>,
    pub timeout: Option<Duration>,
    pub with_patch: bool,
    /// `--record FILE`: the samples and changes, as the screen would record them.
    pub record: Option<std::path::PathBuf>,
}

pub async fn check(
    cluster: Cluster,
    settings: Settings,
    parser: LineParser,
    options: LiveOptions,
) -> Result<CheckReport, CheckError> {
    let mut app = App::new(settings, parser, Timestamp::now());
    let mut runtime = Runtime::start(
        cluster.clone(),
        RuntimeOptions {
            route: options.route.clone(),
            interval: options.interval,
            deadline: options.deadline,
            container: options.container.clone(),
            poll: Duration::from_secs(2),
        },
    );
    if let Some(path) = &options.record {
        let file = std::fs::File::create(path)
            .map_err(|e| CheckError::Usage(format!("cannot record to {}: {e}", path.display())))?;
        runtime.record_to(file);
    }
    let outcome = tokio::select! {
        r = drive(&mut app, &mut runtime, &options) => r,
        _ = tokio::signal::ctrl_c() => Err(CheckError::Interrupted(String::new())),
    };
    drop(runtime);
    if options.with_patch
        && let Some(route) = &app.route
    {
        // Whatever happened, the workaround comes off again.
        let removed = cluster
            .remove_patch(route, &app.patch_namespace(route))
            .await;
        if let Err(e) = removed {
            return Err(match outcome {
                Err(first) => first,
                Ok(_) => CheckError::Cluster(e),
            });
        }
        if let Err(CheckError::Interrupted(_)) = outcome {
            return Err(CheckError::Interrupted("; the patch was removed".into()));
        }
    }
    outcome?;
    Ok(report(&app))
}

fn report(app: &App) -> CheckReport {
    let (names, weights): (Vec<String>, Vec<u32>) = app
        .route
        .iter()
        .flat_map(|r| r.backends.iter().map(|b| (b.name.clone(), b.weight)))
        .unzip();
    CheckReport::new(
        app.split.judge(),
        &RunFacts {
            names: &names,
            weights: &weights,
            samples: app.split.total() - app.split.unmapped().1,
            unmapped: app.split.unmapped().1,
            unparsable: app.unparsable,
            errors: app.errors,
            unit: "seconds",
        },
    )
}

/// Feeds the app until a verdict the check may stop at, a limit, or an error.
async fn drive(
    app: &mut App,
    runtime: &mut Runtime,
    options: &LiveOptions,
) -> Result<(), CheckError> {
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let mut fruitless_ends = 0;
    let mut asked_for_patch = false;
    // Since when the cluster has not answered (unreachable, 5xx, 429).
    let mut troubled: Option<Instant> = None;
    loop {
        let msg = match deadline {
            Some(d) => match tokio::time::timeout_at(d, runtime.next()).await {
                Ok(msg) => msg,
                Err(_) => return Ok(()),
            },
            None => runtime.next().await,
        };
        let Some(msg) = msg else { return Ok(()) };
        if let Msg::Probe(ProbeEvent::Ended { reason, .. }, _) = &msg
            && app.split.total() == 0
        {
            fruitless_ends += 1;
            if fruitless_ends >= FRUITLESS_ENDS {
                return Err(CheckError::Probe(format!(
                    "the probe found no replies: {reason}"
                )));
            }
        }
        runtime.handle(app, msg);
        // A server that cannot answer now is given PATIENCE; anything else ends the check.
        match app.route_error.clone().or_else(|| app.problem.clone()) {
            Some(e) if !e.is_transient() => return Err(CheckError::Cluster(e)),
            Some(e) => {
                let since = *troubled.get_or_insert_with(Instant::now);
                if since.elapsed() > PATIENCE {
                    return Err(CheckError::Cluster(e));
                }
            }
            None => troubled = None,
        }
        if options.with_patch {
            if let PatchState::Failed(e) = &app.patch {
                return Err(CheckError::Cluster(e.clone()));
            }
            let ready = app.route.is_some() && app.info.waypoint.name().is_some();
            if ready && !asked_for_patch && matches!(app.patch, PatchState::On(_)) {
                // Ours is on already: the evidence counts from now.
                asked_for_patch = true;
                let now = app.elapsed(app.now);
                app.split.start_regime(RegimeCause::PatchOn, now);
            }
            if ready && !asked_for_patch && matches!(app.patch, PatchState::Off) {
                asked_for_patch = true;
                runtime.handle(app, Msg::Key(Key::Char('p')));
                if let Some(notice) = app
                    .notice
                    .clone()
                    .filter(|_| !matches!(app.patch, PatchState::Applying(_)))
                {
                    return Err(CheckError::Usage(notice));
                }
            }
        }
        let decided = matches!(app.split.verdict(), Verdict::Honoured | Verdict::Ignored);
        // With the patch, only a regime from the patch on counts.
        let relevant = !options.with_patch
            || (matches!(app.patch, PatchState::On(_))
                && app.split.regime().cause != RegimeCause::Start);
        if decided && relevant {
            return Ok(());
        }
        if options.samples.is_some_and(|n| app.split.total() >= n) {
            return Ok(());
        }
    }
}
