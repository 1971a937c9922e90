//! Gateway API routes (TCP, HTTP, gRPC, TLS), as their CRD schemas check them.

use serde_json::Value;

use super::field::{
    Field, group_pattern, is_dns_subdomain, is_hostname, kind_pattern, label_pattern, str_of,
};
use crate::sandbox::storage::status::FieldError;

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

/// A route of any kind: parents, hostnames, rules and their weighted backends; TCP and
/// TLS routes need at least one rule with a backend, HTTP and gRPC routes may have none.
pub(super) fn check_route(plural: &str, obj: &Value, errs: &mut Vec<FieldError>) {
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
