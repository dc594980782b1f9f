//! Sequences and blocks.

use super::*;

impl Compiler<'_> {
    /// Hoisted local functions get their registers (and boxes) at the start of the block.
    pub(super) fn hoist(&mut self, exprs: &[Expr]) -> CResult<()> {
        for e in exprs {
            if let ExprKind::Fn(def) = &e.kind {
                if let Some(b) = &def.name {
                    let info = self.res.binding(b.id);
                    if info.hoisted && info.global.is_none() {
                        let r = self.alloc(e.span)?;
                        self.set_bind_reg(b.id, r);
                        self.set_undeclared(b.id, true);
                        self.emit(Op::LoadUndef { dst: r }, e.span);
                        if info.boxed() {
                            self.emit(Op::NewBox { reg: r }, e.span);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn sequence(&mut self, exprs: &[Expr], dst: Dst, span: Span) -> CResult<()> {
        let Some((last, init)) = exprs.split_last() else {
            if let Dst::To(r) = dst {
                self.emit(Op::LoadNil { dst: r }, span);
            }
            return Ok(());
        };
        for e in init {
            let mark = self.mark();
            self.expr(e, Dst::Discard)?;
            // locals declared by a statement stay; temporaries above them are freed
            if !declares(e) {
                self.free_to(mark);
            }
        }
        self.expr(last, dst)
    }

    pub(super) fn block(&mut self, b: &Block, dst: Dst) -> CResult<()> {
        let mark = self.mark();
        self.hoist(&b.exprs)?;
        self.sequence(&b.exprs, dst, b.span)?;
        self.free_to(mark);
        Ok(())
    }

    /// A body expression in its own register scope.
    pub(super) fn scoped(&mut self, e: &Expr, dst: Dst) -> CResult<()> {
        let mark = self.mark();
        let r = self.expr(e, dst);
        self.free_to(mark);
        r
    }
}
