//! Errors while running (before they become a [`ruchy_syntax::diagnostic::Diagnostic`] with a
//! span): what the VM, the built-ins, the methods and the arithmetic return.

use crate::value::Value;
use ruchy_syntax::diagnostic::{DiagnosticKind, Span};

/// An error while running, before it becomes a [`ruchy_syntax::diagnostic::Diagnostic`].
#[derive(Clone, Debug)]
pub struct VmError {
    pub kind: DiagnosticKind,
    pub message: String,
    pub span: Option<Span>,
    /// The value of a `throw`; `None` for errors raised by the engine.
    pub thrown: Option<Value>,
}

impl VmError {
    pub fn new(kind: DiagnosticKind, message: impl Into<String>) -> VmError {
        VmError {
            kind,
            message: message.into(),
            span: None,
            thrown: None,
        }
    }

    pub fn runtime(message: impl Into<String>) -> VmError {
        VmError::new(DiagnosticKind::Runtime, message)
    }

    pub fn type_error(message: impl Into<String>) -> VmError {
        VmError::new(DiagnosticKind::Type, message)
    }

    pub fn limit(message: impl Into<String>) -> VmError {
        VmError::new(DiagnosticKind::Limit, message)
    }

    /// The value a `catch` receives: the thrown value, or the message of an engine error.
    pub fn caught_value(&self) -> Value {
        self.thrown
            .clone()
            .unwrap_or_else(|| Value::str(self.message.clone()))
    }
}

impl From<crate::budget::Exceeded> for VmError {
    fn from(e: crate::budget::Exceeded) -> VmError {
        VmError::limit(e.0)
    }
}

pub type VResult<T> = Result<T, VmError>;
