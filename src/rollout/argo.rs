//! An Argo Rollouts `Rollout` (`argoproj.io/v1alpha1`) with the Gateway API traffic
//! router plugin, read as the controller and the plugin keep it: the plugin
//! (`argoproj-labs/gatewayAPI`) sets, in every rule of each route it names, the weight
//! of the backend named `canaryService` and gives the rest to `stableService`.

use serde_json::Value;

use super::duration::pause_duration;
use super::model::{Controller, End, Rollout, RouteName, Step};
use crate::json::str_at;

/// The plugin's key under `trafficRouting.plugins`.
pub const PLUGIN: &str = "argoproj-labs/gatewayAPI";

/// The plugin's keys for one route or a list, by route kind.
const KEYS: [(&str, &str, &str); 4] = [
    ("httpRoute", "httpRoutes", "HTTPRoute"),
    ("grpcRoute", "grpcRoutes", "GRPCRoute"),
    ("tcpRoute", "tcpRoutes", "TCPRoute"),
    ("tlsRoute", "tlsRoutes", "TLSRoute"),
];

/// The routes a Rollout's plugin config names, in the config's `namespace` (by default
/// the Rollout's).
pub fn routes(obj: &Value) -> Vec<RouteName> {
    let Some(config) = obj
        .pointer("/spec/strategy/canary/trafficRouting/plugins")
        .and_then(|p| p.get(PLUGIN))
    else {
        return vec![];
    };
    let namespace = str_at(config, "/namespace")
        .or_else(|| str_at(obj, "/metadata/namespace"))
        .unwrap_or_default()
        .to_string();
    let mut out = Vec::new();
    for (one, many, kind) in KEYS {
        let single = config.get(one).and_then(Value::as_str);
        let listed = config
            .get(many)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Value::as_str));
        for name in single.into_iter().chain(listed) {
            out.push(RouteName {
                kind,
                name: name.to_string(),
                namespace: namespace.clone(),
            });
        }
    }
    out
}

/// The steps as written.
pub fn steps(obj: &Value) -> Vec<Step> {
    obj.pointer("/spec/strategy/canary/steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|step| {
            if let Some(w) = step.get("setWeight").and_then(Value::as_u64) {
                Step::SetWeight(u32::try_from(w).unwrap_or(u32::MAX))
            } else if let Some(pause) = step.get("pause") {
                Step::Pause(pause.get("duration").and_then(pause_duration))
            } else {
                let key = step.as_object().and_then(|o| o.keys().next().cloned());
                Step::Other(key.unwrap_or_else(|| "step".into()))
            }
        })
        .collect()
}

/// The Rollout, where it stands. None when it is not a canary with the plugin.
pub fn read(obj: &Value) -> Option<Rollout> {
    let canary = obj.pointer("/spec/strategy/canary")?;
    let steps = steps(obj);
    let status = obj.get("status").unwrap_or(&Value::Null);
    let step_index = status
        .get("currentStepIndex")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok());
    let phase = str_at(status, "/phase")
        .unwrap_or("Progressing")
        .to_string();
    let paused = status
        .get("pauseConditions")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty())
        || status.get("controllerPause").and_then(Value::as_bool) == Some(true)
        || obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let weight = status
        .pointer("/canary/weights/canary/weight")
        .and_then(Value::as_u64)
        .and_then(|w| u32::try_from(w).ok());
    let aborted = status.get("abort").and_then(Value::as_bool) == Some(true);
    // A Rollout is Healthy at its last step both when a rollout completed and before
    // the first one (its first revision goes out whole): either way, nothing moves.
    // Degraded alone is no end: a progress deadline passed, or pods are unavailable,
    // and the rollout may go on; only `status.abort` sends the weight back.
    let end = if aborted {
        Some(End::Aborted)
    } else if phase == "Healthy" && step_index.is_none_or(|i| i >= steps.len()) {
        Some(End::Completed)
    } else {
        None
    };
    Some(Rollout {
        controller: Controller::Argo,
        name: str_at(obj, "/metadata/name")?.to_string(),
        namespace: str_at(obj, "/metadata/namespace")
            .unwrap_or_default()
            .to_string(),
        steps,
        step_index,
        phase,
        paused,
        weight,
        canary_service: str_at(canary, "/canaryService")
            .unwrap_or_default()
            .to_string(),
        stable_service: str_at(canary, "/stableService")
            .unwrap_or_default()
            .to_string(),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn web() -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"strategy": {"canary": {
                "canaryService": "web-canary", "stableService": "web-stable",
                "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {
                    "httpRoute": "web", "tcpRoutes": [{"name": "web-tcp"}], "namespace": "edge"}}},
                "steps": [{"setWeight": 10}, {"pause": {"duration": "1m"}}, {"setWeight": 50},
                          {"pause": {}}, {"analysis": {"templates": []}}],
            }}},
            "status": {"currentStepIndex": 3, "phase": "Paused",
                       "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
                       "canary": {"weights": {"canary": {"weight": 50, "serviceName": "web-canary"},
                                              "stable": {"weight": 50, "serviceName": "web-stable"}}}},
        })
    }

    #[test]
    fn the_plugin_names_its_routes_in_its_namespace() {
        let names = routes(&web());
        assert_eq!(
            names,
            vec![
                RouteName {
                    kind: "HTTPRoute",
                    name: "web".into(),
                    namespace: "edge".into()
                },
                RouteName {
                    kind: "TCPRoute",
                    name: "web-tcp".into(),
                    namespace: "edge".into()
                },
            ]
        );
        let mut plain = web();
        plain["spec"]["strategy"]["canary"]["trafficRouting"]["plugins"][PLUGIN]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
        assert_eq!(
            routes(&plain)[0].namespace,
            "shop",
            "the Rollout's own by default"
        );
    }

    #[test]
    fn steps_and_status_read_as_argo_keeps_them() {
        let r = read(&web()).unwrap();
        assert_eq!(
            r.steps,
            vec![
                Step::SetWeight(10),
                Step::Pause(Some(Duration::from_secs(60))),
                Step::SetWeight(50),
                Step::Pause(None),
                Step::Other("analysis".into()),
            ]
        );
        assert_eq!(
            (r.step_index, r.paused, r.weight, r.end),
            (Some(3), true, Some(50), None)
        );
        assert_eq!(
            r.headline(),
            "Rollout web · step 4 of 5 · canary weight 50 · paused until promoted"
        );
        let mut aborted = web();
        aborted["status"]["abort"] = json!(true);
        assert_eq!(read(&aborted).unwrap().end, Some(End::Aborted));
        let mut late = web();
        late["status"]["phase"] = json!("Degraded");
        assert_eq!(
            read(&late).unwrap().end,
            None,
            "a progress deadline passed is no abort"
        );
        let mut done = web();
        done["status"] = json!({"currentStepIndex": 5, "phase": "Healthy"});
        assert_eq!(read(&done).unwrap().end, Some(End::Completed));
    }
}
