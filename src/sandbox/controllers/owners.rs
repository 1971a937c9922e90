//! Owner references: how a derived object names the object it belongs to.

use serde_json::{Value, json};

use crate::sandbox::storage::meta::{name_of, uid_of};

pub(super) fn owner_ref(owner: &Value, kind: &str, api_version: &str) -> Value {
    json!([{
        "apiVersion": api_version,
        "kind": kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

pub(super) fn owned_by(obj: &Value, owner: &Value) -> bool {
    let uid = uid_of(owner);
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == uid)
        })
}
