//! Rendering what the component returns: diagnostics with the source line and a caret,
//! benchmark tables. (The Node host has the same rules in `host-js/render.mjs`.)

use crate::host::{BenchmarkGroup, CellResult, Diagnostic, DiagnosticKind};

pub fn kind_title(k: DiagnosticKind) -> &'static str {
    match k {
        DiagnosticKind::Parse => "Parse error",
        DiagnosticKind::Type => "Type error",
        DiagnosticKind::Runtime => "Runtime error",
        DiagnosticKind::Limit => "Limit exceeded",
    }
}

/// The `ename` of a Jupyter `error` output for a diagnostic of kind `k`, named as exceptions
/// are; the page's .ipynb files use the same names (`host-js/browser/src/ipynb.js`).
pub fn error_name(k: DiagnosticKind) -> &'static str {
    match k {
        DiagnosticKind::Parse => "ParseError",
        DiagnosticKind::Type => "TypeError",
        DiagnosticKind::Runtime => "RuntimeError",
        DiagnosticKind::Limit => "LimitExceeded",
    }
}

pub fn kind_name(k: DiagnosticKind) -> &'static str {
    match k {
        DiagnosticKind::Parse => "parse",
        DiagnosticKind::Type => "type",
        DiagnosticKind::Runtime => "runtime",
        DiagnosticKind::Limit => "limit",
    }
}

/// A cell as a terminal shows it: what it printed, with each `display(...)` output's text
/// (`text/plain`, always in the bundle) where it was made, then the value's display.
pub fn cell_text(r: &CellResult) -> String {
    let mut out = String::new();
    let mut at = 0;
    for o in &r.outputs {
        let to = (o.stdout_offset as usize).clamp(at, r.stdout.len());
        out.push_str(r.stdout.get(at..to).unwrap_or(""));
        at = to;
        if let Some(m) = o.bundle.iter().find(|m| m.mime == "text/plain") {
            out.push_str(&m.data);
            out.push('\n');
        }
    }
    out.push_str(r.stdout.get(at..).unwrap_or(""));
    if let Some(d) = &r.display {
        out.push_str(d);
        out.push('\n');
    }
    out
}

/// ```text
/// Runtime error: Undefined variable: y
///  --> cell.ruchy:1:5
///   |
/// 1 | x + y
///   |     ^
/// ```
pub fn diagnostic(d: &Diagnostic, source: &str, origin: &str) -> String {
    let sp = &d.span;
    let line_text = source
        .lines()
        .nth(sp.line.saturating_sub(1) as usize)
        .unwrap_or("");
    let gutter = sp.line.to_string();
    let pad = " ".repeat(gutter.len());
    let width = if sp.end_line == sp.line && sp.end_column > sp.column {
        (sp.end_column - sp.column) as usize
    } else {
        1
    };
    // the caret line follows the source line's tabs so it lines up
    let lead: String = line_text
        .chars()
        .take(sp.column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!(
        "{}: {}\n{pad}--> {origin}:{}:{}\n{pad} |\n{gutter} | {line_text}\n{pad} | {lead}{}\n",
        kind_title(d.kind),
        d.message,
        sp.line,
        sp.column,
        "^".repeat(width)
    )
}

/// Summary statistics of samples in microseconds; percentiles by nearest rank (the rule the
/// component uses for its own report).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub samples: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = ((p / 100.0) * s.len() as f64).ceil() as usize;
            s[i.clamp(1, s.len()) - 1]
        };
        Stats {
            samples: s.len(),
            mean: s.iter().sum::<f64>() / s.len() as f64,
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: s[s.len() - 1],
        }
    }
}

/// One row of a benchmark table.
#[derive(Clone, Debug)]
pub struct Row {
    pub category: String,
    /// Seed, compile or compute (a compute row is outside the 10 ms rule, with no target).
    pub group: BenchmarkGroup,
    pub cell: String,
    /// Display of the cell's value.
    pub result: String,
    pub target_us: Option<f64>,
    pub stats: Stats,
    pub met: bool,
}

/// A cell on one line of at most `width` characters.
fn one_line(cell: &str, width: usize) -> String {
    let flat = cell.replace('\n', "; ");
    if flat.chars().count() <= width {
        flat
    } else {
        flat.chars().take(width - 2).collect::<String>() + ".."
    }
}

pub fn table(title: &str, rows: &[Row]) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "{:<30} {:<40} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n",
        "category", "cell", "target", "mean", "p50", "p95", "p99", "max", "met"
    ));
    let mut in_compute = false;
    for r in rows {
        if r.group == BenchmarkGroup::Compute && !in_compute {
            in_compute = true;
            out.push_str(
                "compute cells, outside the 10 ms rule (result shown instead of a target):\n",
            );
        }
        let target = r.target_us.map_or("-".to_string(), |t| format!("{t}"));
        let verdict = if r.group == BenchmarkGroup::Compute {
            format!("= {}", r.result)
        } else if r.met {
            "yes".to_string()
        } else {
            "NO".to_string()
        };
        out.push_str(&format!(
            "{:<30} {:<40} {:>9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2}  {}\n",
            r.category,
            one_line(&r.cell, 40),
            target,
            r.stats.mean,
            r.stats.p50,
            r.stats.p95,
            r.stats.p99,
            r.stats.max,
            verdict
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Span;

    #[test]
    fn caret_under_the_span() {
        let d = Diagnostic {
            kind: DiagnosticKind::Runtime,
            message: "Undefined variable: y".into(),
            span: Span {
                start: 4,
                end: 5,
                line: 1,
                column: 5,
                end_line: 1,
                end_column: 6,
            },
        };
        assert_eq!(
            diagnostic(&d, "x + y", "cell"),
            "Runtime error: Undefined variable: y\n --> cell:1:5\n  |\n1 | x + y\n  |     ^\n"
        );
    }

    #[test]
    fn nearest_rank() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.p50, s.p95, s.max, s.mean), (3.0, 5.0, 5.0, 3.0));
    }
}
