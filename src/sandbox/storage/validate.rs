//! What the API server checks before it stores an object: metadata for every type, and
//! for the two custom resources what their CRD schemas say (types, bounds, enums,
//! required fields), with the CRD defaults filled in as the server does.

use serde_json::{Map, Value, json};

use super::catalogue::Resource;
use super::status::FieldError;

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

fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|part| is_dns_label(part, 63))
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

/// Checks one field against a small schema vocabulary.
struct Field<'a> {
    path: String,
    value: Option<&'a Value>,
}

impl<'a> Field<'a> {
    fn at(parent: &'a Value, parent_path: &str, name: &str) -> Self {
        let path = if parent_path.is_empty() {
            name.to_string()
        } else {
            format!("{parent_path}.{name}")
        };
        Field {
            path,
            value: parent.get(name),
        }
    }

    fn required(&self, errs: &mut Vec<FieldError>) -> bool {
        if self.value.is_none_or(Value::is_null) {
            errs.push(FieldError::required(&self.path));
            return false;
        }
        true
    }

    fn string(
        &self,
        min: usize,
        max: usize,
        pattern: Option<fn(&str) -> bool>,
        errs: &mut Vec<FieldError>,
    ) {
        let Some(v) = self.value else { return };
        let Some(s) = v.as_str() else {
            errs.push(FieldError::wrong_type(&self.path, v, "string"));
            return;
        };
        if s.len() < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should be at least {min} chars long", self.path),
            ));
        } else if s.len() > max {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body may not be more than {max} bytes", self.path),
            ));
        } else if let Some(ok) = pattern
            && !ok(s)
        {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should match the schema's pattern", self.path),
            ));
        }
    }

    fn integer(&self, min: i64, max: i64, errs: &mut Vec<FieldError>) {
        let Some(v) = self.value else { return };
        let Some(n) = v.as_i64() else {
            errs.push(FieldError::wrong_type(&self.path, v, "integer"));
            return;
        };
        if n < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!(
                    "{} in body should be greater than or equal to {min}",
                    self.path
                ),
            ));
        } else if n > max {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!(
                    "{} in body should be less than or equal to {max}",
                    self.path
                ),
            ));
        }
    }

    fn one_of(&self, allowed: &[&str], errs: &mut Vec<FieldError>) {
        let Some(v) = self.value else { return };
        match v.as_str() {
            Some(s) if allowed.contains(&s) => {}
            Some(_) => errs.push(FieldError::unsupported(&self.path, v, allowed)),
            None => errs.push(FieldError::wrong_type(&self.path, v, "string")),
        }
    }

    fn object(&self, errs: &mut Vec<FieldError>) -> Option<&'a Value> {
        let v = self.value?;
        if v.is_object() {
            Some(v)
        } else {
            errs.push(FieldError::wrong_type(&self.path, v, "object"));
            None
        }
    }

    fn array(&self, min: usize, max: usize, errs: &mut Vec<FieldError>) -> &'a [Value] {
        let Some(v) = self.value else { return &[] };
        let Some(items) = v.as_array() else {
            errs.push(FieldError::wrong_type(&self.path, v, "array"));
            return &[];
        };
        if items.len() < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should have at least {min} items", self.path),
            ));
        } else if items.len() > max {
            errs.push(FieldError::too_many(&self.path, items.len(), max));
        }
        items
    }
}

fn group_pattern(s: &str) -> bool {
    s.is_empty() || is_dns_subdomain(s)
}

fn kind_pattern(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.ends_with('-')
}

fn label_pattern(s: &str) -> bool {
    is_dns_label(s, 63)
}

fn is_hostname(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    is_dns_subdomain(s) && !s.is_empty()
}

/// An HTTPRoute's or GRPCRoute's matches, as far as the probe reads them.
fn check_matches(plural: &str, rule: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let matches = Field::at(rule, path, "matches");
    for (k, m) in matches.array(0, 64, errs).iter().enumerate() {
        let path = format!("{path}.matches[{k}]");
        if !m.is_object() {
            errs.push(FieldError::wrong_type(&path, m, "object"));
            continue;
        }
        if plural == "httproutes"
            && let Some(p) = Field::at(m, &path, "path").object(errs)
        {
            let at = format!("{path}.path");
            Field::at(p, &at, "type").one_of(&["Exact", "PathPrefix", "RegularExpression"], errs);
            let value = Field::at(p, &at, "value");
            value.string(0, 1024, None, errs);
            let literal = str_of(p, "type") != Some("RegularExpression");
            if literal
                && let Some(v) = p
                    .get("value")
                    .filter(|v| v.as_str().is_some_and(|s| !s.starts_with('/')))
            {
                errs.push(FieldError::invalid(format!("{at}.value"), v, "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"));
            }
            Field::at(m, &path, "method").one_of(
                &[
                    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
                ],
                errs,
            );
        }
        if plural == "grpcroutes"
            && let Some(method) = Field::at(m, &path, "method").object(errs)
        {
            let at = format!("{path}.method");
            Field::at(method, &at, "type").one_of(&["Exact", "RegularExpression"], errs);
            Field::at(method, &at, "service").string(0, 1024, None, errs);
            Field::at(method, &at, "method").string(0, 1024, None, errs);
        }
        for (h, header) in Field::at(m, &path, "headers")
            .array(0, 16, errs)
            .iter()
            .enumerate()
        {
            let at = format!("{path}.headers[{h}]");
            let name = Field::at(header, &at, "name");
            if name.required(errs) {
                name.string(1, 256, None, errs);
            }
            Field::at(header, &at, "type").one_of(&["Exact", "RegularExpression"], errs);
            let value = Field::at(header, &at, "value");
            if value.required(errs) {
                value.string(1, 4096, None, errs);
            }
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A route of any kind: parents, hostnames, rules and their weighted backends; TCP and
/// TLS routes need at least one rule with a backend, HTTP and gRPC routes may have none.
fn check_route(plural: &str, obj: &Value, errs: &mut Vec<FieldError>) {
    let spec_field = Field::at(obj, "", "spec");
    if !spec_field.required(errs) {
        return;
    }
    let Some(spec) = spec_field.object(errs) else {
        return;
    };
    let parents = Field::at(spec, "spec", "parentRefs");
    for (i, p) in parents.array(0, 32, errs).iter().enumerate() {
        let path = format!("spec.parentRefs[{i}]");
        if !p.is_object() {
            errs.push(FieldError::wrong_type(&path, p, "object"));
            continue;
        }
        Field::at(p, &path, "group").string(0, 253, Some(group_pattern), errs);
        Field::at(p, &path, "kind").string(1, 63, Some(kind_pattern), errs);
        let name = Field::at(p, &path, "name");
        if name.required(errs) {
            name.string(1, 253, None, errs);
        }
        Field::at(p, &path, "namespace").string(1, 63, Some(label_pattern), errs);
        Field::at(p, &path, "port").integer(1, 65535, errs);
        Field::at(p, &path, "sectionName").string(1, 253, Some(is_dns_subdomain), errs);
    }
    let layer7 = matches!(plural, "httproutes" | "grpcroutes");
    if plural != "tcproutes" {
        for (i, h) in Field::at(spec, "spec", "hostnames")
            .array(0, 16, errs)
            .iter()
            .enumerate()
        {
            if !h.as_str().is_some_and(is_hostname) {
                errs.push(FieldError::invalid(
                    format!("spec.hostnames[{i}]"),
                    h,
                    "a hostname is a lowercase RFC 1123 subdomain, optionally prefixed by *.",
                ));
            }
        }
    }
    let rules = Field::at(spec, "spec", "rules");
    if !layer7 && !rules.required(errs) {
        return;
    }
    for (i, rule) in rules
        .array(usize::from(!layer7), 16, errs)
        .iter()
        .enumerate()
    {
        let path = format!("spec.rules[{i}]");
        if !rule.is_object() {
            errs.push(FieldError::wrong_type(&path, rule, "object"));
            continue;
        }
        Field::at(rule, &path, "name").string(1, 253, Some(is_dns_subdomain), errs);
        if layer7 {
            check_matches(plural, rule, &path, errs);
        }
        let refs = Field::at(rule, &path, "backendRefs");
        for (j, b) in refs
            .array(usize::from(!layer7), 16, errs)
            .iter()
            .enumerate()
        {
            let path = format!("{path}.backendRefs[{j}]");
            if !b.is_object() {
                errs.push(FieldError::wrong_type(&path, b, "object"));
                continue;
            }
            Field::at(b, &path, "group").string(0, 253, Some(group_pattern), errs);
            Field::at(b, &path, "kind").string(1, 63, Some(kind_pattern), errs);
            let name = Field::at(b, &path, "name");
            if name.required(errs) {
                name.string(1, 253, None, errs);
            }
            Field::at(b, &path, "namespace").string(1, 63, Some(label_pattern), errs);
            Field::at(b, &path, "port").integer(1, 65535, errs);
            Field::at(b, &path, "weight").integer(0, 1_000_000, errs);
        }
    }
}

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

fn check_envoyfilter(obj: &Value, errs: &mut Vec<FieldError>) {
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

/// What the Rollout CRD's schema says of the fields the sandbox's controller reads:
/// `setWeight` an int32, a pause's `duration` an integer or a string, the Services
/// strings.
fn check_rollout(obj: &Value, errs: &mut Vec<FieldError>) {
    let canary = obj.pointer("/spec/strategy/canary");
    for key in ["canaryService", "stableService"] {
        if let Some(v) = canary.and_then(|c| c.get(key))
            && !v.is_string()
        {
            errs.push(FieldError::wrong_type(
                format!("spec.strategy.canary.{key}"),
                v,
                "string",
            ));
        }
    }
    let steps = canary.and_then(|c| c.get("steps"));
    for (i, step) in steps
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("spec.strategy.canary.steps[{i}]");
        if let Some(w) = step.get("setWeight")
            && w.as_i64().is_none_or(|w| i32::try_from(w).is_err())
        {
            errs.push(FieldError::wrong_type(
                format!("{path}.setWeight"),
                w,
                "integer",
            ));
        }
        if let Some(d) = step.pointer("/pause/duration")
            && !(d.is_string() || d.is_i64())
        {
            errs.push(FieldError::wrong_type(
                format!("{path}.pause.duration"),
                d,
                "integer or string",
            ));
        }
    }
}

/// What the Canary CRD requires: `targetRef`, `service.port` and `analysis`.
fn check_canary(obj: &Value, errs: &mut Vec<FieldError>) {
    for (pointer, field) in [
        ("/spec/targetRef", "spec.targetRef"),
        ("/spec/service/port", "spec.service.port"),
        ("/spec/analysis", "spec.analysis"),
    ] {
        if obj.pointer(pointer).is_none() {
            errs.push(FieldError::required(field));
        }
    }
}
