//! The virtual machine: runs [`crate::opcode`] bytecode.
//!
//! One register file (`regs`) and one frame stack serve every call; a call pushes a frame
//! whose window starts on its arguments, so calls allocate nothing beyond growing the register
//! file to its high-water mark. The dispatch loop is a `match` over `Op` with integer fast
//! paths inline; rarer cases call out to [`crate::arith`], [`crate::builtins`] and
//! [`crate::methods`].
//!
//! Errors unwind to the innermost `try` handler of the running invocation, or out of it.
//! Writes to session state (globals, captured boxes created by earlier cells, type tables) are
//! logged the first time they happen in a cell, so a failing cell can be rolled back.
//! Limits: call depth (D5), a step budget charged on backward jumps and calls, and the
//! nesting of native re-entries (a builtin calling a closure).

use crate::arith;
use crate::catalogue::MethodId;
use crate::display::{display, write_plain};
use crate::opcode::*;
use crate::value::*;
use ruchy_syntax::ast::SelfKind;
use ruchy_syntax::diagnostic::{DiagnosticKind, Span};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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

type VResult<T> = Result<T, VmError>;

/// Session limits (decision D5 and the reliability limits). Every one ends a cell that passes
/// it with a `limit` diagnostic naming it, and the session keeps what it had before the cell.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most nested calls; the next one is `Recursion limit exceeded`.
    pub max_depth: usize,
    /// Most bytes of output one cell may print.
    pub max_output: usize,
    /// Most steps (backward jumps and calls) one cell may take; `u64::MAX` for no limit.
    pub max_steps: u64,
    /// Longest a cell may run, in milliseconds of the session's clock, checked every
    /// [`CHECK_INTERVAL`] steps; `u64::MAX` for no limit.
    pub max_time_ms: u64,
    /// Most bytes the engine may have allocated while a cell runs (where the embedder supplies
    /// a probe: [`crate::budget`]).
    pub max_memory: usize,
}

/// Steps between two checks of the time and memory limits (a few hundred microseconds).
pub const CHECK_INTERVAL: u64 = 1 << 14;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 10_000,
            max_output: 1 << 20,
            max_steps: u64::MAX,
            max_time_ms: 10_000,
            max_memory: 256 << 20,
        }
    }
}

/// Most nested native re-entries (a builtin such as `map` calling a closure that calls `map`
/// ...): each one uses native stack, so this bounds it well inside a 1 MB WebAssembly stack.
const MAX_NATIVE_DEPTH: u32 = 120;

/// A running call. Four machine words, so a push is four plain stores (a `bool` and an
/// `Option<u32>` here made each push a byte store read back as a word, a store-forwarding
/// stall that was the hottest instruction of a call).
pub struct Frame {
    /// The running function (a cell runs as a closure without upvalues).
    pub closure: Rc<Closure>,
    pub pc: usize,
    pub base: usize,
    /// What the frame is beyond a plain call: [`Frame::CALL`], [`Frame::CELL`] (a cell's
    /// top level), or for a `&mut self` method called on a place, the caller's place to store
    /// `self` into plus [`Frame::PLACE`].
    kind: usize,
}

/// The index of the field `names[name]` in the struct type `ty`: from the function's cache
/// when it last looked at the same type with the session's types unchanged, else by name
/// (a string comparison per field) and remembered.
#[inline]
fn field_slot(proto: &Proto, types: &Types, ty: TypeId, name: u32) -> Option<usize> {
    let cell = proto.field_cache.get(name as usize)?;
    if let Some((version, t, i)) = cell.get() {
        if version == types.version && t == ty {
            return Some(i as usize);
        }
    }
    let i = types
        .get(ty)?
        .field_index(proto.names.get(name as usize)?)?;
    cell.set(Some((types.version, ty, i as u32)));
    Some(i)
}

/// Whether [`Vm::fast`] has a case for the instruction (it may still leave a case it does
/// not cover to the slow section).
#[inline(always)]
fn fast_handles(op: &Op) -> bool {
    matches!(
        op,
        Op::Move { .. }
            | Op::LoadNil { .. }
            | Op::LoadBool { .. }
            | Op::LoadInt { .. }
            | Op::LoadConst { .. }
            | Op::LoadUndef { .. }
            | Op::GetGlobal { .. }
            | Op::SetGlobal { .. }
            | Op::UpdateGlobal { .. }
            | Op::UpdateGlobalK { .. }
            | Op::GetUpval { .. }
            | Op::GetBox { .. }
            | Op::GetField { .. }
            | Op::GetIndex { .. }
            | Op::GetIndexGlobal { .. }
            | Op::StorePlace { .. }
            | Op::Add { .. }
            | Op::Sub { .. }
            | Op::Mul { .. }
            | Op::Div { .. }
            | Op::Rem { .. }
            | Op::AddImm { .. }
            | Op::ArithK { .. }
            | Op::Eq { .. }
            | Op::Ne { .. }
            | Op::Lt { .. }
            | Op::Le { .. }
            | Op::Gt { .. }
            | Op::Ge { .. }
            | Op::Not { .. }
            | Op::Jump { .. }
            | Op::Loop { .. }
            | Op::JumpIfFalse { .. }
            | Op::JumpIfTrue { .. }
            | Op::JumpIfNotNil { .. }
            | Op::JumpIfNotLt { .. }
            | Op::JumpIfNotLe { .. }
            | Op::JumpIfNotGt { .. }
            | Op::JumpIfNotGe { .. }
            | Op::JumpIfNotCmpImm { .. }
            | Op::JumpIfNotEq { .. }
            | Op::ForNext { .. }
            | Op::IterNext { .. }
            | Op::ArrayPush { .. }
            | Op::Call { .. }
            | Op::CallGlobal { .. }
            | Op::Return { .. }
    )
}

/// Where the dispatch loop is: the running function's code and its register window.
struct Pos {
    proto: Rc<Proto>,
    code: Rc<[Op]>,
    pc: usize,
    base: usize,
}

/// How the fast section stopped.
enum Exit {
    /// At an instruction for the slow section (`pc` already past it).
    Slow(Pos, Op),
    /// A callback from a built-in returned this.
    Done(Value),
    Failed(VmError),
}

struct Handler {
    frame: usize,
    pc: usize,
    err: Reg,
}

impl Frame {
    const CALL: usize = 0;
    const CELL: usize = 1;
    const PLACE: usize = 2;

    fn call(closure: Rc<Closure>, base: usize, writeback: Option<u32>) -> Frame {
        let kind = writeback.map_or(Frame::CALL, |p| p as usize + Frame::PLACE);
        Frame {
            closure,
            pc: 0,
            base,
            kind,
        }
    }

    /// Whether this is a cell's top-level frame rather than a call.
    #[inline(always)]
    fn is_cell(&self) -> bool {
        self.kind == Frame::CELL
    }

    /// For a `&mut self` method called on a place: the caller's place to store `self` into.
    #[inline(always)]
    fn writeback(&self) -> Option<u32> {
        self.kind.checked_sub(Frame::PLACE).map(|p| p as u32)
    }

    #[inline(always)]
    pub fn proto(&self) -> &Rc<Proto> {
        &self.closure.proto
    }

    /// The closure of a call (not of a cell's top level).
    #[inline]
    fn callee(&self) -> Option<&Rc<Closure>> {
        if self.is_cell() {
            None
        } else {
            Some(&self.closure)
        }
    }
}

/// An entry of the rollback log of the running cell.
pub enum Undo {
    Global(u32, Value),
    Cell(Rc<UpCell>, Value),
    TypeName(Rc<str>, Option<TypeId>),
    Method(TypeId, Rc<str>, Option<Method>),
}

/// Arguments moved out of their registers; up to four without allocating.
pub struct Args {
    inline: [Value; 4],
    heap: Vec<Value>,
    len: usize,
}

impl Args {
    pub fn as_slice(&self) -> &[Value] {
        if self.len <= 4 {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

pub struct Vm {
    pub regs: Vec<Value>,
    pub frames: Vec<Frame>,
    handlers: Vec<Handler>,
    pub globals: Vec<Value>,
    pub global_names: Vec<Rc<str>>,
    pub types: Types,
    pub out: String,
    /// Number of the running cell (1-based; 0 before the first).
    pub cell: u32,
    pub undo: Vec<Undo>,
    touched: Vec<u32>,
    pub limits: Limits,
    /// Steps (backward jumps and calls) the running cell may take before the next check of
    /// its limits ([`Vm::refill`]).
    steps_left: u64,
    /// Steps taken in the chunks before the current one, and the current chunk's size.
    steps_done: u64,
    chunk: u64,
    /// The session's clock and the running cell's deadline on it, in nanoseconds.
    pub clock: Option<Rc<dyn crate::budget::Clock>>,
    pub deadline_ns: u64,
    native_depth: u32,
    last_caught: Option<VmError>,
    /// Set when the output limit cut the output.
    pub output_truncated: bool,
    /// State of the `random()` generator.
    pub rng: u64,
    /// The generator's state when the running cell began: a failed cell gives back the
    /// numbers it drew, so replaying a session's successful cells draws the same ones.
    rng_at_start: u64,
    /// What the running cell showed with `display(v)`, in order.
    pub displays: Vec<crate::bundle::DisplayOutput>,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl Vm {
    pub fn new() -> Vm {
        Vm {
            regs: Vec::new(),
            frames: Vec::new(),
            handlers: Vec::new(),
            globals: Vec::new(),
            global_names: Vec::new(),
            types: Types::default(),
            out: String::new(),
            cell: 0,
            undo: Vec::new(),
            touched: Vec::new(),
            limits: Limits::default(),
            steps_left: u64::MAX,
            steps_done: 0,
            chunk: u64::MAX,
            clock: None,
            deadline_ns: u64::MAX,
            native_depth: 0,
            last_caught: None,
            output_truncated: false,
            rng: 0x9E37_79B9_7F4A_7C15,
            rng_at_start: 0x9E37_79B9_7F4A_7C15,
            displays: Vec::new(),
        }
    }

    /// Sizes the global table to `names` (new slots are undefined). Names only ever get
    /// appended (or, after a failed cell, truncated), so this costs nothing per existing global.
    pub fn sync_globals(&mut self, names: &[Rc<str>]) {
        let n = names.len();
        self.globals.truncate(n);
        self.touched.truncate(n);
        self.global_names.truncate(n);
        self.globals.resize(n, Value::Undef);
        self.touched.resize(n, 0);
        let have = self.global_names.len();
        self.global_names.extend_from_slice(&names[have..]);
    }

    // ---- output --------------------------------------------------------------------------

    /// Appends to the cell's output, enforcing the output limit.
    pub fn write_out(&mut self, s: &str) -> VResult<()> {
        // a text cut short by a tripped limit is never printed
        crate::budget::settled()?;
        if self.out.len() + s.len() > self.limits.max_output {
            let room = self.limits.max_output.saturating_sub(self.out.len());
            let mut cut = room.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.out.push_str(&s[..cut]);
            self.output_truncated = true;
            return Err(VmError::limit(format!(
                "Output limit exceeded: a cell may print at most {} bytes",
                self.limits.max_output
            )));
        }
        self.out.push_str(s);
        Ok(())
    }

    /// `display(v)`: v's bundle as an output of the cell. Its bytes count against the output
    /// limit as printed text does.
    pub fn display_value(&mut self, v: &Value) -> VResult<()> {
        let bundle = crate::bundle::bundle(v, &self.types);
        crate::budget::settled()?;
        let size: usize = bundle.iter().map(|m| m.data.len()).sum();
        let used: usize = self.out.len()
            + self
                .displays
                .iter()
                .flat_map(|d| d.bundle.iter().map(|m| m.data.len()))
                .sum::<usize>();
        if used + size > self.limits.max_output {
            self.output_truncated = true;
            return Err(VmError::limit(format!(
                "Output limit exceeded: a cell may print at most {} bytes",
                self.limits.max_output
            )));
        }
        self.displays.push(crate::bundle::DisplayOutput {
            bundle,
            stdout_offset: self.out.len(),
        });
        Ok(())
    }

    pub fn write_value(&mut self, v: &Value) -> VResult<()> {
        let mut s = String::new();
        write_plain(&mut s, v, &self.types);
        self.write_out(&s)
    }

    // ---- rollback ------------------------------------------------------------------------

    /// Starts cell number `cell`, which must end by `deadline_ns` on the clock: clears the
    /// rollback log and the step budget, and starts the meter ([`crate::budget`]).
    pub fn begin_cell(&mut self, cell: u32, deadline_ns: u64) {
        self.deadline_ns = deadline_ns;
        self.cell = cell;
        self.undo.clear();
        self.rng_at_start = self.rng;
        self.steps_done = 0;
        self.chunk = CHECK_INTERVAL.min(self.limits.max_steps);
        self.steps_left = self.chunk;
        crate::budget::start_cell(
            self.limits.max_memory,
            self.limits.max_steps,
            self.clock.clone(),
            deadline_ns,
            self.limits.max_time_ms,
        );
        self.out.clear();
        self.displays.clear();
        self.output_truncated = false;
        self.last_caught = None;
    }

    #[inline]
    fn log_global(&mut self, slot: usize) {
        if let Some(t) = self.touched.get_mut(slot) {
            if *t != self.cell {
                *t = self.cell;
                let old = self.globals.get(slot).cloned().unwrap_or(Value::Undef);
                self.undo.push(Undo::Global(slot as u32, old));
            }
        }
    }

    fn log_cell(&mut self, c: &Rc<UpCell>) {
        if c.born < self.cell && c.logged.get() != self.cell {
            c.logged.set(self.cell);
            let old = c.value.borrow().clone();
            self.undo.push(Undo::Cell(c.clone(), old));
        }
    }

    /// Undoes every logged write of the running cell, newest first.
    pub fn rollback(&mut self) {
        self.rng = self.rng_at_start;
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Global(slot, v) => {
                    if let Some(g) = self.globals.get_mut(slot as usize) {
                        *g = v;
                    }
                    if let Some(t) = self.touched.get_mut(slot as usize) {
                        *t = 0;
                    }
                }
                Undo::Cell(c, v) => {
                    *c.value.borrow_mut() = v;
                    c.logged.set(0);
                }
                Undo::TypeName(name, old) => {
                    self.types.version = self.types.version.wrapping_add(1);
                    match old {
                        Some(id) => {
                            self.types.by_name.insert(name, id);
                        }
                        None => {
                            self.types.by_name.remove(&name);
                        }
                    }
                }
                Undo::Method(ty, name, old) => {
                    if let Some(def) = self.types.defs.get_mut(ty as usize) {
                        match old {
                            Some(m) => {
                                def.methods.insert(name, m);
                            }
                            None => {
                                def.methods.remove(&name);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Forgets everything a cell left on the stacks (after an error escaped it).
    pub fn reset_stacks(&mut self) {
        self.frames.clear();
        self.handlers.clear();
        for r in &mut self.regs {
            *r = Value::Nil;
        }
        self.native_depth = 0;
    }

    // ---- running -------------------------------------------------------------------------

    /// Runs a cell's top-level code and returns its value.
    pub fn run_cell(&mut self, proto: Rc<Proto>) -> VResult<Value> {
        let n = proto.nregs as usize;
        if self.regs.len() < n {
            self.regs.resize(n, Value::Nil);
        }
        self.frames.push(Frame {
            closure: Rc::new(Closure {
                proto,
                upvals: Box::new([]),
            }),
            pc: 0,
            base: 0,
            kind: Frame::CELL,
        });
        let r = crate::budget::settle(self.run(0));
        if r.is_err() {
            self.reset_stacks();
        }
        r
    }

    /// The first register above the running frame's window.
    fn stack_top(&self) -> usize {
        self.frames
            .last()
            .map_or(0, |f| f.base + f.proto().nregs as usize)
    }

    /// Calls a function value with arguments from native code (a builtin's callback).
    pub fn call_value(&mut self, f: &Value, args: &[Value]) -> VResult<Value> {
        match f {
            Value::Func(c) => {
                if self.native_depth >= MAX_NATIVE_DEPTH || !ruchy_syntax::stack::ok() {
                    return Err(VmError::limit(format!(
                        "Recursion limit exceeded: more than {MAX_NATIVE_DEPTH} nested callbacks from built-in functions"
                    )));
                }
                // a callback is a call: a step of the cell, as a call from bytecode is
                self.tick()?;
                let top = self.stack_top();
                // the common case: exactly the parameters, room in the registers
                let p = &c.proto;
                if args.len() == p.arity as usize
                    && p.min_arity == p.arity
                    && top + 1 + p.nregs as usize <= self.regs.len()
                    && self.frames.len() <= self.limits.max_depth
                {
                    for (r, a) in self.regs[top + 1..].iter_mut().zip(args) {
                        put(r, a.dup());
                    }
                    self.frames.push(Frame::call(c.clone(), top + 1, None));
                    let entry = self.frames.len() - 1;
                    self.native_depth += 1;
                    let r = self.run(entry);
                    self.native_depth -= 1;
                    return r;
                }
                let need = top + 1 + args.len();
                if self.regs.len() < need {
                    self.regs.resize(need, Value::Nil);
                }
                self.regs[top] = f.clone();
                for (i, a) in args.iter().enumerate() {
                    self.regs[top + 1 + i] = a.clone();
                }
                self.push_frame(c.clone(), top + 1, args.len(), None)?;
                let entry = self.frames.len() - 1;
                self.native_depth += 1;
                let r = self.run(entry);
                self.native_depth -= 1;
                self.regs[top] = Value::Nil;
                r
            }
            _ => {
                let mut args = args.to_vec();
                self.call_native(f, &mut args)
            }
        }
    }

    /// Calls anything callable that is not a closure.
    fn call_native(&mut self, f: &Value, args: &mut [Value]) -> VResult<Value> {
        match f {
            Value::Builtin(b) => self.call_builtin(*b, args),
            Value::Ctor(ty, variant) => self.construct_variant(*ty, *variant, args),
            Value::Type(ty) => self.construct_tuple_struct(*ty, args),
            Value::Func(_) => self.call_value(f, args),
            Value::Undef => Err(VmError::runtime("Undefined function")),
            other => Err(VmError::type_error(format!(
                "Cannot call a value of type {}",
                other.type_name()
            ))),
        }
    }

    fn construct_variant(&self, ty: TypeId, variant: u32, args: &[Value]) -> VResult<Value> {
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        let info = def
            .variant(variant)
            .ok_or_else(|| VmError::runtime("Unknown variant"))?;
        if args.len() != info.arity {
            return Err(VmError::runtime(format!(
                "{}::{} expects {} argument{}, got {}",
                def.name,
                info.name,
                info.arity,
                if info.arity == 1 { "" } else { "s" },
                args.len()
            )));
        }
        Ok(Value::Variant(Rc::new(VariantValue {
            ty,
            variant,
            fields: args.to_vec(),
        })))
    }

    fn construct_tuple_struct(&self, ty: TypeId, args: &[Value]) -> VResult<Value> {
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        match &def.kind {
            TypeKind::Struct {
                fields,
                tuple: true,
            } if fields.len() == args.len() => Ok(Value::Struct(Rc::new(StructValue {
                ty,
                fields: args.to_vec(),
            }))),
            TypeKind::Struct {
                fields,
                tuple: true,
            } => Err(VmError::runtime(format!(
                "{} expects {} fields, got {}",
                def.name,
                fields.len(),
                args.len()
            ))),
            _ => Err(VmError::type_error(format!(
                "{} is not a tuple struct: write `{} {{ field: value }}`",
                def.name, def.name
            ))),
        }
    }

    /// Pushes a frame for closure `c` whose arguments are at `regs[base..base+argc]`.
    fn push_frame(
        &mut self,
        c: Rc<Closure>,
        base: usize,
        argc: usize,
        writeback: Option<u32>,
    ) -> VResult<()> {
        let p = &c.proto;
        if argc < p.min_arity as usize || argc > p.arity as usize {
            let expected = if p.min_arity == p.arity {
                format!("{}", p.arity)
            } else {
                format!("{} to {}", p.min_arity, p.arity)
            };
            return Err(VmError::runtime(format!(
                "Function {} expects {} argument{}, got {}",
                p.name,
                expected,
                if p.arity == 1 { "" } else { "s" },
                argc
            )));
        }
        // the cell's own frame is not a call: `max_depth` user calls may be nested
        if self.frames.len() > self.limits.max_depth {
            return Err(VmError::limit(format!(
                "Recursion limit exceeded: more than {} nested calls",
                self.limits.max_depth
            )));
        }
        let need = base + p.nregs as usize;
        if self.regs.len() < need {
            self.regs
                .resize(need.max(self.regs.len() * 2).min(need + 4096), Value::Nil);
        }
        for r in &mut self.regs[base + argc..base + p.arity as usize] {
            *r = Value::Undef;
        }
        self.frames.push(Frame::call(c, base, writeback));
        Ok(())
    }

    /// Pops the top frame, clearing its registers; returns the register holding `self` for a
    /// write-back.
    #[inline]
    fn pop_frame(&mut self) -> Option<Frame> {
        let f = self.frames.pop()?;
        let start = f.base + usize::from(f.writeback().is_some());
        let end = (f.base + f.proto().nregs as usize).min(self.regs.len());
        // free what the frame's registers own; plain numbers may stay (every register is
        // written before it is read)
        for r in &mut self.regs[start.min(end)..end] {
            if r.owns_heap() {
                *r = Value::Nil;
            }
        }
        let depth = self.frames.len();
        while self.handlers.last().is_some_and(|h| h.frame >= depth) {
            self.handlers.pop();
        }
        Some(f)
    }

    /// After a `&mut self` method returns (or fails): stores its `self` back into the
    /// caller's place.
    #[inline]
    fn write_back(&mut self, callee: &Frame) -> VResult<()> {
        match callee.writeback() {
            None => Ok(()),
            Some(place) => self.write_back_to(callee, place),
        }
    }

    #[inline(never)]
    fn write_back_to(&mut self, callee: &Frame, place: u32) -> VResult<()> {
        let mut v = std::mem::take(&mut self.regs[callee.base]);
        if let Value::Cell(c) = &v {
            let inner = c.value.borrow().clone();
            v = inner;
        }
        let Some(caller) = self.frames.last() else {
            return Ok(());
        };
        let (proto, base) = (caller.proto().clone(), caller.base);
        // (the place of a `CallMethodPlace`)
        if let Some(Desc::MethodPlace { place: p, .. }) = proto.descs.get(place as usize) {
            self.put_place(p, base, v)?;
        }
        Ok(())
    }

    /// Runs until the frame at index `entry` returns; returns its value.
    pub(crate) fn run(&mut self, entry: usize) -> VResult<Value> {
        loop {
            match self.dispatch(entry) {
                Ok(v) => return Ok(v),
                Err(mut e) => {
                    self.locate(&mut e);
                    let catchable = e.kind != DiagnosticKind::Limit;
                    if catchable {
                        if let Some(h) = self.handlers.last() {
                            if h.frame >= entry {
                                let (frame, pc, err) = (h.frame, h.pc, h.err);
                                self.handlers.pop();
                                self.unwind_to(frame + 1)?;
                                if let Some(f) = self.frames.last_mut() {
                                    f.pc = pc;
                                    let base = f.base;
                                    self.regs[base + err as usize] = e.caught_value();
                                }
                                self.last_caught = Some(e);
                                continue;
                            }
                        }
                    }
                    self.unwind_to(entry)?;
                    return Err(e);
                }
            }
        }
    }

    /// Pops frames until `depth` remain, writing back `&mut self` receivers.
    fn unwind_to(&mut self, depth: usize) -> VResult<()> {
        while self.frames.len() > depth {
            if let Some(f) = self.pop_frame() {
                self.write_back(&f)?;
            }
        }
        Ok(())
    }

    /// Gives an error the span of the instruction that raised it, in the current cell's
    /// source: the innermost frame compiled in this cell (an error inside a function from an
    /// earlier cell points at the call that led to it).
    fn locate(&self, e: &mut VmError) {
        if e.span.is_some() {
            return;
        }
        for f in self.frames.iter().rev() {
            if f.proto().cell == self.cell {
                let pc = f.pc.saturating_sub(1);
                e.span = f.proto().spans.get(pc).copied();
                return;
            }
        }
    }

    fn tick(&mut self) -> VResult<()> {
        if self.steps_left == 0 {
            self.refill()?;
        }
        self.steps_left -= 1;
        Ok(())
    }

    /// The end of a chunk of steps: checks the step, time and memory limits, then allows the
    /// next chunk.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> VResult<()> {
        // the units built-ins burnt count as steps too
        self.steps_done = self
            .steps_done
            .saturating_add(self.chunk)
            .saturating_add(crate::budget::take_burned());
        if self.steps_done >= self.limits.max_steps {
            return Err(VmError::limit(format!(
                "Step limit exceeded: the cell ran more than {} loop iterations and calls",
                self.limits.max_steps
            )));
        }
        crate::budget::check()?;
        self.chunk = CHECK_INTERVAL.min(self.limits.max_steps - self.steps_done);
        self.steps_left = self.chunk;
        Ok(())
    }

    fn take_args(&mut self, start: usize, argc: usize) -> Args {
        let mut a = Args {
            inline: [Value::Nil, Value::Nil, Value::Nil, Value::Nil],
            heap: Vec::new(),
            len: argc,
        };
        if argc <= 4 {
            for i in 0..argc {
                a.inline[i] = std::mem::take(&mut self.regs[start + i]);
            }
        } else {
            a.heap = self.regs[start..start + argc]
                .iter_mut()
                .map(std::mem::take)
                .collect();
        }
        a
    }

    /// Calls the built-in method `id` on `recv` with the `argc` arguments in the registers
    /// from `start` (moved out of them; none to move for `x.len()` and the like).
    #[inline]
    fn call_method_in(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        start: usize,
        argc: u8,
    ) -> VResult<Value> {
        if argc == 0 {
            return self.call_method(recv, id, name, &[]);
        }
        let args = self.take_args(start, argc as usize);
        self.call_method(recv, id, name, args.as_slice())
    }

    /// The dispatch loop's fast section: the common cases of the common instructions, on the
    /// frame's register window and code. Anything else returns with its instruction for the
    /// slow section in [`Vm::dispatch`]. A function of its own so that its few hot values
    /// stay in machine registers: inside the whole dispatch loop, WebAssembly compilers
    /// spilled them (the memory base, the program counter) to the stack on every instruction.
    #[inline(never)]
    fn fast(&mut self, at: Pos, entry: usize) -> Exit {
        let Pos {
            mut proto,
            mut code,
            mut pc,
            mut base,
        } = at;
        macro_rules! jump {
            ($off:expr) => {
                pc = pc.wrapping_add_signed($off as isize)
            };
        }
        let op = {
            let all: &mut [Value] = &mut self.regs;
            macro_rules! w {
                ($r:expr) => {
                    all[base + $r as usize]
                };
            }
            // a call that needs nothing special starts its frame right here
            macro_rules! fast_call {
                ($c:expr, $callee_base:expr, $argc:expr, $op:expr) => {{
                    let p = &$c.proto;
                    let nb = $callee_base;
                    if $argc as u16 != p.arity
                        || p.min_arity != p.arity
                        || nb + p.nregs as usize > all.len()
                        || self.frames.len() > self.limits.max_depth
                        || self.steps_left == 0
                    {
                        break $op;
                    }
                    self.steps_left -= 1;
                    let c = $c.clone();
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = pc;
                    }
                    proto = c.proto.clone();
                    code = proto.code.clone();
                    self.frames.push(Frame::call(c, nb, None));
                    base = nb;
                    pc = 0;
                }};
            }
            // `R[dst] = R[a] op R[b]` on two integers (`None`: overflow or division by
            // zero, left to the slow section's error) or two floats
            macro_rules! arith {
                ($op:ident, $dst:expr, $a:expr, $b:expr, $int:expr, $float:expr) => {
                    match (&w!($a), &w!($b)) {
                        (Value::Int(x), Value::Int(y)) => match $int(*x, *y) {
                            Some(n) => put(&mut w!($dst), Value::Int(n)),
                            None => break $op,
                        },
                        (Value::Float(x), Value::Float(y)) => match $float(*x, *y) {
                            Some(f) => put(&mut w!($dst), Value::Float(f)),
                            None => break $op,
                        },
                        _ => break $op,
                    }
                };
            }
            // `R[dst] = R[a] cmp R[b]` on two integers or two floats (NaN: false)
            macro_rules! compare {
            ($op:ident, $dst:expr, $a:expr, $b:expr, $cmp:tt) => {
                match (&w!($a), &w!($b)) {
                    (Value::Int(x), Value::Int(y)) => {
                        let v = x $cmp y;
                        put(&mut w!($dst), Value::Bool(v))
                    }
                    (Value::Float(x), Value::Float(y)) => {
                        let v = x $cmp y;
                        put(&mut w!($dst), Value::Bool(v))
                    }
                    _ => break $op,
                }
            };
        }
            // `if !(R[a] cmp R[b]) { pc += off }` on two integers or two floats
            macro_rules! jump_unless {
            ($op:ident, $a:expr, $b:expr, $off:expr, $cmp:tt) => {
                match (&w!($a), &w!($b)) {
                    (Value::Int(x), Value::Int(y)) => {
                        if !(x $cmp y) {
                            jump!($off)
                        }
                    }
                    (Value::Float(x), Value::Float(y)) => {
                        if !(x $cmp y) {
                            jump!($off)
                        }
                    }
                    _ => break $op,
                }
            };
        }
            loop {
                let Some(&op) = code.get(pc) else {
                    return Exit::Failed(VmError::runtime(
                        "internal error: ran past the end of the code",
                    ));
                };
                pc += 1;
                match op {
                    Op::Move { dst, src } => {
                        let v = w!(src).dup();
                        put(&mut w!(dst), v);
                    }
                    Op::LoadNil { dst } => put(&mut w!(dst), Value::Nil),
                    Op::LoadBool { dst, value } => put(&mut w!(dst), Value::Bool(value)),
                    Op::LoadInt { dst, value } => put(&mut w!(dst), Value::Int(value as i64)),
                    Op::LoadConst { dst, idx } => {
                        let v = proto.consts.get(idx as usize).cloned().unwrap_or_default();
                        put(&mut w!(dst), v);
                    }
                    Op::LoadUndef { dst } => put(&mut w!(dst), Value::Undef),
                    Op::GetGlobal { dst, slot } => match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => break op,
                        Some(v) => {
                            let v = v.dup();
                            put(&mut w!(dst), v);
                        }
                    },
                    // a global already logged for rollback in this cell: update in place
                    // a struct's field (`p.x`)
                    Op::GetField { dst, obj, name } => {
                        let v = match &w!(obj) {
                            Value::Struct(st) => {
                                let Some(i) = field_slot(&proto, &self.types, st.ty, name) else {
                                    break op;
                                };
                                match st.fields.get(i) {
                                    Some(v) => v.dup(),
                                    None => break op,
                                }
                            }
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    // a captured local (a box in this frame)
                    Op::GetBox { dst, boxed } => {
                        let v = match &w!(boxed) {
                            Value::Cell(c) => match &*c.value.borrow() {
                                Value::Undef => break op,
                                v => v.dup(),
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    // the next element of an array (`for`, comprehensions, lambdas in place)
                    Op::IterNext { src, dst, off } => {
                        let Value::Int(p) = w!(src + 1) else { break op };
                        let next = match &w!(src) {
                            Value::Array(a) => a.get(p as usize).map(Value::dup),
                            _ => break op,
                        };
                        match next {
                            Some(v) => {
                                if self.steps_left == 0 {
                                    break op;
                                }
                                self.steps_left -= 1;
                                put(&mut w!(dst), v);
                                w!(src + 1) = Value::Int(p + 1);
                            }
                            None => jump!(off),
                        }
                    }
                    // onto an array with room that nothing else holds
                    Op::ArrayPush { arr, src } => {
                        match &mut w!(arr) {
                            Value::Array(a) => match Rc::get_mut(a) {
                                Some(l) if l.len() < l.capacity() => {}
                                _ => break op,
                            },
                            _ => break op,
                        }
                        let v = std::mem::take(&mut w!(src));
                        if let Value::Array(a) = &mut w!(arr) {
                            if let Some(l) = Rc::get_mut(a) {
                                l.push(v);
                            }
                        }
                    }
                    // a captured variable of the running closure (a callback's bound)
                    Op::GetUpval { dst, idx } => {
                        let v = match self
                            .frames
                            .last()
                            .map(|f| f.closure.upvals.get(idx as usize))
                        {
                            Some(Some(u)) => match &*u.value.borrow() {
                                Value::Undef => break op,
                                v => v.dup(),
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    Op::UpdateGlobal { slot, op: bop, src } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        match (self.globals.get_mut(s), all.get(base + src as usize)) {
                            (Some(Value::Int(g)), Some(Value::Int(y))) => {
                                let r = match bop {
                                    0 => g.checked_add(*y),
                                    1 => g.checked_sub(*y),
                                    2 => g.checked_mul(*y),
                                    _ => None,
                                };
                                match r {
                                    Some(n) => *g = n,
                                    None => break op,
                                }
                            }
                            (Some(Value::Float(g)), Some(Value::Float(y))) => match bop {
                                0 => *g += *y,
                                1 => *g -= *y,
                                2 => *g *= *y,
                                _ => break op,
                            },
                            // `s += "x"`: appended in place (an error is left to the slow
                            // section, which finds it again before changing anything)
                            (Some(g @ Value::Str(_)), Some(y @ Value::Str(_))) if bop == 0 => {
                                if arith::add_assign(g, y).is_err() {
                                    break op;
                                }
                            }
                            _ => break op,
                        }
                    }
                    Op::SetGlobal { slot, src } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        let v = w!(src).dup();
                        match self.globals.get_mut(s) {
                            Some(g) => put(g, v),
                            None => break op,
                        }
                    }
                    Op::Add { dst, a, b, .. } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_add(y), |x: f64, y| {
                            Some(x + y)
                        })
                    }
                    Op::AddImm { dst, a, imm, sub } => match &w!(a) {
                        Value::Int(x) => {
                            let r = if sub {
                                x.checked_sub(imm as i64)
                            } else {
                                x.checked_add(imm as i64)
                            };
                            match r {
                                Some(s) => put(&mut w!(dst), Value::Int(s)),
                                None => break op,
                            }
                        }
                        _ => break op,
                    },
                    Op::ArithK { dst, a, op: bop, k } => {
                        let y = proto.consts.get(k as usize);
                        match y.and_then(|y| number_op(bop, &w!(a), y)) {
                            Some(v) => put(&mut w!(dst), v),
                            None => {
                                // `s += "x"`: appended in place (an error is the slow
                                // section's to report: `add_assign` changes nothing then)
                                if let (ADD, true, Some(y @ Value::Str(_))) = (bop, dst == a, y) {
                                    if matches!(w!(a), Value::Str(_))
                                        && arith::add_assign(&mut w!(a), y).is_ok()
                                    {
                                        continue;
                                    }
                                }
                                break op;
                            }
                        }
                    }
                    Op::UpdateGlobalK { slot, op: bop, k } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        let (Some(g), Some(y)) =
                            (self.globals.get_mut(s), proto.consts.get(k as usize))
                        else {
                            break op;
                        };
                        match number_op(bop, g, y) {
                            Some(v) => *g = v,
                            None => break op,
                        }
                    }
                    Op::Sub { dst, a, b } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_sub(y), |x: f64, y| {
                            Some(x - y)
                        })
                    }
                    Op::Mul { dst, a, b } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_mul(y), |x: f64, y| {
                            Some(x * y)
                        })
                    }
                    Op::Div { dst, a, b } => arith!(
                        op,
                        dst,
                        a,
                        b,
                        |x: i64, y| if y == 0 { None } else { x.checked_div(y) },
                        |x: f64, y| Some(x / y)
                    ),
                    Op::Rem { dst, a, b } => arith!(
                        op,
                        dst,
                        a,
                        b,
                        |x: i64, y| if y == 0 { None } else { x.checked_rem(y) },
                        |x: f64, y| if y == 0.0 { None } else { Some(x % y) }
                    ),
                    Op::Lt { dst, a, b } => compare!(op, dst, a, b, <),
                    Op::Le { dst, a, b } => compare!(op, dst, a, b, <=),
                    Op::Gt { dst, a, b } => compare!(op, dst, a, b, >),
                    Op::Ge { dst, a, b } => compare!(op, dst, a, b, >=),
                    Op::Eq { dst, a, b } => {
                        let v = w!(a).equals(&w!(b));
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Ne { dst, a, b } => {
                        let v = !w!(a).equals(&w!(b));
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Not { dst, src } => {
                        let v = !w!(src).truthy();
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Jump { off } => jump!(off),
                    Op::Loop { off } => {
                        if self.steps_left == 0 {
                            break op;
                        }
                        self.steps_left -= 1;
                        jump!(off)
                    }
                    Op::JumpIfFalse { cond, off } => {
                        if !w!(cond).truthy() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfTrue { cond, off } => {
                        if w!(cond).truthy() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfNotNil { src, off } => {
                        if !w!(src).is_nil() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfNotLt { a, b, off } => jump_unless!(op, a, b, off, <),
                    Op::JumpIfNotLe { a, b, off } => jump_unless!(op, a, b, off, <=),
                    Op::JumpIfNotGt { a, b, off } => jump_unless!(op, a, b, off, >),
                    Op::JumpIfNotGe { a, b, off } => jump_unless!(op, a, b, off, >=),
                    Op::JumpIfNotCmpImm { a, imm, cmp, off } => match &w!(a) {
                        Value::Int(x) => {
                            let y = imm as i64;
                            // bit 0: less, bit 1: equal, bit 2: greater
                            let at = (*x >= y) as u8 + (*x > y) as u8;
                            let holds = (cmp >> at) & 1 != 0;
                            if !holds {
                                jump!(off)
                            }
                        }
                        _ => break op,
                    },
                    Op::JumpIfNotEq { a, b, off } => match (&w!(a), &w!(b)) {
                        (Value::Int(x), Value::Int(y)) => {
                            if x != y {
                                jump!(off)
                            }
                        }
                        (x, y) => {
                            if !x.equals(y) {
                                jump!(off)
                            }
                        }
                    },
                    Op::ForNext {
                        base: b,
                        inclusive,
                        off,
                    } => match (&w!(b), &w!(b + 1)) {
                        (Value::Int(i), Value::Int(hi)) if self.steps_left > 0 => {
                            let (i, hi) = (*i, *hi);
                            let more = if inclusive { i < hi } else { i + 1 < hi };
                            if more {
                                self.steps_left -= 1;
                                put(&mut w!(b), Value::Int(i + 1));
                                jump!(off);
                            }
                        }
                        _ => break op,
                    },
                    Op::GetIndex { dst, obj, index } => match (&w!(obj), &w!(index)) {
                        (Value::Array(a), Value::Int(i))
                            if *i >= 0 && crate::arith::count(*i) < a.len() =>
                        {
                            let v = a[*i as usize].dup();
                            put(&mut w!(dst), v)
                        }
                        (Value::Object(m), Value::Str(k)) => match m.get(k.as_str()) {
                            Some(v) => {
                                let v = v.dup();
                                put(&mut w!(dst), v)
                            }
                            None => break op,
                        },
                        _ => break op,
                    },
                    Op::GetIndexGlobal {
                        dst, index, slot, ..
                    } => {
                        // (the twin of `GetIndex`'s case, written out: a shared helper
                        // returning an Option made the matrix row 12% slower natively)
                        let v = match (self.globals.get(slot as usize), &w!(index)) {
                            (Some(Value::Array(a)), Value::Int(i))
                                if *i >= 0 && crate::arith::count(*i) < a.len() =>
                            {
                                a[*i as usize].dup()
                            }
                            (Some(Value::Object(m)), Value::Str(k)) => match m.get(k.as_str()) {
                                Some(v) => v.dup(),
                                None => break op,
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v)
                    }
                    // `xs[i] = v` and `o[k] = v` with an element already there
                    Op::StorePlace { place, src } => {
                        let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                            break op;
                        };
                        let at = (&mut *all, base, &mut self.globals[..]);
                        if !store_index(at, &self.touched, self.cell, pl, src) {
                            break op;
                        }
                    }
                    Op::CallGlobal {
                        base: cb,
                        argc,
                        slot,
                    } => match self.globals.get(slot as usize) {
                        Some(Value::Func(c)) => fast_call!(c, base + cb as usize + 1, argc, op),
                        _ => break op,
                    },
                    Op::Call { base: cb, argc } => match &all[base + cb as usize] {
                        Value::Func(c) => fast_call!(c, base + cb as usize + 1, argc, op),
                        _ => break op,
                    },
                    Op::Return { src } => {
                        let depth = self.frames.len();
                        if depth <= entry
                            || self.frames.last().is_none_or(|f| f.kind != Frame::CALL)
                        {
                            break op;
                        }
                        let v = std::mem::take(&mut w!(src));
                        let Some(done) = self.frames.pop() else {
                            break op;
                        };
                        let end = (done.base + done.proto().nregs as usize).min(all.len());
                        for r in &mut all[done.base..end] {
                            if r.owns_heap() {
                                crate::value::release(std::mem::take(r));
                            }
                        }
                        while self.handlers.last().is_some_and(|h| h.frame >= depth - 1) {
                            self.handlers.pop();
                        }
                        if depth == entry + 1 {
                            // the end of a callback from a built-in: back to it
                            return Exit::Done(v);
                        }
                        put(&mut all[done.base - 1], v);
                        let Some(caller) = self.frames.last() else {
                            return Exit::Failed(VmError::runtime("internal error: no caller"));
                        };
                        proto = caller.proto().clone();
                        code = proto.code.clone();
                        base = caller.base;
                        pc = caller.pc;
                    }
                    _ => break op,
                }
            }
        };
        Exit::Slow(
            Pos {
                proto,
                code,
                pc,
                base,
            },
            op,
        )
    }

    /// The dispatch loop.
    fn dispatch(&mut self, entry: usize) -> VResult<Value> {
        let fi = self.frames.len() - 1;
        let mut proto = self.frames[fi].proto().clone();
        let mut code = proto.code.clone();
        let mut pc = self.frames[fi].pc;
        let mut base = self.frames[fi].base;

        macro_rules! r {
            ($r:expr) => {
                self.regs[base + $r as usize]
            };
        }
        // runs a fallible step; on error, records where it happened
        macro_rules! t {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(err) => {
                        if let Some(f) = self.frames.last_mut() {
                            f.pc = pc;
                        }
                        return Err(err);
                    }
                }
            };
        }
        // raises an error from the current instruction
        macro_rules! bail {
            ($e:expr) => {{
                if let Some(f) = self.frames.last_mut() {
                    f.pc = pc;
                }
                return Err($e);
            }};
        }
        macro_rules! jump {
            ($off:expr) => {
                pc = pc.wrapping_add_signed($off as isize)
            };
        }
        // switches the local copies to the (new) top frame
        macro_rules! enter_top {
            () => {{
                let f = self.frames.last().expect("a frame");
                proto = f.proto().clone();
                code = proto.code.clone();
                pc = f.pc;
                base = f.base;
            }};
        }

        loop {
            // ---- the fast section: the common cases of the common instructions, on the
            // frame's register window and code as local slices. Anything else leaves the
            // loop with its instruction for the slow section below. An instruction the fast
            // section never handles is taken here directly (a method call after a method
            // call costs no trip through it).
            let op = match code.get(pc) {
                Some(&op) if !fast_handles(&op) => {
                    pc += 1;
                    op
                }
                _ => match self.fast(
                    Pos {
                        proto,
                        code,
                        pc,
                        base,
                    },
                    entry,
                ) {
                    Exit::Slow(at, op) => {
                        Pos {
                            proto,
                            code,
                            pc,
                            base,
                        } = at;
                        op
                    }
                    Exit::Done(v) => return Ok(v),
                    Exit::Failed(e) => return Err(e),
                },
            };
            // ---- the slow section: everything else, with the whole VM at hand
            match op {
                // handled entirely by the fast section
                Op::Move { .. }
                | Op::LoadNil { .. }
                | Op::LoadBool { .. }
                | Op::LoadInt { .. }
                | Op::LoadConst { .. }
                | Op::LoadUndef { .. }
                | Op::Eq { .. }
                | Op::Ne { .. }
                | Op::Not { .. }
                | Op::Jump { .. }
                | Op::JumpIfFalse { .. }
                | Op::JumpIfTrue { .. }
                | Op::JumpIfNotNil { .. }
                | Op::JumpIfNotEq { .. } => {
                    bail!(VmError::runtime(
                        "internal error: fast instruction in the slow path"
                    ))
                }
                Op::GetGlobal { dst, slot } | Op::GetGlobalFn { dst, slot } => {
                    let v = match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => {
                            let name = self.global_name(slot);
                            let what = if matches!(op, Op::GetGlobalFn { .. }) {
                                "function"
                            } else {
                                "variable"
                            };
                            bail!(VmError::runtime(format!("Undefined {what}: {name}")))
                        }
                        Some(v) => v.clone(),
                    };
                    r!(dst) = v;
                }
                Op::SetGlobal { slot, src } => {
                    let s = slot as usize;
                    self.log_global(s);
                    let v = r!(src).clone();
                    if let Some(g) = self.globals.get_mut(s) {
                        *g = v;
                    }
                }
                Op::UpdateGlobal { slot, op, src } => {
                    // (out of its register while the global changes, then put back)
                    let rhs = std::mem::take(&mut r!(src));
                    let r = self.update_global(slot, op, &rhs);
                    r!(src) = rhs;
                    t!(r);
                }
                Op::UpdateGlobalK { slot, op, k } => {
                    let rhs = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    t!(self.update_global(slot, op, &rhs));
                }
                Op::GetUpval { dst, idx } => {
                    let v = match self.frames.last().and_then(|f| f.callee()) {
                        Some(c) => c
                            .upvals
                            .get(idx as usize)
                            .map(|u| u.value.borrow().clone())
                            .unwrap_or_default(),
                        None => Value::Nil,
                    };
                    t!(check_defined(&v));
                    r!(dst) = v;
                }
                Op::SetUpval { idx, src } => {
                    let cell = self
                        .frames
                        .last()
                        .and_then(|f| f.callee())
                        .and_then(|c| c.upvals.get(idx as usize).cloned());
                    if let Some(cell) = cell {
                        self.log_cell(&cell);
                        *cell.value.borrow_mut() = r!(src).clone();
                    }
                }
                Op::NewBox { reg } => {
                    let v = std::mem::take(&mut r!(reg));
                    r!(reg) = Value::Cell(Rc::new(UpCell {
                        value: RefCell::new(v),
                        born: self.cell,
                        logged: Cell::new(0),
                    }));
                }
                Op::GetBox { dst, boxed } => {
                    let v = match &r!(boxed) {
                        Value::Cell(c) => c.value.borrow().clone(),
                        other => other.clone(),
                    };
                    t!(check_defined(&v));
                    r!(dst) = v;
                }
                Op::SetBox { boxed, src } => {
                    let v = r!(src).clone();
                    if let Value::Cell(c) = &r!(boxed) {
                        let c = c.clone();
                        self.log_cell(&c);
                        *c.value.borrow_mut() = v;
                    } else {
                        r!(boxed) = v;
                    }
                }
                Op::LoadSelf { dst } => {
                    let v = self
                        .frames
                        .last()
                        .and_then(|f| f.callee().cloned())
                        .map_or(Value::Nil, Value::Func);
                    r!(dst) = v;
                }

                Op::Add { dst, a, b, own } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("addition")),
                        },
                        (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
                        (x, y) => {
                            if dst == a || own {
                                // `s = s + t` on a string or array, or a temporary on the
                                // left: append in place
                                let y = y.clone();
                                let mut x = std::mem::take(&mut r!(a));
                                let res = arith::add_assign(&mut x, &y);
                                r!(dst) = x;
                                t!(res);
                                continue;
                            }
                            t!(arith::add(x, y))
                        }
                    };
                    r!(dst) = v;
                }
                Op::AddImm { dst, a, imm, sub } => {
                    let v = match &r!(a) {
                        Value::Int(x) => {
                            let r = if sub {
                                x.checked_sub(imm as i64)
                            } else {
                                x.checked_add(imm as i64)
                            };
                            match r {
                                Some(s) => Value::Int(s),
                                None => bail!(arith::overflow(if sub {
                                    "subtraction"
                                } else {
                                    "addition"
                                })),
                            }
                        }
                        x => {
                            let k = Value::Int(imm as i64);
                            if sub {
                                t!(arith::sub(x, &k))
                            } else {
                                t!(arith::add(x, &k))
                            }
                        }
                    };
                    r!(dst) = v;
                }
                Op::ArithK { dst, a, op, k } => {
                    let y = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    let v = t!(binary(op, &r!(a), &y));
                    r!(dst) = v;
                }
                Op::Sub { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_sub(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("subtraction")),
                        },
                        (x, y) => t!(arith::sub(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Mul { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_mul(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("multiplication")),
                        },
                        (x, y) => t!(arith::mul(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Div { dst, a, b } => {
                    let v = t!(arith::div(&r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Rem { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) if *y > 0 => Value::Int(x % y),
                        (x, y) => t!(arith::rem(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Pow { dst, a, b } => {
                    let v = t!(arith::pow(&r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitAnd { dst, a, b } => {
                    let v = t!(arith::bit("&", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitOr { dst, a, b } => {
                    let v = t!(arith::bit("|", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitXor { dst, a, b } => {
                    let v = t!(arith::bit("^", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Shl { dst, a, b } => {
                    let v = t!(arith::bit("<<", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Shr { dst, a, b } => {
                    let v = t!(arith::bit(">>", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Lt { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => t!(arith::lt(x, y)),
                    };
                    r!(dst) = Value::Bool(v);
                }
                Op::Le { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => t!(arith::le(x, y)),
                    };
                    r!(dst) = Value::Bool(v);
                }
                Op::Gt { dst, a, b } => {
                    let v = t!(arith::gt(&r!(a), &r!(b)));
                    r!(dst) = Value::Bool(v);
                }
                Op::Ge { dst, a, b } => {
                    let v = t!(arith::ge(&r!(a), &r!(b)));
                    r!(dst) = Value::Bool(v);
                }
                Op::Neg { dst, src } => {
                    let v = t!(arith::neg(&r!(src)));
                    r!(dst) = v;
                }
                Op::BitNot { dst, src } => {
                    let v = t!(arith::bit_not(&r!(src)));
                    r!(dst) = v;
                }

                Op::Loop { off } => {
                    jump!(off);
                    t!(self.tick());
                }
                Op::JumpIfNotLt { a, b, off } => {
                    let lt = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => t!(arith::lt(x, y)),
                    };
                    if !lt {
                        jump!(off)
                    }
                }
                Op::JumpIfNotLe { a, b, off } => {
                    let le = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => t!(arith::le(x, y)),
                    };
                    if !le {
                        jump!(off)
                    }
                }
                Op::JumpIfNotGt { a, b, off } => {
                    if !t!(arith::gt(&r!(a), &r!(b))) {
                        jump!(off)
                    }
                }
                Op::JumpIfNotGe { a, b, off } => {
                    if !t!(arith::ge(&r!(a), &r!(b))) {
                        jump!(off)
                    }
                }
                Op::JumpIfNotCmpImm { a, imm, cmp, off } => {
                    let holds = match &r!(a) {
                        Value::Int(x) => {
                            let y = imm as i64;
                            let at = (*x >= y) as u8 + (*x > y) as u8;
                            (cmp >> at) & 1 != 0
                        }
                        x => {
                            let y = Value::Int(imm as i64);
                            t!(match cmp {
                                CMP_LT => arith::lt(x, &y),
                                CMP_LE => arith::le(x, &y),
                                CMP_GT => arith::gt(x, &y),
                                CMP_GE => arith::ge(x, &y),
                                CMP_EQ => Ok(x.equals(&y)),
                                _ => Ok(!x.equals(&y)),
                            })
                        }
                    };
                    if !holds {
                        jump!(off)
                    }
                }
                Op::JumpIfNotNe { a, b, off } => {
                    let ne = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x != y,
                        (x, y) => !x.equals(y),
                    };
                    if !ne {
                        jump!(off)
                    }
                }

                Op::Call { base: cb, argc } => {
                    let abs = base + cb as usize;
                    if let Value::Func(c) = &self.regs[abs] {
                        let c = c.clone();
                        t!(self.tick());
                        if let Some(f) = self.frames.last_mut() {
                            f.pc = pc;
                        }
                        t!(self.push_frame(c, abs + 1, argc as usize, None));
                        enter_top!();
                    } else {
                        let f = std::mem::take(&mut self.regs[abs]);
                        let mut args = self.take_args(abs + 1, argc as usize);
                        if let Some(fr) = self.frames.last_mut() {
                            fr.pc = pc;
                        }
                        let v = t!(self.call_native_args(&f, &mut args));
                        self.regs[abs] = v;
                    }
                }
                Op::CallGlobal {
                    base: cb,
                    argc,
                    slot,
                } => {
                    let abs = base + cb as usize;
                    match self.globals.get(slot as usize) {
                        Some(Value::Func(c)) => {
                            let c = c.clone();
                            t!(self.tick());
                            if let Some(f) = self.frames.last_mut() {
                                f.pc = pc;
                            }
                            t!(self.push_frame(c, abs + 1, argc as usize, None));
                            enter_top!();
                        }
                        Some(Value::Undef) | None => {
                            let name = self.global_name(slot);
                            let mut e = VmError::runtime(format!("Undefined function: {name}"));
                            // the call starts with the callee's name: point at the name
                            if proto.cell == self.cell {
                                if let Some(sp) = proto.spans.get(pc - 1) {
                                    e.span =
                                        Some(Span::new(sp.start, sp.start + name.len() as u32));
                                }
                            }
                            bail!(e)
                        }
                        Some(f) => {
                            let f = f.clone();
                            let mut args = self.take_args(abs + 1, argc as usize);
                            if let Some(fr) = self.frames.last_mut() {
                                fr.pc = pc;
                            }
                            let v = t!(self.call_native_args(&f, &mut args));
                            self.regs[abs] = v;
                        }
                    }
                }
                Op::CallMethod {
                    base: cb,
                    argc,
                    id,
                    name,
                } => {
                    let abs = base + cb as usize;
                    let recv = std::mem::take(&mut self.regs[abs + 1]);
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc;
                    }
                    let mname: &str = proto.names.get(name as usize).map_or("", |n| n);
                    if let Some(m) = self.user_method(&recv, mname) {
                        self.regs[abs + 1] = recv;
                        t!(self.tick());
                        t!(self.push_frame(m.func, abs + 1, argc as usize + 1, None));
                        enter_top!();
                        continue;
                    }
                    let mut recv = recv;
                    let v = t!(self.call_method_in(&mut recv, id, mname, abs + 2, argc));
                    self.regs[abs] = v;
                }
                Op::CallMethodPlace {
                    base: cb,
                    argc,
                    id,
                    place,
                } => {
                    let abs = base + cb as usize;
                    if let Some(fr) = self.frames.last_mut() {
                        fr.pc = pc;
                    }
                    let Some(Desc::MethodPlace { place: pl, name }) =
                        proto.descs.get(place as usize)
                    else {
                        bail!(VmError::runtime("internal error: bad place"))
                    };
                    // `xs.push(x)` on a variable: straight onto the array
                    if id == MethodId::Push && argc == 1 && pl.steps.is_empty() {
                        let x = std::mem::take(&mut self.regs[abs + 2]);
                        let target = match pl.root {
                            Root::Local(r) => self.regs.get_mut(base + r as usize),
                            Root::Global(s) => {
                                self.log_global(s as usize);
                                self.globals.get_mut(s as usize)
                            }
                            _ => None,
                        };
                        if let Some(Value::Array(a)) = target {
                            t!(crate::budget::push(&mut Rc::make_mut(a).0, x)
                                .map_err(VmError::from));
                            self.regs[abs] = Value::Nil;
                            continue;
                        }
                        self.regs[abs + 2] = x;
                    }
                    // `xs.len()`, `s.is_empty()`, `m.contains_key(k)` on a variable: answered
                    // where the value is (no copy of it, no argument list; the built-in method
                    // is the one these receivers have)
                    if pl.steps.is_empty()
                        && matches!(
                            id,
                            MethodId::Len | MethodId::IsEmpty | MethodId::ContainsKey
                        )
                    {
                        let recv = match pl.root {
                            Root::Local(r) => self.regs.get(base + r as usize),
                            Root::Global(s) => self.globals.get(s as usize),
                            _ => None,
                        };
                        let quick = match (id, recv, argc) {
                            (MethodId::Len, Some(Value::Str(s)), 0) => {
                                Some(Value::Int(s.len() as i64))
                            }
                            (MethodId::Len, Some(Value::Array(a)), 0) => {
                                Some(Value::Int(a.len() as i64))
                            }
                            (MethodId::Len, Some(Value::Object(m)), 0) => {
                                Some(Value::Int(m.len() as i64))
                            }
                            (MethodId::IsEmpty, Some(Value::Str(s)), 0) => {
                                Some(Value::Bool(s.is_empty()))
                            }
                            (MethodId::IsEmpty, Some(Value::Array(a)), 0) => {
                                Some(Value::Bool(a.is_empty()))
                            }
                            (MethodId::ContainsKey, Some(Value::Object(m)), 1) => {
                                match self.regs.get(abs + 2) {
                                    Some(Value::Str(k)) => Some(Value::Bool(m.contains_key(k))),
                                    _ => None,
                                }
                            }
                            _ => None,
                        };
                        if let Some(v) = quick {
                            self.regs[abs] = v;
                            continue;
                        }
                    }
                    let mname: &str = proto.names.get(*name as usize).map_or("", |n| n);
                    let recv = t!(self.read_place(pl, base));
                    if let Some(m) = self.user_method(&recv, mname) {
                        let wb = if m.self_kind == SelfKind::Mut {
                            drop(recv);
                            self.regs[abs + 1] = t!(self.take_place(pl, base));
                            Some(place)
                        } else {
                            self.regs[abs + 1] = recv;
                            None
                        };
                        t!(self.tick());
                        if let Err(e) = self.push_frame(m.func, abs + 1, argc as usize + 1, wb) {
                            if wb.is_some() {
                                let v = std::mem::take(&mut self.regs[abs + 1]);
                                t!(self.put_place(pl, base, v));
                            }
                            bail!(e);
                        }
                        enter_top!();
                        continue;
                    }
                    let v = if id.mutates() {
                        drop(recv);
                        let mut v = t!(self.take_place(pl, base));
                        let res = self.call_method_in(&mut v, id, mname, abs + 2, argc);
                        t!(self.put_place(pl, base, v));
                        t!(res)
                    } else {
                        let mut recv = recv;
                        t!(self.call_method_in(&mut recv, id, mname, abs + 2, argc))
                    };
                    self.regs[abs] = v;
                }
                Op::Return { src } => {
                    let v = std::mem::take(&mut r!(src));
                    let Some(done) = self.pop_frame() else {
                        return Ok(v);
                    };
                    t!(self.write_back(&done));
                    if self.frames.len() <= entry {
                        return Ok(v);
                    }
                    self.regs[done.base - 1] = v;
                    enter_top!();
                }
                Op::SkipIfArg { reg, off } => {
                    if !matches!(r!(reg), Value::Undef) {
                        jump!(off)
                    }
                }

                Op::MakeArray { dst, base: b, n } => {
                    let items: Vec<Value> =
                        (0..n).map(|i| std::mem::take(&mut r!(b + i))).collect();
                    r!(dst) = Value::array(items);
                }
                Op::MakeTuple { dst, base: b, n } => {
                    let items: Vec<Value> =
                        (0..n).map(|i| std::mem::take(&mut r!(b + i))).collect();
                    r!(dst) = Value::tuple(items);
                }
                Op::MakeObject {
                    dst,
                    base: b,
                    n,
                    keys,
                } => {
                    let mut map = crate::object::ObjMap::new();
                    if let Some(Desc::Keys(ks)) = proto.descs.get(keys as usize) {
                        for (i, k) in ks.iter().enumerate().take(n as usize) {
                            map.insert(k.clone(), std::mem::take(&mut r!(b + i as u16)));
                        }
                    }
                    r!(dst) = Value::object(map);
                }
                Op::MakeStruct { dst, base: b, desc } => {
                    let v = t!(self.make_struct(&proto, desc, base + b as usize));
                    r!(dst) = v;
                }
                Op::ArrayRepeat { dst, value, count } => {
                    let n = match &r!(count) {
                        Value::Int(n) => t!(arith::copies(1, *n, arith::VALUE_BYTES)),
                        other => bail!(VmError::type_error(format!(
                            "Array length must be an integer, found {}",
                            other.type_name()
                        ))),
                    };
                    let v = r!(value).clone();
                    r!(dst) = Value::array(vec![v; n]);
                }
                Op::ArrayPush { arr, src } => {
                    let v = std::mem::take(&mut r!(src));
                    if let Value::Array(a) = &mut r!(arr) {
                        t!(crate::budget::push(&mut Rc::make_mut(a).0, v).map_err(VmError::from));
                    }
                }
                Op::MakeRange {
                    dst,
                    start,
                    end,
                    flags,
                } => {
                    let bound = |v: &Value, what: &str| -> VResult<i64> {
                        match v {
                            Value::Int(n) => Ok(*n),
                            other => Err(VmError::type_error(format!(
                                "Range {what} must be an integer, found {}",
                                other.type_name()
                            ))),
                        }
                    };
                    let s = if flags & 2 != 0 {
                        Some(t!(bound(&r!(start), "start")))
                    } else {
                        None
                    };
                    let e = if flags & 4 != 0 {
                        Some(t!(bound(&r!(end), "end")))
                    } else {
                        None
                    };
                    r!(dst) = Value::Range(Rc::new(RangeValue {
                        start: s,
                        end: e,
                        inclusive: flags & 1 != 0,
                    }));
                }
                Op::MakeClosure { dst, proto: pi } => {
                    let v = t!(self.make_closure(&proto, pi, base));
                    r!(dst) = v;
                }
                Op::FString { dst, base: b, desc } => {
                    let v = t!(self.fstring(&proto, desc, base + b as usize));
                    r!(dst) = v;
                }

                Op::GetIndex { dst, obj, index } => {
                    let v = match (&r!(obj), &r!(index)) {
                        (Value::Array(a), Value::Int(i))
                            if *i >= 0 && crate::arith::count(*i) < a.len() =>
                        {
                            a[*i as usize].clone()
                        }
                        (o, i) => t!(crate::methods::index(o, i)),
                    };
                    r!(dst) = v;
                }
                Op::GetIndexGlobal {
                    dst,
                    index,
                    at,
                    slot,
                } => {
                    let v = match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => {
                            let mut e = self.undefined_variable(slot);
                            if let Some(Desc::Span(sp)) = proto.descs.get(at as usize) {
                                if proto.cell == self.cell {
                                    e.span = Some(*sp);
                                }
                            }
                            bail!(e)
                        }
                        Some(g) => t!(crate::methods::index(g, &r!(index))),
                    };
                    r!(dst) = v;
                }
                Op::GetField { dst, obj, name } => {
                    let fname = proto
                        .names
                        .get(name as usize)
                        .cloned()
                        .unwrap_or_else(|| "".into());
                    let v = t!(self.get_field(&r!(obj), &fname));
                    r!(dst) = v;
                }
                Op::GetTupleField { dst, obj, index } => {
                    let v = t!(tuple_field(&r!(obj), index));
                    r!(dst) = v;
                }
                Op::GetPath { dst, desc } => {
                    let v = t!(self.get_path(&proto, desc));
                    r!(dst) = v;
                }
                Op::StorePlace { place, src } => {
                    let v = r!(src).clone();
                    let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                        bail!(VmError::runtime("internal error: bad place"))
                    };
                    t!(self.put_place(pl, base, v));
                }
                Op::LoadPlace { dst, place } => {
                    let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                        bail!(VmError::runtime("internal error: bad place"))
                    };
                    let v = t!(self.read_place(pl, base));
                    r!(dst) = v;
                }

                Op::TestVariant { src, desc, off } => {
                    if !self.test_variant(&proto, desc, &r!(src)) {
                        jump!(off)
                    }
                }
                Op::TestTuple { src, n, off } => {
                    if !matches!(&r!(src), Value::Tuple(t) if t.len() == n as usize) {
                        jump!(off)
                    }
                }
                Op::TestList {
                    src,
                    n,
                    at_least,
                    off,
                } => {
                    let ok = match &r!(src) {
                        Value::Array(a) => {
                            if at_least {
                                a.len() >= n as usize
                            } else {
                                a.len() == n as usize
                            }
                        }
                        _ => false,
                    };
                    if !ok {
                        jump!(off)
                    }
                }
                Op::TestRange { src, desc, off } => {
                    if !test_range(&proto, desc, &r!(src)) {
                        jump!(off)
                    }
                }
                Op::GetElem {
                    dst,
                    src,
                    idx,
                    from_end,
                } => {
                    let v = element(&r!(src), idx as usize, from_end);
                    r!(dst) = v;
                }
                Op::SliceRest {
                    dst,
                    src,
                    start,
                    end,
                } => {
                    let v = match &r!(src) {
                        Value::Array(a) => {
                            let hi = a.len().saturating_sub(end as usize);
                            let lo = (start as usize).min(hi);
                            t!(crate::budget::values(hi - lo).map_err(VmError::from));
                            t!(crate::budget::burn(hi - lo).map_err(VmError::from));
                            Value::array(a[lo..hi].to_vec())
                        }
                        _ => Value::array(Vec::new()),
                    };
                    r!(dst) = v;
                }
                Op::MatchFail { src, binding } => {
                    let shown = display(&r!(src), &self.types);
                    bail!(VmError::runtime(if binding {
                        format!("The pattern does not match the value {shown}")
                    } else {
                        format!("No match arm matched the value {shown}")
                    }));
                }

                Op::IterPrep { src } => {
                    let v = std::mem::take(&mut r!(src));
                    let prepared = t!(crate::methods::iterable(v));
                    r!(src) = prepared;
                    r!(src + 1) = Value::Int(0);
                }
                Op::IterArray {
                    src,
                    acc,
                    reserve,
                    off,
                } => match &r!(src) {
                    Value::Array(a) => {
                        if reserve {
                            let room = t!(crate::budget::vec_with(a.len()).map_err(VmError::from));
                            r!(acc) = Value::array(room);
                        }
                        r!(src + 1) = Value::Int(0);
                    }
                    _ => jump!(off),
                },
                Op::IterNext { src, dst, off } => {
                    let pos = match r!(src + 1) {
                        Value::Int(p) => p,
                        _ => 0,
                    };
                    let next = match &r!(src) {
                        Value::Array(a) => a.get(pos as usize).cloned().map(|v| (v, pos + 1)),
                        Value::Range(rg) => match rg.bounds() {
                            Some((lo, hi)) => {
                                let i = lo.checked_add(pos);
                                i.filter(|&i| i < hi).map(|i| (Value::Int(i), pos + 1))
                            }
                            None => match rg.start {
                                // an open range `a..` counts up without end
                                Some(lo) => lo.checked_add(pos).map(|i| (Value::Int(i), pos + 1)),
                                None => None,
                            },
                        },
                        Value::Str(s) => {
                            let p = pos as usize;
                            s.get(p..)
                                .and_then(|rest| rest.chars().next())
                                .map(|c| (Value::str(c.to_string()), (p + c.len_utf8()) as i64))
                        }
                        _ => None,
                    };
                    match next {
                        Some((v, p)) => {
                            r!(dst) = v;
                            r!(src + 1) = Value::Int(p);
                            t!(self.tick());
                        }
                        None => jump!(off),
                    }
                }
                Op::ForPrep {
                    base: b,
                    inclusive,
                    off,
                } => {
                    let (lo, hi) = match (&r!(b), &r!(b + 1)) {
                        (Value::Int(lo), Value::Int(hi)) => (*lo, *hi),
                        (x, y) => bail!(VmError::type_error(format!(
                            "A range in `for` needs integer bounds, found {} and {}",
                            x.type_name(),
                            y.type_name()
                        ))),
                    };
                    let empty = if inclusive { lo > hi } else { lo >= hi };
                    if empty {
                        jump!(off)
                    }
                }
                Op::ForNext {
                    base: b,
                    inclusive,
                    off,
                } => {
                    if let (Value::Int(i), Value::Int(hi)) = (&r!(b), &r!(b + 1)) {
                        let (i, hi) = (*i, *hi);
                        let more = if inclusive { i < hi } else { i + 1 < hi };
                        if more {
                            r!(b) = Value::Int(i + 1);
                            jump!(off);
                            t!(self.tick());
                        }
                    }
                }

                Op::TryBegin { err, off } => {
                    let target = (pc as i64 + off as i64) as usize;
                    self.handlers.push(Handler {
                        frame: self.frames.len() - 1,
                        pc: target,
                        err,
                    });
                }
                Op::TryEnd => {
                    self.handlers.pop();
                }
                Op::Throw { src } => {
                    let v = r!(src).clone();
                    let shown = display(&v, &self.types);
                    let mut e = VmError::runtime(format!("Uncaught exception: {shown}"));
                    e.thrown = Some(v);
                    bail!(e);
                }
                Op::Rethrow { src } => {
                    let e = match self.last_caught.take() {
                        Some(e) => e,
                        None => {
                            let v = r!(src).clone();
                            let shown = display(&v, &self.types);
                            let mut e = VmError::runtime(format!("Uncaught exception: {shown}"));
                            e.thrown = Some(v);
                            e
                        }
                    };
                    bail!(e);
                }
                Op::Question { dst, src } => {
                    enum Q {
                        Value(Value),
                        Return,
                        Bad,
                    }
                    let q = match r!(src).as_variant() {
                        Some((OPTION, SOME, [inner])) | Some((RESULT, OK, [inner])) => {
                            Q::Value(inner.clone())
                        }
                        Some((OPTION, NONE, _)) | Some((RESULT, ERR, _)) => Q::Return,
                        _ => Q::Bad,
                    };
                    match q {
                        Q::Value(v) => r!(dst) = v,
                        Q::Return => {
                            // early return of the `None`/`Err` from the current function
                            let ret = std::mem::take(&mut r!(src));
                            let Some(done) = self.pop_frame() else {
                                return Ok(ret);
                            };
                            t!(self.write_back(&done));
                            if self.frames.len() <= entry {
                                return Ok(ret);
                            }
                            self.regs[done.base - 1] = ret;
                            enter_top!();
                        }
                        Q::Bad => {
                            let shown = display(&r!(src), &self.types);
                            bail!(VmError::type_error(format!(
                                "The `?` operator needs an Option or a Result, found {shown}"
                            )))
                        }
                    }
                }
                Op::CheckType { reg, desc } => {
                    if let Some(Desc::Check { kind, annotation }) = proto.descs.get(desc as usize) {
                        t!(check_type(&r!(reg), *kind, annotation));
                    }
                }
                Op::Cast { dst, src, desc } => {
                    let kind = match proto.descs.get(desc as usize) {
                        Some(Desc::Cast(k)) => *k,
                        _ => CastKind::Keep,
                    };
                    let v = t!(self.cast(&r!(src), kind));
                    r!(dst) = v;
                }
                Op::DefType {
                    dst,
                    desc,
                    defaults,
                } => {
                    let defaults = if defaults == Reg::MAX {
                        None
                    } else {
                        Some(base + defaults as usize)
                    };
                    let v = t!(self.def_type(&proto, desc, defaults));
                    r!(dst) = v;
                }
                Op::DefImpl { base: b, desc } => {
                    t!(self.def_impl(&proto, desc, base + b as usize));
                }
            }
        }
    }

    fn call_native_args(&mut self, f: &Value, args: &mut Args) -> VResult<Value> {
        if args.len <= 4 {
            let n = args.len;
            self.call_native(f, &mut args.inline[..n])
        } else {
            let mut heap = std::mem::take(&mut args.heap);
            self.call_native(f, &mut heap)
        }
    }

    fn global_name(&self, slot: u32) -> Rc<str> {
        self.global_names
            .get(slot as usize)
            .cloned()
            .unwrap_or_else(|| "?".into())
    }

    fn undefined_variable(&self, slot: u32) -> VmError {
        let name = self.global_name(slot);
        VmError::runtime(format!("Undefined variable: {name}"))
    }

    /// `globals[slot] op= rhs` for [`Op::UpdateGlobal`] and [`Op::UpdateGlobalK`] (the old
    /// value logged for rollback first).
    fn update_global(&mut self, slot: u32, op: u8, rhs: &Value) -> VResult<()> {
        let s = slot as usize;
        if matches!(self.globals.get(s), Some(Value::Undef) | None) {
            return Err(self.undefined_variable(slot));
        }
        self.log_global(s);
        match self.globals.get_mut(s) {
            Some(g) => update(g, op, rhs),
            None => Ok(()),
        }
    }

    /// A user method `name` for the receiver's type, if it has one.
    #[inline]
    pub fn user_method(&self, recv: &Value, name: &str) -> Option<Method> {
        let ty = match recv {
            Value::Struct(s) => s.ty,
            Value::Variant(v) => v.ty,
            Value::Unit(t, _) => *t,
            _ if self.types.builtin_impls => return self.builtin_type_method(recv, name),
            _ => return None,
        };
        self.types.get(ty)?.methods.get(name).cloned()
    }

    /// A method a program gave a built-in type (`impl Trait for i32`), for a name that has no
    /// built-in method on that type: the built-in ones come first, as a type's own methods
    /// come before a trait's in Rust.
    #[cold]
    fn builtin_type_method(&self, recv: &Value, name: &str) -> Option<Method> {
        let kind = crate::catalogue::recv_of(recv)?;
        if crate::catalogue::method(kind, name).is_some() {
            return None;
        }
        let ty = self
            .types
            .lookup(&format!("builtin {}", builtin_kind(kind)?))?;
        self.types.get(ty)?.methods.get(name).cloned()
    }

    fn make_closure(&self, proto: &Proto, index: u32, base: usize) -> VResult<Value> {
        let p = proto
            .protos
            .get(index as usize)
            .ok_or_else(|| VmError::runtime("internal error: bad function index"))?;
        let mut upvals = Vec::with_capacity(p.captures.len());
        let current = self.frames.last().and_then(|f| f.callee().cloned());
        for c in &p.captures {
            let cell = match c {
                Capture::Local(r) => match self.regs.get(base + *r as usize) {
                    Some(Value::Cell(cell)) => cell.clone(),
                    _ => Rc::new(UpCell {
                        value: RefCell::new(Value::Undef),
                        born: self.cell,
                        logged: Cell::new(0),
                    }),
                },
                Capture::Value(r) => Rc::new(UpCell {
                    value: RefCell::new(
                        self.regs
                            .get(base + *r as usize)
                            .cloned()
                            .unwrap_or(Value::Undef),
                    ),
                    born: self.cell,
                    logged: Cell::new(0),
                }),
                Capture::Upval(i) => match current.as_ref().and_then(|c| c.upvals.get(*i as usize))
                {
                    Some(cell) => cell.clone(),
                    None => Rc::new(UpCell {
                        value: RefCell::new(Value::Undef),
                        born: self.cell,
                        logged: Cell::new(0),
                    }),
                },
            };
            upvals.push(cell);
        }
        Ok(Value::Func(Rc::new(Closure {
            proto: p.clone(),
            upvals: upvals.into_boxed_slice(),
        })))
    }

    fn fstring(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<Value> {
        let Some(Desc::FString(segs)) = proto.descs.get(desc as usize) else {
            return Err(VmError::runtime("internal error: bad f-string"));
        };
        // room for the text and a number per hole at once (one allocation for `f"w{i}"`)
        let guess: usize = segs
            .iter()
            .map(|seg| match seg {
                FSeg::Text(t) => t.len(),
                FSeg::Hole(_) => 20,
            })
            .sum();
        let mut out = String::new();
        crate::budget::grow_str(&mut out, guess)?;
        let mut hole = 0usize;
        for seg in segs {
            match seg {
                FSeg::Text(t) => {
                    crate::budget::grow_str(&mut out, t.len())?;
                    out.push_str(t)
                }
                FSeg::Hole(spec) => {
                    let v = &self.regs[base + hole];
                    hole += 1;
                    match (spec, v) {
                        (None, Value::Int(n)) => crate::display::push_int(&mut out, *n),
                        (None, Value::Str(text)) => {
                            crate::budget::grow_str(&mut out, text.len())?;
                            out.push_str(text)
                        }
                        (None, v) => write_plain(&mut out, v, &self.types),
                        (Some(spec), v) => {
                            let text = crate::format::apply(spec, v, &self.types);
                            crate::budget::grow_str(&mut out, text.len())?;
                            out.push_str(&text)
                        }
                    }
                    crate::budget::settled()?;
                    crate::budget::bytes(out.len())?;
                }
            }
        }
        Ok(Value::str(out))
    }

    fn make_struct(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<Value> {
        let Some(Desc::StructLit {
            name,
            fields,
            has_base,
            cache,
        }) = proto.descs.get(desc as usize)
        else {
            return Err(VmError::runtime("internal error: bad struct literal"));
        };
        // the type and whether the literal gives every field in declaration order, without
        // `..base`: remembered from the last run while the session's types are unchanged
        let (ty, in_order) = match cache.get() {
            Some((version, ty, in_order)) if version == self.types.version => (ty, in_order),
            _ => {
                // `Shape::Rect { w: 1.0 }`: a struct-like enum variant
                if let Some((ty_name, variant)) =
                    name.contains(':').then(|| name.split_once("::")).flatten()
                {
                    return self.make_variant(ty_name, variant, name, fields, base);
                }
                let ty = self
                    .types
                    .lookup(name)
                    .ok_or_else(|| VmError::runtime(format!("Undefined struct: {name}")))?;
                let def = self
                    .types
                    .get(ty)
                    .ok_or_else(|| VmError::runtime("Unknown type"))?;
                let TypeKind::Struct { fields: decl, .. } = &def.kind else {
                    return Err(VmError::type_error(format!("{name} is not a struct")));
                };
                let in_order = !*has_base
                    && decl.len() == fields.len()
                    && decl.iter().zip(fields.iter()).all(|(d, f)| d == f);
                cache.set(Some((self.types.version, ty, in_order)));
                (ty, in_order)
            }
        };
        let n = fields.len();
        if in_order
            && self.regs[base..base + n]
                .iter()
                .all(|v| !matches!(v, Value::Undef))
        {
            let mut values = crate::budget::vec_with(n)?;
            values.extend(self.regs[base..base + n].iter_mut().map(std::mem::take));
            return Ok(Value::Struct(Rc::new(StructValue { ty, fields: values })));
        }
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        let TypeKind::Struct { fields: decl, .. } = &def.kind else {
            return Err(VmError::type_error(format!("{name} is not a struct")));
        };
        let decl = decl.clone();
        let defaults = def.defaults.clone();
        let base_value = if *has_base {
            match std::mem::take(&mut self.regs[base + fields.len()]) {
                Value::Struct(s) if s.ty == ty => Some(s),
                other => {
                    return Err(VmError::type_error(format!(
                        "`..base` of a {name} literal must be a {name}, found {}",
                        other.type_name()
                    )))
                }
            }
        } else {
            None
        };
        let values =
            self.gather_fields(&decl, &defaults, fields, base, base_value.as_deref(), name)?;
        Ok(Value::Struct(Rc::new(StructValue { ty, fields: values })))
    }

    /// `Shape::Rect { w: 1.0 }`: a struct-like enum variant's literal.
    fn make_variant(
        &mut self,
        ty_name: &str,
        variant: &str,
        name: &str,
        fields: &[Rc<str>],
        base: usize,
    ) -> VResult<Value> {
        let ty = self
            .types
            .lookup(ty_name)
            .ok_or_else(|| VmError::runtime(format!("Undefined type: {ty_name}")))?;
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        let vi = def
            .variant_index(variant)
            .ok_or_else(|| VmError::runtime(format!("{ty_name} has no variant named {variant}")))?;
        let names = def
            .variant(vi)
            .and_then(|v| v.fields.clone())
            .ok_or_else(|| VmError::runtime(format!("{name} is not a struct-like variant")))?;
        let values = self.gather_fields(&names, &[], fields, base, None, name)?;
        Ok(Value::Variant(Rc::new(VariantValue {
            ty,
            variant: vi,
            fields: values,
        })))
    }

    /// Orders literal fields (in registers from `base`) by the declaration `decl`; a field
    /// left out comes from `..base`, else from its default.
    fn gather_fields(
        &mut self,
        decl: &[Rc<str>],
        defaults: &[Option<Value>],
        given: &[Rc<str>],
        base: usize,
        fallback: Option<&StructValue>,
        name: &str,
    ) -> VResult<Vec<Value>> {
        let mut values = vec![Value::Undef; decl.len()];
        for (i, f) in given.iter().enumerate() {
            let Some(pos) = decl.iter().position(|d| d == f) else {
                return Err(VmError::runtime(format!("{name} has no field named {f}")));
            };
            values[pos] = std::mem::take(&mut self.regs[base + i]);
        }
        for (i, v) in values.iter_mut().enumerate() {
            if matches!(v, Value::Undef) {
                match fallback
                    .and_then(|b| b.fields.get(i))
                    .or_else(|| defaults.get(i).and_then(Option::as_ref))
                {
                    Some(x) => *v = x.clone(),
                    None => {
                        return Err(VmError::runtime(format!(
                            "Missing field {} in {name} literal",
                            decl[i]
                        )))
                    }
                }
            }
        }
        Ok(values)
    }

    pub fn get_field(&self, obj: &Value, name: &str) -> VResult<Value> {
        match obj {
            Value::Struct(s) => {
                let def = self.types.get(s.ty);
                if let Some(i) = def.and_then(|d| d.field_index(name)) {
                    return Ok(s.fields.get(i).cloned().unwrap_or_default());
                }
                let tname = def.map_or("?", |d| &d.name);
                Err(VmError::runtime(format!(
                    "{tname} has no field named {name}"
                )))
            }
            Value::Variant(v) => {
                let info = self.types.get(v.ty).and_then(|d| d.variant(v.variant));
                if let Some(i) = info
                    .and_then(|i| i.fields.as_ref())
                    .and_then(|fs| fs.iter().position(|f| &**f == name))
                {
                    return Ok(v.fields.get(i).cloned().unwrap_or_default());
                }
                Err(VmError::runtime(format!(
                    "{} has no field named {name}",
                    info.map_or("?", |i| &i.name)
                )))
            }
            Value::Object(map) => map
                .get(name)
                .cloned()
                .ok_or_else(|| VmError::runtime(format!("Object has no field named {name}"))),
            Value::Tuple(_) => Err(VmError::runtime(format!(
                "A tuple has no field named {name}: use `.0`, `.1`, ..."
            ))),
            other => Err(VmError::runtime(format!(
                "Cannot read field {name} of {}",
                other.type_name()
            ))),
        }
    }

    fn get_path(&self, proto: &Proto, desc: u32) -> VResult<Value> {
        let Some(Desc::Path(path)) = proto.descs.get(desc as usize) else {
            return Err(VmError::runtime("internal error: bad path"));
        };
        let (Some(first), Some(last)) = (path.first(), path.last()) else {
            return Err(VmError::runtime("empty path"));
        };
        let type_name = &path[path.len().saturating_sub(2)];
        if let Some(ty) = self.types.lookup(type_name) {
            let def = self
                .types
                .get(ty)
                .ok_or_else(|| VmError::runtime("Unknown type"))?;
            if let Some(vi) = def.variant_index(last) {
                let info = def
                    .variant(vi)
                    .ok_or_else(|| VmError::runtime("Unknown variant"))?;
                return Ok(if info.arity == 0 && info.fields.is_none() {
                    Value::Unit(ty, vi)
                } else {
                    Value::Ctor(ty, vi)
                });
            }
            if let Some(m) = def.methods.get(&**last) {
                return Ok(Value::Func(m.func.clone()));
            }
            return Err(VmError::runtime(format!(
                "{type_name} has no variant or associated function named {last}"
            )));
        }
        if let Some(v) = crate::builtins::path_constant(path) {
            return Ok(v);
        }
        if let Some(b) = crate::builtins::std_constructor(type_name, last) {
            return Ok(Value::Builtin(b));
        }
        Err(VmError::runtime(format!(
            "Undefined type: {first} (in `{}`)",
            path.iter().map(|s| &**s).collect::<Vec<_>>().join("::")
        )))
    }

    fn test_variant(&self, proto: &Proto, desc: u32, v: &Value) -> bool {
        let Some(Desc::VariantPat {
            path,
            arity,
            fields,
            constant,
        }) = proto.descs.get(desc as usize)
        else {
            return false;
        };
        // `MAX =>` where MAX is a constant, not a variant: compare the values
        if let Some(slot) = constant {
            if !matches!(v, Value::Variant(_) | Value::Unit(..) | Value::Struct(_)) {
                return match self.globals.get(*slot as usize) {
                    Some(Value::Undef | Value::Type(_) | Value::Ctor(..)) | None => false,
                    Some(g) => v.equals(g),
                };
            }
        }
        let Some(last) = path.last() else {
            // `{ name, age }`: an object with those keys, or a struct with those fields
            let names = fields.as_deref().unwrap_or(&[]);
            return match v {
                Value::Object(map) => names.iter().all(|f| map.get(f).is_some()),
                Value::Struct(s) => self
                    .types
                    .get(s.ty)
                    .is_some_and(|def| names.iter().all(|f| def.field_index(f).is_some())),
                _ => false,
            };
        };
        let type_name = if path.len() >= 2 {
            Some(&path[path.len() - 2])
        } else {
            None
        };
        match v {
            Value::Variant(_) | Value::Unit(..) => {
                let Some((ty, vi, payload)) = v.as_variant() else {
                    return false;
                };
                let Some(def) = self.types.get(ty) else {
                    return false;
                };
                if type_name.is_some_and(|t| **t != *def.name) {
                    return false;
                }
                let Some(info) = def.variant(vi) else {
                    return false;
                };
                if *info.name != **last {
                    return false;
                }
                match (arity, fields) {
                    (Some(n), _) => payload.len() == *n as usize,
                    (None, Some(fs)) => fs.iter().all(|f| {
                        info.fields
                            .as_ref()
                            .is_some_and(|names| names.iter().any(|n| n == f))
                    }),
                    (None, None) => payload.is_empty() || info.fields.is_some(),
                }
            }
            Value::Struct(s) => {
                let Some(def) = self.types.get(s.ty) else {
                    return false;
                };
                if *def.name != **last || type_name.is_some() {
                    return false;
                }
                match (arity, fields) {
                    (Some(n), _) => s.fields.len() == *n as usize,
                    (None, Some(fs)) => fs.iter().all(|f| def.field_index(f).is_some()),
                    (None, None) => true,
                }
            }
            _ => false,
        }
    }

    fn cast(&self, v: &Value, kind: CastKind) -> VResult<Value> {
        Ok(match (kind, v) {
            (CastKind::Int, Value::Int(n)) => Value::Int(*n),
            (CastKind::Int, Value::Float(f)) => {
                if f.is_nan() {
                    Value::Int(0)
                } else {
                    Value::Int(*f as i64)
                }
            }
            (CastKind::Int, Value::Bool(b)) => Value::Int(*b as i64),
            (CastKind::Int, Value::Unit(ty, vi)) => {
                let d = self
                    .types
                    .get(*ty)
                    .and_then(|d| d.variant(*vi))
                    .map_or(*vi as i64, |i| i.discriminant);
                Value::Int(d)
            }
            (CastKind::Int, Value::Str(s)) if s.chars().count() == 1 => {
                Value::Int(s.chars().next().map_or(0, |c| c as i64))
            }
            (CastKind::Float, Value::Int(n)) => Value::Float(*n as f64),
            (CastKind::Float, Value::Float(f)) => Value::Float(*f),
            (CastKind::Str, v) => Value::str(crate::display::display_plain(v, &self.types)),
            (CastKind::Bool, v) => Value::Bool(v.truthy()),
            (CastKind::Char, Value::Int(n)) => {
                match u32::try_from(*n).ok().and_then(char::from_u32) {
                    Some(c) => Value::str(c.to_string()),
                    None => {
                        return Err(VmError::runtime(format!(
                            "{n} is not a valid character code"
                        )))
                    }
                }
            }
            (CastKind::Char, Value::Str(s)) if s.chars().count() == 1 => v.clone(),
            (CastKind::Keep, v) => v.clone(),
            (k, v) => {
                return Err(VmError::type_error(format!(
                    "Cannot cast {} to {}",
                    v.type_name(),
                    match k {
                        CastKind::Int => "an integer",
                        CastKind::Float => "a float",
                        CastKind::Char => "a char",
                        _ => "that type",
                    }
                )))
            }
        })
    }

    #[inline(never)]
    fn def_type(&mut self, proto: &Proto, desc: u32, defaults: Option<usize>) -> VResult<Value> {
        let def = match proto.descs.get(desc as usize) {
            Some(Desc::Struct(s)) => TypeDef {
                name: s.name.clone(),
                kind: TypeKind::Struct {
                    fields: s.fields.iter().map(|(n, _)| n.clone()).collect(),
                    tuple: s.tuple,
                },
                methods: Default::default(),
                defaults: match defaults {
                    Some(at) => (0..s.fields.len())
                        .map(|i| match std::mem::take(&mut self.regs[at + i]) {
                            Value::Undef => None,
                            v => Some(v),
                        })
                        .collect(),
                    None => Vec::new(),
                },
            },
            Some(Desc::Enum(e)) => {
                let mut next = 0i64;
                let variants = e
                    .variants
                    .iter()
                    .map(|v| {
                        let d = v.discriminant.unwrap_or(next);
                        next = d.wrapping_add(1);
                        let (fields, arity) = match &v.shape {
                            ruchy_syntax::ast::VariantShape::Unit => (None, 0),
                            ruchy_syntax::ast::VariantShape::Tuple(t) => (None, t.len()),
                            ruchy_syntax::ast::VariantShape::Struct(fs) => (
                                Some(fs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()),
                                fs.len(),
                            ),
                        };
                        VariantInfo {
                            name: v.name.clone(),
                            fields,
                            arity,
                            discriminant: d,
                        }
                    })
                    .collect();
                TypeDef {
                    name: e.name.clone(),
                    kind: TypeKind::Enum { variants },
                    methods: Default::default(),
                    defaults: Vec::new(),
                }
            }
            _ => return Err(VmError::runtime("internal error: bad type definition")),
        };
        let old = self.types.lookup(&def.name);
        self.undo.push(Undo::TypeName(def.name.clone(), old));
        let id = self.types.add(def);
        Ok(Value::Type(id))
    }

    fn def_impl(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<()> {
        let Some(Desc::Impl {
            type_name,
            trait_name,
            methods,
        }) = proto.descs.get(desc as usize)
        else {
            return Err(VmError::runtime("internal error: bad impl"));
        };
        // `impl Trait for i32` (or `str`, `Vec<T>`, ...): the built-in type's own methods
        // (a program's own type of that name comes first)
        let builtin = builtin_type(type_name)
            .filter(|_| self.types.lookup(type_name).is_none())
            .map(|k| Rc::<str>::from(format!("builtin {k}")));
        let type_name = builtin.as_ref().unwrap_or(type_name);
        let ty = match self.types.lookup(type_name) {
            Some(ty) => ty,
            // a trait's default methods live under `trait Name`, and a built-in type's methods
            // under `builtin kind`: types nothing can make
            None if type_name.starts_with("trait ") || builtin.is_some() => {
                self.types.builtin_impls |= builtin.is_some();
                let id = self.types.add(TypeDef {
                    name: type_name.clone(),
                    kind: TypeKind::Enum {
                        variants: Vec::new(),
                    },
                    methods: Default::default(),
                    defaults: Vec::new(),
                });
                self.undo.push(Undo::TypeName(type_name.clone(), None));
                id
            }
            None => {
                return Err(VmError::runtime(format!(
                    "Undefined type: {type_name} (define the struct or enum before its impl)"
                )))
            }
        };
        for (i, m) in methods.iter().enumerate() {
            let Value::Func(f) = std::mem::take(&mut self.regs[base + i]) else {
                continue;
            };
            let method = Method {
                func: f,
                self_kind: m.self_kind,
            };
            if let Some(def) = self.types.defs.get_mut(ty as usize) {
                let old = def.methods.insert(m.name.clone(), method);
                self.undo.push(Undo::Method(ty, m.name.clone(), old));
            }
        }
        // `impl Trait for Type`: the trait's defaults the type does not have itself (a trait
        // that is not defined, or has no defaults, adds nothing)
        let defaults: Vec<(Rc<str>, Method)> = trait_name
            .as_ref()
            .and_then(|t| self.types.lookup(&format!("trait {t}")))
            .and_then(|t| self.types.get(t))
            .map(|t| {
                t.methods
                    .iter()
                    .map(|(n, m)| (n.clone(), m.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (name, method) in defaults {
            if let Some(def) = self.types.defs.get_mut(ty as usize) {
                if !def.methods.contains_key(&name) {
                    def.methods.insert(name.clone(), method);
                    self.undo.push(Undo::Method(ty, name, None));
                }
            }
        }
        Ok(())
    }

    // ---- places --------------------------------------------------------------------------

    /// Runs `f` on the value at a place (creating object entries for an assignment when
    /// `create` is set).
    fn with_place<R>(
        &mut self,
        place: &Place,
        base: usize,
        create: bool,
        f: impl FnOnce(&mut Value) -> VResult<R>,
    ) -> VResult<R> {
        // index values first: they live in registers that the root may borrow (one step, the
        // common `xs[i] = v` and `p.x = v`, without allocating)
        let key = |s: &Step| match s {
            Step::Field(n) => Key::Field(n.clone()),
            Step::Tuple(i) => Key::Tuple(*i as usize),
            Step::Index(r) => Key::Index(self.regs[base + *r as usize].dup()),
        };
        let one: [Key; 1];
        let many: Vec<Key>;
        let keys: &[Key] = match &place.steps[..] {
            [s] => {
                one = [key(s)];
                &one
            }
            steps => {
                many = steps.iter().map(key).collect();
                &many
            }
        };
        match place.root {
            Root::Local(r) => {
                let types = &self.types;
                let root = &mut self.regs[base + r as usize];
                walk(root, keys, types, create, &place.name, f)
            }
            Root::Global(slot) => {
                let s = slot as usize;
                if matches!(self.globals.get(s), Some(Value::Undef) | None)
                    && !(keys.is_empty() && create)
                {
                    return Err(VmError::runtime(format!(
                        "Undefined variable: {}",
                        self.global_name(slot)
                    )));
                }
                self.log_global(s);
                let types = &self.types;
                let root = self
                    .globals
                    .get_mut(s)
                    .ok_or_else(|| VmError::runtime("internal error: bad global"))?;
                walk(root, keys, types, create, &place.name, f)
            }
            Root::Boxed(r) => {
                let cell = match &self.regs[base + r as usize] {
                    Value::Cell(c) => c.clone(),
                    _ => return Err(VmError::runtime("internal error: not a box")),
                };
                self.log_cell(&cell);
                let mut v = cell.value.borrow_mut();
                walk(&mut v, keys, &self.types, create, &place.name, f)
            }
            Root::Upval(i) => {
                let cell = self
                    .frames
                    .last()
                    .and_then(|f| f.callee())
                    .and_then(|c| c.upvals.get(i as usize).cloned())
                    .ok_or_else(|| VmError::runtime("internal error: bad upvalue"))?;
                self.log_cell(&cell);
                let mut v = cell.value.borrow_mut();
                walk(&mut v, keys, &self.types, create, &place.name, f)
            }
        }
    }

    pub(crate) fn read_place(&mut self, place: &Place, base: usize) -> VResult<Value> {
        // reading needs no logging or copying: walk shared references
        let root = match place.root {
            Root::Local(r) => self.regs[base + r as usize].clone(),
            Root::Global(s) => match self.globals.get(s as usize) {
                Some(Value::Undef) | None => {
                    return Err(VmError::runtime(format!(
                        "Undefined variable: {}",
                        self.global_name(s)
                    )))
                }
                Some(v) => v.clone(),
            },
            Root::Boxed(r) => match &self.regs[base + r as usize] {
                Value::Cell(c) => c.value.borrow().clone(),
                v => v.clone(),
            },
            Root::Upval(i) => self
                .frames
                .last()
                .and_then(|f| f.callee())
                .and_then(|c| c.upvals.get(i as usize))
                .map(|u| u.value.borrow().clone())
                .unwrap_or_default(),
        };
        check_defined(&root)?;
        let mut cur = root;
        for s in &place.steps {
            cur = match s {
                Step::Field(n) => self.get_field(&cur, n)?,
                Step::Tuple(i) => tuple_field(&cur, *i)?,
                Step::Index(r) => {
                    let idx = self.regs[base + *r as usize].clone();
                    crate::methods::index(&cur, &idx)?
                }
            };
        }
        Ok(cur)
    }

    fn take_place(&mut self, place: &Place, base: usize) -> VResult<Value> {
        self.with_place(place, base, false, |v| Ok(std::mem::take(v)))
    }

    fn put_place(&mut self, place: &Place, base: usize, value: Value) -> VResult<()> {
        self.with_place(place, base, true, move |v| {
            *v = value;
            Ok(())
        })
    }
}

enum Key {
    Field(Rc<str>),
    Tuple(usize),
    Index(Value),
}

/// Follows `keys` from `root` with copy-on-write at each level, then applies `f`.
fn walk<R>(
    root: &mut Value,
    keys: &[Key],
    types: &Types,
    create: bool,
    name: &str,
    f: impl FnOnce(&mut Value) -> VResult<R>,
) -> VResult<R> {
    let mut cur = root;
    for k in keys {
        cur = step_mut(cur, k, types, create, name)?;
    }
    f(cur)
}

fn step_mut<'v>(
    cur: &'v mut Value,
    key: &Key,
    types: &Types,
    create: bool,
    name: &str,
) -> VResult<&'v mut Value> {
    match (cur, key) {
        (Value::Struct(s), Key::Field(f)) => {
            let def = types.get(s.ty);
            let idx = def.and_then(|d| d.field_index(f)).ok_or_else(|| {
                VmError::runtime(format!(
                    "{} has no field named {f}",
                    def.map_or("?", |d| &d.name)
                ))
            })?;
            Rc::make_mut(s)
                .fields
                .get_mut(idx)
                .ok_or_else(|| VmError::runtime("internal error: field index"))
        }
        (Value::Variant(v), Key::Field(f)) => {
            let idx = types
                .get(v.ty)
                .and_then(|d| d.variant(v.variant))
                .and_then(|i| i.fields.as_ref())
                .and_then(|fs| fs.iter().position(|x| x == f))
                .ok_or_else(|| VmError::runtime(format!("The variant has no field named {f}")))?;
            Rc::make_mut(v)
                .fields
                .get_mut(idx)
                .ok_or_else(|| VmError::runtime("internal error: field index"))
        }
        (Value::Object(map), Key::Field(f)) => {
            let m = Rc::make_mut(map);
            if create && !m.contains_key(&**f) {
                m.insert(f.clone(), Value::Nil);
            }
            m.get_mut(&**f)
                .ok_or_else(|| VmError::runtime(format!("Object has no field named {f}")))
        }
        (Value::Object(map), Key::Index(Value::Str(k))) => {
            let m = Rc::make_mut(map);
            let key = k.as_str();
            if create && !m.contains_key(key) {
                m.insert(key.into(), Value::Nil);
            }
            m.get_mut(key)
                .ok_or_else(|| VmError::runtime(format!("Key not found: \"{k}\"")))
        }
        (Value::Coll(c), Key::Index(k)) => crate::collection::place(Rc::make_mut(c), k, create),
        (Value::Tuple(t), Key::Tuple(_) | Key::Index(Value::Int(_))) => {
            let i = match key {
                Key::Tuple(i) => *i as i64,
                Key::Index(Value::Int(i)) => *i,
                _ => 0,
            };
            let len = t.len();
            let i = norm_index(i, len).ok_or_else(|| {
                VmError::runtime(format!("Index {i} out of bounds for tuple of length {len}"))
            })?;
            Ok(&mut Rc::make_mut(t)[i])
        }
        (Value::Struct(s), Key::Tuple(i)) => {
            let len = s.fields.len();
            let st = Rc::make_mut(s);
            st.fields.get_mut(*i).ok_or_else(|| {
                VmError::runtime(format!(
                    "Index {i} out of bounds for tuple struct of {len} fields"
                ))
            })
        }
        (Value::Array(a), Key::Index(Value::Int(i))) => {
            let len = a.len();
            let idx = norm_index(*i, len).ok_or_else(|| {
                VmError::runtime(format!("Index {i} out of bounds for array of length {len}"))
            })?;
            Ok(&mut Rc::make_mut(a)[idx])
        }
        (v, Key::Index(i)) => Err(VmError::type_error(format!(
            "Cannot assign to an element of {} with an index of type {}",
            v.type_name(),
            i.type_name()
        ))),
        (v, Key::Field(f)) => Err(VmError::type_error(format!(
            "Cannot assign to field {f} of {} (`{name}`)",
            v.type_name()
        ))),
        (v, Key::Tuple(i)) => Err(VmError::type_error(format!(
            "Cannot assign to .{i} of {}",
            v.type_name()
        ))),
    }
}

// The arithmetic operators as the `u8` that [`Op::ArithK`] and [`Op::UpdateGlobalK`] carry.
const ADD: u8 = ruchy_syntax::ast::BinOp::Add as u8;
const SUB: u8 = ruchy_syntax::ast::BinOp::Sub as u8;
const MUL: u8 = ruchy_syntax::ast::BinOp::Mul as u8;
const DIV: u8 = ruchy_syntax::ast::BinOp::Div as u8;
const REM: u8 = ruchy_syntax::ast::BinOp::Rem as u8;

/// `x op y` on two integers for [`Op::ArithK`] and [`Op::UpdateGlobalK`] (`op` a
/// [`ruchy_syntax::ast::BinOp`] as `u8`); `None` on overflow, division by zero or another operator,
/// left to the slow section (its error, or [`binary`]).
#[inline(always)]
fn int_op(op: u8, x: i64, y: i64) -> Option<i64> {
    match op {
        ADD => x.checked_add(y),
        SUB => x.checked_sub(y),
        MUL => x.checked_mul(y),
        DIV if y != 0 => x.checked_div(y),
        REM if y != 0 => x.checked_rem(y),
        _ => None,
    }
}

/// `a op b` on two integers or two floats for the fast section ([`Op::ArithK`],
/// [`Op::UpdateGlobalK`]); `None` for anything [`int_op`] or [`float_op`] leaves to the slow
/// section.
#[inline(always)]
fn number_op(op: u8, a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_op(op, *x, *y).map(Value::Int),
        (Value::Float(x), Value::Float(y)) => float_op(op, *x, *y).map(Value::Float),
        _ => None,
    }
}

/// As [`int_op`] on two floats.
#[inline(always)]
fn float_op(op: u8, x: f64, y: f64) -> Option<f64> {
    match op {
        ADD => Some(x + y),
        SUB => Some(x - y),
        MUL => Some(x * y),
        DIV => Some(x / y),
        _ => None,
    }
}

/// `a op b` for any two values (`op` a [`ruchy_syntax::ast::BinOp`] as `u8`, one of the arithmetic
/// operators).
fn binary(op: u8, a: &Value, b: &Value) -> VResult<Value> {
    use ruchy_syntax::ast::BinOp;
    match BinOp::from_u8(op) {
        Some(BinOp::Add) => arith::add(a, b),
        Some(BinOp::Sub) => arith::sub(a, b),
        Some(BinOp::Mul) => arith::mul(a, b),
        Some(BinOp::Div) => arith::div(a, b),
        Some(BinOp::Rem) => arith::rem(a, b),
        Some(BinOp::Pow) => arith::pow(a, b),
        _ => Err(VmError::runtime("internal error: bad arithmetic operator")),
    }
}

/// `target = target op rhs` in place: `+` appends to a string or array without copying it.
fn update(target: &mut Value, op: u8, rhs: &Value) -> VResult<()> {
    use ruchy_syntax::ast::BinOp;
    if let (Value::Int(x), Value::Int(y)) = (&*target, rhs) {
        if let Some(r) = int_op(op, *x, *y) {
            *target = Value::Int(r);
            return Ok(());
        }
    }
    let new = match BinOp::from_u8(op) {
        Some(BinOp::Add) => return arith::add_assign(target, rhs),
        Some(BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Pow) => {
            binary(op, target, rhs)?
        }
        Some(BinOp::BitAnd) => arith::bit("&", target, rhs)?,
        Some(BinOp::BitOr) => arith::bit("|", target, rhs)?,
        Some(BinOp::BitXor) => arith::bit("^", target, rhs)?,
        Some(BinOp::Shl) => arith::bit("<<", target, rhs)?,
        Some(BinOp::Shr) => arith::bit(">>", target, rhs)?,
        _ => return Err(VmError::runtime("internal error: bad update operator")),
    };
    *target = new;
    Ok(())
}

/// Stores into a register without calling the drop glue when the old value owns nothing
/// (the common case: an integer replacing an integer).
#[inline(always)]
fn put(slot: &mut Value, v: Value) {
    crate::value::release(std::mem::replace(slot, v));
}

/// The fast section's `xs[i] = v` and `o[k] = v` (`regs` from `base`, `globals`): on a local,
/// or on a global already logged in this cell (`touched`), with an element already there.
/// `false`, having changed nothing, for anything else (a new key, an index out of bounds,
/// a deeper place), which the slow section does. Out of line, so that the dispatch loop's
/// common instructions keep their registers.
#[inline(never)]
fn store_index(
    (regs, base, globals): (&mut [Value], usize, &mut [Value]),
    touched: &[u32],
    cell: u32,
    pl: &Place,
    src: Reg,
) -> bool {
    let [Step::Index(ir)] = pl.steps[..] else {
        return false;
    };
    let (Some(key), Some(v)) = (regs.get(base + ir as usize), regs.get(base + src as usize)) else {
        return false;
    };
    let (key, v) = (key.dup(), v.dup());
    let root = match pl.root {
        Root::Local(r) => regs.get_mut(base + r as usize),
        Root::Global(g) if touched.get(g as usize) == Some(&cell) => globals.get_mut(g as usize),
        _ => None,
    };
    let slot = match (root, &key) {
        (Some(Value::Array(a)), Value::Int(i)) => match norm_index(*i, a.len()) {
            Some(at) => &mut Rc::make_mut(a)[at],
            None => return false,
        },
        (Some(Value::Object(m)), Value::Str(k)) if m.get(k.as_str()).is_some() => {
            match Rc::make_mut(m).get_mut(k.as_str()) {
                Some(slot) => slot,
                None => return false,
            }
        }
        _ => return false,
    };
    put(slot, v);
    true
}

/// An index counted from the end when negative; `None` if out of bounds.
pub fn norm_index(i: i64, len: usize) -> Option<usize> {
    let idx = if i < 0 { len as i64 + i } else { i };
    if idx >= 0 && crate::arith::count(idx) < len {
        Some(idx as usize)
    } else {
        None
    }
}

fn check_defined(v: &Value) -> VResult<()> {
    if matches!(v, Value::Undef) {
        return Err(VmError::runtime(
            "Undefined variable: a function used before its definition",
        ));
    }
    Ok(())
}

fn tuple_field(v: &Value, index: u32) -> VResult<Value> {
    let i = index as usize;
    match v {
        Value::Tuple(t) => t.get(i).cloned().ok_or_else(|| {
            VmError::runtime(format!(
                "Index {i} out of bounds for tuple of length {}",
                t.len()
            ))
        }),
        Value::Struct(s) => s.fields.get(i).cloned().ok_or_else(|| {
            VmError::runtime(format!(
                "No field .{i} in a struct of {} fields",
                s.fields.len()
            ))
        }),
        Value::Array(a) => a.get(i).cloned().ok_or_else(|| {
            VmError::runtime(format!(
                "Index {i} out of bounds for array of length {}",
                a.len()
            ))
        }),
        other => Err(VmError::type_error(format!(
            "Cannot read .{i} of {}",
            other.type_name()
        ))),
    }
}

/// Element `idx` of a tuple, array, variant payload or struct (from the end if `from_end`,
/// where 1 is the last).
fn element(v: &Value, idx: usize, from_end: bool) -> Value {
    let items: &[Value] = match v {
        Value::Tuple(t) | Value::Array(t) => t,
        Value::Variant(var) => &var.fields,
        Value::Struct(s) => &s.fields,
        _ => return Value::Nil,
    };
    let i = if from_end {
        items.len().checked_sub(idx)
    } else {
        Some(idx)
    };
    i.and_then(|i| items.get(i)).cloned().unwrap_or_default()
}

fn test_range(proto: &Proto, desc: u32, v: &Value) -> bool {
    let Some(Desc::RangePat { lo, hi, inclusive }) = proto.descs.get(desc as usize) else {
        return false;
    };
    let above = match lo {
        Some(lo) => matches!(
            v.compare(lo),
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        ),
        None => matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_)),
    };
    let below = match hi {
        Some(hi) => match v.compare(hi) {
            Some(std::cmp::Ordering::Less) => true,
            Some(std::cmp::Ordering::Equal) => *inclusive,
            _ => false,
        },
        None => true,
    };
    above && below
}

/// Checks a value against a D24 annotation.
fn check_type(v: &Value, kind: Checked, annotation: &str) -> VResult<()> {
    let ok = match kind {
        Checked::Int => matches!(v, Value::Int(_)),
        Checked::Float => matches!(v, Value::Float(_)),
        Checked::Bool => matches!(v, Value::Bool(_)),
        Checked::Str => matches!(v, Value::Str(_)),
    };
    if ok {
        Ok(())
    } else {
        Err(VmError::type_error(format!(
            "expected {annotation}, found {}",
            v.type_name()
        )))
    }
}

/// The built-in type a type name in `impl .. for NAME` means (`i32`, `str`, `Vec`, ...), by
/// the name [`builtin_kind`] gives it.
fn builtin_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "Int" => "int",
        "f32" | "f64" | "Float" => "float",
        "str" | "String" | "char" => "string",
        "bool" | "Bool" => "bool",
        "Vec" | "[T]" => "array",
        _ => return None,
    })
}

/// The name under which a built-in receiver kind keeps the methods a program gave it.
fn builtin_kind(kind: crate::catalogue::Recv) -> Option<&'static str> {
    use crate::catalogue::Recv;
    Some(match kind {
        Recv::Int => "int",
        Recv::Float => "float",
        Recv::Str => "string",
        Recv::Bool => "bool",
        Recv::Array => "array",
        _ => return None,
    })
}
