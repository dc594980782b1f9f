//! The conformance corpus (`tests/cases`), run through both components in wasmtime: the full
//! one and the kernel (the corpus runs cells and asks questions; it needs no Rust export).

use conformance::{
    assert_corpus, Actual, ActualError, Answer, CaseLimits, Position, Query, Runner,
};
use host_rs::build::{ensure_component, ensure_kernel, workspace_root};
use host_rs::host::{CellResult, Completeness, Instance, MimeData, Runtime, SessionHandle};
use host_rs::json::completion_kind;
use host_rs::render::kind_name;

fn forms(b: Vec<MimeData>) -> Vec<(String, String)> {
    b.into_iter().map(|m| (m.mime, m.data)).collect()
}

struct Wasmtime {
    inst: Instance,
    session: SessionHandle,
}

fn actual(r: CellResult) -> Actual {
    Actual {
        display: r.display,
        bundle: r.bundle.map(forms),
        outputs: r
            .outputs
            .into_iter()
            .map(|o| (forms(o.bundle), o.stdout_offset))
            .collect(),
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

    fn query(&mut self, query: &Query) -> Answer {
        let (inst, s) = (&mut self.inst, self.session);
        match query {
            Query::Complete { source, cursor } => {
                let c = inst
                    .complete(s, source, *cursor)
                    .expect("complete never traps");
                Answer::Completions {
                    start: c.replace.start,
                    end: c.replace.end,
                    items: c
                        .items
                        .into_iter()
                        .map(|i| (i.label, completion_kind(i.kind).to_string()))
                        .collect(),
                }
            }
            Query::Inspect { source, cursor } => Answer::Inspection(
                inst.inspect(s, source, *cursor)
                    .expect("inspect never traps")
                    .map(|i| i.markdown),
            ),
            Query::IsComplete { source } => Answer::Completeness(
                match inst
                    .is_complete(s, source)
                    .expect("is-complete never traps")
                {
                    Completeness::Complete => "complete".into(),
                    Completeness::Invalid => "invalid".into(),
                    Completeness::Incomplete(indent) => format!("incomplete {}", indent.len()),
                },
            ),
            Query::Variables => Answer::Variables(
                inst.variables(s)
                    .expect("variables never traps")
                    .into_iter()
                    .map(|v| (v.name, v.type_name, v.display))
                    .collect(),
            ),
        }
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
    corpus_through(
        &ensure_component(&workspace_root()).expect("the component"),
        "wasmtime",
    );
}

#[test]
fn corpus_through_wasmtime_on_the_kernel() {
    let path = ensure_kernel(&workspace_root()).expect("the kernel");
    corpus_through(&path, "wasmtime (kernel)");
}

fn corpus_through(path: &std::path::Path, name: &str) {
    let rt = Runtime::load(path).expect("loading the component");
    let mut inst = rt.instantiate().expect("an instance");
    assert_eq!(
        inst.has_compiler(),
        !name.contains("kernel"),
        "{}",
        path.display()
    );
    let session = inst.new_session().expect("a session");
    assert_corpus(&mut Wasmtime { inst, session }, name);
}
