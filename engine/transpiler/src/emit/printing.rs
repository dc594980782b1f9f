//! Printing: how a value of each type is shown, and format strings.

use super::*;

impl Emitter<'_> {
    /// A Rust format string and its arguments for `println(args..)` (D8, D9).
    pub(super) fn print_args(&mut self, args: &[Expr]) -> EResult<(String, Vec<String>)> {
        if let [Expr {
            kind: ExprKind::FStr(parts),
            span,
        }] = args
        {
            // `println(f"..")` prints the template directly
            return self.fstring_parts(parts, *span);
        }
        if let Some(Expr {
            kind: ExprKind::Str(first),
            span,
        }) = args.first()
        {
            if ruchy_syntax::template::has_placeholder(first) {
                return self.template(first, &args[1..], *span);
            }
        }
        let mut fmt = String::new();
        let mut vals = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                fmt.push(' ');
            }
            if let ExprKind::Str(s) = &a.kind {
                fmt.push_str(&fmt_text(s));
            } else {
                fmt.push_str("{}");
                vals.push(self.plain(a)?);
            }
        }
        Ok((fmt, vals))
    }

    /// `println("{} and {:>5}", a, b)`: the template's placeholders, in Rust.
    pub(super) fn template(
        &mut self,
        t: &str,
        args: &[Expr],
        _span: Span,
    ) -> EResult<(String, Vec<String>)> {
        let mut fmt = String::new();
        let mut vals = Vec::new();
        let mut next = 0;
        for piece in ruchy_syntax::template::pieces(t) {
            match piece {
                Piece::Text(text) => fmt.push_str(&fmt_text(text)),
                Piece::Brace(brace, _) => fmt.push_str(&fmt_text(&brace.to_string())),
                Piece::Hole { pos, spec, raw } => {
                    let spec = spec.unwrap_or("");
                    let index = if pos.is_empty() {
                        Some(next)
                    } else {
                        pos.parse::<usize>().ok()
                    };
                    match (index, FormatSpec::parse(spec)) {
                        (Some(idx), Some(s)) if idx < args.len() => {
                            let (f, v) = self.hole(&args[idx], &s, spec)?;
                            fmt.push_str(&f);
                            vals.push(v);
                            if pos.is_empty() {
                                next += 1;
                            }
                        }
                        _ => fmt.push_str(&fmt_text(raw)),
                    }
                }
            }
        }
        Ok((fmt, vals))
    }

    /// One `{}`/`{:spec}` hole: the Rust placeholder and its argument.
    pub(super) fn hole(
        &mut self,
        e: &Expr,
        s: &FormatSpec,
        written: &str,
    ) -> EResult<(String, String)> {
        let t = self.ty(e);
        // as Rust spells it (`.2f` is `.2`); a fill of `{` or `}` stays as written (refused)
        let mut rust = s.rust();
        if s.align.is_some() && matches!(s.fill, '"' | '\\') {
            // the fill inside the Rust string literal
            rust.insert(0, '\\');
        }
        let spec = if matches!(s.fill, '{' | '}') {
            written
        } else {
            rust.as_str()
        };
        if spec.is_empty() {
            return Ok(("{}".into(), self.plain(e)?));
        }
        if s.kind == Kind::Debug && spec == "?" {
            let v = self.expr(e)?;
            return Ok(("{}".into(), format!("{}.show()", paren(&v))));
        }
        let plain_kind = s.kind == Kind::Display && !s.alternate;
        let v = self.expr(e)?;
        match (&t, s.precision) {
            (Ty::Float, Some(_)) if plain_kind => Ok((format!("{{:{spec}}}"), v)),
            (Ty::Int, Some(_)) if plain_kind => {
                Ok((format!("{{:{spec}}}"), format!("({v} as f64)")))
            }
            (Ty::Int, None) => Ok((format!("{{:{spec}}}"), v)),
            (Ty::Float, None) if plain_kind && !s.zero && !s.plus => {
                // a float shows `3.0`: pad that text, right-aligned like a number
                let spec = if s.align.is_none() {
                    format!(">{spec}")
                } else {
                    spec.to_string()
                };
                Ok((format!("{{:{spec}}}"), format!("rt::float({v})")))
            }
            (Ty::Str, _) if plain_kind => Ok((format!("{{:{spec}}}"), v)),
            (Ty::Bool, _) if plain_kind && s.precision.is_none() => Ok((format!("{{:{spec}}}"), v)),
            _ => Err(unsupported(
                e.span,
                &format!("the format spec `{spec}` on {}", crate::types::describe(&t)),
            )),
        }
    }

    pub(super) fn fstring(&mut self, parts: &[FStrPart], span: Span) -> EResult<String> {
        let (fmt, vals) = self.fstring_parts(parts, span)?;
        if vals.is_empty() {
            Ok(format!("format!(\"{fmt}\")"))
        } else {
            Ok(format!("format!(\"{fmt}\", {})", vals.join(", ")))
        }
    }

    /// An f-string as a Rust format string and its arguments.
    pub(super) fn fstring_parts(
        &mut self,
        parts: &[FStrPart],
        span: Span,
    ) -> EResult<(String, Vec<String>)> {
        let mut fmt = String::new();
        let mut vals = Vec::new();
        for p in parts {
            match p {
                FStrPart::Text(t) => fmt.push_str(&fmt_text(t)),
                FStrPart::Hole { expr, spec } => {
                    let (f, v) = match spec {
                        None => ("{}".to_string(), self.plain(expr)?),
                        Some(spec) => {
                            let s = FormatSpec::parse(spec)
                                .ok_or_else(|| unsupported(span, "this format spec"))?;
                            self.hole(expr, &s, spec)?
                        }
                    };
                    fmt.push_str(&f);
                    vals.push(v);
                }
            }
        }
        Ok((fmt, vals))
    }
}
