//! A request for a resource, parsed once into what it addresses, the verb RBAC sees,
//! its query and its selectors; and the body readers every write shares.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request};
use serde_json::Value;

use crate::sandbox::storage::ApiError;
use crate::sandbox::storage::catalogue::{self, Resource};
use crate::sandbox::storage::selector::{FieldSelector, LabelSelector};

/// The largest request body accepted: manifests are small.
const MAX_BODY: usize = 4 << 20;

/// The verb of a request as RBAC names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

/// A request under `/api/v1/…` or `/apis/{group}/{version}/…`.
pub(crate) struct ResourceRequest {
    pub res: &'static Resource,
    pub version: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    pub method: Method,
    /// None for a method no verb stands for (HEAD, OPTIONS, …).
    pub verb: Option<Verb>,
    pub query: HashMap<String, String>,
    /// `command` may repeat (exec), so it is kept apart from the other parameters.
    pub commands: Vec<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// kubectl asks for a Table to print.
    pub wants_table: bool,
    /// What a Table's rows carry: `Metadata` unless the client asks otherwise.
    pub include: String,
    /// The client's user agent, which names an unnamed field manager.
    pub agent: String,
}

impl ResourceRequest {
    /// Parses the request addressed by `rest` (the path after the group and version).
    pub fn parse(
        req: &Request<Incoming>,
        group: &str,
        version: &str,
        rest: &[&str],
        path: &str,
    ) -> Result<ResourceRequest, ApiError> {
        let (res, namespace, name, sub) = address(group, version, rest, path)?;
        let (query, commands) = query_map(req);
        let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))?;
        let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
        let header = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|h| h.to_str().ok())
                .map(String::from)
        };
        let method = req.method().clone();
        let verb = verb(&method, name.is_some(), sub.as_deref(), &query);
        Ok(ResourceRequest {
            res,
            version: version.to_string(),
            namespace,
            name,
            sub,
            method,
            verb,
            include: query
                .get("includeObject")
                .cloned()
                .unwrap_or_else(|| "Metadata".into()),
            query,
            commands,
            labels,
            fields,
            wants_table: header(header::ACCEPT).is_some_and(|a| a.contains("as=Table")),
            agent: header(header::USER_AGENT).unwrap_or_else(|| "unknown".into()),
        })
    }

    /// The namespace, empty for a cluster-scoped request.
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }

    /// The resource as RBAC names it: `pods`, or `pods/exec` for a subresource.
    pub(crate) fn rbac_resource(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}/{sub}", self.res.plural),
            None => self.res.plural.to_string(),
        }
    }

    pub fn api_version(&self) -> String {
        self.res.api_version(&self.version)
    }

    /// A query flag such as `stdout=true`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.query
            .get(name)
            .is_some_and(|v| v == "true" || v == "1")
    }

    /// The field manager a write is recorded under.
    pub(crate) fn field_manager(&self) -> String {
        self.query.get("fieldManager").cloned().unwrap_or_else(|| {
            // The API server names an unnamed manager after the client's user agent.
            self.agent
                .split('/')
                .next()
                .unwrap_or("unknown")
                .to_string()
        })
    }
}

type Address = (
    &'static Resource,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The resource, namespace, name and subresource a path names.
fn address(group: &str, version: &str, rest: &[&str], path: &str) -> Result<Address, ApiError> {
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return Err(ApiError::no_route(path)),
    };
    let res = catalogue::find(group, version, plural).ok_or_else(|| ApiError::no_route(path))?;
    if res.namespaced != namespace.is_some() && (name.is_some() || !res.namespaced) {
        // A namespaced object must be named within its namespace; a cluster-scoped one
        // cannot be.
        return Err(ApiError::no_route(path));
    }
    Ok((res, namespace, name, sub))
}

fn verb(
    method: &Method,
    named: bool,
    sub: Option<&str>,
    query: &HashMap<String, String>,
) -> Option<Verb> {
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    Some(match (method, named, sub) {
        (_, _, Some("exec")) => Verb::Create,
        (&Method::GET, false, _) if watch => Verb::Watch,
        (&Method::GET, false, _) => Verb::List,
        (&Method::GET, true, _) => Verb::Get,
        (&Method::POST, _, _) => Verb::Create,
        (&Method::PUT, _, _) => Verb::Update,
        (&Method::PATCH, _, _) => Verb::Patch,
        (&Method::DELETE, true, _) => Verb::Delete,
        (&Method::DELETE, false, _) => Verb::DeleteCollection,
        _ => return None,
    })
}

fn query_map(req: &Request<Incoming>) -> (HashMap<String, String>, Vec<String>) {
    let mut map = HashMap::new();
    let mut commands = Vec::new();
    if let Some(q) = req.uri().query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if k == "command" {
                commands.push(v.to_string());
            } else {
                map.insert(k.to_string(), v.to_string());
            }
        }
    }
    (map, commands)
}

/// Reads a request body, up to `MAX_BODY`; returns it with its content type.
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<(Bytes, String), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?
        .to_bytes();
    Ok((bytes, content_type))
}

/// Parses a JSON or YAML body into an object.
pub(crate) fn parse_object(bytes: &[u8], content_type: &str) -> Result<Value, ApiError> {
    let parsed = if content_type.contains("yaml") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
        serde_saphyr::from_str::<Value>(text)
            .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
    } else {
        serde_json::from_slice::<Value>(bytes).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })
    }?;
    if !parsed.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a single object",
        ));
    }
    Ok(parsed)
}

/// A body's `kind`, when it names one, must be the resource's.
pub(crate) fn check_kind(res: &Resource, obj: &Value) -> Result<(), ApiError> {
    match obj.get("kind").and_then(Value::as_str) {
        Some(kind) if kind != res.kind => Err(ApiError::bad_request(format!(
            "the kind of the object ({kind}) does not match the resource ({})",
            res.kind
        ))),
        _ => Ok(()),
    }
}
