//! Source spans and diagnostics: the one error type every stage returns.
//!
//! A span is a byte range into the source a stage was given. Lines and columns are computed
//! only when a diagnostic leaves the engine ([`LineCol`]), so the hot paths carry two `u32`s.

use std::fmt;

/// A byte range `start..end` in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Moves a span found in a sub-text that starts at `offset` of the outer text.
    pub fn shifted(self, offset: u32) -> Span {
        Span {
            start: self.start + offset,
            end: self.end + offset,
        }
    }
}

/// The broad class of an error; the WIT `diagnostic-kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    Parse,
    Type,
    Runtime,
    Limit,
}

impl DiagnosticKind {
    /// Whether a diagnostic of this kind comes from running (so earlier output may exist).
    pub fn is_runtime(self) -> bool {
        matches!(
            self,
            DiagnosticKind::Runtime | DiagnosticKind::Type | DiagnosticKind::Limit
        )
    }

    /// The word used in corpus files and host renderings: `parse`, `type`, `runtime`, `limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::Parse => "parse",
            DiagnosticKind::Type => "type",
            DiagnosticKind::Runtime => "runtime",
            DiagnosticKind::Limit => "limit",
        }
    }

    /// The prefix a host puts before the message, e.g. `Runtime error`.
    pub fn title(self) -> &'static str {
        match self {
            DiagnosticKind::Parse => "Parse error",
            DiagnosticKind::Type => "Type error",
            DiagnosticKind::Runtime => "Runtime error",
            DiagnosticKind::Limit => "Limit exceeded",
        }
    }
}

/// One error with the source region it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub message: String,
    pub span: Span,
}

impl Diagnostic {
    pub fn new(kind: DiagnosticKind, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            kind,
            message: message.into(),
            span,
        }
    }

    pub fn parse(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(DiagnosticKind::Parse, message, span)
    }

    /// Renders the diagnostic the way the hosts do: a title line, the source line, a caret
    /// line under the span. Used by native tools and tests; hosts have their own copy of this
    /// rule because only structured data crosses the component boundary.
    pub fn render(&self, source: &str) -> String {
        let lc = LineCol::of(source, self.span);
        let line_text = source.lines().nth(lc.line as usize - 1).unwrap_or("");
        let gutter = lc.line.to_string();
        let width = if lc.end_line == lc.line && lc.end_column > lc.column {
            (lc.end_column - lc.column) as usize
        } else {
            1
        };
        format!(
            "{}: {}\n{} | {}\n{} | {}{}\n",
            self.kind.title(),
            self.message,
            gutter,
            line_text,
            " ".repeat(gutter.len()),
            " ".repeat(lc.column as usize - 1),
            "^".repeat(width)
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.title(), self.message)
    }
}

/// Line and column (1-based, columns in characters) of both ends of a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl LineCol {
    /// Computes line and column of both ends of `span` in `source`; offsets past the end or
    /// inside a character are clamped, never a panic.
    pub fn of(source: &str, span: Span) -> LineCol {
        let (line, column) = position(source, span.start as usize);
        let (end_line, end_column) = position(source, span.end.max(span.start) as usize);
        LineCol {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

fn position(source: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() as u32 + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "let a = 1\nlet é = y";
        let at = src.find('y').unwrap() as u32;
        let lc = LineCol::of(src, Span::new(at, at + 1));
        assert_eq!(
            (lc.line, lc.column, lc.end_line, lc.end_column),
            (2, 9, 2, 10)
        );
    }

    #[test]
    fn out_of_range_spans_are_clamped() {
        let lc = LineCol::of("ab", Span::new(7, 99));
        assert_eq!((lc.line, lc.column), (1, 3));
    }

    #[test]
    fn render_puts_a_caret_under_the_span() {
        let d = Diagnostic::new(
            DiagnosticKind::Runtime,
            "Undefined variable: y",
            Span::new(4, 5),
        );
        assert_eq!(
            d.render("1 + y"),
            "Runtime error: Undefined variable: y\n1 | 1 + y\n  |     ^\n"
        );
    }
}
