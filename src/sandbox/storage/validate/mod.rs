//! What the API server checks before it stores an object: metadata for every type, and
//! for the custom resources what their CRD schemas say (routes, EnvoyFilter and
//! rollouts each in a file of their own) (types, bounds, enums,
//! required fields), with the CRD defaults filled in as the server does.

use serde_json::{Value, json};

use super::catalogue::Resource;
use super::status::FieldError;

mod envoyfilter;
mod field;
mod rollouts;
mod routes;

use envoyfilter::check_envoyfilter;
use field::is_dns_subdomain;
use rollouts::{check_canary, check_rollout};
use routes::check_route;

/// Fills in the defaults the CRD schemas declare, as the API server does on write.
pub(crate) fn apply_defaults(res: &Resource, obj: &mut Value) {
    if !matches!(
        res.plural,
        "tcproutes" | "httproutes" | "grpcroutes" | "tlsroutes"
    ) {
        return;
    }
    if res.plural == "httproutes" {
        http_defaults(obj);
    }
    if let Some(parents) = obj
        .pointer_mut("/spec/parentRefs")
        .and_then(Value::as_array_mut)
    {
        for p in parents.iter_mut().filter_map(Value::as_object_mut) {
            p.entry("group")
                .or_insert(json!("gateway.networking.k8s.io"));
            p.entry("kind").or_insert(json!("Gateway"));
        }
    }
    if let Some(rules) = obj.pointer_mut("/spec/rules").and_then(Value::as_array_mut) {
        for rule in rules.iter_mut() {
            if let Some(refs) = rule.get_mut("backendRefs").and_then(Value::as_array_mut) {
                for b in refs.iter_mut().filter_map(Value::as_object_mut) {
                    b.entry("group").or_insert(json!(""));
                    b.entry("kind").or_insert(json!("Service"));
                    b.entry("weight").or_insert(json!(1));
                }
            }
        }
    }
}

/// HTTPRoute's defaults: a rule that matches every path where none is given, and a
/// PathPrefix `/` in a match that names no path.
fn http_defaults(obj: &mut Value) {
    let every_path = || json!({"path": {"type": "PathPrefix", "value": "/"}});
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let rules = spec
        .entry("rules")
        .or_insert_with(|| json!([{"matches": [every_path()]}]));
    for rule in rules.as_array_mut().into_iter().flatten() {
        let Some(rule) = rule.as_object_mut() else {
            continue;
        };
        let matches = rule
            .entry("matches")
            .or_insert_with(|| json!([every_path()]));
        for m in matches.as_array_mut().into_iter().flatten() {
            if let Some(m) = m.as_object_mut() {
                let path = m.entry("path").or_insert_with(|| json!({}));
                if let Some(path) = path.as_object_mut() {
                    path.entry("type").or_insert(json!("PathPrefix"));
                    path.entry("value").or_insert(json!("/"));
                }
            }
        }
    }
}

/// Every reason the object would be refused with 422; empty when it is acceptable.
pub fn check(res: &Resource, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    check_metadata(obj, &mut errs);
    match res.plural {
        "tcproutes" | "httproutes" | "grpcroutes" | "tlsroutes" => {
            check_route(res.plural, obj, &mut errs);
        }
        "envoyfilters" => check_envoyfilter(obj, &mut errs),
        "rollouts" => check_rollout(obj, &mut errs),
        "canaries" => check_canary(obj, &mut errs),
        _ => {}
    }
    errs
}

fn check_metadata(obj: &Value, errs: &mut Vec<FieldError>) {
    match obj.pointer("/metadata/name") {
        None => errs.push(FieldError::required("metadata.name")),
        Some(Value::String(n)) if is_dns_subdomain(n) => {}
        Some(v) => errs.push(FieldError::invalid(
            "metadata.name",
            v,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        )),
    }
    for field in ["labels", "annotations"] {
        match obj.pointer(&format!("/metadata/{field}")) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    if !v.is_string() {
                        errs.push(FieldError::wrong_type(
                            format!("metadata.{field}.{k}"),
                            v,
                            "string",
                        ));
                    } else if field == "labels" && v.as_str().is_some_and(|s| s.len() > 63) {
                        errs.push(FieldError::invalid(
                            format!("metadata.labels.{k}"),
                            v,
                            "must be no more than 63 characters",
                        ));
                    }
                }
            }
            Some(v) => errs.push(FieldError::wrong_type(
                format!("metadata.{field}"),
                v,
                "object",
            )),
        }
    }
}
