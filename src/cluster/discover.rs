//! Reading what the screen shows from the cluster: the route, the prefix each backend
//! answers with, the waypoint, the Istio version, the client pod.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::{ClientProblem, Cluster, ClusterError, RouteChoice};
use crate::route::{Route, RouteError, RouteKind, RouteRef, RulePick};

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
    /// The names of the backends' Running pods, and their `version` labels where one
    /// backend alone has that version: what an HTTP reply names (helloworld answers
    /// `Hello version: v2, instance: helloworld-v2-…`).
    pub names: BTreeMap<String, usize>,
    pub problems: Vec<String>,
    pub endpoints: Vec<u32>,
}

fn to_value(obj: &DynamicObject) -> Value {
    serde_json::to_value(obj).unwrap_or(Value::Null)
}

/// Which route to follow: the one named (`--route`), or the one weighted route in the
/// namespace; and which of its rules (`--rule`, `--path`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteQuery {
    pub name: Option<RouteRef>,
    pub pick: RulePick,
}

/// A route object as listed, with its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub kind: RouteKind,
    pub object: Value,
}

impl Listed {
    pub fn name(&self) -> &str {
        crate::json::str_at(&self.object, "/metadata/name").unwrap_or_default()
    }

    /// `httproute/web`: how `--route` names it.
    pub fn reference(&self) -> RouteRef {
        RouteRef {
            kind: Some(self.kind),
            name: self.name().to_string(),
        }
    }
}

impl Cluster {
    /// The weighted routes of `kinds` in the namespace, each read in the first version
    /// the cluster serves. A kind the cluster does not serve, or RBAC does not let us
    /// list, is left out, as long as some kind can be read.
    pub async fn routes_of(&self, kinds: &[RouteKind]) -> Result<Vec<Listed>, ClusterError> {
        let mut found = Vec::new();
        let mut readable = false;
        let (mut missing, mut refused) = (Vec::new(), None);
        for &kind in kinds {
            for version in kind.versions() {
                match self
                    .dynamic(GATEWAY_GROUP, version, kind.name())
                    .list(&ListParams::default())
                    .await
                {
                    Ok(list) => {
                        readable = true;
                        found.extend(list.items.iter().map(|o| Listed {
                            kind,
                            object: to_value(o),
                        }));
                        break;
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        missing.push(format!("{}/{version}", kind.plural()));
                    }
                    Err(kube::Error::Api(s)) if s.code == 403 => {
                        let e = self.err(kube::Error::Api(s), "list", kind.plural());
                        refused.get_or_insert(e);
                        break;
                    }
                    Err(e) => return Err(self.err(e, "list", kind.plural())),
                }
            }
        }
        match refused {
            Some(e) if !readable => Err(e),
            _ if !readable => Err(RouteChoice::NoApi {
                detail: format!("not served: {}", missing.join(", ")),
            }
            .into()),
            _ => Ok(found),
        }
    }

    /// Every weighted route in the namespace, of every kind.
    pub async fn routes(&self) -> Result<Vec<Listed>, ClusterError> {
        self.routes_of(&RouteKind::ALL).await
    }

    /// The route to watch, with its backends in other namespaces that no ReferenceGrant
    /// permits marked as refused (an implementation drops them).
    pub async fn find_route(&self, query: &RouteQuery) -> Result<Route, ClusterError> {
        let mut route = self.choose_route(query).await?;
        self.check_grants(&mut route).await?;
        if route.weights_in_effect().iter().all(|w| *w == 0) {
            return Err(RouteError::AllZero {
                kind: route.kind,
                name: route.name.clone(),
                rule: route.rule + 1,
            }
            .into());
        }
        Ok(route)
    }

    /// The named route, or the one route in the namespace that splitscope can follow.
    async fn choose_route(&self, query: &RouteQuery) -> Result<Route, ClusterError> {
        let kinds = match query.name.as_ref().and_then(|n| n.kind) {
            Some(kind) => vec![kind],
            None => RouteKind::ALL.to_vec(),
        };
        let routes = self.routes_of(&kinds).await?;
        let ns = &self.namespace;
        if let Some(wanted) = &query.name {
            let named: Vec<&Listed> = routes.iter().filter(|r| r.name() == wanted.name).collect();
            return match named.as_slice() {
                [one] => Ok(Route::read(&one.object, &query.pick)?),
                [] => Err(RouteChoice::Missing {
                    name: wanted.clone(),
                    namespace: ns.clone(),
                    known: routes.iter().map(|r| r.reference().to_string()).collect(),
                }
                .into()),
                many => Err(RouteChoice::Several {
                    namespace: ns.clone(),
                    names: many.iter().map(|r| r.reference().to_string()).collect(),
                }
                .into()),
            };
        }
        let candidates: Vec<(String, Result<Route, RouteError>)> = routes
            .iter()
            .map(|r| {
                (
                    r.reference().to_string(),
                    Route::read(&r.object, &query.pick),
                )
            })
            .collect();
        let usable: Vec<&(String, Result<Route, RouteError>)> =
            candidates.iter().filter(|(_, r)| r.is_ok()).collect();
        match (usable.as_slice(), candidates.as_slice()) {
            (_, []) => Err(RouteChoice::None {
                namespace: ns.clone(),
            }
            .into()),
            // One route, or one that can be followed: its own words say what is wrong.
            ([], [(_, route)]) | ([(_, route)], _) => Ok(route.clone()?),
            ([], _) => Err(RouteChoice::NoneUsable {
                namespace: ns.clone(),
                found: candidates
                    .iter()
                    .filter_map(|(_, r)| r.as_ref().err().map(ToString::to_string))
                    .collect(),
            }
            .into()),
            (many, _) => Err(RouteChoice::Several {
                namespace: ns.clone(),
                names: many.iter().map(|(n, _)| n.clone()).collect(),
            }
            .into()),
        }
    }

    /// What names each backend in a reply: the prefix its pods answer with, from the last
    /// container arg (the tcp-echo sample's convention), its Running pods' names and
    /// their `version` label. Returns the maps, the ready endpoints, and for backends
    /// that cannot be told, why.
    pub(crate) async fn discover_labels(&self, route: &Route) -> Result<Discovery, ClusterError> {
        let mut labels = BTreeMap::new();
        let mut problems = Vec::new();
        let mut endpoints = vec![0u32; route.backends.len()];
        let mut names = BTreeMap::new();
        let mut versions: BTreeMap<String, Option<usize>> = BTreeMap::new();
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
            let Some(pods) = self.pods_of(&svc, backend, &mut problems).await? else {
                continue;
            };
            let running: Vec<&k8s_openapi::api::core::v1::Pod> = pods
                .items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .collect();
            // Ready endpoints: what the mesh spreads connections over without a route.
            endpoints[index] = running.len().try_into().unwrap_or(u32::MAX);
            for pod in &running {
                if let Some(name) = &pod.metadata.name {
                    names.insert(name.clone(), index);
                }
                if let Some(version) = pod.metadata.labels.as_ref().and_then(|l| l.get("version")) {
                    // A version two backends share names neither.
                    let entry = versions.entry(version.clone()).or_insert(Some(index));
                    if *entry != Some(index) {
                        *entry = None;
                    }
                }
            }
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
                // An HTTP reply names its pod; only a TCP echo needs a prefix.
                None if route.kind != crate::route::RouteKind::Tcp && !running.is_empty() => {}
                None => problems.push(format!(
                    "backend {}: no pod with container args to read its prefix from; map it with --label PREFIX={}",
                    backend.name, backend.name
                )),
            }
        }
        for (version, only) in versions {
            if let Some(index) = only {
                names.entry(version).or_insert(index);
            }
        }
        Ok(Discovery {
            labels,
            names,
            problems,
            endpoints,
        })
    }

    /// The pods a backend's Service selects; None (and why) when it selects none.
    async fn pods_of(
        &self,
        svc: &Service,
        backend: &crate::route::Backend,
        problems: &mut Vec<String>,
    ) -> Result<Option<kube::core::ObjectList<k8s_openapi::api::core::v1::Pod>>, ClusterError> {
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
            return Ok(None);
        }
        let query: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        kube::Api::<k8s_openapi::api::core::v1::Pod>::namespaced(
            self.client.clone(),
            &backend.namespace,
        )
        .list(&ListParams::default().labels(&query.join(",")))
        .await
        .map(Some)
        .map_err(|e| self.err(e, "list", "pods"))
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
