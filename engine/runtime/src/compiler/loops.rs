//! Loops: while, for, loop, break and continue.

use super::*;

impl Compiler<'_> {
    pub(super) fn loop_result(&mut self, dst: Dst, span: Span) -> CResult<Option<Reg>> {
        Ok(match dst {
            Dst::To(r) => {
                self.emit(Op::LoadNil { dst: r }, span);
                Some(r)
            }
            Dst::Discard => None,
        })
    }

    pub(super) fn push_loop(&mut self, label: &Option<Name>, result: Option<Reg>) {
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
    pub(super) fn pop_loop(&mut self, continue_to: usize) {
        if let Some(l) = self.f().loops.pop() {
            for c in l.continues {
                self.patch_to(c, continue_to);
            }
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    pub(super) fn find_loop(&mut self, label: &Option<Name>, span: Span) -> CResult<usize> {
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

    pub(super) fn end_tries(&mut self, loop_index: usize, span: Span) {
        let n = self.f().tries - self.f().loops[loop_index].tries;
        for _ in 0..n {
            self.emit(Op::TryEnd, span);
        }
    }

    pub(super) fn break_expr(
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

    pub(super) fn while_loop(
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

    pub(super) fn for_loop(
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
    pub(super) fn for_each(
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
    pub(super) fn loop_variable(&mut self, pat: &Pattern, src: Reg) -> CResult<()> {
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
    pub(super) fn plain_local(&self, b: &Binding) -> bool {
        let info = self.res.binding(self.res.canonical(b.id));
        !info.boxed() && !info.assigned && info.global.is_none()
    }

    /// Where each capture of `def` is, in the frame that makes its closure (through any
    /// lambdas being compiled in place).
    pub(super) fn captures_here(&self, def: &FnDef) -> Vec<CaptureSrc> {
        let caps = self
            .res
            .fns
            .get(def.id as usize)
            .map(|f| f.captures.as_slice())
            .unwrap_or_default();
        caps.iter().map(|&c| self.outer_capture(c)).collect()
    }

    /// Where an irrefutable position met a refutable pattern: a failed test is an error.
    pub(super) fn fail_to_match_error(&mut self, fails: Vec<usize>, src: Reg, span: Span) {
        if fails.is_empty() {
            return;
        }
        let j = self.emit(Op::Jump { off: 0 }, span);
        fails.into_iter().for_each(|f| self.patch(f));
        self.emit(Op::MatchFail { src, binding: true }, span);
        self.patch(j);
    }

    pub(super) fn match_expr(
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
}
