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
        let got = serving(
            &istiods,
            Tags::Read(&tags),
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
