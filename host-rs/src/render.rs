//! Rendering what the component returns: diagnostics with the source line and a caret,
//! benchmark tables. (The Node host has the same rules in `host-js/render.mjs`.)

use crate::host::{Diagnostic, DiagnosticKind};

pub fn kind_title(k: DiagnosticKind) -> &'static str {
    match k {
        DiagnosticKind::Parse => "Parse error",
        DiagnosticKind::Type => "Type error",
        DiagnosticKind::Runtime => "Runtime error",
        DiagnosticKind::Limit => "Limit exceeded",
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
pub struct Row {
    pub category: String,
    pub cell: String,
    pub target_us: f64,
    pub stats: Stats,
    pub met: bool,
}

pub fn table(title: &str, rows: &[Row]) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "{:<20} {:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}\n",
        "category", "cell", "target", "mean", "p50", "p95", "p99", "max", "met"
    ));
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:<38} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {}\n",
            r.category,
            r.cell,
            r.target_us,
            r.stats.mean,
            r.stats.p50,
            r.stats.p95,
            r.stats.p99,
            r.stats.max,
            if r.met { "yes" } else { "NO" }
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
