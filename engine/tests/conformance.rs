//! The conformance corpus (`tests/cases`), run on the native engine.

use conformance::{assert_corpus, Actual, ActualError, CaseLimits, Position, Runner};
use engine::{CellOutput, LineCol, Session};

struct Native(Session);

fn actual(out: CellOutput, source: &str) -> Actual {
    Actual {
        display: out.display,
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
        self.0 = Session::new();
    }

    fn execute_cell(&mut self, source: &str) -> Actual {
        actual(self.0.execute_cell(source), source)
    }

    fn run_script(&mut self, source: &str) -> Actual {
        actual(self.0.run_script(source), source)
    }
}

#[test]
fn corpus_on_the_native_engine() {
    assert_corpus(&mut Native(Session::new()), "native engine");
}
