//! The Ruchy notebook, the top layer of the engine: a [`session`] of cells over the runtime,
//! completion and inspection ([`assist`]), and the [`bench`]mark. Pure Rust: no WebAssembly,
//! WIT or host dependency, no I/O (output goes to the session's buffer; time comes from a
//! [`Clock`]).
//!
//! The layers below, each depending only on those under it: [`syntax`] (lexer, parser, AST,
//! diagnostics), [`runtime`] (resolver, compiler, VM, values, built-ins, display) and, with the
//! `compile` feature (on by default, off in the kernel component), [`transpiler`] (Rust export).

pub mod assist;
pub mod bench;
pub mod names;
pub mod session;

pub use ruchy_runtime as runtime;
pub use ruchy_syntax as syntax;
#[cfg(feature = "compile")]
pub use ruchy_transpiler as transpiler;

pub use session::{CellOutput, Clock, InstantClock, Session, Timing};
pub use syntax::{Diagnostic, DiagnosticKind, LineCol, Span};
#[cfg(feature = "compile")]
pub use transpiler::{compile, compile_cells, CellError};
