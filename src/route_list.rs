//! The weighted routes of a namespace as a list, for `splitscope routes` and the screen
//! that opens when a namespace has several: one row per rule with backends (kind, name,
//! parent, rule, weights), or the reason a route cannot be followed.

use serde::Serialize;

use crate::route::{Route, RouteKind, RouteRef, RulePick};

/// One row: a rule of a route, or a route that cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteRow {
    pub kind: &'static str,
    pub name: String,
    /// `Service tcp-echo:9000`, `Gateway edge/web`.
    pub parent: String,
    /// The rule, from 1, and how many the route has.
    pub rule: usize,
    pub rules: usize,
    /// Backend names and weights, in the rule's order.
    pub weights: Vec<(String, u32)>,
    /// Why the route cannot be followed, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip)]
    pub reference: RouteRef,
}

impl RouteRow {
    fn of(route: &Route) -> RouteRow {
        let mut parent = format!("{} {}", route.parent_kind.name(), route.parent);
        if route.parent_namespace != route.namespace {
            parent = format!(
                "{} {}/{}",
                route.parent_kind.name(),
                route.parent_namespace,
                route.parent
            );
        }
        if let Some(port) = route.parent_port {
            parent.push_str(&format!(":{port}"));
        }
        RouteRow {
            kind: route.kind.name(),
            name: route.name.clone(),
            parent,
            rule: route.rule + 1,
            rules: route.rules,
            weights: route
                .backends
                .iter()
                .map(|b| (b.name.clone(), b.weight))
                .collect(),
            problem: None,
            reference: RouteRef {
                kind: Some(route.kind),
                name: route.name.clone(),
            },
        }
    }

    /// `tcp-echo-v1=90 tcp-echo-v2=10`.
    pub fn weights_text(&self) -> String {
        self.weights
            .iter()
            .map(|(n, w)| format!("{n}={w}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The routes to choose from, and which is chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteList {
    pub rows: Vec<RouteRow>,
    pub selected: usize,
    /// Shown, rather than a route's screen.
    pub open: bool,
}

/// Every rule with backends of every route, in the order given; a route none of whose
/// rules can be read is one row that says why.
pub fn rows(routes: &[(RouteKind, serde_json::Value)]) -> Vec<RouteRow> {
    let mut out = Vec::new();
    for (kind, object) in routes {
        let name = crate::json::str_at(object, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let count = object
            .pointer("/spec/rules")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        let mut first_error = None;
        let before = out.len();
        for rule in 1..=count.max(1) {
            match Route::read(
                object,
                &RulePick {
                    rule: Some(rule),
                    path: None,
                },
            ) {
                Ok(route) => out.push(RouteRow::of(&route)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if out.len() == before {
            out.push(RouteRow {
                kind: kind.name(),
                name: name.clone(),
                parent: String::new(),
                rule: 0,
                rules: count,
                weights: Vec::new(),
                problem: first_error.map(|e| e.to_string()),
                reference: RouteRef {
                    kind: Some(*kind),
                    name,
                },
            });
        }
    }
    out
}

/// The rows as a table for a terminal, its columns aligned.
pub fn table(rows: &[RouteRow]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.reference.to_string(),
                r.parent.clone(),
                if r.rule == 0 {
                    "-".into()
                } else {
                    format!("{}/{}", r.rule, r.rules)
                },
                match &r.problem {
                    Some(why) => format!("cannot follow: {why}"),
                    None => r.weights_text(),
                },
            ]
        })
        .collect();
    let head = ["ROUTE", "PARENT", "RULE", "WEIGHTS"];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |c: [&str; 4]| {
        format!(
            "{:<w0$}   {:<w1$}   {:<w2$}   {}",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
        .trim_end()
        .to_string()
    };
    let mut out = vec![line(head)];
    out.extend(
        cells
            .iter()
            .map(|c| line([c[0].as_str(), c[1].as_str(), c[2].as_str(), c[3].as_str()])),
    );
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_row_per_rule_and_one_for_a_route_that_cannot_be_followed() {
        let http = json!({"kind": "HTTPRoute", "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"parentRefs": [{"name": "edge", "namespace": "gw"}], "rules": [
                {"backendRefs": [{"name": "a", "port": 80, "weight": 9}, {"name": "b", "port": 80, "weight": 1}]},
                {"backendRefs": [{"name": "c", "port": 80}]}]}});
        let broken = json!({"kind": "TCPRoute", "metadata": {"name": "zero", "namespace": "ns"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "s"}],
                     "rules": [{"backendRefs": [{"name": "a", "port": 1, "weight": 0}]}]}});
        let rows = rows(&[(RouteKind::Http, http), (RouteKind::Tcp, broken)]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].parent, "Gateway gw/edge");
        assert_eq!((rows[1].rule, rows[1].rules), (2, 2));
        assert!(rows[2].problem.as_deref().unwrap().contains("weight 0"));
        let table = table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ROUTE"), "{table}");
        assert!(
            lines[1].starts_with("httproute/web   Gateway gw/edge   1/2    a=9 b=1"),
            "{table}"
        );
        assert!(lines[3].contains("cannot follow:"), "{table}");
    }
}
