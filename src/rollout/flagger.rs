//! A Flagger `Canary` (`flagger.app/v1beta1`) with the Gateway API provider: Flagger
//! writes an HTTPRoute named after the Canary's Service (`spec.service.name`, else the
//! target's name) whose backends are `<name>-primary` and `<name>-canary`, and moves the
//! canary's weight by `stepWeight` until it reaches `maxWeight`, or through `stepWeights`.
//! Once the analysis passes, the weight falls back while the primary is promoted
//! (phases Promoting, Finalising): no step of the rollout sets those weights.

use serde_json::Value;

use super::model::{Controller, End, Rollout, RouteName, Step};
use crate::json::str_at;

/// Flagger's `maxWeight` when the analysis names none.
const MAX_WEIGHT: u64 = 100;

/// The name Flagger gives the route and the Services: the Service's, else the target's.
fn apex(obj: &Value) -> Option<&str> {
    str_at(obj, "/spec/service/name").or_else(|| str_at(obj, "/spec/targetRef/name"))
}

/// Whether the Canary uses the Gateway API: its provider says so, or, with the
/// provider left to Flagger's own flag, its Service names Gateways.
fn gateway_api(obj: &Value) -> bool {
    match str_at(obj, "/spec/provider") {
        Some(p) => p.starts_with("gatewayapi"),
        None => obj.pointer("/spec/service/gatewayRefs").is_some(),
    }
}

/// The HTTPRoute a Canary owns, in its namespace.
pub fn routes(obj: &Value) -> Vec<RouteName> {
    let (Some(name), true) = (apex(obj), gateway_api(obj)) else {
        return vec![];
    };
    vec![RouteName {
        kind: "HTTPRoute",
        name: name.to_string(),
        namespace: str_at(obj, "/metadata/namespace")
            .unwrap_or_default()
            .to_string(),
    }]
}

/// The weights the analysis moves through: `stepWeights`, else `stepWeight` steps up
/// to `maxWeight`.
pub fn weights(obj: &Value) -> Vec<u32> {
    let analysis = obj.pointer("/spec/analysis").unwrap_or(&Value::Null);
    let to_u32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    if let Some(list) = analysis.get("stepWeights").and_then(Value::as_array) {
        return list.iter().filter_map(Value::as_u64).map(to_u32).collect();
    }
    let step = analysis
        .get("stepWeight")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let max = analysis
        .get("maxWeight")
        .and_then(Value::as_u64)
        .unwrap_or(MAX_WEIGHT);
    if step == 0 {
        return vec![];
    }
    // Flagger adds `stepWeight` while the weight is below `maxWeight`, so the last step
    // may pass it (20 up to 50 goes 20, 40, 60), never past 100.
    let mut out = vec![];
    let mut w = 0;
    while w < max.min(MAX_WEIGHT) {
        w = (w + step).min(MAX_WEIGHT);
        out.push(to_u32(w));
    }
    out
}

/// The Canary, where it stands.
pub fn read(obj: &Value) -> Option<Rollout> {
    let name = apex(obj)?;
    let weights = weights(obj);
    let status = obj.get("status").unwrap_or(&Value::Null);
    let weight = status
        .get("canaryWeight")
        .and_then(Value::as_u64)
        .and_then(|w| u32::try_from(w).ok());
    let phase = str_at(status, "/phase")
        .unwrap_or("Initializing")
        .to_string();
    let step_index = match (weight, phase.as_str()) {
        // Promoting the primary, the weight falls back: every step is done.
        (_, "Succeeded" | "Promoting" | "Finalising") => Some(weights.len()),
        (Some(w), _) if w > 0 => weights.iter().position(|s| *s == w),
        _ => None,
    };
    let end = match phase.as_str() {
        "Succeeded" => Some(End::Completed),
        "Failed" => Some(End::Aborted),
        _ => None,
    };
    Some(Rollout {
        controller: Controller::Flagger,
        name: str_at(obj, "/metadata/name")?.to_string(),
        namespace: str_at(obj, "/metadata/namespace")
            .unwrap_or_default()
            .to_string(),
        steps: weights.into_iter().map(Step::SetWeight).collect(),
        step_index,
        // Waiting on a gate (a confirm-rollout or confirm-promotion webhook).
        paused: matches!(phase.as_str(), "Waiting" | "WaitingPromotion"),
        phase,
        weight,
        canary_service: format!("{name}-canary"),
        stable_service: format!("{name}-primary"),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn podinfo(analysis: Value, status: Value) -> Value {
        json!({
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
            "metadata": {"name": "podinfo", "namespace": "test"},
            "spec": {
                "provider": "gatewayapi:v1",
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
                "service": {"port": 9898, "gatewayRefs": [{"name": "gateway", "namespace": "flagger-system"}]},
                "analysis": analysis,
            },
            "status": status,
        })
    }

    #[test]
    fn a_canary_owns_the_route_named_for_its_service() {
        let c = podinfo(json!({"stepWeight": 10, "maxWeight": 50}), json!({}));
        assert_eq!(
            routes(&c),
            vec![RouteName {
                kind: "HTTPRoute",
                name: "podinfo".into(),
                namespace: "test".into()
            }]
        );
        let mut mesh = c.clone();
        mesh["spec"]["provider"] = json!("istio");
        assert!(
            routes(&mesh).is_empty(),
            "another provider's route is not ours"
        );
    }

    #[test]
    fn its_steps_are_its_weights() {
        let c = podinfo(
            json!({"stepWeight": 10, "maxWeight": 50}),
            json!({"phase": "Progressing", "canaryWeight": 20}),
        );
        let r = read(&c).unwrap();
        assert_eq!(weights(&c), vec![10, 20, 30, 40, 50]);
        let over = podinfo(json!({"stepWeight": 20, "maxWeight": 50}), json!({}));
        assert_eq!(weights(&over), vec![20, 40, 60], "Flagger's own example");
        let capped = podinfo(json!({"stepWeight": 30}), json!({}));
        assert_eq!(weights(&capped), vec![30, 60, 90, 100]);
        assert_eq!((r.step_index, r.weight, r.end), (Some(1), Some(20), None));
        assert_eq!(
            (r.canary_service.as_str(), r.stable_service.as_str()),
            ("podinfo-canary", "podinfo-primary")
        );
        assert_eq!(
            r.headline(),
            "Canary podinfo · step 2 of 5 · canary weight 20 · setWeight 20"
        );
        let listed = podinfo(
            json!({"stepWeights": [1, 5, 25]}),
            json!({"phase": "Succeeded", "canaryWeight": 0}),
        );
        let done = read(&listed).unwrap();
        assert_eq!((done.step_index, done.end), (Some(3), Some(End::Completed)));
        let failed = podinfo(
            json!({"stepWeight": 5}),
            json!({"phase": "Failed", "canaryWeight": 0}),
        );
        assert_eq!(read(&failed).unwrap().end, Some(End::Aborted));
        let promoting = podinfo(
            json!({"stepWeight": 10, "maxWeight": 50}),
            json!({"phase": "Promoting", "canaryWeight": 20}),
        );
        let r = read(&promoting).unwrap();
        assert_eq!(
            (r.step_index, r.end),
            (Some(5), None),
            "a falling weight while promoting is no step"
        );
        assert_eq!(weights(&failed).len(), 20, "up to 100 by default");
    }
}
