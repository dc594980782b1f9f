//! The Ruchy engine: lexer, parser, resolver, bytecode compiler and VM, transpiler to Rust,
//! and the notebook session. Pure Rust: no WebAssembly, WIT or host dependency, no I/O
//! (output goes to the session's buffer; time comes from a [`budget::Clock`]).
//!
//! Pipeline of a cell: [`lexer`] -> [`parser`] ([`ast`]) -> [`resolver`] -> [`compiler`]
//! ([`opcode`]) -> [`vm`] (with [`arith`], [`builtins`], [`methods`], [`value`], [`collection`]) ->
//! [`display`]. [`session`] ties them together; [`transpiler`] is the `compile` path.

pub mod arith;
pub mod assist;
pub mod ast;
pub mod bench;
pub mod budget;
pub mod builtins;
pub mod bundle;
pub mod catalogue;
pub mod chart;
pub mod collection;
pub mod compiler;
pub mod diagnostic;
pub mod disasm;
pub mod display;
pub mod format;
pub mod lexer;
pub mod methods;
pub mod object;
pub mod opcode;
pub mod parser;
pub mod resolver;
pub mod rich;
pub mod session;
pub mod stack;
pub mod transpiler;
pub mod value;
pub mod vm;

pub use diagnostic::{Diagnostic, DiagnosticKind, LineCol, Span};
pub use session::{CellOutput, Clock, InstantClock, Session, Timing};
pub use transpiler::{compile, compile_cells, CellError};
