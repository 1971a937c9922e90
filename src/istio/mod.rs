//! Facts about Istio that both the screen and the sandbox need: releases and versions,
//! which waypoint serves a Service (`waypoint`), and which control plane serves a
//! waypoint (`control`). Pure: objects and labels in, decisions out.

pub mod control;
pub mod waypoint;

/// A label's value from a set of labels; an empty one is none.
fn label<'a>(labels: Option<&'a serde_json::Value>, key: &str) -> Option<&'a str> {
    present(labels, key).filter(|v| !v.is_empty())
}

/// A label's value, empty or not: istiod counts a label that is there but empty as there.
fn present<'a>(labels: Option<&'a serde_json::Value>, key: &str) -> Option<&'a str> {
    labels?.get(key)?.as_str()
}

/// The release that programs TCPRoutes with a Service parent into waypoints (bug 54119).
pub(crate) const FIXED_IN: (u32, u32) = (1, 26);

/// `1.24.0`, `v1.26.1`, `1.25.0-distroless` -> (major, minor).
pub(crate) fn parse_version(tag: &str) -> Option<(u32, u32)> {
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether a version needs the EnvoyFilter workaround.
pub fn needs_patch(tag: &str) -> Option<bool> {
    parse_version(tag).map(|v| v < FIXED_IN)
}

/// Why a control plane's version cannot be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoVersion {
    #[error("image {0} is pinned by digest alone")]
    DigestOnly(String),
    #[error("image {0} has no tag")]
    NoTag(String),
    #[error("image tag {0} is not a version")]
    NotAVersion(String),
    #[error("istiod {0} names no image")]
    NoImage(String),
}

/// The Istio version an image reference carries, from any registry (a port in its host
/// too), with a digest or without, and without a variant suffix such as `-distroless`:
/// `gcr.io:443/istio-release/pilot:1.24.3-distroless@sha256:…` is `1.24.3`. An image
/// named by digest alone says no version: the reason is the error.
pub(crate) fn image_version(image: &str) -> Result<String, NoVersion> {
    let (named, digest) = match image.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (image, None),
    };
    // The tag follows the last ':' after the last '/', so a registry's port is no tag.
    let last = named.rsplit('/').next().unwrap_or(named);
    let Some((_, tag)) = last.rsplit_once(':') else {
        return Err(match digest {
            Some(_) => NoVersion::DigestOnly(image.to_string()),
            None => NoVersion::NoTag(image.to_string()),
        });
    };
    let version = tag.trim_start_matches('v');
    let core: String = version.split('-').next().unwrap_or(version).to_string();
    if parse_version(&core).is_none() {
        return Err(NoVersion::NotAVersion(tag.to_string()));
    }
    Ok(core)
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

    #[test]
    fn versions_from_images_of_every_shape() {
        let ok = |image: &str| image_version(image).unwrap();
        assert_eq!(ok("docker.io/istio/pilot:1.24.3"), "1.24.3");
        assert_eq!(ok("istio/pilot:1.24.3-distroless"), "1.24.3");
        assert_eq!(ok("pilot:v1.26.0"), "1.26.0");
        assert_eq!(
            ok("registry.example.com:5000/mirror/istio/pilot:1.25.1@sha256:0123abcd"),
            "1.25.1"
        );
        assert_eq!(
            ok("gcr.io/istio-release/pilot:1.24.3-distroless@sha256:ab"),
            "1.24.3"
        );
        let why = |image: &str| image_version(image).unwrap_err().to_string();
        assert!(why("docker.io/istio/pilot@sha256:0123").contains("digest alone"));
        assert!(why("registry.local:5000/istio/pilot").contains("no tag"));
        assert!(why("istio/pilot:latest").contains("not a version"));
    }
}
