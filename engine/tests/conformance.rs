//! The conformance corpus (`tests/cases`), run on the native engine.

use conformance::{assert_corpus, Actual, ActualError, Position, Runner};
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
    fn set_limits(&mut self, limits: &[(String, u64)]) {
        let mut l = self.0.limits().clone();
        for (k, v) in limits {
            let v = *v;
            match k.as_str() {
                "time-ms" => l.max_time_ms = v,
                "memory-bytes" => l.max_memory = v as usize,
                "call-depth" => l.max_depth = v as usize,
                "output-bytes" => l.max_output = v as usize,
                other => panic!("unknown limit {other}"),
            }
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
