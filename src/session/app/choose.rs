//! The list of routes the screen opens on when the namespace has several and none is
//! named: ↑/↓ move, Enter watches the one chosen, Esc goes back to the list.

use super::keymap::Action;
use super::{App, Effect, LineKind, ProbeState};
use crate::cluster::discover::RouteQuery;
use crate::route::RulePick;
use crate::route_list::{RouteList, RouteRow};

impl App {
    /// The cluster listed the routes: a screen with no route yet opens the list.
    pub(super) fn routes_listed(&mut self, rows: Vec<RouteRow>) {
        // Only the first list opens by itself: a later one may be a read from before
        // a choice reached the follower, and must not take the choice back.
        let first = self.routes.is_none();
        let list = self.routes.get_or_insert_with(RouteList::default);
        // The one chosen stays chosen when the list is read again.
        let chosen = list
            .rows
            .get(list.selected)
            .map(|r| (r.reference.clone(), r.rule));
        list.selected = chosen
            .and_then(|(reference, rule)| {
                rows.iter()
                    .position(|r| r.reference == reference && r.rule == rule)
            })
            .unwrap_or(0);
        list.rows = rows;
        if first && self.route.is_none() {
            list.open = true;
        }
    }

    /// Whether the list of routes is what the screen shows.
    pub fn choosing(&self) -> Option<&RouteList> {
        self.routes.as_ref().filter(|l| l.open)
    }

    /// A key while the list is shown: it moves, chooses, or (if it acts on a route)
    /// says there is none yet. None: the key does what it does anywhere.
    pub(super) fn list_key(&mut self, action: Option<Action>) -> Option<Vec<Effect>> {
        self.choosing()?;
        match action {
            Some(Action::Up) => self.move_choice(false),
            Some(Action::Down) => self.move_choice(true),
            Some(Action::Choose) => return Some(self.choose()),
            Some(Action::Quit | Action::Help | Action::Shot | Action::NextTheme) => return None,
            Some(Action::Back) => {
                self.notice =
                    Some("this is the list of routes: enter watches the one chosen".into());
            }
            _ => self.notice = Some("choose a route first: ↑/↓ and enter".into()),
        }
        Some(vec![])
    }

    fn move_choice(&mut self, down: bool) {
        if let Some(list) = self.routes.as_mut().filter(|l| l.open) {
            let last = list.rows.len().saturating_sub(1);
            list.selected = if down {
                (list.selected + 1).min(last)
            } else {
                list.selected.saturating_sub(1)
            };
        }
    }

    /// Enter: watch the route chosen.
    fn choose(&mut self) -> Vec<Effect> {
        let Some(list) = self.routes.as_mut().filter(|l| l.open) else {
            return vec![];
        };
        let Some(row) = list.rows.get(list.selected).cloned() else {
            return vec![];
        };
        if let Some(why) = &row.problem {
            self.notice = Some(format!("{} cannot be followed: {why}", row.reference));
            return vec![];
        }
        list.open = false;
        self.notice = Some(format!(
            "watching {} rule {} (esc: back to the list)",
            row.reference, row.rule
        ));
        vec![Effect::Follow(RouteQuery {
            name: Some(row.reference),
            pick: RulePick {
                rule: Some(row.rule),
                path: self.settings.probe.path.clone(),
            },
        })]
    }

    /// Esc on a route chosen from the list: leave it, and show the list again.
    pub(super) fn back_to_list(&mut self) -> Vec<Effect> {
        let Some(list) = self
            .routes
            .as_mut()
            .filter(|l| !l.open && !l.rows.is_empty())
        else {
            self.notice = Some(
                "esc goes back to the list of routes, and this screen did not come from one".into(),
            );
            return vec![];
        };
        list.open = true;
        self.route = None;
        self.route_error = None;
        self.probe_target = None;
        self.request = None;
        self.probe = ProbeState::Connecting;
        self.forget_pending();
        self.markers.clear();
        self.split = self.new_split(&[], self.now);
        self.push_log(
            self.now,
            LineKind::Note,
            "back to the list of routes".into(),
        );
        vec![
            Effect::StopProbe,
            Effect::Follow(RouteQuery {
                name: None,
                pick: RulePick {
                    rule: None,
                    path: self.settings.probe.path.clone(),
                },
            }),
        ]
    }
}
