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

mod calls;
mod dispatch;
mod iteration;
mod places;
mod types;

use crate::error::{VResult, VmError};
use types::{builtin_kind, check_type, test_range};

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
        let kind = crate::value::recv_of(recv)?;
        if crate::catalogue::method(kind, name).is_some() {
            return None;
        }
        let ty = self
            .types
            .lookup(&format!("builtin {}", builtin_kind(kind)?))?;
        self.types.get(ty)?.methods.get(name).cloned()
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
    if idx >= 0 && crate::value::count(idx) < len {
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
