//! Type inference pass of the transpiler.

use super::types::{describe, Subst, Ty};
use crate::ast::*;
use crate::compiler::checked;
use crate::diagnostic::{Diagnostic, DiagnosticKind, Span};
use crate::opcode::Checked;
use crate::resolver::{CaptureSrc, Globals, Resolution, UseRes};
use std::collections::{HashMap, HashSet};

/// The types of a program, final (no variables left).
pub struct Typed {
    pub exprs: HashMap<*const Expr, Ty>,
    pub binds: HashMap<BindId, Ty>,
    pub globals: HashMap<u32, Ty>,
    /// Top-level bindings assigned after they are made (they become `let mut`).
    pub globals_assigned: HashSet<u32>,
    /// Slots of top-level functions.
    pub global_fns: HashSet<u32>,
    pub fns: HashMap<FnId, Ty>,
}

impl Typed {
    pub fn of(&self, e: &Expr) -> Ty {
        self.exprs
            .get(&(e as *const Expr))
            .cloned()
            .unwrap_or(Ty::Unit)
    }
}

type IResult<T> = Result<T, Diagnostic>;

pub fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        DiagnosticKind::Type,
        format!("compile cannot express {what} in Rust yet"),
        span,
    )
}

struct FnCtx {
    id: FnId,
    ret: Ty,
}

struct Infer<'a> {
    res: &'a Resolution,
    globals: &'a Globals,
    s: Subst,
    exprs: HashMap<*const Expr, Ty>,
    binds: HashMap<BindId, Ty>,
    gl: HashMap<u32, Ty>,
    global_fns: HashSet<u32>,
    globals_assigned: HashSet<u32>,
    fn_types: HashMap<FnId, Ty>,
    stack: Vec<FnCtx>,
}

pub fn infer(
    program: &Program,
    res: &Resolution,
    globals: &Globals,
) -> Result<Typed, Vec<Diagnostic>> {
    let mut inf = Infer {
        res,
        globals,
        s: Subst::default(),
        exprs: HashMap::new(),
        binds: HashMap::new(),
        gl: HashMap::new(),
        global_fns: HashSet::new(),
        globals_assigned: HashSet::new(),
        fn_types: HashMap::new(),
        stack: Vec::new(),
    };
    inf.program(program).map_err(|d| vec![d])?;
    let s = &inf.s;
    Ok(Typed {
        exprs: inf.exprs.iter().map(|(k, t)| (*k, s.finish(t))).collect(),
        binds: inf.binds.iter().map(|(k, t)| (*k, s.finish(t))).collect(),
        globals: inf.gl.iter().map(|(k, t)| (*k, s.finish(t))).collect(),
        globals_assigned: inf.globals_assigned,
        global_fns: inf.global_fns,
        fns: inf
            .fn_types
            .iter()
            .map(|(k, t)| (*k, s.finish(t)))
            .collect(),
    })
}

/// The Rust type an annotation pins, if it pins one.
pub fn annotation(t: &TypeAnn) -> Option<Ty> {
    if let Some(k) = checked(t) {
        return Some(match k {
            Checked::Int => Ty::Int,
            Checked::Float => Ty::Float,
            Checked::Bool => Ty::Bool,
            Checked::Str => Ty::Str,
        });
    }
    match t {
        TypeAnn::Named(n, args) if (&**n == "Vec" || &**n == "Option") && args.len() == 1 => {
            let inner = annotation(&args[0])?;
            Some(if &**n == "Vec" {
                Ty::Vec(Box::new(inner))
            } else {
                Ty::Option(Box::new(inner))
            })
        }
        TypeAnn::Array(inner, _) => Some(Ty::Vec(Box::new(annotation(inner)?))),
        TypeAnn::Ref(inner) => annotation(inner),
        TypeAnn::Tuple(items) if items.is_empty() => Some(Ty::Unit),
        TypeAnn::Tuple(items) => Some(Ty::Tuple(
            items.iter().map(annotation).collect::<Option<Vec<_>>>()?,
        )),
        _ => None,
    }
}

impl Infer<'_> {
    fn unify(&mut self, a: &Ty, b: &Ty, span: Span) -> IResult<()> {
        self.s.unify(a, b).map_err(|m| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!("compile needs one Rust type per value: {m}"),
                span,
            )
        })
    }

    fn ann_or_fresh(&mut self, t: Option<&TypeAnn>) -> Ty {
        match t.and_then(annotation) {
            Some(t) => t,
            None => self.s.fresh(),
        }
    }

    fn program(&mut self, p: &Program) -> IResult<()> {
        // top-level functions are visible everywhere (they are Rust items)
        for e in &p.exprs {
            if let ExprKind::Fn(def) = &e.kind {
                let ty = self.fn_signature(def);
                if let Some(slot) = def
                    .name
                    .as_ref()
                    .and_then(|b| self.res.binding(b.id).global)
                {
                    if self.global_fns.contains(&slot) {
                        return Err(unsupported(e.span, "a function defined twice"));
                    }
                    self.global_fns.insert(slot);
                    self.gl.insert(slot, ty.clone());
                }
                self.fn_types.insert(def.id, ty);
            }
        }
        for e in &p.exprs {
            self.expr(e)?;
        }
        Ok(())
    }

    fn fn_signature(&mut self, def: &FnDef) -> Ty {
        let params = def
            .params
            .iter()
            .map(|p| self.ann_or_fresh(p.ty.as_ref()))
            .collect();
        let ret = match &def.ret {
            Some(t) => self.ann_or_fresh(Some(t)),
            None => self.s.fresh(),
        };
        Ty::Fn(params, Box::new(ret))
    }

    fn function(&mut self, def: &FnDef, ty: &Ty) -> IResult<()> {
        if def.self_kind != SelfKind::None {
            return Err(unsupported(def.span, "methods"));
        }
        let Ty::Fn(params, ret) = self.s.resolve(ty) else {
            return Err(unsupported(def.span, "this function"));
        };
        for (p, t) in def.params.iter().zip(&params) {
            if p.default.is_some() {
                return Err(unsupported(p.span, "default parameter values"));
            }
            self.bind_pattern(&p.pat, t)?;
        }
        self.stack.push(FnCtx {
            id: def.id,
            ret: (*ret).clone(),
        });
        let body = self.expr(&def.body);
        self.stack.pop();
        let body = body?;
        if !matches!(self.s.shallow(&ret), Ty::Unit) {
            self.unify(&body, &ret, def.body.span)?;
        }
        Ok(())
    }

    fn bind_pattern(&mut self, p: &Pattern, t: &Ty) -> IResult<()> {
        match &p.kind {
            PatKind::Bind(b) => {
                let id = self.res.canonical(b.id);
                match self.res.binding(id).global {
                    Some(slot) => match self.gl.get(&slot).cloned() {
                        Some(old) => self.unify(&old, t, p.span)?,
                        None => {
                            self.gl.insert(slot, t.clone());
                        }
                    },
                    None => {
                        self.binds.insert(id, t.clone());
                    }
                }
                Ok(())
            }
            PatKind::Wild => Ok(()),
            PatKind::Tuple(items) => {
                let tys: Vec<Ty> = items.iter().map(|_| self.s.fresh()).collect();
                self.unify(t, &Ty::Tuple(tys.clone()), p.span)?;
                for (item, ty) in items.iter().zip(&tys) {
                    self.bind_pattern(item, ty)?;
                }
                Ok(())
            }
            _ => Err(unsupported(p.span, "this pattern")),
        }
    }

    /// The binding a captured variable refers to, following the chain of captures.
    fn upval_binding(&self, idx: u16) -> Option<BindId> {
        let mut idx = idx;
        for ctx in self.stack.iter().rev() {
            match self
                .res
                .fns
                .get(ctx.id as usize)?
                .captures
                .get(idx as usize)?
            {
                CaptureSrc::Local(b) => return Some(*b),
                CaptureSrc::Upval(i) => idx = *i,
            }
        }
        None
    }

    fn var(&mut self, v: &VarRef, span: Span) -> IResult<Ty> {
        match self.res.use_of(v) {
            UseRes::Local(b) => {
                let id = self.res.canonical(b);
                self.binds
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this variable"))
            }
            UseRes::Upval(i) => {
                let b = self
                    .upval_binding(i)
                    .ok_or_else(|| unsupported(span, "this capture"))?;
                self.binds
                    .get(&self.res.canonical(b))
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this variable"))
            }
            UseRes::SelfFn => {
                let id = self.stack.last().map(|c| c.id).unwrap_or(u32::MAX);
                self.fn_types
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this recursion"))
            }
            UseRes::Global(slot) => {
                let slot = if slot == u32::MAX {
                    self.globals.get(&v.name).unwrap_or(u32::MAX)
                } else {
                    slot
                };
                if !self.stack.is_empty() && !self.global_fns.contains(&slot) {
                    return Err(unsupported(
                        span,
                        &format!(
                            "a function reading the top-level variable `{}` (a notebook global)",
                            v.name
                        ),
                    ));
                }
                match self.gl.get(&slot) {
                    Some(t) => Ok(t.clone()),
                    None => Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("Undefined variable: {}", v.name),
                        span,
                    )),
                }
            }
        }
    }

    fn record(&mut self, e: &Expr, t: Ty) -> Ty {
        self.exprs.insert(e as *const Expr, t.clone());
        t
    }

    fn expr(&mut self, e: &Expr) -> IResult<Ty> {
        if !crate::stack::ok() {
            return Err(crate::stack::too_deep(e.span));
        }
        let t = self.expr_inner(e)?;
        Ok(self.record(e, t))
    }

    fn numeric_result(&mut self, a: &Ty, b: &Ty, span: Span, op: &str) -> IResult<Ty> {
        let (ra, rb) = (self.s.shallow(a), self.s.shallow(b));
        match (&ra, &rb) {
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ok(Ty::Float),
            _ => {
                self.unify(a, b, span)?;
                match self.s.shallow(a) {
                    Ty::Int | Ty::Float | Ty::Var(_) => Ok(a.clone()),
                    other => Err(Diagnostic::new(
                        DiagnosticKind::Type,
                        format!("compile: `{op}` needs numbers, found {}", describe(&other)),
                        span,
                    )),
                }
            }
        }
    }

    fn expr_inner(&mut self, e: &Expr) -> IResult<Ty> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Float,
            ExprKind::Str(_) => Ty::Str,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Nil => Ty::Unit,
            ExprKind::FStr(parts) => {
                for p in parts {
                    if let FStrPart::Hole { expr, .. } = p {
                        self.expr(expr)?;
                    }
                }
                Ty::Str
            }
            ExprKind::Var(v) => self.var(v, span)?,
            ExprKind::Let(l) => {
                if l.body.is_some() || l.else_block.is_some() {
                    return Err(unsupported(span, "`let ... in` and `let ... else`"));
                }
                let t = self.expr(&l.value)?;
                if let Some(ann) = l.ty.as_ref() {
                    if let Some(a) = annotation(ann) {
                        self.unify(&a, &t, l.value.span)?;
                    }
                }
                self.bind_pattern(&l.pat, &t)?;
                t
            }
            ExprKind::Assign { target, op, value } => {
                let ExprKind::Var(v) = &target.kind else {
                    return Err(unsupported(target.span, "assignment to a field or element"));
                };
                if let UseRes::Global(slot) = self.res.use_of(v) {
                    if !self.stack.is_empty() {
                        return Err(unsupported(
                            target.span,
                            &format!("a function assigning the top-level variable `{}`", v.name),
                        ));
                    }
                    self.globals_assigned.insert(slot);
                }
                let tt = self.expr(target)?;
                let vt = self.expr(value)?;
                match op {
                    None => self.unify(&tt, &vt, value.span)?,
                    Some(BinOp::Add) if matches!(self.s.shallow(&tt), Ty::Str) => {}
                    Some(op) => {
                        let r = self.numeric_result(&tt, &vt, span, op.symbol())?;
                        self.unify(&tt, &r, span)?;
                    }
                }
                tt
            }
            ExprKind::Unary(op, a) => {
                let t = self.expr(a)?;
                match op {
                    UnOp::Not => {
                        self.unify(&t, &Ty::Bool, a.span)?;
                        Ty::Bool
                    }
                    UnOp::Neg => self.numeric_result(&t, &t.clone(), span, "-")?,
                    UnOp::BitNot => {
                        self.unify(&t, &Ty::Int, a.span)?;
                        Ty::Int
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                let ta = self.expr(a)?;
                let tb = self.expr(b)?;
                match op {
                    BinOp::Add
                        if matches!(self.s.shallow(&ta), Ty::Str)
                            || matches!(self.s.shallow(&tb), Ty::Str) =>
                    {
                        for (t, x) in [(&ta, a), (&tb, b)] {
                            match self.s.shallow(t) {
                                Ty::Str | Ty::Int | Ty::Float | Ty::Bool => {}
                                other => {
                                    return Err(Diagnostic::new(
                                        DiagnosticKind::Type,
                                        format!(
                                            "compile: cannot add {} to a string",
                                            describe(&other)
                                        ),
                                        x.span,
                                    ))
                                }
                            }
                        }
                        Ty::Str
                    }
                    BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                        self.numeric_result(&ta, &tb, span, op.symbol())?
                    }
                    BinOp::Pow => {
                        let r = self.numeric_result(&ta, &tb, span, "**")?;
                        if matches!(self.s.shallow(&r), Ty::Int) {
                            // `**` with a negative exponent gives a float in Ruchy
                            if !matches!(b.kind, ExprKind::Int(_)) {
                                return Err(unsupported(
                                    b.span,
                                    "an integer `**` whose exponent is not a literal",
                                ));
                            }
                        }
                        r
                    }
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        let (ra, rb) = (self.s.shallow(&ta), self.s.shallow(&tb));
                        if !matches!((&ra, &rb), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
                            self.unify(&ta, &tb, span)?;
                        }
                        Ty::Bool
                    }
                    BinOp::Eq | BinOp::Ne => {
                        let (ra, rb) = (self.s.shallow(&ta), self.s.shallow(&tb));
                        if !matches!((&ra, &rb), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
                            self.unify(&ta, &tb, span)?;
                        }
                        Ty::Bool
                    }
                    BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
                        self.unify(&ta, &Ty::Int, a.span)?;
                        self.unify(&tb, &Ty::Int, b.span)?;
                        Ty::Int
                    }
                }
            }
            ExprKind::Logic(op, a, b) => {
                if *op == LogicOp::Coalesce {
                    return Err(unsupported(span, "`??`"));
                }
                let ta = self.expr(a)?;
                let tb = self.expr(b)?;
                self.need_bool(&ta, a.span, "`&&` and `||`")?;
                self.need_bool(&tb, b.span, "`&&` and `||`")?;
                Ty::Bool
            }
            ExprKind::If { cond, then, else_ } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a condition")?;
                let tt = self.expr(then)?;
                match else_ {
                    Some(els) => {
                        let te = self.expr(els)?;
                        // a branch that is a statement makes the `if` one too
                        if self.s.unify(&tt, &te).is_err() {
                            Ty::Unit
                        } else {
                            tt
                        }
                    }
                    None => Ty::Unit,
                }
            }
            ExprKind::Block(b) => {
                let mut last = Ty::Unit;
                for x in &b.exprs {
                    last = self.expr(x)?;
                }
                last
            }
            ExprKind::While { cond, body, .. } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a `while` condition")?;
                self.expr(body)?;
                Ty::Unit
            }
            ExprKind::Loop { body, .. } => {
                self.expr(body)?;
                Ty::Unit
            }
            ExprKind::For(f) => {
                let ExprKind::Range {
                    start: Some(lo),
                    end: Some(hi),
                    ..
                } = &f.iter.kind
                else {
                    return Err(unsupported(
                        f.iter.span,
                        "`for` over anything but an integer range",
                    ));
                };
                let tl = self.expr(lo)?;
                let th = self.expr(hi)?;
                self.unify(&tl, &Ty::Int, lo.span)?;
                self.unify(&th, &Ty::Int, hi.span)?;
                self.record(&f.iter, Ty::Unit);
                self.bind_pattern(&f.pat, &Ty::Int)?;
                self.expr(&f.body)?;
                Ty::Unit
            }
            ExprKind::Break { value, .. } => {
                if value.is_some() {
                    return Err(unsupported(span, "`break` with a value"));
                }
                self.s.fresh()
            }
            ExprKind::Continue { .. } => self.s.fresh(),
            ExprKind::Return(value) => {
                let Some(ret) = self.stack.last().map(|c| c.ret.clone()) else {
                    return Err(unsupported(span, "`return` outside a function"));
                };
                let t = match value {
                    Some(v) => self.expr(v)?,
                    None => Ty::Unit,
                };
                self.unify(&ret, &t, span)?;
                self.s.fresh()
            }
            ExprKind::Call { callee, args } => self.call(callee, args, span)?,
            ExprKind::Fn(def) => {
                if self.stack.is_empty() && def.name.is_some() {
                    let ty = self
                        .fn_types
                        .get(&def.id)
                        .cloned()
                        .ok_or_else(|| unsupported(span, "this function"))?;
                    self.function(def, &ty)?;
                    ty
                } else {
                    return Err(unsupported(span, "nested functions and closures"));
                }
            }
            ExprKind::Tuple(items) => {
                let mut tys = Vec::new();
                for i in items {
                    tys.push(self.expr(i)?);
                }
                Ty::Tuple(tys)
            }
            ExprKind::TupleField(obj, n) => {
                let t = self.expr(obj)?;
                match self.s.shallow(&t) {
                    Ty::Tuple(items) if (*n as usize) < items.len() => items[*n as usize].clone(),
                    _ => {
                        return Err(unsupported(
                            span,
                            "`.N` on a value whose tuple type is unknown",
                        ))
                    }
                }
            }
            ExprKind::Array(items) => {
                let elem = self.s.fresh();
                for i in items {
                    let t = self.expr(i)?;
                    self.s.unify(&elem, &t).map_err(|_| {
                        Diagnostic::new(
                            DiagnosticKind::Type,
                            format!(
                                "compile needs arrays of one type: this element is {}, the first is {}",
                                describe(&self.s.resolve(&t)),
                                describe(&self.s.resolve(&elem))
                            ),
                            i.span,
                        )
                    })?;
                }
                Ty::Vec(Box::new(elem))
            }
            ExprKind::Index(obj, idx) => {
                let to = self.expr(obj)?;
                let ti = self.expr(idx)?;
                self.unify(&ti, &Ty::Int, idx.span)?;
                let elem = self.s.fresh();
                self.unify(&to, &Ty::Vec(Box::new(elem.clone())), obj.span)?;
                if !matches!(idx.kind, ExprKind::Int(n) if n >= 0) {
                    return Err(unsupported(
                        idx.span,
                        "indexing with a computed index (negative indices count from the end)",
                    ));
                }
                elem
            }
            ExprKind::MethodCall { .. } => return Err(unsupported(span, "method calls")),
            other => return Err(unsupported(span, construct_name(other))),
        })
    }

    fn need_bool(&mut self, t: &Ty, span: Span, what: &str) -> IResult<()> {
        self.s.unify(t, &Ty::Bool).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!(
                    "compile needs a boolean for {what}, found {} (Ruchy's truthiness has no Rust equivalent)",
                    describe(&self.s.resolve(t))
                ),
                span,
            )
        })
    }

    fn call(&mut self, callee: &Expr, args: &[Expr], span: Span) -> IResult<Ty> {
        if let ExprKind::Var(v) = &callee.kind {
            if let UseRes::Global(slot) = self.res.use_of(v) {
                if !self.gl.contains_key(&slot) {
                    return self.builtin_call(&v.name, args, span);
                }
            }
        }
        let ft = self.expr(callee)?;
        let Ty::Fn(params, ret) = self.s.resolve(&ft) else {
            return Err(unsupported(
                callee.span,
                "calling a value that is not a known function",
            ));
        };
        if params.len() != args.len() {
            return Err(Diagnostic::new(
                DiagnosticKind::Runtime,
                format!(
                    "Function expects {} arguments, got {}",
                    params.len(),
                    args.len()
                ),
                span,
            ));
        }
        for (a, p) in args.iter().zip(&params) {
            let t = self.expr(a)?;
            self.unify(p, &t, a.span)?;
        }
        Ok(*ret)
    }

    fn builtin_call(&mut self, name: &str, args: &[Expr], span: Span) -> IResult<Ty> {
        match name {
            "println" | "print" => {
                for a in args {
                    let t = self.expr(a)?;
                    if matches!(self.s.shallow(&t), Ty::Fn(..)) {
                        return Err(unsupported(a.span, "printing a function"));
                    }
                }
                Ok(Ty::Unit)
            }
            _ => Err(unsupported(
                span,
                &format!("the built-in function `{name}`"),
            )),
        }
    }
}

fn construct_name(k: &ExprKind) -> &'static str {
    match k {
        ExprKind::Path(_) => "paths (`A::b`)",
        ExprKind::Pipe(..) => "the pipeline operator",
        ExprKind::Ternary(..) => "the ternary operator",
        ExprKind::Match { .. } => "`match`",
        ExprKind::Field { .. } => "field access",
        ExprKind::ArrayRepeat(..) => "`[x; n]` arrays",
        ExprKind::Object(_) => "object literals",
        ExprKind::Range { .. } => "ranges as values",
        ExprKind::Struct(_) => "structs",
        ExprKind::Enum(_) => "enums",
        ExprKind::Impl(_) => "`impl` blocks",
        ExprKind::StructLit { .. } => "struct literals",
        ExprKind::Try(_) => "`try`/`catch`",
        ExprKind::Throw(_) => "`throw`",
        ExprKind::Question(_) => "the `?` operator",
        ExprKind::Cast(..) => "`as` casts",
        ExprKind::Comprehension(_) => "comprehensions",
        _ => "this construct",
    }
}
