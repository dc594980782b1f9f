//! A notebook session: the state that lives from one cell to the next, and the one entry
//! point that runs a cell (spec section 14, decisions D1, D2, D16).
//!
//! A cell runs in four phases: parse, resolve + compile, run, display. Every top-level
//! binding of every cell persists (D1); comments are only comments (D2). A cell either
//! succeeds, or fails and leaves the session exactly as it was before it: writes to globals,
//! captured variables and type tables are logged as they happen and undone on failure, and
//! global names the cell introduced are forgotten.

use ruchy_runtime::bundle::{bundle_with, Bundle, DisplayOutput};
use ruchy_runtime::compiler::compile_cell;
use ruchy_runtime::display::display;
use ruchy_runtime::error::VmError;
use ruchy_runtime::opcode::Proto;
use ruchy_runtime::resolver::{resolve, Globals};
use ruchy_runtime::value::Value;
use ruchy_runtime::vm::{Limits, Vm};
use ruchy_syntax::diagnostic::{Diagnostic, Span};
use ruchy_syntax::parser::parse;
#[cfg(feature = "compile")]
use ruchy_transpiler::CellError;
use std::collections::HashMap;
use std::rc::Rc;

pub use ruchy_runtime::budget::{Clock, InstantClock};

/// Time spent in each phase of a cell, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    pub parse_ns: u64,
    pub compile_ns: u64,
    pub evaluate_ns: u64,
    pub total_ns: u64,
}

/// The outcome of one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CellOutput {
    /// Display of the cell's value; `None` for nil or on error.
    pub display: Option<String>,
    /// The value's bundle (`text/plain` first, equal to `display`); `None` when `display` is.
    pub bundle: Option<Bundle>,
    /// What the cell showed with `display(v)`, in order (also before an error).
    pub outputs: Vec<DisplayOutput>,
    /// What the cell printed (also before an error).
    pub stdout: String,
    pub diagnostic: Option<Diagnostic>,
    pub timing: Timing,
}

pub struct Session {
    pub(crate) vm: Vm,
    pub(crate) globals: Globals,
    /// Globals a fresh session has (the built-ins): the user's bindings come after them.
    pub(crate) builtin_globals: usize,
    /// The signature of each function the cells defined, as written (`fun f(n: Int) -> Int`);
    /// methods under `Type.name`. For completion and inspection ([`crate::assist`]).
    pub(crate) signatures: HashMap<Rc<str>, Rc<str>>,
    /// For each global slot, the successful cell that last wrote it (0: none yet), so that
    /// a variables panel can ask what changed ([`Session::variables_since`]).
    pub(crate) changed: Vec<u32>,
    pub(crate) cells: u32,
    clock: Rc<dyn Clock>,
    /// The cells that succeeded, in order, for [`Session::export_rust`]; a cell run again
    /// right after itself adds a repeat, not a copy (so a session that runs one cell many
    /// times keeps a flat memory).
    history: Vec<(String, u32)>,
    /// The global names sorted, for completing a name by its prefix ([`crate::assist`]).
    pub(crate) name_index: std::cell::RefCell<crate::names::NameIndex>,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    pub fn new() -> Session {
        Session::with_clock(Rc::new(InstantClock::default()))
    }

    pub fn with_clock(clock: Rc<dyn Clock>) -> Session {
        let mut globals = Globals::default();
        let mut vm = Vm::new();
        vm.clock = Some(clock.clone());
        let initial = ruchy_runtime::builtins::initial_globals();
        for (name, _) in &initial {
            globals.slot(&Rc::from(*name));
        }
        vm.sync_globals(&globals.names);
        for (i, (_, v)) in initial.into_iter().enumerate() {
            vm.globals[i] = v;
        }
        Session {
            builtin_globals: globals.names.len(),
            signatures: HashMap::new(),
            changed: Vec::new(),
            vm,
            globals,
            cells: 0,
            clock,
            history: Vec::new(),
            name_index: Default::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.vm.limits
    }

    /// Sets the limits of the cells that follow (the memory limit at most
    /// [`ruchy_runtime::budget::MAX_LIMIT`]).
    pub fn set_limits(&mut self, mut limits: Limits) {
        limits.max_memory = limits.max_memory.min(ruchy_runtime::budget::MAX_LIMIT);
        self.vm.limits = limits;
    }

    /// Number of session globals (builtins included): the size of the session's state.
    pub fn global_count(&self) -> usize {
        self.globals.names.len()
    }

    /// Runs one notebook cell.
    pub fn execute_cell(&mut self, source: &str) -> CellOutput {
        let out = self.run(source, false);
        if out.diagnostic.is_none() {
            match self.history.last_mut() {
                Some((last, repeats)) if last == source => *repeats += 1,
                _ => self.history.push((source.to_string(), 1)),
            }
        }
        out
    }

    /// The session as one Rust program made of its successful cells, in order (what
    /// [`ruchy_transpiler::compile_cells`] makes of them): it prints what the cells
    /// printed and showed. Scripts run with [`Session::run_script`] are not part of it.
    #[cfg(feature = "compile")]
    pub fn export_rust(&self) -> Result<String, Vec<CellError>> {
        let cells: Vec<&str> = self
            .history
            .iter()
            .flat_map(|(source, repeats)| std::iter::repeat_n(source.as_str(), *repeats as usize))
            .collect();
        ruchy_transpiler::compile_cells(&cells)
    }

    /// How many cells [`Session::export_rust`] would export.
    pub fn exported_cells(&self) -> usize {
        self.history.iter().map(|(_, n)| *n as usize).sum()
    }

    /// Runs a whole program as a script (`ruchy run`): evaluates it, then calls `main()` if it
    /// defines one (D16). The value is not displayed.
    pub fn run_script(&mut self, source: &str) -> CellOutput {
        self.run(source, true)
    }

    /// The bytecode a cell compiles to, as text, without running it or changing the session.
    pub fn disassemble(&mut self, source: &str) -> Result<String, Diagnostic> {
        let mark = self.globals.names.len();
        let result = self
            .compile(source)
            .map(|p| ruchy_runtime::disasm::disassemble(&p));
        self.globals.truncate(mark);
        result
    }

    fn compile(&mut self, source: &str) -> Result<Rc<Proto>, Diagnostic> {
        let program = parse(source)?;
        let res = resolve(&program, &mut self.globals)?;
        compile_cell(
            &program,
            &res,
            &mut self.globals,
            self.cells + 1,
            &self.vm.globals,
        )
    }

    fn run(&mut self, source: &str, script: bool) -> CellOutput {
        let _stack = ruchy_syntax::stack::enter();
        let t0 = self.clock.now_ns();
        let globals_before = self.globals.names.len();
        let types_before = self.vm.types.defs.len();
        let mut timing = Timing::default();

        let program = match parse(source) {
            Ok(p) => p,
            Err(d) => {
                return self.failed(d, String::new(), timing, t0, globals_before, types_before)
            }
        };
        let t1 = self.clock.now_ns();
        timing.parse_ns = t1.saturating_sub(t0);

        let cell = self.cells + 1;
        let proto = match resolve(&program, &mut self.globals)
            .and_then(|res| compile_cell(&program, &res, &mut self.globals, cell, &self.vm.globals))
        {
            Ok(p) => p,
            Err(d) => {
                return self.failed(d, String::new(), timing, t0, globals_before, types_before)
            }
        };
        let signatures = signatures(&program, source);
        drop(program);
        let t2 = self.clock.now_ns();
        timing.compile_ns = t2.saturating_sub(t1);

        self.vm.sync_globals(&self.globals.names);
        let budget_ns = self.vm.limits.max_time_ms.saturating_mul(1_000_000);
        self.vm.begin_cell(cell, t0.saturating_add(budget_ns));
        let mut result = self.vm.run_cell(proto);
        if script {
            result = result.and_then(|v| self.call_main().map(|_| v));
        }
        // the value's display and bundle are made inside the cell's limits: one past them
        // (a display of a value sharing itself a billion times) fails the cell
        let types = &self.vm.types;
        let result = result.and_then(|v| {
            let display = match (&v, script) {
                (_, true) | (Value::Nil, _) => None,
                _ => Some(display(&v, types)),
            };
            let bundle = display.as_ref().map(|d| bundle_with(&v, d.clone(), types));
            ruchy_runtime::budget::settle(Ok((display, bundle)))
        });
        let stdout = std::mem::take(&mut self.vm.out);
        let outputs = std::mem::take(&mut self.vm.displays);
        match result {
            Ok((display, bundle)) => {
                self.cells = cell;
                self.signatures.extend(signatures);
                // the rollback log holds every global the cell wrote
                self.changed.resize(self.globals.names.len(), 0);
                for u in &self.vm.undo {
                    if let ruchy_runtime::vm::Undo::Global(slot, _) = u {
                        if let Some(c) = self.changed.get_mut(*slot as usize) {
                            *c = cell;
                        }
                    }
                }
                self.vm.undo.clear();
                // four clock reads per cell: a read costs microseconds in some hosts
                let t3 = self.clock.now_ns();
                timing.evaluate_ns = t3.saturating_sub(t2);
                timing.total_ns = t3.saturating_sub(t0);
                CellOutput {
                    display,
                    bundle,
                    outputs,
                    stdout,
                    diagnostic: None,
                    timing,
                }
            }
            Err(e) => {
                timing.evaluate_ns = self.clock.now_ns().saturating_sub(t2);
                let d = to_diagnostic(e, source);
                let mut out = self.failed(d, stdout, timing, t0, globals_before, types_before);
                out.outputs = outputs;
                out
            }
        }
    }

    /// D16: after a script ran, `main()` is called if the script defined a function `main`.
    fn call_main(&mut self) -> Result<Value, VmError> {
        let Some(slot) = self.globals.get("main") else {
            return Ok(Value::Nil);
        };
        match self.vm.globals.get(slot as usize).cloned() {
            Some(f @ Value::Func(_)) => {
                let r = self.vm.call_value(&f, &[]);
                if r.is_err() {
                    self.vm.reset_stacks();
                }
                r
            }
            _ => Ok(Value::Nil),
        }
    }

    fn failed(
        &mut self,
        d: Diagnostic,
        stdout: String,
        mut timing: Timing,
        t0: u64,
        globals_before: usize,
        types_before: usize,
    ) -> CellOutput {
        self.vm.rollback();
        self.vm.undo.clear();
        self.globals.truncate(globals_before);
        self.vm.sync_globals(&self.globals.names);
        self.vm.types.truncate(types_before);
        timing.total_ns = self.clock.now_ns().saturating_sub(t0);
        CellOutput {
            display: None,
            bundle: None,
            outputs: Vec::new(),
            stdout,
            diagnostic: Some(d),
            timing,
        }
    }
}

/// The signatures of the functions and methods a cell defines at its top level, as written.
fn signatures(program: &ruchy_syntax::ast::Program, source: &str) -> Vec<(Rc<str>, Rc<str>)> {
    use ruchy_syntax::ast::{ExprKind, FnDef};
    let text = |f: &FnDef| -> Rc<str> {
        let (a, b) = (f.span.start as usize, f.body.span.start as usize);
        let sig = source.get(a..b).unwrap_or("").split_whitespace();
        Rc::from(sig.collect::<Vec<_>>().join(" "))
    };
    let mut out = Vec::new();
    for e in &program.exprs {
        match &e.kind {
            ExprKind::Fn(f) => {
                if let Some(b) = &f.name {
                    out.push((b.name.clone(), text(f)));
                }
            }
            ExprKind::Impl(im) => {
                for f in &im.methods {
                    if let Some(b) = &f.name {
                        out.push((Rc::from(format!("{}.{}", im.type_name, b.name)), text(f)));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn to_diagnostic(e: VmError, source: &str) -> Diagnostic {
    let span = e.span.unwrap_or_else(|| Span::new(0, source.len() as u32));
    Diagnostic {
        kind: e.kind,
        message: e.message,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruchy_syntax::diagnostic::DiagnosticKind;

    fn shows(s: &mut Session, src: &str) -> Option<String> {
        let out = s.execute_cell(src);
        assert!(out.diagnostic.is_none(), "{src}: {:?}", out.diagnostic);
        out.display
    }

    #[test]
    fn the_five_seed_cells() {
        let mut s = Session::new();
        assert_eq!(shows(&mut s, "let x = 42").as_deref(), Some("42"));
        assert_eq!(shows(&mut s, "let y = x * 2 + 1").as_deref(), Some("85"));
        assert_eq!(
            shows(&mut s, "fun double(n: Int) -> Int { n * 2 }").as_deref(),
            Some("<function>")
        );
        assert_eq!(
            shows(&mut s, "let result = double(21)").as_deref(),
            Some("42")
        );
        assert_eq!(
            shows(&mut s, "if x > 0 { x } else { 0 }").as_deref(),
            Some("42")
        );
    }

    #[test]
    fn a_failing_cell_keeps_every_binding() {
        let mut s = Session::new();
        shows(&mut s, "let a = 1");
        let out = s.execute_cell("let a = 2; let b = 3; c + 1");
        let d = out.diagnostic.expect("an error");
        assert_eq!(d.message, "Undefined variable: c");
        assert_eq!(
            &"let a = 2; let b = 3; c + 1"[d.span.start as usize..d.span.end as usize],
            "c"
        );
        assert_eq!(shows(&mut s, "a").as_deref(), Some("1"));
        let out = s.execute_cell("b");
        assert_eq!(
            out.diagnostic.map(|d| d.message).as_deref(),
            Some("Undefined variable: b")
        );
    }

    #[test]
    fn parse_errors_leave_the_session_alone() {
        let mut s = Session::new();
        shows(&mut s, "let x = 5");
        let out = s.execute_cell("let x = ");
        assert_eq!(out.diagnostic.map(|d| d.kind), Some(DiagnosticKind::Parse));
        assert_eq!(shows(&mut s, "x").as_deref(), Some("5"));
    }

    #[test]
    fn output_before_an_error_is_kept() {
        let mut s = Session::new();
        let out = s.execute_cell("println(\"before\"); 1 / 0");
        assert_eq!(out.stdout, "before\n");
        assert_eq!(
            out.diagnostic.map(|d| d.message).as_deref(),
            Some("Division by zero")
        );
    }

    #[test]
    fn export_keeps_the_successful_cells_in_order() {
        let mut s = Session::new();
        shows(&mut s, "let x = 41");
        assert!(s.execute_cell("y + 1").diagnostic.is_some());
        shows(&mut s, "x += 1");
        shows(&mut s, "x += 1");
        shows(&mut s, "println(x)");
        assert_eq!(s.exported_cells(), 4);
        let rust = s.export_rust().expect("the cells are expressible");
        assert!(!rust.contains("y + 1"), "{rust}");
        // the repeated cell is there twice, in order
        let first = rust.find("x += 1").expect("the first `x += 1`");
        assert!(rust[first + 1..].contains("x += 1"), "{rust}");
        assert!(
            rust.find("println!(\"{}\", x)").is_some_and(|p| p > first),
            "{rust}"
        );
    }

    #[test]
    fn export_errors_point_into_their_cell() {
        let mut s = Session::new();
        shows(&mut s, "let a = 1");
        shows(&mut s, "let b = [1, \"two\"]");
        let errs = s.export_rust().expect_err("a mixed array has no Rust type");
        assert_eq!(errs[0].cell, 2);
        assert_eq!(errs[0].source, "let b = [1, \"two\"]");
        assert!(
            errs[0].diagnostic.message.starts_with("cell 2:"),
            "{}",
            errs[0].diagnostic.message
        );
        assert_eq!(errs[0].diagnostic.span.start, 12);
    }

    #[test]
    fn script_mode_calls_main() {
        let mut s = Session::new();
        let out = s.run_script("fun helper() { 2 }\nfun main() { println(helper() * 21) }");
        assert_eq!(out.stdout, "42\n");
        assert_eq!(out.display, None);
    }
}
