//! Ruchy's running machinery, on top of `ruchy-syntax`: what a cell becomes and how it runs.
//!
//! [`resolver`] -> [`compiler`] ([`opcode`]) -> [`vm`] (with [`arith`], [`builtins`],
//! [`methods`], [`value`], [`object`], [`collection`]) -> [`display`], [`format`], [`bundle`]
//! ([`rich`], [`chart`]). [`budget`] holds the limits (time, memory) and the clock;
//! [`catalogue`] lists every built-in and method once, for the VM, the transpiler and
//! completion; [`disasm`] prints bytecode.

pub mod arith;
pub mod budget;
pub mod builtins;
pub mod bundle;
pub mod catalogue;
pub mod chart;
pub mod collection;
pub mod compiler;
pub mod disasm;
pub mod display;
pub mod error;
pub mod format;
pub mod methods;
pub mod object;
pub mod opcode;
pub mod resolver;
pub mod rich;
pub mod sort;
pub mod value;
pub mod vm;
