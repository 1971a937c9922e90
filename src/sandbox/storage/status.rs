//! Kubernetes `Status` errors: what every failed API call answers with.

use serde_json::{Value, json};

/// A failed API call, rendered as a `meta/v1 Status` with its HTTP code.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(crate) fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified(group, plural);
        Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    pub(crate) fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    pub(crate) fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified(group, plural);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    pub fn conflict(group: &str, plural: &str, name: &str, why: &str) -> Self {
        let qualified = qualified(group, plural);
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {why}"),
        )
        .with_details(json!({"name": name, "group": group, "kind": plural}))
    }

    /// 409 for server-side apply: other managers own fields this apply would change.
    pub(crate) fn apply_conflict(causes: Vec<(String, String)>) -> Self {
        let n = causes.len();
        let list: Vec<String> = causes.iter().map(|(m, f)| format!("- {m}: {f}")).collect();
        let causes_json: Vec<Value> = causes
            .iter()
            .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\""), "field": f}))
            .collect();
        Self::new(
            409,
            "Conflict",
            format!(
                "Apply failed with {n} conflict{}: {}",
                if n == 1 { "" } else { "s" },
                list.join("\n")
            ),
        )
        .with_details(json!({"causes": causes_json}))
    }

    /// 422 with one cause per rejected field, the shape kubectl prints.
    pub(crate) fn invalid(group: &str, kind: &str, name: &str, causes: Vec<FieldError>) -> Self {
        let text: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let kind_group = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let causes_json: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let message = if text.len() == 1 {
            format!("{kind_group} \"{name}\" is invalid: {}", text[0])
        } else {
            format!("{kind_group} \"{name}\" is invalid: [{}]", text.join(", "))
        };
        Self::new(422, "Invalid", message).with_details(
            json!({"name": name, "group": group, "kind": kind, "causes": causes_json}),
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 as RBAC words it.
    pub fn forbidden(
        verb: &str,
        group: &str,
        resource: &str,
        name: Option<&str>,
        namespace: &str,
    ) -> Self {
        let plural = resource.split('/').next().unwrap_or(resource);
        let what = match name {
            Some(n) => format!("{} \"{n}\"", qualified(group, plural)),
            None => qualified(group, plural),
        };
        let scope = if namespace.is_empty() {
            String::new()
        } else {
            format!(" in the namespace \"{namespace}\"")
        };
        Self::new(
            403,
            "Forbidden",
            format!("{what} is forbidden: User \"splitscope-sandbox\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}"),
        )
        .with_details(json!({"group": group, "kind": plural, "name": name.unwrap_or_default()}))
    }

    pub(crate) fn method_not_allowed(verb: &str, what: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on {what}"),
        )
    }

    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    /// A watch from a `resourceVersion` older than the changes still kept.
    pub fn gone(rv: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {rv} ({oldest})"),
        )
    }

    /// The API's flow control: come back after `seconds`.
    pub(crate) fn too_many_requests(seconds: u64) -> Self {
        Self::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later (a fault drill: --api-fault)",
        )
        .with_details(json!({"retryAfterSeconds": seconds}))
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    pub(crate) fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// One rejected field of an object, as a `StatusCause`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub reason: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueRequired",
            message: "Required value".into(),
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, value: &Value, why: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {}: {}", value, why.into()),
        }
    }

    pub(crate) fn unsupported(field: impl Into<String>, value: &Value, allowed: &[&str]) -> Self {
        let allowed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
        FieldError {
            field: field.into(),
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: {}: supported values: {}",
                value,
                allowed.join(", ")
            ),
        }
    }

    pub(crate) fn too_many(field: impl Into<String>, have: usize, max: usize) -> Self {
        FieldError {
            field: field.into(),
            reason: "FieldValueTooMany",
            message: format!("Too many: {have}: must have at most {max} items"),
        }
    }

    pub(crate) fn wrong_type(field: impl Into<String>, value: &Value, expected: &str) -> Self {
        let got = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        FieldError {
            field: field.into(),
            reason: "FieldValueTypeInvalid",
            message: format!(
                "Invalid value: \"{got}\": {} must be of type {expected}",
                "body"
            ),
        }
    }
}
