//! Writes that merge: JSON merge patch (RFC 7386) and server-side apply with field
//! ownership, so two managers that disagree about a field get a 409 unless one forces.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::sandbox::storage::ApiError;
use crate::sandbox::storage::meta::now_rfc3339;

/// A field path: object keys from the root; lists are owned whole.
pub(crate) type FieldPath = Vec<String>;

/// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Fields a manager can own: everything but identity and server-owned metadata.
fn skip(path: &[String]) -> bool {
    match path {
        [top] => top == "apiVersion" || top == "kind" || top == "status",
        [m, field] if m == "metadata" => !matches!(
            field.as_str(),
            "labels" | "annotations" | "ownerReferences" | "finalizers"
        ),
        _ => false,
    }
}

/// The leaf paths an object sets.
pub fn leaves(obj: &Value) -> BTreeSet<FieldPath> {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        if skip(path) {
            return;
        }
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ if path.is_empty() => {}
            _ => {
                out.insert(path.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(obj, &mut Vec::new(), &mut out);
    out
}

fn get_path<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |cur, k| cur.get(k))
}

fn remove_path(obj: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let pointer: String = parents
        .iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect();
    match obj.pointer_mut(&pointer).and_then(Value::as_object_mut) {
        Some(m) => {
            m.remove(last);
        }
        None => return,
    }
    // Drop maps the removal emptied, so the object does not keep husks.
    if parents.len() > 1
        && get_path(obj, parents).is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        remove_path(obj, parents);
    }
}

/// Deep merge for apply: maps merge, everything else (lists included) replaces.
fn overlay(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(t), Value::Object(a)) => {
            for (k, v) in a {
                match t.get_mut(k) {
                    Some(existing) => overlay(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, a) => *t = a.clone(),
    }
}

fn to_fields_v1(paths: &BTreeSet<FieldPath>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut cur = &mut root;
        for k in path {
            let entry = cur.entry(format!("f:{k}")).or_insert_with(|| json!({}));
            let Some(next) = entry.as_object_mut() else {
                break;
            };
            cur = next;
        }
    }
    Value::Object(root)
}

fn from_fields_v1(fields: &Value) -> BTreeSet<FieldPath> {
    fn walk(v: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        let children: Vec<(&String, &Value)> = v
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| k.starts_with("f:")).collect())
            .unwrap_or_default();
        if children.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, child) in children {
            path.push(k[2..].to_string());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
}

/// Who owns what, from `metadata.managedFields`: (manager, operation) -> paths.
type Ownership = BTreeMap<(String, String), (String, BTreeSet<FieldPath>)>;

fn ownership(obj: &Value) -> Ownership {
    let mut out = Ownership::new();
    for entry in obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let manager = entry
            .get("manager")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let operation = entry
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or("Update")
            .to_string();
        let api_version = entry
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let paths = entry
            .get("fieldsV1")
            .map(from_fields_v1)
            .unwrap_or_default();
        out.insert((manager, operation), (api_version, paths));
    }
    out
}

fn write_ownership(obj: &mut Value, owners: &Ownership) {
    let now = now_rfc3339();
    let entries: Vec<Value> = owners
        .iter()
        .filter(|(_, (_, paths))| !paths.is_empty())
        .map(|((manager, operation), (api_version, paths))| {
            json!({
                "manager": manager,
                "operation": operation,
                "apiVersion": api_version,
                "time": now,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(paths),
            })
        })
        .collect();
    obj["metadata"]["managedFields"] = json!(entries);
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Records that `manager` wrote `new` over `old` with an ordinary update: it takes the
/// fields whose values changed.
pub(crate) fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
) {
    let mut owners = old.map(ownership).unwrap_or_default();
    let changed: BTreeSet<FieldPath> = leaves(new)
        .into_iter()
        .filter(|p| old.is_none_or(|o| get_path(o, p) != get_path(new, p)))
        .collect();
    if changed.is_empty() && old.is_some() {
        if let Some(mf) = old.and_then(|o| o.pointer("/metadata/managedFields")) {
            new["metadata"]["managedFields"] = mf.clone();
        }
        return;
    }
    for (_, paths) in owners.values_mut() {
        paths.retain(|p| !changed.iter().any(|c| overlaps(c, p)));
    }
    let entry = owners
        .entry((manager.to_string(), "Update".to_string()))
        .or_insert_with(|| (api_version.to_string(), BTreeSet::new()));
    entry.0 = api_version.to_string();
    entry.1.extend(changed);
    write_ownership(new, &owners);
}

/// Server-side apply of `applied` by `manager` onto `existing` (None: create).
/// Returns the object to store.
pub(crate) fn server_side_apply(
    existing: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
) -> Result<Value, ApiError> {
    let applied_paths = leaves(applied);
    let Some(existing) = existing else {
        let mut obj = applied.clone();
        let mut owners = Ownership::new();
        owners.insert(
            (manager.to_string(), "Apply".to_string()),
            (api_version.to_string(), applied_paths),
        );
        write_ownership(&mut obj, &owners);
        return Ok(obj);
    };
    let mut owners = ownership(existing);
    let me = (manager.to_string(), "Apply".to_string());

    let mut conflicts = Vec::new();
    for ((other, operation), (_, paths)) in &owners {
        if (other, operation) == (&me.0, &me.1) {
            continue;
        }
        for p in paths {
            let clash = applied_paths
                .iter()
                .any(|a| overlaps(a, p) && get_path(existing, a) != get_path(applied, a));
            if clash {
                conflicts.push((other.clone(), format!(".{}", p.join("."))));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(ApiError::apply_conflict(conflicts));
    }

    let previously_mine = owners.get(&me).map(|(_, p)| p.clone()).unwrap_or_default();
    // Fields this manager set before and no longer applies go, unless someone else owns them.
    let mut obj = existing.clone();
    for p in previously_mine.difference(&applied_paths) {
        let shared = owners
            .iter()
            .any(|(k, (_, paths))| *k != me && paths.iter().any(|q| overlaps(p, q)));
        if !shared {
            remove_path(&mut obj, p);
        }
    }
    overlay(&mut obj, applied);

    for (k, (_, paths)) in &mut owners {
        if *k == me {
            continue;
        }
        // A forced apply takes the fields over; an agreeing value is shared.
        paths.retain(|p| {
            !applied_paths
                .iter()
                .any(|a| overlaps(a, p) && get_path(existing, a) != get_path(applied, a))
        });
    }
    owners.insert(me, (api_version.to_string(), applied_paths));
    write_ownership(&mut obj, &owners);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut target, &json!({"c": [1, 2]}));
        assert_eq!(target, json!({"a": "z", "c": [1, 2]}));
    }

    #[test]
    fn fields_v1_round_trips() {
        let obj = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"rules": [1], "x": {"y": 2}}});
        let paths = leaves(&obj);
        assert_eq!(from_fields_v1(&to_fields_v1(&paths)), paths);
        assert!(!paths.contains(&vec!["metadata".to_string(), "name".to_string()]));
    }

    #[test]
    fn apply_conflicts_with_another_manager_unless_forced() {
        let first = json!({"metadata": {"name": "r"}, "spec": {"w": 1, "keep": true}});
        let stored = server_side_apply(None, &first, "alice", false, "v1").unwrap();
        let second = json!({"metadata": {"name": "r"}, "spec": {"w": 2}});
        let err = server_side_apply(Some(&stored), &second, "bob", false, "v1").unwrap_err();
        assert_eq!(err.code, 409);
        assert!(err.message.contains("alice"), "{}", err.message);
        let forced = server_side_apply(Some(&stored), &second, "bob", true, "v1").unwrap();
        assert_eq!(forced["spec"], json!({"w": 2, "keep": true}));
        // Same value: no conflict, shared ownership.
        let same = json!({"metadata": {"name": "r"}, "spec": {"w": 1}});
        assert!(server_side_apply(Some(&stored), &same, "bob", false, "v1").is_ok());
    }

    #[test]
    fn apply_removes_fields_the_manager_dropped() {
        let first = json!({"metadata": {"name": "r"}, "spec": {"a": 1, "b": 2}});
        let stored = server_side_apply(None, &first, "me", false, "v1").unwrap();
        let second = json!({"metadata": {"name": "r"}, "spec": {"a": 1}});
        let next = server_side_apply(Some(&stored), &second, "me", false, "v1").unwrap();
        assert_eq!(next["spec"], json!({"a": 1}));
    }
}
