//! The import rules of ARCHITECTURE.md, checked on the source: no file but the binary imports
//! `app`, `db/` imports no HTTP code, and no two files import each other, directly or round a loop.
//! Imports are read from `crate::…` and `super::…` paths outside `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`meetings::store`) → the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let joined = parts.join("::");
    match joined.as_str() {
        "lib" | "main" => "crate".to_string(),
        _ => joined.strip_suffix("::mod").unwrap_or(&joined).to_string(),
    }
}

/// The paths a piece of source names after `prefix` (`crate::` or `super::`), with `{a, b::c}`
/// groups expanded one level: `crate::x::{y, z}` gives `x::y` and `x::z`.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let base = rest[..len].trim_end_matches(':').to_string();
        if rest[len..].starts_with('{') {
            let end = rest[len..].find('}').map_or(rest.len(), |e| len + e);
            for item in rest[len + 1..end].split([',', '{', ' ', '\n']) {
                let item = item.trim().split("::").next().unwrap_or("");
                if !item.is_empty() && item != "self" {
                    found.push(if base.is_empty() { item.to_string() } else { format!("{base}::{item}") });
                }
            }
        }
        if !base.is_empty() {
            found.push(base);
        }
    }
    found
}

fn resolve(modules: &BTreeSet<String>, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains(m))
}

fn import_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("read source");
        let text = text.split("#[cfg(test)]\nmod ").next().unwrap_or("");
        let mut imports = BTreeSet::new();
        for path in paths_after(text, "crate::") {
            imports.extend(resolve(&modules, &path));
        }
        // `super::` from `a::b` (whether a/b.rs or a/b/mod.rs) means `a`; from `a` the crate root.
        let parent = module.rsplit_once("::").map(|(p, _)| p);
        for path in paths_after(text, "super::") {
            let full = match parent {
                Some(parent) => format!("{parent}::{path}"),
                None => path,
            };
            imports.extend(resolve(&modules, &full));
        }
        imports.remove(&module);
        graph.insert(module, imports);
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(w: &mut Walk<'g>, v: &'g str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        for next in w.graph.get(v).into_iter().flatten() {
            let next = next.as_str();
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v, low);
            } else if w.stack.contains(&next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let at = w.stack.iter().rposition(|m| *m == v).unwrap_or(0);
            let component: Vec<String> = w.stack.drain(at..).map(str::to_string).collect();
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let mut walk = Walk { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for module in graph.keys() {
        if !walk.index.contains_key(module.as_str()) {
            visit(&mut walk, module);
        }
    }
    walk.found
}

#[test]
fn the_import_graph_keeps_the_layering() {
    let graph = import_graph();
    assert!(graph.len() > 50 && graph.contains_key("partners::store"), "read the tree: {:?}", graph.keys());
    assert!(graph["partners::api"].contains("partners::store"), "imports are read: {:?}", graph["partners::api"]);

    let import_app: Vec<&String> =
        graph.iter().filter(|(m, deps)| m.as_str() != "crate" && deps.contains("app")).map(|(m, _)| m).collect();
    assert!(import_app.is_empty(), "only the binary imports app: {import_app:?}");

    let db_to_http: Vec<(&String, Vec<&String>)> = graph
        .iter()
        .filter(|(m, _)| m.as_str() == "db" || m.starts_with("db::"))
        .map(|(m, deps)| (m, deps.iter().filter(|d| d.as_str() == "http" || d.starts_with("http::")).collect()))
        .filter(|(_, http): &(_, Vec<_>)| !http.is_empty())
        .collect();
    assert!(db_to_http.is_empty(), "db/ imports no HTTP code: {db_to_http:?}");

    let found = cycles(&graph);
    assert!(found.is_empty(), "no import cycles: {found:?}");
}

#[test]
fn the_cycle_finder_finds_a_loop() {
    let graph: Graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
        .into_iter()
        .map(|(m, deps)| (m.to_string(), deps.into_iter().map(str::to_string).collect()))
        .collect();
    let found = cycles(&graph);
    assert_eq!(found.len(), 1);
    let mut component = found[0].clone();
    component.sort();
    assert_eq!(component, ["a", "b", "c"]);
    assert_eq!(
        paths_after("use crate::db::{self, like_pattern, DbConn};", "crate::"),
        ["db::like_pattern", "db::DbConn", "db"]
    );
}
