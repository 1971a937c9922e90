//! istiod's rules as a table (tests/fixtures/istiod-rules.yaml), written from istiod's
//! behaviour: every row through splitscope's rules, the waypoint and the control plane.

use serde_json::{Value, json};
use splitscope::istio::control::{Istiod, Tag, Tags, serving};
use splitscope::istio::waypoint::resolve;

fn table() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/istiod-rules.yaml"
    );
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A Gateway as a row writes it, as the cluster would hold it.
fn gateway(g: &Value) -> Value {
    let namespace = text(g, "namespace").unwrap_or("app");
    let mut hbone = json!({"name": "mesh", "port": 15008, "protocol": "HBONE"});
    if let Some(from) = text(g, "from") {
        hbone["allowedRoutes"] = json!({"namespaces": {"from": from}});
        if let Some(selector) = g.get("selector") {
            hbone["allowedRoutes"]["namespaces"]["selector"] = json!({"matchLabels": selector});
        }
    }
    let mut obj = json!({
        "metadata": {"name": text(g, "name").unwrap(), "namespace": namespace,
                     "labels": g.get("labels").cloned().unwrap_or(json!({}))},
        "spec": {"gatewayClassName": text(g, "class").unwrap_or("istio-waypoint"),
                 "listeners": [hbone]},
    });
    if g.get("address").and_then(Value::as_bool) != Some(false) {
        obj["status"] = json!({"addresses": [{"type": "Hostname", "value": "w.svc"}]});
    }
    obj
}

fn class(name: &str, controller: &str, labels: Option<&Value>) -> Value {
    json!({"metadata": {"name": name, "labels": labels.cloned().unwrap_or(json!({}))},
           "spec": {"controllerName": controller}})
}

#[test]
fn every_waypoint_row_is_istiods_outcome() {
    let table = table();
    let rows = table["waypoints"].as_array().unwrap();
    assert!(rows.len() >= 20, "{} rows", rows.len());
    for row in rows {
        let name = text(row, "name").unwrap();
        let gateways: Vec<Value> = row["gateways"]
            .as_array()
            .unwrap()
            .iter()
            .map(gateway)
            .collect();
        let mut classes = vec![
            class("istio-waypoint", "istio.io/mesh-controller", None),
            class("istio", "istio.io/gateway-controller", None),
        ];
        for c in row
            .get("classes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            classes.push(class(
                text(c, "name").unwrap(),
                text(c, "controller").unwrap(),
                c.get("labels"),
            ));
        }
        let readable = text(row, "classes") != Some("unreadable");
        let got = resolve(
            "app",
            row.get("service"),
            row.get("namespace"),
            &gateways,
            readable.then_some(&classes[..]),
        );
        let expect = &row["expect"];
        match (text(expect, "waypoint"), text(expect, "none"), got) {
            (Some(want), _, Ok(w)) => {
                assert_eq!(format!("{}/{}", w.namespace, w.name), want, "{name}");
            }
            (None, Some(words), Err(why)) => {
                assert!(why.to_string().contains(words), "{name}: {why}");
            }
            (_, _, got) => panic!("{name}: expected {expect}, got {got:?}"),
        }
    }
}

#[test]
fn every_control_plane_row_is_istiods_outcome() {
    let table = table();
    let rows = table["control_planes"].as_array().unwrap();
    assert!(rows.len() >= 10, "{} rows", rows.len());
    for row in rows {
        let name = text(row, "name").unwrap();
        let istiods: Vec<Istiod> = row["istiods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let mut labels = json!({"app": "istiod"});
                if let Some(rev) = text(i, "rev") {
                    labels["istio.io/rev"] = json!(rev);
                }
                Istiod::from_object(&json!({
                    "metadata": {"name": text(i, "name").unwrap(), "namespace": "istio-system", "labels": labels},
                    "spec": {"template": {"spec": {"containers": [{"name": "discovery",
                        "image": format!("docker.io/istio/pilot:{}", text(i, "version").unwrap())}]}}},
                }))
            })
            .collect();
        let tags: Vec<Tag> = row
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Tag::from_object(&json!({"metadata": {
                    "name": format!("istio-revision-tag-{}", text(t, "tag").unwrap()),
                    "labels": {"istio.io/tag": text(t, "tag").unwrap(), "istio.io/rev": text(t, "rev").unwrap()}}}))
            })
            .collect();
        let labelled = |key: &str| {
            text(row, key).map(|rev| json!({"metadata": {"labels": {"istio.io/rev": rev}}}))
        };
        let (gw, ns) = (labelled("gateway_rev"), labelled("namespace_rev"));
        // `tags: unreadable`: RBAC hides the webhooks, so no tag can be known.
        let tags = if row.get("tags").and_then(Value::as_str) == Some("unreadable") {
            Tags::Unreadable
        } else {
            Tags::Read(&tags)
        };
        let got = serving(
            &istiods,
            tags,
            gw.as_ref(),
            ns.as_ref(),
            text(row, "pod_rev"),
        );
        let expect = &row["expect"];
        match (text(expect, "istiod"), text(expect, "none"), got) {
            (Some(want), _, Ok((istiod, _))) => assert_eq!(istiod.name, want, "{name}"),
            (None, Some(words), Err(why)) => {
                assert!(why.to_string().contains(words), "{name}: {why}");
            }
            (_, _, got) => panic!("{name}: expected {expect}, got {got:?}"),
        }
    }
}

/// A few rows end to end, marked `e2e: true` in the table: the row's objects made in
/// the sandbox (Istio 1.26, where a waypoint that serves the Service honours the route
/// and without one kube-proxy spreads connections evenly), then the header read through
/// a tape and `check`'s exit code, both through the binary. The table's namespace `app`
/// is the sandbox's route namespace.
#[test]
fn some_waypoint_rows_hold_end_to_end() {
    let table = table();
    let rows: Vec<&Value> = table["waypoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("e2e").and_then(Value::as_bool) == Some(true))
        .collect();
    assert!(rows.len() >= 5, "{} rows end to end", rows.len());
    for row in rows {
        end_to_end(row);
    }
}

fn end_to_end(row: &Value) {
    use splitscope::sandbox::NAMESPACE;
    let name = text(row, "name").unwrap();
    let server = crate::common::serve::serve(&["--istio", "1.26.0"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(make_row(&server.kubeconfig, row));
    let kc = server.kubeconfig.to_string_lossy().into_owned();
    let expect = &row["expect"];
    let in_header = match (text(expect, "waypoint"), text(expect, "none")) {
        (Some(want), _) => {
            let (ns, wp) = want.split_once('/').unwrap();
            if ns == "app" {
                format!("waypoint {wp} (")
            } else {
                format!("waypoint {ns}/{wp} (")
            }
        }
        (None, Some(words)) => words.replace("namespace app", &format!("namespace {NAMESPACE}")),
        (None, None) => panic!("{name}: no outcome"),
    };
    let dir = server.kubeconfig.with_file_name("rows");
    std::fs::create_dir_all(&dir).unwrap();
    let (tape, shot) = (dir.join("t.tape"), dir.join("row.txt"));
    std::fs::write(
        &tape,
        format!(
            "wait /n=[0-9]/ 30s\nsleep 1s\nshot {}\nquit\n",
            shot.display()
        ),
    )
    .unwrap();
    let tape_arg = tape.to_string_lossy().into_owned();
    let (code, out, err) = crate::common::splitscope(
        &[
            "watch",
            "--kubeconfig",
            &kc,
            "--tape",
            &tape_arg,
            "--size",
            "220x30",
        ],
        None,
    );
    assert_eq!(code, 0, "{name}: {out}{err}");
    let screen = std::fs::read_to_string(&shot).unwrap();
    assert!(
        screen.contains(&in_header),
        "{name}: {in_header:?} not in\n{screen}"
    );
    let (code, out, err) = crate::common::splitscope(
        &[
            "check",
            "--kubeconfig",
            &kc,
            "--interval",
            "0.05s",
            "--timeout",
            "60s",
        ],
        None,
    );
    let honoured = text(expect, "waypoint").is_some();
    assert_eq!(code, if honoured { 0 } else { 1 }, "{name}: {out}{err}");
}

/// The row's labels, Gateways and classes in the sandbox, in place of the seed's.
async fn make_row(kubeconfig: &std::path::Path, row: &Value) {
    use kube::api::{
        Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
    };
    use splitscope::sandbox::NAMESPACE;
    let text_of = std::fs::read_to_string(kubeconfig).unwrap();
    let config = kube::config::Kubeconfig::from_yaml(&text_of).unwrap();
    let cluster = splitscope::cluster::Cluster::from_kubeconfig(config, None, None)
        .await
        .unwrap();
    let client = cluster.client.clone();
    let api = |group: &str, version: &str, kind: &str, ns: Option<&str>| {
        let res = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        match ns {
            Some(ns) => Api::<DynamicObject>::namespaced_with(client.clone(), ns, &res),
            None => Api::<DynamicObject>::all_with(client.clone(), &res),
        }
    };
    let merge = PatchParams::default();
    let here = |ns: &str| {
        if ns == "app" {
            NAMESPACE.to_string()
        } else {
            ns.to_string()
        }
    };
    // The namespace's and the Service's labels as the row has them, nothing of the seed's
    // waypoint choice left.
    let mut ns_labels = json!({"istio.io/use-waypoint": null});
    for (k, v) in row
        .get("namespace")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        ns_labels[k] = v.clone();
    }
    api("", "v1", "Namespace", None)
        .patch(
            NAMESPACE,
            &merge,
            &Patch::Merge(json!({"metadata": {"labels": ns_labels}})),
        )
        .await
        .unwrap();
    if let Some(labels) = row.get("service") {
        api("", "v1", "Service", Some(NAMESPACE))
            .patch(
                "tcp-echo",
                &merge,
                &Patch::Merge(json!({"metadata": {"labels": labels}})),
            )
            .await
            .unwrap();
    }
    for c in row
        .get("classes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let obj = class(
            text(c, "name").unwrap(),
            text(c, "controller").unwrap(),
            c.get("labels"),
        );
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": obj["metadata"], "spec": obj["spec"]}))
        .unwrap();
        api("gateway.networking.k8s.io", "v1", "GatewayClass", None)
            .create(&PostParams::default(), &obj)
            .await
            .unwrap();
    }
    let gateways = |ns: &str| api("gateway.networking.k8s.io", "v1", "Gateway", Some(ns));
    // The seed's waypoint goes unless the row has one of its name.
    gateways(NAMESPACE)
        .delete("waypoint", &Default::default())
        .await
        .unwrap();
    for g in row["gateways"].as_array().unwrap() {
        let ns = here(text(g, "namespace").unwrap_or("app"));
        if ns != NAMESPACE {
            let namespace: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}))
            .unwrap();
            let _ = api("", "v1", "Namespace", None)
                .create(&PostParams::default(), &namespace)
                .await;
        }
        let mut obj = gateway(g);
        obj["metadata"]["namespace"] = json!(ns);
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": obj["metadata"], "spec": obj["spec"]}))
        .unwrap();
        let gw_name = text(g, "name").unwrap();
        gateways(&ns)
            .create(&PostParams::default(), &obj)
            .await
            .unwrap();
        // The sandbox's controller gives a waypoint its address once its pod runs; a
        // row without one has it cleared, as `kubectl patch --subresource=status` does.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        let is_waypoint = text(g, "class").is_none_or(|c| c != "istio");
        while is_waypoint
            && !gateways(&ns).get(gw_name).await.unwrap().data["status"]["addresses"].is_array()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{gw_name} got no address"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if g.get("address").and_then(Value::as_bool) == Some(false) {
            gateways(&ns)
                .patch_status(
                    gw_name,
                    &merge,
                    &Patch::Merge(json!({"status": {"addresses": null}})),
                )
                .await
                .unwrap();
        }
    }
}
