//! The conformance corpus (`tests/cases`), run through the component in wasmtime.

use conformance::{assert_corpus, Actual, ActualError, CaseLimits, Position, Runner};
use host_rs::build::{ensure_component, workspace_root};
use host_rs::host::{CellResult, Instance, Runtime, SessionHandle};
use host_rs::render::kind_name;

struct Wasmtime {
    inst: Instance,
    session: SessionHandle,
}

fn actual(r: CellResult) -> Actual {
    Actual {
        display: r.display,
        stdout: r.stdout,
        error: r.diagnostic.map(|d| ActualError {
            kind: kind_name(d.kind).to_string(),
            start: Position {
                line: d.span.line,
                column: d.span.column,
            },
            end: Position {
                line: d.span.end_line,
                column: d.span.end_column,
            },
            message: d.message,
        }),
    }
}

impl Runner for Wasmtime {
    fn set_limits(&mut self, limits: &CaseLimits) {
        let mut l = self.inst.get_limits(self.session).expect("get-limits");
        if let Some(v) = limits.time_ms {
            l.time_ms = v;
        }
        if let Some(v) = limits.memory_bytes {
            l.memory_bytes = v;
        }
        if let Some(v) = limits.call_depth {
            l.call_depth = v as u32;
        }
        if let Some(v) = limits.output_bytes {
            l.output_bytes = v as u32;
        }
        self.inst.set_limits(self.session, l).expect("set-limits");
    }

    fn new_session(&mut self) {
        let old = self.session;
        self.session = self.inst.new_session().expect("a new session");
        self.inst.drop_session(old).expect("dropping a session");
    }

    fn execute_cell(&mut self, source: &str) -> Actual {
        actual(
            self.inst
                .execute_cell(self.session, source)
                .expect("execute-cell never traps"),
        )
    }

    fn run_script(&mut self, source: &str) -> Actual {
        actual(
            self.inst
                .run_script(self.session, source)
                .expect("run-script never traps"),
        )
    }
}

#[test]
fn corpus_through_wasmtime() {
    let path = ensure_component(&workspace_root()).expect("the component");
    let rt = Runtime::load(&path).expect("loading the component");
    let mut inst = rt.instantiate().expect("an instance");
    let session = inst.new_session().expect("a session");
    assert_corpus(&mut Wasmtime { inst, session }, "wasmtime");
}
