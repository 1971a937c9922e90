//! The resource types the sandbox serves: one typed constant each, so a typo is a
//! compile error rather than a look-up that silently finds another type.

/// One served resource type. Objects are stored once per type, whatever version a
/// client speaks; `versions` lists every version it is served as, storage first.
#[derive(Debug)]
pub struct Resource {
    pub group: &'static str,
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
}

pub(crate) static NAMESPACES: Resource = Resource {
    group: "",
    versions: &["v1"],
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    categories: &[],
};

pub(crate) static PODS: Resource = Resource {
    group: "",
    versions: &["v1"],
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    categories: &["all"],
};

pub(crate) static SERVICES: Resource = Resource {
    group: "",
    versions: &["v1"],
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    short_names: &["svc"],
    categories: &["all"],
};

pub static SERVICEACCOUNTS: Resource = Resource {
    group: "",
    versions: &["v1"],
    plural: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    short_names: &["sa"],
    categories: &[],
};

pub(crate) static DEPLOYMENTS: Resource = Resource {
    group: "apps",
    versions: &["v1"],
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    namespaced: true,
    short_names: &["deploy"],
    categories: &["all"],
};

pub(crate) static REPLICASETS: Resource = Resource {
    group: "apps",
    versions: &["v1"],
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    namespaced: true,
    short_names: &["rs"],
    categories: &["all"],
};

pub(crate) static GATEWAYS: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1", "v1beta1"],
    plural: "gateways",
    singular: "gateway",
    kind: "Gateway",
    namespaced: true,
    short_names: &["gtw"],
    categories: &["gateway-api"],
};

pub static TCPROUTES: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1alpha2", "v1"],
    plural: "tcproutes",
    singular: "tcproute",
    kind: "TCPRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
};

pub static HTTPROUTES: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1", "v1beta1"],
    plural: "httproutes",
    singular: "httproute",
    kind: "HTTPRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
};

pub static GRPCROUTES: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1"],
    plural: "grpcroutes",
    singular: "grpcroute",
    kind: "GRPCRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
};

pub static TLSROUTES: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1", "v1alpha2", "v1alpha3"],
    plural: "tlsroutes",
    singular: "tlsroute",
    kind: "TLSRoute",
    namespaced: true,
    short_names: &[],
    categories: &["gateway-api"],
};

pub static REFERENCEGRANTS: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1beta1", "v1"],
    plural: "referencegrants",
    singular: "referencegrant",
    kind: "ReferenceGrant",
    namespaced: true,
    short_names: &["refgrant"],
    categories: &["gateway-api"],
};

/// Every route kind with weighted backends.
pub(crate) static ROUTES: [&Resource; 4] = [&TCPROUTES, &HTTPROUTES, &GRPCROUTES, &TLSROUTES];

pub(crate) static ENVOYFILTERS: Resource = Resource {
    group: "networking.istio.io",
    versions: &["v1alpha3"],
    plural: "envoyfilters",
    singular: "envoyfilter",
    kind: "EnvoyFilter",
    namespaced: true,
    short_names: &[],
    categories: &["istio-io", "networking-istio-io"],
};

pub(crate) static GATEWAYCLASSES: Resource = Resource {
    group: "gateway.networking.k8s.io",
    versions: &["v1", "v1beta1"],
    plural: "gatewayclasses",
    singular: "gatewayclass",
    kind: "GatewayClass",
    namespaced: false,
    short_names: &["gc"],
    categories: &["gateway-api"],
};

pub(crate) static MUTATINGWEBHOOKCONFIGURATIONS: Resource = Resource {
    group: "admissionregistration.k8s.io",
    versions: &["v1"],
    plural: "mutatingwebhookconfigurations",
    singular: "mutatingwebhookconfiguration",
    kind: "MutatingWebhookConfiguration",
    namespaced: false,
    short_names: &[],
    categories: &["api-extensions"],
};

/// Argo Rollouts' canary (and blue-green) workload, as its CRD names it.
pub static ROLLOUTS: Resource = Resource {
    group: "argoproj.io",
    versions: &["v1alpha1"],
    plural: "rollouts",
    singular: "rollout",
    kind: "Rollout",
    namespaced: true,
    short_names: &["ro"],
    categories: &[],
};

/// Argo Rollouts' analysis templates: where a `job` provider runs `splitscope check`.
pub static ANALYSISTEMPLATES: Resource = Resource {
    group: "argoproj.io",
    versions: &["v1alpha1"],
    plural: "analysistemplates",
    singular: "analysistemplate",
    kind: "AnalysisTemplate",
    namespaced: true,
    short_names: &["at"],
    categories: &[],
};

/// Flagger's canary, as its CRD names it.
pub static CANARIES: Resource = Resource {
    group: "flagger.app",
    versions: &["v1beta1"],
    plural: "canaries",
    singular: "canary",
    kind: "Canary",
    namespaced: true,
    short_names: &[],
    categories: &["all"],
};

/// Every served type, in the order discovery lists them.
pub(crate) static RESOURCES: [&Resource; 18] = [
    &NAMESPACES,
    &PODS,
    &SERVICES,
    &SERVICEACCOUNTS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &GATEWAYS,
    &GATEWAYCLASSES,
    &TCPROUTES,
    &HTTPROUTES,
    &GRPCROUTES,
    &TLSROUTES,
    &REFERENCEGRANTS,
    &ENVOYFILTERS,
    &MUTATINGWEBHOOKCONFIGURATIONS,
    &ROLLOUTS,
    &ANALYSISTEMPLATES,
    &CANARIES,
];

/// The plural of every served type, as RBAC names them.
pub fn served_plurals() -> impl Iterator<Item = &'static str> {
    RESOURCES.iter().map(|r| r.plural)
}

/// Finds the resource a request names by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural && r.versions.contains(&version))
        .copied()
}

pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

impl Resource {
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// The key objects of this type are stored under, independent of version.
    pub fn key(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}
