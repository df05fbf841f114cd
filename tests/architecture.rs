//! The crate's layering, checked (a fitness function, as ArchUnit's for Java): every
//! `crate::X` reference in src/ (in `use` lines and paths, `use crate::{..}` groups,
//! and `super::` chains that climb out of a top-level module) is an edge between
//! top-level modules, and
//!
//! - no two top-level modules import each other, directly or round a circle;
//! - a module imports only modules in lower layers (`LAYERS` below, the same table
//!   as ARCHITECTURE.md's, which this test also compares);
//! - only src/resolver.rs adds methods to `Resolver` / `Engine`: the layers above
//!   reach identities through the policy's `Directory` trait or the façade.
//!
//! Comments and string literals are skipped, so doc links and messages that name a
//! module are no edges. `src/bin/` is another crate (it sees only `proxid::`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may import only modules of a lower layer.
/// Keep in step with the table in ARCHITECTURE.md (checked below).
const LAYERS: &[(&str, &[&str])] = &[
    ("errors", &["error"]),
    ("leaves", &["id_range", "names", "core_site"]),
    ("syntax", &["kerberos"]),
    ("config", &["config"]),
    ("base", &["identity", "fork", "clock", "generations"]),
    ("sources", &["source", "cache", "identity_store", "mode"]),
    ("identities", &["resolver"]),
    ("doubles", &["testing"]),
    ("rules", &["policy", "principal"]),
    ("services", &["auth"]),
    ("facade", &["proxid"]),
    (
        "faces",
        &[
            "ffi",
            "pam_service",
            "resolve_service",
            "doctor",
            "homes",
            "fuzzing",
        ],
    ),
];

/// Edges allowed for now, each to be removed by the change named beside it. The
/// test fails when an entry is no longer needed, so the list only shrinks.
const ALLOWED_UNTIL_MERGE: &[(&str, &str, &str)] = &[];

/// Files allowed to hold `impl Resolver` / `impl Engine` besides src/resolver.rs.
const IMPL_RESOLVER_ALLOWED: &[&str] = &[];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under src/, without src/bin/ and src/lib.rs.
fn source_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src_dir(), &mut files);
    let bin = src_dir().join("bin");
    files.retain(|f| !f.starts_with(&bin) && *f != src_dir().join("lib.rs"));
    files
}

/// `src/policy/admit.rs` -> `["policy", "admit"]`; `src/source/mod.rs` -> `["source"]`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src_dir()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code with comments, string and char literals blanked (newlines kept).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[u8]| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            // Nested block comments.
            let (mut depth, mut j) = (0usize, 0);
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(hashes) = raw_string_start(rest) {
            // r"..." / r#"..."# / br"..."
            let open = rest.iter().position(|&c| c == b'"').unwrap() + 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let end = rest[open..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(rest.len(), |p| open + p + close.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == b'\'' && is_char_literal(rest) {
            let end = if rest[1] == b'\\' {
                rest[2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(rest.len(), |p| p + 3)
            } else {
                let len = std::str::from_utf8(&rest[1..])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(5)]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                1 + len + 1
            };
            blank(&mut out, &rest[..end]);
            i += end;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The number of `#` of a raw string starting here (`r"`, `r#"`, `br"`), if one does.
fn raw_string_start(rest: &[u8]) -> Option<usize> {
    let after = rest
        .strip_prefix(b"br")
        .or_else(|| rest.strip_prefix(b"r"))?;
    let hashes = after.iter().take_while(|&&c| c == b'#').count();
    (after.get(hashes) == Some(&b'"')).then_some(hashes)
}

/// `'a'`, `'\n'`, `'{'`, but not a lifetime `'a`.
fn is_char_literal(rest: &[u8]) -> bool {
    if rest.get(1) == Some(&b'\\') {
        return true;
    }
    let Some(s) = std::str::from_utf8(&rest[1..rest.len().min(6)])
        .ok()
        .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(5)]).ok())
        .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(4)]).ok())
        .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(3)]).ok())
    else {
        return false;
    };
    let mut chars = s.chars();
    matches!((chars.next(), chars.next()), (Some(_), Some('\'')))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers a path continues with after `prefix::`: one, or each first
/// segment of a `{a, b::c}` group.
fn heads(after: &str) -> Vec<String> {
    let after = after.trim_start();
    if let Some(group) = after.strip_prefix('{') {
        let mut depth = 0;
        let mut end = group.len();
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        let body = &group[..end];
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(body[start..i].trim().to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(body[start..].trim().to_string());
        out.into_iter()
            .filter_map(|item| {
                let head: String = item.chars().take_while(|&c| is_ident(c)).collect();
                (!head.is_empty()).then_some(head)
            })
            .collect()
    } else {
        let head: String = after.chars().take_while(|&c| is_ident(c)).collect();
        if head.is_empty() {
            Vec::new()
        } else {
            vec![head]
        }
    }
}

/// The top-level modules `code` (of the module at `path`) refers to.
fn references(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    // Inline modules (`mod tests { .. }`) deepen `super::`: track them by braces.
    let mut inline: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        let word_start = i == 0 || !is_ident(code[..i].chars().next_back().unwrap_or(' '));
        match c {
            '{' => braces += 1,
            '}' => {
                braces = braces.saturating_sub(1);
                if inline.last() == Some(&braces) {
                    inline.pop();
                }
            }
            _ if word_start && code[i..].starts_with("mod ") => {
                let rest = &code[i + 4..];
                let name_len = rest.chars().take_while(|&c| is_ident(c)).count();
                if rest[name_len..].trim_start().starts_with('{') {
                    inline.push(braces);
                }
            }
            _ if word_start && code[i..].starts_with("crate::") => {
                found.extend(heads(&code[i + "crate::".len()..]));
            }
            _ if word_start && code[i..].starts_with("super::") => {
                let mut rest = &code[i..];
                let mut ups = 0;
                while let Some(r) = rest.strip_prefix("super::") {
                    ups += 1;
                    rest = r.trim_start();
                }
                let depth = path.len() + inline.len();
                if ups >= depth {
                    // Climbed to the crate root: the next segment is a top-level module.
                    found.extend(heads(rest));
                }
                k = chars.partition_point(|&(j, _)| j < i + (code[i..].len() - rest.len()));
                continue;
            }
            _ => {}
        }
        k += 1;
    }
    found
}

/// What src/lib.rs re-exports at the crate root, name -> the module it comes from
/// (`pub use resolver::{Engine, Resolver}` makes `crate::Resolver` an edge to
/// `resolver`).
fn root_reexports() -> BTreeMap<String, String> {
    let lib = code_only(&std::fs::read_to_string(src_dir().join("lib.rs")).unwrap());
    let mut map = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path.trim();
        let module: String = path.chars().take_while(|&c| is_ident(c)).collect();
        let items: Vec<&str> = match (path.find('{'), path.rfind('}')) {
            (Some(open), Some(close)) => path[open + 1..close].split(',').collect(),
            _ => vec![path],
        };
        for item in items {
            let item = item.trim();
            let name = match item.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => item.rsplit("::").next().unwrap_or(item).trim(),
            };
            if !name.is_empty() && name != "*" {
                map.insert(name.to_string(), module.clone());
            }
        }
    }
    map
}

struct Graph {
    /// module -> modules it imports, with one file that does for each.
    edges: BTreeMap<String, BTreeMap<String, String>>,
    modules: BTreeSet<String>,
}

fn graph() -> Graph {
    let reexports = root_reexports();
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut modules = BTreeSet::new();
    for file in source_files() {
        let path = module_path(&file);
        let top = path[0].clone();
        modules.insert(top.clone());
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let rel = file
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .display()
            .to_string();
        for to in references(&code, &path) {
            let to = reexports.get(&to).cloned().unwrap_or(to);
            if to != top && to != "self" && to != "super" {
                edges
                    .entry(top.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| rel.clone());
            }
        }
    }
    Graph { edges, modules }
}

fn allowed(from: &str, to: &str) -> bool {
    ALLOWED_UNTIL_MERGE
        .iter()
        .any(|(f, t, _)| *f == from && *t == to)
}

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

#[test]
fn every_module_has_a_layer() {
    let g = graph();
    let missing: Vec<&String> = g.modules.iter().filter(|m| rank(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "top-level modules missing from LAYERS (and ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn modules_import_only_lower_layers() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &g.edges {
        for (to, file) in tos {
            let (Some(a), Some(b)) = (rank(from), rank(to)) else {
                continue; // reported by every_module_has_a_layer (or not a module)
            };
            if a <= b && !allowed(from, to) {
                wrong.push(format!(
                    "{file}: {from} (layer {}) imports {to} (layer {})",
                    LAYERS[a].0, LAYERS[b].0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn config_imports_only_leaf_modules() {
    let g = graph();
    // Everything below config's own layer.
    let config_layer = LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&"config"))
        .expect("config has a layer");
    let leaves: Vec<&str> = LAYERS[..config_layer]
        .iter()
        .flat_map(|(_, modules)| modules.iter().copied())
        .collect();
    let extra: Vec<String> = g
        .edges
        .get("config")
        .into_iter()
        .flatten()
        .filter(|(to, _)| !leaves.contains(&to.as_str()) && !allowed("config", to))
        .map(|(to, file)| format!("{file}: config imports {to}"))
        .collect();
    assert!(extra.is_empty(), "{}", extra.join("\n"));
}

#[test]
fn no_import_cycles() {
    let g = graph();
    let next = |m: &str| -> Vec<String> {
        g.edges
            .get(m)
            .into_iter()
            .flatten()
            .map(|(to, _)| to.clone())
            .filter(|to| !allowed(m, to) && g.modules.contains(to))
            .collect()
    };
    // Depth-first search with colours; a grey successor closes a cycle.
    fn visit(
        m: &str,
        next: &dyn Fn(&str) -> Vec<String>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        stack.push(m.to_string());
        for to in next(m) {
            if let Some(at) = stack.iter().position(|s| *s == to) {
                let mut cycle = stack[at..].to_vec();
                cycle.push(to.clone());
                cycles.push(cycle.join(" -> "));
            } else if !done.contains(&to) {
                visit(&to, next, stack, done, cycles);
            }
        }
        stack.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    let mut cycles = Vec::new();
    for m in &g.modules {
        if !done.contains(m) {
            visit(m, &next, &mut Vec::new(), &mut done, &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn allowed_exceptions_are_still_needed() {
    let g = graph();
    let stale: Vec<String> = ALLOWED_UNTIL_MERGE
        .iter()
        .filter(|(from, to, _)| !g.edges.get(*from).is_some_and(|t| t.contains_key(*to)))
        .map(|(from, to, why)| format!("{from} -> {to} ({why})"))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer needed, remove from ALLOWED_UNTIL_MERGE: {stale:?}"
    );
}

#[test]
fn only_the_resolver_adds_methods_to_the_resolver() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for file in source_files() {
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        if rel == "src/resolver.rs" || IMPL_RESOLVER_ALLOWED.contains(&rel.as_str()) {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for line in code.lines() {
            let t = line.trim_start();
            if (t.starts_with("impl Resolver")
                || t.starts_with("impl Engine")
                || t.starts_with("impl crate::resolver::")
                || t.starts_with("impl crate::Resolver")
                || t.starts_with("impl crate::Engine"))
                && !t.contains(" for ")
            {
                wrong.push(format!("{rel}: {}", t.trim_end()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "methods added to Resolver/Engine outside src/resolver.rs (use the policy's \
         Directory trait or the façade):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn architecture_md_has_the_same_layers() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    // Rows of the table between the markers: `| N | layer | `a`, `b` | ... |`.
    let table = text
        .split("<!-- layers -->")
        .nth(1)
        .and_then(|t| t.split("<!-- /layers -->").next())
        .expect("ARCHITECTURE.md has a <!-- layers --> ... <!-- /layers --> table");
    let rows: Vec<(String, Vec<String>)> = table
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let number = cells.get(1)?;
            number.parse::<usize>().ok()?;
            let modules = cells
                .get(3)?
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_string())
                .filter(|m| !m.is_empty())
                .collect();
            Some((cells.get(2)?.to_string(), modules))
        })
        .collect();
    // Bottom first in the test; the document lists the top first.
    let mut doc: Vec<(String, Vec<String>)> = rows;
    doc.reverse();
    let want: Vec<(String, Vec<String>)> = LAYERS
        .iter()
        .map(|(name, modules)| {
            (
                name.to_string(),
                modules.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(doc, want, "ARCHITECTURE.md's layer table and LAYERS differ");
}

#[test]
fn root_reexports_count_as_their_module() {
    let map = root_reexports();
    assert_eq!(map.get("Proxid").map(String::as_str), Some("proxid"));
    assert_eq!(map.get("Resolver").map(String::as_str), Some("resolver"));
    assert_eq!(map.get("Verdict").map(String::as_str), Some("policy"));
}

#[test]
fn the_scanner_sees_what_it_should() {
    let code = code_only(
        "use crate::{a, b::c, d::{e, f}};\n// crate::commented\nlet s = \"crate::quoted\";\n\
         let c = '{'; fn f<'a>(x: &'a str) {}\nmod tests { use super::super::g; }\n\
         let r = r#\"crate::raw\"#; crate::h::i();\n",
    );
    let found = references(&code, &["m".to_string()]);
    let want: BTreeSet<String> = ["a", "b", "d", "g", "h"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}
