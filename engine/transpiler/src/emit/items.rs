//! Items: functions, structs, enums and impls as Rust items.

use super::*;

impl Emitter<'_> {
    /// Whether a `self` method changes its own copy of `self` (then it takes it by value).
    pub(super) fn self_by_value(&self, self_binding: BindId) -> bool {
        let id = self.res.canonical(self_binding);
        self.typed.mutable.contains(&id) || self.res.binding(id).assigned
    }

    pub(super) fn fn_item(&mut self, def: &FnDef) -> EResult<String> {
        let name = def
            .name
            .as_ref()
            .map_or("f".to_string(), |b| fn_name(&b.name));
        let mut sig = self.signature(def, &name)?;
        let body = self.item_body(def)?;
        sig.reserve(body.len() + 2);
        sig.push(' ');
        sig.push_str(&body);
        sig.push('\n');
        Ok(sig)
    }

    /// The body of a `fn` item or a method (see [`Self::mut_self`]).
    pub(super) fn item_body(&mut self, def: &FnDef) -> EResult<String> {
        let outer = std::mem::replace(&mut self.mut_self, def.self_kind == SelfKind::Mut);
        let body = self.fn_body(def);
        self.mut_self = outer;
        body
    }

    pub(super) fn signature(&mut self, def: &FnDef, name: &str) -> EResult<String> {
        let Some(Ty::Fn(params, ret)) = self.typed.fns.get(&def.id).cloned() else {
            return Err(unsupported(def.span, "this function"));
        };
        let mut sig = String::with_capacity(64);
        sig.push_str("fn ");
        sig.push_str(name);
        sig.push('(');
        if let Some(sb) = &def.self_binding {
            sig.push_str(match def.self_kind {
                SelfKind::Mut => "&mut self",
                _ if self.self_by_value(sb.id) => "mut self",
                _ => "&self",
            });
        }
        for (i, (p, t)) in def.params.iter().zip(params.iter()).enumerate() {
            if i > 0 || def.self_binding.is_some() {
                sig.push_str(", ");
            }
            let pat = self.pattern(&p.pat, t, false)?;
            let _ = write!(sig, "{pat}: {t}");
        }
        sig.push(')');
        if *ret != Ty::Unit {
            let _ = write!(sig, " -> {ret}");
        }
        Ok(sig)
    }

    /// A function's body block; parameters that closures capture and assign are shared.
    pub(super) fn fn_body(&mut self, def: &FnDef) -> EResult<String> {
        let ret = match self.typed.fns.get(&def.id) {
            Some(Ty::Fn(_, r)) => (**r).clone(),
            _ => Ty::Unit,
        };
        let mut prologue = String::new();
        for p in &def.params {
            if let PatKind::Bind(b) = &p.pat.kind {
                if self.repr(b.id) == Repr::Shared {
                    let n = ident(&b.name);
                    let _ = writeln!(prologue, "let {n} = Rc::new(RefCell::new({n}));");
                }
            }
        }
        // a local that ends the body is moved out (`counts`, not `counts.clone()`)
        let last = match &def.body.kind {
            ExprKind::Block(b) => b.exprs.last(),
            _ => Some(&*def.body),
        };
        let saved = self.moved_tail.take();
        if let Some(
            x @ Expr {
                kind: ExprKind::Var(v),
                ..
            },
        ) = last
        {
            // (a closure's captures are not its own to move: only true locals)
            if let UseRes::Local(b) = self.res.use_of(v) {
                if self.repr(self.res.canonical(b)) == Repr::Plain {
                    self.moved_tail = Some(x as *const Expr);
                }
            }
        }
        let body = self.block_of(&def.body, ret != Ty::Unit);
        self.moved_tail = saved;
        let body = body?;
        if prologue.is_empty() {
            Ok(body)
        } else {
            // `{` + prologue + the rest of the block
            let mut out = String::from("{\n");
            indented(&mut out, &prologue);
            out.push_str(&body[2..]);
            Ok(out)
        }
    }

    pub(super) fn impl_item(&mut self, imp: &ImplDef) -> EResult<String> {
        // a trait's defaults are written as the copies in each impl
        if imp.type_name.starts_with("trait ") {
            return Ok(String::new());
        }
        self.impl_type = Some(imp.type_name.clone());
        let mut out = format!("impl {} {{\n", imp.type_name);
        for m in &imp.methods {
            let name = m
                .name
                .as_ref()
                .map_or("f".to_string(), |b| ident(&b.name).into_owned());
            let sig = self.signature(m, &name)?;
            let body = self.item_body(m)?;
            indented(&mut out, &format!("{sig} {body}\n"));
        }
        out.push_str("}\n");
        self.impl_type = None;
        Ok(out)
    }
}
