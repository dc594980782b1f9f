//! Assignment to names and places.

use super::*;

impl Compiler<'_> {
    pub(super) fn assign(
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
    pub(super) fn value_into(&mut self, value: &Expr, r: Reg) -> CResult<()> {
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
    pub(super) fn place(&mut self, target: &Expr) -> CResult<Place> {
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
}
