//! Reading and checking the command line's values: durations, sizes, weights, targets,
//! labels, shares. Each error says what to write instead.

use std::time::Duration;

use crate::cluster::discover::ClientSpec;

pub(super) fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) {
        return Err(format!("{text:?}: give at least 10ms"));
    }
    Ok(d)
}

pub(super) fn parse_api_fault(text: &str) -> Result<(u16, f64), String> {
    let usage = || {
        format!(
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

pub(super) fn parse_forbid(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((verb, resource)) if !verb.is_empty() && !resource.is_empty() => {
            Ok((verb.to_string(), resource.to_string()))
        }
        _ => Err(format!(
            "{text:?}: write it as VERB:RESOURCE, like patch:envoyfilters or create:pods/exec"
        )),
    }
}

/// `100x30`.
pub fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{text:?}: write the size as WIDTHxHEIGHT, like 100x30"))?;
    let w: u16 = w
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: the width is not a number"))?;
    let h: u16 = h
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: the height is not a number"))?;
    if !(20..=1000).contains(&w) || !(5..=500).contains(&h) {
        return Err(format!(
            "{text:?}: a screen is 20 to 1000 wide and 5 to 500 high"
        ));
    }
    Ok((w, h))
}

pub(super) fn parse_shot_format(text: &str) -> Result<crate::tui::shot::ShotFormat, String> {
    crate::tui::shot::ShotFormat::parse(text)
        .ok_or_else(|| format!("{text:?}: the shot formats are svg, html and txt"))
}

pub(super) fn parse_prefix_number(text: &str) -> Result<(String, u32), String> {
    match text.split_once('=') {
        Some((prefix, n)) if !prefix.is_empty() => n
            .trim()
            .parse::<u32>()
            .map(|n| (prefix.trim().to_string(), n))
            .map_err(|_| {
                format!("{text:?}: the number after = must be a whole number, like one=90")
            }),
        _ => Err(format!("{text:?}: write PREFIX=NUMBER, like one=90")),
    }
}

pub(super) fn parse_speed(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches(['x', '×']).parse::<f64>() {
        Ok(s) if s.is_finite() && (0.01..=10_000.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text:?}: the speed is a factor from 0.01 to 10000, like 10 (ten times as fast); --instant plays it all at once"
        )),
    }
}

pub(super) fn parse_alpha(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 0.5 => Ok(a),
        _ => Err(format!(
            "{text:?}: alpha is a chance between 0 and 0.5, like 0.01 (one in a hundred)"
        )),
    }
}

pub(super) fn parse_client(text: &str) -> Result<ClientSpec, String> {
    text.parse()
}

pub(super) fn parse_target(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?}: write the target as HOST:PORT, like tcp-echo:9000"))?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{port:?} is not a port (1-65535)"))?;
    if host.is_empty()
        || host.contains(char::is_whitespace)
        || host.contains(['\'', '"', ';', '$', '`', '|', '&'])
    {
        return Err(format!("{host:?} is not a host name"));
    }
    Ok((host.to_string(), port))
}

pub(super) fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((prefix, backend)) if !prefix.is_empty() && !backend.is_empty() => {
            Ok((prefix.to_string(), backend.to_string()))
        }
        _ => Err(format!(
            "{text:?}: write a label as PREFIX=BACKEND, like one=tcp-echo-v1"
        )),
    }
}

pub(super) fn parse_window(text: &str) -> Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of samples"))?;
    if !(crate::split::MIN_WINDOW..=crate::split::MAX_WINDOW).contains(&n) {
        return Err(format!(
            "the window holds {} to {} samples",
            crate::split::MIN_WINDOW,
            crate::split::MAX_WINDOW
        ));
    }
    Ok(n)
}

pub(super) fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) {
        return Err("the interval must be at least 10ms".into());
    }
    Ok(d)
}

pub(super) fn parse_deadline(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(7 * 24 * 3600) {
        return Err("the deadline must be between 1s and 7 days".into());
    }
    Ok(d)
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

pub(super) fn parse_weights(text: &str) -> Result<(u32, u32), String> {
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

pub(super) fn parse_istio(text: &str) -> Result<String, String> {
    crate::istio::parse_version(text)
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
