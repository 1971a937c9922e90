//! The small schema vocabulary the checks share: a field and its type, bounds and
//! enums, and the patterns Kubernetes names and Gateway API fields follow.

use serde_json::Value;

use crate::sandbox::storage::status::FieldError;

pub(super) fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(super) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|part| is_dns_label(part, 63))
}

/// Checks one field against a small schema vocabulary.
pub(super) struct Field<'a> {
    pub(super) path: String,
    pub(super) value: Option<&'a Value>,
}

impl<'a> Field<'a> {
    pub(super) fn at(parent: &'a Value, parent_path: &str, name: &str) -> Self {
        let path = if parent_path.is_empty() {
            name.to_string()
        } else {
            format!("{parent_path}.{name}")
        };
        Field {
            path,
            value: parent.get(name),
        }
    }

    pub(super) fn required(&self, errs: &mut Vec<FieldError>) -> bool {
        if self.value.is_none_or(Value::is_null) {
            errs.push(FieldError::required(&self.path));
            return false;
        }
        true
    }

    pub(super) fn string(
        &self,
        min: usize,
        max: usize,
        pattern: Option<fn(&str) -> bool>,
        errs: &mut Vec<FieldError>,
    ) {
        let Some(v) = self.value else { return };
        let Some(s) = v.as_str() else {
            errs.push(FieldError::wrong_type(&self.path, v, "string"));
            return;
        };
        if s.len() < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should be at least {min} chars long", self.path),
            ));
        } else if s.len() > max {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body may not be more than {max} bytes", self.path),
            ));
        } else if let Some(ok) = pattern
            && !ok(s)
        {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should match the schema's pattern", self.path),
            ));
        }
    }

    pub(super) fn integer(&self, min: i64, max: i64, errs: &mut Vec<FieldError>) {
        let Some(v) = self.value else { return };
        let Some(n) = v.as_i64() else {
            errs.push(FieldError::wrong_type(&self.path, v, "integer"));
            return;
        };
        if n < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!(
                    "{} in body should be greater than or equal to {min}",
                    self.path
                ),
            ));
        } else if n > max {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!(
                    "{} in body should be less than or equal to {max}",
                    self.path
                ),
            ));
        }
    }

    pub(super) fn one_of(&self, allowed: &[&str], errs: &mut Vec<FieldError>) {
        let Some(v) = self.value else { return };
        match v.as_str() {
            Some(s) if allowed.contains(&s) => {}
            Some(_) => errs.push(FieldError::unsupported(&self.path, v, allowed)),
            None => errs.push(FieldError::wrong_type(&self.path, v, "string")),
        }
    }

    pub(super) fn object(&self, errs: &mut Vec<FieldError>) -> Option<&'a Value> {
        let v = self.value?;
        if v.is_object() {
            Some(v)
        } else {
            errs.push(FieldError::wrong_type(&self.path, v, "object"));
            None
        }
    }

    pub(super) fn array(&self, min: usize, max: usize, errs: &mut Vec<FieldError>) -> &'a [Value] {
        let Some(v) = self.value else { return &[] };
        let Some(items) = v.as_array() else {
            errs.push(FieldError::wrong_type(&self.path, v, "array"));
            return &[];
        };
        if items.len() < min {
            errs.push(FieldError::invalid(
                &self.path,
                v,
                format!("{} in body should have at least {min} items", self.path),
            ));
        } else if items.len() > max {
            errs.push(FieldError::too_many(&self.path, items.len(), max));
        }
        items
    }
}

pub(super) fn group_pattern(s: &str) -> bool {
    s.is_empty() || is_dns_subdomain(s)
}

pub(super) fn kind_pattern(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.ends_with('-')
}

pub(super) fn label_pattern(s: &str) -> bool {
    is_dns_label(s, 63)
}

pub(super) fn is_hostname(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    is_dns_subdomain(s) && !s.is_empty()
}

pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}
