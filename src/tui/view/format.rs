//! How the panels write numbers.

/// `12%`.
pub(crate) fn percent(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

/// `1h02m`, `3m05s`, `12s`.
pub(crate) fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
