//! `pods/exec`: checks the request as the API server and kubelet do, answers the
//! WebSocket upgrade, and hands the stream to `stream::serve` in the background.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::request::ResourceRequest;
use super::response::{Body, empty_response};
use super::state::ApiState;
use super::stream::{self, ExecRequest};
use crate::sandbox::storage::ApiError;
use crate::sandbox::storage::catalogue::PODS;
use crate::sandbox::storage::meta::{is_running, uid_of};
use crate::sandbox::sync::lock;

pub(crate) const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// The first protocol the client offers that we speak.
pub(crate) fn negotiate(offered: &str) -> Option<&'static str> {
    offered
        .split(',')
        .map(str::trim)
        .find_map(|p| PROTOCOLS.iter().find(|ours| **ours == p).copied())
}

/// Checks an exec request and answers its WebSocket upgrade; the stream is served in
/// the background.
pub(crate) fn upgrade(
    state: Arc<ApiState>,
    mut req: Request<Incoming>,
    r: &ResourceRequest,
) -> Result<Response<Body>, ApiError> {
    let name = r.name.as_deref().unwrap_or_default();
    let pod = lock(&state.store).get(&PODS, "v1", r.ns(), name)?;
    check_pod(&pod, name, r.query.get("container"))?;
    let shell = has_shell(&pod, r.query.get("container"));
    let exec_req = ExecRequest {
        namespace: r.ns().to_string(),
        pod: name.to_string(),
        uid: uid_of(&pod).unwrap_or_default().to_string(),
        stopped: state.stopped.clone(),
        command: r.commands.clone(),
        stdin: r.flag("stdin"),
        stdout: r.flag("stdout"),
        stderr: r.flag("stderr"),
        tty: r.flag("tty"),
        shell,
    };
    if exec_req.command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    if !exec_req.stdin && !exec_req.stdout && !exec_req.stderr {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let (accept, protocol) = handshake(req.headers())?;
    let upgrade = hyper::upgrade::on(&mut req);
    let mesh = state.mesh.clone();
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            stream::serve(upgraded, mesh, exec_req).await;
        }
    });
    let mut resp = empty_response();
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(resp)
}

/// Whether the container asked for (the first without a name) has a shell: Istio's
/// proxy image is distroless and has none.
fn has_shell(pod: &Value, container: Option<&String>) -> bool {
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array);
    let chosen = containers.and_then(|cs| match container {
        Some(name) => cs
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name.as_str())),
        None => cs.first(),
    });
    !chosen
        .and_then(|c| c.get("image"))
        .and_then(Value::as_str)
        .is_some_and(|image| image.contains("/proxyv2"))
}

/// The container asked for must exist, and the pod must run.
fn check_pod(pod: &Value, name: &str, container: Option<&String>) -> Result<(), ApiError> {
    let containers: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name")?.as_str()).collect())
        .unwrap_or_default();
    match container {
        Some(c) if !containers.contains(&c.as_str()) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if containers.is_empty() => {
            return Err(ApiError::bad_request(format!(
                "pod {name} has no containers"
            )));
        }
        _ => {}
    }
    if !is_running(pod) {
        return Err(ApiError::bad_request(format!(
            "pod {name} is not running; cannot exec into it"
        )));
    }
    Ok(())
}

/// The WebSocket accept key and the protocol we answer with.
fn handshake(headers: &HeaderMap) -> Result<(String, &'static str), ApiError> {
    let is_websocket = headers
        .get(header::UPGRADE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !is_websocket {
        return Err(ApiError::bad_request(
            "Upgrade request required: this server speaks pods/exec over WebSocket only (v5.channel.k8s.io or v4.channel.k8s.io)",
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| k.as_bytes().to_vec())
        .ok_or_else(|| ApiError::bad_request("missing Sec-WebSocket-Key"))?;
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|h| h.to_str().ok().map(String::from))
        .collect();
    let protocol = negotiate(&offered.join(","))
        .ok_or_else(|| ApiError::bad_request("no supported exec protocol offered: this server speaks v5.channel.k8s.io and v4.channel.k8s.io"))?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    Ok((accept, protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_the_newest_protocol_we_speak() {
        assert_eq!(
            negotiate("v5.channel.k8s.io, v4.channel.k8s.io"),
            Some("v5.channel.k8s.io")
        );
        assert_eq!(
            negotiate("base64.channel.k8s.io,v4.channel.k8s.io"),
            Some("v4.channel.k8s.io")
        );
        assert_eq!(negotiate("channel.k8s.io"), None);
    }
}
