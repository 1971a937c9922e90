//! Reading what the screen shows from the cluster: the route, the prefix each backend
//! answers with, the waypoint, the Istio version, the client pod.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::{ClientProblem, Cluster, ClusterError, RouteChoice};
use crate::route::{Route, RouteError};

pub(crate) const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// Which pod runs the probe: `deploy/NAME` (a Running pod of it) or `pod/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSpec {
    Deployment(String),
    Pod(String),
}

/// The client when none is named: Istio's samples run their probes from `deploy/curl`.
pub(crate) const DEFAULT_CLIENT: &str = "deploy/curl";

impl Default for ClientSpec {
    fn default() -> ClientSpec {
        ClientSpec::Deployment("curl".into())
    }
}

/// A `--client` that names no pod.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: write the client as deploy/NAME or pod/NAME")]
pub struct BadClient(pub String);

impl std::str::FromStr for ClientSpec {
    type Err = BadClient;
    fn from_str(s: &str) -> Result<Self, BadClient> {
        match s.split_once('/') {
            Some(("deploy" | "deployment" | "deployments", name)) if !name.is_empty() => {
                Ok(ClientSpec::Deployment(name.into()))
            }
            Some(("pod" | "pods" | "po", name)) if !name.is_empty() => {
                Ok(ClientSpec::Pod(name.into()))
            }
            None if !s.is_empty() => Ok(ClientSpec::Pod(s.into())),
            _ => Err(BadClient(s.to_string())),
        }
    }
}

impl std::fmt::Display for ClientSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSpec::Deployment(n) => write!(f, "deploy/{n}"),
            ClientSpec::Pod(n) => write!(f, "pod/{n}"),
        }
    }
}

/// What the backends' pods say: the prefix each answers with, the backends without one
/// (and why), and the ready endpoints each has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Discovery {
    pub labels: BTreeMap<String, usize>,
    pub problems: Vec<String>,
    pub endpoints: Vec<u32>,
}

fn to_value(obj: &DynamicObject) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

impl Cluster {
    /// TCPRoutes in the namespace, read as v1alpha2 (what Istio 1.24 uses), or v1 where
    /// only that is served.
    pub async fn routes(&self) -> Result<Vec<DynamicObject>, ClusterError> {
        let mut last = None;
        for version in ["v1alpha2", "v1"] {
            match self
                .dynamic(GATEWAY_GROUP, version, "TCPRoute")
                .list(&ListParams::default())
                .await
            {
                Ok(list) => return Ok(list.items),
                Err(kube::Error::Api(s)) if s.code == 404 => last = Some(s.message.clone()),
                Err(e) => return Err(self.err(e, "list", "tcproutes")),
            }
        }
        Err(RouteChoice::NoApi {
            detail: last.unwrap_or_default(),
        }
        .into())
    }

    /// The route to watch: the named one, or the one TCPRoute whose parent is a Service.
    pub async fn find_route(&self, name: Option<&str>) -> Result<Route, ClusterError> {
        let routes = self.routes().await?;
        let ns = &self.namespace;
        if let Some(name) = name {
            let obj = routes
                .iter()
                .find(|r| r.metadata.name.as_deref() == Some(name))
                .ok_or_else(|| RouteChoice::Missing {
                    name: name.to_string(),
                    namespace: ns.clone(),
                    known: routes
                        .iter()
                        .filter_map(|r| r.metadata.name.clone())
                        .collect(),
                })?;
            return Ok(Route::from_object(&to_value(obj))?);
        }
        let candidates: Vec<(String, Result<Route, RouteError>)> = routes
            .iter()
            .map(|r| {
                (
                    r.metadata.name.clone().unwrap_or_default(),
                    Route::from_object(&to_value(r)),
                )
            })
            .collect();
        let with_service_parent: Vec<&(String, Result<Route, RouteError>)> = candidates
            .iter()
            .filter(|(_, r)| !matches!(r, Err(RouteError::NoServiceParent(_))))
            .collect();
        match with_service_parent.as_slice() {
            [] if candidates.is_empty() => Err(RouteChoice::None {
                namespace: ns.clone(),
            }
            .into()),
            [] => Err(RouteChoice::NoServiceParent {
                namespace: ns.clone(),
                found: candidates.iter().map(|(n, _)| n.clone()).collect(),
            }
            .into()),
            [(_, route)] => Ok(route.clone()?),
            many => Err(RouteChoice::Several {
                namespace: ns.clone(),
                names: many.iter().map(|(n, _)| n.clone()).collect(),
            }
            .into()),
        }
    }

    /// The prefix each backend's pods answer with, from the last container arg of the
    /// pods its Service selects (the tcp-echo sample's convention). Returns the map
    /// and, for backends without one, why.
    pub(crate) async fn discover_labels(&self, route: &Route) -> Result<Discovery, ClusterError> {
        let mut labels = BTreeMap::new();
        let mut problems = Vec::new();
        let mut endpoints = vec![0u32; route.backends.len()];
        for (index, backend) in route.backends.iter().enumerate() {
            let services: Api<Service> = Api::namespaced(self.client.clone(), &backend.namespace);
            let svc = match services.get(&backend.name).await {
                Ok(s) => s,
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    problems.push(format!("backend {}: Service not found", backend.name));
                    continue;
                }
                Err(e) => return Err(self.err(e, "get", "services")),
            };
            let selector = svc
                .spec
                .as_ref()
                .and_then(|s| s.selector.clone())
                .unwrap_or_default();
            if selector.is_empty() {
                problems.push(format!(
                    "backend {}: its Service has no selector; map it with --label PREFIX={}",
                    backend.name, backend.name
                ));
                continue;
            }
            let query: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let pods = kube::Api::<k8s_openapi::api::core::v1::Pod>::namespaced(
                self.client.clone(),
                &backend.namespace,
            )
            .list(&ListParams::default().labels(&query.join(",")))
            .await
            .map_err(|e| self.err(e, "list", "pods"))?;
            // Ready endpoints: what the mesh spreads connections over without a route.
            endpoints[index] = pods
                .items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .count()
                .try_into()
                .unwrap_or(u32::MAX);
            let prefixes: Vec<String> = pods
                .items
                .iter()
                .filter_map(|p| {
                    p.spec
                        .as_ref()?
                        .containers
                        .iter()
                        .find_map(|c| c.args.as_ref()?.last().cloned())
                })
                .collect();
            match prefixes.first() {
                Some(prefix) => {
                    labels.insert(prefix.clone(), index);
                }
                None => problems.push(format!(
                    "backend {}: no pod with container args to read its prefix from; map it with --label PREFIX={}",
                    backend.name, backend.name
                )),
            }
        }
        Ok(Discovery {
            labels,
            problems,
            endpoints,
        })
    }

    /// The first port of a Service: where the probe connects when the route names none.
    pub(crate) async fn service_port(&self, name: &str) -> Result<u16, ClusterError> {
        let services: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let svc = services
            .get(name)
            .await
            .map_err(|e| self.err(e, "get", "services"))?;
        svc.spec
            .and_then(|s| s.ports?.first().map(|p| p.port))
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| ClusterError::NoPorts {
                service: name.to_string(),
            })
    }

    /// A Running pod for the client spec, and the container to run the probe in:
    /// `container`, or the first that is not Istio's proxy.
    pub(crate) async fn client_pod(
        &self,
        spec: &ClientSpec,
        container: Option<&str>,
    ) -> Result<(String, String), ClusterError> {
        let pod = match spec {
            ClientSpec::Pod(name) => {
                let pod = self
                    .pods()
                    .get(name)
                    .await
                    .map_err(|e| self.err(e, "get", "pods"))?;
                let phase = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default();
                if phase != "Running" {
                    return Err(ClientProblem::NotRunning {
                        pod: name.clone(),
                        phase,
                    }
                    .into());
                }
                pod
            }
            ClientSpec::Deployment(name) => self.running_pod_of(name).await?,
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let containers: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        let chosen = match container {
            Some(c) => containers.iter().find(|n| *n == c),
            None => containers.iter().find(|n| *n != "istio-proxy"),
        };
        match chosen {
            Some(c) => Ok((name, c.clone())),
            None => Err(ClientProblem::NoContainer {
                pod: name,
                wanted: container.map(String::from),
                containers,
            }
            .into()),
        }
    }

    /// A Running pod of the Deployment `name`.
    async fn running_pod_of(
        &self,
        name: &str,
    ) -> Result<k8s_openapi::api::core::v1::Pod, ClusterError> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let deploy =
            deployments
                .get(name)
                .await
                .map_err(|e| match self.err(e, "get", "deployments") {
                    ClusterError::NotFound { .. } => ClientProblem::NoDeployment {
                        name: name.to_string(),
                        namespace: self.namespace.clone(),
                    }
                    .into(),
                    other => other,
                })?;
        let selector = deploy.spec.selector.match_labels.unwrap_or_default();
        let query: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pods = self
            .pods()
            .list(&ListParams::default().labels(&query.join(",")))
            .await
            .map_err(|e| self.err(e, "list", "pods"))?;
        pods.items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .ok_or_else(|| {
                ClientProblem::NoRunningPod {
                    deployment: name.to_string(),
                }
                .into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::ClientSpec;

    #[test]
    fn client_specs() {
        assert_eq!(
            "deploy/curl".parse(),
            Ok(ClientSpec::Deployment("curl".into()))
        );
        assert_eq!("pod/curl-1".parse(), Ok(ClientSpec::Pod("curl-1".into())));
        assert_eq!("curl-1".parse(), Ok(ClientSpec::Pod("curl-1".into())));
        assert!("svc/curl".parse::<ClientSpec>().is_err());
        assert!("deploy/".parse::<ClientSpec>().is_err());
    }
}
