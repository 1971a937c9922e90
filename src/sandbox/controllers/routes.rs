//! Routes get a status, as Istio's gateway controller writes it.

use serde_json::{Value, json};

use crate::sandbox::storage::Resource;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::ROUTES;
use crate::sandbox::storage::meta::now_rfc3339;

/// Istio marks every route `Accepted`, a TCPRoute too when the waypoint then ignores it
/// (the bug).
pub(super) fn route_status(store: &mut Store) {
    for res in ROUTES {
        status_of(store, res);
    }
}

fn status_of(store: &mut Store, routes_res: &'static Resource) {
    let routes: Vec<Value> = store.all(routes_res).cloned().collect();
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
