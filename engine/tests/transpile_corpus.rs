//! Differential test of `compile` over the whole conformance corpus.
//!
//! Every case becomes a program: a `@script` case as it is, a notebook case as its cells that
//! succeeded (what `export-rust` of the session gives), printing what the notebook showed.
//! Every program that transpiles is built with `rustc` (all of them in one crate, one build)
//! and run; its output must equal the interpreter's. A program `compile` refuses must be on the
//! written list `tests/transpile-limitations.txt`, with the reason `compile` gave; the list
//! must be exactly the refused programs, and they must be at most 5% of all programs.
//! `UPDATE_TRANSPILE_LIMITATIONS=1` rewrites the list (review the diff).

use conformance::{load, Case};
use engine::transpiler::{compile, compile_notebook, runtime};
use engine::Session;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A program of the corpus: its Rust (or why there is none) and the output to reproduce.
struct Program {
    name: String,
    expected: String,
    rust: Result<String, String>,
}

fn program_of(case: &Case) -> Option<Program> {
    let mut session = Session::new();
    let name = format!(
        "{}:{} {}",
        case.file
            .file_name()
            .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
        case.line,
        case.name
    );
    if case.script {
        let source = &case.cells[0].source;
        let out = session.run_script(source);
        let rust = compile(source).map_err(|ds| first_reason(&ds));
        return Some(Program {
            name,
            expected: out.stdout,
            rust,
        });
    }
    let mut expected = String::new();
    let mut cells: Vec<&str> = Vec::new();
    for cell in &case.cells {
        let out = session.execute_cell(&cell.source);
        if out.diagnostic.is_some() {
            continue;
        }
        expected.push_str(&out.stdout);
        if let Some(d) = &out.display {
            expected.push_str(d);
            expected.push('\n');
        }
        cells.push(&cell.source);
    }
    if cells.is_empty() {
        return None; // a case whose every cell fails has no program
    }
    let rust = compile_notebook(&cells).map_err(|ds| first_reason(&ds));
    Some(Program {
        name,
        expected,
        rust,
    })
}

fn first_reason(ds: &[engine::Diagnostic]) -> String {
    ds.first().map_or_else(
        || "no diagnostic".to_string(),
        |d| format!("{}: {}", d.kind.as_str(), d.message),
    )
}

/// One crate holding every program as a module, run with the program's number.
fn batch_crate(programs: &[(usize, &str)]) -> String {
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

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruchy-transpile-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Builds the batch; a module that does not build is reported and left out, and the rest is
/// built again.
fn build(
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

#[test]
fn transpiled_corpus_prints_what_the_interpreter_prints() {
    let cases = load(&conformance::corpus_dir()).expect("the corpus");
    let programs: Vec<Program> = cases.iter().filter_map(program_of).collect();
    let mut compiled: Vec<(usize, String)> = Vec::new();
    let mut refused: Vec<(usize, String)> = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        match &p.rust {
            Ok(r) => compiled.push((i, r.clone())),
            Err(why) => refused.push((i, why.clone())),
        }
    }
    let dir = scratch();
    let mut broken = BTreeMap::new();
    let bin = build(&dir, &mut compiled, &mut broken);
    let mut differ = Vec::new();
    let mut agree = 0usize;
    for (i, _) in &compiled {
        let run = Command::new("timeout")
            .arg("20")
            .arg(&bin)
            .arg(i.to_string())
            .output()
            .expect("running a compiled program");
        let got = String::from_utf8_lossy(&run.stdout);
        if got == programs[*i].expected {
            agree += 1;
        } else {
            differ.push(format!(
                "{}\n  expected {:?}\n  got      {:?}",
                programs[*i].name, programs[*i].expected, got
            ));
        }
    }
    let total = programs.len();
    let share = agree as f64 / total as f64;
    eprintln!(
        "transpiled corpus: {total} programs; {agree} agree ({:.1}%); {} refused with a diagnostic; {} differ; {} do not build",
        share * 100.0,
        refused.len(),
        differ.len(),
        broken.len()
    );
    // the written list of limitations
    let mut list = String::from(
        "# Corpus programs `compile` refuses, with the reason it gives.\n\
         # Generated by engine/tests/transpile_corpus.rs (UPDATE_TRANSPILE_LIMITATIONS=1); review changes.\n",
    );
    for (i, why) in &refused {
        let _ = writeln!(list, "{} | {}", programs[*i].name, why);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/transpile-limitations.txt");
    if std::env::var("UPDATE_TRANSPILE_LIMITATIONS").is_ok() {
        std::fs::write(&path, &list).expect("writing the limitations list");
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    let mut problems = String::new();
    for (i, line) in &broken {
        let _ = writeln!(problems, "does not build: {}\n  {line}", programs[*i].name);
    }
    for d in &differ {
        let _ = writeln!(problems, "differs: {d}");
    }
    if written != list {
        let _ = writeln!(
            problems,
            "tests/transpile-limitations.txt is not the list of refused programs (run with UPDATE_TRANSPILE_LIMITATIONS=1 and review)"
        );
    }
    if share < 0.95 {
        let _ = writeln!(
            problems,
            "only {:.1}% of the programs transpile and agree (at least 95% must)",
            share * 100.0
        );
    }
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        let _ = writeln!(problems, "(the batch is kept in {})", dir.display());
    }
    assert!(problems.is_empty(), "{problems}");
}
