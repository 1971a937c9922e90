//! What each key does: pure state changes and effects, like the rest of `App::update`.

use super::{App, Effect, Frozen, Key, PatchState, WINDOW_STEPS};
use crate::split::{MAX_WINDOW, MIN_WINDOW, Split};

impl App {
    pub(super) fn key(&mut self, key: Key) -> Vec<Effect> {
        if self.show_help && !matches!(key, Key::CtrlC | Key::Char('q')) {
            self.show_help = false;
            return vec![];
        }
        match key {
            Key::Char('q') | Key::CtrlC => {
                self.quitting = true;
                vec![Effect::Quit]
            }
            Key::Char('?') => {
                self.show_help = true;
                vec![]
            }
            Key::Esc => vec![],
            Key::Space => {
                self.frozen = match self.frozen.take() {
                    Some(_) => None,
                    None => Some(Frozen {
                        split: self.split.clone(),
                        log: self.log.clone(),
                        at: self.now,
                    }),
                };
                vec![]
            }
            Key::Char('r') => {
                let weights: Vec<u32> = self
                    .route
                    .iter()
                    .flat_map(|r| r.backends.iter().map(|b| b.weight))
                    .collect();
                self.split = Split::new(&weights, self.split.window());
                self.markers.clear();
                self.errors = 0;
                self.unparsable = 0;
                self.started_at = self.now;
                self.frozen = None;
                self.notice = Some("counts reset".into());
                vec![]
            }
            Key::Char('+') | Key::Char('=') => {
                let next = WINDOW_STEPS
                    .iter()
                    .copied()
                    .find(|w| *w > self.split.window())
                    .unwrap_or(MAX_WINDOW);
                self.split.set_window(next);
                vec![]
            }
            Key::Char('-') | Key::Char('_') => {
                let next = WINDOW_STEPS
                    .iter()
                    .rev()
                    .copied()
                    .find(|w| *w < self.split.window())
                    .unwrap_or(MIN_WINDOW);
                self.split.set_window(next);
                vec![]
            }
            Key::Char('p') => self.toggle_patch(),
            _ => vec![],
        }
    }

    fn toggle_patch(&mut self) -> Vec<Effect> {
        if self.settings.read_only {
            self.notice = Some("read-only: patching is off (started with --read-only)".into());
            return vec![];
        }
        let Some(route) = self.route.clone() else {
            self.notice = Some("no route yet: nothing to patch".into());
            return vec![];
        };
        if self.info.waypoint.is_none() {
            self.notice =
                Some("no waypoint serves this namespace: the patch would select nothing".into());
            return vec![];
        }
        match self.patch {
            PatchState::Applying(_) | PatchState::Removing(_) => {
                self.notice = Some("a patch change is under way".into());
                vec![]
            }
            PatchState::On(_) => {
                self.patch = PatchState::Removing(self.now);
                vec![Effect::RemovePatch(route)]
            }
            _ => {
                self.patch = PatchState::Applying(self.now);
                vec![Effect::ApplyPatch(route)]
            }
        }
    }
}
