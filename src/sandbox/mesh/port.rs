//! A Service port: what a VIP stands for and a waypoint routes.

/// A Service port as Envoy names its cluster and filter chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServicePort {
    pub namespace: String,
    pub service: String,
    pub port: u16,
}

impl ServicePort {
    pub fn host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.service, self.namespace)
    }

    /// `inbound-vip|9000|tcp|tcp-echo.ns.svc.cluster.local`: the waypoint's name for both
    /// the filter chain of a Service port and the cluster that reaches it.
    pub(crate) fn vip_name(&self) -> String {
        format!("inbound-vip|{}|tcp|{}", self.port, self.host())
    }
}
