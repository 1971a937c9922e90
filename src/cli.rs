//! The command line: `splitscope demo --serve` runs the sandbox for kubectl and tests.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "splitscope",
    version,
    about = "Watch a TCP traffic split in an Istio ambient mesh live, against the TCPRoute's weights"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded sandbox: a simulated Istio ambient mesh behind a Kubernetes API on loopback.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Serve the sandbox's API until Ctrl-C or SIGTERM, for kubectl and other clients.
    #[arg(long)]
    pub serve: bool,
    /// Write a kubeconfig for the sandbox (context `splitscope-sandbox`) to this file.
    #[arg(long, value_name = "FILE", env = "SPLITSCOPE_WRITE_KUBECONFIG")]
    pub write_kubeconfig: Option<PathBuf>,
    /// The Istio version the sandbox's control plane runs; 1.26 and later honour the route.
    #[arg(long, value_name = "VERSION", default_value = "1.24.0", env = "SPLITSCOPE_ISTIO", value_parser = parse_istio)]
    pub istio: String,
    /// Weights of the seeded TCPRoute for tcp-echo-v1 and tcp-echo-v2.
    #[arg(long, value_name = "V1,V2", default_value = "90,10", env = "SPLITSCOPE_WEIGHTS", value_parser = parse_weights)]
    pub weights: (u32, u32),
    /// How long a route or filter change takes to reach the waypoint (`1s`, `250ms`, `0`).
    #[arg(long, value_name = "DURATION", default_value = "1s", env = "SPLITSCOPE_PROPAGATION_DELAY", value_parser = parse_duration)]
    pub propagation_delay: Duration,
    /// The API's port on 127.0.0.1 (default: any free port).
    #[arg(long, default_value_t = 0, env = "SPLITSCOPE_PORT")]
    pub port: u16,
}

/// `2s`, `0.5s`, `250ms`, `1m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write it like 2s, 0.5s, 250ms or 1m"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "{text:?} is not a duration: it must be zero or more"
        ));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

fn parse_weights(text: &str) -> Result<(u32, u32), String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [a, b] = parts.as_slice() else {
        return Err(format!(
            "{text:?}: give two weights, for tcp-echo-v1 and tcp-echo-v2, like 90,10"
        ));
    };
    let parse = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|w| *w <= 1_000_000)
            .ok_or_else(|| format!("{s:?} is not a weight: use a whole number from 0 to 1000000"))
    };
    let weights = (parse(a)?, parse(b)?);
    if weights == (0, 0) {
        return Err(
            "both weights are 0: a route needs some weight to send traffic anywhere".into(),
        );
    }
    Ok(weights)
}

fn parse_istio(text: &str) -> Result<String, String> {
    crate::sandbox::waypoint::parse_version(text)
        .map(|_| text.trim_start_matches('v').to_string())
        .ok_or_else(|| format!("{text:?} is not an Istio version: write it like 1.24.0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn weights() {
        assert_eq!(parse_weights("90,10"), Ok((90, 10)));
        assert_eq!(parse_weights("50, 50"), Ok((50, 50)));
        assert!(parse_weights("0,0").is_err());
        assert!(parse_weights("90").is_err());
        assert!(parse_weights("-1,5").is_err());
    }

    #[test]
    fn istio_versions() {
        assert_eq!(parse_istio("1.26.0"), Ok("1.26.0".into()));
        assert!(parse_istio("latest").is_err());
    }
}
