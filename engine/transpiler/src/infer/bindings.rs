//! Bindings: let, patterns and assignments.

use super::*;

impl<'a> Infer<'a> {
    pub(super) fn bind_name(&mut self, b: &Binding, t: &Ty, span: Span) -> IResult<()> {
        let id = self.res.canonical(b.id);
        match self.res.binding(id).global {
            Some(slot) => match self.gl.get(&slot).cloned() {
                Some(old) => {
                    if self.global_fns.contains(&slot) {
                        return Err(unsupported(
                            span,
                            &format!("a variable with the name of the function `{}`", b.name),
                        ));
                    }
                    self.unify(&old, t, span)?;
                    if !self.forward.remove(&slot) {
                        self.globals_assigned.insert(slot);
                    }
                }
                None => {
                    self.gl.insert(slot, t.clone());
                }
            },
            None => {
                if let Some(old) = self.binds.get(&id).cloned() {
                    self.unify(&old, t, span)?;
                } else {
                    self.binds.insert(id, t.clone());
                }
                if b.mutable {
                    self.mutable.insert(id);
                }
            }
        }
        Ok(())
    }

    /// Types an irrefutable or refutable pattern against `t`, binding its names.
    pub(super) fn bind_pattern(&mut self, p: &Pattern, t: &Ty) -> IResult<()> {
        match &p.kind {
            PatKind::Bind(b) => self.bind_name(b, t, p.span),
            PatKind::Wild => Ok(()),
            PatKind::At(b, sub) => {
                self.bind_pattern(sub, t)?;
                self.bind_name(b, t, p.span)
            }
            PatKind::Lit(lit) => {
                let lt = self.expr(lit)?;
                self.unify(t, &lt, p.span)
            }
            PatKind::Range { lo, hi, .. } => {
                for e in lo.iter().chain(hi.iter()) {
                    let lt = self.expr(e)?;
                    self.unify(t, &lt, p.span)?;
                }
                Ok(())
            }
            PatKind::Tuple(items) => {
                let tys: Vec<Ty> = items.iter().map(|_| self.s.fresh()).collect();
                self.unify(t, &Ty::Tuple(tys.clone().into()), p.span)?;
                for (item, ty) in items.iter().zip(&tys) {
                    self.bind_pattern(item, ty)?;
                }
                Ok(())
            }
            PatKind::List {
                before,
                rest,
                after,
            } => {
                let elem = self.s.fresh();
                self.unify(t, &Ty::Vec(Rc::new(elem.clone())), p.span)?;
                for item in before.iter().chain(after) {
                    self.bind_pattern(item, &elem)?;
                }
                if let Some(Some(b)) = rest {
                    self.bind_name(b, &Ty::Vec(Rc::new(elem)), p.span)?;
                }
                Ok(())
            }
            PatKind::Or(alts) => {
                // Rust needs every alternative to bind the same names (E0408); a name only
                // some alternatives bind is written as `_`, which is right when nothing uses
                // it (checked by the `match` arm, refused anywhere else)
                let names = |a: &Pattern| {
                    let mut bs = Vec::new();
                    a.bindings(&mut bs);
                    bs.iter().map(|b| b.name.clone()).collect::<Vec<Rc<str>>>()
                };
                let all: Vec<Vec<Rc<str>>> = alts.iter().map(names).collect();
                for a in alts {
                    let mut bs = Vec::new();
                    a.bindings(&mut bs);
                    for b in bs {
                        if !all.iter().all(|ns| ns.contains(&b.name)) {
                            self.unbound.insert(b.id);
                            self.partial_names.push((b.name.clone(), p.span));
                        }
                    }
                }
                for a in alts {
                    self.bind_pattern(a, t)?;
                }
                Ok(())
            }
            PatKind::Variant { path, args } => self.variant_pattern(p, path, args.as_deref(), t),
            PatKind::Struct { path, fields, .. } if path.is_empty() => {
                // `{ name, age }`: the fields of the struct or object literal the value is
                let known: Vec<(Rc<str>, Ty)> = match self.known(t) {
                    Ty::Named(n) => match self.structs.get(&n) {
                        Some(info) => info.fields.clone(),
                        None => Vec::new(),
                    },
                    Ty::Record(r) => self.records.get(r as usize).cloned().unwrap_or_default(),
                    _ => {
                        return Err(unsupported(
                            p.span,
                            "an object pattern on a value whose type is not a struct or an object literal's here (annotate it)",
                        ))
                    }
                };
                for (f, fp) in fields {
                    let Some((_, ft)) = known.iter().find(|(n, _)| n == f) else {
                        return Err(unsupported(
                            fp.span,
                            &format!("an object pattern with the field `{f}`, which the value's type does not have"),
                        ));
                    };
                    self.bind_pattern(fp, &ft.clone())?;
                }
                Ok(())
            }
            PatKind::Struct { path, fields, .. } => {
                let name = path.last().cloned().unwrap_or_else(|| "".into());
                if path.len() == 1 {
                    let Some(info) = self.structs.get(&name).cloned() else {
                        return Err(unsupported(p.span, "this struct pattern"));
                    };
                    self.unify(t, &Ty::Named(name.clone()), p.span)?;
                    for (f, fp) in fields {
                        let Some((_, ft)) = info.fields.iter().find(|(n, _)| n == f) else {
                            return Err(unsupported(fp.span, &format!("the field `{f}`")));
                        };
                        self.bind_pattern(fp, &ft.clone())?;
                    }
                    return Ok(());
                }
                let enum_name = self.self_path(&path[path.len() - 2]);
                let Some(info) = self.enums.get(&enum_name).cloned() else {
                    return Err(unsupported(p.span, "this pattern"));
                };
                self.unify(t, &Ty::Named(enum_name.clone()), p.span)?;
                let Some((_, VariantKind::Struct(fs), _)) =
                    info.variants.iter().find(|(n, _, _)| *n == name)
                else {
                    return Err(unsupported(p.span, "this variant pattern"));
                };
                for (f, fp) in fields {
                    let Some((_, ft)) = fs.iter().find(|(n, _)| n == f) else {
                        return Err(unsupported(fp.span, &format!("the field `{f}`")));
                    };
                    self.bind_pattern(fp, &ft.clone())?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn self_path(&self, n: &Rc<str>) -> Rc<str> {
        if &**n == "Self" {
            if let Some(t) = &self.impl_type {
                return t.clone();
            }
        }
        n.clone()
    }

    pub(super) fn variant_pattern(
        &mut self,
        p: &Pattern,
        path: &[Name],
        args: Option<&[Pattern]>,
        t: &Ty,
    ) -> IResult<()> {
        let name = path.last().cloned().unwrap_or_else(|| "".into());
        let arg = |inf: &mut Self, i: usize, ty: &Ty| -> IResult<()> {
            match args.and_then(|a| a.get(i)) {
                Some(sub) => inf.bind_pattern(sub, ty),
                None => Ok(()),
            }
        };
        let arity = args.map_or(0, <[Pattern]>::len);
        match (&*name, path.len()) {
            ("Some", 1) => {
                let inner = self.s.fresh();
                self.unify(t, &Ty::Option(Rc::new(inner.clone())), p.span)?;
                return arg(self, 0, &inner);
            }
            ("None", 1) => {
                let inner = self.s.fresh();
                return self.unify(t, &Ty::Option(Rc::new(inner)), p.span);
            }
            ("Ok" | "Err", 1) => {
                let (a, b) = (self.s.fresh(), self.s.fresh());
                self.unify(
                    t,
                    &Ty::Result(Rc::new(a.clone()), Rc::new(b.clone())),
                    p.span,
                )?;
                return arg(self, 0, if &*name == "Ok" { &a } else { &b });
            }
            _ => {}
        }
        // a tuple struct pattern `Point(x, y)`
        if path.len() == 1 {
            if let Some(info) = self.structs.get(&name).cloned() {
                self.unify(t, &Ty::Named(name.clone()), p.span)?;
                for (i, (_, ft)) in info.fields.iter().enumerate() {
                    arg(self, i, ft)?;
                }
                return Ok(());
            }
        }
        // an enum variant: the enum comes from the path, or from the scrutinee's type
        let enum_name = if path.len() >= 2 {
            self.self_path(&path[path.len() - 2])
        } else {
            match self.resolve(t) {
                Ty::Named(n) if self.enums.contains_key(&n) => n,
                _ => {
                    // a bare name against a non-enum: a constant to compare with
                    return Err(unsupported(
                        p.span,
                        &format!("the pattern `{name}` (compare with `==` in a guard)"),
                    ));
                }
            }
        };
        let Some(info) = self.enums.get(&enum_name).cloned() else {
            return Err(unsupported(p.span, &format!("the pattern `{name}`")));
        };
        self.unify(t, &Ty::Named(enum_name.clone()), p.span)?;
        let Some((_, kind, _)) = info.variants.iter().find(|(n, _, _)| *n == name) else {
            return Err(Diagnostic::new(
                DiagnosticKind::Type,
                format!("{enum_name} has no variant named {name}"),
                p.span,
            ));
        };
        match kind {
            VariantKind::Tuple(ts) if ts.len() == arity => {
                for (i, ft) in ts.iter().enumerate() {
                    arg(self, i, ft)?;
                }
                Ok(())
            }
            VariantKind::Unit if arity == 0 && args.is_none() => Ok(()),
            _ => Err(unsupported(
                p.span,
                "a variant pattern with another number of fields than the variant",
            )),
        }
    }
}
