//! The command line: the commands and their flags. How each flag's value is read and
//! checked is in `values`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cluster::discover::{ClientSpec, RouteQuery};
use crate::route::{RouteRef, RulePick};
use crate::session::{RuntimeOptions, Settings};

mod defaults;
pub mod launch;
mod values;

use defaults::probe_default;
#[cfg(feature = "sandbox")]
use defaults::sandbox_default;
pub use values::BurstFlag;
use values::{
    parse_alpha, parse_api_fault, parse_burst, parse_client, parse_deadline, parse_forbid,
    parse_header, parse_interval, parse_istio, parse_label, parse_path, parse_per_connection,
    parse_positive_duration, parse_prefix_number, parse_route, parse_rule, parse_shot_format,
    parse_speed, parse_target, parse_weights, parse_window,
};
pub use values::{parse_duration, parse_size};

#[derive(Debug, Parser)]
#[command(
    name = "splitscope",
    version,
    about = "Watch a traffic split in an Istio ambient mesh live, against the route's weights",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, splitscope watches.
    #[command(flatten)]
    pub watch: WatchArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the split live in the current kubeconfig's cluster (the default).
    Watch(WatchArgs),
    /// Run the embedded sandbox (a simulated Istio ambient mesh) and watch it.
    Demo(DemoArgs),
    /// Print, apply or remove the EnvoyFilter workaround for Istio bug 54119.
    Patch(PatchArgs),
    /// Play a `--record` file or a transcript of reply lines into the screen and verdict.
    Replay(ReplayArgs),
    /// Judge the split without a screen, for scripts and CI: exit 0 HONOURED, 1 IGNORED,
    /// 2 an error, 3 UNDECIDED (or AMBIGUOUS) at the limit.
    Check(CheckArgs),
    /// List the namespace's weighted routes (TCPRoute, HTTPRoute, GRPCRoute, TLSRoute):
    /// one row per rule with its parent and weights, as `--route KIND/NAME --rule N`
    /// name them.
    Routes(RoutesArgs),
    /// Print a completion script for your shell, e.g. `splitscope completions bash >
    /// /etc/bash_completion.d/splitscope`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `splitscope man | man -l -`.
    Man,
}

/// What the binary is called as: `kubectl-splitscope` (or a link of that name) makes it a
/// kubectl plugin, and its help and errors say `kubectl splitscope`.
pub fn bin_name() -> &'static str {
    let invoked = std::env::args_os().next();
    let as_plugin = invoked
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .and_then(std::ffi::OsStr::to_str)
        .is_some_and(|name| name.starts_with("kubectl-"));
    if as_plugin {
        "kubectl splitscope"
    } else {
        "splitscope"
    }
}

/// The command line's definition, named as the binary was called, with the defaults
/// the code keeps (one place each) shown in help and used when a flag is not given.
pub fn command() -> clap::Command {
    let name = bin_name();
    let command = Cli::command()
        .bin_name(name)
        .display_name(name)
        .mut_args(|a| probe_default(a, INTERVAL))
        .mut_subcommands(|c| match c.get_name() {
            "watch" | "check" => c.mut_args(|a| probe_default(a, INTERVAL)),
            "demo" => c.mut_args(|a| probe_default(a, DEMO_INTERVAL)),
            // A replay's --interval spaces untimed lines: another fact, its own default.
            "replay" => c.mut_args(|a| match a.get_id().as_str() {
                "interval" => a,
                _ => probe_default(a, INTERVAL),
            }),
            _ => c,
        });
    #[cfg(feature = "sandbox")]
    let command = command.mut_subcommand("demo", |demo| demo.mut_args(sandbox_default));
    command
}

/// Parses the command line; a bad one exits with clap's message and code 2.
pub fn parse() -> Cli {
    Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One summary line.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Stop after this many samples if nothing was decided.
    #[arg(long, value_name = "N")]
    pub samples: Option<u64>,
    /// Stop after this long if nothing was decided (a cluster only).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Read to the end (with --from) and report the last regime instead of stopping at
    /// the first decision.
    #[arg(long, requires = "from")]
    pub all: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Apply the workaround, check, and remove it again (also on Ctrl-C or a failure).
    #[arg(long, conflicts_with_all = ["from", "read_only"])]
    pub with_patch: bool,
    /// Judge every weight the canary rollout behind the route sets (an Argo Rollout or
    /// a Flagger Canary) until it completes, aborts, or --timeout, which it needs (one
    /// already over is waited on for its next revision): exit 1 at the first step
    /// IGNORED, 3 if a step was not decided before the next came, the check stopped
    /// first or no step came, 0 when the rollout ended with every step HONOURED (a
    /// last one it completed first aside), 2 when no rollout names the route.
    #[arg(long, requires = "timeout", conflicts_with_all = ["from", "with_patch", "samples"])]
    pub follow: bool,
    /// Read a transcript (probe lines, `-` for stdin) instead of a cluster.
    #[arg(long, value_name = "FILE|-")]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// What a transcript is judged against, when no cluster says: `check --from` and `replay`.
#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// The weight of each reply prefix, like one=90,two=10 (each prefix is a backend).
    #[arg(long, value_name = "PREFIX=WEIGHT,…", value_delimiter = ',', value_parser = parse_prefix_number)]
    pub weights: Vec<(String, u32)>,
    /// Read the weights from a TCPRoute manifest (map prefixes with --label).
    #[arg(long, value_name = "FILE", conflicts_with = "weights")]
    pub route_file: Option<PathBuf>,
    /// The mesh's default split per prefix, what the bug produces (default: uniform).
    #[arg(long, value_name = "PREFIX=N,…", value_delimiter = ',', value_parser = parse_prefix_number)]
    pub default_split: Vec<(String, u32)>,
}

impl PlanArgs {
    pub fn is_given(&self) -> bool {
        !self.weights.is_empty() || self.route_file.is_some() || !self.default_split.is_empty()
    }
}

#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    /// Path to the kubeconfig (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long, env = "SPLITSCOPE_CONTEXT")]
    pub context: Option<String>,
    /// The namespace of the route (default: the context's).
    #[arg(short, long, env = "SPLITSCOPE_NAMESPACE")]
    pub namespace: Option<String>,
    /// Where Istio's control plane runs (default: istio-system, else wherever a Deployment
    /// labelled app=istiod is).
    #[arg(long, value_name = "NAMESPACE", env = "SPLITSCOPE_ISTIO_NAMESPACE")]
    pub istio_namespace: Option<String>,
}

impl ClusterArgs {
    /// Connects as kubectl would with these flags.
    pub async fn connect(&self) -> Result<crate::cluster::Cluster, crate::cluster::ClusterError> {
        let mut cluster = crate::cluster::Cluster::connect(
            self.kubeconfig.as_deref(),
            self.context.as_deref(),
            self.namespace.as_deref(),
        )
        .await?;
        cluster.istio_namespace.clone_from(&self.istio_namespace);
        Ok(cluster)
    }
}

/// Where the probe runs and what it may change: a cluster's, not a replay's.
#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// The route: NAME or KIND/NAME, KIND one of tcproute, httproute, grpcroute, tlsroute
    /// (default: the one weighted route in the namespace).
    #[arg(long, value_name = "[KIND/]NAME", env = "SPLITSCOPE_ROUTE", value_parser = parse_route)]
    pub route: Option<RouteRef>,
    /// The route's rule to judge, from 1 (default: the one the probe's path meets, else
    /// the first with weights).
    #[arg(long, value_name = "N", env = "SPLITSCOPE_RULE", value_parser = parse_rule)]
    pub rule: Option<usize>,
    /// HTTP: the path the probe requests (default: one the rule's matches accept).
    #[arg(long, env = "SPLITSCOPE_PATH", value_parser = parse_path)]
    pub path: Option<String>,
    /// HTTP: a header sent with every request, `NAME: VALUE`; repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE", env = "SPLITSCOPE_HEADERS", value_delimiter = ',', value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// HTTP: requests over one connection (curl reuses it), to see connection reuse skew
    /// a split.
    #[arg(long, value_name = "N", default_value = "1", env = "SPLITSCOPE_REQUESTS_PER_CONNECTION", value_parser = parse_per_connection)]
    pub requests_per_connection: u32,
    /// Any other client, run in the client pod once per sample (grpcurl for a GRPCRoute,
    /// openssl for a TLSRoute); what it prints is one reply, classified like any.
    #[arg(long, value_name = "CMD", env = "SPLITSCOPE_PROBE_COMMAND")]
    pub probe_command: Option<String>,
    /// The pod that runs the probe: deploy/NAME or pod/NAME.
    #[arg(long, default_value = crate::cluster::discover::DEFAULT_CLIENT, env = "SPLITSCOPE_CLIENT", value_parser = parse_client)]
    pub client: ClientSpec,
    /// The container of the client pod to run the probe in (default: the first that is
    /// not istio-proxy).
    #[arg(long, value_name = "NAME", env = "SPLITSCOPE_CONTAINER")]
    pub container: Option<String>,
    /// Where the probe connects (default: the route's parent Service and port).
    #[arg(long, value_name = "HOST:PORT", env = "SPLITSCOPE_TARGET", value_parser = parse_target)]
    pub target: Option<(String, u16)>,
    /// Never create or delete the EnvoyFilter.
    #[arg(long, env = "SPLITSCOPE_READ_ONLY")]
    pub read_only: bool,
    /// The remote loop ends by itself after this long.
    #[arg(long, value_name = "DURATION", env = "SPLITSCOPE_DEADLINE", value_parser = parse_deadline)]
    pub deadline: Option<Duration>,
    /// Time between probe connections.
    #[arg(long, value_name = "DURATION", env = "SPLITSCOPE_INTERVAL", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    /// While an answer is open (at the start, after a patch toggle, a route edit or a
    /// change in the stream), sample this fast beside the steady loop, at most this many
    /// samples, until the verdict comes: RATE,COUNT, or `off`. Bounded load: at most
    /// COUNT samples a change.
    #[arg(long, value_name = "RATE,COUNT|off", default_value = "20,60", env = "SPLITSCOPE_BURST", value_parser = parse_burst)]
    pub burst: BurstFlag,
}

pub use crate::session::runtime::{DEMO_INTERVAL, INTERVAL};

impl ProbeArgs {
    /// The session's settings these flags and `screen`'s give, for `cluster`.
    pub fn settings(&self, cluster: &crate::cluster::Cluster, screen: &ScreenArgs) -> Settings {
        Settings {
            read_only: self.read_only,
            client: self.client.clone(),
            target: self
                .target
                .clone()
                .map(|(host, port)| crate::session::app::Target { host, port }),
            probe: crate::session::app::ProbeFlags {
                path: self.path.clone(),
                headers: self.headers.clone(),
                per_connection: self.requests_per_connection,
                command: self.probe_command.clone(),
            },
            ..screen.settings(cluster.context.clone(), cluster.namespace.clone())
        }
    }

    /// The route and rule asked for.
    pub fn query(&self) -> RouteQuery {
        RouteQuery {
            name: self.route.clone(),
            pick: RulePick {
                rule: self.rule,
                path: self.path.clone(),
            },
        }
    }

    /// How the probe runs: `--interval`, else `default_interval`.
    pub fn runtime(&self, default_interval: Duration) -> RuntimeOptions {
        RuntimeOptions {
            route: self.query(),
            interval: self.interval.unwrap_or(default_interval),
            deadline: self.deadline.unwrap_or(crate::session::runtime::DEADLINE),
            container: self.container.clone(),
            burst: self.burst.0,
            ..RuntimeOptions::default()
        }
    }
}

impl ScreenArgs {
    /// The session's settings these flags give, for a run in `context` and `namespace`.
    pub fn settings(&self, context: String, namespace: String) -> Settings {
        Settings {
            window: self.window,
            manual_labels: self.labels.clone(),
            alpha: self.alpha,
            settle: self.settle.unwrap_or(crate::session::app::DEFAULT_SETTLE),
            lag_timeout: self
                .lag_timeout
                .unwrap_or(crate::session::app::DEFAULT_LAG_TIMEOUT),
            record: self.record.is_some(),
            ..Settings::new(context, namespace)
        }
    }
}

/// How the screen reads replies, judges and shows them, and what it records.
#[derive(Debug, Args, Clone)]
pub struct ScreenArgs {
    /// Map a reply prefix to a backend Service by hand; repeatable.
    #[arg(long = "label", value_name = "PREFIX=BACKEND", env = "SPLITSCOPE_LABELS", value_delimiter = ',', value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// A regex with named groups `label` (and optionally `ts`) for replies of another shape.
    #[arg(long, value_name = "REGEX", env = "SPLITSCOPE_LINE_REGEX")]
    pub line_regex: Option<String>,
    /// Samples in the sliding window (+/- change it live).
    #[arg(long, default_value_t = crate::split::DEFAULT_WINDOW, env = "SPLITSCOPE_WINDOW", value_parser = parse_window)]
    pub window: usize,
    /// The verdict's level: the most chance it may be wrong, however long one watches.
    #[arg(long, default_value_t = crate::verdict::DEFAULT_ALPHA, env = "SPLITSCOPE_ALPHA", value_parser = parse_alpha)]
    pub alpha: f64,
    /// After a change (a patch toggle, a route edit), the evidence counts afresh where the
    /// traffic shows it, or after this long at the latest.
    #[arg(long, value_name = "DURATION", env = "SPLITSCOPE_SETTLE", value_parser = parse_duration)]
    pub settle: Option<Duration>,
    /// How long a change is looked for in the traffic before the log says it was not
    /// seen.
    #[arg(long, value_name = "DURATION", env = "SPLITSCOPE_LAG_TIMEOUT", value_parser = parse_duration)]
    pub lag_timeout: Option<Duration>,
    /// Write every sample, and the route and patch as they change, to FILE (JSON lines).
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_RECORD")]
    pub record: Option<PathBuf>,
    /// Record what the screen shows as an asciicast v2 file (`asciinema play FILE`).
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_RECORD_CAST")]
    pub record_cast: Option<PathBuf>,
    /// Follow a tape (a script of waits, key presses and pictures) with no terminal.
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_TAPE")]
    pub tape: Option<PathBuf>,
    /// The screen's size for a tape.
    #[arg(long, value_name = "WxH", default_value = "100x30", value_parser = parse_size)]
    pub size: (u16, u16),
    /// Where `s` writes pictures of the screen.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".",
        env = "SPLITSCOPE_SHOTS_DIR"
    )]
    pub shots_dir: PathBuf,
    /// The formats `s` writes: svg, html, txt.
    #[arg(long, value_name = "FORMATS", default_value = "svg,txt", value_delimiter = ',', env = "SPLITSCOPE_SHOT_FORMAT", value_parser = parse_shot_format)]
    pub shot_format: Vec<crate::tui::shot::ShotFormat>,
    /// A theme: default, light, high-contrast, colour-blind, monochrome, one of yours in
    /// $XDG_CONFIG_HOME/splitscope/themes/, or a YAML file (see themes/); `t` cycles live.
    #[arg(long, value_name = "NAME|FILE", env = "SPLITSCOPE_THEME")]
    pub theme: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct WatchArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
}

#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// The Istio version the sandbox's control plane runs; 1.26 and later honour the route.
    #[arg(long, value_name = "VERSION", env = "SPLITSCOPE_ISTIO", value_parser = parse_istio)]
    pub istio: Option<String>,
    /// Weights of the seeded TCPRoute for tcp-echo-v1 and tcp-echo-v2.
    #[arg(long, value_name = "V1,V2", env = "SPLITSCOPE_WEIGHTS", value_parser = parse_weights)]
    pub weights: Option<(u32, u32)>,
    /// How long a route or filter change takes to reach the waypoint (`1s`, `250ms`, `0`).
    #[arg(long, value_name = "DURATION", env = "SPLITSCOPE_PROPAGATION_DELAY", value_parser = parse_duration)]
    pub propagation_delay: Option<Duration>,
    /// The API's port on 127.0.0.1 (default: any free port).
    #[arg(long, env = "SPLITSCOPE_PORT")]
    pub port: Option<u16>,
    /// Make the waypoint's picks reproducible: the same seed, the same sequence of backends.
    #[arg(long, value_name = "N", env = "SPLITSCOPE_SEED")]
    pub seed: Option<u64>,
    /// Refuse an API call with 403, as RBAC would (e.g. patch:envoyfilters); repeatable.
    #[arg(long, value_name = "VERB:RESOURCE", value_parser = parse_forbid)]
    pub forbid: Vec<(String, String)>,
    /// Seed a variant of a real mesh: revisioned, service-waypoint, cross-namespace,
    /// replicas, sidecar-client or default; `--scenario list` names them with a line each.
    #[arg(long, value_name = "NAME|list", env = "SPLITSCOPE_SCENARIO")]
    pub scenario: Option<String>,
    /// A fault drill: cut every exec stream this long after it opens (the probe's too).
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub cut_exec_every: Option<Duration>,
    /// A fault drill: answer a share of API calls with 500, or 429 with Retry-After
    /// (e.g. 500:0.2 or 429:0.1); repeatable.
    #[arg(long, value_name = "STATUS:SHARE", value_parser = parse_api_fault)]
    pub api_fault: Vec<(u16, f64)>,
    /// A fault drill: add this latency to every API call.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub api_latency: Option<Duration>,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Only serve the sandbox's API until Ctrl-C or SIGTERM, for kubectl and other clients.
    #[arg(long)]
    pub serve: bool,
    /// Write a kubeconfig for the sandbox (context `splitscope-sandbox`) to this file.
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_WRITE_KUBECONFIG")]
    pub write_kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    #[command(flatten)]
    pub probe: ProbeArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ReplayArgs {
    /// A file written by --record, or reply lines as the probe prints them (`one Thu Dec  5
    /// 10:00:00 UTC 2024`, kubectl exec output); `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    pub from: PathBuf,
    /// Play this many times faster than recorded (0.5: half as fast).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Play it all at once: the screen and verdict the whole recording comes to.
    #[arg(long, conflicts_with = "speed")]
    pub instant: bool,
    /// The time between transcript lines that carry no time of their own.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PatchAction {
    /// Write the EnvoyFilter as YAML to stdout.
    Print,
    /// Server-side apply it (field manager `splitscope`).
    Apply,
    /// Delete it, if it carries splitscope's label.
    Remove,
}

#[derive(Debug, Args, Clone)]
pub struct RoutesArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// `table` for people, `json` for programs.
    #[arg(long, value_enum, default_value_t = RoutesOutput::Table, env = "SPLITSCOPE_OUTPUT")]
    pub output: RoutesOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoutesOutput {
    Table,
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct PatchArgs {
    pub action: PatchAction,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The route: NAME or KIND/NAME (default: the one weighted route in the namespace).
    #[arg(long, value_name = "[KIND/]NAME", env = "SPLITSCOPE_ROUTE", value_parser = parse_route)]
    pub route: Option<RouteRef>,
    /// Read the TCPRoute from this manifest instead of the cluster (print only).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The waypoint, NAME or NAMESPACE/NAME (default: the one that serves the route's
    /// Service, as istiod chooses it; `waypoint` with --file).
    #[arg(long, value_name = "[NAMESPACE/]NAME", env = "SPLITSCOPE_WAYPOINT")]
    pub waypoint: Option<String>,
    /// The parent Service's port (default: the route's parentRef port).
    #[arg(long)]
    pub port: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::spell;

    /// The default clap shows and uses for `arg` of `subcommand`.
    fn default_of(subcommand: &str, arg: &str) -> String {
        let command = command();
        let sub = command.find_subcommand(subcommand).unwrap();
        let arg = sub.get_arguments().find(|a| a.get_id() == arg).unwrap();
        arg.get_default_values()[0].to_string_lossy().into_owned()
    }

    #[test]
    #[cfg(feature = "sandbox")]
    fn defaults_come_from_the_code() {
        assert_eq!(default_of("watch", "interval"), spell(INTERVAL));
        assert_eq!(default_of("demo", "interval"), spell(DEMO_INTERVAL));
        assert_eq!(default_of("replay", "interval"), "1s");
        assert_eq!(
            default_of("check", "settle"),
            spell(crate::session::app::DEFAULT_SETTLE)
        );
        let sandbox = crate::sandbox::SandboxOptions::default();
        assert_eq!(default_of("demo", "istio"), sandbox.istio);
        assert_eq!(
            default_of("demo", "propagation_delay"),
            spell(sandbox.propagation_delay)
        );
        // What clap fills in parses back to the same value.
        let matches = command()
            .try_get_matches_from(["splitscope", "demo"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Some(Command::Demo(demo)) = cli.command else {
            panic!()
        };
        assert_eq!(demo.probe.interval, Some(DEMO_INTERVAL));
        assert_eq!(demo.sandbox.weights, Some(sandbox.weights));
        assert_eq!(
            demo.sandbox.propagation_delay,
            Some(sandbox.propagation_delay)
        );
    }

    #[test]
    fn bare_splitscope_watches_and_flags_parse() {
        let cli = Cli::try_parse_from([
            "splitscope",
            "-n",
            "ns",
            "--route",
            "r",
            "--label",
            "one=a",
            "--label",
            "two=b",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.watch.cluster.namespace.as_deref(), Some("ns"));
        assert_eq!(cli.watch.screen.labels.len(), 2);
        assert_eq!(cli.watch.probe.interval, None);
        let demo = Cli::try_parse_from(["splitscope", "demo", "--istio", "1.26.0"]).unwrap();
        let Some(Command::Demo(d)) = demo.command else {
            panic!()
        };
        assert_eq!(d.probe.interval, None);
        assert!(Cli::try_parse_from(["splitscope", "--bogus"]).is_err());
        assert!(Cli::try_parse_from(["splitscope", "patch", "frobnicate"]).is_err());
    }
}
