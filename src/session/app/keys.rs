//! What each key does: pure state changes and effects, like the rest of `App::update`.
//! Which key means what comes from the one table in `keymap`.

use super::keymap::{self, Action};
use super::{App, Effect, Frozen, Key};
use crate::split::{DEFAULT_WINDOW, MAX_WINDOW, MIN_WINDOW};
use crate::verdict::RegimeCause;

const WINDOW_STEPS: [usize; 8] = [
    MIN_WINDOW,
    10,
    DEFAULT_WINDOW,
    50,
    100,
    200,
    500,
    MAX_WINDOW,
];

impl App {
    pub(super) fn key(&mut self, key: Key) -> Vec<Effect> {
        let action = keymap::action(key);
        if self.show_help && action != Some(Action::Quit) {
            self.show_help = false;
            return vec![];
        }
        // The list of routes takes the keys that move in it.
        if let Some(effects) = self.list_key(action) {
            return effects;
        }
        if self.show_steps && action == Some(Action::Back) {
            self.show_steps = false;
            return vec![];
        }
        match action {
            Some(Action::Quit) => vec![Effect::Quit],
            Some(Action::Help) => {
                self.show_help = true;
                vec![]
            }
            Some(Action::Freeze) => {
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
            Some(Action::Reset) => {
                self.reset();
                vec![]
            }
            Some(Action::Widen) => {
                let next = WINDOW_STEPS
                    .iter()
                    .copied()
                    .find(|w| *w > self.split.window())
                    .unwrap_or(MAX_WINDOW);
                self.split.set_window(next);
                vec![]
            }
            Some(Action::Narrow) => {
                let next = WINDOW_STEPS
                    .iter()
                    .rev()
                    .copied()
                    .find(|w| *w < self.split.window())
                    .unwrap_or(MIN_WINDOW);
                self.split.set_window(next);
                vec![]
            }
            Some(Action::TogglePatch) => self.toggle_patch(),
            Some(Action::Shot) => vec![Effect::Picture],
            Some(Action::Steps) => self.toggle_steps(),
            Some(Action::NextTheme) => vec![Effect::NextTheme],
            Some(Action::Back) => self.back_to_list(),
            Some(Action::Up | Action::Down | Action::Choose) => {
                self.notice = Some(
                    "↑/↓ and enter choose in the list of routes, which this namespace does not need"
                        .into(),
                );
                vec![]
            }
            None => {
                self.notice = Some(format!(
                    "{} does nothing here; ? lists the keys",
                    key_name(key)
                ));
                vec![]
            }
        }
    }

    fn reset(&mut self) {
        let weights: Vec<u32> = self
            .route
            .iter()
            .flat_map(|r| {
                r.backends
                    .iter()
                    .map(crate::route::Backend::weight_in_effect)
            })
            .collect();
        self.split = self.new_split(&weights, self.now);
        self.split
            .start_regime(RegimeCause::Reset, self.elapsed(self.now));
        self.markers.clear();
        self.forget_pending();
        self.errors = 0;
        self.unparsable = 0;
        self.started_at = self.now;
        self.frozen = None;
        self.notice = Some("counts reset".into());
    }
}

/// A key as the notice names it.
fn key_name(key: Key) -> String {
    match key {
        Key::Char(c) => format!("{c:?}"),
        Key::Space => "space".into(),
        Key::Esc => "esc".into(),
        Key::Enter => "enter".into(),
        Key::Up => "↑".into(),
        Key::Down => "↓".into(),
        Key::CtrlC => "ctrl-c".into(),
        Key::Other => "that key".into(),
    }
}
