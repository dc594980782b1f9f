//! Expressions: the Pratt loop with the reference's precedence table, prefix and postfix forms, literals, f-strings, closures, `if`/`match`/loops, calls and method calls.

use super::*;

impl Parser<'_> {
    pub fn expr(&mut self) -> PResult<Expr> {
        self.expr_bp(0)
    }

    pub(super) fn expr_no_struct(&mut self) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.no_struct, true);
        let e = self.expr_bp(0);
        self.no_struct = saved;
        e
    }

    pub(super) fn expr_bp(&mut self, min_bp: u8) -> PResult<Expr> {
        self.enter()?;
        let result = self.expr_bp_inner(min_bp);
        self.leave();
        result
    }

    pub(super) fn expr_bp_inner(&mut self, min_bp: u8) -> PResult<Expr> {
        let start = self.span();
        let mut lhs = self.prefix()?;
        // every operator applied to `lhs` makes the tree one level deeper
        let mut chain = 0u32;
        loop {
            let token = self.token().clone();
            if token.newline_before && !continues_line(&token.tok) {
                break;
            }
            // `c ? a : b` binds loosest of all: a higher level leaves it to the lowest one
            if token.tok == Tok::Question {
                if min_bp > BP_ASSIGN {
                    if self.ternary_ahead()? {
                        break;
                    }
                } else {
                    match self.try_ternary(lhs, start)? {
                        Ok(t) => {
                            lhs = t;
                            continue;
                        }
                        Err(back) => lhs = back,
                    }
                }
            }
            if is_postfix(&token.tok) || token.tok == Tok::Bang && self.is_macro_bang(&lhs) {
                lhs = self.postfix(lhs, start, &token)?;
            } else if let Some((op_bp, assoc_right)) = infix_bp(&token.tok) {
                if op_bp < min_bp {
                    break;
                }
                lhs = self.infix(lhs, start, &token, op_bp, assoc_right)?;
            } else {
                break;
            }
            chain += 1;
            if self.depth + chain > MAX_DEPTH {
                return Err(Diagnostic::new(
                    DiagnosticKind::Limit,
                    format!("Nesting too deep: an operator chain longer than {MAX_DEPTH}"),
                    token.span,
                ));
            }
        }
        Ok(lhs)
    }

    /// Postfix forms: calls, indexing, fields, methods, `?`, `as`, macro calls (the caller
    /// has checked [`is_postfix`]).
    pub(super) fn postfix(&mut self, lhs: Expr, start: Span, token: &Token) -> PResult<Expr> {
        let e = match &token.tok {
            Tok::LParen => {
                self.advance();
                let args = self.args(&Tok::RParen)?;
                ExprKind::Call {
                    callee: Box::new(lhs),
                    args,
                }
            }
            Tok::LBracket => {
                self.advance();
                let saved = std::mem::replace(&mut self.no_struct, false);
                let index = self.index_expr()?;
                self.no_struct = saved;
                self.expect(&Tok::RBracket, "to close the index")?;
                ExprKind::Index(Box::new(lhs), Box::new(index))
            }
            Tok::Dot | Tok::QuestionDot => {
                let optional = token.tok == Tok::QuestionDot;
                self.advance();
                return self.member(lhs, start, optional);
            }
            Tok::Question => {
                // `expr?` (a ternary was ruled out by the caller)
                self.advance();
                ExprKind::Question(Box::new(lhs))
            }
            Tok::As => {
                self.advance();
                let ty = self.type_ann()?;
                ExprKind::Cast(Box::new(lhs), Box::new(ty))
            }
            Tok::PlusPlus | Tok::MinusMinus => {
                let op = if token.tok == Tok::PlusPlus {
                    "+="
                } else {
                    "-="
                };
                return Err(Diagnostic::parse(
                    format!(
                        "`{}` is not an operator in Ruchy: write `x {op} 1`",
                        token.tok.text()
                    ),
                    token.span,
                ));
            }
            Tok::Bang => return self.macro_call(lhs, start),
            _ => return Err(self.unexpected("an operator")),
        };
        Ok(self.mk(e, start))
    }

    /// `name!(..)` or `name![..]` right after an identifier: a macro call.
    pub(super) fn is_macro_bang(&self, lhs: &Expr) -> bool {
        matches!(lhs.kind, ExprKind::Var(_))
            && self.token().span.start == lhs.span.end
            && matches!(self.peek_tok(1), Tok::LParen | Tok::LBracket)
    }

    pub(super) fn macro_call(&mut self, lhs: Expr, start: Span) -> PResult<Expr> {
        let ExprKind::Var(v) = &lhs.kind else {
            return Err(self.unexpected("a macro name"));
        };
        self.advance(); // !
        let bracket = self.at(&Tok::LBracket);
        self.advance();
        if &*v.name == "vec" {
            let close = if bracket { Tok::RBracket } else { Tok::RParen };
            return self.array_body(start, &close);
        }
        let mut args = self.args(if bracket {
            &Tok::RBracket
        } else {
            &Tok::RParen
        })?;
        if matches!(
            &*v.name,
            "println" | "print" | "eprintln" | "eprint" | "format" | "panic"
        ) {
            self.inline_format_args(&mut args);
        }
        Ok(self.mk(
            ExprKind::Call {
                callee: Box::new(lhs),
                args,
            },
            start,
        ))
    }

    /// Rust's inline format arguments: in `println!("{name} is {age:>3}", ..)` each `{name}`
    /// names a variable. Each becomes a numbered placeholder (`{1}`, `{2:>3}`) of an argument
    /// added after the others, so `{}` still takes the written arguments in order.
    pub(super) fn inline_format_args(&mut self, args: &mut Vec<Expr>) {
        use crate::template::Piece;
        let Some(Expr {
            kind: ExprKind::Str(t),
            span,
        }) = args.first()
        else {
            return;
        };
        let (template, span) = (t.clone(), *span);
        let written = args.len() - 1;
        let mut names: Vec<&str> = Vec::new();
        let mut out = String::with_capacity(template.len());
        for piece in crate::template::pieces(&template) {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Brace(_, as_written) => out.push_str(as_written),
                Piece::Hole { pos, spec, raw } => {
                    let is_name = pos.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && pos.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !is_name {
                        out.push_str(raw);
                        continue;
                    }
                    let k = match names.iter().position(|n| *n == pos) {
                        Some(k) => k,
                        None => {
                            names.push(pos);
                            names.len() - 1
                        }
                    };
                    out.push('{');
                    out.push_str(&(written + k).to_string());
                    if let Some(s) = spec {
                        out.push(':');
                        out.push_str(s);
                    }
                    out.push('}');
                }
            }
        }
        if names.is_empty() {
            return;
        }
        let names: Vec<Name> = names.into_iter().map(Name::from).collect();
        args[0].kind = ExprKind::Str(out.into());
        for n in names {
            let var = self.new_use(n);
            args.push(Expr {
                kind: ExprKind::Var(var),
                span,
            });
        }
    }

    /// An index: an expression, or an open range (`a[1..]`, `a[..2]`). `a[1:]` is an error (D21).
    pub(super) fn index_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let e = if matches!(self.tok(), Tok::DotDot | Tok::DotDotEq) {
            self.prefix_range(start)?
        } else {
            self.expr()?
        };
        if self.at(&Tok::Colon) {
            return Err(Diagnostic::parse(
                "Python-style slices are not Ruchy: write `a[1..]`, `a[..2]` or `a[1..3]`",
                self.span(),
            ));
        }
        Ok(e)
    }

    pub(super) fn member(&mut self, lhs: Expr, start: Span, optional: bool) -> PResult<Expr> {
        let t = self.advance();
        match t.tok {
            Tok::Int(n) => Ok(self.mk(ExprKind::TupleField(Box::new(lhs), n as u32), start)),
            Tok::Float(_) => {
                // `t.1.0` lexes `1.0` as a float: split it into two tuple indices
                let text = self.tuple_float_text(t.span);
                let mut e = lhs;
                for part in text.split('.') {
                    let n: u32 = part.parse().map_err(|_| {
                        Diagnostic::parse("Expected a tuple index after `.`", t.span)
                    })?;
                    e = self.mk(ExprKind::TupleField(Box::new(e), n), start);
                }
                Ok(e)
            }
            Tok::Ident(name) => {
                // turbofish: `s.parse::<i32>()`, `it.collect::<Vec<_>>()`
                let types = if self.at(&Tok::ColonColon) && matches!(self.peek_tok(1), Tok::Lt) {
                    let at = self.advance().span;
                    let types = self.generic_args()?;
                    if !self.at(&Tok::LParen) {
                        return Err(self.unexpected("`(` after the type arguments of a method"));
                    }
                    Some((types, at.to(self.prev_span())))
                } else {
                    None
                };
                if self.at(&Tok::LParen) && (types.is_some() || !self.token().newline_before) {
                    self.advance();
                    let mut args = self.args(&Tok::RParen)?;
                    let mut method = name;
                    let mut lhs = lhs;
                    if let Some((types, at)) = types {
                        // `collect::<HashSet<_>>()`: `HashSet::from(..)`
                        if let Some(kind) = collection_named(&method, &types) {
                            return Ok(self.mk(collect_into(kind, lhs, at), start));
                        }
                        turbofish(&mut method, &types, &mut args, at)?;
                    }
                    // `map.entry(k).or_insert(v)`: `map.or_insert(k, v)`, one method that
                    // changes the map (an entry is not a value here)
                    if &*method == "or_insert" && args.len() == 1 {
                        if let ExprKind::MethodCall {
                            receiver,
                            method: m,
                            args: key,
                            optional: false,
                        } = &lhs.kind
                        {
                            if &**m == "entry" && key.len() == 1 {
                                args.insert(0, key[0].clone());
                                lhs = (**receiver).clone();
                            }
                        }
                    }
                    Ok(self.mk(
                        ExprKind::MethodCall {
                            receiver: Box::new(lhs),
                            method,
                            args,
                            optional,
                        },
                        start,
                    ))
                } else {
                    Ok(self.mk(
                        ExprKind::Field {
                            object: Box::new(lhs),
                            field: name,
                            optional,
                        },
                        start,
                    ))
                }
            }
            other => {
                // keywords and reserved words can be method and field names too (`a.extend(b)`,
                // `r.type`)
                let text = match other {
                    Tok::Reserved(w) => w,
                    o => o.text(),
                };
                if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic()) {
                    let name: Name = text.into();
                    if self.at(&Tok::LParen) {
                        self.advance();
                        let args = self.args(&Tok::RParen)?;
                        return Ok(self.mk(
                            ExprKind::MethodCall {
                                receiver: Box::new(lhs),
                                method: name,
                                args,
                                optional,
                            },
                            start,
                        ));
                    }
                    return Ok(self.mk(
                        ExprKind::Field {
                            object: Box::new(lhs),
                            field: name,
                            optional,
                        },
                        start,
                    ));
                }
                self.pos -= 1;
                Err(self.unexpected("a field, method name or tuple index after `.`"))
            }
        }
    }

    pub(super) fn tuple_float_text(&self, span: Span) -> String {
        // reconstruct digits from the float value: `1.0` -> "1.0"; indices are small ints
        let t = &self.tokens[self.pos - 1];
        match t.tok {
            Tok::Float(f) => {
                let _ = span;
                let s = format!("{f}");
                if s.contains('.') {
                    s
                } else {
                    format!("{s}.0")
                }
            }
            _ => String::new(),
        }
    }

    /// Whether the `?` at the current position starts a ternary `? a : b` (looks ahead,
    /// consumes nothing). The answer is remembered for the position: the look-ahead parses
    /// everything after the `?`, and without the memo `x?(x?(x?(...` would parse the rest
    /// again at every level, in time exponential in its length. Going too deep is not an
    /// answer but the error of the whole parse.
    pub(super) fn ternary_ahead(&mut self) -> PResult<bool> {
        let key = (self.pos, self.no_struct, self.refutable, self.no_arrow);
        if let Some(&known) = self.ternaries.get(&key) {
            return Ok(known);
        }
        let saved = self.pos;
        self.advance();
        let ok =
            if !starts_expr(self.tok()) || self.token().newline_before && !self.at(&Tok::LParen) {
                Ok(false)
            } else {
                match self.expr_bp(BP_ASSIGN + 1) {
                    Ok(_) => Ok(self.at(&Tok::Colon)),
                    Err(d) if d.kind == DiagnosticKind::Limit => Err(d),
                    Err(_) => Ok(false),
                }
            };
        self.pos = saved;
        let ok = ok?;
        self.ternaries.insert(key, ok);
        Ok(ok)
    }

    /// After `?`: parses `a : b` if that is what follows (`Ok`), else restores the position
    /// and hands the condition back (`Err`).
    pub(super) fn try_ternary(&mut self, cond: Expr, start: Span) -> PResult<Result<Expr, Expr>> {
        if !self.ternary_ahead()? {
            return Ok(Err(cond));
        }
        let saved = self.pos;
        self.advance(); // ?
        if !starts_expr(self.tok()) || self.token().newline_before && !self.at(&Tok::LParen) {
            self.pos = saved;
            return Ok(Err(cond));
        }
        let then = match self.expr_bp(BP_ASSIGN + 1) {
            Ok(e) => e,
            Err(_) => {
                self.pos = saved;
                return Ok(Err(cond));
            }
        };
        if !self.eat(&Tok::Colon) {
            self.pos = saved;
            return Ok(Err(cond));
        }
        let else_ = self.expr_bp(BP_ASSIGN)?;
        Ok(Ok(self.mk(
            ExprKind::Ternary(Box::new(cond), Box::new(then), Box::new(else_)),
            start,
        )))
    }

    pub(super) fn infix(
        &mut self,
        lhs: Expr,
        start: Span,
        token: &Token,
        bp: u8,
        right_assoc: bool,
    ) -> PResult<Expr> {
        self.advance();
        let rbp = if right_assoc { bp } else { bp + 1 };
        let kind = match &token.tok {
            Tok::Eq if matches!(lhs.kind, ExprKind::Tuple(_) | ExprKind::Array(_)) => {
                let value = self.expr_bp(rbp)?;
                return self.destructuring_assign(lhs, value, start);
            }
            t if *t == Tok::Eq || compound_op(t).is_some() => {
                let op = compound_op(&token.tok);
                if let Some(e) = self.entry_assign(&lhs, op, rbp, start)? {
                    return Ok(e);
                }
                check_assign_target(&lhs)?;
                let value = self.expr_bp(rbp)?;
                ExprKind::Assign {
                    target: Box::new(lhs),
                    op,
                    value: Box::new(value),
                }
            }
            Tok::AndAnd | Tok::OrOr | Tok::QuestionQuestion => {
                let op = match token.tok {
                    Tok::AndAnd => LogicOp::And,
                    Tok::OrOr => LogicOp::Or,
                    _ => LogicOp::Coalesce,
                };
                let rhs = self.expr_bp(rbp)?;
                ExprKind::Logic(op, Box::new(lhs), Box::new(rhs))
            }
            Tok::PipeGt => {
                let rhs = self.expr_bp(rbp)?;
                ExprKind::Pipe(Box::new(lhs), Box::new(rhs))
            }
            Tok::DotDot | Tok::DotDotEq => {
                let inclusive = token.tok == Tok::DotDotEq;
                let end = if range_end_absent(self.tok()) || self.token().newline_before {
                    None
                } else {
                    Some(Box::new(self.expr_bp(rbp)?))
                };
                ExprKind::Range {
                    start: Some(Box::new(lhs)),
                    end,
                    inclusive,
                }
            }
            t => {
                let op = binop(t).ok_or_else(|| self.unexpected("an operator"))?;
                let rhs = self.expr_bp(rbp)?;
                ExprKind::Binary(op, Box::new(lhs), Box::new(rhs))
            }
        };
        Ok(self.mk(kind, start))
    }

    pub(super) fn args(&mut self, close: &Tok) -> PResult<Vec<Expr>> {
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut args = Vec::new();
        while !self.at(close) {
            args.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.no_struct = saved;
        self.expect(close, "to close the argument list")?;
        Ok(args)
    }

    pub(super) fn prefix(&mut self) -> PResult<Expr> {
        let start = self.span();
        let t = self.token().clone();
        let kind = match t.tok {
            Tok::Int(n) => {
                self.advance();
                ExprKind::Int(n)
            }
            Tok::Float(f) => {
                self.advance();
                ExprKind::Float(f)
            }
            Tok::Str(s) => {
                self.advance();
                ExprKind::Str(s)
            }
            Tok::FStr(pieces) => {
                self.advance();
                ExprKind::FStr(self.fstring(&pieces)?)
            }
            Tok::True => {
                self.advance();
                ExprKind::Bool(true)
            }
            Tok::False => {
                self.advance();
                ExprKind::Bool(false)
            }
            Tok::Nil => {
                self.advance();
                ExprKind::Nil
            }
            Tok::Ident(name) => return self.ident_expr(name, start),
            Tok::SelfLower => {
                self.advance();
                ExprKind::Var(self.new_use("self".into()))
            }
            Tok::LParen => return self.paren(start),
            Tok::LBracket => {
                self.advance();
                return self.array_body(start, &Tok::RBracket);
            }
            Tok::LBrace => return self.brace_expr(),
            Tok::Minus | Tok::Bang | Tok::Tilde | Tok::Plus => {
                self.advance();
                let operand = self.expr_bp(BP_PREFIX)?;
                match t.tok {
                    Tok::Plus => return Ok(operand),
                    // fold `-<literal>` so that i64::MIN is writable and patterns stay simple
                    Tok::Minus => match operand.kind {
                        ExprKind::Float(f) => ExprKind::Float(-f),
                        _ => ExprKind::Unary(UnOp::Neg, Box::new(operand)),
                    },
                    Tok::Bang => ExprKind::Unary(UnOp::Not, Box::new(operand)),
                    _ => ExprKind::Unary(UnOp::BitNot, Box::new(operand)),
                }
            }
            Tok::Amp | Tok::AndAnd => {
                // `&x`, `&mut x`, `&&x`: references are values here
                self.advance();
                self.eat(&Tok::Mut);
                return self.expr_bp(BP_PREFIX);
            }
            Tok::Star => {
                self.advance();
                return self.expr_bp(BP_PREFIX);
            }
            Tok::PlusPlus | Tok::MinusMinus => {
                return Err(Diagnostic::parse(
                    format!(
                        "`{}x` is not an operator in Ruchy: write `x {}= 1`",
                        t.tok.text(),
                        &t.tok.text()[..1]
                    ),
                    t.span,
                ));
            }
            Tok::DotDot | Tok::DotDotEq => return self.prefix_range(start),
            Tok::Pipe | Tok::OrOr => return self.lambda(start),
            // `const fn f()`: a function like any other
            Tok::Const if matches!(self.peek_tok(1), Tok::Fun) => {
                self.advance();
                return self.fun(start);
            }
            Tok::Let | Tok::Var | Tok::Const => return self.let_expr(start),
            Tok::If => return self.if_expr(start),
            Tok::Match => return self.match_expr(start),
            Tok::While => return self.while_expr(start, None),
            Tok::Loop => return self.loop_expr(start, None),
            Tok::For => return self.for_expr(start, None),
            Tok::Label(label) => {
                self.advance();
                self.expect(&Tok::Colon, "after a loop label")?;
                return match self.tok() {
                    Tok::While => self.while_expr(start, Some(label)),
                    Tok::Loop => self.loop_expr(start, Some(label)),
                    Tok::For => self.for_expr(start, Some(label)),
                    _ => Err(self.unexpected("`for`, `while` or `loop` after a label")),
                };
            }
            Tok::Break => {
                self.advance();
                let label = self.label();
                let value = if self.value_follows() {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                ExprKind::Break { label, value }
            }
            Tok::Continue => {
                self.advance();
                ExprKind::Continue {
                    label: self.label(),
                }
            }
            Tok::Return => {
                self.advance();
                let value = if self.value_follows() {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                ExprKind::Return(value)
            }
            Tok::Throw => {
                self.advance();
                ExprKind::Throw(Box::new(self.expr()?))
            }
            Tok::Fun => return self.fun(start),
            Tok::Struct => return self.struct_def(start),
            Tok::Enum => return self.enum_def(start),
            Tok::Impl => return self.impl_def(start),
            Tok::Trait => return self.trait_def(start),
            Tok::Try => return self.try_expr(start),
            Tok::Use => {
                // `use` declarations have no meaning in a notebook: skip the path
                self.advance();
                while !matches!(self.tok(), Tok::Semi | Tok::Eof) && !self.token().newline_before {
                    self.advance();
                }
                ExprKind::Nil
            }
            Tok::Type => {
                // type aliases are accepted and ignored
                self.advance();
                self.ident("a type alias name")?;
                self.expect(&Tok::Eq, "in a type alias")?;
                self.type_ann()?;
                ExprKind::Nil
            }
            // `class` shares its instances by reference; Ruchy's values are copied on write
            // (language-choices: why, and what to write)
            Tok::Reserved("class") => {
                return Err(Diagnostic::parse(
                    "`class` is not supported: write a `struct` for the fields and an `impl` for the methods (`fun new(..) -> Point` instead of `init`, `&mut self` for a method that changes it); values are copied, not shared, so pass back what a function changes",
                    t.span,
                ))
            }
            Tok::Reserved(w) => {
                return Err(Diagnostic::parse(
                    format!("`{w}` is reserved and not supported by this engine"),
                    t.span,
                ))
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(self.mk(kind, start))
    }

    pub(super) fn label(&mut self) -> Option<Name> {
        if let Tok::Label(l) = self.tok().clone() {
            if !self.token().newline_before {
                self.advance();
                return Some(l);
            }
        }
        None
    }

    /// Whether an optional value follows `return`/`break` on the same line.
    pub(super) fn value_follows(&self) -> bool {
        !self.token().newline_before && starts_expr(self.tok()) && !self.at(&Tok::LBrace)
            || (!self.token().newline_before && self.at(&Tok::LBrace))
    }

    pub(super) fn ident_expr(&mut self, name: Name, start: Span) -> PResult<Expr> {
        self.advance();
        // `x => body`: one-parameter arrow lambda
        if self.at(&Tok::FatArrow) && !self.token().newline_before && !self.no_arrow {
            self.advance();
            let b = self.new_binding(name, start, false)?;
            let pat = Pattern {
                span: start,
                kind: PatKind::Bind(b),
            };
            let param = Param {
                pat,
                ty: None,
                default: None,
                span: start,
            };
            return self.lambda_body(vec![param], start);
        }
        // paths `A::B::c`
        if self.at(&Tok::ColonColon) {
            let mut path = vec![name];
            while self.eat(&Tok::ColonColon) {
                if self.at(&Tok::Lt) {
                    // turbofish `::<T>`: skip the generic arguments
                    self.generic_args()?;
                    continue;
                }
                path.push(self.path_segment()?);
            }
            if path.len() == 1 {
                let v = self.new_use(path.pop().unwrap_or_else(|| "".into()));
                return Ok(self.mk(ExprKind::Var(v), start));
            }
            if self.at(&Tok::LBrace) && !self.no_struct {
                return self.struct_lit(path, start);
            }
            return Ok(self.mk(ExprKind::Path(path), start));
        }
        if self.at(&Tok::LBrace)
            && !self.no_struct
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && self.struct_lit_ahead()
        {
            return self.struct_lit(vec![name], start);
        }
        let v = self.new_use(name);
        Ok(self.mk(ExprKind::Var(v), start))
    }

    /// After `Name`, on `{`: a struct literal has `}` or `field:` / `field,` / `field }` / `..`.
    pub(super) fn struct_lit_ahead(&self) -> bool {
        match self.peek_tok(1) {
            Tok::RBrace | Tok::DotDot => true,
            Tok::Ident(_) => matches!(self.peek_tok(2), Tok::Colon | Tok::Comma | Tok::RBrace),
            _ => false,
        }
    }

    pub(super) fn struct_lit(&mut self, path: Vec<Name>, start: Span) -> PResult<Expr> {
        self.expect(&Tok::LBrace, "to start a struct literal")?;
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut fields = Vec::new();
        let mut base = None;
        while !self.at(&Tok::RBrace) {
            if self.eat(&Tok::DotDot) {
                base = Some(Box::new(self.expr()?));
                break;
            }
            let (fname, fspan) = self.ident("a field name")?;
            let value = if self.eat(&Tok::Colon) {
                self.expr()?
            } else {
                let v = self.new_use(fname.clone());
                Expr {
                    kind: ExprKind::Var(v),
                    span: fspan,
                }
            };
            fields.push((fname, value));
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.no_struct = saved;
        self.expect(&Tok::RBrace, "to close the struct literal")?;
        let name: Name = path
            .iter()
            .map(|s| &**s)
            .collect::<Vec<_>>()
            .join("::")
            .into();
        Ok(self.mk(ExprKind::StructLit { name, fields, base }, start))
    }

    pub(super) fn paren(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut items = Vec::new();
        let mut trailing_comma = false;
        while !self.at(&Tok::RParen) {
            items.push(self.expr()?);
            trailing_comma = self.eat(&Tok::Comma);
            if !trailing_comma {
                break;
            }
        }
        self.no_struct = saved;
        self.expect(&Tok::RParen, "to close the parenthesis")?;
        // `(a, b) => body`: arrow lambda
        if self.at(&Tok::FatArrow) && !self.token().newline_before && !self.no_arrow {
            self.advance();
            let mut params = Vec::new();
            for item in items {
                let ExprKind::Var(v) = item.kind else {
                    return Err(Diagnostic::parse(
                        "Expected a parameter name in an arrow lambda",
                        item.span,
                    ));
                };
                let b = self.new_binding(v.name, item.span, false)?;
                params.push(Param {
                    pat: Pattern {
                        span: item.span,
                        kind: PatKind::Bind(b),
                    },
                    ty: None,
                    default: None,
                    span: item.span,
                });
            }
            return self.lambda_body(params, start);
        }
        if items.is_empty() {
            return Ok(self.mk(ExprKind::Nil, start));
        }
        if items.len() == 1 && !trailing_comma {
            let mut e = items.pop().unwrap_or_else(|| Expr {
                kind: ExprKind::Nil,
                span: start,
            });
            e.span = start.to(self.prev_span());
            return Ok(e);
        }
        Ok(self.mk(ExprKind::Tuple(items), start))
    }

    /// After `[`: an array literal, `[x; n]`, or a comprehension `[e for x in xs if c]`.
    pub(super) fn array_body(&mut self, start: Span, close: &Tok) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut items = Vec::new();
        if !self.at(close) {
            let first = self.expr()?;
            if self.eat(&Tok::Semi) {
                let count = self.expr()?;
                self.no_struct = saved;
                self.expect(close, "to close the array")?;
                return Ok(self.mk(
                    ExprKind::ArrayRepeat(Box::new(first), Box::new(count)),
                    start,
                ));
            }
            if self.eat(&Tok::For) {
                let pat = self.pattern()?;
                self.expect(&Tok::In, "in a comprehension")?;
                let iter = self.expr()?;
                let cond = if self.eat(&Tok::If) {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                self.no_struct = saved;
                self.expect(close, "to close the comprehension")?;
                return Ok(self.mk(
                    ExprKind::Comprehension(Box::new(Comprehension {
                        expr: first,
                        pat,
                        iter,
                        cond: cond.map(|c| *c),
                    })),
                    start,
                ));
            }
            items.push(first);
            while self.eat(&Tok::Comma) {
                if self.at(close) {
                    break;
                }
                items.push(self.expr()?);
            }
        }
        self.no_struct = saved;
        self.expect(close, "or `,` in the array")?;
        Ok(self.mk(ExprKind::Array(items), start))
    }

    /// `{` in expression position: an object literal (`{}`, `{a: 1}`, `{"k": v}`) or a block.
    pub(super) fn brace_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let is_object = match (self.peek_tok(1), self.peek_tok(2)) {
            (Tok::RBrace, _) => true,
            (Tok::Ident(_), Tok::Colon) | (Tok::Str(_), Tok::Colon) => true,
            _ => false,
        };
        if !is_object {
            return self.block();
        }
        self.advance();
        self.enter()?;
        let saved = std::mem::replace(&mut self.no_struct, false);
        let mut entries = Vec::new();
        while !self.at(&Tok::RBrace) {
            let key: Name = match self.tok().clone() {
                Tok::Ident(k) | Tok::Str(k) => {
                    self.advance();
                    k
                }
                _ => return Err(self.unexpected("a key (a name or a string) in the object")),
            };
            self.expect(&Tok::Colon, "after an object key")?;
            let value = self.expr()?;
            entries.push((key, value));
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.no_struct = saved;
        self.leave();
        self.expect(&Tok::RBrace, "or `,` in the object")?;
        Ok(self.mk(ExprKind::Object(entries), start))
    }

    pub(super) fn prefix_range(&mut self, start: Span) -> PResult<Expr> {
        let inclusive = self.advance().tok == Tok::DotDotEq;
        let end = if range_end_absent(self.tok()) {
            None
        } else {
            Some(Box::new(self.expr_bp(BP_RANGE + 1)?))
        };
        Ok(self.mk(
            ExprKind::Range {
                start: None,
                end,
                inclusive,
            },
            start,
        ))
    }

    pub(super) fn fstring(&mut self, pieces: &[FPiece]) -> PResult<Vec<FStrPart>> {
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                FPiece::Text(t) => parts.push(FStrPart::Text(t.clone())),
                FPiece::Hole {
                    source,
                    offset,
                    spec,
                    removed,
                } => {
                    let mut tokens = lex(source, *offset)?;
                    if !removed.is_empty() {
                        remap(&mut tokens, *offset, removed);
                    }
                    let outer = std::mem::replace(&mut self.tokens, tokens);
                    let outer_pos = std::mem::replace(&mut self.pos, 0);
                    let outer_ternaries = std::mem::take(&mut self.ternaries);
                    let result = self.expr().and_then(|e| {
                        if self.at(&Tok::Eof) {
                            Ok(e)
                        } else {
                            Err(self.unexpected("`}` to end the f-string hole"))
                        }
                    });
                    self.tokens = outer;
                    self.pos = outer_pos;
                    self.ternaries = outer_ternaries;
                    parts.push(FStrPart::Hole {
                        expr: result?,
                        spec: spec.as_deref().map(Into::into),
                    });
                }
            }
        }
        Ok(parts)
    }
}
