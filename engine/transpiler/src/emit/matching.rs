//! match and try/catch.

use super::*;

impl Emitter<'_> {
    pub(super) fn match_expr(&mut self, e: &Expr, value: bool) -> EResult<String> {
        let value = value && self.ty(e) != Ty::Unit;
        self.match_mode(e, if value { &Mode::Value } else { &Mode::Stmt })
    }

    /// A `match` whose arms' last expressions are emitted as `mode` says.
    pub(super) fn match_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
        let ExprKind::Match { scrutinee, arms } = &e.kind else {
            return Err(unsupported(e.span, "this match"));
        };
        let st = self.ty(scrutinee);
        let on_str = st == Ty::Str;
        // list patterns match a slice, whose elements the arm then copies
        let on_slice = matches!(st, Ty::Vec(_))
            && arms
                .iter()
                .any(|a| matches!(a.pat.kind, PatKind::List { .. }));
        let s = self.value(scrutinee)?;
        let head = if on_str {
            format!("match {}.as_str() {{", paren(&s))
        } else if on_slice {
            format!("match {}.as_slice() {{", paren(&s))
        } else {
            format!("match {s} {{")
        };
        let mut out = head;
        out.push('\n');
        let mut catch_all = false;
        for arm in arms {
            let mut pat = self.pattern(&arm.pat, &st, true)?;
            let mut rebind = String::new();
            if on_str {
                // a name bound to the whole string is a `String`, as in Ruchy
                match &arm.pat.kind {
                    PatKind::Bind(b) => {
                        let n = ident(&b.name);
                        pat = n.to_string();
                        let _ = writeln!(rebind, "let {n}: String = {n}.to_string();");
                    }
                    PatKind::Lit(_) | PatKind::Wild | PatKind::Or(_) => {}
                    _ => return Err(unsupported(arm.pat.span, "this pattern on a string")),
                }
            }
            if on_slice {
                let mut names = Vec::new();
                arm.pat.bindings(&mut names);
                let slices: Vec<&Name> = match &arm.pat.kind {
                    PatKind::Bind(b) => vec![&b.name],
                    PatKind::List {
                        rest: Some(Some(b)),
                        ..
                    } => vec![&b.name],
                    _ => Vec::new(),
                };
                for b in names {
                    let n = ident(&b.name);
                    if slices.contains(&&b.name) {
                        let _ = writeln!(rebind, "let {n} = {n}.to_vec();");
                    } else {
                        let _ = writeln!(rebind, "let {n} = {n}.clone();");
                    }
                }
            }
            if arm.guard.is_none() && arm.pat.is_irrefutable() {
                catch_all = true;
            }
            let guard = match &arm.guard {
                Some(g) => {
                    let g = self.expr(g)?;
                    if rebind.is_empty() {
                        format!(" if {g}")
                    } else {
                        // the guard sees the `&str`; compare it as such
                        format!(" if {{ {} {g} }}", rebind.replace('\n', " "))
                    }
                }
                None => String::new(),
            };
            let body = self.block_mode(&arm.body, mode)?;
            let body = if rebind.is_empty() {
                body
            } else {
                let mut b = String::from("{\n");
                indented(&mut b, &rebind);
                b.push_str(&body[2..]);
                b
            };
            indented(&mut out, &format!("{pat}{guard} => {body}"));
        }
        if !catch_all {
            let shown = if on_str {
                "format!(\"\\\"{}\\\"\", other)".to_string()
            } else if on_slice {
                "other.to_vec().show()".to_string()
            } else {
                "other.show()".to_string()
            };
            indented(
                &mut out,
                &format!("other => panic!(\"No match arm matched the value {{}}\", {shown}),"),
            );
        }
        out.push('}');
        Ok(out)
    }

    /// `try { body } catch e { handler }`: the body runs in `rt::catch`, which turns a throw
    /// or an engine error (a Rust panic) into `Err` with the caught string.
    pub(super) fn try_expr(&mut self, e: &Expr, t: &TryExpr) -> EResult<String> {
        if self.tail_kind(e) == Tail::Mixed {
            return Err(unsupported(
                e.span,
                "a `try` whose body and `catch` give values of different types, as a value",
            ));
        }
        let mode = if self.ty(e) == Ty::Unit {
            Mode::Stmt
        } else {
            Mode::Value
        };
        self.try_mode(e, t, &mode)
    }

    /// A `try` whose body's and handler's last expressions are emitted as `mode` says.
    pub(super) fn try_mode(&mut self, e: &Expr, t: &TryExpr, mode: &Mode) -> EResult<String> {
        let Some((pat, handler)) = &t.catch else {
            return Err(unsupported(e.span, "this try"));
        };
        let vt = self.ty(e);
        let body = self.block_mode(&t.body, mode)?;
        let cp = self.pattern(pat, &Ty::Str, false)?;
        let h = self.block_mode(handler, mode)?;
        let ret = if matches!(mode, Mode::Value) {
            format!(" -> {vt}")
        } else {
            String::new()
        };
        Ok(format!(
            "match rt::catch(||{ret} {body}) {{\n    Ok(value) => value,\n    Err({cp}) => {h}\n}}"
        ))
    }
}
