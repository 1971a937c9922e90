//! The canary rollout behind a route: an Argo Rollouts `Rollout` whose Gateway API
//! plugin names the route, or a Flagger `Canary` (Gateway API provider) that owns it.
//! Read from the objects as the controllers keep them, pure; the follower reads and
//! watches them, the app ties each weight change of the route to its step.

pub mod argo;
mod duration;
pub mod flagger;
mod model;

use serde_json::Value;

pub use duration::parse_go_duration;
pub use model::{Controller, End, Rollout, RouteName, Step};

/// The rollout behind `route` among `objects` of one controller's kind, if one
/// names it.
pub fn behind(
    controller: Controller,
    objects: &[Value],
    kind: &str,
    name: &str,
    namespace: &str,
) -> Option<Rollout> {
    objects.iter().find_map(|obj| {
        let names = match controller {
            Controller::Argo => argo::routes(obj),
            Controller::Flagger => flagger::routes(obj),
        };
        names
            .iter()
            .any(|r| r.kind == kind && r.name == name && r.namespace == namespace)
            .then(|| match controller {
                Controller::Argo => argo::read(obj),
                Controller::Flagger => flagger::read(obj),
            })
            .flatten()
    })
}
