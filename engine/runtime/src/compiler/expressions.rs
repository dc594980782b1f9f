//! Expressions.

use super::*;

impl Compiler<'_> {
    pub(super) fn expr_to(&mut self, e: &Expr, r: Reg) -> CResult<()> {
        self.expr(e, Dst::To(r))
    }

    /// A register holding the value of `e`: a plain local's own register, or a temporary.
    pub(super) fn operand(&mut self, e: &Expr) -> CResult<Reg> {
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

    pub(super) fn load_int(&mut self, n: i64, r: Reg, span: Span) {
        if let Ok(v) = i32::try_from(n) {
            self.emit(Op::LoadInt { dst: r, value: v }, span);
        } else {
            let idx = self.konst(Value::Int(n));
            self.emit(Op::LoadConst { dst: r, idx }, span);
        }
    }

    pub(super) fn expr(&mut self, e: &Expr, dst: Dst) -> CResult<()> {
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

    pub(super) fn count(&self, n: usize, span: Span) -> CResult<u16> {
        u16::try_from(n).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many elements in one literal (at most 65535)",
                span,
            )
        })
    }

    /// Compiles `items` into consecutive fresh registers, then calls `finish(base)`.
    pub(super) fn window(
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

    pub(super) fn var(&mut self, v: &VarRef, dst: Dst, span: Span, callee: bool) -> CResult<()> {
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

    pub(super) fn path_desc(&self, path: &[Name]) -> Vec<Rc<str>> {
        let mut p: Vec<Rc<str>> = path.to_vec();
        if let Some(first) = p.first_mut() {
            *first = self.self_type(first);
        }
        p
    }

    pub(super) fn fstring(&mut self, parts: &[FStrPart], dst: Dst, span: Span) -> CResult<()> {
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

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
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
    pub(super) fn cond_false(&mut self, cond: &Expr) -> CResult<Vec<usize>> {
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
}
