//! What a run leaves behind, said once the screen is gone.

use super::{App, PatchState};

/// Whether the run left the workaround in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchLeft {
    /// Our EnvoyFilter stays applied (or was being applied when the run ended).
    On {
        name: String,
        route: String,
    },
    Off,
}

/// How a run ended: the patch, and what was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub namespace: String,
    pub patch: PatchLeft,
    pub samples: u64,
    pub errors: u64,
    pub unparsable: u64,
    /// The verdict when the run ended.
    pub verdict: crate::verdict::Verdict,
    /// A replay changes nothing in a cluster: its report says what it played.
    pub replay: bool,
    /// The signal that ended the run: the exit code is 128 + it.
    pub signal: Option<i32>,
}

impl RunReport {
    /// What to print after the screen is gone.
    pub fn message(&self) -> String {
        let ns = &self.namespace;
        if self.replay {
            return format!(
                "Replayed {} samples from {ns}; the verdict was {}.",
                self.samples,
                self.verdict.word()
            );
        }
        match &self.patch {
            PatchLeft::On { name, route } => format!(
                "The patch {name} stays applied in namespace {ns}. Remove it with:\n  splitscope patch remove -n {ns} --route {route}"
            ),
            PatchLeft::Off => "No splitscope patch is applied.".to_string(),
        }
    }
}

impl App {
    pub fn report(&self) -> RunReport {
        let patch = match (&self.patch, &self.route) {
            _ if self.settings.replay.is_some() => PatchLeft::Off,
            (PatchState::On(_) | PatchState::Applying(_), Some(route)) => PatchLeft::On {
                name: crate::patch::name_for(route),
                route: route.name.clone(),
            },
            _ => PatchLeft::Off,
        };
        RunReport {
            namespace: self.settings.namespace.clone(),
            patch,
            samples: self.split.total(),
            errors: self.errors,
            unparsable: self.unparsable,
            verdict: self.split.verdict(),
            replay: self.settings.replay.is_some(),
            signal: self.signal,
        }
    }

    /// What to print after the screen is gone.
    pub fn exit_message(&self) -> String {
        self.report().message()
    }
}
