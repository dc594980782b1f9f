//! Compiler: the resolved syntax tree to register bytecode ([`crate::opcode`]).
//!
//! Registers are allocated like a stack: a local gets the next free register when its binding
//! is compiled and keeps it to the end of its block; temporaries sit above the locals and are
//! freed as soon as an expression is done. Expressions compile into a requested destination
//! register (`Dst::To`) or for effect only (`Dst::Discard`), so a loop used as a statement does
//! not copy its body's value around. Plain local variables are used in place as operands.
//!
//! Calls reserve their whole window (`callee, args...`) before compiling the arguments so that
//! the arguments are contiguous and the callee's frame can start on them without a copy.

use crate::catalogue::MethodId;
use crate::opcode::*;
use crate::resolver::{CaptureSrc, Globals, Resolution, UseRes};
use crate::value::Value;
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::{Diagnostic, DiagnosticKind, Span};
use ruchy_syntax::template::FormatSpec;
use std::rc::Rc;

mod inline;
mod promote;

type CResult<T> = Result<T, Diagnostic>;

const NO_REG: Reg = Reg::MAX;
/// Registers per function; a function needing more is refused with a `limit` diagnostic.
const MAX_REGS: u32 = 60_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dst {
    To(Reg),
    Discard,
}

struct LoopCtx {
    label: Option<Name>,
    result: Option<Reg>,
    breaks: Vec<usize>,
    continues: Vec<usize>,
    /// The try-depth at the loop: `break` out of a `try` must remove its handlers.
    tries: u16,
}

struct FnState {
    p: Proto,
    code: Vec<Op>,
    next: u16,
    max: u16,
    loops: Vec<LoopCtx>,
    tries: u16,
    ret_check: Option<u32>,
    impl_type: Option<Rc<str>>,
}

pub struct Compiler<'a> {
    res: &'a Resolution,
    globals: &'a mut Globals,
    cell: u32,
    fs: Vec<FnState>,
    bind_regs: Vec<Reg>,
    /// Hoisted local functions whose declaration is not compiled yet: their register still
    /// holds nothing, so reading one there is an undefined name.
    undeclared: Vec<bool>,
    /// Lambdas being compiled in place, innermost last: where each one's captures are in the
    /// frame that runs it ([`inline`]).
    inline: Vec<Vec<CaptureSrc>>,
    /// Above zero while compiling the ordinary path of an inlined call (no second copy inside).
    inline_off: u32,
    /// The session's globals as the cell starts: which hold a value ([`promote`]).
    bound: &'a [Value],
    /// Globals the cell's top-level code has bound so far.
    defined: Vec<u32>,
    /// Globals kept in registers by the loops being compiled: slot, register ([`promote`]).
    promoted: Vec<(u32, Reg)>,
}

/// Compiles a resolved cell into the prototype of its top-level code.
pub fn compile_cell(
    program: &Program,
    res: &Resolution,
    globals: &mut Globals,
    cell: u32,
    bound: &[Value],
) -> CResult<Rc<Proto>> {
    let _stack = ruchy_syntax::stack::enter();
    let mut c = Compiler {
        res,
        globals,
        cell,
        fs: Vec::new(),
        bind_regs: vec![NO_REG; program.n_bindings as usize],
        undeclared: vec![false; program.n_bindings as usize],
        inline: Vec::new(),
        inline_off: 0,
        bound,
        defined: Vec::new(),
        promoted: Vec::new(),
    };
    c.push_fn("<cell>".into(), None);
    let ret = c.alloc(Span::default())?;
    c.hoist(&program.exprs)?;
    c.sequence(&program.exprs, Dst::To(ret), Span::default())?;
    let end = program.exprs.last().map_or(Span::default(), |e| e.span);
    c.emit(Op::Return { src: ret }, end);
    Ok(Rc::new(c.pop_fn()))
}

impl Compiler<'_> {
    // ---- function state ------------------------------------------------------------------

    fn push_fn(&mut self, name: Rc<str>, impl_type: Option<Rc<str>>) {
        let impl_type = impl_type.or_else(|| self.fs.last().and_then(|f| f.impl_type.clone()));
        self.fs.push(FnState {
            p: Proto {
                name,
                cell: self.cell,
                ..Proto::default()
            },
            code: Vec::new(),
            next: 0,
            max: 0,
            loops: Vec::new(),
            tries: 0,
            ret_check: None,
            impl_type,
        });
    }

    fn pop_fn(&mut self) -> Proto {
        let f = self.fs.pop().expect("function state");
        let mut p = f.p;
        p.nregs = f.max.max(1);
        let mut code = f.code;
        // (a method's `self`, register 0, is read again after its return to write it back)
        shorten_returns(&mut code, p.self_kind.is_some());
        p.code = Rc::from(code);
        p.field_cache = p.names.iter().map(|_| Default::default()).collect();
        p
    }

    fn f(&mut self) -> &mut FnState {
        self.fs.last_mut().expect("function state")
    }

    fn emit(&mut self, op: Op, span: Span) -> usize {
        let f = self.f();
        f.code.push(op);
        f.p.spans.push(span);
        f.code.len() - 1
    }

    fn here(&mut self) -> usize {
        self.f().code.len()
    }

    /// Points the jump at `at` to the current position.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.patch_to(at, target);
    }

    fn patch_to(&mut self, at: usize, target: usize) {
        let off = target as i32 - (at as i32 + 1);
        if let Some(op) = self.f().code.get_mut(at) {
            match op {
                Op::Jump { off: o }
                | Op::Loop { off: o }
                | Op::JumpIfFalse { off: o, .. }
                | Op::JumpIfTrue { off: o, .. }
                | Op::JumpIfNotNil { off: o, .. }
                | Op::JumpIfNotLt { off: o, .. }
                | Op::JumpIfNotLe { off: o, .. }
                | Op::JumpIfNotGt { off: o, .. }
                | Op::JumpIfNotGe { off: o, .. }
                | Op::JumpIfNotEq { off: o, .. }
                | Op::JumpIfNotNe { off: o, .. }
                | Op::JumpIfNotCmpImm { off: o, .. }
                | Op::SkipIfArg { off: o, .. }
                | Op::TestVariant { off: o, .. }
                | Op::TestTuple { off: o, .. }
                | Op::TestList { off: o, .. }
                | Op::TestRange { off: o, .. }
                | Op::IterNext { off: o, .. }
                | Op::IterArray { off: o, .. }
                | Op::ForPrep { off: o, .. }
                | Op::ForNext { off: o, .. }
                | Op::TryBegin { off: o, .. } => *o = off,
                _ => {}
            }
        }
    }

    fn alloc(&mut self, span: Span) -> CResult<Reg> {
        let f = self.f();
        if f.next as u32 >= MAX_REGS {
            return Err(Diagnostic::new(
                DiagnosticKind::Limit,
                "Function too large: it needs more than 60000 registers",
                span,
            ));
        }
        let r = f.next;
        f.next += 1;
        f.max = f.max.max(f.next);
        Ok(r)
    }

    fn alloc_n(&mut self, n: usize, span: Span) -> CResult<Reg> {
        let base = self.f().next;
        for _ in 0..n {
            self.alloc(span)?;
        }
        Ok(base)
    }

    fn mark(&mut self) -> u16 {
        self.f().next
    }

    fn free_to(&mut self, mark: u16) {
        self.f().next = mark;
    }

    fn target(&mut self, dst: Dst, span: Span) -> CResult<Reg> {
        match dst {
            Dst::To(r) => Ok(r),
            Dst::Discard => self.alloc(span),
        }
    }

    fn konst(&mut self, v: Value) -> u32 {
        let p = &mut self.f().p;
        p.consts.push(v);
        (p.consts.len() - 1) as u32
    }

    /// The constant index of a number literal `b` for an arithmetic `op` with a K form
    /// ([`Op::ArithK`], [`Op::UpdateGlobalK`]); `None` for anything else.
    fn number_const(&mut self, op: BinOp, b: &Expr) -> Option<u16> {
        if !matches!(
            op,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Pow
        ) {
            return None;
        }
        let v = match b.kind {
            ExprKind::Int(n) => Value::Int(n),
            ExprKind::Float(f) => Value::Float(f),
            _ => return None,
        };
        let same = |c: &Value| match (c, &v) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            _ => false,
        };
        let k = match self.f().p.consts.iter().position(same) {
            Some(i) => i as u32,
            None => self.konst(v),
        };
        u16::try_from(k).ok()
    }

    /// For `g[i]` on a session variable `g` with an index that cannot fail or change `g` (a
    /// local or an integer): `g`'s slot and a `Desc::Span` of `g`, for [`Op::GetIndexGlobal`].
    fn global_indexed(&mut self, obj: &Expr, index: &Expr) -> Option<(u32, u16)> {
        let ExprKind::Var(v) = &obj.kind else {
            return None;
        };
        let UseRes::Global(slot) = self.use_of(v) else {
            return None;
        };
        if self.promoted(slot).is_some() {
            return None;
        }
        let plain = match &index.kind {
            ExprKind::Int(_) => true,
            ExprKind::Var(i) => match self.use_of(i) {
                UseRes::Local(b) => !self.res.binding(self.res.canonical(b)).boxed(),
                _ => false,
            },
            _ => false,
        };
        if !plain {
            return None;
        }
        let slot = if slot == u32::MAX {
            self.globals.slot(&v.name)
        } else {
            slot
        };
        let at = u16::try_from(self.desc(Desc::Span(obj.span))).ok()?;
        Some((slot, at))
    }

    fn name(&mut self, n: &str) -> u32 {
        let p = &mut self.f().p;
        if let Some(i) = p.names.iter().position(|x| &**x == n) {
            return i as u32;
        }
        p.names.push(n.into());
        (p.names.len() - 1) as u32
    }

    fn desc(&mut self, d: Desc) -> u32 {
        let p = &mut self.f().p;
        p.descs.push(d);
        (p.descs.len() - 1) as u32
    }

    fn self_type(&self, name: &Rc<str>) -> Rc<str> {
        if &**name == "Self" {
            if let Some(t) = self.fs.last().and_then(|f| f.impl_type.clone()) {
                return t;
            }
        }
        name.clone()
    }

    /// What a use of a name refers to, in the frame that runs it: inside a lambda compiled
    /// in place, its captures are the enclosing code's boxes and upvalues.
    fn use_of(&self, v: &VarRef) -> UseRes {
        match self.res.use_of(v) {
            UseRes::Upval(i) if !self.inline.is_empty() => {
                match self.outer_capture(CaptureSrc::Upval(i)) {
                    CaptureSrc::Local(b) => UseRes::Local(b),
                    CaptureSrc::Upval(j) => UseRes::Upval(j),
                }
            }
            res => res,
        }
    }

    fn bind_reg(&self, id: BindId) -> Reg {
        let id = self.res.canonical(id);
        self.bind_regs.get(id as usize).copied().unwrap_or(NO_REG)
    }

    fn set_undeclared(&mut self, id: BindId, pending: bool) {
        let id = self.res.canonical(id);
        if let Some(flag) = self.undeclared.get_mut(id as usize) {
            *flag = pending;
        }
    }

    fn set_bind_reg(&mut self, id: BindId, r: Reg) {
        let id = self.res.canonical(id);
        if let Some(slot) = self.bind_regs.get_mut(id as usize) {
            *slot = r;
        }
    }

    // ---- sequences and blocks ------------------------------------------------------------

    /// Hoisted local functions get their registers (and boxes) at the start of the block.
    fn hoist(&mut self, exprs: &[Expr]) -> CResult<()> {
        for e in exprs {
            if let ExprKind::Fn(def) = &e.kind {
                if let Some(b) = &def.name {
                    let info = self.res.binding(b.id);
                    if info.hoisted && info.global.is_none() {
                        let r = self.alloc(e.span)?;
                        self.set_bind_reg(b.id, r);
                        self.set_undeclared(b.id, true);
                        self.emit(Op::LoadUndef { dst: r }, e.span);
                        if info.boxed() {
                            self.emit(Op::NewBox { reg: r }, e.span);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn sequence(&mut self, exprs: &[Expr], dst: Dst, span: Span) -> CResult<()> {
        let Some((last, init)) = exprs.split_last() else {
            if let Dst::To(r) = dst {
                self.emit(Op::LoadNil { dst: r }, span);
            }
            return Ok(());
        };
        for e in init {
            let mark = self.mark();
            self.expr(e, Dst::Discard)?;
            // locals declared by a statement stay; temporaries above them are freed
            if !declares(e) {
                self.free_to(mark);
            }
        }
        self.expr(last, dst)
    }

    fn block(&mut self, b: &Block, dst: Dst) -> CResult<()> {
        let mark = self.mark();
        self.hoist(&b.exprs)?;
        self.sequence(&b.exprs, dst, b.span)?;
        self.free_to(mark);
        Ok(())
    }

    /// A body expression in its own register scope.
    fn scoped(&mut self, e: &Expr, dst: Dst) -> CResult<()> {
        let mark = self.mark();
        let r = self.expr(e, dst);
        self.free_to(mark);
        r
    }

    // ---- expressions ---------------------------------------------------------------------

    fn expr_to(&mut self, e: &Expr, r: Reg) -> CResult<()> {
        self.expr(e, Dst::To(r))
    }

    /// A register holding the value of `e`: a plain local's own register, or a temporary.
    fn operand(&mut self, e: &Expr) -> CResult<Reg> {
        if let ExprKind::Var(v) = &e.kind {
            match self.use_of(v) {
                UseRes::Local(b) => {
                    let r = self.bind_reg(b);
                    if r != NO_REG && !self.res.binding(self.res.canonical(b)).boxed() {
                        return Ok(r);
                    }
                }
                // a global a loop keeps in a register ([`promote`])
                UseRes::Global(slot) => {
                    if let Some(r) = self.promoted(slot) {
                        return Ok(r);
                    }
                }
                _ => {}
            }
        }
        let r = self.alloc(e.span)?;
        self.expr_to(e, r)?;
        Ok(r)
    }

    fn load_int(&mut self, n: i64, r: Reg, span: Span) {
        if let Ok(v) = i32::try_from(n) {
            self.emit(Op::LoadInt { dst: r, value: v }, span);
        } else {
            let idx = self.konst(Value::Int(n));
            self.emit(Op::LoadConst { dst: r, idx }, span);
        }
    }

    fn expr(&mut self, e: &Expr, dst: Dst) -> CResult<()> {
        let span = e.span;
        if !ruchy_syntax::stack::ok() {
            return Err(ruchy_syntax::stack::too_deep(span));
        }
        match &e.kind {
            ExprKind::Int(n) => {
                if let Dst::To(r) = dst {
                    self.load_int(*n, r, span);
                }
            }
            ExprKind::Float(f) => {
                if let Dst::To(r) = dst {
                    let idx = self.konst(Value::Float(*f));
                    self.emit(Op::LoadConst { dst: r, idx }, span);
                }
            }
            ExprKind::Str(s) => {
                if let Dst::To(r) = dst {
                    let idx = self.konst(Value::str(s.to_string()));
                    self.emit(Op::LoadConst { dst: r, idx }, span);
                }
            }
            ExprKind::Bool(b) => {
                if let Dst::To(r) = dst {
                    self.emit(Op::LoadBool { dst: r, value: *b }, span);
                }
            }
            ExprKind::Nil => {
                if let Dst::To(r) = dst {
                    self.emit(Op::LoadNil { dst: r }, span);
                }
            }
            ExprKind::FStr(parts) => self.fstring(parts, dst, span)?,
            ExprKind::Var(v) => self.var(v, dst, span, false)?,
            ExprKind::Path(path) => {
                let path = self.path_desc(path);
                let desc = self.desc(Desc::Path(path));
                let r = self.target(dst, span)?;
                self.emit(Op::GetPath { dst: r, desc }, span);
            }
            ExprKind::Let(l) => self.let_expr(
                &l.pat,
                l.ty.as_ref(),
                &l.value,
                l.body.as_ref(),
                l.else_block.as_ref(),
                dst,
                span,
            )?,
            ExprKind::Assign { target, op, value } => self.assign(target, *op, value, dst, span)?,
            ExprKind::Unary(op, a) => {
                if let (UnOp::Neg, ExprKind::Int(n)) = (op, &a.kind) {
                    if let Dst::To(r) = dst {
                        self.load_int(-n, r, span);
                    }
                    return Ok(());
                }
                let mark = self.mark();
                let src = self.operand(a)?;
                let r = self.target(dst, span)?;
                let op = match op {
                    UnOp::Neg => Op::Neg { dst: r, src },
                    UnOp::Not => Op::Not { dst: r, src },
                    UnOp::BitNot => Op::BitNot { dst: r, src },
                };
                self.emit(op, span);
                self.free_to(mark);
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, dst, span)?,
            ExprKind::Logic(op, a, b) => {
                let r = self.target(dst, span)?;
                let mark = self.mark();
                self.expr_to(a, r)?;
                let j = match op {
                    LogicOp::And => self.emit(Op::JumpIfFalse { cond: r, off: 0 }, span),
                    LogicOp::Or => self.emit(Op::JumpIfTrue { cond: r, off: 0 }, span),
                    LogicOp::Coalesce => self.emit(Op::JumpIfNotNil { src: r, off: 0 }, span),
                };
                self.expr_to(b, r)?;
                self.patch(j);
                self.free_to(mark);
            }
            ExprKind::Pipe(a, f) => {
                // `x |> f` is `f(x)`; `x |> f(y)` is `f(x, y)`
                let (callee, mut args): (&Expr, Vec<Expr>) = match &f.kind {
                    ExprKind::Call { callee, args } => (callee, args.clone()),
                    _ => (f, Vec::new()),
                };
                args.insert(0, (**a).clone());
                self.call(callee, &args, dst, span)?;
            }
            ExprKind::If { cond, then, else_ } => {
                let r = match dst {
                    Dst::To(r) => Some(r),
                    Dst::Discard => None,
                };
                let fails = self.cond_false(cond)?;
                self.scoped(then, dst)?;
                match else_ {
                    Some(els) => {
                        let j = self.emit(Op::Jump { off: 0 }, span);
                        fails.into_iter().for_each(|f| self.patch(f));
                        self.scoped(els, dst)?;
                        self.patch(j);
                    }
                    None => match r {
                        Some(r) => {
                            let j = self.emit(Op::Jump { off: 0 }, span);
                            fails.into_iter().for_each(|f| self.patch(f));
                            self.emit(Op::LoadNil { dst: r }, span);
                            self.patch(j);
                        }
                        None => fails.into_iter().for_each(|f| self.patch(f)),
                    },
                }
            }
            ExprKind::Ternary(c, a, b) => {
                let fails = self.cond_false(c)?;
                self.scoped(a, dst)?;
                let j = self.emit(Op::Jump { off: 0 }, span);
                fails.into_iter().for_each(|f| self.patch(f));
                self.scoped(b, dst)?;
                self.patch(j);
            }
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, dst, span)?,
            ExprKind::While { label, cond, body } => {
                let p = self.begin_promotion(&[cond, body], span)?;
                self.while_loop(label, cond, body, dst, span)?;
                self.end_promotion(p, span);
            }
            ExprKind::Loop { label, body } => {
                let p = self.begin_promotion(&[body], span)?;
                let result = self.loop_result(dst, span)?;
                let start = self.here();
                self.push_loop(label, result);
                self.scoped(body, result.map_or(Dst::Discard, Dst::To))?;
                let j = self.emit(Op::Loop { off: 0 }, span);
                self.patch_to(j, start);
                self.pop_loop(start);
                self.end_promotion(p, span);
            }
            ExprKind::For(f) => {
                // the iterable is evaluated after the globals are read: it must not run code either
                let p = self.begin_promotion(&[&f.iter, &f.body], span)?;
                self.for_loop(&f.label, &f.pat, &f.iter, &f.body, dst, span)?;
                self.end_promotion(p, span);
            }
            ExprKind::Comprehension(c) => {
                let Comprehension {
                    expr,
                    pat,
                    iter,
                    cond,
                } = &**c;
                let r = self.target(dst, span)?;
                let mark = self.mark();
                let acc = self.alloc(span)?;
                self.emit(
                    Op::MakeArray {
                        dst: acc,
                        base: acc,
                        n: 0,
                    },
                    span,
                );
                let body = ComprehensionBody {
                    acc,
                    expr,
                    cond: cond.as_ref(),
                };
                self.for_each(&None, pat, iter, &body, None, span)?;
                self.emit(Op::Move { dst: r, src: acc }, span);
                self.free_to(mark);
            }
            ExprKind::Break { label, value } => self.break_expr(label, value.as_deref(), span)?,
            ExprKind::Continue { label } => {
                let i = self.find_loop(label, span)?;
                self.end_tries(i, span);
                let j = self.emit(Op::Jump { off: 0 }, span);
                self.f().loops[i].continues.push(j);
            }
            ExprKind::Return(value) => {
                let mark = self.mark();
                let r = self.alloc(span)?;
                match value {
                    Some(v) => self.expr_to(v, r)?,
                    None => {
                        self.emit(Op::LoadNil { dst: r }, span);
                    }
                }
                self.emit_return(r, span);
                self.free_to(mark);
            }
            ExprKind::Block(b) => self.block(b, dst)?,
            ExprKind::Call { callee, args } => self.call(callee, args, dst, span)?,
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                optional,
            } => self.method_call(receiver, method, args, *optional, dst, span)?,
            ExprKind::Field {
                object,
                field,
                optional,
            } => {
                let mark = self.mark();
                let obj = self.operand(object)?;
                let r = self.target(dst, span)?;
                let name = self.name(field);
                if *optional {
                    let j = self.emit(Op::JumpIfNotNil { src: obj, off: 0 }, span);
                    self.emit(Op::LoadNil { dst: r }, span);
                    let k = self.emit(Op::Jump { off: 0 }, span);
                    self.patch(j);
                    self.emit(Op::GetField { dst: r, obj, name }, span);
                    self.patch(k);
                } else {
                    self.emit(Op::GetField { dst: r, obj, name }, span);
                }
                self.free_to(mark);
            }
            ExprKind::TupleField(obj, index) => {
                let mark = self.mark();
                let o = self.operand(obj)?;
                let r = self.target(dst, span)?;
                self.emit(
                    Op::GetTupleField {
                        dst: r,
                        obj: o,
                        index: *index,
                    },
                    span,
                );
                self.free_to(mark);
            }
            ExprKind::Index(obj, index) => {
                let mark = self.mark();
                let ins = if let Some((slot, at)) = self.global_indexed(obj, index) {
                    let i = self.operand(index)?;
                    let r = self.target(dst, span)?;
                    Op::GetIndexGlobal {
                        dst: r,
                        index: i,
                        at,
                        slot,
                    }
                } else {
                    let o = self.operand(obj)?;
                    let i = self.operand(index)?;
                    let r = self.target(dst, span)?;
                    Op::GetIndex {
                        dst: r,
                        obj: o,
                        index: i,
                    }
                };
                self.emit(ins, span);
                self.free_to(mark);
            }
            ExprKind::Array(items) => {
                let n = self.count(items.len(), span)?;
                self.window(items, span, |s, base| {
                    let r = s.target(dst, span)?;
                    s.emit(Op::MakeArray { dst: r, base, n }, span);
                    Ok(())
                })?;
            }
            ExprKind::Tuple(items) => {
                let n = self.count(items.len(), span)?;
                self.window(items, span, |s, base| {
                    let r = s.target(dst, span)?;
                    s.emit(Op::MakeTuple { dst: r, base, n }, span);
                    Ok(())
                })?;
            }
            ExprKind::Object(entries) => {
                let n = self.count(entries.len(), span)?;
                let values: Vec<Expr> = entries.iter().map(|(_, v)| v.clone()).collect();
                let keys = self.desc(Desc::Keys(entries.iter().map(|(k, _)| k.clone()).collect()));
                self.window(&values, span, |s, base| {
                    let r = s.target(dst, span)?;
                    s.emit(
                        Op::MakeObject {
                            dst: r,
                            base,
                            n,
                            keys,
                        },
                        span,
                    );
                    Ok(())
                })?;
            }
            ExprKind::ArrayRepeat(value, count) => {
                let mark = self.mark();
                let v = self.operand(value)?;
                let c = self.operand(count)?;
                let r = self.target(dst, span)?;
                self.emit(
                    Op::ArrayRepeat {
                        dst: r,
                        value: v,
                        count: c,
                    },
                    span,
                );
                self.free_to(mark);
            }
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let mark = self.mark();
                let mut flags = if *inclusive { 1 } else { 0 };
                let s = match start {
                    Some(s) => {
                        flags |= 2;
                        self.operand(s)?
                    }
                    None => 0,
                };
                let en = match end {
                    Some(x) => {
                        flags |= 4;
                        self.operand(x)?
                    }
                    None => 0,
                };
                let r = self.target(dst, span)?;
                self.emit(
                    Op::MakeRange {
                        dst: r,
                        start: s,
                        end: en,
                        flags,
                    },
                    span,
                );
                self.free_to(mark);
            }
            ExprKind::Fn(def) => self.fn_expr(def, dst, span)?,
            ExprKind::Struct(def) => {
                let desc = self.desc(Desc::Struct(def.clone()));
                let mark = self.mark();
                let defaults = if def.defaults.iter().any(Option::is_some) {
                    let base = self.alloc_n(def.defaults.len(), span)?;
                    for (i, d) in def.defaults.iter().enumerate() {
                        let r = base + i as Reg;
                        match d {
                            Some(d) => self.expr_to(d, r)?,
                            None => {
                                self.emit(Op::LoadUndef { dst: r }, span);
                            }
                        }
                    }
                    base
                } else {
                    NO_REG
                };
                self.def_type(&def.name, desc, defaults, dst, span)?;
                self.free_to(mark);
            }
            ExprKind::Enum(def) => {
                let desc = self.desc(Desc::Enum(def.clone()));
                self.def_type(&def.name, desc, NO_REG, dst, span)?;
            }
            ExprKind::Impl(imp) => self.impl_block(imp, dst, span)?,
            ExprKind::StructLit { name, fields, base } => {
                let mut values: Vec<Expr> = fields.iter().map(|(_, v)| v.clone()).collect();
                if let Some(b) = base {
                    values.push((**b).clone());
                }
                let desc = self.desc(Desc::StructLit {
                    name: self.self_type(name),
                    fields: fields.iter().map(|(k, _)| k.clone()).collect(),
                    has_base: base.is_some(),
                    cache: Default::default(),
                });
                self.window(&values, span, |s, base| {
                    let r = s.target(dst, span)?;
                    s.emit(Op::MakeStruct { dst: r, base, desc }, span);
                    Ok(())
                })?;
            }
            ExprKind::Try(t) => {
                self.try_expr(&t.body, t.catch.as_ref(), t.finally.as_ref(), dst, span)?
            }
            ExprKind::Throw(v) => {
                let mark = self.mark();
                let r = self.operand(v)?;
                self.emit(Op::Throw { src: r }, span);
                self.free_to(mark);
            }
            ExprKind::Question(v) => {
                let mark = self.mark();
                let src = self.operand(v)?;
                let r = self.target(dst, span)?;
                self.emit(Op::Question { dst: r, src }, span);
                self.free_to(mark);
            }
            ExprKind::Cast(v, ty) => {
                let mark = self.mark();
                let src = self.operand(v)?;
                let r = self.target(dst, span)?;
                let desc = self.desc(Desc::Cast(cast_kind(ty)));
                self.emit(Op::Cast { dst: r, src, desc }, span);
                self.free_to(mark);
            }
        }
        Ok(())
    }

    fn count(&self, n: usize, span: Span) -> CResult<u16> {
        u16::try_from(n).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many elements in one literal (at most 65535)",
                span,
            )
        })
    }

    /// Compiles `items` into consecutive fresh registers, then calls `finish(base)`.
    fn window(
        &mut self,
        items: &[Expr],
        span: Span,
        finish: impl FnOnce(&mut Self, Reg) -> CResult<()>,
    ) -> CResult<()> {
        let mark = self.mark();
        let base = self.alloc_n(items.len(), span)?;
        for (i, item) in items.iter().enumerate() {
            self.expr_to(item, base + i as Reg)?;
        }
        finish(self, base)?;
        self.free_to(mark);
        Ok(())
    }

    fn var(&mut self, v: &VarRef, dst: Dst, span: Span, callee: bool) -> CResult<()> {
        match self.use_of(v) {
            UseRes::Local(b) => {
                let Dst::To(r) = dst else { return Ok(()) };
                let src = self.bind_reg(b);
                if self
                    .undeclared
                    .get(self.res.canonical(b) as usize)
                    .copied()
                    .unwrap_or(false)
                {
                    // a local function read in its own block before its `fun` (a closure
                    // that calls it later reads it through a capture, after the `fun`)
                    let what = if callee { "function" } else { "variable" };
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!(
                            "Undefined {what}: {} (a local function is defined where its `fun` is)",
                            v.name
                        ),
                        span,
                    ));
                }
                if src == NO_REG {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("Undefined variable: {}", v.name),
                        span,
                    ));
                }
                if self.res.binding(self.res.canonical(b)).boxed() {
                    self.emit(Op::GetBox { dst: r, boxed: src }, span);
                } else if src != r {
                    self.emit(Op::Move { dst: r, src }, span);
                }
            }
            UseRes::Upval(idx) => {
                let r = self.target(dst, span)?;
                self.emit(Op::GetUpval { dst: r, idx }, span);
            }
            UseRes::Global(slot) => {
                // a global a loop keeps in a register ([`promote`])
                if let Some(src) = self.promoted(slot).filter(|_| !callee) {
                    if let Dst::To(r) = dst {
                        if src != r {
                            self.emit(Op::Move { dst: r, src }, span);
                        }
                    }
                    return Ok(());
                }
                let slot = if slot == u32::MAX {
                    self.globals.slot(&v.name)
                } else {
                    slot
                };
                let r = self.target(dst, span)?;
                if callee {
                    self.emit(Op::GetGlobalFn { dst: r, slot }, span);
                } else {
                    self.emit(Op::GetGlobal { dst: r, slot }, span);
                }
            }
            UseRes::SelfFn => {
                let r = self.target(dst, span)?;
                self.emit(Op::LoadSelf { dst: r }, span);
            }
        }
        Ok(())
    }

    fn path_desc(&self, path: &[Name]) -> Vec<Rc<str>> {
        let mut p: Vec<Rc<str>> = path.to_vec();
        if let Some(first) = p.first_mut() {
            *first = self.self_type(first);
        }
        p
    }

    fn fstring(&mut self, parts: &[FStrPart], dst: Dst, span: Span) -> CResult<()> {
        let mut segs = Vec::new();
        let mut holes = Vec::new();
        for part in parts {
            match part {
                FStrPart::Text(t) => segs.push(FSeg::Text(t.as_str().into())),
                FStrPart::Hole { expr, spec } => {
                    let spec = match spec {
                        Some(s) => Some(FormatSpec::parse(s).ok_or_else(|| {
                            Diagnostic::parse(format!("invalid format spec `{s}`"), expr.span)
                        })?),
                        None => None,
                    };
                    segs.push(FSeg::Hole(spec));
                    holes.push(expr.clone());
                }
            }
        }
        let desc = self.desc(Desc::FString(segs));
        self.window(&holes, span, |s, base| {
            let r = s.target(dst, span)?;
            s.emit(Op::FString { dst: r, base, desc }, span);
            Ok(())
        })
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, dst: Dst, span: Span) -> CResult<()> {
        let mark = self.mark();
        // `p + (p = 7)` reads `p` before the assignment (left to right): the left operand is
        // copied out of its variable's register when the right one assigns
        let ra = if assigns(b) {
            let r = self.alloc(a.span)?;
            self.expr_to(a, r)?;
            r
        } else {
            self.operand(a)?
        };
        // `x + 1`, `n - 2`: the constant rides in the instruction
        if let (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) = (op, &b.kind) {
            if let Ok(imm) = i16::try_from(*n) {
                let r = self.target(dst, span)?;
                self.emit(
                    Op::AddImm {
                        dst: r,
                        a: ra,
                        imm,
                        sub: op == BinOp::Sub,
                    },
                    span,
                );
                self.free_to(mark);
                return Ok(());
            }
        }
        // `i % 3`, `x * 0.5`: a number constant is read from the constants, not a register;
        // `s += "x"` too (appended in place when the instruction writes where it reads)
        let k = match (&b.kind, op) {
            (ExprKind::Str(t), BinOp::Add) => {
                let k = self.konst(Value::Str(Rc::new(t.to_string())));
                u16::try_from(k).ok()
            }
            _ => self.number_const(op, b),
        };
        if let Some(k) = k {
            let r = self.target(dst, span)?;
            self.emit(
                Op::ArithK {
                    dst: r,
                    a: ra,
                    op: op as u8,
                    k,
                },
                span,
            );
            self.free_to(mark);
            return Ok(());
        }
        let rb = self.operand(b)?;
        let r = self.target(dst, span)?;
        let ins = match binop_instr(op, r, ra, rb) {
            // a temporary on the left (not a variable's register) is the instruction's to take
            Op::Add { dst, a, b, .. } if ra >= mark && ra != rb => Op::Add {
                dst,
                a,
                b,
                own: true,
            },
            ins => ins,
        };
        self.emit(ins, span);
        self.free_to(mark);
        Ok(())
    }

    /// Compiles a condition; returns the jumps taken when it is false.
    fn cond_false(&mut self, cond: &Expr) -> CResult<Vec<usize>> {
        let span = cond.span;
        match &cond.kind {
            ExprKind::Binary(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => {
                // `n < 2`: compare with a constant in the instruction
                let imm = match b.kind {
                    ExprKind::Int(n) => i32::try_from(n).ok(),
                    _ => None,
                };
                let cmp = match op {
                    BinOp::Lt => Some(CMP_LT),
                    BinOp::Le => Some(CMP_LE),
                    BinOp::Gt => Some(CMP_GT),
                    BinOp::Ge => Some(CMP_GE),
                    BinOp::Eq => Some(CMP_EQ),
                    _ => Some(CMP_NE),
                };
                if let (Some(imm), Some(cmp)) = (imm, cmp) {
                    let mark = self.mark();
                    let ra = self.operand(a)?;
                    let j = self.emit(
                        Op::JumpIfNotCmpImm {
                            a: ra,
                            imm,
                            cmp,
                            off: 0,
                        },
                        span,
                    );
                    self.free_to(mark);
                    return Ok(vec![j]);
                }
                let mark = self.mark();
                let ra = self.operand(a)?;
                let rb = self.operand(b)?;
                let j = match op {
                    BinOp::Lt => Op::JumpIfNotLt {
                        a: ra,
                        b: rb,
                        off: 0,
                    },
                    BinOp::Le => Op::JumpIfNotLe {
                        a: ra,
                        b: rb,
                        off: 0,
                    },
                    // a > b is b < a: both operands are already evaluated in order
                    BinOp::Gt => Op::JumpIfNotLt {
                        a: rb,
                        b: ra,
                        off: 0,
                    },
                    BinOp::Ge => Op::JumpIfNotLe {
                        a: rb,
                        b: ra,
                        off: 0,
                    },
                    BinOp::Eq => Op::JumpIfNotEq {
                        a: ra,
                        b: rb,
                        off: 0,
                    },
                    _ => Op::JumpIfNotNe {
                        a: ra,
                        b: rb,
                        off: 0,
                    },
                };
                let j = self.emit(j, span);
                self.free_to(mark);
                Ok(vec![j])
            }
            ExprKind::Logic(LogicOp::And, a, b) => {
                let mut fails = self.cond_false(a)?;
                fails.extend(self.cond_false(b)?);
                Ok(fails)
            }
            ExprKind::Bool(true) => Ok(Vec::new()),
            ExprKind::Unary(UnOp::Not, a) => {
                let mark = self.mark();
                let r = self.operand(a)?;
                let j = self.emit(Op::JumpIfTrue { cond: r, off: 0 }, span);
                self.free_to(mark);
                Ok(vec![j])
            }
            _ => {
                let mark = self.mark();
                let r = self.operand(cond)?;
                let j = self.emit(Op::JumpIfFalse { cond: r, off: 0 }, span);
                self.free_to(mark);
                Ok(vec![j])
            }
        }
    }

    // ---- bindings ------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn let_expr(
        &mut self,
        pat: &Pattern,
        ty: Option<&TypeAnn>,
        value: &Expr,
        body: Option<&Expr>,
        else_block: Option<&Expr>,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let check = ty.and_then(|t| checked(t).map(|k| (k, type_text(t))));
        // the common case: `let x = e` into a local register, no copy
        if let (PatKind::Bind(b), None, None) = (&pat.kind, body, else_block) {
            let info = self.res.binding(b.id).clone();
            if info.global.is_none() {
                let r = self.alloc(span)?;
                self.expr_to(value, r)?;
                if let Some((kind, annotation)) = &check {
                    let desc = self.desc(Desc::Check {
                        kind: *kind,
                        annotation: annotation.clone(),
                    });
                    self.emit(Op::CheckType { reg: r, desc }, span);
                }
                if let Dst::To(d) = dst {
                    self.emit(Op::Move { dst: d, src: r }, span);
                }
                self.set_bind_reg(b.id, r);
                if info.boxed() {
                    self.emit(Op::NewBox { reg: r }, span);
                }
                return Ok(());
            }
        }
        let v = self.alloc(span)?;
        self.expr_to(value, v)?;
        if let Some((kind, annotation)) = &check {
            let desc = self.desc(Desc::Check {
                kind: *kind,
                annotation: annotation.clone(),
            });
            self.emit(Op::CheckType { reg: v, desc }, span);
        }
        let mut fails = Vec::new();
        self.pattern_top(pat, v, &mut fails)?;
        match else_block {
            Some(eb) => {
                let j = self.emit(Op::Jump { off: 0 }, span);
                fails.into_iter().for_each(|f| self.patch(f));
                let mark = self.mark();
                self.expr(eb, Dst::Discard)?;
                self.free_to(mark);
                self.patch(j);
            }
            None if !fails.is_empty() => {
                let j = self.emit(Op::Jump { off: 0 }, span);
                fails.into_iter().for_each(|f| self.patch(f));
                self.emit(
                    Op::MatchFail {
                        src: v,
                        binding: true,
                    },
                    pat.span,
                );
                self.patch(j);
            }
            None => {}
        }
        match body {
            Some(body) => self.expr(body, dst)?,
            None => {
                if let Dst::To(d) = dst {
                    self.emit(Op::Move { dst: d, src: v }, span);
                }
            }
        }
        Ok(())
    }

    /// Binds `b` to the value in `src`.
    fn bind(&mut self, b: &Binding, src: Reg) -> CResult<()> {
        let id = self.res.canonical(b.id);
        let info = self.res.binding(id).clone();
        if let Some(slot) = info.global {
            self.emit(Op::SetGlobal { slot, src }, b.span);
            if self.fs.len() == 1 && self.f().loops.is_empty() && !self.defined.contains(&slot) {
                self.defined.push(slot);
            }
            return Ok(());
        }
        let mut r = self.bind_reg(id);
        if r == NO_REG {
            r = self.alloc(b.span)?;
            self.set_bind_reg(id, r);
        }
        if r != src {
            self.emit(Op::Move { dst: r, src }, b.span);
        }
        if info.boxed() {
            self.emit(Op::NewBox { reg: r }, b.span);
        }
        Ok(())
    }

    /// Gives every binding of a pattern a fresh register before the pattern's tests are
    /// compiled, so the temporaries the tests use sit above the bindings and can be freed.
    fn pattern_top(&mut self, p: &Pattern, src: Reg, fails: &mut Vec<usize>) -> CResult<()> {
        let mut bs = Vec::new();
        p.bindings(&mut bs);
        for b in bs {
            let id = self.res.canonical(b.id);
            if self.res.binding(id).global.is_none() {
                let r = self.alloc(b.span)?;
                self.set_bind_reg(id, r);
            }
        }
        self.pattern(p, src, fails)
    }

    /// Compiles a pattern test-and-bind against the value in `src`; failed tests jump to the
    /// positions collected in `fails`.
    fn pattern(&mut self, p: &Pattern, src: Reg, fails: &mut Vec<usize>) -> CResult<()> {
        let span = p.span;
        match &p.kind {
            PatKind::Wild => {}
            PatKind::Bind(b) => self.bind(b, src)?,
            PatKind::At(b, sub) => {
                self.pattern(sub, src, fails)?;
                self.bind(b, src)?;
            }
            PatKind::Lit(lit) => {
                let mark = self.mark();
                let r = self.operand(lit)?;
                fails.push(self.emit(
                    Op::JumpIfNotEq {
                        a: src,
                        b: r,
                        off: 0,
                    },
                    span,
                ));
                self.free_to(mark);
            }
            PatKind::Range { lo, hi, inclusive } => {
                let lit = |e: &Option<Box<Expr>>| -> Option<Value> {
                    e.as_ref().and_then(|e| match &e.kind {
                        ExprKind::Int(n) => Some(Value::Int(*n)),
                        ExprKind::Float(f) => Some(Value::Float(*f)),
                        ExprKind::Str(s) => Some(Value::str(s.to_string())),
                        _ => None,
                    })
                };
                let desc = self.desc(Desc::RangePat {
                    lo: lit(lo),
                    hi: lit(hi),
                    inclusive: *inclusive,
                });
                fails.push(self.emit(Op::TestRange { src, desc, off: 0 }, span));
            }
            PatKind::Tuple(items) => {
                let n = self.count(items.len(), span)?;
                fails.push(self.emit(Op::TestTuple { src, n, off: 0 }, span));
                self.elements(items, src, 0, false, fails)?;
            }
            PatKind::List {
                before,
                rest,
                after,
            } => {
                let n = self.count(before.len() + after.len(), span)?;
                fails.push(self.emit(
                    Op::TestList {
                        src,
                        n,
                        at_least: rest.is_some(),
                        off: 0,
                    },
                    span,
                ));
                self.elements(before, src, 0, false, fails)?;
                if let Some(Some(b)) = rest {
                    let mark = self.mark();
                    let t = self.alloc(span)?;
                    self.emit(
                        Op::SliceRest {
                            dst: t,
                            src,
                            start: before.len() as u16,
                            end: after.len() as u16,
                        },
                        span,
                    );
                    self.bind(b, t)?;
                    if self.bind_reg(b.id) != t {
                        self.free_to(mark);
                    }
                }
                // elements after the rest, counted from the end
                let mut rev: Vec<&Pattern> = after.iter().collect();
                rev.reverse();
                for (i, item) in rev.into_iter().enumerate() {
                    self.element(item, src, i as u16 + 1, true, fails)?;
                }
            }
            PatKind::Or(alts) => {
                let mut oks = Vec::new();
                for (i, alt) in alts.iter().enumerate() {
                    let mut alt_fails = Vec::new();
                    self.pattern(alt, src, &mut alt_fails)?;
                    if i + 1 < alts.len() {
                        oks.push(self.emit(Op::Jump { off: 0 }, span));
                        alt_fails.into_iter().for_each(|f| self.patch(f));
                    } else {
                        fails.extend(alt_fails);
                    }
                }
                oks.into_iter().for_each(|j| self.patch(j));
            }
            PatKind::Variant { path, args } => {
                let arity = match args {
                    Some(a) => Some(self.count(a.len(), span)?),
                    None => None,
                };
                let constant = match (path.as_slice(), args) {
                    ([name], None) => Some(self.globals.slot(name)),
                    _ => None,
                };
                let desc = self.desc(Desc::VariantPat {
                    path: self.path_desc(path),
                    arity,
                    fields: None,
                    constant,
                });
                fails.push(self.emit(Op::TestVariant { src, desc, off: 0 }, span));
                if let Some(args) = args {
                    self.elements(args, src, 0, false, fails)?;
                }
            }
            PatKind::Struct { path, fields, .. } => {
                let desc = self.desc(Desc::VariantPat {
                    path: self.path_desc(path),
                    arity: None,
                    fields: Some(fields.iter().map(|(n, _)| n.clone()).collect()),
                    constant: None,
                });
                fails.push(self.emit(Op::TestVariant { src, desc, off: 0 }, span));
                for (fname, fpat) in fields {
                    let mark = self.mark();
                    let t = self.alloc(fpat.span)?;
                    let name = self.name(fname);
                    self.emit(
                        Op::GetField {
                            dst: t,
                            obj: src,
                            name,
                        },
                        fpat.span,
                    );
                    self.pattern(fpat, t, fails)?;
                    if !binds_into(fpat, t, self) {
                        self.free_to(mark);
                    }
                }
            }
        }
        Ok(())
    }

    fn elements(
        &mut self,
        items: &[Pattern],
        src: Reg,
        first: u16,
        from_end: bool,
        fails: &mut Vec<usize>,
    ) -> CResult<()> {
        for (i, item) in items.iter().enumerate() {
            self.element(item, src, first + i as u16, from_end, fails)?;
        }
        Ok(())
    }

    fn element(
        &mut self,
        item: &Pattern,
        src: Reg,
        idx: u16,
        from_end: bool,
        fails: &mut Vec<usize>,
    ) -> CResult<()> {
        if matches!(item.kind, PatKind::Wild) {
            return Ok(());
        }
        let mark = self.mark();
        let t = self.alloc(item.span)?;
        self.emit(
            Op::GetElem {
                dst: t,
                src,
                idx,
                from_end,
            },
            item.span,
        );
        self.pattern(item, t, fails)?;
        if !binds_into(item, t, self) {
            self.free_to(mark);
        }
        Ok(())
    }

    // ---- assignment ----------------------------------------------------------------------

    fn assign(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        if let ExprKind::Var(v) = &target.kind {
            // a variable in a register of its own: a plain local, or a global a loop keeps
            // in a register ([`promote`])
            let own = match self.use_of(v) {
                UseRes::Local(b) if !self.res.binding(self.res.canonical(b)).boxed() => {
                    let r = self.bind_reg(b);
                    if r == NO_REG {
                        return Err(Diagnostic::new(
                            DiagnosticKind::Runtime,
                            format!("Undefined variable: {}", v.name),
                            target.span,
                        ));
                    }
                    Some(r)
                }
                UseRes::Global(slot) => self.promoted(slot),
                _ => None,
            };
            if let Some(r) = own {
                match op {
                    None => self.value_into(value, r)?,
                    Some(op) => self.binary(op, target, value, Dst::To(r), span)?,
                }
                if let Dst::To(d) = dst {
                    if d != r {
                        self.emit(Op::Move { dst: d, src: r }, span);
                    }
                }
                self.free_to(mark);
                return Ok(());
            }
            match self.use_of(v) {
                UseRes::Global(slot) if op.is_some() || self_update(v, value).is_some() => {
                    // `g op= e` and `g = g op e`: e first (Rust's order), then g in place
                    let slot = if slot == u32::MAX {
                        self.globals.slot(&v.name)
                    } else {
                        slot
                    };
                    let (op, rhs) = match op {
                        Some(op) => (op, value),
                        None => self_update(v, value).unwrap_or((BinOp::Add, value)),
                    };
                    if let Some(k) = self.number_const(op, rhs) {
                        self.emit(
                            Op::UpdateGlobalK {
                                slot,
                                op: op as u8,
                                k,
                            },
                            span,
                        );
                    } else {
                        let t = self.operand(rhs)?;
                        self.emit(
                            Op::UpdateGlobal {
                                slot,
                                op: op as u8,
                                src: t,
                            },
                            span,
                        );
                    }
                    if let Dst::To(d) = dst {
                        self.emit(Op::GetGlobal { dst: d, slot }, span);
                    }
                    self.free_to(mark);
                    return Ok(());
                }
                res => {
                    let t = self.alloc(span)?;
                    match op {
                        None => self.expr_to(value, t)?,
                        Some(op) => self.binary(op, target, value, Dst::To(t), span)?,
                    }
                    match res {
                        UseRes::Local(b) => {
                            let boxed = self.bind_reg(b);
                            self.emit(Op::SetBox { boxed, src: t }, span);
                        }
                        UseRes::Upval(idx) => {
                            self.emit(Op::SetUpval { idx, src: t }, span);
                        }
                        UseRes::Global(slot) => {
                            let slot = if slot == u32::MAX {
                                self.globals.slot(&v.name)
                            } else {
                                slot
                            };
                            self.emit(Op::SetGlobal { slot, src: t }, span);
                        }
                        UseRes::SelfFn => {
                            return Err(Diagnostic::new(
                                DiagnosticKind::Runtime,
                                format!("Cannot assign to the function `{}` inside itself", v.name),
                                target.span,
                            ))
                        }
                    }
                    if let Dst::To(d) = dst {
                        self.emit(Op::Move { dst: d, src: t }, span);
                    }
                    self.free_to(mark);
                    return Ok(());
                }
            }
        }
        // a place: `a[i] = v`, `p.x += 1`, `t.0 = v`
        let place = self.place(target)?;
        let place = self.desc(Desc::Place(place));
        let t = self.alloc(span)?;
        match op {
            None if reads_root(target, value) => {
                // `counts[w] = counts[w] + 1`: the value's temporaries may still hold the
                // container it read (a global read into a register); they are cleared before
                // the store, so a container with one owner is changed in place, not copied
                let saved = self.f().max;
                self.f().max = self.f().next;
                self.expr_to(value, t)?;
                let high = self.f().max;
                self.f().max = saved.max(high);
                for r in t + 1..high {
                    self.emit(Op::LoadNil { dst: r }, span);
                }
            }
            None => self.expr_to(value, t)?,
            Some(op) => {
                let cur = self.alloc(span)?;
                self.emit(Op::LoadPlace { dst: cur, place }, target.span);
                let v = self.operand(value)?;
                let ins = binop_instr(op, t, cur, v);
                self.emit(ins, span);
            }
        }
        self.emit(Op::StorePlace { place, src: t }, span);
        if let Dst::To(d) = dst {
            self.emit(Op::Move { dst: d, src: t }, span);
        }
        self.free_to(mark);
        Ok(())
    }

    /// `x = value` into `x`'s own register `r`. A loop starts by setting its result to nil,
    /// so a loop that reads `x` (`x = loop { x += 1; .. break x }`) is run into a temporary
    /// and moved.
    fn value_into(&mut self, value: &Expr, r: Reg) -> CResult<()> {
        if matches!(
            value.kind,
            ExprKind::While { .. } | ExprKind::Loop { .. } | ExprKind::For(_)
        ) {
            let t = self.alloc(value.span)?;
            self.expr_to(value, t)?;
            self.emit(Op::Move { dst: r, src: t }, value.span);
            Ok(())
        } else {
            self.expr_to(value, r)
        }
    }

    /// Builds the place for an assignment target or a method receiver; index expressions are
    /// compiled into registers now. `Err` if the target is not rooted at a variable.
    fn place(&mut self, target: &Expr) -> CResult<Place> {
        let mut steps_rev: Vec<Step> = Vec::new();
        let mut chain: Vec<&Expr> = Vec::new();
        let mut t = target;
        let root = loop {
            match &t.kind {
                ExprKind::Var(v) => break v,
                ExprKind::Index(o, i) => {
                    chain.push(i);
                    steps_rev.push(Step::Index(0));
                    t = o;
                }
                ExprKind::Field { object, field, .. } => {
                    steps_rev.push(Step::Field(field.clone()));
                    t = object;
                }
                ExprKind::TupleField(o, n) => {
                    steps_rev.push(Step::Tuple(*n));
                    t = o;
                }
                _ => {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        "Cannot assign to a temporary value: assign to a variable, or to a field or element of one",
                        target.span,
                    ))
                }
            }
        };
        // index registers, evaluated from the root outwards
        let mut index_regs: Vec<Reg> = Vec::new();
        for i in chain.iter().rev() {
            index_regs.push(self.operand(i)?);
        }
        let mut steps = Vec::new();
        let mut k = 0;
        for s in steps_rev.into_iter().rev() {
            match s {
                Step::Index(_) => {
                    steps.push(Step::Index(index_regs[k]));
                    k += 1;
                }
                other => steps.push(other),
            }
        }
        let root_kind = match self.use_of(root) {
            UseRes::Local(b) => {
                let r = self.bind_reg(b);
                if r == NO_REG {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("Undefined variable: {}", root.name),
                        target.span,
                    ));
                }
                if self.res.binding(self.res.canonical(b)).boxed() {
                    Root::Boxed(r)
                } else {
                    Root::Local(r)
                }
            }
            UseRes::Upval(i) => Root::Upval(i),
            UseRes::Global(s) => Root::Global(if s == u32::MAX {
                self.globals.slot(&root.name)
            } else {
                s
            }),
            UseRes::SelfFn => {
                return Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    "Cannot assign into a function",
                    target.span,
                ))
            }
        };
        Ok(Place {
            root: root_kind,
            steps,
            name: root.name.clone(),
        })
    }

    // ---- calls ---------------------------------------------------------------------------

    fn call(&mut self, callee: &Expr, args: &[Expr], dst: Dst, span: Span) -> CResult<()> {
        let argc = u8::try_from(args.len()).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many arguments (at most 255)",
                span,
            )
        })?;
        let mark = self.mark();
        let base = self.call_window(dst, args.len(), span)?;
        // a top-level function is called straight from its global slot
        let global = match &callee.kind {
            ExprKind::Var(v) => match self.use_of(v) {
                UseRes::Global(slot) if slot != u32::MAX => Some(slot),
                UseRes::Global(_) => Some(self.globals.slot(&v.name)),
                _ => None,
            },
            _ => None,
        };
        match (&callee.kind, global) {
            (_, Some(_)) => {}
            (ExprKind::Var(v), None) => self.var(v, Dst::To(base), callee.span, true)?,
            _ => self.expr_to(callee, base)?,
        }
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, base + 1 + i as Reg)?;
        }
        match global {
            Some(slot) => self.emit(Op::CallGlobal { base, argc, slot }, span),
            None => self.emit(Op::Call { base, argc }, span),
        };
        if base < mark {
            // the window started on the destination register: the result is already there
            self.free_to(mark);
            return Ok(());
        }
        if let Dst::To(r) = dst {
            if r != base {
                self.emit(Op::Move { dst: r, src: base }, span);
            }
        }
        self.free_to(mark);
        Ok(())
    }

    /// Registers for a call: `result/callee, args...`. When the destination is the topmost
    /// allocated register the window starts on it, so the result needs no move.
    fn call_window(&mut self, dst: Dst, extra: usize, span: Span) -> CResult<Reg> {
        match dst {
            Dst::To(r) if r + 1 == self.mark() => {
                self.alloc_n(extra, span)?;
                Ok(r)
            }
            _ => self.alloc_n(1 + extra, span),
        }
    }

    fn is_place(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(v) => !matches!(self.use_of(v), UseRes::SelfFn),
            ExprKind::Index(o, _) | ExprKind::TupleField(o, _) => self.is_place(o),
            ExprKind::Field {
                object, optional, ..
            } => !optional && self.is_place(object),
            _ => false,
        }
    }

    fn method_call(
        &mut self,
        receiver: &Expr,
        method: &Name,
        args: &[Expr],
        optional: bool,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let argc = u8::try_from(args.len()).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many arguments (at most 255)",
                span,
            )
        })?;
        if !optional && self.inline_method(receiver, method, args, dst, span)? {
            return Ok(());
        }
        let mark = self.mark();
        let name = self.name(method);
        // the built-in method is resolved here, once; the VM dispatches on the id
        let id = MethodId::lookup(method).unwrap_or(MethodId::Unknown);
        if !optional && self.is_place(receiver) {
            let place = self.place(receiver)?;
            let place = self.desc(Desc::MethodPlace { place, name });
            let base = self.alloc_n(2 + args.len(), span)?;
            for (i, a) in args.iter().enumerate() {
                self.expr_to(a, base + 2 + i as Reg)?;
            }
            self.emit(
                Op::CallMethodPlace {
                    base,
                    argc,
                    id,
                    place,
                },
                span,
            );
            if let Dst::To(r) = dst {
                if r != base {
                    self.emit(Op::Move { dst: r, src: base }, span);
                }
            }
            self.free_to(mark);
            return Ok(());
        }
        let base = self.alloc_n(2 + args.len(), span)?;
        self.expr_to(receiver, base + 1)?;
        let skip = if optional {
            let j = self.emit(
                Op::JumpIfNotNil {
                    src: base + 1,
                    off: 0,
                },
                span,
            );
            self.emit(Op::LoadNil { dst: base }, span);
            let k = self.emit(Op::Jump { off: 0 }, span);
            self.patch(j);
            Some(k)
        } else {
            None
        };
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, base + 2 + i as Reg)?;
        }
        self.emit(
            Op::CallMethod {
                base,
                argc,
                id,
                name,
            },
            span,
        );
        if let Some(k) = skip {
            self.patch(k);
        }
        if let Dst::To(r) = dst {
            if r != base {
                self.emit(Op::Move { dst: r, src: base }, span);
            }
        }
        self.free_to(mark);
        Ok(())
    }

    // ---- loops ---------------------------------------------------------------------------

    fn loop_result(&mut self, dst: Dst, span: Span) -> CResult<Option<Reg>> {
        Ok(match dst {
            Dst::To(r) => {
                self.emit(Op::LoadNil { dst: r }, span);
                Some(r)
            }
            Dst::Discard => None,
        })
    }

    fn push_loop(&mut self, label: &Option<Name>, result: Option<Reg>) {
        let tries = self.f().tries;
        self.f().loops.push(LoopCtx {
            label: label.clone(),
            result,
            breaks: Vec::new(),
            continues: Vec::new(),
            tries,
        });
    }

    /// Ends the innermost loop: `continue` jumps to `continue_to`, `break` to here.
    fn pop_loop(&mut self, continue_to: usize) {
        if let Some(l) = self.f().loops.pop() {
            for c in l.continues {
                self.patch_to(c, continue_to);
            }
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    fn find_loop(&mut self, label: &Option<Name>, span: Span) -> CResult<usize> {
        let loops = &self.f().loops;
        let found = match label {
            None => loops.len().checked_sub(1),
            Some(l) => loops.iter().rposition(|c| c.label.as_ref() == Some(l)),
        };
        found.ok_or_else(|| {
            let what = match label {
                Some(l) => format!("no enclosing loop is labelled '{l}"),
                None => "`break` or `continue` outside of a loop".into(),
            };
            Diagnostic::parse(what, span)
        })
    }

    fn end_tries(&mut self, loop_index: usize, span: Span) {
        let n = self.f().tries - self.f().loops[loop_index].tries;
        for _ in 0..n {
            self.emit(Op::TryEnd, span);
        }
    }

    fn break_expr(
        &mut self,
        label: &Option<Name>,
        value: Option<&Expr>,
        span: Span,
    ) -> CResult<()> {
        let i = self.find_loop(label, span)?;
        let result = self.f().loops[i].result;
        if let Some(v) = value {
            match result {
                Some(r) => self.expr_to(v, r)?,
                None => {
                    let mark = self.mark();
                    self.expr(v, Dst::Discard)?;
                    self.free_to(mark);
                }
            }
        }
        self.end_tries(i, span);
        let j = self.emit(Op::Jump { off: 0 }, span);
        self.f().loops[i].breaks.push(j);
        Ok(())
    }

    fn while_loop(
        &mut self,
        label: &Option<Name>,
        cond: &Expr,
        body: &Expr,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let result = self.loop_result(dst, span)?;
        // cond; body; loop back. The condition is checked at the bottom too, so each
        // iteration runs one conditional branch.
        let fails = self.cond_false(cond)?;
        let body_start = self.here();
        self.push_loop(label, result);
        self.scoped(body, result.map_or(Dst::Discard, Dst::To))?;
        let cont = self.here();
        let back = self.cond_false(cond)?;
        let j = self.emit(Op::Loop { off: 0 }, span);
        self.patch_to(j, body_start);
        self.pop_loop(cont);
        for f in fails.into_iter().chain(back) {
            self.patch(f);
        }
        Ok(())
    }

    fn for_loop(
        &mut self,
        label: &Option<Name>,
        pat: &Pattern,
        iter: &Expr,
        body: &Expr,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let result = self.loop_result(dst, span)?;
        let b = LoopBody { body, result };
        self.for_each(label, pat, iter, &b, result, span)
    }

    /// The loop machinery shared by `for` and comprehensions.
    fn for_each(
        &mut self,
        label: &Option<Name>,
        pat: &Pattern,
        iter: &Expr,
        body: &dyn ForBody,
        result: Option<Reg>,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        // counting loop over a literal range: `for i in a..b`
        if let ExprKind::Range {
            start: Some(lo),
            end: Some(hi),
            inclusive,
        } = &iter.kind
        {
            let base = self.alloc_n(2, span)?;
            self.expr_to(lo, base)?;
            self.expr_to(hi, base + 1)?;
            let prep = self.emit(
                Op::ForPrep {
                    base,
                    inclusive: *inclusive,
                    off: 0,
                },
                span,
            );
            let body_start = self.here();
            self.push_loop(label, result);
            let inner = self.mark();
            self.loop_variable(pat, base)?;
            body.compile(self)?;
            self.free_to(inner);
            let cont = self.here();
            let next = self.emit(
                Op::ForNext {
                    base,
                    inclusive: *inclusive,
                    off: 0,
                },
                span,
            );
            self.patch_to(next, body_start);
            self.pop_loop(cont);
            self.patch(prep);
            self.free_to(mark);
            return Ok(());
        }
        let src = self.alloc_n(2, span)?;
        self.expr_to(iter, src)?;
        self.emit(Op::IterPrep { src }, iter.span);
        let top = self.here();
        let item = self.alloc(span)?;
        let next = self.emit(
            Op::IterNext {
                src,
                dst: item,
                off: 0,
            },
            span,
        );
        self.push_loop(label, result);
        let inner = self.mark();
        self.loop_variable(pat, item)?;
        body.compile(self)?;
        self.free_to(inner);
        let j = self.emit(Op::Loop { off: 0 }, span);
        self.patch_to(j, top);
        self.pop_loop(top);
        self.patch(next);
        self.free_to(mark);
        Ok(())
    }

    /// Binds a loop's pattern to the value in `src` (the counter, the element): a plain name
    /// is that register itself, others are matched into registers of their own.
    fn loop_variable(&mut self, pat: &Pattern, src: Reg) -> CResult<()> {
        if let PatKind::Bind(b) = &pat.kind {
            if self.plain_local(b) {
                self.set_bind_reg(b.id, src);
                return Ok(());
            }
        }
        let mut fails = Vec::new();
        self.pattern_top(pat, src, &mut fails)?;
        self.fail_to_match_error(fails, src, pat.span);
        Ok(())
    }

    /// A local that nothing can change or box after it is bound: it may be the register its
    /// value already is in.
    fn plain_local(&self, b: &Binding) -> bool {
        let info = self.res.binding(self.res.canonical(b.id));
        !info.boxed() && !info.assigned && info.global.is_none()
    }

    /// Where each capture of `def` is, in the frame that makes its closure (through any
    /// lambdas being compiled in place).
    fn captures_here(&self, def: &FnDef) -> Vec<CaptureSrc> {
        let caps = self
            .res
            .fns
            .get(def.id as usize)
            .map(|f| f.captures.as_slice())
            .unwrap_or_default();
        caps.iter().map(|&c| self.outer_capture(c)).collect()
    }

    /// Where an irrefutable position met a refutable pattern: a failed test is an error.
    fn fail_to_match_error(&mut self, fails: Vec<usize>, src: Reg, span: Span) {
        if fails.is_empty() {
            return;
        }
        let j = self.emit(Op::Jump { off: 0 }, span);
        fails.into_iter().for_each(|f| self.patch(f));
        self.emit(Op::MatchFail { src, binding: true }, span);
        self.patch(j);
    }

    fn match_expr(
        &mut self,
        scrutinee: &Expr,
        arms: &[MatchArm],
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        let s = self.alloc(scrutinee.span)?;
        self.expr_to(scrutinee, s)?;
        let mut ends = Vec::new();
        for arm in arms {
            let arm_mark = self.mark();
            let mut fails = Vec::new();
            self.pattern_top(&arm.pat, s, &mut fails)?;
            if let Some(g) = &arm.guard {
                fails.extend(self.cond_false(g)?);
            }
            self.scoped(&arm.body, dst)?;
            ends.push(self.emit(Op::Jump { off: 0 }, arm.span));
            fails.into_iter().for_each(|f| self.patch(f));
            self.free_to(arm_mark);
        }
        self.emit(
            Op::MatchFail {
                src: s,
                binding: false,
            },
            span,
        );
        ends.into_iter().for_each(|j| self.patch(j));
        self.free_to(mark);
        Ok(())
    }

    // ---- try / catch ---------------------------------------------------------------------

    fn try_expr(
        &mut self,
        body: &Expr,
        catch: Option<&(Pattern, Expr)>,
        finally: Option<&Expr>,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        let err = self.alloc(span)?;
        let begin = self.emit(Op::TryBegin { err, off: 0 }, span);
        self.f().tries += 1;
        self.scoped(body, dst)?;
        self.f().tries -= 1;
        self.emit(Op::TryEnd, span);
        let done = self.emit(Op::Jump { off: 0 }, span);
        self.patch(begin);
        match (catch, finally) {
            (Some((pat, handler)), None) => {
                let mut fails = Vec::new();
                self.pattern_top(pat, err, &mut fails)?;
                if !fails.is_empty() {
                    // a catch pattern that does not match lets the error go on
                    let ok = self.emit(Op::Jump { off: 0 }, span);
                    fails.into_iter().for_each(|f| self.patch(f));
                    self.emit(Op::Rethrow { src: err }, span);
                    self.patch(ok);
                }
                self.scoped(handler, dst)?;
                self.patch(done);
            }
            (catch, Some(fin)) => {
                if let Some((pat, handler)) = catch {
                    // errors in the handler still run `finally`
                    let err2 = self.alloc(span)?;
                    let begin2 = self.emit(Op::TryBegin { err: err2, off: 0 }, span);
                    self.f().tries += 1;
                    let mut fails = Vec::new();
                    self.pattern_top(pat, err, &mut fails)?;
                    if !fails.is_empty() {
                        let ok = self.emit(Op::Jump { off: 0 }, span);
                        fails.into_iter().for_each(|f| self.patch(f));
                        self.emit(Op::Rethrow { src: err }, span);
                        self.patch(ok);
                    }
                    self.scoped(handler, dst)?;
                    self.f().tries -= 1;
                    self.emit(Op::TryEnd, span);
                    let done2 = self.emit(Op::Jump { off: 0 }, span);
                    self.patch(begin2);
                    self.emit(
                        Op::Move {
                            dst: err,
                            src: err2,
                        },
                        span,
                    );
                    // error path: finally, then the error goes on
                    self.scoped(fin, Dst::Discard)?;
                    self.emit(Op::Rethrow { src: err }, span);
                    self.patch(done2);
                } else {
                    self.scoped(fin, Dst::Discard)?;
                    self.emit(Op::Rethrow { src: err }, span);
                }
                self.patch(done);
                self.scoped(fin, Dst::Discard)?;
            }
            (None, None) => self.patch(done),
        }
        self.free_to(mark);
        Ok(())
    }

    // ---- functions and definitions -------------------------------------------------------

    fn emit_return(&mut self, r: Reg, span: Span) {
        if let Some(desc) = self.f().ret_check {
            self.emit(Op::CheckType { reg: r, desc }, span);
        }
        self.emit(Op::Return { src: r }, span);
    }

    /// Compiles a function body into a new prototype; returns its index in the current one.
    fn function(&mut self, def: &FnDef, impl_type: Option<Rc<str>>) -> CResult<u32> {
        let name: Rc<str> = def
            .name
            .as_ref()
            .map_or_else(|| "<closure>".into(), |b| b.name.clone());
        self.push_fn(name, impl_type);
        // the function's own uses are its own: no lambda around it is inlined for them
        let inline = std::mem::take(&mut self.inline);
        let body = self.function_body(def);
        self.inline = inline;
        let mut proto = body?;
        for c in self.captures_here(def) {
            proto.captures.push(match c {
                CaptureSrc::Local(b) if self.res.binding(self.res.canonical(b)).boxed() => {
                    Capture::Local(self.bind_reg(b))
                }
                CaptureSrc::Local(b) => Capture::Value(self.bind_reg(b)),
                CaptureSrc::Upval(i) => Capture::Upval(i),
            });
        }
        let p = &mut self.f().p;
        p.protos.push(Rc::new(proto));
        Ok((p.protos.len() - 1) as u32)
    }

    /// A function's parameters and body, compiled into the function state on top.
    fn function_body(&mut self, def: &FnDef) -> CResult<Proto> {
        let span = def.span;
        // parameters occupy R[0..arity]
        let has_self = def.self_kind != SelfKind::None;
        let arity = def.params.len() + usize::from(has_self);
        if arity > 255 {
            return Err(Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many parameters (at most 255)",
                span,
            ));
        }
        self.alloc_n(arity, span)?;
        let mut next_param: Reg = 0;
        if let Some(sb) = &def.self_binding {
            self.set_bind_reg(sb.id, 0);
            if self.res.binding(sb.id).boxed() {
                self.emit(Op::NewBox { reg: 0 }, span);
            }
            next_param = 1;
        }
        let mut min_arity = arity as u16;
        for (i, p) in def.params.iter().enumerate() {
            let reg = next_param + i as Reg;
            if p.default.is_some() && min_arity == arity as u16 {
                min_arity = reg;
            }
            if let Some(d) = &p.default {
                let j = self.emit(Op::SkipIfArg { reg, off: 0 }, p.span);
                self.expr_to(d, reg)?;
                self.patch(j);
            }
            if let Some(ty) = &p.ty {
                if let Some(kind) = checked(ty) {
                    let desc = self.desc(Desc::Check {
                        kind,
                        annotation: type_text(ty),
                    });
                    self.emit(Op::CheckType { reg, desc }, p.span);
                }
            }
            match &p.pat.kind {
                PatKind::Bind(b) => {
                    self.set_bind_reg(b.id, reg);
                    if self.res.binding(b.id).boxed() {
                        self.emit(Op::NewBox { reg }, p.span);
                    }
                }
                _ => {
                    let mut fails = Vec::new();
                    self.pattern_top(&p.pat, reg, &mut fails)?;
                    self.fail_to_match_error(fails, reg, p.span);
                }
            }
        }
        if let Some(ret) = &def.ret {
            if let Some(kind) = checked(ret) {
                let desc = self.desc(Desc::Check {
                    kind,
                    annotation: type_text(ret),
                });
                self.f().ret_check = Some(desc);
            }
        }
        let r = self.alloc(span)?;
        match &def.body.kind {
            ExprKind::Block(b) => self.block(b, Dst::To(r))?,
            _ => self.expr_to(&def.body, r)?,
        }
        self.emit_return(r, def.body.span);
        // (before `pop_fn`, whose peephole pass keeps a method's `self`)
        self.f().p.self_kind = if has_self { Some(def.self_kind) } else { None };
        let mut proto = self.pop_fn();
        proto.arity = arity as u16;
        proto.min_arity = min_arity;
        Ok(proto)
    }

    fn fn_expr(&mut self, def: &FnDef, dst: Dst, span: Span) -> CResult<()> {
        let proto = self.function(def, None)?;
        let Some(b) = &def.name else {
            let r = self.target(dst, span)?;
            self.emit(Op::MakeClosure { dst: r, proto }, span);
            return Ok(());
        };
        let info = self.res.binding(b.id).clone();
        self.set_undeclared(b.id, false);
        if let Some(slot) = info.global {
            let r = self.target(dst, span)?;
            self.emit(Op::MakeClosure { dst: r, proto }, span);
            self.emit(Op::SetGlobal { slot, src: r }, span);
            return Ok(());
        }
        let mut reg = self.bind_reg(b.id);
        if reg == NO_REG {
            reg = self.alloc(span)?;
            self.set_bind_reg(b.id, reg);
            if info.boxed() {
                self.emit(Op::LoadUndef { dst: reg }, span);
                self.emit(Op::NewBox { reg }, span);
            }
        }
        if info.boxed() {
            let mark = self.mark();
            let t = self.alloc(span)?;
            self.emit(Op::MakeClosure { dst: t, proto }, span);
            self.emit(Op::SetBox { boxed: reg, src: t }, span);
            if let Dst::To(d) = dst {
                self.emit(Op::Move { dst: d, src: t }, span);
            }
            self.free_to(mark);
        } else {
            self.emit(Op::MakeClosure { dst: reg, proto }, span);
            if let Dst::To(d) = dst {
                self.emit(Op::Move { dst: d, src: reg }, span);
            }
        }
        Ok(())
    }

    /// `struct`/`enum`: registers the type and binds its name as a session global.
    fn def_type(
        &mut self,
        name: &Rc<str>,
        desc: u32,
        defaults: Reg,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        let r = self.target(dst, span)?;
        self.emit(
            Op::DefType {
                dst: r,
                desc,
                defaults,
            },
            span,
        );
        let slot = self.globals.slot(name);
        self.emit(Op::SetGlobal { slot, src: r }, span);
        self.free_to(mark);
        Ok(())
    }

    fn impl_block(&mut self, imp: &ImplDef, dst: Dst, span: Span) -> CResult<()> {
        let mark = self.mark();
        let base = self.alloc_n(imp.methods.len(), span)?;
        let mut methods = Vec::new();
        for (i, m) in imp.methods.iter().enumerate() {
            let proto = self.function(m, Some(imp.type_name.clone()))?;
            self.emit(
                Op::MakeClosure {
                    dst: base + i as Reg,
                    proto,
                },
                m.span,
            );
            methods.push(ImplMethod {
                name: m
                    .name
                    .as_ref()
                    .map_or_else(|| "?".into(), |b| b.name.clone()),
                self_kind: m.self_kind,
            });
        }
        let desc = self.desc(Desc::Impl {
            type_name: imp.type_name.clone(),
            trait_name: imp.trait_name.clone(),
            methods,
        });
        self.emit(Op::DefImpl { base, desc }, span);
        if let Dst::To(r) = dst {
            self.emit(Op::LoadNil { dst: r }, span);
        }
        self.free_to(mark);
        Ok(())
    }
}

/// The body of a `for`-shaped loop.
trait ForBody {
    fn compile(&self, c: &mut Compiler<'_>) -> CResult<()>;
}

struct LoopBody<'e> {
    body: &'e Expr,
    result: Option<Reg>,
}

impl ForBody for LoopBody<'_> {
    fn compile(&self, c: &mut Compiler<'_>) -> CResult<()> {
        c.scoped(self.body, self.result.map_or(Dst::Discard, Dst::To))
    }
}

struct ComprehensionBody<'e> {
    acc: Reg,
    expr: &'e Expr,
    cond: Option<&'e Expr>,
}

impl ForBody for ComprehensionBody<'_> {
    fn compile(&self, c: &mut Compiler<'_>) -> CResult<()> {
        let fails = match self.cond {
            Some(cond) => c.cond_false(cond)?,
            None => Vec::new(),
        };
        let mark = c.mark();
        let r = c.alloc(self.expr.span)?;
        c.expr_to(self.expr, r)?;
        c.emit(
            Op::ArrayPush {
                arr: self.acc,
                src: r,
            },
            self.expr.span,
        );
        c.free_to(mark);
        fails.into_iter().for_each(|f| c.patch(f));
        Ok(())
    }
}

/// Whether compiling `p` against register `t` made `t` the register of a binding (so it
/// must stay allocated).
fn binds_into(p: &Pattern, t: Reg, c: &Compiler<'_>) -> bool {
    let mut bs = Vec::new();
    p.bindings(&mut bs);
    bs.iter().any(|b| c.bind_reg(b.id) == t)
}

/// `g = g op e` where `e` cannot observe `g` (no calls, no mention of `g`): the operator and
/// `e`, so the update can happen in place.
fn self_update<'e>(g: &VarRef, value: &'e Expr) -> Option<(BinOp, &'e Expr)> {
    let ExprKind::Binary(op, a, b) = &value.kind else {
        return None;
    };
    let ExprKind::Var(x) = &a.kind else {
        return None;
    };
    if x.name != g.name
        || !matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul)
        || !simple(b, &g.name)
    {
        return None;
    }
    Some((*op, b))
}

/// An expression of literals, arithmetic and variables other than `name`.
fn simple(e: &Expr, name: &str) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => true,
        ExprKind::Var(v) => &*v.name != name,
        ExprKind::Binary(_, a, b) => simple(a, name) && simple(b, name),
        ExprKind::Unary(_, a) => simple(a, name),
        _ => false,
    }
}

/// Whether a statement declares locals that live to the end of the block.
fn declares(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Let(l) => l.body.is_none(),
        ExprKind::Fn(def) => def.name.is_some(),
        _ => false,
    }
}

fn binop_instr(op: BinOp, dst: Reg, a: Reg, b: Reg) -> Op {
    match op {
        BinOp::Add => Op::Add {
            dst,
            a,
            b,
            own: false,
        },
        BinOp::Sub => Op::Sub { dst, a, b },
        BinOp::Mul => Op::Mul { dst, a, b },
        BinOp::Div => Op::Div { dst, a, b },
        BinOp::Rem => Op::Rem { dst, a, b },
        BinOp::Pow => Op::Pow { dst, a, b },
        BinOp::Eq => Op::Eq { dst, a, b },
        BinOp::Ne => Op::Ne { dst, a, b },
        BinOp::Lt => Op::Lt { dst, a, b },
        BinOp::Le => Op::Le { dst, a, b },
        BinOp::Gt => Op::Gt { dst, a, b },
        BinOp::Ge => Op::Ge { dst, a, b },
        BinOp::BitAnd => Op::BitAnd { dst, a, b },
        BinOp::BitOr => Op::BitOr { dst, a, b },
        BinOp::BitXor => Op::BitXor { dst, a, b },
        BinOp::Shl => Op::Shl { dst, a, b },
        BinOp::Shr => Op::Shr { dst, a, b },
    }
}

/// The D24 kind of an annotation, if it is one that is checked.
pub fn checked(t: &TypeAnn) -> Option<Checked> {
    match t {
        TypeAnn::Named(n, args) if args.is_empty() => match &**n {
            "Int" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32"
            | "u64" | "u128" | "usize" => Some(Checked::Int),
            "Float" | "f32" | "f64" => Some(Checked::Float),
            "bool" | "Bool" => Some(Checked::Bool),
            "String" | "str" => Some(Checked::Str),
            _ => None,
        },
        TypeAnn::Ref(inner) => match &**inner {
            TypeAnn::Named(n, _) if &**n == "str" || &**n == "String" => Some(Checked::Str),
            _ => None,
        },
        _ => None,
    }
}

/// An annotation as written, for messages: `Int`, `&str`, `Vec<i32>`.
pub fn type_text(t: &TypeAnn) -> Rc<str> {
    fn go(t: &TypeAnn, out: &mut String) {
        match t {
            TypeAnn::Named(n, args) => {
                out.push_str(n);
                if !args.is_empty() {
                    out.push('<');
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        go(a, out);
                    }
                    out.push('>');
                }
            }
            TypeAnn::Ref(inner) => {
                out.push('&');
                go(inner, out);
            }
            TypeAnn::Array(inner, n) => {
                out.push('[');
                go(inner, out);
                if let Some(n) = n {
                    out.push_str(&format!("; {n}"));
                }
                out.push(']');
            }
            TypeAnn::Tuple(items) => {
                out.push('(');
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(a, out);
                }
                out.push(')');
            }
            TypeAnn::Fn(..) => out.push_str("fn"),
            TypeAnn::Infer => out.push('_'),
        }
    }
    let mut s = String::new();
    go(t, &mut s);
    s.into()
}

fn cast_kind(t: &TypeAnn) -> CastKind {
    match checked(t) {
        Some(Checked::Int) => CastKind::Int,
        Some(Checked::Float) => CastKind::Float,
        Some(Checked::Bool) => CastKind::Bool,
        Some(Checked::Str) => CastKind::Str,
        None => match t {
            TypeAnn::Named(n, _) if &**n == "char" => CastKind::Char,
            _ => CastKind::Keep,
        },
    }
}

/// Whether `e` assigns to a variable somewhere inside it (not counting nested functions).
fn assigns(e: &Expr) -> bool {
    let mut found = false;
    ruchy_syntax::ast::visit(e, &mut |x| {
        found |= matches!(x.kind, ExprKind::Assign { .. });
    });
    found
}

/// Whether `value` reads the variable at the root of the place `target` (`a` of `a[i].x`).
/// The variable a place is rooted at: `g` in `g[i].f.0`.
fn place_root(target: &Expr) -> Option<&VarRef> {
    let mut t = target;
    loop {
        match &t.kind {
            ExprKind::Var(v) => return Some(v),
            ExprKind::Index(o, _) => t = o,
            ExprKind::Field { object, .. } => t = object,
            ExprKind::TupleField(o, _) => t = o,
            _ => return None,
        }
    }
}

fn reads_root(target: &Expr, value: &Expr) -> bool {
    let Some(root) = place_root(target).map(|v| &v.name) else {
        return true;
    };
    let mut found = false;
    ruchy_syntax::ast::visit(value, &mut |x| {
        found |= matches!(&x.kind, ExprKind::Var(v) if &v.name == root);
    });
    found
}

/// A peephole pass over a finished function (same length, so no offset changes): a `Jump` to
/// a `Return` becomes that `Return`, and a `Move` into the register the next instruction
/// returns becomes a `Return` of its source. An `if` whose branch ends the function
/// (`if n < 2 { n } else { .. }`) then returns at once instead of moving, jumping and
/// returning: three instructions to one. `keep_self`: not when the source is register 0,
/// a method's `self`, which a `Return` would take away before it is written back.
fn shorten_returns(code: &mut [Op], keep_self: bool) {
    for i in 0..code.len() {
        if let Op::Jump { off } = code[i] {
            let target = i as i64 + 1 + i64::from(off);
            if let Some(&Op::Return { src }) =
                usize::try_from(target).ok().and_then(|t| code.get(t))
            {
                code[i] = Op::Return { src };
            }
        }
    }
    for i in 1..code.len() {
        if let (Op::Move { dst, src }, Op::Return { src: r }) = (code[i - 1], code[i]) {
            if dst == r && !(keep_self && src == 0) {
                code[i - 1] = Op::Return { src };
            }
        }
    }
}
