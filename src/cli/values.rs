//! Reading and checking the command line's values: durations, sizes, weights, targets,
//! labels, shares. Each error says what to write instead.

use std::time::Duration;

use crate::cluster::discover::ClientSpec;
use crate::units::{BadValue, bad};
pub use crate::units::{parse_duration, parse_size};

pub(super) fn parse_positive_duration(text: &str) -> Result<Duration, BadValue> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) {
        return Err(BadValue(format!("{text:?}: give at least 10ms")));
    }
    Ok(d)
}

pub(super) fn parse_api_fault(text: &str) -> Result<(u16, f64), BadValue> {
    let usage = || {
        bad!(
            "{text:?}: write STATUS:SHARE, like 500:0.2 or 429:0.1 (500 and 429 only, a share from 0 to 1)"
        )
    };
    let (status, share) = text.split_once(':').ok_or_else(usage)?;
    let status: u16 = status.trim().parse().map_err(|_| usage())?;
    let share: f64 = share.trim().parse().map_err(|_| usage())?;
    if !matches!(status, 500 | 429) || !(0.0..=1.0).contains(&share) {
        return Err(usage());
    }
    Ok((status, share))
}

pub(super) fn parse_forbid(text: &str) -> Result<(String, String), BadValue> {
    match text.split_once(':') {
        Some((verb, resource)) if !verb.is_empty() && !resource.is_empty() => {
            Ok((verb.to_string(), resource.to_string()))
        }
        _ => Err(BadValue(format!(
            "{text:?}: write it as VERB:RESOURCE, like patch:envoyfilters or create:pods/exec"
        ))),
    }
}

pub(super) fn parse_shot_format(text: &str) -> Result<crate::tui::shot::ShotFormat, BadValue> {
    crate::tui::shot::ShotFormat::parse(text)
        .ok_or_else(|| bad!("{text:?}: the shot formats are svg, html and txt"))
}

pub(super) fn parse_prefix_number(text: &str) -> Result<(String, u32), BadValue> {
    match text.split_once('=') {
        Some((prefix, n)) if !prefix.is_empty() => n
            .trim()
            .parse::<u32>()
            .map(|n| (prefix.trim().to_string(), n))
            .map_err(|_| bad!("{text:?}: the number after = must be a whole number, like one=90")),
        _ => Err(BadValue(format!(
            "{text:?}: write PREFIX=NUMBER, like one=90"
        ))),
    }
}

pub(super) fn parse_speed(text: &str) -> Result<f64, BadValue> {
    match text.trim().trim_end_matches(['x', '×']).parse::<f64>() {
        Ok(s) if s.is_finite() && (0.01..=10_000.0).contains(&s) => Ok(s),
        _ => Err(BadValue(format!(
            "{text:?}: the speed is a factor from 0.01 to 10000, like 10 (ten times as fast); --instant plays it all at once"
        ))),
    }
}

pub(super) fn parse_alpha(text: &str) -> Result<f64, BadValue> {
    match text.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 0.5 => Ok(a),
        _ => Err(BadValue(format!(
            "{text:?}: alpha is a chance between 0 and 0.5, like 0.01 (one in a hundred)"
        ))),
    }
}

pub(super) fn parse_client(text: &str) -> Result<ClientSpec, crate::cluster::discover::BadClient> {
    text.parse()
}

pub(super) fn parse_target(text: &str) -> Result<(String, u16), BadValue> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| bad!("{text:?}: write the target as HOST:PORT, like tcp-echo:9000"))?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| bad!("{port:?} is not a port (1-65535)"))?;
    if host.is_empty()
        || host.contains(char::is_whitespace)
        || host.contains(['\'', '"', ';', '$', '`', '|', '&'])
    {
        return Err(BadValue(format!("{host:?} is not a host name")));
    }
    Ok((host.to_string(), port))
}

/// `--burst RATE,COUNT`, or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstFlag(pub Option<crate::cluster::probe::Burst>);

pub(super) fn parse_burst(text: &str) -> Result<BurstFlag, BadValue> {
    if text == "off" {
        return Ok(BurstFlag(None));
    }
    let bad = || {
        bad!(
            "{text:?}: write the burst as RATE,COUNT (samples a second, at most how many), like 20,60, or off"
        )
    };
    let (rate, count) = text.split_once(',').ok_or_else(bad)?;
    let rate: f64 = rate
        .trim()
        .parse()
        .ok()
        .filter(|r: &f64| r.is_finite() && (0.1..=100.0).contains(r))
        .ok_or_else(|| bad!("{rate:?}: a burst's rate is 0.1 to 100 samples a second"))?;
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|c| (1..=1000).contains(c))
        .ok_or_else(|| bad!("{count:?}: a burst is 1 to 1000 samples"))?;
    Ok(BurstFlag(Some(crate::cluster::probe::Burst {
        rate,
        count,
    })))
}

pub(super) fn parse_route(text: &str) -> Result<crate::route::RouteRef, crate::route::BadRouteRef> {
    text.parse()
}

pub(super) fn parse_rule(text: &str) -> Result<usize, BadValue> {
    text.parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad!("{text:?}: a rule is a number from 1, as the route lists them"))
}

pub(super) fn parse_path(text: &str) -> Result<String, BadValue> {
    if !text.starts_with('/') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad!(
            "{text:?}: a path starts with / and has no spaces, like /hello"
        ));
    }
    Ok(text.to_string())
}

pub(super) fn parse_header(text: &str) -> Result<(String, String), BadValue> {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    match text.split_once(':') {
        Some((name, value)) if token(name) && !value.chars().any(char::is_control) => {
            Ok((name.to_string(), value.trim().to_string()))
        }
        _ => Err(bad!(
            "{text:?}: write a header as NAME: VALUE, like 'x-canary: always'"
        )),
    }
}

pub(super) fn parse_per_connection(text: &str) -> Result<u32, BadValue> {
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| bad!("{text:?}: requests per connection is a number from 1 to 100"))
}

pub(super) fn parse_label(text: &str) -> Result<(String, String), BadValue> {
    match text.split_once('=') {
        Some((prefix, backend)) if !prefix.is_empty() && !backend.is_empty() => {
            Ok((prefix.to_string(), backend.to_string()))
        }
        _ => Err(BadValue(format!(
            "{text:?}: write a label as PREFIX=BACKEND, like one=tcp-echo-v1"
        ))),
    }
}

pub(super) fn parse_window(text: &str) -> Result<usize, BadValue> {
    let n: usize = text
        .parse()
        .map_err(|_| bad!("{text:?} is not a number of samples"))?;
    if !(crate::split::MIN_WINDOW..=crate::split::MAX_WINDOW).contains(&n) {
        return Err(BadValue(format!(
            "the window holds {} to {} samples",
            crate::split::MIN_WINDOW,
            crate::split::MAX_WINDOW
        )));
    }
    Ok(n)
}

pub(super) fn parse_interval(text: &str) -> Result<Duration, BadValue> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) {
        return Err(BadValue("the interval must be at least 10ms".into()));
    }
    Ok(d)
}

pub(super) fn parse_deadline(text: &str) -> Result<Duration, BadValue> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(7 * 24 * 3600) {
        return Err(BadValue(
            "the deadline must be between 1s and 7 days".into(),
        ));
    }
    Ok(d)
}

pub(super) fn parse_weights(text: &str) -> Result<(u32, u32), BadValue> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [a, b] = parts.as_slice() else {
        return Err(BadValue(format!(
            "{text:?}: give two weights, for tcp-echo-v1 and tcp-echo-v2, like 90,10"
        )));
    };
    let parse = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|w| *w <= 1_000_000)
            .ok_or_else(|| bad!("{s:?} is not a weight: use a whole number from 0 to 1000000"))
    };
    let weights = (parse(a)?, parse(b)?);
    if weights == (0, 0) {
        return Err(BadValue(
            "both weights are 0: a route needs some weight to send traffic anywhere".into(),
        ));
    }
    Ok(weights)
}

pub(super) fn parse_istio(text: &str) -> Result<String, BadValue> {
    crate::istio::parse_version(text)
        .map(|_| text.trim_start_matches('v').to_string())
        .ok_or_else(|| bad!("{text:?} is not an Istio version: write it like 1.24.0"))
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
    fn targets_and_labels() {
        assert_eq!(parse_target("tcp-echo:9000"), Ok(("tcp-echo".into(), 9000)));
        assert!(parse_target("tcp-echo").is_err());
        assert!(parse_target("tcp-echo:0").is_err());
        assert!(parse_target("x;rm -rf /:9000").is_err());
        assert_eq!(
            parse_label("one=tcp-echo-v1"),
            Ok(("one".into(), "tcp-echo-v1".into()))
        );
        assert!(parse_label("one").is_err());
        assert!(parse_window("3").is_err());
        assert!(parse_interval("1ms").is_err());
    }

    #[test]
    fn istio_versions() {
        assert_eq!(parse_istio("1.26.0"), Ok("1.26.0".into()));
        assert!(parse_istio("latest").is_err());
    }
}
