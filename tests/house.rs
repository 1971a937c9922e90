//! House rules, read from the source itself: no import cycles between files in src/ nor
//! between folders, few rules set aside, and a map (ARCHITECTURE.md) that names only what
//! exists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

type Module = Vec<String>;

/// Every .rs file under src/ but main.rs, by module path (`sandbox::mesh::dns`).
fn modules() -> BTreeMap<Module, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !rel.ends_with(".rs") || rel == "main.rs" {
                continue;
            }
            let mut parts: Module = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The code of a file without comments, string contents and its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text,
    };
    let comments = Regex::new(r"(?m)//[^\n]*$").unwrap();
    let strings = Regex::new(r#""(\\.|[^"\\])*""#).unwrap();
    let text = comments.replace_all(text, "");
    strings.replace_all(&text, "\"\"").into_owned()
}

/// `a::{b, c::{d, self}}` -> `a::b`, `a::c::d`, `a::c`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let (mut items, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .iter()
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .flat_map(expand)
        .map(|e| {
            if e == "self" {
                prefix.trim_end_matches(':').to_string()
            } else {
                format!("{prefix}{e}")
            }
        })
        .collect()
}

/// The file a path written in module `at` reaches, if it reaches one of ours.
fn resolve(
    at: &Module,
    path: &str,
    children: &BTreeSet<String>,
    all: &BTreeSet<Module>,
) -> Option<Module> {
    let segments: Vec<&str> = path
        .split("::")
        .map(|s| s.split(" as ").next().unwrap_or(s).trim())
        .filter(|s| !s.is_empty())
        .collect();
    let (mut module, rest): (Module, &[&str]) = match segments.as_slice() {
        ["crate", rest @ ..] => (vec![], rest),
        ["self", rest @ ..] => (at.clone(), rest),
        ["super", ..] => {
            let ups = segments.iter().take_while(|s| **s == "super").count();
            (
                at[..at.len().saturating_sub(ups)].to_vec(),
                &segments[ups..],
            )
        }
        [first, ..] if children.contains(*first) => (at.clone(), &segments[..]),
        _ => return None,
    };
    for segment in rest {
        let mut next = module.clone();
        next.push(segment.to_string());
        if !all.contains(&next) {
            break;
        }
        module = next;
    }
    Some(module)
}

fn imports() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let all: BTreeSet<Module> = modules.keys().cloned().collect();
    let uses = Regex::new(r"\buse\s+([^;]+);").unwrap();
    let paths =
        Regex::new(r"\b((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[A-Za-z0-9_]+)+)").unwrap();
    let mut graph = BTreeMap::new();
    for (module, path) in &modules {
        let code = code(path);
        let children: BTreeSet<String> = all
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .filter_map(|m| m.last().cloned())
            .collect();
        let mut deps = BTreeSet::new();
        let written = uses
            .captures_iter(&code)
            .flat_map(|c| expand(&c[1]))
            .chain(paths.captures_iter(&code).map(|c| c[1].to_string()));
        for p in written {
            if let Some(dep) = resolve(module, &p, &children, &all)
                && dep != *module
            {
                deps.insert(dep);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// One cycle in the graph, if there is any.
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        stack: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(i) = stack.iter().position(|m| m == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(dep, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_file_in_src_imports_in_a_circle() {
    let graph = imports();
    assert!(
        graph.len() > 50,
        "the source was read: {} files",
        graph.len()
    );
    // The reader sees real edges: the controllers use the storage room.
    let workloads: Module = ["sandbox", "controllers", "workloads"]
        .map(String::from)
        .to_vec();
    let storage: Module = ["sandbox", "storage"].map(String::from).to_vec();
    assert!(
        graph[&workloads].iter().any(|m| m.starts_with(&storage)),
        "{:?}",
        graph[&workloads]
    );
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle.iter().map(name).collect();
        panic!("an import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let mut graph = BTreeMap::new();
    graph.insert(m("a"), BTreeSet::from([m("b")]));
    graph.insert(m("b"), BTreeSet::from([m("c")]));
    graph.insert(m("c"), BTreeSet::from([m("a")]));
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(4));
    graph.insert(m("c"), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    assert_eq!(
        expand("super::{a, b::{c, self}}"),
        vec!["super::a", "super::b::c", "super::b"]
    );
}

/// The graph seen from `folder`: each module below it stands for the child of `folder`
/// it is in, and only edges between two such children remain.
fn between_children(
    graph: &BTreeMap<Module, BTreeSet<Module>>,
    folder: &[String],
) -> BTreeMap<Module, BTreeSet<Module>> {
    let child = |m: &Module| -> Option<Module> {
        (m.len() > folder.len() && m.starts_with(folder)).then(|| m[..=folder.len()].to_vec())
    };
    let mut out: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, deps) in graph {
        let Some(a) = child(from) else { continue };
        for dep in deps {
            if let Some(b) = child(dep).filter(|b| *b != a) {
                out.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    out
}

#[test]
fn no_folder_imports_a_folder_that_imports_it_back() {
    let graph = imports();
    // Every folder of src/ (the crate's root too), its children seen as one each.
    let folders: BTreeSet<Module> = graph
        .keys()
        .flat_map(|m| (0..m.len()).map(|n| m[..n].to_vec()))
        .collect();
    assert!(
        folders.contains(&vec!["sandbox".to_string()]),
        "{folders:?}"
    );
    for folder in &folders {
        if let Some(cycle) = find_cycle(&between_children(&graph, folder)) {
            let names: Vec<String> = cycle.iter().map(name).collect();
            panic!("folders import each other: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_folder_view_sees_folders() {
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let mut graph = BTreeMap::new();
    graph.insert(m("a::x"), BTreeSet::from([m("b::y")]));
    graph.insert(m("b::z"), BTreeSet::from([m("a")]));
    let top = between_children(&graph, &[]);
    assert_eq!(find_cycle(&top).map(|c| c.len()), Some(3));
    assert!(between_children(&graph, &["a".to_string()]).is_empty());
}

/// The `#[expect]`s in src/ outside tests: each one a rule set aside.
fn expectations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in modules().values() {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("#[expect("))
        {
            out.push((path.display().to_string(), line.trim().to_string()));
        }
    }
    out
}

#[test]
fn few_rules_are_set_aside() {
    // Function length is clippy's `too_many_lines` (80, clippy.toml), denied in CI; a
    // long function must say why with an `#[expect]`, and two at most may.
    let found = expectations();
    assert!(
        found.len() <= 2,
        "more than two #[expect]s in src/; shorten the code instead: {found:?}"
    );
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(manifest.contains("too_many_lines"), "the lint is on");
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("clippy.toml")).unwrap();
    assert!(config.contains("too-many-lines-threshold = 80"), "{config}");
}

#[test]
fn the_map_names_only_what_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let paths = Regex::new(r"src/[A-Za-z0-9_/.-]+").unwrap();
    let named: BTreeSet<&str> = paths
        .find_iter(&map)
        .map(|m| m.as_str().trim_end_matches(['.', ',', ':', ';', ')']))
        .collect();
    assert!(named.len() > 20, "the map names the code: {named:?}");
    let gone: Vec<&&str> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        gone.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {gone:?}"
    );
    // Every folder of src/ has its line.
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let folder = format!("src/{}/", path.file_name().unwrap().to_string_lossy());
            assert!(
                map.contains(&folder),
                "ARCHITECTURE.md says nothing of {folder}"
            );
        }
    }
}

/// The map's "uses" column is what each folder imports, no more and no less.
#[test]
fn the_map_says_what_each_folder_uses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let graph = imports();
    let row = Regex::new(r"(?m)^\| `src/([a-z_]+)/` \|.*\| ([a-z_, ]+) \|$").unwrap();
    let mut rows = 0;
    let mut wrong = Vec::new();
    for caps in row.captures_iter(&map) {
        rows += 1;
        let folder = &caps[1];
        let said: BTreeSet<String> = caps[2]
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| s != "nothing")
            .collect();
        let used: BTreeSet<String> = graph
            .iter()
            .filter(|(from, _)| from.first().is_some_and(|f| f == folder))
            .flat_map(|(_, to)| to.iter())
            .filter_map(|t| t.first().cloned())
            .filter(|t| t != folder)
            .collect();
        if said != used {
            wrong.push(format!("{folder}: the map says {said:?}, it uses {used:?}"));
        }
    }
    assert!(rows >= 10, "the map's folder table: {rows} rows");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
