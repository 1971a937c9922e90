//! The defaults of flags that the code keeps, one place each: clap shows them in help and
//! uses them when a flag is not given, set on the command line's definition at start.

use std::time::Duration;

use crate::units::spell;

/// The default of a probe or screen flag, from the code.
pub(super) fn probe_default(arg: clap::Arg, interval: Duration) -> clap::Arg {
    let default = match arg.get_id().as_str() {
        "interval" => spell(interval),
        "deadline" => spell(crate::session::runtime::DEADLINE),
        "settle" => spell(crate::session::app::DEFAULT_SETTLE),
        "lag_timeout" => spell(crate::session::app::DEFAULT_LAG_TIMEOUT),
        _ => return arg,
    };
    arg.default_value(default)
}

/// The default of a sandbox flag, from `SandboxOptions::default()`.
#[cfg(feature = "sandbox")]
pub(super) fn sandbox_default(arg: clap::Arg) -> clap::Arg {
    let d = crate::sandbox::SandboxOptions::default();
    let default = match arg.get_id().as_str() {
        "istio" => d.istio,
        "weights" => format!("{},{}", d.weights.0, d.weights.1),
        "propagation_delay" => spell(d.propagation_delay),
        "port" => d.port.to_string(),
        "scenario" => d.scenario.name().to_string(),
        "api_latency" => spell(d.faults.latency),
        _ => return arg,
    };
    arg.default_value(default)
}
