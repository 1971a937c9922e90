//! Reading fields of Kubernetes objects held as JSON.

use serde_json::Value;

/// The string at a JSON pointer, if there is one.
pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}
