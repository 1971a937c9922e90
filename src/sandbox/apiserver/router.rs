//! The Kubernetes HTTP API on loopback: authentication, then each path to its handler.
//! Every failure is a `Status`.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};

use super::discovery;
use super::objects;
use super::request::ResourceRequest;
use super::response::{Body, error_response, json_response, text_response};
use super::state::ApiState;
use crate::sandbox::drills::RETRY_AFTER;
use crate::sandbox::storage::ApiError;

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
    if let Some(drilled) = drill(&state, &req).await {
        return Ok(drilled);
    }
    Ok(match route(state, req).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    })
}

/// The fault drills' part: latency on every call, and a share of them failed.
async fn drill(state: &ApiState, req: &Request<Incoming>) -> Option<Response<Body>> {
    let latency = state.drills.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let key = format!("{} {}", req.method(), req.uri());
    let status = state.drills.fail(&key)?;
    let error = if status == 429 {
        ApiError::too_many_requests(RETRY_AFTER.as_secs())
    } else {
        ApiError::internal("an internal error, made on purpose (a fault drill: --api-fault)")
    };
    let mut resp = error_response(&error);
    if status == 429 {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(RETRY_AFTER.as_secs()),
        );
    }
    Some(resp)
}

async fn route(state: Arc<ApiState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if req.method() == Method::GET
        && let Some(found) = read_only(&state, &segments)
    {
        return found
            .map(|doc| json_response(200, &doc))
            .ok_or_else(|| ApiError::no_route(&path));
    }
    match segments.as_slice() {
        ["healthz" | "livez" | "readyz"] if req.method() == Method::GET => Ok(text_response("ok")),
        ["api", "v1", rest @ ..] => {
            let r = ResourceRequest::parse(&req, "", "v1", rest, &path)?;
            objects::serve(state, req, r).await
        }
        ["apis", group, version, rest @ ..] => {
            let r = ResourceRequest::parse(&req, group, version, rest, &path)?;
            objects::serve(state, req, r).await
        }
        _ => Err(ApiError::no_route(&path)),
    }
}

/// The documents a GET of a fixed path answers: the version, discovery and OpenAPI.
/// None when the path is not one of them; Some(None) when it is one that does not exist.
fn read_only(state: &ApiState, segments: &[&str]) -> Option<Option<Value>> {
    Some(match segments {
        ["version"] => Some(json!({
            "major": "1", "minor": "32", "gitVersion": state.git_version, "gitCommit": "splitscope-sandbox",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
            "platform": "linux/amd64",
        })),
        ["openapi", "v3"] => Some(discovery::openapi_root()),
        ["openapi", "v3", "api", "v1"] => discovery::openapi_group_version("", "v1"),
        ["openapi", "v3", "apis", group, version] => {
            discovery::openapi_group_version(group, version)
        }
        ["api"] => Some(discovery::api_versions(&state.server_address)),
        ["apis"] => Some(discovery::api_group_list()),
        ["api", "v1"] => discovery::api_resource_list("", "v1"),
        ["apis", group] => discovery::api_group(group),
        ["apis", group, version] => discovery::api_resource_list(group, version),
        // Not Kubernetes: what the sandbox's mesh did, for tests to hold splitscope's
        // estimates to. Each waypoint replica's every push: when it was compiled (it
        // carries every change written before) and when the replica took it.
        // `settled`: every write so far has reached every replica.
        ["sandbox", "installs"] => Some(json!({
            "installs": state.mesh.installs(),
            "settled": state.mesh.settled(),
        })),
        _ => return None,
    })
}
