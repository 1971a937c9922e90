//! `PATCH` requests: server-side apply, JSON merge patch (strategic merge patch is read
//! as one) and JSON patch, chosen by content type.

use hyper::Response;
use serde_json::{Value, json};

use super::apply::{merge_patch, record_update, server_side_apply};
use super::request::{ResourceRequest, check_kind, parse_object};
use super::response::{Body, json_response};
use super::state::ApiState;
use crate::sandbox::storage::{ApiError, Store};
use crate::sandbox::sync::lock;

/// `PATCH` on an object, by content type.
pub fn patch(
    state: &ApiState,
    r: &ResourceRequest,
    name: &str,
    bytes: &[u8],
    content_type: &str,
) -> Result<Response<Body>, ApiError> {
    let mut store = lock(&state.store);
    match media(content_type) {
        "application/apply-patch+yaml" => apply(&mut store, r, name, bytes),
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let patch = decode(bytes)?;
            let old = store.get(r.res, &r.version, r.ns(), name)?;
            let obj = merged(&old, &patch)?;
            // A patch that names a resourceVersion asks for the optimistic-concurrency check.
            let checks_version = patch.pointer("/metadata/resourceVersion").is_some();
            write(&mut store, r, name, &old, obj, checks_version)
        }
        "application/json-patch+json" => {
            let patch = decode(bytes)?;
            let old = store.get(r.res, &r.version, r.ns(), name)?;
            let obj = json_patch(&old, &patch)?;
            write(&mut store, r, name, &old, obj, false)
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// `PATCH` on the `status` subresource: the patch is applied, and of what it made only
/// the status is kept; the rest of the object stays as it was.
pub fn patch_status(
    state: &ApiState,
    r: &ResourceRequest,
    name: &str,
    bytes: &[u8],
    content_type: &str,
) -> Result<Response<Body>, ApiError> {
    let mut store = lock(&state.store);
    let old = store.get(r.res, &r.version, r.ns(), name)?;
    let patched = match media(content_type) {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            merged(&old, &decode(bytes)?)?
        }
        "application/json-patch+json" => json_patch(&old, &decode(bytes)?)?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    let mut obj = old.clone();
    obj["status"] = patched.get("status").cloned().unwrap_or(Value::Null);
    write(&mut store, r, name, &old, obj, false)
}

/// The media type of a `Content-Type`, without its parameters.
fn media(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// `old` with a JSON merge patch applied.
fn merged(old: &Value, patch: &Value) -> Result<Value, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request("a merge patch must be a JSON object"));
    }
    let mut obj = old.clone();
    merge_patch(&mut obj, patch);
    Ok(obj)
}

fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// Stores a patched object, recording the update under the request's field manager.
fn write(
    store: &mut Store,
    r: &ResourceRequest,
    name: &str,
    old: &Value,
    mut obj: Value,
    checks_version: bool,
) -> Result<Response<Body>, ApiError> {
    if !checks_version && let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    record_update(Some(old), &mut obj, &r.field_manager(), &r.api_version());
    Ok(json_response(
        200,
        &store.replace(r.res, &r.version, r.ns(), name, obj)?,
    ))
}

/// Server-side apply: merges what the manager applies, creating the object if need be.
fn apply(
    store: &mut Store,
    r: &ResourceRequest,
    name: &str,
    bytes: &[u8],
) -> Result<Response<Body>, ApiError> {
    let applied = parse_object(bytes, "yaml")?;
    let manager = r
        .query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::bad_request("PATCH /apply requires fieldManager"))?;
    if applied.get("apiVersion").is_none() || applied.get("kind").is_none() {
        return Err(ApiError::bad_request(
            "apply patches must set apiVersion and kind",
        ));
    }
    check_kind(r.res, &applied)?;
    if applied
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != name)
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object does not match the name on the URL ({name})"
        )));
    }
    let force = r.query.get("force").is_some_and(|f| f == "true");
    let existing = store.get(r.res, &r.version, r.ns(), name).ok();
    let mut merged = server_side_apply(
        existing.as_ref(),
        &applied,
        manager,
        force,
        &r.api_version(),
    )?;
    merged["metadata"]["name"] = json!(name);
    match existing {
        None => Ok(json_response(
            201,
            &store.create(r.res, &r.version, r.ns(), merged)?,
        )),
        Some(old) => {
            merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            Ok(json_response(
                200,
                &store.replace(r.res, &r.version, r.ns(), name, merged)?,
            ))
        }
    }
}

/// RFC 6902 with the operations kubectl sends: add, remove, replace, test.
pub(crate) fn json_patch(doc: &Value, ops: &Value) -> Result<Value, ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::bad_request("a JSON patch must be an array"))?;
    let mut doc = doc.clone();
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("patch operation has no path"))?;
        let (parent, last) = path
            .rsplit_once('/')
            .ok_or_else(|| ApiError::bad_request(format!("bad patch path {path:?}")))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let value = op.get("value").cloned();
        match kind {
            "test" => {
                if doc.pointer(path) != value.as_ref() {
                    return Err(ApiError::internal(format!("testing value {path} failed")));
                }
            }
            "add" | "replace" | "remove" => {
                let target = doc
                    .pointer_mut(parent)
                    .ok_or_else(|| ApiError::internal(format!("doc is missing path: {path:?}")))?;
                match target {
                    Value::Object(m) => {
                        if kind == "remove" || kind == "replace" {
                            m.remove(&last).ok_or_else(|| {
                                ApiError::internal(format!("doc is missing key: {path:?}"))
                            })?;
                        }
                        if let (true, Some(v)) = (kind != "remove", value) {
                            m.insert(last, v);
                        }
                    }
                    Value::Array(a) => {
                        let idx = if last == "-" {
                            a.len()
                        } else {
                            last.parse::<usize>().map_err(|_| {
                                ApiError::bad_request(format!("bad index in {path:?}"))
                            })?
                        };
                        if idx > a.len() || (kind != "add" && idx >= a.len()) {
                            return Err(ApiError::internal(format!(
                                "index out of range in {path:?}"
                            )));
                        }
                        match (kind, value) {
                            ("remove", _) => {
                                a.remove(idx);
                            }
                            ("replace", Some(v)) => a[idx] = v,
                            (_, Some(v)) => a.insert(idx, v),
                            _ => return Err(ApiError::bad_request("patch operation has no value")),
                        }
                    }
                    _ => {
                        return Err(ApiError::internal(format!(
                            "cannot patch into a scalar at {path:?}"
                        )));
                    }
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unsupported JSON patch operation {other:?}"
                )));
            }
        }
    }
    Ok(doc)
}
