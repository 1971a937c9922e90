//! Which rule of a route the probe's requests meet, and how the probe asks to meet it:
//! Gateway API's order of HTTP matches (an Exact path, then the longest PathPrefix, then
//! a regular expression), passing over matches a plain GET cannot meet.

use serde_json::Value;

use super::error::RouteError;
use super::kind::RouteKind;
use crate::json::str_at;

/// Which rule to read: `--rule N` (1-based), else the one `--path` meets, else the
/// first with a backend of weight above 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulePick {
    pub rule: Option<usize>,
    pub path: Option<String>,
}

/// Whether the probe's requests can meet a match at all: it sends GET, no query
/// parameters, and the exact headers of the match it aims at.
fn reachable(m: &Value) -> bool {
    let method_ok = str_at(m, "/method").is_none_or(|method| method == "GET");
    let no_query = m
        .get("queryParams")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let exact_headers = m
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|h| str_at(h, "/type").unwrap_or("Exact") == "Exact");
    method_ok && no_query && exact_headers
}

/// How well an HTTP path match accepts `path`: Exact over the longest PathPrefix over a
/// regular expression, as Gateway API orders them. None: it does not accept it, or the
/// probe cannot meet it.
fn path_score(m: &Value, path: &str) -> Option<(u8, usize)> {
    if !reachable(m) {
        return None;
    }
    let kind = str_at(m, "/path/type").unwrap_or("PathPrefix");
    let value = str_at(m, "/path/value").unwrap_or("/");
    match kind {
        "Exact" => (path == value).then_some((3, value.len())),
        "PathPrefix" => {
            // Element by element: /foo accepts /foo and /foo/bar, never /foobar.
            let prefix = value.trim_end_matches('/');
            let accepts = prefix.is_empty()
                || path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'));
            accepts.then_some((2, prefix.len()))
        }
        "RegularExpression" => regex::Regex::new(&format!("^(?:{value})$"))
            .ok()
            .filter(|re| re.is_match(path))
            .map(|_| (1, value.len())),
        _ => None,
    }
}

/// A rule's matches; none means one that accepts every request.
fn matches_of(rule: &Value) -> Vec<Value> {
    match rule.get("matches").and_then(Value::as_array) {
        Some(ms) if !ms.is_empty() => ms.clone(),
        _ => vec![serde_json::json!({})],
    }
}

/// A path the match accepts, to send requests to.
pub(super) fn path_for(kind: RouteKind, m: &Value) -> Option<String> {
    match kind {
        RouteKind::Http => match str_at(m, "/path/type").unwrap_or("PathPrefix") {
            "Exact" | "PathPrefix" => Some(str_at(m, "/path/value").unwrap_or("/").to_string()),
            _ => None,
        },
        RouteKind::Grpc => {
            let service = str_at(m, "/method/service")?;
            let method = str_at(m, "/method/method")?;
            Some(format!("/{service}/{method}"))
        }
        RouteKind::Tcp | RouteKind::Tls => None,
    }
}

/// The headers a match asks for exactly.
pub(super) fn headers_of(m: &Value) -> Vec<(String, String)> {
    m.get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|h| str_at(h, "/type").unwrap_or("Exact") == "Exact")
        .filter_map(|h| {
            Some((
                str_at(h, "/name")?.to_string(),
                str_at(h, "/value")?.to_string(),
            ))
        })
        .collect()
}

/// The rule to read (its index) and the match the probe's requests meet: `--rule`,
/// else the best match for `--path` (HTTP), else the first rule with weight.
pub(super) fn choose_rule(
    kind: RouteKind,
    name: &str,
    rules: &[&Value],
    pick: &RulePick,
) -> Result<(usize, Option<Value>), RouteError> {
    // The first match the probe can meet; the first at all where it can meet none.
    let first_match = |rule: usize| {
        let matches = matches_of(rules[rule]);
        matches
            .iter()
            .find(|m| reachable(m))
            .or_else(|| matches.first())
            .cloned()
    };
    match (pick.rule, &pick.path) {
        (Some(wanted), _) => {
            let rule = wanted
                .checked_sub(1)
                .filter(|i| *i < rules.len())
                .ok_or_else(|| RouteError::NoSuchRule {
                    kind,
                    name: name.to_string(),
                    wanted,
                    rules: rules.len(),
                })?;
            Ok((rule, first_match(rule)))
        }
        (None, Some(path)) if kind == RouteKind::Http => {
            // The best match of all rules; the earlier rule on a tie.
            let mut best: Option<((u8, usize), usize, Value)> = None;
            for (i, rule) in rules.iter().enumerate() {
                for m in matches_of(rule) {
                    if let Some(score) = path_score(&m, path)
                        && best.as_ref().is_none_or(|(s, _, _)| score > *s)
                    {
                        best = Some((score, i, m));
                    }
                }
            }
            let (_, rule, m) = best.ok_or_else(|| RouteError::NoRuleForPath {
                kind,
                name: name.to_string(),
                path: path.clone(),
            })?;
            Ok((rule, Some(m)))
        }
        _ => {
            let refs = |r: &Value| {
                r.get("backendRefs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let weighted = |r: &&Value| {
                refs(r)
                    .iter()
                    .any(|b| b.get("weight").and_then(Value::as_u64) != Some(0))
            };
            let rule = rules
                .iter()
                .position(weighted)
                .or_else(|| rules.iter().position(|r| !refs(r).is_empty()))
                .ok_or_else(|| RouteError::NoBackends {
                    kind,
                    name: name.to_string(),
                })?;
            Ok((rule, first_match(rule)))
        }
    }
}
