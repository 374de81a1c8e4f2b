//! The floors of the house: every `crate::` path in `src/` (outside `#[cfg(test)]` modules)
//! must point to the same room or to a room on a lower floor, and no two files may import
//! each other, directly or round a loop. The README's "Architecture" section explains the
//! floors; this test keeps them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. Rooms on one floor do not import each other.
const FLOORS: &[&[&str]] = &[
    &["domain"],
    &["records"],
    &["store", "feeds", "config"],
    &["recommend"],
    &["loyalty"],
    &["model"],
    &["sync", "eval", "status", "outreach"],
    &["server", "experiment"],
    &["admin_auth"],
    &["admin"],
    &["web"],
    &["app"],
    &["cli"],
];

/// Imports allowed to run up or across, each with its reason. Keep this short: an entry
/// here is a debt the README's architecture section must justify.
const ALLOWED: &[(&str, &str, &str)] = &[];

fn floor(room: &str) -> Option<usize> {
    FLOORS.iter().position(|rooms| rooms.contains(&room))
}

/// A source file and the module path it defines (`web::admin::pages`; `[]` for lib.rs).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    text: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().with_extension("");
                let mut module: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module
                    .last()
                    .is_some_and(|m| m == "mod" || m == "lib" || m == "main")
                {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                files.push(SourceFile { path, module, text });
            }
        }
    }
    files.sort_by(|a, b| a.module.cmp(&b.module));
    // A file of a module declared under `#[cfg(test)]` (`#[cfg(test)] mod tests;`) is test
    // code, as an inline `#[cfg(test)] mod tests { … }` is: the library never compiles it.
    let test_only: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| {
            let lines: Vec<&str> = f.text.lines().map(str::trim).collect();
            lines
                .windows(2)
                .filter(|w| w[0] == "#[cfg(test)]")
                .filter_map(|w| {
                    let name = w[1].strip_prefix("pub ").unwrap_or(w[1]);
                    let name = name.strip_prefix("mod ")?.strip_suffix(';')?;
                    let mut module = f.module.clone();
                    module.push(name.to_string());
                    Some(module)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    files.retain(|f| !test_only.iter().any(|t| f.module.starts_with(t)));
    files
}

/// The code that is compiled into the library: `#[cfg(test)]` modules and items, and
/// comments, left out.
fn library_code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // Skip the item it guards: to the end of its braces, or its one line.
            let mut depth = 0i64;
            let mut j = i + 1;
            while j < lines.len() {
                depth += lines[j].matches('{').count() as i64 - lines[j].matches('}').count() as i64;
                j += 1;
                if depth <= 0 {
                    break;
                }
            }
            i = j;
            continue;
        }
        let code = lines[i].split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
        i += 1;
    }
    out
}

/// Every path named after `crate::`, braces expanded: `crate::{a::B, c}` gives `a::B` and `c`.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let start = from + at;
        from = start + "crate::".len();
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b == b'$' || b == b'_' || b.is_ascii_alphanumeric()) {
            continue;
        }
        let mut rest = &code[from..];
        expand(&mut rest, Vec::new(), &mut paths);
    }
    paths
}

fn ident(rest: &mut &str) -> Option<String> {
    let s = rest.trim_start();
    let len = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if len == 0 {
        return None;
    }
    let name = s[..len].to_string();
    *rest = &s[len..];
    Some(name)
}

/// Reads one path (with any brace groups) from `rest`, adding each full path to `out`.
fn expand(rest: &mut &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        let s = rest.trim_start();
        if let Some(inner) = s.strip_prefix('{') {
            *rest = inner;
            loop {
                expand(rest, path.clone(), out);
                let s = rest.trim_start();
                if let Some(after) = s.strip_prefix(',') {
                    *rest = after;
                    if let Some(after) = rest.trim_start().strip_prefix('}') {
                        *rest = after;
                        return;
                    }
                } else if let Some(after) = s.strip_prefix('}') {
                    *rest = after;
                    return;
                } else {
                    return;
                }
            }
        }
        match ident(rest) {
            Some(name) => path.push(name),
            None => break,
        }
        match rest.strip_prefix("::") {
            Some(after) => *rest = after,
            None => break,
        }
    }
    // `a as b` renames; the path is what came before.
    if !path.is_empty() {
        out.push(path);
    }
}

/// The longest module among `modules` that `path` starts with.
fn module_of<'a>(path: &[String], modules: &'a BTreeSet<Vec<String>>) -> Option<&'a Vec<String>> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
}

/// Each file's imports of other files: module → modules it names.
fn import_graph(files: &[SourceFile]) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    files
        .iter()
        .map(|f| {
            let targets = crate_paths(&library_code(&f.text))
                .iter()
                .filter_map(|p| module_of(p, &modules))
                .filter(|m| **m != f.module && !m.is_empty())
                .cloned()
                .collect();
            (f.module.clone(), targets)
        })
        .collect()
}

#[test]
fn every_room_is_on_a_floor() {
    let rooms: BTreeSet<String> = source_files()
        .into_iter()
        .filter_map(|f| f.module.first().cloned())
        .collect();
    let homeless: Vec<&String> = rooms.iter().filter(|r| floor(r).is_none()).collect();
    assert!(
        homeless.is_empty(),
        "modules {homeless:?} are on no floor: add each to FLOORS in tests/layers.rs and to the README's architecture section"
    );
}

#[test]
fn no_import_runs_up_or_across_the_floors() {
    let files = source_files();
    let graph = import_graph(&files);
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        let Some(room) = from.first() else { continue };
        for to in targets {
            let target = &to[0];
            if target == room {
                continue;
            }
            let (Some(a), Some(b)) = (floor(room), floor(target)) else {
                continue;
            };
            let allowed = ALLOWED
                .iter()
                .any(|(f, t, _)| *f == from.join("::") && *t == to.join("::"));
            if b >= a && !allowed {
                let path = files
                    .iter()
                    .find(|f| &f.module == from)
                    .unwrap()
                    .path
                    .display()
                    .to_string();
                wrong.push(format!(
                    "{path}: crate::{} is on floor {b}, {room} on floor {a}",
                    to.join("::")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or across the floors (move the code down, or pass it in from above):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_even_round_a_loop() {
    let graph = import_graph(&source_files());
    // Tarjan's strongly connected components, iteratively small enough to recurse.
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, (usize, usize)>,
        stack: Vec<&'a Vec<String>>,
        loops: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a Vec<String>) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.index[w].1.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                } else if self.stack.contains(&w) {
                    let low = self.index[w].0.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                }
            }
            let (i, low) = self.index[v];
            if i == low {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.join("::"));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.loops.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph: &graph,
        index: BTreeMap::new(),
        stack: Vec::new(),
        loops: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    assert!(
        walk.loops.is_empty(),
        "files importing each other round a loop (move what both need into a file below them): {:?}",
        walk.loops
    );
}

/// Where a store backend's own type may be named: in the store, and where the service and
/// the CLI open it (`app::store`; `cli::migrate` migrates a database). Everything else holds `SharedStore` or `&dyn ShopStore`,
/// so a backend chosen at start-up serves all of Laris.
const OPENS_THE_STORE: &[&str] = &["app::store", "cli::migrate"];

#[test]
fn only_the_store_and_where_it_is_opened_name_a_backend() {
    let mut wrong = Vec::new();
    for f in source_files() {
        let module = f.module.join("::");
        if f.module.first().is_some_and(|m| m == "store") || OPENS_THE_STORE.contains(&module.as_str()) {
            continue;
        }
        let code = library_code(&f.text);
        for p in crate_paths(&code) {
            if p.len() >= 2
                && p[0] == "store"
                && (p[1] == "Store" || p[1] == "sled_backend" || p[1] == "postgres")
            {
                wrong.push(format!("{}: crate::{}", f.path.display(), p.join("::")));
            }
        }
        if code.contains("sled::") {
            wrong.push(format!("{}: sled::", f.path.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "a backend named above the store (take `&dyn ShopStore` or `SharedStore`; only {OPENS_THE_STORE:?} opens a store):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_of_imports_sees_what_the_compiler_sees() {
    let code = library_code(
        "use crate::{domain::{ProductId, Slot}, records::Event};\n\
         use crate::store::Store as S; // crate::web::ignored\n\
         let x = crate::model::serve::answer(y);\n\
         macro_rules! m { () => { $crate::cli::run() } }\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::app::Application;\n}\n",
    );
    let paths: Vec<String> = crate_paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        paths,
        [
            "domain::ProductId",
            "domain::Slot",
            "records::Event",
            "store::Store",
            "model::serve::answer",
        ]
    );
}
