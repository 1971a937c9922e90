//! Deployments get a ReplicaSet per template, ReplicaSets get Running pods.

use std::hash::{Hash, Hasher};

use serde_json::{Value, json};

use super::owners::{owned_by, owner_ref};
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{DEPLOYMENTS, PODS, REPLICASETS};
use crate::sandbox::storage::meta::{name_of, namespace_of, now_rfc3339, random_suffix};

fn template_hash(template: &Value) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    template.to_string().hash(&mut h);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = h.finish();
    (0..10)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

fn replicas(obj: &Value) -> usize {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1) as usize
}

pub(super) fn deployments(store: &mut Store) {
    let rs_res = &REPLICASETS;
    let deployments: Vec<Value> = store.all(&DEPLOYMENTS).cloned().collect();
    for d in deployments {
        let ns = namespace_of(&d);
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(&template);
        let rs_name = format!("{}-{hash}", name_of(&d));
        // A new template replaces the old ReplicaSet (and so its pods) at once.
        let stale: Vec<Value> = store
            .all(rs_res)
            .filter(|rs| namespace_of(rs) == ns && owned_by(rs, &d) && name_of(rs) != rs_name)
            .cloned()
            .collect();
        for rs in stale {
            store.remove_internal(rs_res, ns, name_of(&rs));
        }
        let mut labels = template
            .pointer("/metadata/labels")
            .cloned()
            .unwrap_or(json!({}));
        labels["pod-template-hash"] = json!(hash);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"] = labels.clone();
        let mut selector = d
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or(json!({"matchLabels": {}}));
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let existing = store.get(rs_res, "v1", ns, &rs_name).ok();
        let want_replicas = replicas(&d);
        if existing
            .as_ref()
            .is_none_or(|rs| replicas(rs) != want_replicas)
        {
            let mut rs = existing.unwrap_or_else(|| {
                json!({"metadata": {"name": rs_name, "namespace": ns, "labels": labels,
                                     "ownerReferences": owner_ref(&d, "Deployment", "apps/v1")}})
            });
            rs["spec"] =
                json!({"replicas": want_replicas, "selector": selector, "template": rs_template});
            store.put_internal(rs_res, rs);
        }
        let ready = store
            .get(rs_res, "v1", ns, &rs_name)
            .ok()
            .and_then(|rs| rs.pointer("/status/readyReplicas").and_then(Value::as_u64))
            .unwrap_or(0);
        let generation = d
            .pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1));
        let available = if ready as usize >= want_replicas {
            "True"
        } else {
            "False"
        };
        let status = json!({
            "observedGeneration": generation,
            "replicas": ready,
            "updatedReplicas": ready,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [{"type": "Available", "status": available, "reason": "MinimumReplicasAvailable",
                             "message": "Deployment has minimum availability."}],
        });
        if d.get("status") != Some(&status) {
            let mut d = d.clone();
            d["status"] = status;
            store.put_internal(&DEPLOYMENTS, d);
        }
    }
}

pub(super) fn replica_sets(store: &mut Store) {
    let pods_res = &PODS;
    let sets: Vec<Value> = store.all(&REPLICASETS).cloned().collect();
    for rs in sets {
        let ns = namespace_of(&rs);
        let mut pods: Vec<Value> = store
            .all(pods_res)
            .filter(|p| namespace_of(p) == ns && owned_by(p, &rs))
            .cloned()
            .collect();
        let want = replicas(&rs);
        while pods.len() > want {
            if let Some(p) = pods.pop() {
                store.remove_internal(pods_res, ns, name_of(&p));
            }
        }
        for _ in pods.len()..want {
            let pod = new_pod(store, &rs);
            store.put_internal(pods_res, pod);
        }
        let status = json!({"replicas": want, "readyReplicas": want, "availableReplicas": want, "fullyLabeledReplicas": want,
                            "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1))});
        if rs.get("status") != Some(&status) {
            let mut rs = rs.clone();
            rs["status"] = status;
            store.put_internal(&REPLICASETS, rs);
        }
    }
}

fn new_pod(store: &Store, rs: &Value) -> Value {
    let ns = namespace_of(rs);
    let name = format!("{}-{}", name_of(rs), random_suffix(5));
    let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut spec = template
        .get("spec")
        .cloned()
        .unwrap_or(json!({"containers": []}));
    spec["nodeName"] = json!("sandbox");
    spec["restartPolicy"] = json!("Always");
    spec["dnsPolicy"] = json!("ClusterFirst");
    let now = now_rfc3339();
    let statuses: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({
                        "name": c.get("name").cloned().unwrap_or(json!("main")),
                        "image": c.get("image").cloned().unwrap_or(json!("")),
                        "imageID": "",
                        "ready": true,
                        "started": true,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ip_index = store.revision() % 250 + 2;
    json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "ownerReferences": owner_ref(rs, "ReplicaSet", "apps/v1"),
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                {"type": "Ready", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            ],
            "hostIP": "172.18.0.2",
            "podIP": format!("10.244.0.{ip_index}"),
            "podIPs": [{"ip": format!("10.244.0.{ip_index}")}],
            "startTime": now,
            "qosClass": "BestEffort",
            "containerStatuses": statuses,
        },
    })
}
