//! Argo Rollouts' canary controller with the Gateway API plugin, reduced to the steps
//! `setWeight` and `pause` (other steps are passed over). As the controller does
//! (`rollout/canary.go`, `rollout/pause.go`): a `setWeight` has the plugin set the
//! weights and the step is done (the plugin's `VerifyWeight` says verified without
//! looking); a `pause` adds a `CanaryPauseStep` pause condition and sets
//! `controllerPause`, and is done when its duration has passed or, for `pause: {}`, when
//! the pause conditions are removed (`kubectl argo rollouts promote`, or a status
//! patch); `status.abort` sends every route back to the stable Service. The plugin
//! (`pkg/plugin/httproute.go`, `tcproute.go`) sets, in every rule of each named route,
//! the backend named `canaryService` to the weight and `stableService` to the rest.
//!
//! Unlike Argo, the sandbox does not move the stable Service's selector to the new pods
//! at the end: the routes keep the last step's weights, and the status says Healthy.

use std::time::Duration;

use serde_json::{Value, json};

use crate::sandbox::storage::Resource;
use crate::sandbox::storage::Store;
use crate::sandbox::storage::catalogue::{GRPCROUTES, HTTPROUTES, ROLLOUTS, TCPROUTES, TLSROUTES};
use crate::sandbox::storage::meta::{namespace_of, now_rfc3339, str_at};

const PLUGIN: &str = "argoproj-labs/gatewayAPI";
const PAUSE_REASON: &str = "CanaryPauseStep";

/// Brings every Rollout as far through its steps as the time allows.
pub(super) fn rollouts(store: &mut Store) {
    let now = jiff::Timestamp::now();
    let all: Vec<Value> = store.all(&ROLLOUTS).cloned().collect();
    for rollout in all {
        let mut next = rollout.clone();
        let weights = advance(&mut next, now);
        if let Some(weight) = weights {
            set_weights(store, &next, weight);
        }
        if next != rollout {
            store.put_internal(&ROLLOUTS, next);
        }
    }
}

/// What a step of the canary is, as the controller reads it.
enum Step {
    SetWeight(u64),
    Pause(Option<Duration>),
    Other,
}

fn step_at(rollout: &Value, index: usize) -> Option<Step> {
    let step = rollout
        .pointer("/spec/strategy/canary/steps")?
        .as_array()?
        .get(index)?;
    Some(
        if let Some(w) = step.get("setWeight").and_then(Value::as_u64) {
            Step::SetWeight(w.min(100))
        } else if let Some(pause) = step.get("pause") {
            Step::Pause(pause.get("duration").and_then(|d| match d {
                Value::Number(n) => n.as_u64().map(Duration::from_secs),
                Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                    s.parse().ok().map(Duration::from_secs)
                }
                Value::String(s) => crate::rollout::parse_go_duration(s),
                _ => None,
            }))
        } else {
            Step::Other
        },
    )
}

fn steps_len(rollout: &Value) -> usize {
    rollout
        .pointer("/spec/strategy/canary/steps")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// Moves the Rollout's status on as far as it can go now; returns the canary weight to
/// write to its routes, when that changed.
fn advance(rollout: &mut Value, now: jiff::Timestamp) -> Option<u64> {
    rollout.pointer("/spec/strategy/canary")?;
    let generation = rollout
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let status = rollout
        .as_object_mut()?
        .entry("status")
        .or_insert_with(|| json!({}));
    if status.get("phase").is_none() {
        // A new revision to roll out: from the first step, all traffic on the stable.
        *status = json!({
            "phase": "Progressing",
            "currentStepIndex": 0,
            "currentPodHash": "6b9c8d7f5",
            "stableRS": "5d4f8c9b7",
            "currentStepHash": "7c9f6b5d4",
            "observedGeneration": generation.to_string(),
            "canary": {"weights": {"canary": {"weight": 0}, "stable": {"weight": 100}}},
        });
    }
    let len = steps_len(rollout);
    let mut weight = None;
    if rollout.pointer("/status/abort").and_then(Value::as_bool) == Some(true) {
        if rollout.pointer("/status/phase").and_then(Value::as_str) != Some("Degraded") {
            let status = &mut rollout["status"];
            status["phase"] = json!("Degraded");
            status["message"] = json!("RolloutAborted: Rollout aborted update to revision 2");
            status["pauseConditions"] = Value::Null;
            status["controllerPause"] = json!(false);
            weight = Some(0);
        }
        return finish_weights(rollout, weight);
    }
    loop {
        let index = rollout
            .pointer("/status/currentStepIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let status = &mut rollout["status"];
        if index >= len {
            if status["phase"] != json!("Healthy") {
                status["phase"] = json!("Healthy");
                status["message"] = json!("");
                status["stableRS"] = status["currentPodHash"].clone();
            }
            break;
        }
        let Some(step) = step_at(rollout, index) else {
            break;
        };
        let status = &mut rollout["status"];
        match step {
            Step::SetWeight(w) => {
                weight = Some(w);
                status["canary"]["weights"]["canary"]["weight"] = json!(w);
                status["canary"]["weights"]["stable"]["weight"] = json!(100 - w);
            }
            Step::Pause(duration) => {
                if !pause_over(status, duration, now) {
                    break;
                }
            }
            Step::Other => {}
        }
        status["currentStepIndex"] = json!(index + 1);
    }
    finish_weights(rollout, weight)
}

/// A pause step: begun now (a pause condition, the controller's pause), or over (its
/// duration passed, or promoted: the conditions removed while the controller paused).
/// Over, the status goes back to progressing.
fn pause_over(status: &mut Value, duration: Option<Duration>, now: jiff::Timestamp) -> bool {
    let conditions = status
        .get("pauseConditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .cloned();
    let controller_pause = status["controllerPause"] == json!(true);
    match (conditions, controller_pause) {
        (None, true) => {}
        (None, false) => {
            status["pauseConditions"] =
                json!([{"reason": PAUSE_REASON, "startTime": now_rfc3339()}]);
            status["controllerPause"] = json!(true);
            status["phase"] = json!("Paused");
            status["message"] = json!(PAUSE_REASON);
            return false;
        }
        (Some(conditions), _) => {
            let started = conditions[0]
                .get("startTime")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            let over = match (duration, started) {
                (Some(d), Some(start)) => {
                    now.as_millisecond() - start.as_millisecond()
                        >= i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
                }
                _ => false,
            };
            if !over {
                return false;
            }
        }
    }
    status["pauseConditions"] = Value::Null;
    status["controllerPause"] = json!(false);
    status["phase"] = json!("Progressing");
    status["message"] = json!("more replicas need to be updated");
    true
}

/// Keeps the weights' Service names in the status, as the controller writes them.
fn finish_weights(rollout: &mut Value, weight: Option<u64>) -> Option<u64> {
    let canary = str_at(rollout, "/spec/strategy/canary/canaryService").map(str::to_string);
    let stable = str_at(rollout, "/spec/strategy/canary/stableService").map(str::to_string);
    let weights = &mut rollout["status"]["canary"]["weights"];
    if let Some(w) = weight {
        weights["canary"]["weight"] = json!(w);
        weights["stable"]["weight"] = json!(100 - w);
    }
    weights["canary"]["serviceName"] = json!(canary);
    weights["stable"]["serviceName"] = json!(stable);
    weights["verified"] = json!(true);
    weight
}

/// The plugin's part: in every rule of each route the Rollout names, the canary's
/// backend gets `weight` and the stable's the rest; the route is updated as a client
/// would (its generation moves on).
fn set_weights(store: &mut Store, rollout: &Value, weight: u64) {
    let Some(config) = rollout
        .pointer("/spec/strategy/canary/trafficRouting/plugins")
        .and_then(|p| p.get(PLUGIN))
    else {
        return;
    };
    let canary = str_at(rollout, "/spec/strategy/canary/canaryService").unwrap_or_default();
    let stable = str_at(rollout, "/spec/strategy/canary/stableService").unwrap_or_default();
    let namespace = str_at(config, "/namespace").unwrap_or(namespace_of(rollout));
    let kinds: [(&str, &str, &Resource); 4] = [
        ("httpRoute", "httpRoutes", &HTTPROUTES),
        ("grpcRoute", "grpcRoutes", &GRPCROUTES),
        ("tcpRoute", "tcpRoutes", &TCPROUTES),
        ("tlsRoute", "tlsRoutes", &TLSROUTES),
    ];
    for (one, many, res) in kinds {
        let listed = config
            .get(many)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let names = config
            .get(one)
            .and_then(Value::as_str)
            .into_iter()
            .chain(listed.filter_map(|r| r.get("name").and_then(Value::as_str)));
        for name in names {
            let Ok(mut route) = store.get(res, res.versions[0], namespace, name) else {
                continue;
            };
            let before = route.clone();
            let rules = route
                .pointer_mut("/spec/rules")
                .and_then(Value::as_array_mut);
            for rule in rules.into_iter().flatten() {
                let refs = rule.get_mut("backendRefs").and_then(Value::as_array_mut);
                for backend in refs.into_iter().flatten() {
                    match backend.get("name").and_then(Value::as_str) {
                        Some(n) if n == canary => backend["weight"] = json!(weight),
                        Some(n) if n == stable => backend["weight"] = json!(100 - weight),
                        _ => {}
                    }
                }
            }
            if route == before {
                continue;
            }
            let generation = route
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            route["metadata"]["generation"] = json!(generation + 1);
            store.put_internal(res, route);
        }
    }
}
