//! The conformance corpus: reading `tests/cases/*.cases`, comparing a runner's results with
//! them. Used by the native runner (`engine/notebook/tests/conformance.rs`) and the wasmtime runner
//! (`host-rs/tests/conformance.rs`); the jco runner (`host-js/conformance.mjs`) reads the same
//! files with the same rules.
//!
//! # Format
//!
//! ```text
//! # a comment (a line starting with `#` outside a cell)
//! === case name                 a case: its cells share one session
//! >>> let x = 42                a cell; `...` lines continue it
//! 42                            the display of its value (none expected: must be nil)
//! >>> println("a"); print("b")
//! | a                           a line the cell printed (`|` alone: an empty line)
//! |~ b                          printed text without a final newline
//! >>> y
//! !! runtime @1:1: Undefined variable: y     an error: kind, optional position, message
//!                                (a message ending in ` ...` matches any that starts so)
//! === a program @script         a script: all its `>>>`/`...` lines are one program,
//! >>> fun main() { println(1) }  run as by `host-rs run` (main is called); `|` lines and an
//! | 1                            optional `!!` line are checked
//! ```
//!
//! A case header may end with `@limits KEY=N ...` (keys `time-ms`, `memory-bytes`,
//! `call-depth`, `output-bytes`): the session's limits for that case (WIT `set-limits`). In a
//! cell, `{{repeat N TEXT}}` stands for TEXT written N times (`\n` in TEXT is a newline), for
//! inputs too big to write out.
//!
//! Bundles (the value's MIME forms, `text/plain` first) and `display(...)` outputs:
//!
//! ```text
//! >>> display(bar_chart(["a"], [1])); [{k: 1}]
//! [{k: 1}]
//! %% text/plain text/html         the value's MIME types, in order (without this line: only
//!                                 text/plain, whose data must equal the display)
//! %% text/html contains <th>k</th>   that form's data contains the text
//! %% text/html count 2 <tr>          the text occurs exactly N times in it
//! %1 text/plain image/svg+xml     the cell's first display output (a cell has exactly as
//! %1 image/svg+xml xml            many outputs as the highest N mentioned): its MIME types,
//! %1 offset 0                     well-formed XML, its stdout offset (and contains/count)
//! ```
//!
//! Queries run between cells, on the session as it is at that point (`<|>` marks the cursor,
//! a byte offset; `\n` in the source is a newline):
//!
//! ```text
//! ?complete xs.pu<|>              + LABEL [KIND]  a candidate;  - LABEL  none;  = START-END  the replaced span
//! ?inspect dou<|>ble(2)           + TEXT / - TEXT  the markdown contains it or not;  = none
//! ?is-complete fun f() {          = complete | invalid | incomplete N  (N spaces of indent)
//! ?variables                      + NAME: TYPE = DISPLAY;  - NAME;  = N  (how many)
//! ```
//!
//! Positions are `@LINE:COL` (start) or `@LINE:COL-LINE:COL` (start and end), 1-based, columns
//! in characters. `CASES=03-control cargo test --release --test conformance` runs one file. Everything the expectation does not mention must be absent: no display,
//! no output, no error.

use std::fmt::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedError {
    pub kind: String,
    pub start: Option<Position>,
    pub end: Option<Position>,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    pub display: Option<String>,
    pub stdout: String,
    pub error: Option<ExpectedError>,
    /// `%%` lines: the value's bundle.
    pub bundle: BundleCheck,
    /// `%N` lines: the N-th display output (index N - 1).
    pub outputs: Vec<BundleCheck>,
}

/// What `%%` or `%N` lines expect of one bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleCheck {
    /// The MIME types in order; `None`: only `text/plain`.
    pub mimes: Option<Vec<String>>,
    pub forms: Vec<FormCheck>,
    /// A display output's stdout offset.
    pub offset: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormCheck {
    Contains {
        mime: String,
        text: String,
    },
    Count {
        mime: String,
        n: usize,
        text: String,
    },
    Xml {
        mime: String,
    },
}

/// A question asked of the session between cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    Complete { source: String, cursor: u32 },
    Inspect { source: String, cursor: u32 },
    IsComplete { source: String },
    Variables,
}

/// One expectation line after a query: `+ ...`, `- ...` or `= ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryExpect {
    Has(String),
    Lacks(String),
    Is(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryCase {
    pub query: Query,
    pub line: usize,
    pub expect: Vec<QueryExpect>,
}

/// What a runner answered to a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The replaced span's byte offsets and the candidates' labels and kinds.
    Completions {
        start: u32,
        end: u32,
        items: Vec<(String, String)>,
    },
    Inspection(Option<String>),
    /// `complete`, `invalid` or `incomplete N`.
    Completeness(String),
    /// Name, type name, display.
    Variables(Vec<(String, String, String)>),
}

#[derive(Clone, Debug)]
pub struct Cell {
    pub source: String,
    /// Line of the cell's first `>>>` in its file.
    pub line: usize,
    pub expected: Expected,
    /// Queries asked after this cell ran, in order.
    pub queries: Vec<QueryCase>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    /// A script: one program, run with `run-script`.
    pub script: bool,
    /// Limits set on the session before the case runs (`@limits`).
    pub limits: CaseLimits,
    pub cells: Vec<Cell>,
}

/// The limits a case's `@limits` sets (WIT `limits`); `None` keeps the session's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaseLimits {
    pub time_ms: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub call_depth: Option<u64>,
    pub output_bytes: Option<u64>,
}

impl CaseLimits {
    pub fn is_empty(&self) -> bool {
        *self == CaseLimits::default()
    }

    /// Sets one limit from its `@limits` name; `false` for an unknown name.
    fn set(&mut self, key: &str, value: u64) -> bool {
        let slot = match key {
            "time-ms" => &mut self.time_ms,
            "memory-bytes" => &mut self.memory_bytes,
            "call-depth" => &mut self.call_depth,
            "output-bytes" => &mut self.output_bytes,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// Expands `{{repeat N TEXT}}` in a cell's source.
pub fn expand(source: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = source;
    while let Some(at) = rest.find("{{repeat ") {
        out.push_str(&rest[..at]);
        let body = &rest[at + "{{repeat ".len()..];
        let end = body.find("}}").ok_or("`{{repeat` without `}}`")?;
        let (count, text) = body[..end].split_once(' ').ok_or("`{{repeat N TEXT}}`")?;
        let count: usize = count.parse().map_err(|_| format!("not a count: {count}"))?;
        out.push_str(&text.replace("\\n", "\n").repeat(count));
        rest = &body[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What a runner observed for one cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actual {
    pub display: Option<String>,
    pub stdout: String,
    pub error: Option<ActualError>,
    /// The value's bundle: (MIME type, data), `text/plain` first.
    pub bundle: Option<Vec<(String, String)>>,
    /// Display outputs: bundle and stdout offset.
    pub outputs: Vec<(Vec<(String, String)>, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActualError {
    pub kind: String,
    pub start: Position,
    pub end: Position,
    pub message: String,
}

/// Something that runs cells: the native engine, a wasmtime instance, ...
pub trait Runner {
    /// Starts a fresh session (before each case).
    fn new_session(&mut self);
    /// Runs one notebook cell in the current session.
    fn execute_cell(&mut self, source: &str) -> Actual;
    /// Runs a program as a script in the current session.
    fn run_script(&mut self, source: &str) -> Actual;
    /// Sets the limits that are `Some` on the current session; the others keep their values.
    fn set_limits(&mut self, limits: &CaseLimits);
    /// Asks the current session a question (completion, inspection, ...).
    fn query(&mut self, query: &Query) -> Answer;
}

/// Every `.cases` file under `dir`, sorted by path.
pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "cases") {
            out.push(p);
        }
    }
}

/// All cases under `dir`; a malformed file is an error naming the file and line.
pub fn load(dir: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for f in case_files(dir) {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        cases.extend(parse(&text, &f)?);
    }
    Ok(cases)
}

/// The corpus directory of this repository.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("cases")
}

fn parse_position(s: &str) -> Option<Position> {
    let (l, c) = s.split_once(':')?;
    Some(Position {
        line: l.parse().ok()?,
        column: c.parse().ok()?,
    })
}

/// Whether a message is the expected one: equal, or starting with what comes before an
/// expected message's final ` ...`.
pub fn message_matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix(" ...") {
        Some(prefix) => actual.starts_with(prefix),
        None => expected == actual,
    }
}

/// `!! KIND[ @L:C[-L:C]]: MESSAGE`
fn parse_error_line(rest: &str) -> Option<ExpectedError> {
    let (head, message) = rest.split_once(": ")?;
    let mut parts = head.split_whitespace();
    let kind = parts.next()?.to_string();
    if !matches!(kind.as_str(), "parse" | "type" | "runtime" | "limit") {
        return None;
    }
    let (mut start, mut end) = (None, None);
    if let Some(pos) = parts.next() {
        let pos = pos.strip_prefix('@')?;
        match pos.split_once('-') {
            Some((a, b)) => {
                start = Some(parse_position(a)?);
                end = Some(parse_position(b)?);
            }
            None => start = Some(parse_position(pos)?),
        }
    }
    if parts.next().is_some() {
        return None;
    }
    Some(ExpectedError {
        kind,
        start,
        end,
        message: message.to_string(),
    })
}

/// `?complete SOURCE`, `?inspect SOURCE`, `?is-complete SOURCE`, `?variables`.
fn parse_query(q: &str) -> Result<Query, String> {
    let (verb, rest) = q.split_once(' ').unwrap_or((q, ""));
    let source = rest.replace("\\n", "\n");
    let cursor = |s: &str| -> Result<(String, u32), String> {
        let at = s.find("<|>").ok_or("the query needs a `<|>` cursor")?;
        Ok((s.replacen("<|>", "", 1), at as u32))
    };
    Ok(match verb {
        "complete" => {
            let (source, cursor) = cursor(&source)?;
            Query::Complete { source, cursor }
        }
        "inspect" => {
            let (source, cursor) = cursor(&source)?;
            Query::Inspect { source, cursor }
        }
        "is-complete" => Query::IsComplete { source },
        "variables" if rest.is_empty() => Query::Variables,
        _ => {
            return Err(
                "a query is `?complete`, `?inspect`, `?is-complete` (with source) or `?variables`"
                    .into(),
            )
        }
    })
}

/// The rest of a `%%`/`%N` line: `MIME MIME ...`, `MIME contains TEXT`, `MIME count N TEXT`,
/// `MIME xml`, or (outputs only) `offset K`.
fn parse_bundle_line(spec: &str, check: &mut BundleCheck, value: bool) -> Result<(), String> {
    let words: Vec<&str> = spec.split(' ').collect();
    let mime = words.first().copied().unwrap_or("").to_string();
    let rest_after = |k: usize| -> String { words.get(k..).map_or(String::new(), |w| w.join(" ")) };
    match words.get(1).copied() {
        _ if mime == "offset" && !value => {
            let k = words.get(1).and_then(|w| w.parse().ok());
            check.offset = Some(k.ok_or("`offset K`")?);
        }
        Some("contains") => check.forms.push(FormCheck::Contains {
            mime,
            text: rest_after(2),
        }),
        Some("count") => {
            let n = words
                .get(2)
                .and_then(|w| w.parse().ok())
                .ok_or("`MIME count N TEXT`")?;
            check.forms.push(FormCheck::Count {
                mime,
                n,
                text: rest_after(3),
            })
        }
        Some("xml") if words.len() == 2 => check.forms.push(FormCheck::Xml { mime }),
        _ if words.iter().all(|w| w.contains('/')) => {
            if check.mimes.is_some() {
                return Err("the MIME types are listed once".into());
            }
            check.mimes = Some(words.iter().map(|w| w.to_string()).collect());
        }
        _ => {
            return Err(
                "`MIME MIME ..`, `MIME contains TEXT`, `MIME count N TEXT`, `MIME xml`".into(),
            )
        }
    }
    Ok(())
}

/// Parses one corpus file.
pub fn parse(text: &str, file: &Path) -> Result<Vec<Case>, String> {
    let err = |line: usize, msg: &str| format!("{}:{line}: {msg}", file.display());
    let mut cases: Vec<Case> = Vec::new();
    let mut display: Vec<String> = Vec::new();
    // closes the expectation block of the last cell
    fn flush(cases: &mut [Case], display: &mut Vec<String>) {
        while display.last().is_some_and(|l| l.is_empty()) {
            display.pop();
        }
        if let Some(cell) = cases.last_mut().and_then(|c| c.cells.last_mut()) {
            if !display.is_empty() {
                cell.expected.display = Some(display.join("\n"));
            }
        }
        display.clear();
    }
    let mut in_cell = false;
    // the last query, while its `+`/`-`/`=` lines follow
    let mut in_query = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix("===") {
            flush(&mut cases, &mut display);
            let rest = rest.trim();
            let (rest, limits) = match rest.split_once("@limits") {
                Some((name, spec)) => {
                    let mut limits = CaseLimits::default();
                    for kv in spec.split_whitespace() {
                        let ok = kv
                            .split_once('=')
                            .and_then(|(k, v)| Some((k, v.parse::<u64>().ok()?)))
                            .is_some_and(|(k, v)| limits.set(k, v));
                        if !ok {
                            return Err(err(n, &format!("bad limit `{kv}`")));
                        }
                    }
                    (name.trim(), limits)
                }
                None => (rest, CaseLimits::default()),
            };
            let (name, script) = match rest.strip_suffix("@script") {
                Some(name) => (name.trim(), true),
                None => (rest, false),
            };
            if name.is_empty() {
                return Err(err(n, "a case needs a name after `===`"));
            }
            cases.push(Case {
                name: name.to_string(),
                file: file.to_path_buf(),
                line: n,
                script,
                limits,
                cells: Vec::new(),
            });
            in_cell = false;
            continue;
        }
        let Some(case) = cases.last_mut() else {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            return Err(err(n, "text before the first `=== case`"));
        };
        if let Some(src) = line.strip_prefix(">>>") {
            in_query = false;
            let src = src.strip_prefix(' ').unwrap_or(src);
            if case.script && !case.cells.is_empty() {
                if !display.is_empty() || !case.cells[0].expected.stdout.is_empty() {
                    return Err(err(
                        n,
                        "a script has one program: all `>>>` lines come first",
                    ));
                }
                let cell = &mut case.cells[0];
                cell.source.push('\n');
                cell.source.push_str(src);
            } else {
                flush(std::slice::from_mut(case), &mut display);
                case.cells.push(Cell {
                    source: src.to_string(),
                    line: n,
                    expected: Expected::default(),
                    queries: Vec::new(),
                });
            }
            in_cell = true;
            continue;
        }
        if let Some(src) = line.strip_prefix("...") {
            if !in_cell {
                return Err(err(
                    n,
                    "`...` continues a cell: it must follow `>>>` or `...`",
                ));
            }
            let src = src.strip_prefix(' ').unwrap_or(src);
            if let Some(cell) = case.cells.last_mut() {
                cell.source.push('\n');
                cell.source.push_str(src);
            }
            continue;
        }
        if in_query && line.starts_with('?') {
            in_query = false;
        }
        in_cell = false;
        let Some(cell) = case.cells.last_mut() else {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            return Err(err(n, "an expectation before the first `>>>` cell"));
        };
        if let Some(q) = line.strip_prefix('?') {
            if case.script {
                return Err(err(n, "a script case has no queries"));
            }
            let query = parse_query(q).map_err(|e| err(n, &e))?;
            cell.queries.push(QueryCase {
                query,
                line: n,
                expect: Vec::new(),
            });
            in_query = true;
            continue;
        }
        if in_query {
            let q = cell.queries.last_mut().expect("a query");
            let e = if let Some(t) = line.strip_prefix("+ ") {
                Some(QueryExpect::Has(t.to_string()))
            } else if let Some(t) = line.strip_prefix("- ") {
                Some(QueryExpect::Lacks(t.to_string()))
            } else {
                line.strip_prefix("= ")
                    .map(|t| QueryExpect::Is(t.to_string()))
            };
            match e {
                Some(e) => {
                    q.expect.push(e);
                    continue;
                }
                None if line.trim().is_empty() || line.starts_with('#') => {
                    in_query = false;
                    continue;
                }
                None => return Err(err(n, "after a query: `+ `, `- ` or `= ` lines")),
            }
        }
        if let Some(rest) = line.strip_prefix('%') {
            let (which, spec) = rest.split_once(' ').unwrap_or((rest, ""));
            let check = if which == "%" {
                &mut cell.expected.bundle
            } else {
                let k: usize = which
                    .parse()
                    .ok()
                    .filter(|k| *k >= 1)
                    .ok_or_else(|| err(n, "`%%` or `%N` (N = 1, 2, ...)"))?;
                if cell.expected.outputs.len() < k {
                    cell.expected.outputs.resize(k, BundleCheck::default());
                }
                &mut cell.expected.outputs[k - 1]
            };
            parse_bundle_line(spec, check, which == "%").map_err(|e| err(n, &e))?;
            continue;
        }
        if line == "|" {
            cell.expected.stdout.push('\n');
        } else if let Some(t) = line.strip_prefix("|~ ") {
            cell.expected.stdout.push_str(t);
        } else if let Some(t) = line.strip_prefix("| ") {
            cell.expected.stdout.push_str(t);
            cell.expected.stdout.push('\n');
        } else if let Some(rest) = line.strip_prefix("!! ") {
            if cell.expected.error.is_some() {
                return Err(err(n, "a cell has at most one `!!` error"));
            }
            cell.expected.error = Some(parse_error_line(rest).ok_or_else(|| {
                err(n, "expected `!! KIND[ @L:C[-L:C]]: MESSAGE` with KIND parse, type, runtime or limit")
            })?);
        } else if line.starts_with('#') && display.is_empty() {
            // a comment between cells
        } else if case.script {
            if !line.trim().is_empty() {
                return Err(err(
                    n,
                    "a script case checks only `|` output and `!!` errors",
                ));
            }
        } else {
            display.push(line.to_string());
        }
    }
    flush(&mut cases, &mut display);
    for c in &cases {
        if c.cells.is_empty() {
            return Err(err(c.line, "a case needs at least one `>>>` cell"));
        }
    }
    for case in &mut cases {
        for cell in &mut case.cells {
            cell.source = expand(&cell.source).map_err(|e| err(cell.line, &e))?;
        }
    }
    Ok(cases)
}

/// Compares what a runner saw with what the corpus expects; `Err` describes the difference.
pub fn compare(expected: &Expected, actual: &Actual) -> Result<(), String> {
    let mut problems = String::new();
    if expected.stdout != actual.stdout {
        let _ = writeln!(
            problems,
            "  stdout:  expected {:?}\n           got      {:?}",
            expected.stdout, actual.stdout
        );
    }
    if expected.display != actual.display {
        let _ = writeln!(
            problems,
            "  display: expected {:?}\n           got      {:?}",
            expected.display, actual.display
        );
    }
    match (&expected.error, &actual.error) {
        (None, None) => {}
        (Some(e), None) => {
            let _ = writeln!(
                problems,
                "  error:   expected {} error {:?}, got none",
                e.kind, e.message
            );
        }
        (None, Some(a)) => {
            let _ = writeln!(
                problems,
                "  error:   expected none, got {} error {:?} at {}:{}",
                a.kind, a.message, a.start.line, a.start.column
            );
        }
        (Some(e), Some(a)) => {
            let position_ok = e.start.as_ref().is_none_or(|s| *s == a.start)
                && e.end.as_ref().is_none_or(|s| *s == a.end);
            if e.kind != a.kind || !message_matches(&e.message, &a.message) || !position_ok {
                let _ = writeln!(
                    problems,
                    "  error:   expected {} {:?} {:?}\n           got      {} @{}:{}-{}:{}: {:?}",
                    e.kind,
                    e.start,
                    e.message,
                    a.kind,
                    a.start.line,
                    a.start.column,
                    a.end.line,
                    a.end.column,
                    a.message
                );
            }
        }
    }
    let bundle_checked = expected.bundle.mimes.is_some() || !expected.bundle.forms.is_empty();
    if actual.bundle.is_none() && bundle_checked {
        problems.push_str("  bundle:  `%%` lines on a cell that shows no value\n");
    }
    match (&actual.display, &actual.bundle) {
        (None, None) => {}
        (Some(_), None) => problems.push_str("  bundle:  missing (the value has a display)\n"),
        (None, Some(_)) => problems.push_str("  bundle:  present but the value has no display\n"),
        (Some(d), Some(b)) => {
            if b.first().map(|(m, data)| (m.as_str(), data)) != Some(("text/plain", d)) {
                let _ = writeln!(
                    problems,
                    "  bundle:  text/plain is not first or is not the display: {b:?}"
                );
            }
            check_bundle("value", &expected.bundle, b, None, &mut problems);
        }
    }
    if expected.outputs.len() != actual.outputs.len() {
        let _ = writeln!(
            problems,
            "  outputs: expected {}, got {}: {:?}",
            expected.outputs.len(),
            actual.outputs.len(),
            actual
                .outputs
                .iter()
                .map(|(b, _)| b.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        );
    } else {
        for (i, (e, (b, offset))) in expected.outputs.iter().zip(&actual.outputs).enumerate() {
            check_bundle(
                &format!("output {}", i + 1),
                e,
                b,
                Some(*offset),
                &mut problems,
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_bundle(
    what: &str,
    e: &BundleCheck,
    b: &[(String, String)],
    offset: Option<u32>,
    problems: &mut String,
) {
    let mimes: Vec<&str> = b.iter().map(|(m, _)| m.as_str()).collect();
    let want: Vec<&str> = match &e.mimes {
        Some(m) => m.iter().map(String::as_str).collect(),
        None => vec!["text/plain"],
    };
    if mimes != want {
        let _ = writeln!(
            problems,
            "  {what}: MIME types {want:?} expected, got {mimes:?}"
        );
    }
    if let (Some(want), Some(got)) = (e.offset, offset) {
        if want != got {
            let _ = writeln!(
                problems,
                "  {what}: stdout offset {want} expected, got {got}"
            );
        }
    }
    let form = |mime: &str| b.iter().find(|(m, _)| m == mime).map(|(_, d)| d.as_str());
    for f in &e.forms {
        let (mime, ok, say) = match f {
            FormCheck::Contains { mime, text } => (
                mime,
                form(mime).is_some_and(|d| d.contains(text.as_str())),
                format!("contains {text:?}"),
            ),
            FormCheck::Count { mime, n, text } => {
                // (an absent form fails even `count 0`: the check is about that form)
                let got = form(mime).map_or(0, |d| d.matches(text.as_str()).count());
                (
                    mime,
                    form(mime).is_some() && got == *n,
                    format!("has {n} of {text:?} (found {got})"),
                )
            }
            FormCheck::Xml { mime } => {
                let r = form(mime).map(|d| roxmltree::Document::parse(d).map(|_| ()));
                let say = match &r {
                    Some(Err(e)) => format!("is well-formed XML ({e})"),
                    _ => "is well-formed XML".to_string(),
                };
                (mime, matches!(r, Some(Ok(()))), say)
            }
        };
        if !ok {
            let shown = form(mime).map_or("(absent)".to_string(), shorten);
            let _ = writeln!(problems, "  {what}: expected its {mime} {say}: {shown}");
        }
    }
}

/// Checks a query's answer; `Err` describes what differs.
pub fn check_query(q: &QueryCase, a: &Answer) -> Result<(), String> {
    let mut problems = String::new();
    for e in &q.expect {
        let ok = match (a, e) {
            (Answer::Completions { items, .. }, QueryExpect::Has(t)) => {
                let (label, kind) = t
                    .split_once(' ')
                    .map_or((t.as_str(), None), |(l, k)| (l, Some(k)));
                items
                    .iter()
                    .any(|(l, k)| l == label && kind.is_none_or(|kind| k == kind))
            }
            (Answer::Completions { items, .. }, QueryExpect::Lacks(t)) => {
                !items.iter().any(|(l, _)| l == t)
            }
            (Answer::Completions { start, end, .. }, QueryExpect::Is(t)) => {
                *t == format!("{start}-{end}")
            }
            (Answer::Inspection(m), QueryExpect::Has(t)) => {
                m.as_ref().is_some_and(|m| m.contains(t.as_str()))
            }
            (Answer::Inspection(m), QueryExpect::Lacks(t)) => {
                m.as_ref().is_none_or(|m| !m.contains(t.as_str()))
            }
            (Answer::Inspection(m), QueryExpect::Is(t)) => t == "none" && m.is_none(),
            (Answer::Completeness(c), QueryExpect::Is(t)) => c == t,
            (Answer::Variables(vs), QueryExpect::Has(t)) => {
                vs.iter().any(|(n, ty, d)| format!("{n}: {ty} = {d}") == *t)
            }
            (Answer::Variables(vs), QueryExpect::Lacks(t)) => !vs.iter().any(|(n, _, _)| n == t),
            (Answer::Variables(vs), QueryExpect::Is(t)) => t.parse() == Ok(vs.len()),
            _ => false,
        };
        if !ok {
            let _ = writeln!(problems, "  expected {e:?}");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{problems}  got {a:?}"))
    }
}

/// Runs every case; returns the number of cells checked and a description of each failure.
pub fn run(cases: &[Case], runner: &mut dyn Runner) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        runner.new_session();
        if !case.limits.is_empty() {
            runner.set_limits(&case.limits);
        }
        for cell in &case.cells {
            let actual = if case.script {
                runner.run_script(&cell.source)
            } else {
                runner.execute_cell(&cell.source)
            };
            checked += 1;
            if let Err(why) = compare(&cell.expected, &actual) {
                failures.push(format!(
                    "{}:{}: case \"{}\", cell:\n    {}\n{why}",
                    case.file.display(),
                    cell.line,
                    case.name,
                    shorten(&cell.source).replace('\n', "\n    ")
                ));
            }
            for q in &cell.queries {
                checked += 1;
                let answer = runner.query(&q.query);
                if let Err(why) = check_query(q, &answer) {
                    failures.push(format!(
                        "{}:{}: case \"{}\", query {:?}:\n{why}",
                        case.file.display(),
                        q.line,
                        case.name,
                        q.query
                    ));
                }
            }
        }
    }
    (checked, failures)
}

/// Runs the whole corpus and panics with a readable report if anything differs. With the
/// environment variable `CASES` set, only files whose path contains its value run.
pub fn assert_corpus(runner: &mut dyn Runner, host: &str) {
    let mut cases = load(&corpus_dir()).unwrap_or_else(|e| panic!("corpus: {e}"));
    if let Ok(filter) = std::env::var("CASES") {
        cases.retain(|c| c.file.to_string_lossy().contains(&filter));
    }
    assert!(!cases.is_empty(), "the corpus is empty");
    let (checked, failures) = run(&cases, runner);
    if !failures.is_empty() {
        panic!(
            "{host}: {} of {checked} cells differ from the corpus:\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    eprintln!(
        "{host}: {} cases, {checked} cells, all as expected",
        cases.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cells_outputs_and_errors() {
        let text = "# c\n=== one\n>>> let x = 1\n1\n>>> fun f() {\n...   2\n... }\n<function>\n>>> println(\"a\"); print(\"b\")\n| a\n|~ b\n>>> y\n!! runtime @1:1: Undefined variable: y\n=== two @script\n>>> fun main() {\n>>>   println(\"\")\n>>> }\n|\n";
        let cases = parse(text, Path::new("t.cases")).unwrap();
        assert_eq!(cases.len(), 2);
        let c = &cases[0].cells;
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].expected.display.as_deref(), Some("1"));
        assert_eq!(c[1].source, "fun f() {\n  2\n}");
        assert_eq!(c[2].expected.stdout, "a\nb");
        assert_eq!(c[2].expected.display, None);
        let e = c[3].expected.error.as_ref().unwrap();
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("runtime", "Undefined variable: y")
        );
        assert_eq!(e.start, Some(Position { line: 1, column: 1 }));
        assert!(cases[1].script);
        assert_eq!(cases[1].cells.len(), 1);
        assert_eq!(cases[1].cells[0].source, "fun main() {\n  println(\"\")\n}");
        assert_eq!(cases[1].cells[0].expected.stdout, "\n");
    }

    #[test]
    fn multi_line_display_keeps_inner_blank_lines() {
        let text = "=== s\n>>> \"a\\n\\nb\"\n\"a\n\nb\"\n\n";
        let cases = parse(text, Path::new("t.cases")).unwrap();
        assert_eq!(
            cases[0].cells[0].expected.display.as_deref(),
            Some("\"a\n\nb\"")
        );
    }

    #[test]
    fn malformed_files_name_the_line() {
        let e = parse("=== x\n>>> 1\n!! oops: x\n", Path::new("t.cases")).unwrap_err();
        assert!(e.starts_with("t.cases:3:"), "{e}");
        assert!(parse("1\n", Path::new("t.cases")).is_err());
    }

    #[test]
    fn compare_reports_each_difference() {
        let exp = Expected {
            display: Some("1".into()),
            ..Default::default()
        };
        let plain = |d: &str| Some(vec![("text/plain".to_string(), d.to_string())]);
        assert!(compare(
            &exp,
            &Actual {
                display: Some("1".into()),
                bundle: plain("1"),
                ..Default::default()
            }
        )
        .is_ok());
        let why = compare(
            &exp,
            &Actual {
                display: Some("2".into()),
                stdout: "x".into(),
                bundle: plain("2"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(why.contains("display") && why.contains("stdout"), "{why}");
        // a value without its bundle, an unexpected output
        let why = compare(
            &exp,
            &Actual {
                display: Some("1".into()),
                outputs: vec![(vec![("text/plain".into(), "o".into())], 0)],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(why.contains("bundle:") && why.contains("outputs:"), "{why}");
    }

    #[test]
    fn bundle_lines_and_queries_are_read_and_checked() {
        let text = "=== b\n>>> x\n[{a: 1}]\n%% text/plain text/html\n%% text/html count 2 <tr>\n\
                    %1 text/plain\n%1 offset 3\n?complete xs.p<|>\n+ push method\n- len\n= 3-4\n\
                    ?is-complete fun f() {\n= incomplete 4\n";
        let cases = parse(text, Path::new("t.cases")).unwrap();
        let cell = &cases[0].cells[0];
        assert_eq!(cell.expected.display.as_deref(), Some("[{a: 1}]"));
        assert_eq!(
            cell.expected.bundle.mimes.as_deref(),
            Some(&["text/plain".to_string(), "text/html".to_string()][..])
        );
        assert_eq!(cell.expected.outputs.len(), 1);
        assert_eq!(cell.expected.outputs[0].offset, Some(3));
        assert_eq!(cell.queries.len(), 2);
        assert_eq!(
            cell.queries[0].query,
            Query::Complete {
                source: "xs.p".into(),
                cursor: 4
            }
        );
        let answer = Answer::Completions {
            start: 3,
            end: 4,
            items: vec![("push".into(), "method".into())],
        };
        assert!(check_query(&cell.queries[0], &answer).is_ok());
        let wrong = Answer::Completions {
            start: 3,
            end: 4,
            items: vec![("len".into(), "method".into())],
        };
        assert!(check_query(&cell.queries[0], &wrong).is_err());
        let html = |rows: usize| {
            Some(vec![
                ("text/plain".to_string(), "[{a: 1}]".to_string()),
                ("text/html".to_string(), "<tr>".repeat(rows)),
            ])
        };
        let actual = |rows| Actual {
            display: Some("[{a: 1}]".into()),
            bundle: html(rows),
            outputs: vec![(vec![("text/plain".into(), "o".into())], 3)],
            ..Default::default()
        };
        assert!(compare(&cell.expected, &actual(2)).is_ok());
        assert!(compare(&cell.expected, &actual(3)).is_err());
        assert!(parse(
            "=== q\n>>> 1\n1\n?complete no cursor\n",
            Path::new("t.cases")
        )
        .is_err());
    }
}

/// A cell's source for a failure message: at most 300 characters.
fn shorten(source: &str) -> String {
    if source.chars().count() <= 300 {
        source.to_string()
    } else {
        format!(
            "{}... ({} bytes)",
            source.chars().take(300).collect::<String>(),
            source.len()
        )
    }
}
