//! The Kubernetes HTTP API on loopback: discovery, CRUD with selectors, merge patch,
//! server-side apply, Tables for kubectl, and `pods/exec`. Every failure is a `Status`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::apply;
use super::exec;
use super::mesh::Mesh;
use super::patching;
use super::resources::{self, Resource};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::Store;
use super::table;

pub type Body = Full<Bytes>;

pub struct ApiState {
    pub store: Arc<Mutex<Store>>,
    pub mesh: Arc<Mesh>,
    pub token: String,
    pub server_address: String,
    pub git_version: String,
    /// (verb, resource) pairs answered with 403, as RBAC would: `("patch", "envoyfilters")`.
    pub forbidden: Vec<(String, String)>,
    /// Turns true when the sandbox stops.
    pub stopped: tokio::sync::watch::Receiver<bool>,
}

/// The largest request body accepted: manifests are small.
const MAX_BODY: usize = 4 << 20;

pub(super) fn json_response(code: u16, body: &Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(err: &ApiError) -> Response<Body> {
    json_response(err.code, &err.to_status())
}

pub(super) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request, parsed: what it addresses and how.
struct Target {
    res: &'static Resource,
    version: String,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
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

pub async fn handle(
    state: Arc<ApiState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == state.token);
    if !authorized {
        return Ok(error_response(&ApiError::unauthorized()));
    }
    Ok(match route(state, req).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    })
}

async fn route(state: Arc<ApiState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = req.method() == Method::GET;
    match segments.as_slice() {
        ["version"] if get => Ok(json_response(
            200,
            &json!({
                "major": "1", "minor": "32", "gitVersion": state.git_version, "gitCommit": "splitscope-sandbox",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
                "platform": "linux/amd64",
            }),
        )),
        ["healthz" | "livez" | "readyz"] if get => {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"ok")));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(resp)
        }
        ["openapi", "v3"] if get => Ok(json_response(200, &resources::openapi_root())),
        ["openapi", "v3", "api", "v1"] if get => resources::openapi_group_version("", "v1")
            .map(|d| json_response(200, &d))
            .ok_or_else(|| ApiError::no_route(&path)),
        ["openapi", "v3", "apis", group, version] if get => {
            resources::openapi_group_version(group, version)
                .map(|d| json_response(200, &d))
                .ok_or_else(|| ApiError::no_route(&path))
        }
        ["api"] if get => Ok(json_response(
            200,
            &resources::api_versions(&state.server_address),
        )),
        ["apis"] if get => Ok(json_response(200, &resources::api_group_list())),
        ["api", "v1"] if get => resources::api_resource_list("", "v1")
            .map(|d| json_response(200, &d))
            .ok_or_else(|| ApiError::no_route(&path)),
        ["apis", group] if get => resources::api_group(group)
            .map(|d| json_response(200, &d))
            .ok_or_else(|| ApiError::no_route(&path)),
        ["apis", group, version] if get => resources::api_resource_list(group, version)
            .map(|d| json_response(200, &d))
            .ok_or_else(|| ApiError::no_route(&path)),
        ["api", "v1", rest @ ..] => {
            let target = target("", "v1", rest, &path)?;
            resource_request(state, req, target).await
        }
        ["apis", group, version, rest @ ..] => {
            let target = target(group, version, rest, &path)?;
            resource_request(state, req, target).await
        }
        _ => Err(ApiError::no_route(&path)),
    }
}

fn target(group: &str, version: &str, rest: &[&str], path: &str) -> Result<Target, ApiError> {
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
    let res = resources::find(group, version, plural).ok_or_else(|| ApiError::no_route(path))?;
    if res.namespaced != namespace.is_some() && (name.is_some() || !res.namespaced) {
        // A namespaced object must be named within its namespace; a cluster-scoped one
        // cannot be.
        return Err(ApiError::no_route(path));
    }
    Ok(Target {
        res,
        version: version.to_string(),
        namespace,
        name,
        sub,
    })
}

fn wants_table(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

async fn read_body(req: Request<Incoming>) -> Result<(Bytes, String), ApiError> {
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
pub(super) fn parse_object(bytes: &[u8], content_type: &str) -> Result<Value, ApiError> {
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

pub(super) fn field_manager(query: &HashMap<String, String>, req_agent: &str) -> String {
    query.get("fieldManager").cloned().unwrap_or_else(|| {
        // The API server names an unnamed manager after the client's user agent.
        req_agent.split('/').next().unwrap_or("unknown").to_string()
    })
}

async fn resource_request(
    state: Arc<ApiState>,
    req: Request<Incoming>,
    t: Target,
) -> Result<Response<Body>, ApiError> {
    let (query, commands) = query_map(&req);
    let ns = t.namespace.clone().unwrap_or_default();
    let res = t.res;
    let version = t.version.as_str();
    let table = wants_table(&req);
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map_or("", String::as_str))?;
    let include = query
        .get("includeObject")
        .cloned()
        .unwrap_or_else(|| "Metadata".into());
    let method = req.method().clone();
    let verb = match (&method, t.name.is_some(), t.sub.is_some()) {
        (_, _, true) if t.sub.as_deref() == Some("exec") => "create",
        (&Method::GET, false, _) if query.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            "watch"
        }
        (&Method::GET, false, _) => "list",
        (&Method::GET, true, _) => "get",
        (&Method::POST, _, _) => "create",
        (&Method::PUT, _, _) => "update",
        (&Method::PATCH, _, _) => "patch",
        (&Method::DELETE, true, _) => "delete",
        (&Method::DELETE, false, _) => "deletecollection",
        _ => "",
    };
    let resource = match &t.sub {
        Some(sub) => format!("{}/{sub}", res.plural),
        None => res.plural.to_string(),
    };
    // Refusing is honest; silently persisting a dry run would not be.
    if query.contains_key("dryRun") && verb != "get" && verb != "list" {
        return Err(ApiError::bad_request(
            "the sandbox does not support server-side dry runs (dryRun); drop --dry-run=server",
        ));
    }
    if state
        .forbidden
        .iter()
        .any(|(v, r)| (v == verb || v == "*") && *r == resource)
    {
        return Err(ApiError::forbidden(
            verb,
            res.group,
            &resource,
            t.name.as_deref(),
            &ns,
        ));
    }

    if let Some(sub) = t.sub.as_deref() {
        let name = t.name.clone().unwrap_or_default();
        return match (res.plural, sub, &method) {
            ("pods", "exec", &Method::GET | &Method::POST) => {
                exec::upgrade(state, req, &ns, &name, &query, commands)
            }
            ("pods", "log", &Method::GET) => {
                lock(&state.store).get(res, version, &ns, &name)?;
                Ok(Response::new(Full::new(Bytes::new())))
            }
            (_, "status", &Method::GET) => Ok(json_response(
                200,
                &lock(&state.store).get(res, version, &ns, &name)?,
            )),
            _ => Err(ApiError::method_not_allowed(
                method.as_str(),
                &format!("{}/{sub}", res.plural),
            )),
        };
    }

    match (&method, t.name.as_deref()) {
        (&Method::GET, None) => {
            if query.get("watch").is_some_and(|w| w == "true" || w == "1") {
                return Err(ApiError::method_not_allowed("watch", res.plural));
            }
            let store = lock(&state.store);
            let items = store.list(res, version, t.namespace.as_deref(), &labels, &fields);
            let rv = store.revision();
            if table {
                return Ok(json_response(
                    200,
                    &table::render(res, &items, rv, &include),
                ));
            }
            Ok(json_response(
                200,
                &json!({
                    "kind": format!("{}List", res.kind),
                    "apiVersion": res.api_version(version),
                    "metadata": {"resourceVersion": rv.to_string()},
                    "items": items,
                }),
            ))
        }
        (&Method::GET, Some(name)) => {
            let store = lock(&state.store);
            let obj = store.get(res, version, &ns, name)?;
            if table {
                return Ok(json_response(
                    200,
                    &table::render(res, &[obj], store.revision(), &include),
                ));
            }
            Ok(json_response(200, &obj))
        }
        (&Method::POST, None) => {
            let (bytes, content_type) = read_body(req).await?;
            let mut obj = parse_object(&bytes, &content_type)?;
            check_kind(res, &obj)?;
            let manager = field_manager(&query, &agent);
            apply::record_update(None, &mut obj, &manager, &res.api_version(version));
            let created = lock(&state.store).create(res, version, &ns, obj)?;
            Ok(json_response(201, &created))
        }
        (&Method::PUT, Some(name)) => {
            let (bytes, content_type) = read_body(req).await?;
            let mut obj = parse_object(&bytes, &content_type)?;
            check_kind(res, &obj)?;
            let mut store = lock(&state.store);
            let old = store.get(res, version, &ns, name)?;
            apply::record_update(
                Some(&old),
                &mut obj,
                &field_manager(&query, &agent),
                &res.api_version(version),
            );
            Ok(json_response(
                200,
                &store.replace(res, version, &ns, name, obj)?,
            ))
        }
        (&Method::PATCH, Some(name)) => {
            let (bytes, content_type) = read_body(req).await?;
            patching::handle_patch(
                &state,
                res,
                version,
                &ns,
                name,
                &bytes,
                &content_type,
                &query,
                &agent,
            )
        }
        (&Method::DELETE, Some(name)) => Ok(json_response(
            200,
            &lock(&state.store).delete(res, version, &ns, name)?,
        )),
        (&Method::DELETE, None) => {
            let deleted = lock(&state.store).delete_collection(
                res,
                version,
                t.namespace.as_deref(),
                &labels,
                &fields,
            );
            Ok(json_response(
                200,
                &json!({
                    "kind": format!("{}List", res.kind),
                    "apiVersion": res.api_version(version),
                    "metadata": {},
                    "items": deleted,
                }),
            ))
        }
        (m, Some(_)) => Err(ApiError::method_not_allowed(m.as_str(), res.plural)),
        (m, None) => Err(ApiError::method_not_allowed(
            m.as_str(),
            &format!("the {} collection", res.plural),
        )),
    }
}

/// A body's `kind`, when it names one, must be the resource's.
pub(super) fn check_kind(res: &Resource, obj: &Value) -> Result<(), ApiError> {
    match obj.get("kind").and_then(Value::as_str) {
        Some(kind) if kind != res.kind => Err(ApiError::bad_request(format!(
            "the kind of the object ({kind}) does not match the resource ({})",
            res.kind
        ))),
        _ => Ok(()),
    }
}
