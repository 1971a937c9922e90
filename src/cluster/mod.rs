//! The cluster as splitscope uses it, through the kube client: a real one from the
//! kubeconfig, or the sandbox's over its socket. Same code either way.

mod control_plane;
pub mod discover;
mod edge;
pub mod follow;
mod grants;
pub mod mesh;
pub mod patch;
pub mod probe;
pub mod rollouts;

use std::path::Path;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// kube's error, kept as the source of ours. Shared, so an error can travel in the
/// session's messages, which are cloned; two are equal when they read the same.
#[derive(Debug, Clone)]
pub struct KubeError(pub Arc<kube::Error>);

impl PartialEq for KubeError {
    fn eq(&self, other: &KubeError) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl KubeError {
    /// Why the server could not be reached, as the transport says it.
    fn unreachable(&self) -> String {
        match &*self.0 {
            kube::Error::HyperError(e) => e.to_string(),
            kube::Error::Service(e) => e.to_string(),
            other => other.to_string(),
        }
    }
}

impl std::fmt::Display for KubeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for KubeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error(
        "forbidden: cannot {verb} {resource} in namespace {namespace}; ask for RBAC that allows it{hint}"
    )]
    Forbidden {
        verb: String,
        resource: String,
        namespace: String,
        hint: String,
        #[source]
        source: Option<KubeError>,
    },
    /// The server has no such object.
    #[error("{message}")]
    NotFound {
        message: String,
        #[source]
        source: KubeError,
    },
    /// The route cannot be chosen: none, the one named is missing, or several.
    #[error(transparent)]
    Route(#[from] RouteChoice),
    /// The client pod cannot run the probe.
    #[error(transparent)]
    Client(#[from] ClientProblem),
    #[error("Service {service} has no ports")]
    NoPorts { service: String },
    /// The route's parent Gateway cannot be reached: why, and what to pass.
    #[error("{0}")]
    Unreached(String),
    /// The route exists but splitscope cannot read it.
    #[error(transparent)]
    InvalidRoute(#[from] crate::route::RouteError),
    /// An EnvoyFilter with our name that is not ours: never replaced or deleted.
    #[error(
        "the EnvoyFilter {name} in namespace {namespace} is not splitscope's ({owner}), so splitscope leaves it alone; if it is not wanted, delete it yourself (kubectl delete envoyfilter {name} -n {namespace}), then patch again"
    )]
    Foreign {
        name: String,
        namespace: String,
        owner: String,
    },
    #[error("the API server is unreachable ({}); retrying", .source.unreachable())]
    Unreachable {
        #[source]
        source: KubeError,
    },
    /// A 5xx or 429: the server is there but cannot answer now.
    #[error("the API server answered {code} to {action} ({message}); retrying")]
    Busy {
        code: u16,
        action: String,
        message: String,
        #[source]
        source: KubeError,
    },
    /// Any other refusal or failure of a call.
    #[error("{action}: {detail}")]
    Api {
        action: String,
        detail: String,
        #[source]
        source: KubeError,
    },
}

/// Why no route can be watched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteChoice {
    #[error(
        "this cluster serves no Gateway API route (TCPRoute, HTTPRoute, GRPCRoute, TLSRoute; {detail}); install the Gateway API CRDs"
    )]
    NoApi { detail: String },
    #[error("no {} {:?} in namespace {namespace}{}", kind_of(.name), .name.name, known_list(.known))]
    Missing {
        name: crate::route::RouteRef,
        namespace: String,
        known: Vec<String>,
    },
    #[error(
        "no weighted route (TCPRoute, HTTPRoute, GRPCRoute, TLSRoute) in namespace {namespace}; create one, or pass --namespace"
    )]
    None { namespace: String },
    #[error("no route in namespace {namespace} can be followed: {}", .found.join("; "))]
    NoneUsable {
        namespace: String,
        found: Vec<String>,
    },
    #[error(
        "several routes in namespace {namespace}: {}; choose one with --route KIND/NAME (splitscope routes lists them)",
        .names.join(", ")
    )]
    Several {
        namespace: String,
        names: Vec<String>,
    },
}

/// The kind a missing route was looked for as: the one named, else any.
fn kind_of(name: &crate::route::RouteRef) -> &'static str {
    match name.kind {
        Some(kind) => kind.name(),
        None => "route",
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; it has: {}", known.join(", "))
    }
}

/// Why the client pod cannot run the probe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientProblem {
    #[error("no Deployment {name} in namespace {namespace}; pass --client deploy/NAME or pod/NAME")]
    NoDeployment { name: String, namespace: String },
    #[error("deploy/{deployment} has no Running pod")]
    NoRunningPod { deployment: String },
    #[error("client pod {pod} is {phase}, not Running")]
    NotRunning { pod: String, phase: String },
    #[error(
        "pod {pod} has no container {}; its containers: {} (pass --container NAME)",
        .wanted.as_deref().unwrap_or("other than istio-proxy"),
        .containers.join(", ")
    )]
    NoContainer {
        pod: String,
        wanted: Option<String>,
        containers: Vec<String>,
    },
}

impl ClusterError {
    /// Whether it says nothing about the cluster's state, only that it could not be
    /// read now: what was read before stays on the screen.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            ClusterError::Unreachable { .. } | ClusterError::Busy { .. }
        )
    }

    /// Reads a kube error for an action (`verb` on `resource`), so a 403 names both.
    pub(crate) fn from_kube(
        e: kube::Error,
        verb: &str,
        resource: &str,
        namespace: &str,
    ) -> ClusterError {
        let status = match &e {
            kube::Error::Api(status) => Some((status.code, status.message.clone())),
            _ => None,
        };
        let unreachable = matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_));
        let detail = match &status {
            Some((code, message)) => format!("{message} ({code})"),
            None => e.to_string(),
        };
        let source = KubeError(Arc::new(e));
        match status {
            Some((403, _)) => ClusterError::Forbidden {
                verb: verb.into(),
                resource: resource.into(),
                namespace: namespace.into(),
                hint: if resource == "envoyfilters" {
                    " (or run with --read-only)".into()
                } else {
                    String::new()
                },
                source: Some(source),
            },
            Some((404, message)) => ClusterError::NotFound { message, source },
            Some((code, message)) if code == 429 || code >= 500 => ClusterError::Busy {
                code,
                action: format!("{verb} {resource}"),
                message,
                source,
            },
            _ if unreachable => ClusterError::Unreachable { source },
            _ => ClusterError::Api {
                action: format!("{verb} {resource}"),
                detail,
                source,
            },
        }
    }
}

/// Set in every pod: where the API server is, and that the in-cluster config applies.
const IN_CLUSTER: &str = "KUBERNETES_SERVICE_HOST";

/// A connection to one namespace of one cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub namespace: String,
    /// The kubeconfig context's name, for the header.
    pub context: String,
    /// Where Istio runs (`--istio-namespace`); None: istio-system, else found by label.
    pub istio_namespace: Option<String>,
}

impl Cluster {
    /// kubectl's rules: `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`, else
    /// in a pod its ServiceAccount (the in-cluster config, as kubectl and client-go use
    /// it); the current context unless `--context`; its namespace unless `--namespace`
    /// (in a pod, the pod's).
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let loaded = match kubeconfig {
            Some(path) => Kubeconfig::read_from(path)
                .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display()))),
            None => match Kubeconfig::read() {
                Ok(found) => Ok(found),
                Err(_) if context.is_none() && std::env::var_os(IN_CLUSTER).is_some() => {
                    return Self::in_cluster(namespace);
                }
                Err(e) => Err(ClusterError::Kubeconfig(format!(
                    "{e} (set --kubeconfig or KUBECONFIG, or run in a pod with a ServiceAccount)"
                ))),
            },
        }?;
        Self::from_kubeconfig(loaded, context, namespace).await
    }

    /// In a pod: the API server from the environment, the ServiceAccount's token and CA,
    /// the pod's namespace.
    fn in_cluster(namespace: Option<&str>) -> Result<Cluster, ClusterError> {
        let config = Config::incluster().map_err(|e| {
            ClusterError::Kubeconfig(format!(
                "no kubeconfig, and the in-cluster config cannot be read: {e} (mount the pod's ServiceAccount token, or set --kubeconfig)"
            ))
        })?;
        let namespace = namespace.map_or_else(|| config.default_namespace.clone(), String::from);
        let client =
            Client::try_from(config).map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        Ok(Cluster {
            client,
            namespace,
            context: "in-cluster".into(),
            istio_namespace: None,
        })
    }

    pub async fn from_kubeconfig(
        kubeconfig: Kubeconfig,
        context: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let context_name = context
            .map(String::from)
            .or_else(|| kubeconfig.current_context.clone())
            .ok_or_else(|| ClusterError::Kubeconfig("no current context; pass --context".into()))?;
        if !kubeconfig.contexts.iter().any(|c| c.name == context_name) {
            let known: Vec<&str> = kubeconfig
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            return Err(ClusterError::Kubeconfig(format!(
                "no context named {context_name:?}; the kubeconfig has: {}",
                known.join(", ")
            )));
        }
        let options = KubeConfigOptions {
            context: Some(context_name.clone()),
            cluster: None,
            user: None,
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        let namespace = namespace.map_or_else(|| config.default_namespace.clone(), String::from);
        let client =
            Client::try_from(config).map_err(|e| ClusterError::Kubeconfig(e.to_string()))?;
        Ok(Cluster {
            client,
            namespace,
            context: context_name,
            istio_namespace: None,
        })
    }

    pub fn dynamic(&self, group: &str, version: &str, kind: &str) -> Api<DynamicObject> {
        self.dynamic_in(&self.namespace, group, version, kind)
    }

    /// The same, in another namespace (a waypoint's, say).
    pub(crate) fn dynamic_in(
        &self,
        namespace: &str,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        Api::namespaced_with(self.client.clone(), namespace, &ApiResource::from_gvk(&gvk))
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn err(&self, e: kube::Error, verb: &str, resource: &str) -> ClusterError {
        ClusterError::from_kube(e, verb, resource, &self.namespace)
    }
}
