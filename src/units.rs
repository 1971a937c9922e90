//! How durations and screen sizes are written, on the command line and in tapes alike,
//! and the error for a value written wrong.

use std::time::Duration;

/// A value written wrong: what was written, and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadValue(pub String);

/// `bad!("{text:?}: …")`: a [`BadValue`] saying what to write instead.
macro_rules! bad {
    ($($arg:tt)*) => {
        $crate::units::BadValue(format!($($arg)*))
    };
}
pub(crate) use bad;

/// A duration as `parse_duration` reads it back: `1h`, `2s`, `500ms`.
pub fn spell(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0".into(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// `2s`, `0.5s`, `250ms`, `1m`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, BadValue> {
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
        .map_err(|_| bad!("{text:?} is not a duration: write it like 2s, 0.5s, 250ms or 1m"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(BadValue(format!(
            "{text:?} is not a duration: it must be zero or more"
        )));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// `100x30`.
pub fn parse_size(text: &str) -> Result<(u16, u16), BadValue> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| bad!("{text:?}: write the size as WIDTHxHEIGHT, like 100x30"))?;
    let w: u16 = w
        .trim()
        .parse()
        .map_err(|_| bad!("{text:?}: the width is not a number"))?;
    let h: u16 = h
        .trim()
        .parse()
        .map_err(|_| bad!("{text:?}: the height is not a number"))?;
    if !(20..=1000).contains(&w) || !(5..=500).contains(&h) {
        return Err(BadValue(format!(
            "{text:?}: a screen is 20 to 1000 wide and 5 to 500 high"
        )));
    }
    Ok((w, h))
}
