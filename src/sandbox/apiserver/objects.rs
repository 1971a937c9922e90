//! Requests for objects: the RBAC and dry-run checks, then get, list, create, replace,
//! patch, delete and delete-collection, and the subresources (`exec`, `log`, `status`).

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use super::request::{ResourceRequest, Verb, check_kind, parse_object, read_body};
use super::response::{Body, empty_response, json_response};
use super::state::ApiState;
use super::{apply, exec, patch, table, watch};
use crate::sandbox::storage::ApiError;
use crate::sandbox::sync::lock;

pub async fn serve(
    state: Arc<ApiState>,
    req: Request<Incoming>,
    r: ResourceRequest,
) -> Result<Response<Body>, ApiError> {
    admit(&state, &r)?;
    if r.sub.is_some() {
        return subresource(state, req, r).await;
    }
    let method = r.method.clone();
    match (&method, r.name.clone()) {
        (&Method::GET, None) if r.verb == Some(Verb::Watch) => watch::serve(&state, &r),
        (&Method::GET, None) => list(&state, &r),
        (&Method::GET, Some(name)) => get(&state, &r, &name),
        (&Method::POST, None) => create(&state, req, &r).await,
        (&Method::PUT, Some(name)) => replace(&state, req, &r, &name).await,
        (&Method::PATCH, Some(name)) => {
            let (bytes, content_type) = read_body(req).await?;
            patch::patch(&state, &r, &name, &bytes, &content_type)
        }
        (&Method::DELETE, Some(name)) => Ok(json_response(
            200,
            &lock(&state.store).delete(r.res, &r.version, r.ns(), &name)?,
        )),
        (&Method::DELETE, None) => delete_collection(&state, &r),
        (m, Some(_)) => Err(ApiError::method_not_allowed(m.as_str(), r.res.plural)),
        (m, None) => Err(ApiError::method_not_allowed(
            m.as_str(),
            &format!("the {} collection", r.res.plural),
        )),
    }
}

/// What is refused before anything is read or written: dry runs and what RBAC forbids.
fn admit(state: &ApiState, r: &ResourceRequest) -> Result<(), ApiError> {
    let verb = r.verb.map_or("", |v| v.as_str());
    // Refusing is honest; silently persisting a dry run would not be.
    if r.query.contains_key("dryRun") && !matches!(r.verb, Some(Verb::Get | Verb::List)) {
        return Err(ApiError::bad_request(
            "the sandbox does not support server-side dry runs (dryRun); drop --dry-run=server",
        ));
    }
    let resource = r.rbac_resource();
    if state
        .forbidden
        .iter()
        .any(|(v, res)| (v == verb || v == "*") && *res == resource)
    {
        return Err(ApiError::forbidden(
            verb,
            r.res.group,
            &resource,
            r.name.as_deref(),
            r.ns(),
        ));
    }
    Ok(())
}

async fn subresource(
    state: Arc<ApiState>,
    req: Request<Incoming>,
    r: ResourceRequest,
) -> Result<Response<Body>, ApiError> {
    let name = r.name.clone().unwrap_or_default();
    let sub = r.sub.clone().unwrap_or_default();
    match (r.res.plural, sub.as_str(), &r.method) {
        ("pods", "exec", &Method::GET | &Method::POST) => exec::upgrade(state, req, &r),
        ("pods", "log", &Method::GET) => {
            lock(&state.store).get(r.res, &r.version, r.ns(), &name)?;
            Ok(empty_response())
        }
        (_, "status", &Method::GET) => Ok(json_response(
            200,
            &lock(&state.store).get(r.res, &r.version, r.ns(), &name)?,
        )),
        // Writes through `status` change the status alone (`kubectl patch
        // --subresource=status`), as the API server's status strategies do; the
        // Rollout and Canary CRDs enable the subresource too.
        (
            "gateways" | "tcproutes" | "httproutes" | "grpcroutes" | "tlsroutes" | "rollouts"
            | "canaries",
            "status",
            &Method::PATCH,
        ) => {
            let (bytes, content_type) = read_body(req).await?;
            patch::patch_status(&state, &r, &name, &bytes, &content_type)
        }
        _ => Err(ApiError::method_not_allowed(
            r.method.as_str(),
            &format!("{}/{sub}", r.res.plural),
        )),
    }
}

fn list(state: &ApiState, r: &ResourceRequest) -> Result<Response<Body>, ApiError> {
    let store = lock(&state.store);
    let items = store.list(
        r.res,
        &r.version,
        r.namespace.as_deref(),
        &r.labels,
        &r.fields,
    );
    let rv = store.revision();
    if r.wants_table {
        return Ok(json_response(
            200,
            &table::render(r.res, &items, rv, &r.include),
        ));
    }
    Ok(json_response(
        200,
        &json!({
            "kind": format!("{}List", r.res.kind),
            "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    ))
}

fn get(state: &ApiState, r: &ResourceRequest, name: &str) -> Result<Response<Body>, ApiError> {
    let store = lock(&state.store);
    let obj = store.get(r.res, &r.version, r.ns(), name)?;
    if r.wants_table {
        return Ok(json_response(
            200,
            &table::render(r.res, &[obj], store.revision(), &r.include),
        ));
    }
    Ok(json_response(200, &obj))
}

/// Reads a written object's body and checks its kind.
async fn body_object(req: Request<Incoming>, r: &ResourceRequest) -> Result<Value, ApiError> {
    let (bytes, content_type) = read_body(req).await?;
    let obj = parse_object(&bytes, &content_type)?;
    check_kind(r.res, &obj)?;
    Ok(obj)
}

async fn create(
    state: &ApiState,
    req: Request<Incoming>,
    r: &ResourceRequest,
) -> Result<Response<Body>, ApiError> {
    let mut obj = body_object(req, r).await?;
    apply::record_update(None, &mut obj, &r.field_manager(), &r.api_version());
    let created = lock(&state.store).create(r.res, &r.version, r.ns(), obj)?;
    Ok(json_response(201, &created))
}

async fn replace(
    state: &ApiState,
    req: Request<Incoming>,
    r: &ResourceRequest,
    name: &str,
) -> Result<Response<Body>, ApiError> {
    let mut obj = body_object(req, r).await?;
    let mut store = lock(&state.store);
    let old = store.get(r.res, &r.version, r.ns(), name)?;
    apply::record_update(Some(&old), &mut obj, &r.field_manager(), &r.api_version());
    Ok(json_response(
        200,
        &store.replace(r.res, &r.version, r.ns(), name, obj)?,
    ))
}

fn delete_collection(state: &ApiState, r: &ResourceRequest) -> Result<Response<Body>, ApiError> {
    let deleted = lock(&state.store).delete_collection(
        r.res,
        &r.version,
        r.namespace.as_deref(),
        &r.labels,
        &r.fields,
    );
    Ok(json_response(
        200,
        &json!({
            "kind": format!("{}List", r.res.kind),
            "apiVersion": r.api_version(),
            "metadata": {},
            "items": deleted,
        }),
    ))
}
