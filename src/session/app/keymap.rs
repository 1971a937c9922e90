//! The one table of key bindings: the keys do what it says, and the footer and the help
//! overlay are written from it.

use super::Key;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    TogglePatch,
    Freeze,
    Reset,
    Widen,
    Narrow,
    NextTheme,
    Shot,
    Help,
    Quit,
    /// Opens or closes the steps of the rollout behind the route.
    Steps,
    /// Closes an overlay; from a route chosen in the list, back to the list.
    Back,
    /// Moves in the route list.
    Up,
    Down,
    /// Watches the route chosen in the list.
    Choose,
}

/// One row of the table: the keys, how the footer and help name them, and what they do.
pub(crate) struct Binding {
    pub keys: &'static [(Key, Action)],
    /// How the footer names the keys, and the word beside them; None keeps it out.
    pub footer: Option<(&'static str, &'static str)>,
    /// How help names the keys, and what it says they do; None keeps it out.
    pub help: Option<(&'static str, &'static str)>,
}

pub(crate) const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(Key::Char('p'), Action::TogglePatch)],
        footer: Some(("p", "patch")),
        help: Some(("p", "put the EnvoyFilter workaround on, or take it off")),
    },
    Binding {
        keys: &[(Key::Space, Action::Freeze)],
        footer: Some(("space", "freeze")),
        help: Some(("space", "freeze the display (counting goes on)")),
    },
    Binding {
        keys: &[(Key::Char('r'), Action::Reset)],
        footer: Some(("r", "reset")),
        help: Some(("r", "reset the counts")),
    },
    Binding {
        keys: &[
            (Key::Char('+'), Action::Widen),
            (Key::Char('='), Action::Widen),
            (Key::Char('-'), Action::Narrow),
            (Key::Char('_'), Action::Narrow),
        ],
        footer: Some(("+/-", "window")),
        help: Some(("+ / -", "widen or narrow the sliding window")),
    },
    Binding {
        keys: &[(Key::Char('t'), Action::NextTheme)],
        footer: Some(("t", "theme")),
        help: Some(("t", "the next theme (the notice names it)")),
    },
    Binding {
        keys: &[(Key::Char('s'), Action::Shot)],
        footer: Some(("s", "shot")),
        help: Some(("s", "save a picture of the screen (--shots-dir)")),
    },
    Binding {
        keys: &[(Key::Char('o'), Action::Steps)],
        footer: None,
        help: Some((
            "o",
            "the steps of the rollout behind the route; o or esc closes them",
        )),
    },
    Binding {
        keys: &[(Key::Char('?'), Action::Help)],
        footer: Some(("?", "help")),
        help: Some(("?", "this help; any key closes it")),
    },
    Binding {
        keys: &[(Key::Char('q'), Action::Quit), (Key::CtrlC, Action::Quit)],
        footer: Some(("q", "quit")),
        help: Some(("q", "quit (the patch stays as you left it)")),
    },
    Binding {
        keys: &[(Key::Up, Action::Up), (Key::Char('k'), Action::Up)],
        footer: None,
        help: Some(("↑↓ k j", "move in the list of routes; enter watches one")),
    },
    Binding {
        keys: &[(Key::Down, Action::Down), (Key::Char('j'), Action::Down)],
        footer: None,
        help: None,
    },
    Binding {
        keys: &[(Key::Enter, Action::Choose)],
        footer: None,
        help: None,
    },
    Binding {
        keys: &[(Key::Esc, Action::Back)],
        footer: None,
        help: Some(("esc", "back to the list of routes, where there is one")),
    },
];

/// What a key does, if anything.
pub fn action(key: Key) -> Option<Action> {
    BINDINGS
        .iter()
        .flat_map(|b| b.keys.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, a)| *a)
}

/// The footer's word for a binding: the freeze key reads "thaw" while frozen.
pub(crate) fn footer_word(binding: &Binding, frozen: bool) -> Option<(&'static str, &'static str)> {
    let (keys, word) = binding.footer?;
    let thaws = frozen && binding.keys.iter().any(|(_, a)| *a == Action::Freeze);
    Some((keys, if thaws { "thaw" } else { word }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_action() {
        let mut seen = Vec::new();
        for (key, _) in BINDINGS.iter().flat_map(|b| b.keys.iter()) {
            assert!(!seen.contains(key), "{key:?} is bound twice");
            seen.push(*key);
        }
        assert_eq!(action(Key::Char('p')), Some(Action::TogglePatch));
        assert_eq!(action(Key::Char('x')), None);
    }
}
