//! The shape of the web crate, checked from its source: an audience (`portal`, `accounts`, `citizen`, `desk`,
//! `admin`) imports only the shared layer and itself, the shared layer imports no audience, and no module imports
//! another that imports it back (directly or around a circle). See `docs/architecture.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const AUDIENCES: &[&str] = &[
    "portal", "accounts", "citizen", "desk", "admin", "gateway", "newsroom", "api",
];
/// Shared modules re-exported at the crate root under their short names (`crate::error` is `shared::error`).
const SHARED_AT_ROOT: &[&str] = &[
    "answers",
    "assets",
    "audit",
    "auth",
    "background",
    "catalogue",
    "csrf",
    "dossiers",
    "error",
    "files",
    "frame",
    "guard",
    "health",
    "input",
    "layout",
    "dossier_lookup",
    "misses",
    "outage",
    "payments",
    "postal",
    "problem",
    "receiving",
    "seals",
    "security",
    "session",
    "slips",
    "steps",
    "urls",
    "viewer",
    "withdrawal",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `desk/reception.rs` → `desk::reception`; `shared/mod.rs` → `shared`; `lib.rs` → `` (the root).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod" && p != "lib")
        .collect();
    parts.join("::")
}

/// Every `crate::a::b…` path the source names, with `use crate::{…}` groups expanded (nested groups included).
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if rest.starts_with('{') {
            // a group: take its balanced text and expand it
            let mut depth = 0;
            let mut end = 0;
            for (j, ch) in rest.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            expand("", &rest[1..end], &mut out);
            rest = &rest[end..];
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out
}

fn expand(prefix: &str, group: &str, out: &mut Vec<String>) {
    let mut depth = 0;
    let mut item = String::new();
    let mut items = Vec::new();
    for ch in group.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            items.push(std::mem::take(&mut item));
        } else {
            item.push(ch);
        }
    }
    items.push(item);
    for item in items {
        let item = item.split_whitespace().collect::<String>();
        if item.is_empty() {
            continue;
        }
        match item.find('{') {
            Some(b) => expand(
                &format!("{prefix}{}", &item[..b]),
                &item[b + 1..item.len() - 1],
                out,
            ),
            None => out.push(format!("{prefix}{item}")),
        }
    }
}

/// The module a path lands in: the longest prefix that is a module of the crate.
fn target(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    if let Some(first) = parts.first()
        && SHARED_AT_ROOT.contains(first)
    {
        parts.insert(0, "shared");
    }
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

#[test]
fn audiences_import_only_the_shared_layer_and_nothing_imports_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let from = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        for path in crate_paths(&text) {
            let Some(to) = target(&path, &modules) else {
                continue;
            };
            if to == from || to.is_empty() || from.is_empty() {
                continue;
            }
            let (a, b) = (layer(&from), layer(&to));
            let crosses = a != b
                && b != "shared"
                && (AUDIENCES.contains(&a) || a == "shared")
                && AUDIENCES.contains(&b);
            if crosses {
                wrong.push(format!("{from} → {to} (crate::{path})"));
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    assert!(
        wrong.is_empty(),
        "imports across audiences or up from the shared layer:\n{}",
        wrong.join("\n")
    );
    // no circle: depth-first search for a back edge
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for n in edges.get(m).into_iter().flatten() {
            match state.get(n.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|s| s == n).unwrap_or(0);
                    let mut circle = stack[start..].to_vec();
                    circle.push(n.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(n, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in edges.keys() {
        if !state.contains_key(m.as_str())
            && let Some(circle) = visit(m, &edges, &mut state, &mut Vec::new())
        {
            panic!(
                "modules import each other in a circle: {}",
                circle.join(" → ")
            );
        }
    }
}

#[test]
fn the_checker_sees_groups_and_full_paths() {
    let paths = crate_paths(
        "use crate::{AppState, desk::{reception::{self, calendar}, processing}, error::ErrorPage};\n\
         let x = crate::citizen::tracking::owned_dossier(); // crate::admin::officers in a comment",
    );
    assert!(
        paths.contains(&"desk::reception::calendar".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&"desk::processing".to_string()));
    assert!(paths.contains(&"error::ErrorPage".to_string()));
    assert!(paths.contains(&"citizen::tracking::owned_dossier".to_string()));
    assert!(!paths.iter().any(|p| p.contains("officers")));
}
