//! Names and expressions.

use super::*;

impl<'a> Infer<'a> {
    /// The binding a captured variable refers to, following the chain of captures.
    pub(super) fn upval_binding(&self, idx: u16) -> Option<BindId> {
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

    pub(super) fn global_slot(&self, v: &VarRef, slot: u32) -> u32 {
        if slot == u32::MAX {
            self.globals.get(&v.name).unwrap_or(u32::MAX)
        } else {
            slot
        }
    }

    pub(super) fn var(&mut self, v: &VarRef, span: Span) -> IResult<Ty> {
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
                let slot = self.global_slot(v, slot);
                if let Some(t) = self.gl.get(&slot).cloned() {
                    if !self.stack.is_empty() && !self.global_fns.contains(&slot) {
                        self.shared_globals.insert(slot);
                    }
                    return Ok(t);
                }
                match &*v.name {
                    "None" => Ok(Ty::Option(Rc::new(self.s.fresh()))),
                    name if ruchy_runtime::builtins::is_float_constant(name) => Ok(Ty::Float),
                    _ if self.structs.contains_key(&v.name) => {
                        // a tuple struct's constructor used as a value, or a unit struct
                        Err(unsupported(
                            span,
                            &format!("the type `{}` used as a value", v.name),
                        ))
                    }
                    _ => {
                        // made later (or never, and then reading it is an error when it runs)
                        let t = self.s.fresh();
                        self.gl.insert(slot, t.clone());
                        self.forward.insert(slot);
                        self.shared_globals.insert(slot);
                        Ok(t)
                    }
                }
            }
        }
    }

    /// The root binding of a place (`x`, `x.f`, `x[i]`), marked as needing `let mut`.
    pub(super) fn mark_mutable(&mut self, e: &Expr) {
        let mut t = e;
        loop {
            match &t.kind {
                ExprKind::Var(v) => {
                    match self.res.use_of(v) {
                        UseRes::Local(b) => {
                            self.mutable.insert(self.res.canonical(b));
                        }
                        UseRes::Upval(i) => {
                            if let Some(b) = self.upval_binding(i) {
                                self.mutable.insert(self.res.canonical(b));
                            }
                        }
                        UseRes::Global(slot) => {
                            let slot = self.global_slot(v, slot);
                            self.globals_assigned.insert(slot);
                            if !self.stack.is_empty() {
                                self.shared_globals.insert(slot);
                            }
                        }
                        UseRes::SelfFn => {}
                    }
                    return;
                }
                ExprKind::Index(o, _) | ExprKind::TupleField(o, _) => t = o,
                ExprKind::Field { object, .. } => t = object,
                _ => return,
            }
        }
    }

    pub(super) fn record(&mut self, e: &Expr, t: Ty) -> Ty {
        self.exprs.insert(e as *const Expr, (t.clone(), e.span));
        t
    }

    pub(super) fn expr(&mut self, e: &Expr) -> IResult<Ty> {
        if !ruchy_syntax::stack::ok() {
            return Err(ruchy_syntax::stack::too_deep(e.span));
        }
        ruchy_runtime::budget::burn(1).map_err(|x| crate::over_time(x, e.span))?;
        let t = self.expr_inner(e)?;
        if self.s.too_large(&t) {
            return Err(too_large(e.span));
        }
        Ok(self.record(e, t))
    }

    pub(super) fn numeric_result(&mut self, a: &Ty, b: &Ty, span: Span, op: &str) -> IResult<Ty> {
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

    pub(super) fn need_bool(&mut self, t: &Ty, span: Span, what: &str) -> IResult<()> {
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

    pub(super) fn expr_inner(&mut self, e: &Expr) -> IResult<Ty> {
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
                        let t = self.expr(expr)?;
                        self.printable(&t, expr.span)?;
                    }
                }
                Ty::Str
            }
            ExprKind::Var(v) => self.var(v, span)?,
            ExprKind::Path(path) => self.path(path, span)?,
            ExprKind::Let(l) => {
                if l.body.is_some() {
                    return Err(unsupported(span, "`let ... in`"));
                }
                let t = self.expr(&l.value)?;
                if let Some(ann) = l.ty.as_ref() {
                    let a = self.ann(Some(ann), l.value.span)?;
                    self.unify(&a, &t, l.value.span)?;
                }
                if let Some(eb) = &l.else_block {
                    if !matches!(l.pat.kind, PatKind::Variant { .. }) {
                        return Err(unsupported(span, "`let ... else` with this pattern"));
                    }
                    self.expr(eb)?;
                } else if !irrefutable(&l.pat) && !matches!(l.pat.kind, PatKind::List { .. }) {
                    return Err(unsupported(
                        l.pat.span,
                        "a `let` whose pattern may not match (use `let ... else`)",
                    ));
                }
                self.bind_pattern(&l.pat, &t)?;
                t
            }
            ExprKind::Assign { target, op, value } => {
                self.mark_mutable(target);
                let tt = self.expr(target)?;
                let vt = self.expr(value)?;
                match op {
                    None => self.unify(&tt, &vt, value.span)?,
                    Some(BinOp::Add) if matches!(self.s.shallow(&tt), Ty::Str) => {
                        self.printable(&vt, value.span)?;
                    }
                    Some(BinOp::Pow) => {
                        let r = self.numeric_result(&tt, &vt, span, "**")?;
                        self.unify(&tt, &r, span)?;
                        if matches!(self.s.shallow(&r), Ty::Int)
                            && !matches!(value.kind, ExprKind::Int(n) if n >= 0)
                        {
                            return Err(unsupported(value.span, "an integer `**=` whose exponent is not a literal (a negative one gives a float)"));
                        }
                    }
                    Some(op)
                        if matches!(
                            op,
                            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem
                        ) =>
                    {
                        let r = self.numeric_result(&tt, &vt, span, op.symbol())?;
                        self.unify(&tt, &r, span)?;
                    }
                    Some(_) => {
                        self.unify(&tt, &Ty::Int, span)?;
                        self.unify(&vt, &Ty::Int, span)?;
                    }
                }
                tt
            }
            ExprKind::Unary(op, a) => {
                let t = self.expr(a)?;
                match op {
                    UnOp::Not => {
                        self.need_bool(&t, a.span, "`!`")?;
                        Ty::Bool
                    }
                    UnOp::Neg => self.numeric_result(&t, &t.clone(), span, "-")?,
                    UnOp::BitNot => {
                        self.unify(&t, &Ty::Int, a.span)?;
                        Ty::Int
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span)?,
            ExprKind::Logic(op, a, b) => {
                if *op == LogicOp::Coalesce {
                    let ta = self.expr(a)?;
                    let tb = self.expr(b)?;
                    self.unify(&ta, &Ty::Option(Rc::new(tb.clone())), a.span)?;
                    tb
                } else {
                    let ta = self.expr(a)?;
                    let tb = self.expr(b)?;
                    self.need_bool(&ta, a.span, "`&&` and `||`")?;
                    self.need_bool(&tb, b.span, "`&&` and `||`")?;
                    Ty::Bool
                }
            }
            ExprKind::Pipe(a, f) => {
                // `x |> f` is `f(x)`
                let ta = self.expr(a)?;
                let tf = self.expr(f)?;
                let r = self.s.fresh();
                self.unify(&tf, &Ty::Fn(vec![ta].into(), Rc::new(r.clone())), f.span)?;
                r
            }
            ExprKind::If { cond, then, else_ } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a condition")?;
                let tt = self.expr(then)?;
                match else_ {
                    Some(els) => {
                        let te = self.expr(els)?;
                        if self.s.unify(&tt, &te).is_err() {
                            Ty::Unit
                        } else {
                            tt
                        }
                    }
                    None => Ty::Unit,
                }
            }
            ExprKind::Ternary(c, a, b) => {
                let tc = self.expr(c)?;
                self.need_bool(&tc, c.span, "a condition")?;
                let ta = self.expr(a)?;
                let tb = self.expr(b)?;
                self.unify(&ta, &tb, span)?;
                ta
            }
            ExprKind::Match { scrutinee, arms } => {
                let ts = self.expr(scrutinee)?;
                let result = self.s.fresh();
                let mut unit = false;
                for arm in arms {
                    self.bind_pattern(&arm.pat, &ts)?;
                    for (name, span) in std::mem::take(&mut self.partial_names) {
                        let mut used = false;
                        let mut uses = |x: &Expr| {
                            used |= matches!(&x.kind, ExprKind::Var(v) if v.name == name);
                        };
                        ruchy_syntax::ast::visit(&arm.body, &mut uses);
                        if let Some(g) = &arm.guard {
                            ruchy_syntax::ast::visit(g, &mut uses);
                        }
                        if used {
                            return Err(partial_or(&name, span));
                        }
                    }
                    if let Some(g) = &arm.guard {
                        let tg = self.expr(g)?;
                        self.need_bool(&tg, g.span, "a guard")?;
                    }
                    let tb = self.expr(&arm.body)?;
                    if self.s.unify(&result, &tb).is_err() {
                        unit = true;
                    }
                }
                if matches!(self.resolve(&ts), Ty::Float) {
                    return Err(unsupported(scrutinee.span, "`match` on a float"));
                }
                if unit {
                    Ty::Unit
                } else {
                    result
                }
            }
            ExprKind::Block(b) => {
                let mut last = Ty::Unit;
                for x in &b.exprs {
                    last = self.expr(x)?;
                }
                last
            }
            ExprKind::While { cond, body, label } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a `while` condition")?;
                self.loops.push((label.clone(), None));
                let r = self.expr(body);
                self.loops.pop();
                r?;
                Ty::Unit
            }
            ExprKind::Loop { body, label } => {
                // its value is what `break` gives it
                let value = self.s.fresh();
                self.loops.push((label.clone(), Some(value.clone())));
                let r = self.expr(body);
                self.loops.pop();
                r?;
                match self.s.shallow(&value) {
                    Ty::Var(_) | Ty::Unit => {
                        self.unify(&value, &Ty::Unit, span)?;
                        Ty::Unit
                    }
                    _ => value,
                }
            }
            ExprKind::For(f) => {
                let item = match &f.iter.kind {
                    ExprKind::Range {
                        start: Some(lo),
                        end: Some(hi),
                        ..
                    } => {
                        let tl = self.expr(lo)?;
                        let th = self.expr(hi)?;
                        self.unify(&tl, &Ty::Int, lo.span)?;
                        self.unify(&th, &Ty::Int, hi.span)?;
                        self.record(&f.iter, Ty::Range);
                        Ty::Int
                    }
                    _ => {
                        let ti = self.expr(&f.iter)?;
                        match self.known(&ti) {
                            Ty::Range | Ty::RangeInclusive => Ty::Int,
                            Ty::Vec(t) => Rc::unwrap_or_clone(t),
                            Ty::Str => Ty::Str,
                            Ty::Map(v) => Ty::Tuple(vec![Ty::Str, Rc::unwrap_or_clone(v)].into()),
                            Ty::Dict(k, v) => Ty::Tuple(
                                vec![Rc::unwrap_or_clone(k), Rc::unwrap_or_clone(v)].into(),
                            ),
                            Ty::Set(t) | Ty::Deque(t) => Rc::unwrap_or_clone(t),
                            Ty::Var(_) => {
                                return Err(unsupported(
                                    f.iter.span,
                                    "`for` over a value whose type is not known yet",
                                ))
                            }
                            other => {
                                return Err(unsupported(
                                    f.iter.span,
                                    &format!("`for` over {}", describe(&other)),
                                ))
                            }
                        }
                    }
                };
                self.bind_pattern(&f.pat, &item)?;
                self.loops.push((f.label.clone(), None));
                let r = self.expr(&f.body);
                self.loops.pop();
                r?;
                Ty::Unit
            }
            ExprKind::Comprehension(c) => {
                let ti = self.expr(&c.iter)?;
                let item = match self.resolve(&ti) {
                    Ty::Range | Ty::RangeInclusive => Ty::Int,
                    Ty::Vec(t) => Rc::unwrap_or_clone(t),
                    _ => return Err(unsupported(c.iter.span, "a comprehension over this value")),
                };
                self.bind_pattern(&c.pat, &item)?;
                if let Some(cond) = &c.cond {
                    let tc = self.expr(cond)?;
                    self.need_bool(&tc, cond.span, "a comprehension condition")?;
                }
                let te = self.expr(&c.expr)?;
                Ty::Vec(Rc::new(te))
            }
            ExprKind::Break { value, label } => {
                let target = match label {
                    Some(l) => self.loops.iter().rev().find(|(n, _)| n.as_ref() == Some(l)),
                    None => self.loops.last(),
                };
                let target = target.map(|(_, v)| v.clone());
                match (target, value) {
                    (Some(Some(lv)), Some(v)) => {
                        let tv = self.expr(v)?;
                        self.unify(&lv, &tv, v.span)?;
                    }
                    (Some(Some(lv)), None) => self.unify(&lv, &Ty::Unit, span)?,
                    (_, Some(_)) => {
                        return Err(unsupported(
                            span,
                            "`break` with a value out of a `while` or `for`",
                        ))
                    }
                    (_, None) => {}
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
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                optional,
            } => {
                if *optional {
                    return Err(unsupported(span, "`?.`"));
                }
                self.method(receiver, method, args, span)?
            }
            ExprKind::Field {
                object,
                field,
                optional,
            } => {
                if *optional {
                    return Err(unsupported(span, "`?.`"));
                }
                let to = self.expr(object)?;
                self.field(&to, field, span)?
            }
            ExprKind::TupleField(obj, n) => {
                let t = self.expr(obj)?;
                match self.known(&t) {
                    Ty::Tuple(items) if (*n as usize) < items.len() => items[*n as usize].clone(),
                    Ty::Named(s) => match self.structs.get(&s) {
                        Some(info) if info.tuple && (*n as usize) < info.fields.len() => {
                            info.fields[*n as usize].1.clone()
                        }
                        _ => return Err(unsupported(span, "this `.N`")),
                    },
                    _ => {
                        return Err(unsupported(
                            span,
                            "`.N` on a value whose tuple type is not known yet",
                        ))
                    }
                }
            }
            ExprKind::Index(obj, idx) => {
                let to = self.expr(obj)?;
                let ti = match &idx.kind {
                    // a slice `a[lo..hi]`, `a[lo..]`, `a[..hi]` (D21)
                    ExprKind::Range {
                        start,
                        end,
                        inclusive,
                    } => {
                        for b in [start, end].into_iter().flatten() {
                            let tb = self.expr(b)?;
                            self.unify(&tb, &Ty::Int, b.span)?;
                        }
                        let t = if *inclusive {
                            Ty::RangeInclusive
                        } else {
                            Ty::Range
                        };
                        self.record(idx, t)
                    }
                    _ => self.expr(idx)?,
                };
                let ranged = matches!(self.resolve(&ti), Ty::Range | Ty::RangeInclusive)
                    || matches!(idx.kind, ExprKind::Range { .. });
                match self.resolve(&to) {
                    Ty::Str => {
                        if !ranged {
                            self.unify(&ti, &Ty::Int, idx.span)?;
                        }
                        Ty::Str
                    }
                    Ty::Map(v) => {
                        self.unify(&ti, &Ty::Str, idx.span)?;
                        Rc::unwrap_or_clone(v)
                    }
                    Ty::Dict(k, v) => {
                        self.unify(&ti, &k, idx.span)?;
                        Rc::unwrap_or_clone(v)
                    }
                    Ty::Deque(t) => {
                        self.unify(&ti, &Ty::Int, idx.span)?;
                        Rc::unwrap_or_clone(t)
                    }
                    Ty::Record(r) => match &idx.kind {
                        ExprKind::Str(k) => self.record_field(r, k, span)?,
                        _ => {
                            return Err(unsupported(
                                idx.span,
                                "indexing an object of mixed value types with a computed key",
                            ))
                        }
                    },
                    Ty::Tuple(items) => match idx.kind {
                        ExprKind::Int(n) if n >= 0 && (n as usize) < items.len() => {
                            items[n as usize].clone()
                        }
                        _ => {
                            return Err(unsupported(
                                idx.span,
                                "indexing a tuple with a computed index",
                            ))
                        }
                    },
                    _ => {
                        let elem = self.s.fresh();
                        self.unify(&to, &Ty::Vec(Rc::new(elem.clone())), obj.span)?;
                        if ranged {
                            Ty::Vec(Rc::new(elem))
                        } else {
                            self.unify(&ti, &Ty::Int, idx.span)?;
                            elem
                        }
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
                Ty::Vec(Rc::new(elem))
            }
            ExprKind::ArrayRepeat(v, n) => {
                let tv = self.expr(v)?;
                let tn = self.expr(n)?;
                self.unify(&tn, &Ty::Int, n.span)?;
                Ty::Vec(Rc::new(tv))
            }
            ExprKind::Tuple(items) => {
                let mut tys = Vec::new();
                for i in items {
                    tys.push(self.expr(i)?);
                }
                Ty::Tuple(tys.into())
            }
            ExprKind::Object(entries) => self.object(entries, span)?,
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let (Some(lo), Some(hi)) = (start, end) else {
                    return Err(unsupported(span, "an open range as a value"));
                };
                let tl = self.expr(lo)?;
                let th = self.expr(hi)?;
                self.unify(&tl, &Ty::Int, lo.span)?;
                self.unify(&th, &Ty::Int, hi.span)?;
                if *inclusive {
                    Ty::RangeInclusive
                } else {
                    Ty::Range
                }
            }
            ExprKind::Fn(def) => self.fn_expr(def, span)?,
            ExprKind::Struct(_) | ExprKind::Enum(_) => Ty::Unit,
            // a trait's defaults are inferred as the copies in each impl
            ExprKind::Impl(imp) if imp.type_name.starts_with("trait ") => Ty::Unit,
            ExprKind::Impl(imp) => {
                self.impl_type = Some(imp.type_name.clone());
                let mut r = Ok(());
                for m in &imp.methods {
                    let ty = self.fn_types.get(&m.id).cloned().unwrap_or(Ty::Unit);
                    r = self.function(m, &ty);
                    if r.is_err() {
                        break;
                    }
                }
                self.impl_type = None;
                r?;
                Ty::Unit
            }
            ExprKind::StructLit { name, fields, base } => {
                self.struct_lit(name, fields, base.as_deref(), span)?
            }
            ExprKind::Try(t) => self.try_expr(t, span)?,
            ExprKind::Throw(v) => {
                let tv = self.expr(v)?;
                self.printable(&tv, v.span)?;
                let thrown = self.thrown.clone();
                self.unify(&thrown, &tv, v.span)?;
                self.s.fresh()
            }
            ExprKind::Question(v) => {
                let tv = self.expr(v)?;
                let Some(ret) = self.stack.last().map(|c| c.ret.clone()) else {
                    return Err(unsupported(span, "`?` outside a function"));
                };
                match (self.resolve(&tv), self.resolve(&ret)) {
                    (Ty::Option(inner), Ty::Option(_)) => Rc::unwrap_or_clone(inner),
                    (Ty::Result(inner, err), Ty::Result(_, rerr)) => {
                        self.unify(&err, &rerr, span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    (Ty::Option(inner), Ty::Var(_)) => {
                        let fresh = self.s.fresh();
                        self.unify(&ret, &Ty::Option(Rc::new(fresh)), span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    (Ty::Result(inner, err), Ty::Var(_)) => {
                        let ok = self.s.fresh();
                        self.unify(&ret, &Ty::Result(Rc::new(ok), err), span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    _ => return Err(unsupported(span, "`?` where the value or the function is not an Option or Result of the same kind")),
                }
            }
            ExprKind::Cast(v, ty) => {
                let tv = self.expr(v)?;
                let target = self.ann(Some(ty), span)?;
                match (self.resolve(&tv), self.resolve(&target)) {
                    (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => target,
                    (Ty::Bool, Ty::Int) => Ty::Int,
                    (Ty::Named(n), Ty::Int) if self.enums.contains_key(&n) => Ty::Int,
                    _ => return Err(unsupported(span, "this `as` cast")),
                }
            }
        })
    }

    pub(super) fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> IResult<Ty> {
        let ta = self.expr(a)?;
        let tb = self.expr(b)?;
        Ok(match op {
            BinOp::Add
                if matches!(self.s.shallow(&ta), Ty::Str)
                    || matches!(self.s.shallow(&tb), Ty::Str) =>
            {
                for (t, x) in [(&ta, a), (&tb, b)] {
                    match self.s.shallow(t) {
                        Ty::Str | Ty::Int | Ty::Float | Ty::Bool => {}
                        // most likely a string (a parameter joined to one); the program is
                        // refused later if it turns out otherwise
                        Ty::Var(_) => self.unify(t, &Ty::Str, x.span)?,
                        other => {
                            return Err(Diagnostic::new(
                                DiagnosticKind::Type,
                                format!("compile: cannot add {} to a string", describe(&other)),
                                x.span,
                            ))
                        }
                    }
                }
                Ty::Str
            }
            BinOp::Add if matches!(self.s.shallow(&ta), Ty::Vec(_)) => {
                self.unify(&ta, &tb, span)?;
                ta
            }
            BinOp::Mul if matches!(self.s.shallow(&ta), Ty::Str) => {
                self.unify(&tb, &Ty::Int, b.span)?;
                Ty::Str
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                self.numeric_result(&ta, &tb, span, op.symbol())?
            }
            BinOp::Pow => {
                let r = self.numeric_result(&ta, &tb, span, "**")?;
                if matches!(self.s.shallow(&r), Ty::Int)
                    && !matches!(b.kind, ExprKind::Int(n) if n >= 0)
                {
                    return Err(unsupported(b.span, "an integer `**` whose exponent is not a literal (a negative one gives a float)"));
                }
                r
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                let (ra, rb) = (self.s.shallow(&ta), self.s.shallow(&tb));
                if !matches!((&ra, &rb), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
                    self.unify(&ta, &tb, span)?;
                }
                if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
                    match self.resolve(&ta) {
                        Ty::Int | Ty::Float | Ty::Str | Ty::Var(_) => {}
                        other => {
                            return Err(Diagnostic::new(
                                DiagnosticKind::Type,
                                format!("compile: cannot order {}", describe(&other)),
                                span,
                            ))
                        }
                    }
                }
                Ty::Bool
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
                self.unify(&ta, &Ty::Int, a.span)?;
                self.unify(&tb, &Ty::Int, b.span)?;
                Ty::Int
            }
        })
    }

    /// Values that can be printed: everything but functions.
    pub(super) fn printable(&mut self, t: &Ty, span: Span) -> IResult<()> {
        if matches!(self.resolve(t), Ty::Fn(..)) {
            return Err(unsupported(span, "printing a function"));
        }
        Ok(())
    }

    pub(super) fn record_field(&mut self, r: u32, k: &str, span: Span) -> IResult<Ty> {
        self.records
            .get(r as usize)
            .and_then(|fs| fs.iter().find(|(n, _)| &**n == k))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("Object has no field named {k}"),
                    span,
                )
            })
    }

    pub(super) fn field(&mut self, to: &Ty, field: &Rc<str>, span: Span) -> IResult<Ty> {
        match self.known(to) {
            Ty::Named(n) => {
                if let Some(info) = self.structs.get(&n) {
                    if let Some((_, t)) = info.fields.iter().find(|(f, _)| f == field) {
                        return Ok(t.clone());
                    }
                }
                Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{n} has no field named {field}"),
                    span,
                ))
            }
            Ty::Record(r) => self.record_field(r, field, span),
            Ty::Map(v) => Ok(Rc::unwrap_or_clone(v)),
            Ty::Var(_) => Err(unsupported(
                span,
                "a field of a value whose type is not known yet (annotate the parameter)",
            )),
            other => Err(unsupported(
                span,
                &format!("a field of {}", describe(&other)),
            )),
        }
    }

    pub(super) fn object(&mut self, entries: &[(Name, Expr)], span: Span) -> IResult<Ty> {
        let mut tys = Vec::new();
        for (k, v) in entries {
            tys.push((k.clone(), self.expr(v)?));
        }
        // one value type: a map; several: a record struct
        let first = self.s.fresh();
        let homogeneous = {
            let snapshot: Vec<Ty> = tys.iter().map(|(_, t)| self.resolve(t)).collect();
            snapshot
                .windows(2)
                .all(|w| w[0] == w[1] || matches!(w[0], Ty::Var(_)) || matches!(w[1], Ty::Var(_)))
        };
        if homogeneous {
            for (_, t) in &tys {
                self.unify(&first, t, span)?;
            }
            return Ok(Ty::Map(Rc::new(first)));
        }
        let mut fields = tys;
        // (equal keys end side by side, refused below)
        ruchy_runtime::sort::sort_by(&mut fields, |a, b| a.0 < b.0);
        if fields.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(unsupported(span, "an object with a key twice"));
        }
        // the same shape is the same record
        for (i, r) in self.records.clone().iter().enumerate() {
            if r.len() == fields.len() && r.iter().zip(&fields).all(|(a, b)| a.0 == b.0) {
                let mut same = true;
                for (a, b) in r.iter().zip(&fields) {
                    if self.s.unify(&a.1, &b.1).is_err() {
                        same = false;
                    }
                }
                if same {
                    return Ok(Ty::Record(i as u32));
                }
            }
        }
        self.records.push(fields);
        Ok(Ty::Record(self.records.len() as u32 - 1))
    }

    pub(super) fn struct_lit(
        &mut self,
        name: &Name,
        fields: &[(Name, Expr)],
        base: Option<&Expr>,
        span: Span,
    ) -> IResult<Ty> {
        let name = self.self_path(name);
        if let Some((en, vn)) = name.split_once("::") {
            let en: Rc<str> = self.self_path(&Rc::from(en));
            let Some(info) = self.enums.get(&en).cloned() else {
                return Err(unsupported(span, "this variant"));
            };
            let Some((_, VariantKind::Struct(fs), _)) =
                info.variants.iter().find(|(n, _, _)| &**n == vn)
            else {
                return Err(unsupported(span, "this variant"));
            };
            for (f, v) in fields {
                let tv = self.expr(v)?;
                let Some((_, ft)) = fs.iter().find(|(n, _)| n == f) else {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("{name} has no field named {f}"),
                        v.span,
                    ));
                };
                self.unify(ft, &tv, v.span)?;
            }
            if fields.len() != fs.len() || base.is_some() {
                return Err(unsupported(span, "this variant literal"));
            }
            return Ok(Ty::Named(en));
        }
        let Some(info) = self.structs.get(&name).cloned() else {
            return Err(Diagnostic::new(
                DiagnosticKind::Runtime,
                format!("Undefined struct: {name}"),
                span,
            ));
        };
        for (f, v) in fields {
            let tv = self.expr(v)?;
            let Some((_, ft)) = info.fields.iter().find(|(n, _)| n == f) else {
                return Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{name} has no field named {f}"),
                    v.span,
                ));
            };
            self.unify(ft, &tv, v.span)?;
        }
        match base {
            Some(b) => {
                let tb = self.expr(b)?;
                self.unify(&tb, &Ty::Named(name.clone()), b.span)?;
            }
            None => {
                let defaulted = |i: usize| {
                    info.def
                        .as_ref()
                        .is_some_and(|d| d.defaults.get(i).is_some_and(Option::is_some))
                };
                if let Some((_, (missing, _))) = info
                    .fields
                    .iter()
                    .enumerate()
                    .find(|(i, (n, _))| !fields.iter().any(|(f, _)| f == n) && !defaulted(*i))
                {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("Missing field {missing} in {name} literal"),
                        span,
                    ));
                }
            }
        }
        Ok(Ty::Named(name))
    }

    /// The parameters and result of a collection's constructor (`HashMap::new`,
    /// `HashSet::from`, `VecDeque::with_capacity`); `None` for any other name.
    pub(super) fn collection_ctor(&mut self, name: &str) -> Option<(Vec<Ty>, Ty)> {
        let (owner, f) = name.split_once("::")?;
        let kind = ruchy_runtime::collection::Kind::named(owner)?;
        let (k, v) = (Rc::new(self.s.fresh()), Rc::new(self.s.fresh()));
        use ruchy_runtime::collection::Kind as K;
        let (ty, item) = match kind {
            K::HashMap | K::BTreeMap => (
                Ty::Dict(k.clone(), v.clone()),
                Ty::Tuple(vec![(*k).clone(), (*v).clone()].into()),
            ),
            K::HashSet | K::BTreeSet => (Ty::Set(k.clone()), (*k).clone()),
            K::VecDeque => (Ty::Deque(k.clone()), (*k).clone()),
        };
        Some(match f {
            "new" => (vec![], ty),
            "with_capacity" => (vec![Ty::Int], ty),
            _ => (vec![Ty::Vec(Rc::new(item))], ty),
        })
    }

    pub(super) fn path(&mut self, path: &[Name], span: Span) -> IResult<Ty> {
        let (Some(last), true) = (path.last(), path.len() >= 2) else {
            return Err(unsupported(span, "this path"));
        };
        // `String::from` and the other standard constructors as values (`.map(String::from)`)
        if let Some(name) = std_constructor(path, &self.structs, &self.enums) {
            let a = self.s.fresh();
            let (params, ret): (Vec<Ty>, Ty) = match name {
                "Vec::new" => (vec![], Ty::Vec(Rc::new(a))),
                "Vec::with_capacity" => (vec![Ty::Int], Ty::Vec(Rc::new(a))),
                "String::new" => (vec![], Ty::Str),
                "String::from" => (vec![Ty::Str], Ty::Str),
                _ => match self.collection_ctor(name) {
                    Some(sig) => sig,
                    None => (vec![a.clone()], a),
                },
            };
            return Ok(Ty::Fn(params.into(), Rc::new(ret)));
        }
        let owner = self.self_path(&path[path.len() - 2]);
        if let Some(info) = self.enums.get(&owner).cloned() {
            if let Some((_, kind, _)) = info.variants.iter().find(|(n, _, _)| n == last) {
                return Ok(match kind {
                    VariantKind::Unit => Ty::Named(owner),
                    VariantKind::Tuple(ts) => Ty::Fn(ts.clone().into(), Rc::new(Ty::Named(owner))),
                    VariantKind::Struct(_) => {
                        return Err(unsupported(
                            span,
                            "a struct-like variant without its fields",
                        ))
                    }
                });
            }
        }
        if let Some(m) = self.methods.get(&(owner.clone(), last.clone())).cloned() {
            if m.self_kind != SelfKind::None {
                return Err(unsupported(span, "a method used as a function"));
            }
            return Ok(m.ty);
        }
        match (&*owner, &**last) {
            ("i64" | "i32" | "Int", "MAX" | "MIN") => Ok(Ty::Int),
            (
                "f64" | "f32" | "Float",
                "MAX" | "MIN" | "INFINITY" | "NEG_INFINITY" | "NAN" | "EPSILON",
            ) => Ok(Ty::Float),
            (_, "PI" | "E" | "TAU") => Ok(Ty::Float),
            _ => Err(Diagnostic::new(
                DiagnosticKind::Runtime,
                format!("{owner} has no variant or associated function named {last}"),
                span,
            )),
        }
    }

    pub(super) fn fn_expr(&mut self, def: &FnDef, span: Span) -> IResult<Ty> {
        if let Some(ty) = self.fn_types.get(&def.id).cloned() {
            // a top-level function (signature made up front; body at its first call)
            if self.stack.is_empty() && def.name.is_some() {
                return Ok(ty);
            }
        }
        // a lambda or a nested function: a closure
        let ty = self.fn_signature(def)?;
        self.fn_types.insert(def.id, ty.clone());
        if let Some(b) = &def.name {
            self.bind_name(b, &ty, span)?;
            // a nested function calling itself is a closure that needs itself: not in Rust
            if self
                .res
                .fns
                .get(def.id as usize)
                .is_some_and(|f| !f.captures.is_empty())
                && calls_self(&def.body, &b.name)
            {
                return Err(unsupported(
                    span,
                    "a nested function that captures variables and calls itself",
                ));
            }
        }
        let saved = self.impl_type.take();
        let r = self.function(def, &ty);
        self.impl_type = saved;
        r?;
        Ok(ty)
    }

    pub(super) fn try_expr(&mut self, t: &TryExpr, span: Span) -> IResult<Ty> {
        if t.finally.is_some() {
            return Err(unsupported(span, "`finally`"));
        }
        let Some((pat, handler)) = &t.catch else {
            return Err(unsupported(span, "`try` without `catch`"));
        };
        if escapes(&t.body) {
            return Err(unsupported(
                span,
                "`return`, `?`, `break` or `continue` that leaves a `try` body",
            ));
        }
        // a `catch` also catches the engine's errors, which are strings: every thrown value of
        // a program that catches is a string
        let thrown = self.thrown.clone();
        self.s.unify(&thrown, &Ty::Str).map_err(|m| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!("compile needs the values a `catch` catches to be strings, as the engine's errors are: {m}"),
                span,
            )
        })?;
        let tb = self.expr(&t.body)?;
        self.bind_pattern(pat, &thrown)?;
        let th = self.expr(handler)?;
        // values of different types are fine where nothing uses them (see `emit::Tail`)
        if self.s.unify(&tb, &th).is_err() {
            return Ok(Ty::Unit);
        }
        Ok(tb)
    }
}
