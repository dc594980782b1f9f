//! Calls and method calls.

use super::*;

impl Compiler<'_> {
    pub(super) fn call(
        &mut self,
        callee: &Expr,
        args: &[Expr],
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let argc = u8::try_from(args.len()).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many arguments (at most 255)",
                span,
            )
        })?;
        let mark = self.mark();
        let base = self.call_window(dst, args.len(), span)?;
        // a top-level function is called straight from its global slot
        let global = match &callee.kind {
            ExprKind::Var(v) => match self.use_of(v) {
                UseRes::Global(slot) if slot != u32::MAX => Some(slot),
                UseRes::Global(_) => Some(self.globals.slot(&v.name)),
                _ => None,
            },
            _ => None,
        };
        match (&callee.kind, global) {
            (_, Some(_)) => {}
            (ExprKind::Var(v), None) => self.var(v, Dst::To(base), callee.span, true)?,
            _ => self.expr_to(callee, base)?,
        }
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, base + 1 + i as Reg)?;
        }
        match global {
            Some(slot) => self.emit(Op::CallGlobal { base, argc, slot }, span),
            None => self.emit(Op::Call { base, argc }, span),
        };
        if base < mark {
            // the window started on the destination register: the result is already there
            self.free_to(mark);
            return Ok(());
        }
        if let Dst::To(r) = dst {
            if r != base {
                self.emit(Op::Move { dst: r, src: base }, span);
            }
        }
        self.free_to(mark);
        Ok(())
    }

    /// Registers for a call: `result/callee, args...`. When the destination is the topmost
    /// allocated register the window starts on it, so the result needs no move.
    pub(super) fn call_window(&mut self, dst: Dst, extra: usize, span: Span) -> CResult<Reg> {
        match dst {
            Dst::To(r) if r + 1 == self.mark() => {
                self.alloc_n(extra, span)?;
                Ok(r)
            }
            _ => self.alloc_n(1 + extra, span),
        }
    }

    pub(super) fn is_place(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(v) => !matches!(self.use_of(v), UseRes::SelfFn),
            ExprKind::Index(o, _) | ExprKind::TupleField(o, _) => self.is_place(o),
            ExprKind::Field {
                object, optional, ..
            } => !optional && self.is_place(object),
            _ => false,
        }
    }

    pub(super) fn method_call(
        &mut self,
        receiver: &Expr,
        method: &Name,
        args: &[Expr],
        optional: bool,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let argc = u8::try_from(args.len()).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many arguments (at most 255)",
                span,
            )
        })?;
        if !optional && self.inline_method(receiver, method, args, dst, span)? {
            return Ok(());
        }
        let mark = self.mark();
        let name = self.name(method);
        // the built-in method is resolved here, once; the VM dispatches on the id
        let id = MethodId::lookup(method).unwrap_or(MethodId::Unknown);
        if !optional && self.is_place(receiver) {
            let place = self.place(receiver)?;
            let place = self.desc(Desc::MethodPlace { place, name });
            let base = self.alloc_n(2 + args.len(), span)?;
            for (i, a) in args.iter().enumerate() {
                self.expr_to(a, base + 2 + i as Reg)?;
            }
            self.emit(
                Op::CallMethodPlace {
                    base,
                    argc,
                    id,
                    place,
                },
                span,
            );
            if let Dst::To(r) = dst {
                if r != base {
                    self.emit(Op::Move { dst: r, src: base }, span);
                }
            }
            self.free_to(mark);
            return Ok(());
        }
        let base = self.alloc_n(2 + args.len(), span)?;
        self.expr_to(receiver, base + 1)?;
        let skip = if optional {
            let j = self.emit(
                Op::JumpIfNotNil {
                    src: base + 1,
                    off: 0,
                },
                span,
            );
            self.emit(Op::LoadNil { dst: base }, span);
            let k = self.emit(Op::Jump { off: 0 }, span);
            self.patch(j);
            Some(k)
        } else {
            None
        };
        for (i, a) in args.iter().enumerate() {
            self.expr_to(a, base + 2 + i as Reg)?;
        }
        self.emit(
            Op::CallMethod {
                base,
                argc,
                id,
                name,
            },
            span,
        );
        if let Some(k) = skip {
            self.patch(k);
        }
        if let Dst::To(r) = dst {
            if r != base {
                self.emit(Op::Move { dst: r, src: base }, span);
            }
        }
        self.free_to(mark);
        Ok(())
    }
}
