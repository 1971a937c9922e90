//! Istio's EnvoyFilter, as its CRD schema checks it.

use serde_json::{Map, Value};

use super::field::{Field, group_pattern};
use crate::sandbox::storage::status::FieldError;

const APPLY_TO: &[&str] = &[
    "INVALID",
    "LISTENER",
    "FILTER_CHAIN",
    "NETWORK_FILTER",
    "HTTP_FILTER",
    "ROUTE_CONFIGURATION",
    "VIRTUAL_HOST",
    "HTTP_ROUTE",
    "CLUSTER",
    "EXTENSION_CONFIG",
    "BOOTSTRAP",
    "LISTENER_FILTER",
];
const CONTEXTS: &[&str] = &["ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY"];
const OPERATIONS: &[&str] = &[
    "INVALID",
    "MERGE",
    "ADD",
    "REMOVE",
    "INSERT_BEFORE",
    "INSERT_AFTER",
    "INSERT_FIRST",
    "REPLACE",
];
const FILTER_CLASSES: &[&str] = &["UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"];

pub(super) fn check_envoyfilter(obj: &Value, errs: &mut Vec<FieldError>) {
    let Some(spec) = Field::at(obj, "", "spec").object(errs) else {
        return;
    };
    Field::at(spec, "spec", "priority").integer(i32::MIN as i64, i32::MAX as i64, errs);
    for (i, p) in Field::at(spec, "spec", "configPatches")
        .array(0, usize::MAX, errs)
        .iter()
        .enumerate()
    {
        check_config_patch(p, &format!("spec.configPatches[{i}]"), errs);
    }
    for (i, t) in Field::at(spec, "spec", "targetRefs")
        .array(0, 16, errs)
        .iter()
        .enumerate()
    {
        check_target_ref(t, &format!("spec.targetRefs[{i}]"), errs);
    }
    let selector = Field::at(spec, "spec", "workloadSelector");
    if let Some(sel) = selector.object(errs)
        && let Some(labels) = Field::at(sel, "spec.workloadSelector", "labels").object(errs)
    {
        let labels: &Map<String, Value> = labels.as_object().map_or(&EMPTY, |m| m);
        if labels.len() > 256 {
            errs.push(FieldError::too_many(
                "spec.workloadSelector.labels",
                labels.len(),
                256,
            ));
        }
        for (k, v) in labels {
            Field {
                path: format!("spec.workloadSelector.labels.{k}"),
                value: Some(v),
            }
            .string(0, 63, None, errs);
        }
    }
}

/// One of `spec.configPatches`: what it applies to, its match and its patch.
fn check_config_patch(p: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if !p.is_object() {
        errs.push(FieldError::wrong_type(path, p, "object"));
        return;
    }
    Field::at(p, path, "applyTo").one_of(APPLY_TO, errs);
    if let Some(m) = Field::at(p, path, "match").object(errs) {
        check_match(m, &format!("{path}.match"), errs);
    }
    if let Some(patch) = Field::at(p, path, "patch").object(errs) {
        let ppath = format!("{path}.patch");
        Field::at(patch, &ppath, "operation").one_of(OPERATIONS, errs);
        Field::at(patch, &ppath, "filterClass").one_of(FILTER_CLASSES, errs);
        Field::at(patch, &ppath, "value").object(errs);
    }
}

/// A config patch's `match`: one of listener, routeConfiguration or cluster.
fn check_match(m: &Value, mpath: &str, errs: &mut Vec<FieldError>) {
    Field::at(m, mpath, "context").one_of(CONTEXTS, errs);
    let present = ["listener", "routeConfiguration", "cluster"]
        .iter()
        .filter(|k| m.get(**k).is_some())
        .count();
    if present > 1 {
        errs.push(FieldError::invalid(
            mpath,
            m,
            "must validate one and only one schema (oneOf)",
        ));
    }
    let Some(l) = Field::at(m, mpath, "listener").object(errs) else {
        return;
    };
    let lpath = format!("{mpath}.listener");
    Field::at(l, &lpath, "portNumber").integer(0, u32::MAX as i64, errs);
    Field::at(l, &lpath, "name").string(0, usize::MAX, None, errs);
    if let Some(fc) = Field::at(l, &lpath, "filterChain").object(errs) {
        let fpath = format!("{lpath}.filterChain");
        Field::at(fc, &fpath, "name").string(0, usize::MAX, None, errs);
        if let Some(f) = Field::at(fc, &fpath, "filter").object(errs) {
            Field::at(f, &format!("{fpath}.filter"), "name").string(0, usize::MAX, None, errs);
        }
    }
}

/// One of `spec.targetRefs`.
fn check_target_ref(t: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if !t.is_object() {
        errs.push(FieldError::wrong_type(path, t, "object"));
        return;
    }
    for (name, min) in [("kind", 1), ("name", 1)] {
        let f = Field::at(t, path, name);
        if f.required(errs) {
            f.string(min, if name == "kind" { 63 } else { 253 }, None, errs);
        }
    }
    Field::at(t, path, "group").string(0, 253, Some(group_pattern), errs);
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
