//! The sandbox's object store: every object once, by type, namespace and name, with
//! `resourceVersion`, `generation`, `uid` and owner-based garbage collection as an API
//! server keeps them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::catalogue::{self, NAMESPACES, Resource};
use super::journal::{Change, ChangeKind, Journal};
use super::meta::{name_of, namespace_of, now_rfc3339, random_suffix};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::validate;

type Key = (String, String, String);

/// What runs after every write to bring derived objects in line (the controllers). The
/// store only calls it, so storage knows nothing of what the controllers do.
pub(crate) type Reconcile = fn(&mut Store);

pub struct Store {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    uids: u64,
    changes: watch::Sender<u64>,
    reconcile: Reconcile,
    journal: Journal,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn key(res: &Resource, ns: &str, name: &str) -> Key {
    let ns = if res.namespaced { ns } else { "" };
    (res.key(), ns.to_string(), name.to_string())
}

impl Store {
    /// A store with no controllers: writes are stored as they are.
    pub fn new() -> Self {
        Self::with_controllers(|_| {})
    }

    /// A store that runs `reconcile` to a fixed point after every write.
    pub(crate) fn with_controllers(reconcile: Reconcile) -> Self {
        let (changes, _) = watch::channel(0);
        Store {
            objects: BTreeMap::new(),
            revision: 1,
            uids: 0,
            changes,
            reconcile,
            journal: Journal::default(),
        }
    }

    /// Keeps a change, as of the current revision, for watches.
    fn log(&mut self, kind: ChangeKind, type_key: &str, object: &Value, previous: Option<Value>) {
        self.journal.keep(Change {
            rv: self.revision,
            kind,
            type_key: type_key.to_string(),
            object: object.clone(),
            previous,
        });
    }

    /// The changes after revision `rv`, oldest first; Err(oldest kept) when some of them
    /// are forgotten.
    pub fn changes_since(&self, rv: u64) -> Result<impl Iterator<Item = &Change>, u64> {
        self.journal.since(rv)
    }

    /// A receiver that sees the revision each time anything changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn bump(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    fn new_uid(&mut self) -> String {
        self.uids += 1;
        let r: u64 = rand::random();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            r as u32,
            (r >> 32) as u16,
            (self.uids >> 12) & 0xfff,
            self.uids & 0xfff,
            rand::random::<u64>() & 0xffff_ffff_ffff
        )
    }

    /// An object as a client asking for `version` sees it.
    pub(crate) fn present(res: &Resource, version: &str, obj: &Value) -> Value {
        let mut out = obj.clone();
        out["apiVersion"] = json!(res.api_version(version));
        out["kind"] = json!(res.kind);
        out
    }

    pub fn get(
        &self,
        res: &Resource,
        version: &str,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        self.objects
            .get(&key(res, ns, name))
            .map(|o| Self::present(res, version, o))
            .ok_or_else(|| ApiError::not_found(res.group, res.plural, name))
    }

    /// Objects of a type, in one namespace or all (`ns` = None), filtered by selectors.
    pub fn list(
        &self,
        res: &Resource,
        version: &str,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        let type_key = res.key();
        self.objects
            .iter()
            .filter(|((t, n, _), _)| {
                *t == type_key && (!res.namespaced || ns.is_none_or(|ns| ns == n))
            })
            .filter(|(_, o)| labels.matches(o.pointer("/metadata/labels")) && fields.matches(o))
            .map(|(_, o)| Self::present(res, version, o))
            .collect()
    }

    /// Every stored object of a type across namespaces, storage version.
    pub fn all(&self, res: &Resource) -> impl Iterator<Item = &Value> {
        let type_key = res.key();
        self.objects
            .iter()
            .filter(move |((t, _, _), _)| *t == type_key)
            .map(|(_, o)| o)
    }

    pub fn exists(&self, res: &Resource, ns: &str, name: &str) -> bool {
        self.objects.contains_key(&key(res, ns, name))
    }

    fn check_namespace(&self, res: &Resource, ns: &str) -> Result<(), ApiError> {
        if res.namespaced && !self.exists(&NAMESPACES, "", ns) {
            return Err(ApiError::not_found("", "namespaces", ns));
        }
        Ok(())
    }

    /// Fills in what the server owns and checks the object before it is written.
    fn admit(
        &self,
        res: &Resource,
        ns: &str,
        obj: &mut Value,
        path_name: Option<&str>,
    ) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        if let Some(body_ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str)
            && res.namespaced
            && !ns.is_empty()
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if res.namespaced {
            obj["metadata"]["namespace"] = json!(ns);
        } else if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        if let Some(want) = path_name {
            match obj.pointer("/metadata/name").and_then(Value::as_str) {
                Some(n) if n != want => {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({n}) does not match the name on the URL ({want})"
                    )));
                }
                _ => obj["metadata"]["name"] = json!(want),
            }
        }
        if let Some(api_version) = obj.get("apiVersion").and_then(Value::as_str) {
            let (group, _) = catalogue::split_api_version(api_version);
            if group != res.group {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({api_version}) does not match the expected API version ({})",
                    res.api_version(res.versions[0])
                )));
            }
        }
        validate::apply_defaults(res, obj);
        let errors = validate::check(res, obj);
        if !errors.is_empty() {
            return Err(ApiError::invalid(res.group, res.kind, name_of(obj), errors));
        }
        obj["apiVersion"] = json!(res.api_version(res.versions[0]));
        obj["kind"] = json!(res.kind);
        Ok(())
    }

    pub fn create(
        &mut self,
        res: &Resource,
        version: &str,
        ns: &str,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        self.check_namespace(res, ns)?;
        if obj.pointer("/metadata/name").is_none()
            && let Some(prefix) = obj
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
        {
            let name = format!("{prefix}{}", random_suffix(5));
            obj["metadata"]["name"] = json!(name);
        }
        self.admit(res, ns, &mut obj, None)?;
        let name = name_of(&obj).to_string();
        let k = key(res, ns, &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError::already_exists(res.group, res.plural, &name));
        }
        let uid = self.new_uid();
        let rv = self.bump();
        let meta = &mut obj["metadata"];
        meta["uid"] = json!(uid);
        meta["resourceVersion"] = json!(rv.to_string());
        meta["creationTimestamp"] = json!(now_rfc3339());
        meta["generation"] = json!(1);
        if let Some(m) = meta.as_object_mut() {
            m.remove("deletionTimestamp");
        }
        self.log(ChangeKind::Added, &k.0, &obj, None);
        self.objects.insert(k, obj.clone());
        self.settle();
        Ok(Self::present(res, version, &obj))
    }

    /// Replaces an object. A `resourceVersion` in the body must match the stored one.
    pub fn replace(
        &mut self,
        res: &Resource,
        version: &str,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        self.admit(res, ns, &mut obj, Some(name))?;
        let k = key(res, ns, name);
        let Some(old) = self.objects.get(&k) else {
            return Err(ApiError::not_found(res.group, res.plural, name));
        };
        let old_rv = old
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        match obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            Some(rv) if Some(rv) != old_rv.as_str() => {
                return Err(ApiError::conflict(
                    res.group,
                    res.plural,
                    name,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
            _ => {}
        }
        // The server owns identity and history; a client cannot rewrite them.
        for field in ["uid", "creationTimestamp"] {
            obj["metadata"][field] = old["metadata"][field].clone();
        }
        if obj.pointer("/metadata/managedFields").is_none()
            && let Some(mf) = old.pointer("/metadata/managedFields")
        {
            obj["metadata"]["managedFields"] = mf.clone();
        }
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let spec_changed = strip_for_generation(&obj) != strip_for_generation(old);
        obj["metadata"]["generation"] = json!(if spec_changed {
            generation + 1
        } else {
            generation
        });
        let unchanged = {
            let mut a = obj.clone();
            a["metadata"]["resourceVersion"] = old_rv.clone();
            a == *old
        };
        if unchanged {
            return Ok(Self::present(res, version, old));
        }
        let previous = old.clone();
        let rv = self.bump();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.log(ChangeKind::Modified, &k.0, &obj, Some(previous));
        self.objects.insert(k, obj.clone());
        self.settle();
        Ok(Self::present(res, version, &obj))
    }

    /// Writes an object the sandbox itself changed (status, controllers): no validation,
    /// no generation change unless the spec changed.
    pub(crate) fn put_internal(&mut self, res: &Resource, mut obj: Value) {
        let k = key(res, namespace_of(&obj), name_of(&obj));
        let previous = self.objects.get(&k).cloned();
        if let Some(old) = &previous {
            let mut cmp = obj.clone();
            cmp["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            if cmp == *old {
                return;
            }
        } else {
            obj["metadata"]["uid"] = json!(self.new_uid());
            obj["metadata"]["creationTimestamp"] = json!(now_rfc3339());
            obj["metadata"]["generation"] = json!(1);
        }
        obj["apiVersion"] = json!(res.api_version(res.versions[0]));
        obj["kind"] = json!(res.kind);
        let rv = self.bump();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let kind = if previous.is_some() {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        self.log(kind, &k.0, &obj, previous);
        self.objects.insert(k, obj);
    }

    pub fn delete(
        &mut self,
        res: &Resource,
        version: &str,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let removed = self
            .remove_one(res, ns, name)
            .ok_or_else(|| ApiError::not_found(res.group, res.plural, name))?;
        self.settle();
        Ok(Self::present(res, version, &removed))
    }

    pub fn delete_collection(
        &mut self,
        res: &Resource,
        version: &str,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        let doomed = self.list(res, version, ns, labels, fields);
        for obj in &doomed {
            self.remove_one(res, namespace_of(obj), name_of(obj));
        }
        self.settle();
        doomed
    }

    /// Removes an object on a controller's behalf; the caller settles.
    pub(crate) fn remove_internal(&mut self, res: &Resource, ns: &str, name: &str) {
        self.remove_one(res, ns, name);
    }

    fn remove_one(&mut self, res: &Resource, ns: &str, name: &str) -> Option<Value> {
        let removed = self.remove_key(&key(res, ns, name))?;
        if res.plural == NAMESPACES.plural {
            // Deleting a namespace deletes everything in it.
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|(_, n, _)| n == name)
                .cloned()
                .collect();
            for k in inside {
                self.remove_key(&k);
            }
        }
        Some(removed)
    }

    /// Removes one object as of a new revision, and tells watches.
    fn remove_key(&mut self, k: &Key) -> Option<Value> {
        let mut removed = self.objects.remove(k)?;
        let rv = self.bump();
        removed["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.log(ChangeKind::Deleted, &k.0, &removed, None);
        Some(removed)
    }

    /// Runs the controllers with nothing written: for those that act on the time (a
    /// Rollout's pause that has run out).
    pub(crate) fn tick(&mut self) {
        let before = self.revision;
        (self.reconcile)(self);
        if self.revision != before {
            self.settle();
        }
    }

    /// Runs the controllers and garbage collection to a fixed point, then tells watchers.
    fn settle(&mut self) {
        for _ in 0..8 {
            let before = self.revision;
            self.collect_garbage();
            (self.reconcile)(self);
            if self.revision == before {
                break;
            }
        }
        self.changes.send_replace(self.revision);
    }

    /// Deletes objects whose owners are gone, as the garbage collector does in the
    /// background after a delete with the default propagation.
    fn collect_garbage(&mut self) {
        loop {
            let uids: std::collections::HashSet<String> = self
                .objects
                .values()
                .filter_map(|o| {
                    o.pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect();
            let orphans: Vec<Key> = self
                .objects
                .iter()
                .filter(|(_, o)| {
                    o.pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            !refs.is_empty()
                                && refs.iter().all(|r| {
                                    r.get("uid")
                                        .and_then(Value::as_str)
                                        .is_none_or(|u| !uids.contains(u))
                                })
                        })
                })
                .map(|(k, _)| k.clone())
                .collect();
            if orphans.is_empty() {
                return;
            }
            for k in orphans {
                self.remove_key(&k);
            }
        }
    }
}

/// What decides whether `generation` moves: everything but metadata and status.
fn strip_for_generation(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    // Metadata changes to labels, annotations, and so on do not bump generation.
    o
}
