//! Closures written at the call, run in place: `xs.map(|x| x * 3)`, `xs.filter(|x| x < p)`,
//! `xs.reduce(|a, x| a + x, 0)` (and `fold(init, |a, x| ..)`) compile, when the receiver turns
//! out to be an array, into a loop in the caller's own frame, as a comprehension does: no
//! closure is made and no call is made per element. Any other receiver (an Option, a struct
//! with a method of that name, ...) takes the ordinary path: the closure is made and the method
//! called, so what a program means never depends on which path ran.
//!
//! The lambda's parameters become registers of the caller, and the variables it captures are
//! read where they live: a captured local of the caller is its box (a closure of the same
//! lambda, made on the ordinary path, shares it), a capture of the caller's own captures is the
//! caller's upvalue. [`Compiler::use_of`] applies this translation to every use inside the
//! body; a closure made inside the body translates its captures the same way.
//!
//! A body that could leave the lambda another way than by its value (`return`, `?`, `break`,
//! `continue`) or that declares items keeps the ordinary path, as does a lambda with parameter
//! types, defaults or a return type (checks the ordinary call makes).

use super::{CResult, Compiler, Dst};
use crate::catalogue::MethodId;
use crate::opcode::*;
use crate::resolver::CaptureSrc;
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::Span;

/// What the loop does with each element.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `[f(x) for x in xs]`
    Map,
    /// `[x for x in xs if f(x)]`
    Filter,
    /// `acc = f(acc, x)` from the initial value, the lambda at `args[lambda]`
    Fold { lambda: usize },
}

impl Compiler<'_> {
    /// Compiles `receiver.method(args)` as a loop in place when the method and its lambda
    /// allow; `Ok(false)` when they do not (nothing emitted).
    pub(super) fn inline_method(
        &mut self,
        receiver: &Expr,
        method: &Name,
        args: &[Expr],
        dst: Dst,
        span: Span,
    ) -> CResult<bool> {
        if self.inline_off > 0 {
            return Ok(false);
        }
        let id = MethodId::lookup(method).unwrap_or(MethodId::Unknown);
        let shape = match (id, args) {
            (MethodId::Map, [_]) => Shape::Map,
            (MethodId::Filter, [_]) => Shape::Filter,
            (MethodId::Reduce, [a, _]) if is_lambda(a) => Shape::Fold { lambda: 0 },
            // `fold(0, |a, x| ..)`: a literal cannot turn out to be the function at run time
            (MethodId::Reduce, [a, b]) if is_literal(a) && is_lambda(b) => {
                Shape::Fold { lambda: 1 }
            }
            _ => return Ok(false),
        };
        let lambda = match shape {
            Shape::Fold { lambda } => &args[lambda],
            _ => &args[0],
        };
        let ExprKind::Fn(def) = &lambda.kind else {
            return Ok(false);
        };
        let arity = if matches!(shape, Shape::Fold { .. }) {
            2
        } else {
            1
        };
        if !inlinable(def, arity) {
            return Ok(false);
        }
        // filter keeps the element itself: its parameter must not be changed or boxed
        if shape == Shape::Filter
            && !matches!(&def.params[0].pat.kind, PatKind::Bind(b) if self.plain_local(b))
        {
            return Ok(false);
        }

        let mark = self.mark();
        // the ordinary call's window: result, receiver, the arguments
        let base = self.alloc_n(2 + args.len(), span)?;
        let src = base + 1;
        self.expr_to(receiver, src)?;
        let acc = self.alloc(span)?;
        match shape {
            Shape::Fold { lambda } => self.expr_to(&args[1 - lambda], acc)?,
            Shape::Filter => {
                self.emit(
                    Op::MakeArray {
                        dst: acc,
                        base: acc,
                        n: 0,
                    },
                    span,
                );
            }
            Shape::Map => {}
        }
        // not an array: the ordinary path (the position after the receiver is the counter)
        let other = self.emit(
            Op::IterArray {
                src,
                acc,
                reserve: shape == Shape::Map,
                off: 0,
            },
            span,
        );
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
        let inner = self.mark();
        let caps = self.captures_here(def);
        self.inline.push(caps);
        let body = self.inline_body(def, shape, acc, item);
        self.inline.pop();
        body?;
        self.free_to(inner);
        let j = self.emit(Op::Loop { off: 0 }, span);
        self.patch_to(j, top);
        self.patch(next);
        self.emit(
            Op::Move {
                dst: base,
                src: acc,
            },
            span,
        );
        let done = self.emit(Op::Jump { off: 0 }, span);

        // the ordinary path, with the receiver already in its place
        self.patch(other);
        self.inline_off += 1;
        let ordinary = (|| -> CResult<()> {
            for (i, a) in args.iter().enumerate() {
                let r = base + 2 + i as Reg;
                match shape {
                    // the initial value was computed once, above
                    Shape::Fold { lambda } if i != lambda => {
                        self.emit(Op::Move { dst: r, src: acc }, a.span);
                    }
                    _ => self.expr_to(a, r)?,
                }
            }
            Ok(())
        })();
        self.inline_off -= 1;
        ordinary?;
        let name = self.name(method);
        self.emit(
            Op::CallMethod {
                base,
                argc: args.len() as u8,
                id,
                name,
            },
            span,
        );
        self.patch(done);
        if let Dst::To(r) = dst {
            if r != base {
                self.emit(Op::Move { dst: r, src: base }, span);
            }
        }
        self.free_to(mark);
        Ok(true)
    }

    /// One element's work: the parameters bound, the body run, its value used.
    fn inline_body(&mut self, def: &FnDef, shape: Shape, acc: Reg, item: Reg) -> CResult<()> {
        let span = def.body.span;
        match shape {
            Shape::Map => {
                self.inline_param(&def.params[0].pat, item)?;
                let r = self.alloc(span)?;
                self.expr_to(&def.body, r)?;
                self.emit(Op::ArrayPush { arr: acc, src: r }, span);
            }
            Shape::Filter => {
                self.inline_param(&def.params[0].pat, item)?;
                let fails = self.cond_false(&def.body)?;
                self.emit(
                    Op::ArrayPush {
                        arr: acc,
                        src: item,
                    },
                    span,
                );
                fails.into_iter().for_each(|f| self.patch(f));
            }
            Shape::Fold { .. } => {
                // the accumulator is the first parameter's value; the body's value replaces it
                let a = self.alloc(span)?;
                self.emit(Op::Move { dst: a, src: acc }, span);
                self.inline_param(&def.params[0].pat, a)?;
                self.inline_param(&def.params[1].pat, item)?;
                let r = self.alloc(span)?;
                self.expr_to(&def.body, r)?;
                self.emit(Op::Move { dst: acc, src: r }, span);
            }
        }
        Ok(())
    }

    /// Binds a parameter's pattern to the value in `src`: a plain name takes the register
    /// itself (boxed if a closure in the body captures it).
    fn inline_param(&mut self, pat: &Pattern, src: Reg) -> CResult<()> {
        if let PatKind::Bind(b) = &pat.kind {
            self.set_bind_reg(b.id, src);
            return self.bind(b, src);
        }
        let mut fails = Vec::new();
        self.pattern_top(pat, src, &mut fails)?;
        self.fail_to_match_error(fails, src, pat.span);
        Ok(())
    }

    /// A capture source named from inside the innermost lambda being inlined, in the terms of
    /// the function whose frame runs it.
    pub(super) fn outer_capture(&self, c: CaptureSrc) -> CaptureSrc {
        match (c, self.inline.last()) {
            (CaptureSrc::Upval(i), Some(caps)) => caps
                .get(i as usize)
                .copied()
                .unwrap_or(CaptureSrc::Upval(i)),
            _ => c,
        }
    }
}

fn is_lambda(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Fn(def) if def.name.is_none())
}

fn is_literal(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Array(_)
            | ExprKind::Tuple(_)
            | ExprKind::Object(_)
            | ExprKind::FStr(_)
    )
}

/// A lambda of `arity` plain parameters whose body can only end by giving its value.
fn inlinable(def: &FnDef, arity: usize) -> bool {
    if def.name.is_some()
        || def.self_kind != SelfKind::None
        || def.ret.is_some()
        || def.params.len() != arity
        || def
            .params
            .iter()
            .any(|p| p.ty.is_some() || p.default.is_some())
    {
        return false;
    }
    let mut ok = true;
    visit(&def.body, &mut |e| {
        if matches!(
            &e.kind,
            ExprKind::Return(_)
                | ExprKind::Question(_)
                | ExprKind::Break { .. }
                | ExprKind::Continue { .. }
                | ExprKind::Struct(_)
                | ExprKind::Enum(_)
                | ExprKind::Impl(_)
        ) || matches!(&e.kind, ExprKind::Fn(f) if f.name.is_some())
        {
            ok = false;
        }
    });
    ok
}
