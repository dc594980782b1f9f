//! Definitions: structs, enums, traits and impls, and functions' signatures.

use super::*;

impl<'a> Infer<'a> {
    pub(super) fn program(&mut self, p: &'a Program) -> IResult<()> {
        // type names first (fields may refer to each other), then their fields
        let mut defs = Vec::new();
        collect_types(&p.exprs, &mut defs);
        for e in &defs {
            match &e.kind {
                ExprKind::Struct(d) => {
                    if self.structs.contains_key(&d.name) || self.enums.contains_key(&d.name) {
                        return Err(unsupported(d.span, "a type defined twice"));
                    }
                    std_name(&d.name, d.span)?;
                    self.structs.insert(
                        d.name.clone(),
                        StructInfo {
                            fields: Vec::new(),
                            tuple: d.tuple,
                            def: Some(d.clone()),
                        },
                    );
                }
                ExprKind::Enum(d) => {
                    std_name(&d.name, d.span)?;
                    if self.structs.contains_key(&d.name) || self.enums.contains_key(&d.name) {
                        return Err(unsupported(d.span, "a type defined twice"));
                    }
                    self.enums.insert(
                        d.name.clone(),
                        EnumInfo {
                            variants: Vec::new(),
                        },
                    );
                }
                _ => {}
            }
        }
        for e in &defs {
            match &e.kind {
                ExprKind::Struct(d) => {
                    let mut fields = Vec::new();
                    for ((n, t), default) in d.fields.iter().zip(&d.defaults) {
                        let ty = self.ann(Some(t), d.span)?;
                        if let Some(v) = default {
                            // written out at each literal that leaves the field out: a
                            // constant, so that it is the value the interpreter computed once
                            if !constant(v) {
                                return Err(unsupported(
                                    v.span,
                                    "a field default that is not a constant (a literal)",
                                ));
                            }
                            let tv = self.expr(v)?;
                            self.unify(&ty, &tv, v.span)?;
                        }
                        fields.push((n.clone(), ty));
                    }
                    if let Some(info) = self.structs.get_mut(&d.name) {
                        info.fields = fields;
                    }
                }
                ExprKind::Enum(d) => {
                    let mut variants = Vec::new();
                    for v in &d.variants {
                        let kind = match &v.shape {
                            VariantShape::Unit => VariantKind::Unit,
                            VariantShape::Tuple(ts) => VariantKind::Tuple(
                                ts.iter()
                                    .map(|t| self.ann(Some(t), v.span))
                                    .collect::<IResult<_>>()?,
                            ),
                            VariantShape::Struct(fs) => VariantKind::Struct(
                                fs.iter()
                                    .map(|(n, t)| Ok((n.clone(), self.ann(Some(t), v.span)?)))
                                    .collect::<IResult<_>>()?,
                            ),
                        };
                        variants.push((v.name.clone(), kind, v.discriminant));
                    }
                    if let Some(info) = self.enums.get_mut(&d.name) {
                        info.variants = variants;
                    }
                }
                _ => {}
            }
        }
        let names: Vec<(Rc<str>, Span)> = defs
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Struct(d) => Some((d.name.clone(), d.span)),
                ExprKind::Enum(d) => Some((d.name.clone(), d.span)),
                _ => None,
            })
            .collect();
        for (n, span) in &names {
            let inner: Vec<Ty> = match (self.structs.get(n), self.enums.get(n)) {
                (Some(s), _) => s.fields.iter().map(|(_, t)| t.clone()).collect(),
                (_, Some(e)) => e
                    .variants
                    .iter()
                    .flat_map(|(_, k, _)| match k {
                        VariantKind::Unit => Vec::new(),
                        VariantKind::Tuple(ts) => ts.clone(),
                        VariantKind::Struct(fs) => fs.iter().map(|(_, t)| t.clone()).collect(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if inner
                .iter()
                .any(|t| recursive(n, t, &self.structs, &self.enums, 0))
            {
                return Err(unsupported(
                    *span,
                    "a type that contains itself (it would need a Box)",
                ));
            }
        }
        // methods of every impl block
        for e in &defs {
            if let ExprKind::Impl(imp) = &e.kind {
                if let Some(trait_name) = imp.type_name.strip_prefix("trait ") {
                    // the parser copied the defaults into every impl after the trait; an impl
                    // that lacks one (the trait in another cell) is what Rust cannot be told
                    let lacking = defs.iter().any(|d| match &d.kind {
                        ExprKind::Impl(i) if i.trait_name.as_deref() == Some(trait_name) => {
                            imp.methods.iter().any(|m| {
                                let name = m.name.as_ref().map(|b| &b.name);
                                !i.methods
                                    .iter()
                                    .any(|o| o.name.as_ref().map(|b| &b.name) == name)
                            })
                        }
                        _ => false,
                    });
                    if lacking {
                        return Err(unsupported(
                            imp.span,
                            "a trait's default methods used by an impl written before the trait (write them in each impl)",
                        ));
                    }
                    continue;
                }
                if !self.structs.contains_key(&imp.type_name)
                    && !self.enums.contains_key(&imp.type_name)
                {
                    return Err(unsupported(
                        imp.span,
                        &format!(
                            "an impl for `{}`, which is not a struct or enum of the program",
                            imp.type_name
                        ),
                    ));
                }
                self.impl_type = Some(imp.type_name.clone());
                for m in &imp.methods {
                    let ty = self.fn_signature(m)?;
                    let Some(b) = &m.name else { continue };
                    let key = (imp.type_name.clone(), b.name.clone());
                    if self.methods.contains_key(&key) {
                        return Err(unsupported(m.span, "a method defined twice"));
                    }
                    self.methods.insert(
                        key,
                        MethodInfo {
                            ty: ty.clone(),
                            self_kind: m.self_kind,
                        },
                    );
                    self.fn_types.insert(m.id, ty);
                }
                self.impl_type = None;
            }
        }
        // top-level functions are visible everywhere (they are Rust items)
        for e in &p.exprs {
            if let ExprKind::Fn(def) = &e.kind {
                let ty = self.fn_signature(def)?;
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
                    self.pending.insert(slot, def);
                }
                self.fn_types.insert(def.id, ty);
            }
        }
        for e in &p.exprs {
            self.expr(e)?;
        }
        // the bodies of functions nothing has called yet: first those no function calls (such
        // as `main`), whose calls then give their callees' parameters types, then the rest
        let top_fns: Vec<(u32, &FnDef)> = p
            .exprs
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Fn(def) => def
                    .name
                    .as_ref()
                    .and_then(|b| self.res.binding(b.id).global)
                    .map(|slot| (slot, &**def)),
                _ => None,
            })
            .collect();
        let mut called: HashSet<Rc<str>> = HashSet::default();
        for (_, def) in &top_fns {
            visit(&def.body, &mut |x| {
                if let ExprKind::Call { callee, .. } = &x.kind {
                    if let ExprKind::Var(v) = &callee.kind {
                        called.insert(v.name.clone());
                    }
                }
            });
        }
        let is_called = |def: &FnDef| def.name.as_ref().is_some_and(|b| called.contains(&*b.name));
        for (slot, def) in &top_fns {
            if !is_called(def) {
                self.infer_pending(*slot)?;
            }
        }
        for (slot, _) in &top_fns {
            self.infer_pending(*slot)?;
        }
        self.apply_hints();
        Ok(())
    }

    /// Infers the body of a top-level function not inferred yet.
    pub(super) fn infer_pending(&mut self, slot: u32) -> IResult<()> {
        let Some(def) = self.pending.remove(&slot) else {
            return Ok(());
        };
        let ty = self
            .fn_types
            .get(&def.id)
            .cloned()
            .ok_or_else(|| unsupported(def.span, "this function"))?;
        let saved = self.impl_type.take();
        let r = self.function(def, &ty);
        self.impl_type = saved;
        r
    }

    pub(super) fn fn_signature(&mut self, def: &FnDef) -> IResult<Ty> {
        let mut params = Vec::new();
        for p in &def.params {
            if p.default.is_some() {
                return Err(unsupported(p.span, "default parameter values"));
            }
            params.push(self.ann(p.ty.as_ref(), p.span)?);
        }
        let ret = match &def.ret {
            Some(t) => self.ann(Some(t), def.span)?,
            None => self.s.fresh(),
        };
        Ok(Ty::Fn(params.into(), Rc::new(ret)))
    }

    pub(super) fn function(&mut self, def: &FnDef, ty: &Ty) -> IResult<()> {
        let Ty::Fn(params, ret) = self.resolve(ty) else {
            return Err(unsupported(def.span, "this function"));
        };
        if let Some(sb) = &def.self_binding {
            let t = match &self.impl_type {
                Some(n) => Ty::Named(n.clone()),
                None => return Err(unsupported(def.span, "`self` outside an impl")),
            };
            self.binds.insert(self.res.canonical(sb.id), t);
            if def.self_kind == SelfKind::Mut {
                self.mutable.insert(self.res.canonical(sb.id));
            }
        }
        for (p, t) in def.params.iter().zip(params.iter()) {
            self.bind_pattern(&p.pat, t)?;
        }
        self.stack.push(FnCtx {
            id: def.id,
            ret: (*ret).clone(),
        });
        let loops = std::mem::take(&mut self.loops);
        let body = self.expr(&def.body);
        self.loops = loops;
        self.stack.pop();
        let body = body?;
        // a body whose value is not used (`-> ()`, or a statement) is fine as it is
        if !matches!(self.s.shallow(&ret), Ty::Unit) {
            self.unify(&body, &ret, def.body.span)?;
        }
        Ok(())
    }
}
