//! Session variables kept in registers across a loop of the cell's top-level code.
//!
//! `let mut x = 0.0` at the top of a cell makes `x` a session global (D4), and a loop over it
//! would read and write the global table on every iteration (and log the first write for
//! rollback). When nothing in the loop can look at the table on its own, the loop works on
//! registers instead: each global it uses is read into a register before the loop, the loop
//! reads and assigns the register, and the globals it assigned are written back where the
//! loop ends (every way out of it: the end of the range, the condition, `break`).
//!
//! Nothing can tell the difference, because nothing else runs while the loop does: the loop
//! may not call anything (a function, a closure, a method, a pipe: they could read the
//! globals), define functions or types, `return`, `throw`, use `?` or `try`, or break out of
//! an enclosing loop by label; it must not sit inside a `try` (an error caught there would
//! skip the write-back). An error inside the loop ends the cell, which takes back every write
//! anyway. Only globals that hold a value when the loop starts are kept (bound earlier in the
//! cell, or in an earlier cell), so reading one cannot fail; a global changed in place (`g[i]
//! = v`, `g.f = v`) stays in the table, where it has one owner.

use super::Compiler;
use crate::opcode::{Op, Reg};
use crate::resolver::UseRes;
use crate::value::Value;
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::Span;

/// The globals one loop keeps in registers: slot, register, assigned in the loop.
pub(super) struct Promotion {
    slots: Vec<(u32, Reg, bool)>,
    mark: u16,
}

/// What a scan of a loop found: globals used and assigned as wholes, globals changed in
/// place (never kept).
#[derive(Default)]
struct Scan {
    used: Vec<u32>,
    assigned: Vec<u32>,
    in_place: Vec<u32>,
}

impl Compiler<'_> {
    /// The register a global is kept in by an enclosing loop, if it is.
    pub(super) fn promoted(&self, slot: u32) -> Option<Reg> {
        self.promoted
            .iter()
            .rev()
            .find(|(s, _)| *s == slot)
            .map(|&(_, r)| r)
    }

    /// Before a loop made of `parts` (its condition, body, ...): reads the globals it can
    /// keep into registers. `None` when the loop keeps none.
    pub(super) fn begin_promotion(
        &mut self,
        parts: &[&Expr],
        span: Span,
    ) -> super::CResult<Option<Promotion>> {
        if self.fs.len() != 1 || !self.inline.is_empty() || self.f().tries > 0 {
            return Ok(None);
        }
        let mut scan = Scan::default();
        for p in parts {
            if !self.scan(p, &mut scan) {
                return Ok(None);
            }
        }
        let mark = self.mark();
        let mut slots = Vec::new();
        for &slot in &scan.used {
            let defined = self
                .bound
                .get(slot as usize)
                .is_some_and(|v| !matches!(v, Value::Undef))
                || self.defined.contains(&slot);
            if !defined || scan.in_place.contains(&slot) || self.promoted(slot).is_some() {
                continue;
            }
            let r = self.alloc(span)?;
            self.emit(Op::GetGlobal { dst: r, slot }, span);
            slots.push((slot, r, scan.assigned.contains(&slot)));
        }
        if slots.is_empty() {
            return Ok(None);
        }
        for &(slot, r, _) in &slots {
            self.promoted.push((slot, r));
        }
        Ok(Some(Promotion { slots, mark }))
    }

    /// Where the loop ends: writes back the globals it assigned, lets go of the registers.
    pub(super) fn end_promotion(&mut self, p: Option<Promotion>, span: Span) {
        let Some(p) = p else { return };
        for &(slot, r, assigned) in &p.slots {
            self.promoted.retain(|&(s, _)| s != slot);
            if assigned {
                self.emit(Op::SetGlobal { slot, src: r }, span);
            }
            // no second owner of the value once the loop is over
            self.emit(Op::LoadNil { dst: r }, span);
        }
        self.free_to(p.mark);
    }

    fn global_slot(&self, v: &VarRef) -> Option<u32> {
        match self.use_of(v) {
            UseRes::Global(slot) if slot != u32::MAX => Some(slot),
            _ => None,
        }
    }

    /// Walks a loop part (every expression in it, [`ruchy_syntax::ast::visit`]); `false` when
    /// something in it rules the loop out.
    fn scan(&self, e: &Expr, s: &mut Scan) -> bool {
        let mut ok = true;
        ruchy_syntax::ast::visit(e, &mut |x| match &x.kind {
            ExprKind::Var(v) => {
                if let Some(slot) = self.global_slot(v) {
                    if !s.used.contains(&slot) {
                        s.used.push(slot);
                    }
                }
            }
            ExprKind::Assign { target, .. } => {
                let whole = matches!(target.kind, ExprKind::Var(_));
                if let Some(slot) = super::place_root(target).and_then(|v| self.global_slot(v)) {
                    let list = if whole {
                        &mut s.assigned
                    } else {
                        &mut s.in_place
                    };
                    if !list.contains(&slot) {
                        list.push(slot);
                    }
                }
            }
            // a labelled `break`/`continue` could leave by a way the write-back is not on
            ExprKind::While { label, .. }
            | ExprKind::Loop { label, .. }
            | ExprKind::Break { label, .. }
            | ExprKind::Continue { label } => ok &= label.is_none(),
            ExprKind::For(f) => ok &= f.label.is_none(),
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Path(_)
            | ExprKind::FStr(_)
            | ExprKind::Let(_)
            | ExprKind::Unary(..)
            | ExprKind::Cast(..)
            | ExprKind::TupleField(..)
            | ExprKind::Field { .. }
            | ExprKind::Binary(..)
            | ExprKind::Logic(..)
            | ExprKind::Index(..)
            | ExprKind::ArrayRepeat(..)
            | ExprKind::Ternary(..)
            | ExprKind::If { .. }
            | ExprKind::Match { .. }
            | ExprKind::Block(_)
            | ExprKind::Array(_)
            | ExprKind::Tuple(_)
            | ExprKind::Object(_)
            | ExprKind::StructLit { .. }
            | ExprKind::Range { .. } => {}
            // anything that runs other code, leaves the cell or catches an error
            _ => ok = false,
        });
        ok
    }
}
