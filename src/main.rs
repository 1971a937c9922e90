//! The binary: parse the command line, run one command, print its outcome.

// main prints before the screen starts and after it is gone, never while it is up.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use splitscope::check::{self, CheckReport};
use splitscope::cli::launch;
use splitscope::cli::{
    CheckArgs, Command, DemoArgs, INTERVAL, OutputFormat, PatchAction, PatchArgs, ProbeArgs,
    ScreenArgs, WatchArgs,
};
use splitscope::cluster::Cluster;
use splitscope::sample::LineParser;
#[cfg(feature = "sandbox")]
use splitscope::sandbox::scenario::Scenario;
#[cfg(feature = "sandbox")]
use splitscope::sandbox::{CONTEXT, NAMESPACE, Sandbox, SandboxOptions};
use splitscope::session::app::{WaypointInfo, WaypointRef};
use splitscope::session::{Msg, RunReport, Runtime};
use splitscope::task::AbortOnDrop;

fn main() -> ExitCode {
    let cli = splitscope::cli::parse();
    match cli.command {
        Some(Command::Completions { shell }) => completions(shell),
        Some(Command::Man) => man(),
        // A transcript needs no async runtime.
        Some(Command::Check(args)) if args.from.is_some() => {
            report_check(run_transcript(&args), args.output)
        }
        command => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("splitscope: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let exit = runtime.block_on(run(command, cli.watch));
            // Remote streams may still be closing; do not wait for them.
            runtime.shutdown_background();
            exit
        }
    }
}

/// Runs a command that needs the async runtime, and says how it ended.
async fn run(command: Option<Command>, watch_args: WatchArgs) -> ExitCode {
    let result = match command {
        Some(Command::Check(args)) => return check(args).await,
        None => watch(watch_args).await,
        Some(Command::Watch(args)) => watch(args).await,
        Some(Command::Demo(args)) => demo(args).await,
        Some(Command::Patch(args)) => patch(args).await.map(RunEnd::from),
        Some(Command::Routes(args)) => routes(args).await.map(RunEnd::from),
        Some(Command::Replay(args)) => splitscope::replay::run(&args)
            .await
            .map(|report| RunEnd::from_report(&report)),
        Some(Command::Completions { shell }) => return completions(shell),
        Some(Command::Man) => return man(),
    };
    match result {
        Ok(end) => {
            if !end.message.is_empty() {
                println!("{}", end.message);
            }
            // Ended by a signal: the shell's convention, 128 + its number.
            end.signal.map_or(ExitCode::SUCCESS, |n| {
                ExitCode::from(u8::try_from(128 + n).unwrap_or(1))
            })
        }
        Err(e) => {
            eprintln!("splitscope: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn completions(shell: clap_complete::Shell) -> ExitCode {
    // Shells complete a command word: the binary, or the plugin's file name.
    let name = splitscope::cli::bin_name().replace(' ', "-");
    let mut command = splitscope::cli::command().bin_name(&name);
    clap_complete::generate(shell, &mut command, name, &mut std::io::stdout());
    ExitCode::SUCCESS
}

fn man() -> ExitCode {
    let page = clap_mangen::Man::new(splitscope::cli::command());
    match page.render(&mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        // `splitscope man | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("splitscope man: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How a command ended: what to print, and the signal that ended it, if one did.
struct RunEnd {
    message: String,
    signal: Option<i32>,
}

impl From<String> for RunEnd {
    fn from(message: String) -> RunEnd {
        RunEnd {
            message,
            signal: None,
        }
    }
}

impl RunEnd {
    fn from_report(report: &RunReport) -> RunEnd {
        RunEnd {
            message: report.message(),
            signal: report.signal,
        }
    }
}

/// `check` on a cluster: prints the report; the exit code is the verdict's, or 2.
async fn check(args: CheckArgs) -> ExitCode {
    if args.plan.is_given() {
        eprintln!(
            "splitscope check: --weights, --route-file and --default-split describe a transcript: use them with --from"
        );
        return ExitCode::from(2);
    }
    let output = args.output;
    report_check(run_check(args).await, output)
}

fn report_check(result: Result<CheckReport, CheckFailure>, output: OutputFormat) -> ExitCode {
    let json = output == OutputFormat::Json;
    match result {
        Ok(report) => {
            println!(
                "{}",
                if json {
                    report.json()
                } else {
                    report.summary()
                }
            );
            ExitCode::from(report.exit_code())
        }
        Err(CheckFailure::Check(e)) if json => {
            println!("{}", e.json());
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("splitscope check: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Why a check ended without a verdict: a check's own failure (which `--output json`
/// reports as JSON), or one before it could start (the flags, the kubeconfig).
#[derive(Debug, thiserror::Error)]
enum CheckFailure {
    #[error(transparent)]
    Check(#[from] check::CheckError),
    #[error(transparent)]
    Start(#[from] anyhow::Error),
}

impl From<splitscope::cluster::ClusterError> for CheckFailure {
    fn from(e: splitscope::cluster::ClusterError) -> CheckFailure {
        CheckFailure::Check(check::CheckError::Cluster(e))
    }
}

impl From<splitscope::sample::LineRegexError> for CheckFailure {
    fn from(e: splitscope::sample::LineRegexError) -> CheckFailure {
        CheckFailure::Check(check::CheckError::Usage(e.to_string()))
    }
}

/// `check --from`: a transcript, read without the async runtime.
fn run_transcript(args: &CheckArgs) -> Result<CheckReport, CheckFailure> {
    let parser = LineParser::new(args.screen.line_regex.as_deref())?;
    let from = args.from.as_deref().unwrap_or(std::path::Path::new("-"));
    Ok(check_transcript(args, from, &parser)?)
}

async fn run_check(args: CheckArgs) -> Result<CheckReport, CheckFailure> {
    let parser = LineParser::new(args.screen.line_regex.as_deref())?;
    let cluster = args.cluster.connect().await?;
    let settings = args.probe.settings(&cluster, &args.screen);
    let options = check::live::LiveOptions {
        runtime: args.probe.runtime(splitscope::cli::INTERVAL),
        samples: args.samples,
        timeout: args.timeout,
        with_patch: args.with_patch,
        follow: args.follow,
        record: args.screen.record.clone(),
    };
    Ok(check::live::check(cluster, settings, parser, options).await?)
}

fn check_transcript(
    args: &CheckArgs,
    from: &std::path::Path,
    parser: &LineParser,
) -> Result<CheckReport, check::CheckError> {
    use check::transcript::{Limits, Plan};
    let plan = Plan::from_flags(&args.plan, &args.screen.labels)?;
    let limits = Limits {
        samples: args.samples,
        all: args.all,
    };
    let alpha = args.screen.alpha;
    if from.as_os_str() == "-" {
        let stdin = std::io::stdin();
        return check::transcript::check(stdin, &plan, parser, alpha, &limits);
    }
    let file = std::fs::File::open(from).map_err(|error| check::CheckError::Read {
        path: from.display().to_string(),
        error,
    })?;
    check::transcript::check(file, &plan, parser, alpha, &limits)
}

async fn watch(args: WatchArgs) -> anyhow::Result<RunEnd> {
    let cluster = args.cluster.connect().await?;
    let report = screen(cluster, &args.probe, &args.screen, INTERVAL, None).await?;
    Ok(RunEnd::from_report(&report))
}

/// The watch screen on a connected cluster: the same path for a real one and the sandbox.
/// `notes` are lines for the log from elsewhere (the sandbox's own warnings).
async fn screen(
    cluster: Cluster,
    probe: &ProbeArgs,
    args: &ScreenArgs,
    interval: std::time::Duration,
    notes: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
) -> anyhow::Result<RunReport> {
    let settings = probe.settings(&cluster, args);
    let (app, themes) = launch::app(settings, args, jiff::Timestamp::now())?;
    let runtime = Runtime::start(cluster, probe.runtime(interval));
    // Nothing may print while the screen is up: notes go to its log.
    let _notes = notes.map(|mut notes| {
        let tx = runtime.sender();
        AbortOnDrop::spawn(async move {
            while let Some(note) = notes.recv().await {
                if tx.send(Msg::Sandbox(note, jiff::Timestamp::now())).is_err() {
                    break;
                }
            }
        })
    });
    launch::show(app, themes, runtime, args).await
}

#[cfg(not(feature = "sandbox"))]
async fn demo(_args: DemoArgs) -> anyhow::Result<RunEnd> {
    anyhow::bail!(
        "this build of splitscope has no sandbox (it was built without the `sandbox` feature), \
         so `demo` cannot run; build with the default features (`cargo build --release`) to get it. \
         `watch` and `patch` work against real clusters as they are"
    )
}

/// `--scenario NAME`; None for `list`, which prints them.
#[cfg(feature = "sandbox")]
fn scenario(name: &str) -> anyhow::Result<Option<Scenario>> {
    if name == "list" {
        return Ok(None);
    }
    Scenario::parse(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        anyhow::anyhow!(
            "no scenario {name:?}: the scenarios are {} (`--scenario list` says what each is)",
            names.join(", ")
        )
    })
}

#[cfg(feature = "sandbox")]
async fn demo(args: DemoArgs) -> anyhow::Result<RunEnd> {
    let defaults = SandboxOptions::default();
    let named = args.sandbox.scenario.as_deref();
    let Some(scenario) = named.map_or(Ok(Some(defaults.scenario)), scenario)? else {
        let lines: Vec<String> = Scenario::ALL
            .iter()
            .map(|s| format!("{:<17} {}", s.name(), s.describe()))
            .collect();
        return Ok(RunEnd::from(lines.join("\n")));
    };
    let given = &args.sandbox;
    let options = SandboxOptions {
        scenario,
        istio: given.istio.clone().unwrap_or(defaults.istio),
        weights: given.weights.unwrap_or(defaults.weights),
        propagation_delay: given
            .propagation_delay
            .unwrap_or(defaults.propagation_delay),
        port: given.port.unwrap_or(defaults.port),
        forbidden: given.forbid.clone(),
        seed: given.seed,
        faults: splitscope::sandbox::drills::Faults {
            cut_exec_every: given.cut_exec_every,
            api_errors: given.api_fault.clone(),
            latency: given.api_latency.unwrap_or(defaults.faults.latency),
        },
    };
    let shares: f64 = options.faults.api_errors.iter().map(|(_, s)| s).sum();
    if shares > 1.0 {
        anyhow::bail!("the --api-fault shares add up to {shares}: they must add up to 1 at most");
    }
    let options_said = (options.istio.clone(), options.weights, options.scenario);
    let sandbox = Sandbox::start(options).await?;
    if let Some(path) = &args.write_kubeconfig {
        sandbox.write_kubeconfig(path).map_err(|e| {
            anyhow::anyhow!("cannot write the kubeconfig to {}: {e}", path.display())
        })?;
    }
    if args.serve {
        // No screen here: the sandbox's warnings go to stderr.
        let _warnings = sandbox.warnings().map(|mut warnings| {
            AbortOnDrop::spawn(async move {
                while let Some(warning) = warnings.recv().await {
                    eprintln!("{warning}");
                }
            })
        });
        return serve(&sandbox, &options_said, &args)
            .await
            .map(RunEnd::from);
    }
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&sandbox.kubeconfig())?;
    let cluster = Cluster::from_kubeconfig(kubeconfig, None, None).await?;
    let report = screen(
        cluster,
        &args.probe,
        &args.screen,
        splitscope::cli::DEMO_INTERVAL,
        sandbox.warnings(),
    )
    .await?;
    // The sandbox ends with us, and its EnvoyFilters with it.
    let patched = report.patch != splitscope::session::PatchLeft::Off;
    // The sandbox stops here, before the message says so.
    drop(sandbox);
    let message = if patched {
        "The sandbox has stopped, and its patch with it."
    } else {
        "The sandbox has stopped."
    };
    Ok(RunEnd {
        message: message.to_string(),
        signal: report.signal,
    })
}

#[cfg(feature = "sandbox")]
async fn serve(
    sandbox: &Sandbox,
    (istio, (w1, w2), scenario): &(String, (u32, u32), Scenario),
    args: &DemoArgs,
) -> anyhow::Result<String> {
    let (kind, route) = splitscope::sandbox::seed::seeded_route(*scenario);
    let (app, port, exec) = if scenario.is_http() {
        (
            "helloworld",
            5000,
            "curl -sS -w ' %{http_code}\\n' helloworld:5000/hello",
        )
    } else {
        ("tcp-echo", 9000, "date | nc tcp-echo 9000")
    };
    // A rollout's steps set the weights, not the flag.
    let weights = if scenario.is_rollout() {
        format!(
            "moved by Rollout {} from {app}-v1 to {app}-v2 in steps",
            splitscope::sandbox::scenario::ROLLOUT
        )
    } else {
        format!("weights {app}-v1={w1} {app}-v2={w2}")
    };
    println!(
        "splitscope sandbox: Istio {istio} ambient mesh, {kind} {route} {weights} (port {port}), scenario {}",
        scenario.name()
    );
    println!("API server: {} (namespace {NAMESPACE})", sandbox.url());
    match &args.write_kubeconfig {
        Some(path) => {
            println!("kubeconfig: {} (context {CONTEXT})", path.display());
            println!();
            println!("Try:");
            println!("  export KUBECONFIG={}", path.display());
        }
        None => {
            println!(
                "No kubeconfig written (add --write-kubeconfig FILE); the bearer token is {}",
                sandbox.token()
            );
            println!();
            println!("Try:");
        }
    }
    println!(
        "  kubectl get {},envoyfilter,pods",
        kind.to_ascii_lowercase()
    );
    println!("  kubectl exec deploy/curl -- sh -c \"while true; do {exec}; sleep 2; done\"");
    if scenario.is_rollout() {
        println!("  kubectl get rollout -w");
        println!("  splitscope check --follow");
    }
    println!("  splitscope watch");
    println!();
    println!("Ctrl-C or SIGTERM stops the sandbox.");
    wait_for_stop().await;
    Ok("splitscope sandbox stopped.".into())
}

/// `splitscope routes`: the namespace's weighted routes, a row per rule.
async fn routes(args: splitscope::cli::RoutesArgs) -> anyhow::Result<String> {
    let cluster = args.cluster.connect().await?;
    let listed: Vec<_> = cluster
        .routes()
        .await?
        .into_iter()
        .map(|l| (l.kind, l.object))
        .collect();
    let rows = splitscope::route_list::rows(&listed);
    Ok(match args.output {
        splitscope::cli::RoutesOutput::Json => serde_json::to_string(&rows)?,
        splitscope::cli::RoutesOutput::Table if rows.is_empty() => format!(
            "no weighted route (TCPRoute, HTTPRoute, GRPCRoute, TLSRoute) in namespace {}",
            cluster.namespace
        ),
        splitscope::cli::RoutesOutput::Table => splitscope::route_list::table(&rows),
    })
}

async fn patch(args: PatchArgs) -> anyhow::Result<String> {
    if let Some(file) = &args.file {
        if args.action != PatchAction::Print {
            anyhow::bail!(
                "--file only works with `patch print`; apply and remove read the route from the cluster"
            );
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let obj: serde_json::Value = serde_saphyr::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a YAML manifest: {e}", file.display()))?;
        let route = splitscope::route::Route::from_object(&obj)?;
        let port = args
            .port
            .or(route.parent_port)
            .ok_or_else(|| anyhow::anyhow!("the route names no parent port; pass --port"))?;
        let waypoint = waypoint_flag(args.waypoint.as_deref().unwrap_or("waypoint"), &route);
        return Ok(serde_saphyr::to_string(
            &splitscope::patch::envoy_filter_on(&route, &waypoint, port),
        )?);
    }
    let cluster = args.cluster.connect().await?;
    let query = splitscope::cluster::discover::RouteQuery {
        name: args.route.clone(),
        ..Default::default()
    };
    let route = cluster.find_route(&query).await?;
    let waypoint = match &args.waypoint {
        Some(w) => Ok(waypoint_flag(w, &route)),
        None => match cluster.waypoint_for(&route.parent).await? {
            WaypointInfo::Named(w) => Ok(w),
            WaypointInfo::NoneServes(why) => Err(format!(
                "no waypoint serves Service {} ({why}); pass --waypoint [NAMESPACE/]NAME",
                route.parent
            )),
            WaypointInfo::Unreadable(e) => Err(e.to_string()),
            WaypointInfo::Unknown => Err("the waypoint could not be read".into()),
        },
    };
    if args.action == PatchAction::Remove {
        // Without a waypoint now, the patch may still sit in the route's namespace.
        let ns = waypoint
            .as_ref()
            .map_or_else(|_| route.namespace.clone(), |w| w.namespace.clone());
        let name = splitscope::patch::name_in(&route, &ns);
        return Ok(if cluster.remove_patch(&route, &ns).await? {
            format!("envoyfilter {name} deleted from namespace {ns}")
        } else {
            format!("envoyfilter {name} was not there (namespace {ns}); nothing to remove")
        });
    }
    // The table of known bugs decides whether there is anything to work around.
    let version = cluster.istio_version(&route).await?;
    if splitscope::bugs::applies(&route, version.as_deref()) == splitscope::bugs::Applies::No {
        anyhow::bail!(splitscope::bugs::none_applies(&route, version.as_deref()));
    }
    let waypoint = waypoint.map_err(anyhow::Error::msg)?;
    let port = args
        .port
        .or(route.parent_port)
        .ok_or_else(|| anyhow::anyhow!("the route names no parent port; pass --port"))?;
    if args.action == PatchAction::Print {
        return Ok(serde_saphyr::to_string(
            &splitscope::patch::envoy_filter_on(&route, &waypoint, port),
        )?);
    }
    cluster.apply_patch(&route, &waypoint, port).await?;
    Ok(format!(
        "envoyfilter {} applied in namespace {} for waypoint {} (field manager splitscope)",
        splitscope::patch::name_in(&route, &waypoint.namespace),
        waypoint.namespace,
        waypoint.name
    ))
}

/// `--waypoint NAME` (in the route's namespace) or `--waypoint NAMESPACE/NAME`.
fn waypoint_flag(text: &str, route: &splitscope::route::Route) -> WaypointRef {
    let (namespace, name) = text
        .split_once('/')
        .unwrap_or((route.namespace.as_str(), text));
    WaypointRef {
        name: name.to_string(),
        namespace: namespace.to_string(),
        source: splitscope::istio::waypoint::Source::Namespace,
    }
}

#[cfg(feature = "sandbox")]
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
