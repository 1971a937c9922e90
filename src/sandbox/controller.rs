//! The controllers a cluster runs, reduced to what the mesh needs: Gateways of class
//! `istio-waypoint` get a waypoint Deployment, Deployments get a ReplicaSet, ReplicaSets
//! get Running pods, Services get a cluster IP, routes get an `Accepted` status.

use std::hash::{Hash, Hasher};

use serde_json::{Value, json};

use super::store::{Store, name_of, now_rfc3339, random_suffix, resource};

pub const WAYPOINT_CLASS: &str = "istio-waypoint";
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// Brings derived objects in line with their owners. Called after every write.
pub fn reconcile(store: &mut Store) {
    waypoints(store);
    deployments(store);
    replica_sets(store);
    services(store);
    route_status(store);
}

fn ns_of(obj: &Value) -> String {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn owner_ref(owner: &Value, kind: &str, api_version: &str) -> Value {
    json!([{
        "apiVersion": api_version,
        "kind": kind,
        "name": name_of(owner),
        "uid": owner.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

fn owned_by(obj: &Value, owner: &Value) -> bool {
    let uid = owner.pointer("/metadata/uid");
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid") == uid))
}

/// The Istio version the control plane runs: the tag of the `istiod` image.
pub fn istio_version(store: &Store) -> Option<String> {
    store
        .all(&resource("deployments").key())
        .find(|d| name_of(d) == "istiod" && ns_of(d) == "istio-system")
        .and_then(|d| {
            d.pointer("/spec/template/spec/containers/0/image")
                .and_then(Value::as_str)
        })
        .and_then(|image| image.rsplit_once(':').map(|(_, tag)| tag.to_string()))
}

fn waypoints(store: &mut Store) {
    let gateways: Vec<Value> = store
        .all(&resource("gateways").key())
        .filter(|g| {
            g.pointer("/spec/gatewayClassName").and_then(Value::as_str) == Some(WAYPOINT_CLASS)
        })
        .cloned()
        .collect();
    let version = istio_version(store).unwrap_or_else(|| "1.24.0".into());
    let deployments = resource("deployments");
    for gw in gateways {
        let ns = ns_of(&gw);
        let name = name_of(&gw).to_string();
        if !store.exists(deployments, &ns, &name) {
            let labels = json!({GATEWAY_NAME_LABEL: name, "istio.io/gateway-name": name});
            let deploy = json!({
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                              "ownerReferences": owner_ref(&gw, "Gateway", "gateway.networking.k8s.io/v1")},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {GATEWAY_NAME_LABEL: name}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{
                            "name": "istio-proxy",
                            "image": format!("docker.io/istio/proxyv2:{version}"),
                            "args": ["proxy", "waypoint"],
                            "ports": [{"containerPort": 15008, "name": "mesh", "protocol": "TCP"}],
                        }]},
                    },
                },
            });
            store.put_internal(deployments, deploy);
        }
        if gw.pointer("/status/conditions").is_none() {
            let mut gw = gw.clone();
            let generation = gw
                .pointer("/metadata/generation")
                .cloned()
                .unwrap_or(json!(1));
            let now = now_rfc3339();
            gw["status"] = json!({
                "addresses": [{"type": "Hostname", "value": format!("{name}.{ns}.svc.cluster.local")}],
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted",
                     "observedGeneration": generation, "lastTransitionTime": now},
                    {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "Resource programmed, assigned to service(s)",
                     "observedGeneration": generation, "lastTransitionTime": now},
                ],
            });
            store.put_internal(resource("gateways"), gw);
        }
    }
}

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

fn deployments(store: &mut Store) {
    let rs_res = resource("replicasets");
    let deployments: Vec<Value> = store.all(&resource("deployments").key()).cloned().collect();
    for d in deployments {
        let ns = ns_of(&d);
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(&template);
        let rs_name = format!("{}-{hash}", name_of(&d));
        // A new template replaces the old ReplicaSet (and so its pods) at once.
        let stale: Vec<Value> = store
            .all(&rs_res.key())
            .filter(|rs| ns_of(rs) == ns && owned_by(rs, &d) && name_of(rs) != rs_name)
            .cloned()
            .collect();
        for rs in stale {
            store.remove_internal(rs_res, &ns, name_of(&rs));
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
        let existing = store.get(rs_res, "v1", &ns, &rs_name).ok();
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
            .get(rs_res, "v1", &ns, &rs_name)
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
            store.put_internal(resource("deployments"), d);
        }
    }
}

fn replica_sets(store: &mut Store) {
    let pods_res = resource("pods");
    let sets: Vec<Value> = store.all(&resource("replicasets").key()).cloned().collect();
    for rs in sets {
        let ns = ns_of(&rs);
        let mut pods: Vec<Value> = store
            .all(&pods_res.key())
            .filter(|p| ns_of(p) == ns && owned_by(p, &rs))
            .cloned()
            .collect();
        let want = replicas(&rs);
        while pods.len() > want {
            if let Some(p) = pods.pop() {
                store.remove_internal(pods_res, &ns, name_of(&p));
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
            store.put_internal(resource("replicasets"), rs);
        }
    }
}

fn new_pod(store: &Store, rs: &Value) -> Value {
    let ns = ns_of(rs);
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

fn services(store: &mut Store) {
    let svc_res = resource("services");
    let missing: Vec<Value> = store
        .all(&svc_res.key())
        .filter(|s| s.pointer("/spec/clusterIP").is_none())
        .cloned()
        .collect();
    for mut svc in missing {
        let n = store.revision();
        svc["spec"]["clusterIP"] = json!(format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 2));
        svc["spec"]["clusterIPs"] = json!([svc["spec"]["clusterIP"].clone()]);
        if svc.pointer("/spec/type").is_none() {
            svc["spec"]["type"] = json!("ClusterIP");
        }
        store.put_internal(svc_res, svc);
    }
}

/// Istio marks a TCPRoute `Accepted` even when the waypoint then ignores it (the bug).
fn route_status(store: &mut Store) {
    let routes_res = resource("tcproutes");
    let routes: Vec<Value> = store.all(&routes_res.key()).cloned().collect();
    for mut route in routes {
        let generation = route
            .pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1));
        let parent_count = route
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let up_to_date = route
            .pointer("/status/parents")
            .and_then(Value::as_array)
            .is_some_and(|ps| {
                ps.len() == parent_count
                    && ps
                        .iter()
                        .all(|p| p.pointer("/conditions/0/observedGeneration") == Some(&generation))
            });
        if up_to_date {
            continue;
        }
        let now = now_rfc3339();
        let parents: Vec<Value> = route
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|parent| {
                json!({
                    "parentRef": parent,
                    "controllerName": "istio.io/gateway-controller",
                    "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Route was valid",
                         "observedGeneration": generation, "lastTransitionTime": now},
                        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "All references resolved",
                         "observedGeneration": generation, "lastTransitionTime": now},
                    ],
                })
            })
            .collect();
        route["status"] = json!({"parents": parents});
        store.put_internal(routes_res, route);
    }
}
