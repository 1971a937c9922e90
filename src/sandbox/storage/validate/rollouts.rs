//! Argo Rollouts' Rollout and Flagger's Canary, as far as the sandbox reads them.

use serde_json::Value;

use crate::sandbox::storage::status::FieldError;

/// What the Rollout CRD's schema says of the fields the sandbox's controller reads:
/// `setWeight` an int32, a pause's `duration` an integer or a string, the Services
/// strings.
pub(super) fn check_rollout(obj: &Value, errs: &mut Vec<FieldError>) {
    let canary = obj.pointer("/spec/strategy/canary");
    for key in ["canaryService", "stableService"] {
        if let Some(v) = canary.and_then(|c| c.get(key))
            && !v.is_string()
        {
            errs.push(FieldError::wrong_type(
                format!("spec.strategy.canary.{key}"),
                v,
                "string",
            ));
        }
    }
    let steps = canary.and_then(|c| c.get("steps"));
    for (i, step) in steps
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("spec.strategy.canary.steps[{i}]");
        if let Some(w) = step.get("setWeight")
            && w.as_i64().is_none_or(|w| i32::try_from(w).is_err())
        {
            errs.push(FieldError::wrong_type(
                format!("{path}.setWeight"),
                w,
                "integer",
            ));
        }
        if let Some(d) = step.pointer("/pause/duration")
            && !(d.is_string() || d.is_i64())
        {
            errs.push(FieldError::wrong_type(
                format!("{path}.pause.duration"),
                d,
                "integer or string",
            ));
        }
    }
}

/// What the Canary CRD requires: `targetRef`, `service.port` and `analysis`.
pub(super) fn check_canary(obj: &Value, errs: &mut Vec<FieldError>) {
    for (pointer, field) in [
        ("/spec/targetRef", "spec.targetRef"),
        ("/spec/service/port", "spec.service.port"),
        ("/spec/analysis", "spec.analysis"),
    ] {
        if obj.pointer(pointer).is_none() {
            errs.push(FieldError::required(field));
        }
    }
}
