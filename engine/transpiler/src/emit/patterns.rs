//! Patterns: let and match patterns as Rust patterns and tests.

use super::*;

impl Emitter<'_> {
    /// A Rust pattern for `p` against a value of type `t`. `refutable`: in `match`/`if let`.
    pub(super) fn pattern(&mut self, p: &Pattern, t: &Ty, refutable: bool) -> EResult<String> {
        Ok(match &p.kind {
            PatKind::Wild => "_".into(),
            PatKind::Bind(b) if self.typed.unbound.contains(&b.id) => "_".into(),
            PatKind::Bind(b) => {
                let m = if self.is_mut(b.id) && self.repr(b.id) == Repr::Plain {
                    "mut "
                } else {
                    ""
                };
                format!("{m}{}", ident(&b.name))
            }
            PatKind::At(b, sub) => {
                let s = self.pattern(sub, t, refutable)?;
                format!("{} @ {s}", ident(&b.name))
            }
            PatKind::Lit(lit) => match &lit.kind {
                ExprKind::Int(n) => format!("{n}"),
                ExprKind::Bool(b) => b.to_string(),
                ExprKind::Str(s) => rust_str(s),
                ExprKind::Nil => "()".into(),
                _ => return Err(unsupported(p.span, "this literal pattern")),
            },
            PatKind::Range { lo, hi, inclusive } => {
                let bound = |e: &Option<Box<Expr>>| -> EResult<String> {
                    match e.as_deref().map(|e| &e.kind) {
                        None => Ok(String::new()),
                        Some(ExprKind::Int(n)) => Ok(n.to_string()),
                        Some(ExprKind::Str(s)) if s.chars().count() == 1 => Ok(format!("{s:?}")),
                        _ => Err(unsupported(p.span, "this range pattern")),
                    }
                };
                let (l, h) = (bound(lo)?, bound(hi)?);
                if matches!(t, Ty::Str) {
                    return Err(unsupported(p.span, "a range pattern on strings"));
                }
                format!("{l}{}{h}", if *inclusive { "..=" } else { ".." })
            }
            PatKind::Tuple(items) => {
                let tys = match t {
                    Ty::Tuple(ts) => ts.clone(),
                    _ => return Err(unsupported(p.span, "this tuple pattern")),
                };
                let parts: Vec<String> = items
                    .iter()
                    .zip(tys.iter())
                    .map(|(i, t)| self.pattern(i, t, refutable))
                    .collect::<EResult<_>>()?;
                format!(
                    "({}{})",
                    parts.join(", "),
                    if parts.len() == 1 { "," } else { "" }
                )
            }
            PatKind::Or(alts) => {
                let parts: Vec<String> = alts
                    .iter()
                    .map(|a| self.pattern(a, t, refutable))
                    .collect::<EResult<_>>()?;
                parts.join(" | ")
            }
            PatKind::Variant { path, args } => {
                self.variant_pattern(p, path, args.as_deref(), t, refutable)?
            }
            PatKind::Struct { path, fields, rest } => {
                // an object pattern `{ a, b }`: the struct (or object literal's struct) the
                // value is, by its type
                let (owner, owner_fields): (String, Vec<(Rc<str>, Ty)>) = match t {
                    Ty::Named(n) if path.is_empty() => (
                        n.to_string(),
                        self.typed
                            .structs
                            .get(n)
                            .map(|s| s.fields.clone())
                            .unwrap_or_default(),
                    ),
                    Ty::Record(r) if path.is_empty() => (
                        t.to_string(),
                        self.typed
                            .records
                            .get(*r as usize)
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    _ if path.is_empty() => {
                        return Err(unsupported(p.span, "an object pattern on this value"))
                    }
                    _ => (String::new(), Vec::new()),
                };
                let name: String = if path.is_empty() {
                    owner
                } else if path.len() == 1 {
                    path[0].to_string()
                } else {
                    format!(
                        "{}::{}",
                        self.self_name(&path[path.len() - 2]),
                        path[path.len() - 1]
                    )
                };
                let field_tys: Vec<(Rc<str>, Ty)> = if path.is_empty() {
                    owner_fields
                } else if path.len() == 1 {
                    self.typed
                        .structs
                        .get(&path[0])
                        .map(|s| s.fields.clone())
                        .unwrap_or_default()
                } else {
                    let en = self.self_name(&path[path.len() - 2]);
                    self.typed
                        .enums
                        .get(&*en)
                        .and_then(|e| {
                            e.variants
                                .iter()
                                .find(|(n, _, _)| *n == path[path.len() - 1])
                        })
                        .and_then(|(_, k, _)| match k {
                            VariantKind::Struct(fs) => Some(fs.clone()),
                            _ => None,
                        })
                        .unwrap_or_default()
                };
                let mut parts = Vec::new();
                for (f, fp) in fields {
                    let ft = field_tys
                        .iter()
                        .find(|(n, _)| n == f)
                        .map(|(_, t)| t.clone())
                        .unwrap_or(Ty::Unit);
                    let s = self.pattern(fp, &ft, refutable)?;
                    parts.push(format!("{}: {s}", ident(f)));
                }
                if *rest || fields.len() < field_tys.len() {
                    parts.push("..".into());
                }
                format!("{name} {{ {} }}", parts.join(", "))
            }
            PatKind::List {
                before,
                rest,
                after,
            } => {
                // a slice pattern: `match` matches `xs.as_slice()` (see `match_mode`)
                let Ty::Vec(elem) = t else {
                    return Err(unsupported(p.span, "a list pattern on this value"));
                };
                if !refutable {
                    return Err(unsupported(p.span, "a list pattern outside `match`"));
                }
                let mut parts = Vec::new();
                for x in before {
                    parts.push(self.pattern(x, elem, refutable)?);
                }
                match rest {
                    Some(Some(b)) => parts.push(format!("{} @ ..", ident(&b.name))),
                    Some(None) => parts.push("..".into()),
                    None => {}
                }
                for x in after {
                    parts.push(self.pattern(x, elem, refutable)?);
                }
                format!("[{}]", parts.join(", "))
            }
        })
    }

    pub(super) fn self_name(&self, n: &Rc<str>) -> Rc<str> {
        if &**n == "Self" {
            if let Some(t) = &self.impl_type {
                return t.clone();
            }
        }
        n.clone()
    }

    pub(super) fn variant_pattern(
        &mut self,
        p: &Pattern,
        path: &[Name],
        args: Option<&[Pattern]>,
        t: &Ty,
        refutable: bool,
    ) -> EResult<String> {
        let name = path.last().cloned().unwrap_or_else(|| "".into());
        let sub_tys: Vec<Ty> = match (&*name, t) {
            ("Some", Ty::Option(inner)) => vec![(**inner).clone()],
            ("Ok", Ty::Result(ok, _)) => vec![(**ok).clone()],
            ("Err", Ty::Result(_, err)) => vec![(**err).clone()],
            (_, Ty::Named(n)) => {
                if let Some(s) = self.typed.structs.get(n) {
                    s.fields.iter().map(|(_, t)| t.clone()).collect()
                } else if let Some(e) = self.typed.enums.get(n) {
                    match e.variants.iter().find(|(v, _, _)| *v == name) {
                        Some((_, VariantKind::Tuple(ts), _)) => ts.clone(),
                        _ => Vec::new(),
                    }
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        let head: String = match (&*name, t) {
            ("Some" | "None" | "Ok" | "Err", Ty::Option(_) | Ty::Result(..)) => name.to_string(),
            (_, Ty::Named(n)) if self.typed.structs.contains_key(n) => n.to_string(),
            (_, Ty::Named(n)) => format!("{n}::{name}"),
            _ => return Err(unsupported(p.span, "this variant pattern")),
        };
        match args {
            None => Ok(head),
            Some(args) => {
                let parts: Vec<String> = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| self.pattern(a, sub_tys.get(i).unwrap_or(&Ty::Unit), refutable))
                    .collect::<EResult<_>>()?;
                Ok(format!("{head}({})", parts.join(", ")))
            }
        }
    }
}
