//! The transpiler behind `compile` (spec section 16): a Ruchy program to a Rust 2021 program
//! that builds with plain `rustc` and prints what the interpreter prints when it runs the
//! program as a script.
//!
//! Passes over the syntax tree, with the engine's own resolver deciding what each name refers
//! to: [`infer`] gives every expression and binding a Rust type ([`types`]) and refuses what
//! no Rust type says; [`check`] refuses what typed Rust cannot say about the program as a
//! whole; [`emit`] writes typed, readable Rust (and still refuses some constructs as it meets
//! them: the shapes of values it cannot show or assign). What cannot be written as typed Rust that behaves
//! the same is refused with a diagnostic that points at the construct and says why: `compile`
//! never returns Rust that fails to build.

mod check;
mod emit;
mod infer;
pub mod runtime;
#[doc(hidden)]
pub mod scaling;
pub mod types;

use ruchy_runtime::resolver::{resolve, Globals};
use ruchy_syntax::diagnostic::{Diagnostic, Span};
use ruchy_syntax::parser::parse;

/// Transpiles a Ruchy program to a Rust program, or explains why it cannot. The Rust prints
/// what the interpreter prints when it runs the program as a script.
pub fn compile(source: &str) -> Result<String, Vec<Diagnostic>> {
    translate(source, &[], TIME_LIMIT_MS)
}

/// Transpiles notebook cells (run in order in one session) to one Rust program that prints
/// what the notebook showed: each cell's output, then the display of its value. Diagnostics
/// point into the cells joined by [`NOTEBOOK_SEPARATOR`].
pub fn compile_notebook(cells: &[&str]) -> Result<String, Vec<Diagnostic>> {
    let mut source = String::new();
    let mut ends = Vec::new();
    for c in cells {
        source.push_str(c);
        ends.push(source.len() as u32);
        source.push_str(NOTEBOOK_SEPARATOR);
    }
    translate(&source, &ends, TIME_LIMIT_MS)
}

/// A diagnostic about one cell of a notebook given to [`compile_cells`].
#[derive(Clone, Debug, PartialEq)]
pub struct CellError {
    /// Which cell, 1-based.
    pub cell: u32,
    /// That cell's source.
    pub source: String,
    /// The diagnostic; its span is relative to `source`, its message names the cell.
    pub diagnostic: Diagnostic,
}

/// [`compile_notebook`] with each diagnostic pointing into its own cell.
pub fn compile_cells(cells: &[&str]) -> Result<String, Vec<CellError>> {
    compile_notebook(cells).map_err(|ds| {
        ds.into_iter()
            .map(|d| {
                let (i, start) = notebook_cell_of(cells, d.span.start);
                let source = cells.get(i).copied().unwrap_or("");
                let len = source.len() as u32;
                let span = Span::new(
                    d.span.start.saturating_sub(start).min(len),
                    d.span.end.saturating_sub(start).min(len),
                );
                CellError {
                    cell: i as u32 + 1,
                    source: source.to_string(),
                    diagnostic: Diagnostic {
                        kind: d.kind,
                        message: format!("cell {}: {}", i + 1, d.message),
                        span,
                    },
                }
            })
            .collect()
    })
}

/// Which cell of `cells` (joined as [`compile_notebook`] joins them) holds the byte `offset`,
/// and where that cell starts in the joined source.
fn notebook_cell_of(cells: &[&str], offset: u32) -> (usize, u32) {
    let mut start = 0u32;
    for (i, c) in cells.iter().enumerate() {
        let end = start + c.len() as u32 + NOTEBOOK_SEPARATOR.len() as u32;
        if offset < end || i + 1 == cells.len() {
            return (i, start);
        }
        start = end;
    }
    (0, 0)
}

/// How long one `compile` or `compile-cells` may take, in milliseconds: past it, it ends with
/// a `limit` diagnostic. The passes are linear in the program (types are bounded by
/// [`types::MAX_TYPE_PARTS`]), so only programs of many megabytes come near it.
pub const TIME_LIMIT_MS: u64 = 10_000;

/// The `limit` diagnostic for a compile that went past its time limit, at the expression it
/// was working on.
fn over_time(x: ruchy_runtime::budget::Exceeded, span: Span) -> Diagnostic {
    Diagnostic::new(ruchy_syntax::diagnostic::DiagnosticKind::Limit, x.0, span)
}

/// What joins notebook cells into one program: a newline and a `;`, so that no cell's first
/// line continues the previous cell's last expression (D17).
pub const NOTEBOOK_SEPARATOR: &str = "\n;\n";

/// `cell_ends`: byte offsets where notebook cells end (empty for a script); the last
/// top-level expression before each is displayed.
fn translate(source: &str, cell_ends: &[u32], time_ms: u64) -> Result<String, Vec<Diagnostic>> {
    let _stack = ruchy_syntax::stack::enter();
    let _meter = ruchy_runtime::budget::Task::start("compile", time_ms);
    let program = parse(source).map_err(|d| vec![d])?;
    let mut globals = Globals::default();
    let res = resolve(&program, &mut globals).map_err(|d| vec![d])?;
    let typed = infer::infer(&program, &res, &globals)?;
    check::check(&program, &res, &globals, &typed, !cell_ends.is_empty()).map_err(|d| vec![d])?;
    let mut display = types::HashSet::default();
    for &end in cell_ends {
        if let Some(i) = program.exprs.iter().rposition(|e| e.span.end <= end) {
            display.insert(i);
        }
    }
    emit::emit(
        &program,
        &res,
        &globals,
        &typed,
        &display,
        !cell_ends.is_empty(),
    )
    .map_err(|d| vec![d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_cells_become_typed_rust() {
        let rust = compile(
            "let x = 42\nlet y = x * 2 + 1\nfun double(n: Int) -> Int { n * 2 }\nlet result = double(21)\nif x > 0 { x } else { 0 }",
        )
        .unwrap();
        assert!(rust.contains("fn double(n: i64) -> i64 {"), "{rust}");
        assert!(rust.contains("let x: i64 = 42;"), "{rust}");
        assert!(rust.contains("fn main() {"), "{rust}");
    }

    #[test]
    fn unsupported_constructs_are_diagnosed_with_a_span() {
        let errs = compile("let a = [1, \"two\"]").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("string"), "{}", errs[0].message);
        assert_eq!(errs[0].span.start, 12);
    }

    /// Deep and long programs of many shapes: each ends with Rust or a diagnostic, and the Rust
    /// is at most a constant times longer than the program (types are bounded, and nested
    /// code stops indenting at 64 spaces). Their times, at sizes that double, are measured by
    /// `cargo run --release -p ruchy-notebook --example compile_scaling`.
    #[test]
    fn deep_and_long_programs_end_with_linear_rust_or_a_diagnostic() {
        for (name, src) in crate::scaling::shapes(3000) {
            match compile(&src) {
                Ok(rust) => assert!(
                    rust.len() <= 40 * src.len() + 64 * 1024,
                    "{name}: {} bytes of Rust from {} bytes",
                    rust.len(),
                    src.len()
                ),
                Err(ds) => assert!(
                    matches!(
                        ds[0].kind,
                        ruchy_syntax::DiagnosticKind::Limit | ruchy_syntax::DiagnosticKind::Type
                    ),
                    "{name}: {:?}",
                    ds[0]
                ),
            }
        }
    }

    #[test]
    fn nested_closures_are_refused_past_the_type_bound() {
        let src = format!("{}1", "|| ".repeat(40));
        let errs = compile(&src).unwrap_err();
        assert!(
            errs[0]
                .message
                .contains("more than 128 parts or nests more than 16 deep"),
            "{}",
            errs[0].message
        );
        assert!(compile(&format!("let f = {}1\nprintln(f()()()())", "|| ".repeat(4))).is_ok());
    }

    #[test]
    fn compile_ends_at_its_time_limit_with_a_limit_diagnostic() {
        let src = "let x = 1\n".repeat(5000);
        let errs = translate(&src, &[], 0).unwrap_err();
        assert_eq!(errs[0].kind, ruchy_syntax::DiagnosticKind::Limit);
        assert_eq!(
            errs[0].message,
            "Time limit exceeded: compile ran longer than 0 ms"
        );
        // the meter is as it was afterwards: no limit outside a cell
        assert!(ruchy_runtime::budget::check().is_ok());
        assert!(compile(&src).is_ok());
    }

    #[test]
    fn an_or_pattern_binding_different_names_binds_nothing_or_is_refused() {
        // nothing uses `x`: Rust that binds nothing
        let rust =
            compile("let opt = Some(1)\nmatch opt { Some(x) | None => println(\"handled\") }")
                .unwrap();
        assert!(rust.contains("Some(_) | None =>"), "{rust}");
        // the arm uses `x`: a diagnostic at the pattern
        let src = "let opt = Some(1)\nmatch opt { Some(x) | None => println(x) }";
        let errs = compile(src).unwrap_err();
        assert!(
            errs[0]
                .message
                .contains("`x` is bound by only some of them"),
            "{}",
            errs[0].message
        );
        assert_eq!(
            &src[errs[0].span.start as usize..errs[0].span.end as usize],
            "Some(x) | None"
        );
        // `if let` is a `match` arm too
        assert!(compile("let opt = Some(1)\nif let Some(x) | None = opt { println(x) }").is_err());
        assert!(compile("match (1, 2) { (1, y) | (y, 1) => println(y), _ => println(0) }").is_ok());
    }

    #[test]
    fn parse_errors_pass_through() {
        let errs = compile("let x = ").unwrap_err();
        assert_eq!(errs[0].kind, ruchy_syntax::DiagnosticKind::Parse);
    }
}
