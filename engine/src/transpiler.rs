//! Transpiler placeholder.
use crate::diagnostic::Diagnostic;

pub fn compile(_source: &str) -> Result<String, Vec<Diagnostic>> {
    Err(vec![])
}
