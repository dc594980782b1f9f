//! The `compiler` interface (Rust export), only in the full component (feature `compile`).

use crate::bindings::exports::ruchy::notebook::compiler as wit;
use crate::{diagnostic, Component, Session};

impl wit::Guest for Component {
    fn compile(source: String) -> Result<String, Vec<wit::Diagnostic>> {
        ruchy_notebook::compile(&source)
            .map_err(|ds| ds.iter().map(|d| diagnostic(d, &source)).collect())
    }

    fn compile_cells(cells: Vec<String>) -> Result<String, Vec<wit::CellError>> {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        ruchy_notebook::compile_cells(&cells).map_err(cell_errors)
    }

    fn export_rust(session: wit::SessionBorrow<'_>) -> Result<String, Vec<wit::CellError>> {
        session
            .get::<Session>()
            .0
            .borrow()
            .export_rust()
            .map_err(cell_errors)
    }
}

fn cell_errors(errors: Vec<ruchy_notebook::CellError>) -> Vec<wit::CellError> {
    errors
        .into_iter()
        .map(|e| wit::CellError {
            cell: e.cell,
            diagnostic: diagnostic(&e.diagnostic, &e.source),
            source: e.source,
        })
        .collect()
}
