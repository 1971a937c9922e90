//! Facts about Istio releases that both the screen and the sandbox need.

/// The release that programs TCPRoutes with a Service parent into waypoints (bug 54119).
pub const FIXED_IN: (u32, u32) = (1, 26);

/// `1.24.0`, `v1.26.1`, `1.25.0-distroless` -> (major, minor).
pub fn parse_version(tag: &str) -> Option<(u32, u32)> {
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether a version needs the EnvoyFilter workaround.
pub fn needs_patch(tag: &str) -> Option<bool> {
    parse_version(tag).map(|v| v < FIXED_IN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.24.0"), Some((1, 24)));
        assert_eq!(parse_version("v1.26.1-distroless"), Some((1, 26)));
        assert_eq!(needs_patch("1.25.2"), Some(true));
        assert_eq!(needs_patch("1.26.0"), Some(false));
        assert_eq!(parse_version("latest"), None);
    }
}
