//! Statements and blocks: `let`, expression statements, blocks and their semicolons.

use super::*;

impl Parser<'_> {
    /// One element of a block or program: an expression, with item forms allowed.
    pub(super) fn statement(&mut self) -> PResult<Expr> {
        self.visibility();
        self.expr()
    }

    /// `*map.entry(k).or_insert(v) += e` (the parser wrote the target `map.or_insert(k, v)`):
    /// `{ let key = k; map.or_insert(key, v); map[key] += e }`, the key computed once.
    /// `None` for any other target.
    pub(super) fn entry_assign(
        &mut self,
        lhs: &Expr,
        op: Option<BinOp>,
        rbp: u8,
        start: Span,
    ) -> PResult<Option<Expr>> {
        let ExprKind::MethodCall {
            receiver,
            method,
            args,
            optional: false,
        } = &lhs.kind
        else {
            return Ok(None);
        };
        if &**method != "or_insert" || args.len() != 2 {
            return Ok(None);
        }
        check_assign_target(receiver)?;
        let value = self.expr_bp(rbp)?;
        let span = start.to(self.prev_span());
        // a name no program can write, so it cannot clash with one
        let name: Name = "(entry key)".into();
        let b = self.new_binding(name.clone(), span, false)?;
        let key = |p: &mut Parser| Expr {
            kind: ExprKind::Var(p.new_use(name.clone())),
            span,
        };
        let bind = plain_let(
            Pattern {
                kind: PatKind::Bind(b),
                span,
            },
            None,
            args[0].clone(),
            span,
        );
        let insert = Expr {
            kind: ExprKind::MethodCall {
                receiver: receiver.clone(),
                method: method.clone(),
                args: vec![key(self), args[1].clone()],
                optional: false,
            },
            span,
        };
        let assign = Expr {
            kind: ExprKind::Assign {
                target: Box::new(Expr {
                    kind: ExprKind::Index(receiver.clone(), Box::new(key(self))),
                    span,
                }),
                op,
                value: Box::new(value),
            },
            span,
        };
        Ok(Some(Expr {
            kind: ExprKind::Block(Block {
                exprs: vec![bind, insert, assign],
                span,
            }),
            span,
        }))
    }

    /// `(a, b) = (b, a)`, `[x, y] = [y, x]`: the value is matched against a pattern of fresh
    /// names, its shape checked as a `let`'s, then each target is assigned its part, left to
    /// right. The whole is a block whose value is nil.
    pub(super) fn destructuring_assign(
        &mut self,
        target: Expr,
        value: Expr,
        start: Span,
    ) -> PResult<Expr> {
        let mut assigns = Vec::new();
        let pat = self.target_pattern(&target, &mut assigns)?;
        let span = start.to(self.prev_span());
        let mut exprs = vec![plain_let(pat, None, value, span)];
        exprs.extend(assigns);
        exprs.push(Expr {
            kind: ExprKind::Nil,
            span,
        });
        Ok(Expr {
            kind: ExprKind::Block(Block { exprs, span }),
            span,
        })
    }

    /// The pattern of a destructuring assignment's target: a fresh name for each place (its
    /// assignment added to `assigns`), `_` for none.
    pub(super) fn target_pattern(&mut self, t: &Expr, assigns: &mut Vec<Expr>) -> PResult<Pattern> {
        let kind = match &t.kind {
            ExprKind::Tuple(items) => PatKind::Tuple(
                items
                    .iter()
                    .map(|i| self.target_pattern(i, assigns))
                    .collect::<PResult<_>>()?,
            ),
            ExprKind::Array(items) => PatKind::List {
                before: items
                    .iter()
                    .map(|i| self.target_pattern(i, assigns))
                    .collect::<PResult<_>>()?,
                rest: None,
                after: Vec::new(),
            },
            ExprKind::Var(v) if &*v.name == "_" => PatKind::Wild,
            _ => {
                check_assign_target(t)?;
                // a name no program can write, so it cannot clash with one
                let name: Name = format!("(part {})", assigns.len()).into();
                let b = self.new_binding(name.clone(), t.span, false)?;
                let part = self.new_use(name);
                assigns.push(Expr {
                    kind: ExprKind::Assign {
                        target: Box::new(t.clone()),
                        op: None,
                        value: Box::new(Expr {
                            kind: ExprKind::Var(part),
                            span: t.span,
                        }),
                    },
                    span: t.span,
                });
                PatKind::Bind(b)
            }
        };
        Ok(Pattern { kind, span: t.span })
    }

    /// A statement and the items it brought along.
    pub(super) fn statement_into(&mut self, out: &mut Vec<Expr>) -> PResult<()> {
        self.statement_start = self.span().start;
        let e = self.statement()?;
        out.push(e);
        out.append(&mut self.pending);
        Ok(())
    }

    /// `pub`, `pub(crate)`, `pub(super)`, `pub(self)`, `pub(in path)`: accepted and meaning
    /// nothing (a session is one namespace).
    pub(super) fn visibility(&mut self) {
        while self.eat(&Tok::Pub) {
            let scoped = matches!(
                self.peek_tok(1),
                Tok::SelfLower | Tok::In | Tok::Reserved(_)
            ) && matches!(
                self.peek_tok(2),
                Tok::RParen | Tok::ColonColon | Tok::Ident(_)
            ) || matches!(self.peek_tok(1), Tok::In);
            if self.at(&Tok::LParen) && scoped {
                while !self.at(&Tok::RParen) && !self.at(&Tok::Eof) {
                    self.advance();
                }
                self.advance();
            }
        }
    }

    /// `{ e1; e2 ... }` as a block (function bodies, `if`/loop bodies): `{}` is nil (D22).
    pub(super) fn block(&mut self) -> PResult<Expr> {
        let start = self.expect(&Tok::LBrace, "to start a block")?;
        self.enter()?;
        let saved = std::mem::replace(&mut self.no_struct, false);
        let saved_arrow = std::mem::replace(&mut self.no_arrow, false);
        let mut exprs = Vec::new();
        loop {
            while self.eat(&Tok::Semi) {}
            if self.at(&Tok::RBrace) {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(self.unexpected("`}` to close the block"));
            }
            self.statement_into(&mut exprs)?;
        }
        self.advance();
        self.no_struct = saved;
        self.no_arrow = saved_arrow;
        self.leave();
        let span = start.to(self.prev_span());
        Ok(Expr {
            kind: ExprKind::Block(Block { exprs, span }),
            span,
        })
    }
}
