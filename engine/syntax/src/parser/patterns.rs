//! Binding forms (`let` with destructuring, assignment targets) and patterns (`match` arms, `let` patterns).

use super::*;

impl Parser<'_> {
    pub(super) fn let_expr(&mut self, start: Span) -> PResult<Expr> {
        let kw = self.advance().tok;
        let mutable = self.eat(&Tok::Mut) || kw == Tok::Var;
        // `let { a, b = 2 } = obj` as a statement: defaults are read below
        let statement = start.start == self.statement_start;
        if statement && self.at(&Tok::LBrace) {
            self.pattern_defaults = Some(Vec::new());
        }
        let pat = self.pattern_with_mut(mutable);
        let defaults = self.pattern_defaults.take().unwrap_or_default();
        let pat = pat?;
        // (a bare uppercase name binds here: `let MAX = 10`, `const LIMIT = 3`)
        let ty = if self.eat(&Tok::Colon) {
            Some(self.type_ann()?)
        } else {
            None
        };
        self.expect(&Tok::Eq, "after the pattern of `let`")?;
        let mut value = self.expr()?;
        // `let s: HashSet<i32> = xs.into_iter().collect()`: `HashSet::from(..)`
        if let (
            Some(TypeAnn::Named(n, _)),
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                ..
            },
        ) = (&ty, &value.kind)
        {
            if let (Some(kind), "collect", true) = (
                crate::ast::CollectionKind::named(n),
                &**method,
                args.is_empty(),
            ) {
                value = Expr {
                    kind: collect_into(kind, (**receiver).clone(), value.span),
                    span: value.span,
                };
            }
        }
        if !defaults.is_empty() {
            return self.let_with_defaults(pat, ty, value, defaults, start);
        }
        let mut body = None;
        let mut else_block = None;
        if self.at(&Tok::In) {
            self.advance();
            body = Some(self.expr()?);
        } else if self.at(&Tok::Else) {
            self.advance();
            else_block = Some(self.block()?);
        }
        Ok(self.mk(
            ExprKind::Let(Box::new(LetExpr {
                pat,
                ty,
                value,
                body,
                else_block,
            })),
            start,
        ))
    }

    /// `let { a, b = 2 } = obj`: `let (pattern value) = obj`, then `let { a, .. } = (pattern
    /// value)` and `let b = (pattern value).get("b").unwrap_or(2)` after it in the block (the
    /// default used when the key is missing). The statement's value is the object, as a
    /// `let`'s is.
    pub(super) fn let_with_defaults(
        &mut self,
        pat: Pattern,
        ty: Option<TypeAnn>,
        value: Expr,
        defaults: Vec<(Name, Binding, Expr)>,
        start: Span,
    ) -> PResult<Expr> {
        if self.at(&Tok::In) || self.at(&Tok::Else) {
            return Err(self.unexpected("the end of a `let` whose pattern has defaults"));
        }
        let span = start.to(self.prev_span());
        let name: Name = "(pattern value)".into();
        let b = self.new_binding(name.clone(), span, false)?;
        let var = |p: &mut Parser| Expr {
            kind: ExprKind::Var(p.new_use(name.clone())),
            span,
        };
        let first = plain_let(
            Pattern {
                kind: PatKind::Bind(b),
                span,
            },
            ty,
            value,
            span,
        );
        let rest_value = var(self);
        self.pending.push(plain_let(pat, None, rest_value, span));
        for (key, binding, default) in defaults {
            let get = Expr {
                kind: ExprKind::MethodCall {
                    receiver: Box::new(var(self)),
                    method: "get".into(),
                    args: vec![Expr {
                        kind: ExprKind::Str(key.clone()),
                        span,
                    }],
                    optional: false,
                },
                span,
            };
            let value = Expr {
                kind: ExprKind::MethodCall {
                    receiver: Box::new(get),
                    method: "unwrap_or".into(),
                    args: vec![default],
                    optional: false,
                },
                span,
            };
            let pat = Pattern {
                kind: PatKind::Bind(binding),
                span,
            };
            self.pending.push(plain_let(pat, None, value, span));
        }
        let shown = var(self);
        self.pending.push(shown);
        Ok(first)
    }

    pub(super) fn if_expr(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.eat(&Tok::Let) {
            // `if let PAT = e { a } else { b }` is `match e { PAT => a, _ => b }`
            let pat = self.refutable_pattern()?;
            self.expect(&Tok::Eq, "in `if let`")?;
            let scrutinee = self.expr_no_struct()?;
            let then = self.block()?;
            let else_ = self.else_branch()?;
            let else_span = else_.as_ref().map_or(then.span, |e| e.span);
            let arms = vec![
                MatchArm {
                    span: pat.span.to(then.span),
                    pat,
                    guard: None,
                    body: then,
                },
                MatchArm {
                    pat: Pattern {
                        kind: PatKind::Wild,
                        span: else_span,
                    },
                    guard: None,
                    body: else_.unwrap_or(Expr {
                        kind: ExprKind::Nil,
                        span: else_span,
                    }),
                    span: else_span,
                },
            ];
            return Ok(self.mk(
                ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms,
                },
                start,
            ));
        }
        let cond = self.expr_no_struct()?;
        let then = self.block()?;
        let else_ = self.else_branch()?.map(Box::new);
        Ok(self.mk(
            ExprKind::If {
                cond: Box::new(cond),
                then: Box::new(then),
                else_,
            },
            start,
        ))
    }

    pub(super) fn else_branch(&mut self) -> PResult<Option<Expr>> {
        if !self.eat(&Tok::Else) {
            return Ok(None);
        }
        if self.at(&Tok::If) {
            let s = self.span();
            self.enter()?;
            let e = self.if_expr(s);
            self.leave();
            return e.map(Some);
        }
        self.block().map(Some)
    }

    pub(super) fn match_expr(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let scrutinee = self.expr_no_struct()?;
        self.expect(&Tok::LBrace, "to start the match arms")?;
        self.enter()?;
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut arms = Vec::new();
        while !self.at(&Tok::RBrace) {
            let arm_start = self.span();
            self.eat(&Tok::Pipe);
            let pat = self.refutable_pattern()?;
            let guard = if self.eat(&Tok::If) {
                let saved = std::mem::replace(&mut self.no_arrow, true);
                let g = self.expr();
                self.no_arrow = saved;
                Some(g?)
            } else {
                None
            };
            if !self.eat(&Tok::FatArrow) && !self.eat(&Tok::Arrow) {
                return Err(self.unexpected("`=>` after the match pattern"));
            }
            let body = self.expr()?;
            let block_body = matches!(body.kind, ExprKind::Block(_));
            arms.push(MatchArm {
                pat,
                guard,
                span: arm_start.to(body.span),
                body,
            });
            if !self.eat(&Tok::Comma) && !block_body && !self.at(&Tok::RBrace) {
                // arms on separate lines need no comma
                if !self.token().newline_before {
                    return Err(self.unexpected("`,` or `}` after the match arm"));
                }
            }
            while self.eat(&Tok::Semi) {}
        }
        self.advance();
        self.no_struct = saved;
        self.leave();
        Ok(self.mk(
            ExprKind::Match {
                scrutinee: Box::new(scrutinee),
                arms,
            },
            start,
        ))
    }

    pub(super) fn while_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
        self.advance();
        if self.eat(&Tok::Let) {
            // `while let PAT = e { body }` is `loop { match e { PAT => body, _ => break } }`
            let pat = self.refutable_pattern()?;
            self.expect(&Tok::Eq, "in `while let`")?;
            let scrutinee = self.expr_no_struct()?;
            let body = self.block()?;
            let span = start.to(self.prev_span());
            let brk = Expr {
                kind: ExprKind::Break {
                    label: None,
                    value: None,
                },
                span,
            };
            let m = Expr {
                kind: ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms: vec![
                        MatchArm {
                            span: pat.span,
                            pat,
                            guard: None,
                            body,
                        },
                        MatchArm {
                            pat: Pattern {
                                kind: PatKind::Wild,
                                span,
                            },
                            guard: None,
                            body: brk,
                            span,
                        },
                    ],
                },
                span,
            };
            return Ok(self.mk(
                ExprKind::Loop {
                    label,
                    body: Box::new(m),
                },
                start,
            ));
        }
        let cond = self.expr_no_struct()?;
        let body = self.block()?;
        Ok(self.mk(
            ExprKind::While {
                label,
                cond: Box::new(cond),
                body: Box::new(body),
            },
            start,
        ))
    }

    pub(super) fn loop_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
        self.advance();
        let body = self.block()?;
        Ok(self.mk(
            ExprKind::Loop {
                label,
                body: Box::new(body),
            },
            start,
        ))
    }

    pub(super) fn for_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
        self.advance();
        let pat = self.pattern()?;
        self.expect(&Tok::In, "after the `for` pattern")?;
        let iter = self.expr_no_struct()?;
        let body = self.block()?;
        Ok(self.mk(
            ExprKind::For(Box::new(ForExpr {
                label,
                pat,
                iter,
                body,
            })),
            start,
        ))
    }

    pub(super) fn try_expr(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let body = self.block()?;
        let mut catch = None;
        if self.eat(&Tok::Catch) {
            let pat = if self.eat(&Tok::LParen) {
                let p = self.refutable_pattern()?;
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                }
                self.expect(&Tok::RParen, "after the catch pattern")?;
                p
            } else if self.at(&Tok::LBrace) {
                Pattern {
                    kind: PatKind::Wild,
                    span: self.span(),
                }
            } else {
                self.refutable_pattern()?
            };
            let handler = self.block()?;
            catch = Some((pat, handler));
        }
        let finally = if self.eat(&Tok::Finally) {
            Some(self.block()?)
        } else {
            None
        };
        if catch.is_none() && finally.is_none() {
            return Err(self.unexpected("`catch` or `finally` after the `try` block"));
        }
        Ok(self.mk(
            ExprKind::Try(Box::new(TryExpr {
                body,
                catch,
                finally,
            })),
            start,
        ))
    }

    // ---- patterns ------------------------------------------------------------------------

    pub(super) fn pattern(&mut self) -> PResult<Pattern> {
        self.pattern_with_mut(false)
    }

    /// After `{` of a struct or object pattern, through `}`: `name` (binds the field's value
    /// to its name), `name: pattern`, and a final `..` (other fields allowed, as they are
    /// anyway in an object pattern).
    pub(super) fn field_patterns(
        &mut self,
        mutable: bool,
    ) -> PResult<(Vec<(Name, Pattern)>, bool)> {
        // defaults belong to the `let` pattern's own top level, not to patterns inside it
        let mut defaults = self.pattern_defaults.take();
        let r = self.field_patterns_with(mutable, &mut defaults);
        self.pattern_defaults = defaults;
        r
    }

    pub(super) fn field_patterns_with(
        &mut self,
        mutable: bool,
        defaults: &mut Option<Vec<(Name, Binding, Expr)>>,
    ) -> PResult<(Vec<(Name, Pattern)>, bool)> {
        let mut fields = Vec::new();
        let mut rest = false;
        while !self.at(&Tok::RBrace) {
            if self.eat(&Tok::DotDot) {
                rest = true;
                break;
            }
            let fm = self.eat(&Tok::Mut);
            let (f, fspan) = self.ident("a field name")?;
            if self.at(&Tok::Eq) {
                let Some(list) = defaults.as_mut() else {
                    return Err(Diagnostic::parse(
                        format!("a default in a pattern is only for `let {{ {f} = default }} = obj` as a statement: here, read the key with `obj.get(\"{f}\").unwrap_or(default)`"),
                        self.span(),
                    ));
                };
                self.advance();
                let default = self.expr_bp(BP_ASSIGN + 1)?;
                let b = self.new_binding(f.clone(), fspan, fm || mutable)?;
                list.push((f, b, default));
                if !self.eat(&Tok::Comma) {
                    break;
                }
                continue;
            }
            let p = if self.eat(&Tok::Colon) {
                self.pattern_with_mut(mutable)?
            } else {
                Pattern {
                    kind: PatKind::Bind(self.new_binding(f.clone(), fspan, fm || mutable)?),
                    span: fspan,
                }
            };
            fields.push((f, p));
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBrace, "to close the struct pattern")?;
        Ok((fields, rest))
    }

    /// A pattern that may fail to match (`match` arms, `if let`, `while let`, `catch`).
    pub(super) fn refutable_pattern(&mut self) -> PResult<Pattern> {
        let saved = std::mem::replace(&mut self.refutable, true);
        let p = self.pattern();
        self.refutable = saved;
        p
    }

    pub(super) fn pattern_with_mut(&mut self, mutable: bool) -> PResult<Pattern> {
        self.enter()?;
        let start = self.span();
        let first = self.pattern_single(mutable)?;
        let p = if self.at(&Tok::Pipe) {
            let mut alts = vec![first];
            while self.eat(&Tok::Pipe) {
                alts.push(self.pattern_single(mutable)?);
            }
            Pattern {
                kind: PatKind::Or(alts),
                span: start.to(self.prev_span()),
            }
        } else {
            first
        };
        self.leave();
        Ok(p)
    }

    pub(super) fn pattern_single(&mut self, mutable: bool) -> PResult<Pattern> {
        let start = self.span();
        let t = self.token().clone();
        let kind = match t.tok {
            Tok::Ident(name) if &*name == "_" => {
                self.advance();
                PatKind::Wild
            }
            Tok::Mut => {
                self.advance();
                return self.pattern_single(true);
            }
            Tok::Amp => {
                self.advance();
                return self.pattern_single(mutable);
            }
            Tok::Ident(name) => {
                self.advance();
                let upper = name.starts_with(|c: char| c.is_ascii_uppercase());
                let mut path = vec![name.clone()];
                while self.eat(&Tok::ColonColon) {
                    path.push(self.ident("a name after `::`")?.0);
                }
                if self.eat(&Tok::LParen) {
                    let mut args = Vec::new();
                    while !self.at(&Tok::RParen) {
                        args.push(self.pattern_with_mut(mutable)?);
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                    self.expect(&Tok::RParen, "to close the pattern")?;
                    PatKind::Variant {
                        path,
                        args: Some(args),
                    }
                } else if self.at(&Tok::LBrace) && (upper || path.len() > 1) {
                    self.advance();
                    let (fields, rest) = self.field_patterns(mutable)?;
                    PatKind::Struct { path, fields, rest }
                } else if path.len() > 1 || upper && self.refutable {
                    PatKind::Variant { path, args: None }
                } else {
                    let b = self.new_binding(name, t.span, mutable)?;
                    if self.eat(&Tok::At) {
                        let sub = self.pattern_single(mutable)?;
                        PatKind::At(b, Box::new(sub))
                    } else {
                        PatKind::Bind(b)
                    }
                }
            }
            // `{ name, age: a, .. }`: the keys of an object or the fields of a struct
            Tok::LBrace => {
                self.advance();
                let (fields, rest) = self.field_patterns(mutable)?;
                PatKind::Struct {
                    path: Vec::new(),
                    fields,
                    rest,
                }
            }
            Tok::LParen => {
                self.advance();
                let mut items = Vec::new();
                let mut trailing = false;
                while !self.at(&Tok::RParen) {
                    items.push(self.pattern_with_mut(mutable)?);
                    trailing = self.eat(&Tok::Comma);
                    if !trailing {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "to close the tuple pattern")?;
                if items.len() == 1 && !trailing {
                    return Ok(items.pop().unwrap_or(Pattern {
                        kind: PatKind::Wild,
                        span: start,
                    }));
                }
                if items.is_empty() {
                    PatKind::Lit(Box::new(Expr {
                        kind: ExprKind::Nil,
                        span: start,
                    }))
                } else {
                    PatKind::Tuple(items)
                }
            }
            Tok::LBracket => {
                self.advance();
                let mut before = Vec::new();
                let mut after = Vec::new();
                let mut rest: Option<Option<Binding>> = None;
                while !self.at(&Tok::RBracket) {
                    // `..rest`, or JavaScript's `...rest`
                    if self.eat(&Tok::DotDot) || self.eat(&Tok::DotDotDot) {
                        if rest.is_some() {
                            return Err(self.unexpected("one `..` at most in a list pattern"));
                        }
                        let b = match self.tok().clone() {
                            Tok::Ident(n) if &*n != "_" => {
                                let s = self.advance().span;
                                Some(self.new_binding(n, s, mutable)?)
                            }
                            _ => None,
                        };
                        rest = Some(b);
                    } else {
                        // `rest @ ..` form
                        let p = self.pattern_with_mut(mutable)?;
                        if rest.is_some() {
                            after.push(p);
                        } else {
                            before.push(p);
                        }
                    }
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RBracket, "to close the list pattern")?;
                PatKind::List {
                    before,
                    rest,
                    after,
                }
            }
            Tok::Int(_)
            | Tok::Float(_)
            | Tok::Str(_)
            | Tok::True
            | Tok::False
            | Tok::Nil
            | Tok::Minus => {
                let lit = self.literal_pattern_value()?;
                if matches!(self.tok(), Tok::DotDot | Tok::DotDotEq) {
                    let inclusive = self.advance().tok == Tok::DotDotEq;
                    let hi = if range_end_absent(self.tok())
                        || matches!(self.tok(), Tok::FatArrow | Tok::If | Tok::Pipe | Tok::Arrow)
                    {
                        None
                    } else {
                        Some(Box::new(self.literal_pattern_value()?))
                    };
                    PatKind::Range {
                        lo: Some(Box::new(lit)),
                        hi,
                        inclusive,
                    }
                } else {
                    PatKind::Lit(Box::new(lit))
                }
            }
            Tok::DotDotEq | Tok::DotDot => {
                let inclusive = self.advance().tok == Tok::DotDotEq;
                let hi = self.literal_pattern_value()?;
                PatKind::Range {
                    lo: None,
                    hi: Some(Box::new(hi)),
                    inclusive,
                }
            }
            _ => return Err(self.unexpected("a pattern")),
        };
        Ok(Pattern {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    pub(super) fn literal_pattern_value(&mut self) -> PResult<Expr> {
        let start = self.span();
        let neg = self.eat(&Tok::Minus);
        let t = self.advance();
        let kind = match t.tok {
            Tok::Int(n) => ExprKind::Int(if neg { n.wrapping_neg() } else { n }),
            Tok::Float(f) => ExprKind::Float(if neg { -f } else { f }),
            Tok::Str(s) if !neg => ExprKind::Str(s),
            Tok::True if !neg => ExprKind::Bool(true),
            Tok::False if !neg => ExprKind::Bool(false),
            Tok::Nil if !neg => ExprKind::Nil,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("a literal in the pattern"));
            }
        };
        Ok(self.mk(kind, start))
    }
}
