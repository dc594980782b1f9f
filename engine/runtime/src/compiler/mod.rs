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

mod assignment;
mod bindings;
mod blocks;
mod calls;
mod definitions;
mod expressions;
mod loops;
mod try_catch;

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
