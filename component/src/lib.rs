//! The `ruchy:notebook` component: exports the engine through the WIT contract in `wit/`.
//!
//! Only conversions live here (engine types to WIT records); every language decision is in
//! the `engine` crate.

use std::cell::RefCell;

/// The allocator, counting the bytes allocated: the engine's probe for its memory limit.
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// The full component (world `notebook`) with the `compile` feature (default), the kernel
/// (world `kernel`: no Rust export) without it.
#[cfg(feature = "compile")]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "notebook",
    });
}
#[cfg(not(feature = "compile"))]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "kernel",
    });
}

#[cfg(feature = "compile")]
mod compiler;

use bindings::exports::ruchy::notebook::engine as wit;
use ruchy_notebook::assist;

pub(crate) struct Component;

impl wit::Guest for Component {
    type Session = Session;

    fn benchmark(iterations: u32) -> wit::BenchmarkReport {
        let r = ruchy_notebook::bench::run(iterations);
        wit::BenchmarkReport {
            categories: r
                .categories
                .into_iter()
                .map(|c| wit::BenchmarkCategory {
                    name: c.name,
                    group: match c.group {
                        ruchy_notebook::bench::Group::Seed => wit::BenchmarkGroup::Seed,
                        ruchy_notebook::bench::Group::Compile => wit::BenchmarkGroup::Compile,
                        ruchy_notebook::bench::Group::Compute => wit::BenchmarkGroup::Compute,
                        ruchy_notebook::bench::Group::Protocol => wit::BenchmarkGroup::Protocol,
                    },
                    setup: c.setup,
                    cell: c.cell,
                    display: c.result,
                    target_us: c.target_us,
                    samples: c.stats.samples,
                    mean_us: c.stats.mean,
                    p50_us: c.stats.p50,
                    p95_us: c.stats.p95,
                    p99_us: c.stats.p99,
                    max_us: c.stats.max,
                    target_met: c.target_met,
                })
                .collect(),
            overall_mean_us: r.overall_mean_us,
            share_under_cell_target: r.share_under_cell_target,
            simple_share_under_cell_target: r.simple_share_under_cell_target,
            criteria_met: r.criteria_met,
        }
    }

    fn memory_bytes() -> u64 {
        #[cfg(target_arch = "wasm32")]
        {
            core::arch::wasm32::memory_size(0) as u64 * 65536
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            0
        }
    }
}

pub(crate) struct Session(RefCell<ruchy_notebook::Session>);

impl wit::GuestSession for Session {
    fn new() -> Self {
        ruchy_notebook::runtime::budget::set_memory_probe(counting_alloc::allocated);
        Session(RefCell::new(ruchy_notebook::Session::new()))
    }

    fn get_limits(&self) -> wit::Limits {
        let l = self.0.borrow().limits().clone();
        wit::Limits {
            time_ms: l.max_time_ms,
            memory_bytes: l.max_memory as u64,
            call_depth: u32::try_from(l.max_depth).unwrap_or(u32::MAX),
            output_bytes: u32::try_from(l.max_output).unwrap_or(u32::MAX),
        }
    }

    fn set_limits(&self, limits: wit::Limits) {
        let mut s = self.0.borrow_mut();
        let old = s.limits().clone();
        s.set_limits(ruchy_notebook::runtime::vm::Limits {
            max_time_ms: limits.time_ms,
            max_memory: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            max_depth: limits.call_depth as usize,
            max_output: limits.output_bytes as usize,
            ..old
        });
    }

    fn execute_cell(&self, source: String) -> wit::CellResult {
        let out = self.0.borrow_mut().execute_cell(&source);
        cell_result(out, &source)
    }

    fn run_script(&self, source: String) -> wit::CellResult {
        let out = self.0.borrow_mut().run_script(&source);
        cell_result(out, &source)
    }

    fn complete(&self, source: String, cursor: u32) -> wit::Completions {
        let c = self.0.borrow().complete(&source, cursor as usize);
        wit::Completions {
            replace: span(c.replace, &source),
            items: c
                .items
                .into_iter()
                .map(|i| wit::Completion {
                    label: i.label,
                    kind: match i.kind {
                        assist::CompletionKind::Variable => wit::CompletionKind::Variable,
                        assist::CompletionKind::Function => wit::CompletionKind::Function,
                        assist::CompletionKind::Method => wit::CompletionKind::Method,
                        assist::CompletionKind::Keyword => wit::CompletionKind::Keyword,
                        assist::CompletionKind::Type => wit::CompletionKind::Type,
                        assist::CompletionKind::Field => wit::CompletionKind::Field,
                    },
                    detail: i.detail,
                })
                .collect(),
        }
    }

    fn inspect(&self, source: String, cursor: u32) -> Option<wit::Inspection> {
        let i = self.0.borrow().inspect(&source, cursor as usize)?;
        Some(wit::Inspection {
            span: span(i.span, &source),
            markdown: i.markdown,
        })
    }

    fn is_complete(&self, source: String) -> wit::Completeness {
        match assist::is_complete(&source) {
            assist::Completeness::Complete => wit::Completeness::Complete,
            assist::Completeness::Incomplete(indent) => wit::Completeness::Incomplete(indent),
            assist::Completeness::Invalid => wit::Completeness::Invalid,
        }
    }

    fn variables(&self) -> Vec<wit::Variable> {
        self.0
            .borrow()
            .variables()
            .into_iter()
            .map(variable)
            .collect()
    }

    fn variables_since(&self, generation: u64) -> wit::VariablesUpdate {
        let since = u32::try_from(generation).unwrap_or(u32::MAX);
        let (generation, changed) = self.0.borrow().variables_since(since);
        wit::VariablesUpdate {
            generation: generation as u64,
            changed: changed.into_iter().map(variable).collect(),
        }
    }

    fn disassemble(&self, source: String) -> Result<String, wit::Diagnostic> {
        self.0
            .borrow_mut()
            .disassemble(&source)
            .map_err(|d| diagnostic(&d, &source))
    }
}

fn variable(v: assist::Variable) -> wit::Variable {
    wit::Variable {
        name: v.name,
        type_name: v.type_name,
        display: v.display,
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn bundle(b: ruchy_notebook::runtime::bundle::Bundle) -> Vec<wit::MimeData> {
    b.into_iter()
        .map(|m| wit::MimeData {
            mime: m.mime.to_string(),
            data: m.data,
        })
        .collect()
}

fn cell_result(out: ruchy_notebook::CellOutput, source: &str) -> wit::CellResult {
    let total = us(out.timing.total_ns);
    wit::CellResult {
        display: out.display,
        bundle: out.bundle.map(bundle),
        outputs: out
            .outputs
            .into_iter()
            .map(|o| wit::DisplayOutput {
                bundle: bundle(o.bundle),
                stdout_offset: u32::try_from(o.stdout_offset).unwrap_or(u32::MAX),
            })
            .collect(),
        stdout: out.stdout,
        diagnostic: out.diagnostic.as_ref().map(|d| diagnostic(d, source)),
        performance: wit::Performance {
            total_us: total,
            parse_us: us(out.timing.parse_ns),
            compile_us: us(out.timing.compile_ns),
            evaluate_us: us(out.timing.evaluate_ns),
            target_met: total < ruchy_notebook::bench::CELL_TARGET_US,
        },
    }
}

fn span(s: ruchy_notebook::Span, source: &str) -> wit::Span {
    let lc = ruchy_notebook::LineCol::of(source, s);
    wit::Span {
        start: s.start,
        end: s.end,
        line: lc.line,
        column: lc.column,
        end_line: lc.end_line,
        end_column: lc.end_column,
    }
}

pub(crate) fn diagnostic(d: &ruchy_notebook::Diagnostic, source: &str) -> wit::Diagnostic {
    wit::Diagnostic {
        kind: match d.kind {
            ruchy_notebook::DiagnosticKind::Parse => wit::DiagnosticKind::Parse,
            ruchy_notebook::DiagnosticKind::Type => wit::DiagnosticKind::Type,
            ruchy_notebook::DiagnosticKind::Runtime => wit::DiagnosticKind::Runtime,
            ruchy_notebook::DiagnosticKind::Limit => wit::DiagnosticKind::Limit,
        },
        message: d.message.clone(),
        span: span(d.span, source),
    }
}

bindings::export!(Component with_types_in bindings);
