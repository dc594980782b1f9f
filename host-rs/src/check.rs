//! `host-rs compile`: reading a program or a notebook from a file, and `--check`: transpile,
//! build with `rustc`, run, and compare with what the interpreter prints.
//!
//! A file is a notebook when it is a Jupyter `.ipynb` (its code cells) or when it has cell
//! marker lines `// %%` (the "percent" format editors use); anything else is one program,
//! compiled and run as a script. Splitting a file into cells is the file format's business;
//! what the cells mean is the component's.

use crate::host::{CellError, Diagnostic, Instance};
use crate::render;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a file holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// One program, run as a script (D16: its `main` is called).
    Script(String),
    /// Notebook cells, run in order in one session.
    Cells(Vec<String>),
}

/// The line that starts a new cell in a notebook text file.
pub const CELL_MARKER: &str = "// %%";

/// Reads a program or a notebook.
pub fn read_input(path: &Path) -> Result<Input> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "ipynb") {
        return ipynb_cells(&text).map(Input::Cells);
    }
    Ok(parse_text(&text))
}

/// A text file: cells when it has marker lines, else one program.
pub fn parse_text(text: &str) -> Input {
    if !text.lines().any(is_marker) {
        return Input::Script(text.to_string());
    }
    let mut cells = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        if is_marker(line) {
            push_cell(&mut cells, &cur);
            cur.clear();
        } else {
            cur.push_str(line);
        }
    }
    push_cell(&mut cells, &cur);
    Input::Cells(cells)
}

fn is_marker(line: &str) -> bool {
    line.trim_end().starts_with(CELL_MARKER)
}

fn push_cell(cells: &mut Vec<String>, text: &str) {
    let cell = text.trim_end_matches(['\n', '\r']);
    if !cell.trim().is_empty() {
        cells.push(cell.to_string());
    }
}

/// The code cells of a Jupyter notebook (nbformat 4).
pub fn ipynb_cells(text: &str) -> Result<Vec<String>> {
    let nb: serde_json::Value =
        serde_json::from_str(text).context("reading the notebook's JSON")?;
    let Some(cells) = nb.get("cells").and_then(|c| c.as_array()) else {
        bail!("the notebook has no `cells` list");
    };
    let mut out = Vec::new();
    for c in cells {
        if c.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        let source = match c.get("source") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(lines)) => {
                lines.iter().filter_map(|l| l.as_str()).collect()
            }
            _ => String::new(),
        };
        if !source.trim().is_empty() {
            out.push(source);
        }
    }
    Ok(out)
}

/// Transpiles; diagnostics are rendered with their source line and caret.
pub fn transpile(
    inst: &mut Instance,
    input: &Input,
    origin: &str,
) -> Result<Result<String, String>> {
    Ok(match input {
        Input::Script(source) => inst
            .compile(source)?
            .map_err(|ds| render_all(&ds, source, origin)),
        Input::Cells(cells) => inst
            .compile_cells(cells)?
            .map_err(|es| render_cell_errors(&es, origin)),
    })
}

fn render_all(ds: &[Diagnostic], source: &str, origin: &str) -> String {
    ds.iter()
        .map(|d| render::diagnostic(d, source, origin))
        .collect()
}

pub fn render_cell_errors(es: &[CellError], origin: &str) -> String {
    es.iter()
        .map(|e| {
            render::diagnostic(
                &e.diagnostic,
                &e.source,
                &format!("{origin}, cell {}", e.cell),
            )
        })
        .collect()
}

/// What the interpreter printed, and whether it failed.
pub struct Interpreted {
    pub stdout: String,
    /// For a script: the error that ended it. For cells: the cells that failed (left out
    /// of the output, as `export-rust` leaves them out).
    pub errors: Vec<String>,
    /// The Rust `export-rust` makes of the session (cells only).
    pub export: Option<Result<String, String>>,
}

/// Runs the input in the interpreter: a script with `run-script`; cells in one session, each
/// successful cell's output followed by the display of its value.
pub fn interpret(inst: &mut Instance, input: &Input, origin: &str) -> Result<Interpreted> {
    let s = inst.new_session()?;
    let mut out = Interpreted {
        stdout: String::new(),
        errors: Vec::new(),
        export: None,
    };
    match input {
        Input::Script(source) => {
            let r = inst.run_script(s, source)?;
            out.stdout = r.stdout;
            if let Some(d) = &r.diagnostic {
                out.errors.push(render::diagnostic(d, source, origin));
            }
        }
        Input::Cells(cells) => {
            for (i, cell) in cells.iter().enumerate() {
                let r = inst.execute_cell(s, cell)?;
                match &r.diagnostic {
                    Some(d) => out.errors.push(render::diagnostic(
                        d,
                        cell,
                        &format!("{origin}, cell {}", i + 1),
                    )),
                    None => {
                        out.stdout.push_str(&r.stdout);
                        if let Some(v) = &r.display {
                            out.stdout.push_str(v);
                            out.stdout.push('\n');
                        }
                    }
                }
            }
            out.export = Some(
                inst.export_rust(s)?
                    .map_err(|es| render_cell_errors(&es, origin)),
            );
        }
    }
    inst.drop_session(s)?;
    Ok(out)
}

/// A built and run Rust program.
pub struct Ran {
    pub build_time: Duration,
    pub stdout: String,
    /// `None` when it ran out of time.
    pub success: Option<bool>,
}

/// Builds `rust` with `rustc` (optimized, integer overflow checked as in Ruchy) in a scratch
/// directory and runs it for at most `timeout`. `Err` when it does not build.
pub fn build_and_run(rust: &str, timeout: Duration) -> Result<std::result::Result<Ran, String>> {
    let dir = scratch_dir()?;
    let src = dir.join("main.rs");
    let bin = dir.join("main");
    std::fs::write(&src, rust)?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let t = Instant::now();
    let built = Command::new(&rustc)
        .args(["--edition", "2021", "-O", "-C", "overflow-checks=on", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .with_context(|| format!("running {rustc}"))?;
    let build_time = t.elapsed();
    if !built.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(Err(String::from_utf8_lossy(&built.stderr).into_owned()));
    }
    let mut child = Command::new(&bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("running the compiled program")?;
    let mut stdout = child.stdout.take().context("the program's stdout")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let start = Instant::now();
    let success = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status.success());
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Ok(Ran {
        build_time,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        success,
    }))
}

fn scratch_dir() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("ruchy-check-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Where two outputs first differ: 1-based line, and the two lines (`None` past the end).
pub fn first_difference(
    expected: &str,
    got: &str,
) -> Option<(usize, Option<String>, Option<String>)> {
    if expected == got {
        return None;
    }
    let (mut a, mut b) = (expected.split_inclusive('\n'), got.split_inclusive('\n'));
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            (x, y) => {
                return Some((
                    line,
                    x.map(|s| s.trim_end_matches('\n').to_string()),
                    y.map(|s| s.trim_end_matches('\n').to_string()),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_lines_split_cells() {
        let text = "// %%\nlet x = 1\n\n// %% second\nx + 1\n// %%\n\n";
        assert_eq!(
            parse_text(text),
            Input::Cells(vec!["let x = 1".into(), "x + 1".into()])
        );
    }

    #[test]
    fn a_file_without_markers_is_a_script() {
        assert_eq!(
            parse_text("let x = 1\nprintln(x)\n"),
            Input::Script("let x = 1\nprintln(x)\n".into())
        );
    }

    #[test]
    fn notebooks_give_their_code_cells() {
        let nb = r##"{"cells": [
            {"cell_type": "markdown", "source": ["# title"]},
            {"cell_type": "code", "source": ["let x = 1\n", "x"]},
            {"cell_type": "code", "source": "println(2)"}
        ], "nbformat": 4}"##;
        assert_eq!(
            ipynb_cells(nb).unwrap(),
            vec!["let x = 1\nx".to_string(), "println(2)".to_string()]
        );
    }

    #[test]
    fn the_first_difference_is_found() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            Some((2, Some("b".into()), Some("c".into())))
        );
        assert_eq!(
            first_difference("a\n", "a\nb\n"),
            Some((2, None, Some("b".into())))
        );
    }
}
