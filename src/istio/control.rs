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

/// The revision that serves a waypoint; None: the default one.
pub fn revision(gateway: Option<&Value>, namespace: Option<&Value>) -> Option<String> {
    label(gateway, REV_LABEL)
        .or_else(|| label(namespace, REV_LABEL))
        .filter(|r| *r != "default")
        .map(String::from)
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

/// No istiod serves the revision wanted (None: the default); the ones there are, by
/// name and revision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", no_istiod(.wanted.as_deref(), .have))]
pub struct NoIstiod {
    pub wanted: Option<String>,
    pub have: Vec<(String, Option<String>)>,
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

/// The istiod that serves `revision` (None: the default): the one labelled with it; for
/// the default, the unlabelled one, or the only one there is.
pub fn pick<'a>(istiods: &'a [Istiod], revision: Option<&str>) -> Result<&'a Istiod, NoIstiod> {
    let found = istiods.iter().find(|i| i.revision.as_deref() == revision);
    let only = (revision.is_none() && istiods.len() == 1).then(|| &istiods[0]);
    found.or(only).ok_or_else(|| NoIstiod {
        wanted: revision.map(String::from),
        have: istiods
            .iter()
            .map(|i| (i.name.clone(), i.revision.clone()))
            .collect(),
    })
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
    fn the_revision_comes_from_the_gateway_then_the_namespace() {
        let gw = json!({"metadata": {"labels": {REV_LABEL: "1-24-3"}}});
        let ns = json!({"metadata": {"labels": {REV_LABEL: "canary"}}});
        assert_eq!(revision(Some(&gw), Some(&ns)).as_deref(), Some("1-24-3"));
        assert_eq!(revision(None, Some(&ns)).as_deref(), Some("canary"));
        assert_eq!(revision(Some(&json!({})), None), None);
        let default = json!({"metadata": {"labels": {REV_LABEL: "default"}}});
        assert_eq!(revision(Some(&default), None), None);
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
        // One istiod, whatever its revision, serves the default.
        let one = vec![Istiod::from_object(&istiod(
            "istiod-x",
            Some("x"),
            "pilot:1.24.0",
        ))];
        assert_eq!(pick(&one, None).unwrap().name, "istiod-x");
        assert!(
            pick(&[], None)
                .unwrap_err()
                .to_string()
                .contains("no istiod Deployment")
        );
    }
}
