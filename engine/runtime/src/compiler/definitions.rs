//! Functions and definitions: closures, structs, enums, traits, impls.

use super::*;

impl Compiler<'_> {
    pub(super) fn emit_return(&mut self, r: Reg, span: Span) {
        if let Some(desc) = self.f().ret_check {
            self.emit(Op::CheckType { reg: r, desc }, span);
        }
        self.emit(Op::Return { src: r }, span);
    }

    /// Compiles a function body into a new prototype; returns its index in the current one.
    pub(super) fn function(&mut self, def: &FnDef, impl_type: Option<Rc<str>>) -> CResult<u32> {
        let name: Rc<str> = def
            .name
            .as_ref()
            .map_or_else(|| "<closure>".into(), |b| b.name.clone());
        self.push_fn(name, impl_type);
        // the function's own uses are its own: no lambda around it is inlined for them
        let inline = std::mem::take(&mut self.inline);
        let body = self.function_body(def);
        self.inline = inline;
        let mut proto = body?;
        for c in self.captures_here(def) {
            proto.captures.push(match c {
                CaptureSrc::Local(b) if self.res.binding(self.res.canonical(b)).boxed() => {
                    Capture::Local(self.bind_reg(b))
                }
                CaptureSrc::Local(b) => Capture::Value(self.bind_reg(b)),
                CaptureSrc::Upval(i) => Capture::Upval(i),
            });
        }
        let p = &mut self.f().p;
        p.protos.push(Rc::new(proto));
        Ok((p.protos.len() - 1) as u32)
    }

    /// A function's parameters and body, compiled into the function state on top.
    pub(super) fn function_body(&mut self, def: &FnDef) -> CResult<Proto> {
        let span = def.span;
        // parameters occupy R[0..arity]
        let has_self = def.self_kind != SelfKind::None;
        let arity = def.params.len() + usize::from(has_self);
        if arity > 255 {
            return Err(Diagnostic::new(
                DiagnosticKind::Limit,
                "Too many parameters (at most 255)",
                span,
            ));
        }
        self.alloc_n(arity, span)?;
        let mut next_param: Reg = 0;
        if let Some(sb) = &def.self_binding {
            self.set_bind_reg(sb.id, 0);
            if self.res.binding(sb.id).boxed() {
                self.emit(Op::NewBox { reg: 0 }, span);
            }
            next_param = 1;
        }
        let mut min_arity = arity as u16;
        for (i, p) in def.params.iter().enumerate() {
            let reg = next_param + i as Reg;
            if p.default.is_some() && min_arity == arity as u16 {
                min_arity = reg;
            }
            if let Some(d) = &p.default {
                let j = self.emit(Op::SkipIfArg { reg, off: 0 }, p.span);
                self.expr_to(d, reg)?;
                self.patch(j);
            }
            if let Some(ty) = &p.ty {
                if let Some(kind) = checked(ty) {
                    let desc = self.desc(Desc::Check {
                        kind,
                        annotation: type_text(ty),
                    });
                    self.emit(Op::CheckType { reg, desc }, p.span);
                }
            }
            match &p.pat.kind {
                PatKind::Bind(b) => {
                    self.set_bind_reg(b.id, reg);
                    if self.res.binding(b.id).boxed() {
                        self.emit(Op::NewBox { reg }, p.span);
                    }
                }
                _ => {
                    let mut fails = Vec::new();
                    self.pattern_top(&p.pat, reg, &mut fails)?;
                    self.fail_to_match_error(fails, reg, p.span);
                }
            }
        }
        if let Some(ret) = &def.ret {
            if let Some(kind) = checked(ret) {
                let desc = self.desc(Desc::Check {
                    kind,
                    annotation: type_text(ret),
                });
                self.f().ret_check = Some(desc);
            }
        }
        let r = self.alloc(span)?;
        match &def.body.kind {
            ExprKind::Block(b) => self.block(b, Dst::To(r))?,
            _ => self.expr_to(&def.body, r)?,
        }
        self.emit_return(r, def.body.span);
        // (before `pop_fn`, whose peephole pass keeps a method's `self`)
        self.f().p.self_kind = if has_self { Some(def.self_kind) } else { None };
        let mut proto = self.pop_fn();
        proto.arity = arity as u16;
        proto.min_arity = min_arity;
        Ok(proto)
    }

    pub(super) fn fn_expr(&mut self, def: &FnDef, dst: Dst, span: Span) -> CResult<()> {
        let proto = self.function(def, None)?;
        let Some(b) = &def.name else {
            let r = self.target(dst, span)?;
            self.emit(Op::MakeClosure { dst: r, proto }, span);
            return Ok(());
        };
        let info = self.res.binding(b.id).clone();
        self.set_undeclared(b.id, false);
        if let Some(slot) = info.global {
            let r = self.target(dst, span)?;
            self.emit(Op::MakeClosure { dst: r, proto }, span);
            self.emit(Op::SetGlobal { slot, src: r }, span);
            return Ok(());
        }
        let mut reg = self.bind_reg(b.id);
        if reg == NO_REG {
            reg = self.alloc(span)?;
            self.set_bind_reg(b.id, reg);
            if info.boxed() {
                self.emit(Op::LoadUndef { dst: reg }, span);
                self.emit(Op::NewBox { reg }, span);
            }
        }
        if info.boxed() {
            let mark = self.mark();
            let t = self.alloc(span)?;
            self.emit(Op::MakeClosure { dst: t, proto }, span);
            self.emit(Op::SetBox { boxed: reg, src: t }, span);
            if let Dst::To(d) = dst {
                self.emit(Op::Move { dst: d, src: t }, span);
            }
            self.free_to(mark);
        } else {
            self.emit(Op::MakeClosure { dst: reg, proto }, span);
            if let Dst::To(d) = dst {
                self.emit(Op::Move { dst: d, src: reg }, span);
            }
        }
        Ok(())
    }

    /// `struct`/`enum`: registers the type and binds its name as a session global.
    pub(super) fn def_type(
        &mut self,
        name: &Rc<str>,
        desc: u32,
        defaults: Reg,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        let r = self.target(dst, span)?;
        self.emit(
            Op::DefType {
                dst: r,
                desc,
                defaults,
            },
            span,
        );
        let slot = self.globals.slot(name);
        self.emit(Op::SetGlobal { slot, src: r }, span);
        self.free_to(mark);
        Ok(())
    }

    pub(super) fn impl_block(&mut self, imp: &ImplDef, dst: Dst, span: Span) -> CResult<()> {
        let mark = self.mark();
        let base = self.alloc_n(imp.methods.len(), span)?;
        let mut methods = Vec::new();
        for (i, m) in imp.methods.iter().enumerate() {
            let proto = self.function(m, Some(imp.type_name.clone()))?;
            self.emit(
                Op::MakeClosure {
                    dst: base + i as Reg,
                    proto,
                },
                m.span,
            );
            methods.push(ImplMethod {
                name: m
                    .name
                    .as_ref()
                    .map_or_else(|| "?".into(), |b| b.name.clone()),
                self_kind: m.self_kind,
            });
        }
        let desc = self.desc(Desc::Impl {
            type_name: imp.type_name.clone(),
            trait_name: imp.trait_name.clone(),
            methods,
        });
        self.emit(Op::DefImpl { base, desc }, span);
        if let Dst::To(r) = dst {
            self.emit(Op::LoadNil { dst: r }, span);
        }
        self.free_to(mark);
        Ok(())
    }
}
