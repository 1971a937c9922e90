//! `meta.k8s.io/v1 Table` answers, which `kubectl get` asks for and prints as columns.

use serde_json::{Value, json};

use crate::sandbox::storage::Resource;
use crate::sandbox::storage::meta::str_at;

/// The string at a pointer, empty when absent: a Table cell.
fn text_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    str_at(v, pointer).unwrap_or_default()
}

/// kubectl's short age: `45s`, `3m12s`, `25m`, `5h10m`, `3d4h`, `12d`.
pub(crate) fn human_age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => format!("{m}m{}s", s % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

fn age(obj: &Value) -> String {
    let created = text_at(obj, "/metadata/creationTimestamp");
    match created.parse::<jiff::Timestamp>() {
        Ok(t) => human_age(jiff::Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn column(name: &str, kind: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": "", "priority": priority})
}

fn columns(res: &Resource) -> Vec<Value> {
    let named = |list: &[(&str, &str, u8)]| list.iter().map(|(n, t, p)| column(n, t, *p)).collect();
    match res.plural {
        "pods" => named(&[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
        ]),
        "services" => named(&[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Age", "string", 0),
            ("Selector", "string", 1),
        ]),
        "deployments" => named(&[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ]),
        "replicasets" => named(&[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
        ]),
        "namespaces" => named(&[
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ]),
        "gateways" => named(&[
            ("Name", "string", 0),
            ("Class", "string", 0),
            ("Address", "string", 0),
            ("Programmed", "string", 0),
            ("Age", "date", 0),
        ]),
        _ => named(&[("Name", "string", 0), ("Age", "date", 0)]),
    }
}

fn containers(obj: &Value, pointer: &str, field: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| text_at(c, &format!("/{field}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn cells(res: &Resource, obj: &Value) -> Vec<Value> {
    let name = json!(text_at(obj, "/metadata/name"));
    match res.plural {
        "pods" => pod_cells(name, obj),
        "services" => service_cells(name, obj),
        "deployments" => vec![
            name,
            json!(format!(
                "{}/{}",
                int_at(obj, "/status/readyReplicas"),
                obj.pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
            )),
            json!(int_at(obj, "/status/updatedReplicas")),
            json!(int_at(obj, "/status/availableReplicas")),
            json!(age(obj)),
            json!(containers(obj, "/spec/template/spec/containers", "name")),
            json!(containers(obj, "/spec/template/spec/containers", "image")),
        ],
        "replicasets" => vec![
            name,
            json!(int_at(obj, "/spec/replicas")),
            json!(int_at(obj, "/status/replicas")),
            json!(int_at(obj, "/status/readyReplicas")),
            json!(age(obj)),
        ],
        "namespaces" => vec![name, json!("Active"), json!(age(obj))],
        "gateways" => gateway_cells(name, obj),
        _ => vec![name, json!(age(obj))],
    }
}

fn pod_cells(name: Value, obj: &Value) -> Vec<Value> {
    let statuses = obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready") == Some(&json!(true)))
        .count();
    let restarts: i64 = statuses.iter().map(|s| int_at(s, "/restartCount")).sum();
    vec![
        name,
        json!(format!("{ready}/{}", statuses.len())),
        json!(text_at(obj, "/status/phase")),
        json!(restarts.to_string()),
        json!(age(obj)),
        json!(text_at(obj, "/status/podIP")),
        json!(text_at(obj, "/spec/nodeName")),
    ]
}

fn service_cells(name: Value, obj: &Value) -> Vec<Value> {
    let ports = obj
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    format!(
                        "{}/{}",
                        int_at(p, "/port"),
                        p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let selector = obj
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .map_or_else(
            || "<none>".into(),
            |m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            },
        );
    vec![
        name,
        json!(text_at(obj, "/spec/type")),
        json!(text_at(obj, "/spec/clusterIP")),
        json!("<none>"),
        json!(ports),
        json!(age(obj)),
        json!(selector),
    ]
}

fn gateway_cells(name: Value, obj: &Value) -> Vec<Value> {
    let programmed = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| text_at(c, "/type") == "Programmed"))
        .map_or_else(|| "Unknown".into(), |c| text_at(c, "/status").to_string());
    vec![
        name,
        json!(text_at(obj, "/spec/gatewayClassName")),
        json!(text_at(obj, "/status/addresses/0/value")),
        json!(programmed),
        json!(age(obj)),
    ]
}

/// Renders objects as a Table; `include` is the request's `includeObject`
/// (`Metadata` by default, `Object`, or `None`).
pub fn render(res: &Resource, items: &[Value], resource_version: u64, include: &str) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let object = match include {
                "None" => Value::Null,
                "Object" => obj.clone(),
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
                }),
            };
            json!({"cells": cells(res, obj), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": columns(res),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::human_age;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(190), "3m10s");
        assert_eq!(human_age(3600 * 5 + 60), "5h1m");
        assert_eq!(human_age(86400 * 3 + 3600), "3d1h");
        assert_eq!(human_age(86400 * 30), "30d");
    }
}
