//! Which control plane serves a waypoint: its revision comes from the Gateway's
//! `istio.io/rev` label, else its namespace's, else the default revision; the istiod
//! Deployment labelled with that revision serves it. Its image says the version.

use serde_json::Value;

use super::{NoVersion, image_version};

pub(crate) const REV_LABEL: &str = "istio.io/rev";
/// How istiod's Deployments are labelled, in whichever namespace Istio runs.
pub(crate) const ISTIOD_SELECTOR: &str = "app=istiod";
pub(crate) const ISTIO_NAMESPACE: &str = "istio-system";

/// A label of an object.
fn label<'a>(obj: Option<&'a Value>, key: &str) -> Option<&'a str> {
    super::label(obj?.pointer("/metadata/labels"), key)
}

/// A label of an object, empty or not.
fn present<'a>(obj: Option<&'a Value>, key: &str) -> Option<&'a str> {
    super::present(obj?.pointer("/metadata/labels"), key)
}

/// An istiod Deployment, as the choice reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Istiod {
    pub name: String,
    pub namespace: String,
    /// Its `istio.io/rev`; None for the default revision.
    pub revision: Option<String>,
    /// The discovery container's image.
    pub image: Option<String>,
}

impl Istiod {
    pub fn from_object(deploy: &Value) -> Istiod {
        let containers = deploy
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array);
        let discovery = containers.and_then(|cs| {
            cs.iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some("discovery"))
                .or_else(|| cs.first())
        });
        Istiod {
            name: str_of(deploy, "/metadata/name"),
            namespace: str_of(deploy, "/metadata/namespace"),
            revision: label(Some(deploy), REV_LABEL)
                .filter(|r| *r != "default")
                .map(String::from),
            image: discovery
                .and_then(|c| c.get("image"))
                .and_then(Value::as_str)
                .map(String::from),
        }
    }

    /// Its version, or why it cannot be told.
    pub fn version(&self) -> Result<String, NoVersion> {
        match &self.image {
            Some(image) => image_version(image),
            None => Err(NoVersion::NoImage(self.name.clone())),
        }
    }
}

fn str_of(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A revision tag: a MutatingWebhookConfiguration `istio-revision-tag-<tag>` labelled
/// `istio.io/tag: <tag>` and `istio.io/rev: <revision>`. The tag `default` decides who
/// serves what carries no revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub tag: String,
    pub revision: String,
}

pub(crate) const TAG_LABEL: &str = "istio.io/tag";
/// The annotation istiod writes on a waypoint's pod template: the revision it resolved.
pub(crate) const REV_ANNOTATION: &str = "istio.io/rev";

impl Tag {
    /// The tag a MutatingWebhookConfiguration stands for, if it is one.
    pub fn from_object(webhook: &Value) -> Option<Tag> {
        Some(Tag {
            tag: label(Some(webhook), TAG_LABEL)?.to_string(),
            revision: label(Some(webhook), REV_LABEL)?.to_string(),
        })
    }
}

/// The revision tags, as far as they could be read.
#[derive(Debug, Clone, Copy)]
pub enum Tags<'a> {
    Read(&'a [Tag]),
    /// Not readable here (RBAC): revisions are taken as written, with no tags.
    Unreadable,
}

impl Tags<'_> {
    fn find(&self, tag: &str) -> Option<&str> {
        match self {
            Tags::Read(tags) => tags
                .iter()
                .find(|t| t.tag == tag)
                .map(|t| t.revision.as_str()),
            Tags::Unreadable => None,
        }
    }
}

/// How the revision that serves a waypoint was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// istiod wrote it on the waypoint's pod: the surest answer.
    Pod(String),
    /// `istio.io/rev` on the Gateway or its namespace names a revision.
    Label(String),
    /// … names a tag, which points at a revision.
    Tag { tag: String, revision: String },
    /// Nothing names one; the `default` tag points at this revision.
    DefaultTag(String),
    /// Nothing names one; the default revision's istiod serves it.
    Default,
}

impl std::fmt::Display for How {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            How::Pod(rev) => write!(f, "rev {rev}, from the waypoint's pod"),
            How::Label(rev) => write!(f, "rev {rev}"),
            How::Tag { tag, revision } => write!(f, "revision tag {tag} -> {revision}"),
            How::DefaultTag(rev) => write!(f, "default tag -> {rev}"),
            How::Default => write!(f, "default revision"),
        }
    }
}

/// Why no istiod serves a waypoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoIstiod {
    /// None serves the revision wanted (None: the default); the ones there are, by name
    /// and revision.
    #[error("{}", no_istiod(.wanted.as_deref(), .have))]
    Revision {
        wanted: Option<String>,
        have: Vec<(String, Option<String>)>,
    },
    /// Only revisioned control planes and no `default` tag: nothing serves a waypoint
    /// without a revision (istiod never deploys it). `tags_unread`: the tags could not
    /// be read, so a `default` tag may yet be there.
    #[error("{}", nothing(.have, *.tags_unread))]
    Nothing {
        have: Vec<String>,
        tags_unread: bool,
    },
}

fn nothing(have: &[String], tags_unread: bool) -> String {
    let have = have.join(", ");
    if tags_unread {
        format!(
            "nothing serves this waypoint unless a default tag does: only revisioned control planes ({have}), and the revision tags cannot be read"
        )
    } else {
        format!(
            "nothing serves this waypoint: only revisioned control planes ({have}) and no default tag"
        )
    }
}

fn no_istiod(wanted: Option<&str>, have: &[(String, Option<String>)]) -> String {
    let wanted = wanted.map_or("the default revision".to_string(), |r| {
        format!("revision {r}")
    });
    if have.is_empty() {
        return format!("no istiod Deployment ({ISTIOD_SELECTOR}) found for {wanted}");
    }
    let have: Vec<String> = have
        .iter()
        .map(|(name, rev)| format!("{name} ({})", rev.as_deref().unwrap_or("default")))
        .collect();
    format!("no istiod serves {wanted}; there are {}", have.join(", "))
}

/// The istiod that serves `revision` (None: the default, the one without a revision).
pub fn pick<'a>(istiods: &'a [Istiod], revision: Option<&str>) -> Result<&'a Istiod, NoIstiod> {
    istiods
        .iter()
        .find(|i| i.revision.as_deref() == revision)
        .ok_or_else(|| NoIstiod::Revision {
            wanted: revision.map(String::from),
            have: istiods
                .iter()
                .map(|i| (i.name.clone(), i.revision.clone()))
                .collect(),
        })
}

/// The istiod that serves a waypoint, and how its revision was found: the revision
/// istiod wrote on the waypoint's pod; else `istio.io/rev` on the Gateway, else on its
/// namespace, a revision or a tag; else the `default` tag; else the default revision.
/// Nothing is guessed: with only revisioned istiods and no default tag, none serves.
pub fn serving<'a>(
    istiods: &'a [Istiod],
    tags: Tags<'_>,
    gateway: Option<&Value>,
    namespace: Option<&Value>,
    pod_revision: Option<&str>,
) -> Result<(&'a Istiod, How), NoIstiod> {
    let by_labels = by_labels(istiods, tags, gateway, namespace);
    let Some(rev) = pod_revision.filter(|r| !r.is_empty()) else {
        return by_labels;
    };
    // The pod says which revision deployed the waypoint; the labels say why, when they
    // agree.
    let on_pod = pick(istiods, named(rev).as_deref())?;
    match by_labels {
        Ok((istiod, how)) if istiod.revision == on_pod.revision => Ok((istiod, how)),
        _ => Ok((on_pod, How::Pod(rev.to_string()))),
    }
}

/// A non-revisioned istiod's revision is "default".
fn named(rev: &str) -> Option<String> {
    (rev != "default").then(|| rev.to_string())
}

/// The istiod istiod's rules choose from the labels and tags alone.
fn by_labels<'a>(
    istiods: &'a [Istiod],
    tags: Tags<'_>,
    gateway: Option<&Value>,
    namespace: Option<&Value>,
) -> Result<(&'a Istiod, How), NoIstiod> {
    // The Gateway's label when it has one, even empty; else its namespace's.
    let selected = match present(gateway, REV_LABEL) {
        Some(rev) => rev,
        None => present(namespace, REV_LABEL).unwrap_or_default(),
    };
    if let Some(wanted) = Some(selected).filter(|r| !r.is_empty() && *r != "default") {
        if let Ok(istiod) = pick(istiods, named(wanted).as_deref()) {
            return Ok((istiod, How::Label(wanted.to_string())));
        }
        return match tags.find(wanted) {
            Some(revision) => Ok((
                pick(istiods, named(revision).as_deref())?,
                How::Tag {
                    tag: wanted.to_string(),
                    revision: revision.to_string(),
                },
            )),
            None => Err(pick(istiods, Some(wanted))
                .err()
                .unwrap_or(NoIstiod::Nothing {
                    have: Vec::new(),
                    tags_unread: matches!(tags, Tags::Unreadable),
                })),
        };
    }
    if let Some(revision) = tags.find("default") {
        let istiod = pick(istiods, named(revision).as_deref())?;
        return Ok((istiod, How::DefaultTag(revision.to_string())));
    }
    match pick(istiods, None) {
        Ok(istiod) => Ok((istiod, How::Default)),
        Err(_) if !istiods.is_empty() => Err(NoIstiod::Nothing {
            have: istiods.iter().filter_map(|i| i.revision.clone()).collect(),
            tags_unread: matches!(tags, Tags::Unreadable),
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn istiod(name: &str, rev: Option<&str>, image: &str) -> Value {
        let mut labels = json!({"app": "istiod"});
        if let Some(rev) = rev {
            labels[REV_LABEL] = json!(rev);
        }
        json!({"metadata": {"name": name, "namespace": "istio-system", "labels": labels},
               "spec": {"template": {"spec": {"containers": [{"name": "discovery", "image": image}]}}}})
    }

    #[test]
    fn the_istiod_of_the_revision_and_its_version() {
        let all: Vec<Istiod> = [
            istiod("istiod", None, "docker.io/istio/pilot:1.26.0"),
            istiod(
                "istiod-1-24-3",
                Some("1-24-3"),
                "gcr.io/istio-release/pilot:1.24.3@sha256:ab",
            ),
        ]
        .iter()
        .map(Istiod::from_object)
        .collect();
        let canary = pick(&all, Some("1-24-3")).unwrap();
        assert_eq!(canary.name, "istiod-1-24-3");
        assert_eq!(canary.version().unwrap(), "1.24.3");
        assert_eq!(pick(&all, None).unwrap().version().unwrap(), "1.26.0");
        let why = pick(&all, Some("1-25-0")).unwrap_err().to_string();
        assert!(
            why.contains("istiod-1-24-3 (1-24-3)") && why.contains("istiod (default)"),
            "{why}"
        );
        assert!(
            pick(&[], None)
                .unwrap_err()
                .to_string()
                .contains("no istiod Deployment")
        );
    }
}
