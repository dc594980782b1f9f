//! The conformance corpus (`tests/cases`), run on the native engine, with the counting
//! allocator as its memory probe as the component has (so the memory limit holds here too).

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// What the harness itself holds when a session starts: the probe counts from there, so a
/// session's memory limit means here what it means in a component of its own.
static BASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn session_bytes() -> usize {
    counting_alloc::allocated().saturating_sub(BASE.load(std::sync::atomic::Ordering::Relaxed))
}

fn fresh_session() -> Session {
    BASE.store(
        counting_alloc::allocated(),
        std::sync::atomic::Ordering::Relaxed,
    );
    Session::new()
}

use conformance::{
    assert_corpus, Actual, ActualError, Answer, CaseLimits, Position, Query, Runner,
};
use ruchy_notebook::assist::Completeness;
use ruchy_notebook::runtime::bundle::Bundle;
use ruchy_notebook::{CellOutput, LineCol, Session};

fn forms(b: Bundle) -> Vec<(String, String)> {
    b.into_iter()
        .map(|m| (m.mime.to_string(), m.data))
        .collect()
}

struct Native(Session);

fn actual(out: CellOutput, source: &str) -> Actual {
    Actual {
        display: out.display,
        bundle: out.bundle.map(forms),
        outputs: out
            .outputs
            .into_iter()
            .map(|o| (forms(o.bundle), o.stdout_offset as u32))
            .collect(),
        stdout: out.stdout,
        error: out.diagnostic.map(|d| {
            let lc = LineCol::of(source, d.span);
            ActualError {
                kind: d.kind.as_str().to_string(),
                start: Position {
                    line: lc.line,
                    column: lc.column,
                },
                end: Position {
                    line: lc.end_line,
                    column: lc.end_column,
                },
                message: d.message,
            }
        }),
    }
}

impl Runner for Native {
    fn set_limits(&mut self, limits: &CaseLimits) {
        let mut l = self.0.limits().clone();
        if let Some(v) = limits.time_ms {
            l.max_time_ms = v;
        }
        if let Some(v) = limits.memory_bytes {
            l.max_memory = v as usize;
        }
        if let Some(v) = limits.call_depth {
            l.max_depth = v as usize;
        }
        if let Some(v) = limits.output_bytes {
            l.max_output = v as usize;
        }
        self.0.set_limits(l);
    }

    fn new_session(&mut self) {
        self.0 = fresh_session();
    }

    fn execute_cell(&mut self, source: &str) -> Actual {
        actual(self.0.execute_cell(source), source)
    }

    fn run_script(&mut self, source: &str) -> Actual {
        actual(self.0.run_script(source), source)
    }

    fn query(&mut self, query: &Query) -> Answer {
        match query {
            Query::Complete { source, cursor } => {
                let c = self.0.complete(source, *cursor as usize);
                Answer::Completions {
                    start: c.replace.start,
                    end: c.replace.end,
                    items: c
                        .items
                        .into_iter()
                        .map(|i| (i.label, i.kind.as_str().to_string()))
                        .collect(),
                }
            }
            Query::Inspect { source, cursor } => {
                Answer::Inspection(self.0.inspect(source, *cursor as usize).map(|i| i.markdown))
            }
            Query::IsComplete { source } => {
                Answer::Completeness(match ruchy_notebook::assist::is_complete(source) {
                    Completeness::Complete => "complete".into(),
                    Completeness::Invalid => "invalid".into(),
                    Completeness::Incomplete(indent) => format!("incomplete {}", indent.len()),
                })
            }
            Query::Variables => Answer::Variables(
                self.0
                    .variables()
                    .into_iter()
                    .map(|v| (v.name, v.type_name, v.display))
                    .collect(),
            ),
        }
    }
}

#[test]
fn corpus_on_the_native_engine() {
    ruchy_notebook::runtime::budget::set_memory_probe(session_bytes);
    assert_corpus(&mut Native(fresh_session()), "native engine");
}
