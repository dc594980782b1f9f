//! The engine's files in layers (ARCHITECTURE.md, "Layers"): within each crate, which top-level
//! modules name which (`crate::x` in a module's files, its tests left out), and the circles
//! that makes. Cargo already keeps the crates themselves in layers (syntax, runtime,
//! transpiler, notebook); this keeps the files in each from growing circles again. Two circles
//! are allowed, both in the runtime, both because of what they are:
//!
//! * the values: a value is made of objects, collections and functions (whose bytecode holds
//!   constant values), and the error a VM raises carries a value (what `throw` threw), which
//!   the collections' checks raise;
//! * the VM and its callbacks: built-in functions and methods such as `map` call closures back
//!   through the VM.
//!
//! Any other circle fails with the modules in it and the references that make it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level module of each file under `src`, and the `crate::x` references each module's
/// files make (outside `#[cfg(test)] mod tests` and comments), with one file that makes each.
fn module_refs(src: &Path) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read the source directory") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut refs: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&f).expect("read a source file");
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let entry = refs.entry(module.clone()).or_default();
        for name in crate_paths(&code) {
            if name != module {
                entry.entry(name).or_insert_with(|| f.clone());
            }
        }
    }
    // only references to the crate's own top-level modules
    let modules: BTreeSet<String> = refs.keys().cloned().collect();
    for targets in refs.values_mut() {
        targets.retain(|t, _| modules.contains(t));
    }
    refs
}

/// The first name after each `crate::`, and after `crate::{` each item's first name.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `ruchy_runtime::...` is another crate; `$crate::` a macro's
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        out.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn circles(refs: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Vec<BTreeSet<String>> {
    struct Walk<'a> {
        refs: &'a BTreeMap<String, BTreeMap<String, PathBuf>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        for t in w.refs[v].keys() {
            if !w.index.contains_key(t.as_str()) {
                visit(w, t);
                let l = w.low[v].min(w.low[t.as_str()]);
                w.low.insert(v, l);
            } else if w.stack.contains(&t.as_str()) {
                let l = w.low[v].min(w.index[t.as_str()]);
                w.low.insert(v, l);
            }
        }
        if w.low[v] == w.index[v] {
            let mut c = BTreeSet::new();
            while let Some(x) = w.stack.pop() {
                c.insert(x.to_string());
                if x == v {
                    break;
                }
            }
            if c.len() > 1 {
                w.found.push(c);
            }
        }
    }
    let mut w = Walk {
        refs,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in refs.keys() {
        if !w.index.contains_key(v.as_str()) {
            visit(&mut w, v);
        }
    }
    w.found
}

fn check(krate: &str, allowed: &[&[&str]]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src");
    let refs = module_refs(&src);
    assert!(
        refs.len() > 2,
        "{krate}: no modules found under {}",
        src.display()
    );
    let allowed: Vec<BTreeSet<String>> = allowed
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    let found = circles(&refs);
    for c in &allowed {
        assert!(
            found.contains(c),
            "{krate}: the allowed circle {c:?} is not there any more (found {found:?}): take it off the list"
        );
    }
    for c in found {
        if allowed.contains(&c) {
            continue;
        }
        let why: Vec<String> = c
            .iter()
            .flat_map(|m| {
                refs[m]
                    .iter()
                    .filter(|(t, _)| c.contains(*t))
                    .map(move |(t, f)| format!("{m} -> {t} ({})", f.display()))
            })
            .collect();
        panic!(
            "{krate}: the modules {c:?} name each other in a circle:\n  {}",
            why.join("\n  ")
        );
    }
}

#[test]
fn the_syntax_crate_has_no_circle() {
    check("syntax", &[]);
}

#[test]
fn the_runtime_has_only_the_values_and_the_vm_with_its_callbacks_as_circles() {
    check(
        "runtime",
        &[
            &["collection", "error", "object", "opcode", "value"],
            &["builtins", "methods", "vm"],
        ],
    );
}

#[test]
fn the_transpiler_has_no_circle() {
    check("transpiler", &[]);
}

#[test]
fn the_notebook_has_no_circle() {
    check("notebook", &[]);
}

#[test]
fn the_check_finds_a_circle() {
    // what the checks above rely on: references are read from code and a circle is found
    let refs = |pairs: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
        for (a, b) in pairs {
            m.entry(a.to_string())
                .or_default()
                .insert(b.to_string(), PathBuf::from(a));
            m.entry(b.to_string()).or_default();
        }
        m
    };
    assert_eq!(
        crate_paths("use crate::a::B;\nuse crate::{b, c::{D, E}};\n$crate::no; my_crate::no; f(crate::d::g)"),
        ["a", "b", "c", "d"]
    );
    let found = circles(&refs(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert!(circles(&refs(&[("a", "b"), ("b", "c")])).is_empty());
}
