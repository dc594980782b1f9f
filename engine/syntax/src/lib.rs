//! Ruchy source to syntax tree: the bottom layer of the engine, with no dependency.
//!
//! [`lexer`] -> [`parser`] ([`ast`]); what goes wrong is a [`diagnostic`] with a source span.
//! [`template`] reads format specs and `{}` templates; [`stack`] bounds nesting for every
//! recursive walk of the tree (the parser's and the layers' above).

pub mod ast;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod stack;
pub mod template;

pub use diagnostic::{Diagnostic, DiagnosticKind, LineCol, Span};
