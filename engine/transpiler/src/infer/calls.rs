//! Calls: built-ins, methods and user functions.

use super::*;

impl<'a> Infer<'a> {
    pub(super) fn call(&mut self, callee: &Expr, args: &[Expr], span: Span) -> IResult<Ty> {
        if let ExprKind::Var(v) = &callee.kind {
            if let UseRes::Global(slot) = self.res.use_of(v) {
                let slot = self.global_slot(v, slot);
                if !self.gl.contains_key(&slot) {
                    if let Some(info) = self.structs.get(&v.name).cloned() {
                        // a tuple struct's constructor
                        if !info.tuple || info.fields.len() != args.len() {
                            return Err(unsupported(span, "this constructor call"));
                        }
                        for (a, (_, ft)) in args.iter().zip(&info.fields) {
                            let t = self.expr(a)?;
                            self.unify(ft, &t, a.span)?;
                        }
                        self.record(callee, Ty::Unit);
                        return Ok(Ty::Named(v.name.clone()));
                    }
                    let t = self.builtin_call(&v.name, args, span)?;
                    self.record(callee, Ty::Unit);
                    return Ok(t);
                }
            }
        }
        if let ExprKind::Path(path) = &callee.kind {
            if let Some(name) = std_constructor(path, &self.structs, &self.enums) {
                let t = self.builtin_call(name, args, span)?;
                self.record(callee, Ty::Unit);
                return Ok(t);
            }
        }
        let ft = self.expr(callee)?;
        let ret = self.s.fresh();
        let (ats, lambdas) = self.arg_types(args)?;
        let t = self.call_typed(callee, &ft, &ats, ret, args, span)?;
        self.finish_lambdas(lambdas)?;
        Ok(t)
    }

    /// The arguments' types; a lambda argument gets its signature only, and its body is
    /// inferred by [`Self::finish_lambdas`] once the call has given its parameters their
    /// types (`people.map(|p| p.name)`).
    #[allow(clippy::type_complexity)]
    pub(super) fn arg_types<'e>(
        &mut self,
        args: &'e [Expr],
    ) -> IResult<(Vec<Ty>, Vec<(&'e FnDef, Ty)>)> {
        let mut ats = Vec::new();
        let mut lambdas = Vec::new();
        for a in args {
            match &a.kind {
                ExprKind::Fn(def) if def.name.is_none() => {
                    let ty = self.fn_signature(def)?;
                    self.fn_types.insert(def.id, ty.clone());
                    self.record(a, ty.clone());
                    lambdas.push((&**def, ty.clone()));
                    ats.push(ty);
                }
                _ => ats.push(self.expr(a)?),
            }
        }
        Ok((ats, lambdas))
    }

    pub(super) fn finish_lambdas(&mut self, lambdas: Vec<(&FnDef, Ty)>) -> IResult<()> {
        for (def, ty) in lambdas {
            let saved = self.impl_type.take();
            let r = self.function(def, &ty);
            self.impl_type = saved;
            r?;
        }
        Ok(())
    }

    pub(super) fn call_typed(
        &mut self,
        callee: &Expr,
        ft: &Ty,
        ats: &[Ty],
        ret: Ty,
        args: &[Expr],
        span: Span,
    ) -> IResult<Ty> {
        match self.resolve(ft) {
            Ty::Fn(params, r) => {
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
                for ((a, p), at) in args.iter().zip(params.iter()).zip(ats) {
                    self.arg(p, at, a.span)?;
                }
                if let ExprKind::Var(v) = &callee.kind {
                    if let UseRes::Global(slot) = self.res.use_of(v) {
                        let slot = self.global_slot(v, slot);
                        self.infer_pending(slot)?;
                    }
                }
                Ok(Rc::unwrap_or_clone(r))
            }
            Ty::Var(_) => {
                self.unify(ft, &Ty::Fn(ats.into(), Rc::new(ret.clone())), callee.span)?;
                Ok(ret)
            }
            other => Err(unsupported(
                callee.span,
                &format!("calling {}", describe(&other)),
            )),
        }
    }

    /// An argument passed to a parameter of type `p` (an int is not a float in Rust).
    pub(super) fn arg(&mut self, p: &Ty, at: &Ty, span: Span) -> IResult<()> {
        self.unify(p, at, span)
    }

    pub(super) fn builtin_call(&mut self, name: &str, args: &[Expr], span: Span) -> IResult<Ty> {
        if let (Some(method), Some((receiver, rest))) = (method_alias(name), args.split_first()) {
            // D10: `join(xs, ", ")` is `xs.join(", ")`
            return self.method(receiver, &Name::from(method), rest, span);
        }
        let mut ats = Vec::new();
        for a in args {
            ats.push(self.expr(a)?);
        }
        let n = args.len();
        let want = |k: usize| -> IResult<()> {
            if n == k {
                Ok(())
            } else {
                Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{name}() expects {k} arguments, got {n}"),
                    span,
                ))
            }
        };
        if let Some((params, ret)) = self.collection_ctor(name) {
            want(params.len())?;
            for ((p, t), a) in params.iter().zip(&ats).zip(args) {
                self.unify(p, t, a.span)?;
            }
            return Ok(ret);
        }
        Ok(match name {
            "println" | "print" => {
                for (a, t) in args.iter().zip(&ats) {
                    self.printable(t, a.span)?;
                }
                Ty::Unit
            }
            "Vec::new" => {
                want(0)?;
                Ty::Vec(Rc::new(self.s.fresh()))
            }
            "Vec::with_capacity" => {
                want(1)?;
                self.unify(&Ty::Int, &ats[0], args[0].span)?;
                Ty::Vec(Rc::new(self.s.fresh()))
            }
            "String::new" => {
                want(0)?;
                Ty::Str
            }
            "String::from" => {
                want(1)?;
                self.unify(&Ty::Str, &ats[0], args[0].span)?;
                Ty::Str
            }
            "Box::new" => {
                want(1)?;
                ats[0].clone()
            }
            "format" => {
                if !matches!(args.first().map(|a| &a.kind), Some(ExprKind::Str(_))) {
                    return Err(unsupported(
                        span,
                        "`format` with a template that is not a literal",
                    ));
                }
                Ty::Str
            }
            "Some" => {
                want(1)?;
                Ty::Option(Rc::new(ats[0].clone()))
            }
            "Ok" => {
                want(1)?;
                Ty::Result(Rc::new(ats[0].clone()), Rc::new(self.s.fresh()))
            }
            "Err" => {
                want(1)?;
                Ty::Result(Rc::new(self.s.fresh()), Rc::new(ats[0].clone()))
            }
            "len" => {
                want(1)?;
                match self.known(&ats[0]) {
                    Ty::Str
                    | Ty::Vec(_)
                    | Ty::Map(_)
                    | Ty::Tuple(_)
                    | Ty::Dict(..)
                    | Ty::Set(_)
                    | Ty::Deque(_) => Ty::Int,
                    other => {
                        return Err(unsupported(span, &format!("`len` of {}", describe(&other))))
                    }
                }
            }
            "str" | "to_string" => {
                want(1)?;
                self.printable(&ats[0], span)?;
                Ty::Str
            }
            "typeof" | "type_of" => {
                want(1)?;
                Ty::Str
            }
            "int" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float | Ty::Str | Ty::Bool => Ty::Int,
                    _ => return Err(unsupported(span, "this `int()`")),
                }
            }
            "float" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float | Ty::Str | Ty::Bool => Ty::Float,
                    _ => return Err(unsupported(span, "this `float()`")),
                }
            }
            "abs" => {
                want(1)?;
                let t = ats[0].clone();
                self.numeric_result(&t, &t, span, "abs")?
            }
            "sqrt" | "sin" | "cos" | "tan" | "log" | "log10" | "exp" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float => Ty::Float,
                    _ => return Err(unsupported(span, &format!("this `{name}()`"))),
                }
            }
            "random" => {
                want(0)?;
                Ty::Float
            }
            "floor" | "ceil" | "round" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float => Ty::Int,
                    _ => return Err(unsupported(span, &format!("this `{name}()`"))),
                }
            }
            "min" | "max" if n == 2 => {
                // the interpreter gives back the int or the float itself: no one Rust type
                // (only here can the two end as different numbers: otherwise they are unified)
                let (a, b) = (self.s.shallow(&ats[0]), self.s.shallow(&ats[1]));
                if matches!((&a, &b), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
                    return Err(unsupported(
                        span,
                        &format!("`{name}` of an int and a float"),
                    ));
                }
                self.numeric_result(&ats[0], &ats[1], span, name)?
            }
            "pow" => {
                want(2)?;
                let r = self.numeric_result(&ats[0], &ats[1], span, "pow")?;
                if matches!(self.resolve(&r), Ty::Int)
                    && !matches!(args[1].kind, ExprKind::Int(k) if k >= 0)
                {
                    return Err(unsupported(
                        span,
                        "an integer `pow` whose exponent is not a literal",
                    ));
                }
                r
            }
            "range" if n == 1 || n == 2 => {
                for (a, t) in args.iter().zip(&ats) {
                    self.unify(t, &Ty::Int, a.span)?;
                }
                Ty::Vec(Rc::new(Ty::Int))
            }
            "assert" => {
                if n == 0 || n > 2 {
                    want(1)?;
                }
                self.need_bool(&ats[0], args[0].span, "`assert`")?;
                Ty::Unit
            }
            "assert_eq" => {
                if !(2..=3).contains(&n) {
                    want(2)?;
                }
                self.unify(&ats[0], &ats[1], span)?;
                Ty::Unit
            }
            "panic" => self.s.fresh(),
            "bool" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int
                    | Ty::Float
                    | Ty::Str
                    | Ty::Bool
                    | Ty::Unit
                    | Ty::Vec(_)
                    | Ty::Map(_) => Ty::Bool,
                    other => {
                        return Err(unsupported(
                            span,
                            &format!("`bool` of {}", describe(&other)),
                        ))
                    }
                }
            }
            "is_nil" => {
                want(1)?;
                Ty::Bool
            }
            "dbg" => {
                want(1)?;
                self.printable(&ats[0], args[0].span)?;
                ats[0].clone()
            }
            "sum" | "product" if n == 1 => {
                let elem = self.s.fresh();
                self.unify(&ats[0], &Ty::Vec(Rc::new(elem.clone())), span)?;
                elem
            }
            _ => {
                return Err(unsupported(
                    span,
                    &format!("the built-in function `{name}`"),
                ))
            }
        })
    }

    pub(super) fn method(
        &mut self,
        receiver: &Expr,
        name: &Name,
        args: &[Expr],
        span: Span,
    ) -> IResult<Ty> {
        let tr = self.expr(receiver)?;
        let rt = self.known(&tr);
        if let Ty::Named(n) = &rt {
            if let Some(m) = self.methods.get(&(n.clone(), name.clone())).cloned() {
                if m.self_kind == SelfKind::None {
                    return Err(unsupported(
                        span,
                        "calling an associated function as a method",
                    ));
                }
                if m.self_kind == SelfKind::Mut {
                    self.mark_mutable(receiver);
                }
                let Ty::Fn(params, ret) = self.resolve(&m.ty) else {
                    return Err(unsupported(span, "this method"));
                };
                if params.len() != args.len() {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!(
                            "Function {name} expects {} arguments, got {}",
                            params.len(),
                            args.len()
                        ),
                        span,
                    ));
                }
                for (a, p) in args.iter().zip(params.iter()) {
                    let t = self.expr(a)?;
                    self.unify(p, &t, a.span)?;
                }
                return Ok(Rc::unwrap_or_clone(ret));
            }
        }
        let (ats, lambdas) = self.arg_types(args)?;
        // built-in methods by id: a name and its aliases are one method (the catalogue)
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        if id.mutates() {
            self.mark_mutable(receiver);
        }
        let n = args.len();
        let bad = || {
            unsupported(
                span,
                &format!(
                    "the method `{name}` on {} with {n} arguments",
                    describe(&rt)
                ),
            )
        };
        let want = |k: usize| if n == k { Ok(()) } else { Err(bad()) };
        let t = match &rt {
            Ty::Str => match id {
                M::Len | M::Count if n == 0 => Ty::Int,
                M::IsEmpty | M::IsNumeric | M::IsAlphabetic | M::IsAlphanumeric => {
                    want(0)?;
                    Ty::Bool
                }
                M::ToUppercase
                | M::ToLowercase
                | M::Trim
                | M::TrimStart
                | M::TrimEnd
                | M::ToString
                | M::Clone
                | M::Reverse
                | M::Reversed
                | M::Capitalize => {
                    want(0)?;
                    Ty::Str
                }
                M::Contains | M::StartsWith | M::EndsWith => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Bool
                }
                M::Replace | M::ReplaceFirst => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    self.unify(&ats[1], &Ty::Str, args[1].span)?;
                    Ty::Str
                }
                M::PadLeft | M::PadRight if !args.is_empty() && args.len() <= 2 => {
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    if let Some(t) = ats.get(1) {
                        self.unify(t, &Ty::Str, args[1].span)?;
                    }
                    Ty::Str
                }
                M::CharIndices => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Tuple(vec![Ty::Int, Ty::Str].into())))
                }
                M::Repeat => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Str
                }
                M::Split => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                M::Chars | M::Lines | M::SplitWhitespace => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                // `parse::<T>()` (the type's name is the argument): Rust's parse
                M::Parse if !args.is_empty() => {
                    want(1)?;
                    let ok = match &args[0].kind {
                        ExprKind::Str(t) => parse_type(t),
                        _ => None,
                    };
                    let Some(ok) = ok else {
                        return Err(unsupported(
                            span,
                            "`parse` with a type known only at run time",
                        ));
                    };
                    Ty::Result(Rc::new(ok), Rc::new(Ty::Str))
                }
                M::Parse => {
                    want(0)?;
                    // `parse` reads whatever number the text holds: its type is known only for
                    // a literal
                    match &receiver.kind {
                        ExprKind::Str(t) if t.trim().contains(['.', 'e', 'E']) => Ty::Float,
                        ExprKind::Str(_) => Ty::Int,
                        _ => {
                            return Err(unsupported(
                                span,
                                "`parse` of a string known only at run time (it gives an integer or a float; `to_int()` or `to_float()` say which)",
                            ))
                        }
                    }
                }
                M::ToInt | M::ParseInt => {
                    want(0)?;
                    Ty::Int
                }
                M::Bytes => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Int))
                }
                M::ToFloat | M::ParseFloat => {
                    want(0)?;
                    Ty::Float
                }
                M::CharAt => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Str
                }
                M::Substring | M::Slice => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    self.unify(&ats[1], &Ty::Int, args[1].span)?;
                    Ty::Str
                }
                M::PushStr => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Unit
                }
                _ => return Err(bad()),
            },
            Ty::Vec(elem) => self.vec_method(name, elem, &ats, args, span)?,
            Ty::Range | Ty::RangeInclusive => match id {
                M::Contains => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Bool
                }
                _ if !id.mutates() => self.vec_method(name, &Ty::Int, &ats, args, span)?,
                _ => return Err(bad()),
            },
            Ty::Map(v) => match id {
                M::Keys => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                M::Values => {
                    want(0)?;
                    Ty::Vec(v.clone())
                }
                M::Items => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Tuple(vec![Ty::Str, (**v).clone()].into())))
                }
                M::Len => {
                    want(0)?;
                    Ty::Int
                }
                M::IsEmpty => {
                    want(0)?;
                    Ty::Bool
                }
                M::Get => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Option(v.clone())
                }
                M::ContainsKey => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Bool
                }
                M::Remove => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Option(v.clone())
                }
                M::Insert => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    self.unify(&ats[1], v, args[1].span)?;
                    Ty::Option(v.clone())
                }
                _ => return Err(bad()),
            },
            Ty::Dict(k, v) => {
                let (k, v) = ((**k).clone(), (**v).clone());
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Keys, 0) => Ty::Vec(Rc::new(k)),
                    (M::Values, 0) => Ty::Vec(Rc::new(v)),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => {
                        Ty::Vec(Rc::new(Ty::Tuple(vec![k, v].into())))
                    }
                    (M::Get | M::Remove, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Option(Rc::new(v))
                    }
                    (M::ContainsKey, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Bool
                    }
                    (M::Insert | M::OrInsert, 2) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        self.unify(&ats[1], &v, args[1].span)?;
                        if id == M::Insert {
                            Ty::Option(Rc::new(v))
                        } else {
                            v
                        }
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Set(k) => {
                let k = (**k).clone();
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => Ty::Vec(Rc::new(k)),
                    (M::Contains | M::Insert | M::Remove, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Bool
                    }
                    (M::Union | M::Intersection | M::Difference | M::SymmetricDifference, 1) => {
                        self.unify(&ats[0], &rt, args[0].span)?;
                        rt.clone()
                    }
                    (M::IsSubset | M::IsSuperset | M::IsDisjoint, 1) => {
                        self.unify(&ats[0], &rt, args[0].span)?;
                        Ty::Bool
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Deque(t) => {
                let t = (**t).clone();
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => Ty::Vec(Rc::new(t)),
                    (M::Front | M::Back | M::PopFront | M::PopBack, 0) => Ty::Option(Rc::new(t)),
                    (M::PushFront | M::PushBack, 1) => {
                        self.unify(&ats[0], &t, args[0].span)?;
                        Ty::Unit
                    }
                    (M::Get, 1) => {
                        self.unify(&ats[0], &Ty::Int, args[0].span)?;
                        Ty::Option(Rc::new(t))
                    }
                    (M::Contains, 1) => {
                        self.unify(&ats[0], &t, args[0].span)?;
                        Ty::Bool
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Int => match id {
                M::Abs | M::Signum => {
                    want(0)?;
                    Ty::Int
                }
                M::Pow => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    if !matches!(args[0].kind, ExprKind::Int(k) if k >= 0) {
                        return Err(unsupported(
                            span,
                            "an integer `pow` whose exponent is not a literal",
                        ));
                    }
                    Ty::Int
                }
                M::Min | M::Max => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Int
                }
                M::ToString => {
                    want(0)?;
                    Ty::Str
                }
                M::ToFloat => {
                    want(0)?;
                    Ty::Float
                }
                _ => return Err(bad()),
            },
            Ty::Float => match id {
                M::Floor
                | M::Ceil
                | M::Round
                | M::Abs
                | M::Sqrt
                | M::Trunc
                | M::Sin
                | M::Cos
                | M::Tan
                | M::Ln
                | M::Exp
                | M::Log10
                | M::Log2
                | M::Cbrt
                | M::Exp2
                | M::Asin
                | M::Acos
                | M::Atan
                | M::Sinh
                | M::Cosh
                | M::Tanh
                | M::ToDegrees
                | M::ToRadians => {
                    want(0)?;
                    Ty::Float
                }
                M::Powf | M::Min | M::Max | M::Log | M::Atan2 | M::Hypot => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Float, args[0].span)?;
                    Ty::Float
                }
                M::ToInt => {
                    want(0)?;
                    Ty::Int
                }
                M::ToString => {
                    want(0)?;
                    Ty::Str
                }
                M::IsNan => {
                    want(0)?;
                    Ty::Bool
                }
                _ => return Err(bad()),
            },
            Ty::Option(inner) => match id {
                M::Unwrap | M::Expect if n <= 1 => (**inner).clone(),
                M::IsSome | M::IsNone => {
                    want(0)?;
                    Ty::Bool
                }
                M::UnwrapOr => {
                    want(1)?;
                    self.unify(inner, &ats[0], args[0].span)?;
                    (**inner).clone()
                }
                M::UnwrapOrElse => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(Vec::new().into(), inner.clone()),
                        args[0].span,
                    )?;
                    (**inner).clone()
                }
                M::Map => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**inner).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Option(Rc::new(r))
                }
                M::AndThen => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(
                            vec![(**inner).clone()].into(),
                            Rc::new(Ty::Option(Rc::new(r.clone()))),
                        ),
                        args[0].span,
                    )?;
                    Ty::Option(Rc::new(r))
                }
                M::Filter => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**inner).clone()].into(), Rc::new(Ty::Bool)),
                        args[0].span,
                    )?;
                    Ty::Option(inner.clone())
                }
                M::OkOr => {
                    want(1)?;
                    Ty::Result(inner.clone(), Rc::new(ats[0].clone()))
                }
                _ => return Err(bad()),
            },
            Ty::Result(ok, err) => match id {
                M::Unwrap | M::Expect if n <= 1 => (**ok).clone(),
                M::UnwrapErr => (**err).clone(),
                M::IsOk | M::IsErr => {
                    want(0)?;
                    Ty::Bool
                }
                M::UnwrapOr => {
                    want(1)?;
                    self.unify(ok, &ats[0], args[0].span)?;
                    (**ok).clone()
                }
                M::UnwrapOrElse => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**err).clone()].into(), ok.clone()),
                        args[0].span,
                    )?;
                    (**ok).clone()
                }
                M::AndThen => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(
                            vec![(**ok).clone()].into(),
                            Rc::new(Ty::Result(Rc::new(r.clone()), err.clone())),
                        ),
                        args[0].span,
                    )?;
                    Ty::Result(Rc::new(r), err.clone())
                }
                M::Ok => {
                    want(0)?;
                    Ty::Option(ok.clone())
                }
                M::Map => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**ok).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Result(Rc::new(r), err.clone())
                }
                M::MapErr => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**err).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Result(ok.clone(), Rc::new(r))
                }
                _ => return Err(bad()),
            },
            Ty::Tuple(_) if id == M::Len && n == 0 => Ty::Int,
            Ty::Var(_) => {
                return Err(unsupported(
                    receiver.span,
                    &format!(
                        "the method `{name}` on a value whose type is not known yet (annotate it)"
                    ),
                ))
            }
            _ => return Err(bad()),
        };
        self.finish_lambdas(lambdas)?;
        Ok(t)
    }

    pub(super) fn vec_method(
        &mut self,
        name: &Name,
        elem: &Ty,
        ats: &[Ty],
        args: &[Expr],
        span: Span,
    ) -> IResult<Ty> {
        let n = args.len();
        let elem = elem.clone();
        let bad = || {
            unsupported(
                span,
                &format!("the array method `{name}` with {n} arguments"),
            )
        };
        let want = |k: usize| if n == k { Ok(()) } else { Err(bad()) };
        let vec_of = |t: Ty| Ty::Vec(Rc::new(t));
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        Ok(match id {
            M::Len | M::Count if n == 0 => Ty::Int,
            M::IsEmpty => {
                want(0)?;
                Ty::Bool
            }
            M::Push => {
                want(1)?;
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Unit
            }
            M::Pop | M::First | M::Last => {
                want(0)?;
                elem
            }
            M::Get | M::Nth => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                Ty::Option(Rc::new(elem))
            }
            M::Contains => {
                want(1)?;
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Bool
            }
            M::Insert => {
                want(2)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                self.unify(&elem, &ats[1], args[1].span)?;
                Ty::Unit
            }
            M::Remove => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                elem
            }
            M::Clear => {
                want(0)?;
                Ty::Unit
            }
            M::Extend => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem), args[0].span)?;
                Ty::Unit
            }
            M::Concat => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem.clone()), args[0].span)?;
                vec_of(elem)
            }
            M::Map => {
                want(1)?;
                let r = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(r.clone())),
                    args[0].span,
                )?;
                vec_of(r)
            }
            M::Windows | M::Chunks => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                vec_of(vec_of(elem))
            }
            M::GroupBy => {
                want(1)?;
                let k = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone()].into(), Rc::new(k.clone())),
                    args[0].span,
                )?;
                Ty::Dict(Rc::new(k), Rc::new(vec_of(elem)))
            }
            M::ChunkBy => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone(), elem.clone()].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                vec_of(vec_of(elem))
            }
            M::Filter | M::Partition => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone()].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                let kept = vec_of(elem);
                if id == M::Partition {
                    // the elements for which it holds, and the others
                    Ty::Tuple(vec![kept.clone(), kept].into())
                } else {
                    kept
                }
            }
            M::BinarySearch => {
                want(1)?;
                self.unify(&ats[0], &elem, args[0].span)?;
                if !matches!(self.resolve(&elem), Ty::Int | Ty::Str) {
                    return Err(unsupported(
                        span,
                        "a binary search over values that are not integers or strings",
                    ));
                }
                Ty::Result(Rc::new(Ty::Int), Rc::new(Ty::Int))
            }
            M::Any | M::All => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                Ty::Bool
            }
            M::Find => {
                return Err(unsupported(span, "`find` (it gives nil when nothing matches, and a value that may be nil has no Rust type here)"));
            }
            M::Each => {
                want(1)?;
                let r = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(r)),
                    args[0].span,
                )?;
                Ty::Unit
            }
            M::Reduce if n == 1 => {
                // reduce(f): Some of the elements folded from the first
                self.unify(
                    &ats[0],
                    &Ty::Fn(
                        vec![elem.clone(), elem.clone()].into(),
                        Rc::new(elem.clone()),
                    ),
                    args[0].span,
                )?;
                Ty::Option(Rc::new(elem))
            }
            M::Reduce => {
                want(2)?;
                // reduce(f, init) or reduce(init, f) / fold(init, f)
                let (fi, ii) = if matches!(args[0].kind, ExprKind::Fn(_)) {
                    (0, 1)
                } else {
                    (1, 0)
                };
                let acc = ats[ii].clone();
                self.unify(
                    &ats[fi],
                    &Ty::Fn(vec![acc.clone(), elem].into(), Rc::new(acc.clone())),
                    args[fi].span,
                )?;
                acc
            }
            M::Sum | M::Product | M::Max | M::Min => {
                want(0)?;
                match self.resolve(&elem) {
                    Ty::Int | Ty::Float => elem,
                    Ty::Str if matches!(id, M::Max | M::Min) => elem,
                    _ => return Err(bad()),
                }
            }
            M::Sort | M::Reverse | M::Sorted | M::Reversed => {
                want(0)?;
                if matches!(id, M::Sort | M::Sorted)
                    && !matches!(self.resolve(&elem), Ty::Int | Ty::Float | Ty::Str)
                {
                    return Err(unsupported(
                        span,
                        "sorting values that are not numbers or strings",
                    ));
                }
                vec_of(elem)
            }
            M::Join => {
                if n > 1 {
                    return Err(bad());
                }
                if let Some(t) = ats.first() {
                    self.unify(t, &Ty::Str, args[0].span)?;
                }
                self.printable(&elem, span)?;
                Ty::Str
            }
            M::Enumerate => {
                want(0)?;
                vec_of(Ty::Tuple(vec![Ty::Int, elem].into()))
            }
            M::Zip => {
                want(1)?;
                let other = self.s.fresh();
                self.unify(&ats[0], &vec_of(other.clone()), args[0].span)?;
                vec_of(Ty::Tuple(vec![elem, other].into()))
            }
            M::Take | M::Skip => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                vec_of(elem)
            }
            M::Iter | M::IntoIter | M::ToArray | M::Clone => {
                want(0)?;
                vec_of(elem)
            }
            M::Unique => {
                want(0)?;
                vec_of(elem)
            }
            M::Flatten => {
                want(0)?;
                let inner = self.s.fresh();
                self.unify(&elem, &vec_of(inner.clone()), span)?;
                vec_of(inner)
            }
            M::Position if n == 1 && matches!(self.s.shallow(&ats[0]), Ty::Fn(..)) => {
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                Ty::Option(Rc::new(Ty::Int))
            }
            M::IndexOf | M::Position if n == 1 => {
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Option(Rc::new(Ty::Int))
            }
            M::Union | M::Intersection | M::Difference => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem.clone()), args[0].span)?;
                vec_of(elem)
            }
            _ => return Err(bad()),
        })
    }
}
