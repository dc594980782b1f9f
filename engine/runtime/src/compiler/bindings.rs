//! Bindings: let and patterns.

use super::*;

impl Compiler<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn let_expr(
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
    pub(super) fn bind(&mut self, b: &Binding, src: Reg) -> CResult<()> {
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
    pub(super) fn pattern_top(
        &mut self,
        p: &Pattern,
        src: Reg,
        fails: &mut Vec<usize>,
    ) -> CResult<()> {
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
    pub(super) fn pattern(&mut self, p: &Pattern, src: Reg, fails: &mut Vec<usize>) -> CResult<()> {
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

    pub(super) fn elements(
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

    pub(super) fn element(
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
}
