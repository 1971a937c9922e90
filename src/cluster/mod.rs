//! The cluster as splitscope uses it, through the kube client: a real one from the
//! kubeconfig, or the sandbox's over its socket. Same code either way.

pub mod discover;
pub mod follow;
pub mod mesh;
pub mod patch;
pub mod probe;

use std::path::Path;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

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
    },
    #[error("{0}")]
    NotFound(String),
    /// No route to watch, or more than one: what was found and what to pass.
    #[error("{0}")]
    Route(String),
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
    #[error("the API server is unreachable ({0}); retrying")]
    Unreachable(String),
    /// A 5xx or 429: the server is there but cannot answer now.
    #[error("the API server answered {code} to {action} ({message}); retrying")]
    Busy {
        code: u16,
        action: String,
        message: String,
    },
    #[error("{0}")]
    Api(String),
}

impl ClusterError {
    /// Whether it says nothing about the cluster's state, only that it could not be
    /// read now: what was read before stays on the screen.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClusterError::Unreachable(_) | ClusterError::Busy { .. }
        )
    }

    /// Reads a kube error for an action (`verb` on `resource`), so a 403 names both.
    pub fn from_kube(e: kube::Error, verb: &str, resource: &str, namespace: &str) -> ClusterError {
        match e {
            kube::Error::Api(status) if status.code == 403 => ClusterError::Forbidden {
                verb: verb.into(),
                resource: resource.into(),
                namespace: namespace.into(),
                hint: if resource == "envoyfilters" {
                    " (or run with --read-only)".into()
                } else {
                    String::new()
                },
            },
            kube::Error::Api(status) if status.code == 404 => {
                ClusterError::NotFound(status.message.clone())
            }
            kube::Error::Api(status) if status.code == 429 || status.code >= 500 => {
                ClusterError::Busy {
                    code: status.code,
                    action: format!("{verb} {resource}"),
                    message: status.message.clone(),
                }
            }
            kube::Error::Api(status) => ClusterError::Api(format!(
                "{verb} {resource}: {} ({})",
                status.message, status.code
            )),
            kube::Error::HyperError(e) => ClusterError::Unreachable(e.to_string()),
            kube::Error::Service(e) => ClusterError::Unreachable(e.to_string()),
            other => ClusterError::Api(format!("{verb} {resource}: {other}")),
        }
    }
}

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
    /// kubectl's rules: `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`; the
    /// current context unless `--context`; its namespace unless `--namespace`.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let loaded = match kubeconfig {
            Some(path) => Kubeconfig::read_from(path)
                .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", path.display()))),
            None => Kubeconfig::read().map_err(|e| {
                ClusterError::Kubeconfig(format!("{e} (set --kubeconfig or KUBECONFIG)"))
            }),
        }?;
        Self::from_kubeconfig(loaded, context, namespace).await
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
    pub fn dynamic_in(
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
