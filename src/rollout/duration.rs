//! Durations as Argo Rollouts writes them in a `pause`: a number of seconds (an integer
//! or a string of digits), or a Go duration (`1h30m`, `10s`, `1.5m`, `500ms`).

use std::time::Duration;

use serde_json::Value;

/// A pause's `duration`, as Argo Rollouts reads it (`rollout/canary.go`: an integer or
/// digits are seconds, anything else goes to Go's `time.ParseDuration`).
pub(super) fn pause_duration(value: &Value) -> Option<Duration> {
    match value {
        Value::Number(n) => n.as_u64().map(Duration::from_secs),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok().map(Duration::from_secs)
        }
        Value::String(s) => parse_go_duration(s),
        _ => None,
    }
}

/// Go's `time.ParseDuration` for the units a pause uses: a sequence of decimal numbers
/// each with a unit (`h`, `m`, `s`, `ms`, `us`, `µs`, `ns`). Negative durations are none.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0.0_f64;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
        any = true;
    }
    any.then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pauses_read_as_argo_reads_them() {
        assert_eq!(pause_duration(&json!(30)), Some(Duration::from_secs(30)));
        assert_eq!(pause_duration(&json!("45")), Some(Duration::from_secs(45)));
        assert_eq!(
            pause_duration(&json!("1h30m")),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            pause_duration(&json!("1.5m")),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            pause_duration(&json!("250ms")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(pause_duration(&json!("10x")), None);
        assert_eq!(pause_duration(&json!("-5s")), None);
        assert_eq!(pause_duration(&json!("")), None);
        assert_eq!(pause_duration(&json!(null)), None);
    }
}
