//! Shared by the differential tests (`transpile_corpus.rs`, `properties.rs`): many transpiled
//! programs built as modules of one crate in one `rustc` run, each run by its number.

use ruchy_notebook::transpiler::runtime;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One crate holding every program as a module, run with the program's number.
pub fn batch_crate(programs: &[(usize, &str)]) -> String {
    let mut out = String::from(
        "#![allow(unused, unreachable_code, non_snake_case, non_camel_case_types, clippy::all, unconditional_panic, arithmetic_overflow)]\n",
    );
    // the runtime's prelude is shared; each program keeps the items it carries, in its own `rt`
    out.push_str(&runtime::prelude_source());
    for (i, rust) in programs {
        let (code, rt) = rust.split_at(rust.find(runtime::MARKER).unwrap_or(rust.len()));
        let items = rt
            .find(runtime::ITEMS_MARKER)
            .map_or("", |at| rt[at..].trim_end().trim_end_matches('}'));
        let body = format!(
            "{}\nmod rt {{\npub use crate::rt::*;\n{items}\n}}\n",
            code.replace("use crate::rt::Show;", "use self::rt::Show;")
        );
        let body: String = body
            .lines()
            .filter(|l| !l.starts_with("#![") && !l.starts_with("//"))
            .map(|l| {
                if l == "fn main() {" {
                    "pub fn main() {"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let _ = writeln!(out, "mod case_{i} {{\nuse super::*;\n{body}\n}}");
    }
    out.push_str("\nfn main() {\n    match std::env::args().nth(1).as_deref() {\n");
    for (i, _) in programs {
        let _ = writeln!(out, "        Some(\"{i}\") => case_{i}::main(),");
    }
    out.push_str("        _ => {}\n    }\n}\n");
    out
}

/// A fresh scratch directory for the batch named `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruchy-transpile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Builds the batch; a module that does not build is reported and left out, and the rest is
/// built again.
pub fn build(
    dir: &Path,
    programs: &mut Vec<(usize, String)>,
    broken: &mut BTreeMap<usize, String>,
) -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let bin = dir.join("corpus");
    loop {
        let refs: Vec<(usize, &str)> = programs.iter().map(|(i, r)| (*i, r.as_str())).collect();
        let src = batch_crate(&refs);
        let main = dir.join("main.rs");
        std::fs::write(&main, &src).expect("writing the batch");
        let out = Command::new(&rustc)
            .args(["--edition", "2021", "--error-format", "short", "-o"])
            .arg(&bin)
            .arg(&main)
            .output()
            .expect("running rustc");
        if out.status.success() {
            return bin;
        }
        // find the modules the errors are in
        let errors = String::from_utf8_lossy(&out.stderr).into_owned();
        let starts: Vec<(usize, usize)> = src
            .lines()
            .enumerate()
            .filter_map(|(n, l)| {
                l.strip_prefix("mod case_")
                    .and_then(|r| r.strip_suffix(" {"))
                    .and_then(|i| i.parse().ok())
                    .map(|i| (n + 1, i))
            })
            .collect();
        let mut bad = Vec::new();
        for line in errors.lines().filter(|l| l.contains("error")) {
            let Some(n) = line.split(':').nth(1).and_then(|n| n.parse::<usize>().ok()) else {
                continue;
            };
            if let Some((_, case)) = starts.iter().rev().find(|(start, _)| *start <= n) {
                if !bad.contains(case) {
                    bad.push(*case);
                    broken.insert(*case, line.to_string());
                }
            }
        }
        if bad.is_empty() {
            panic!("the batch does not build and no case is to blame:\n{errors}");
        }
        programs.retain(|(i, _)| !bad.contains(i));
    }
}
