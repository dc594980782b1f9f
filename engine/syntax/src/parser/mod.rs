//! Parser: tokens to the syntax tree (spec sections 1-3, decisions D14, D17, D18, D21, D22).
//!
//! A Pratt parser. Binary operators are left-associative with the reference's precedence
//! table; prefix forms (`let`, `if`, `match`, lambdas, `return` ...) extend as far as possible.
//! A newline ends a complete expression unless the next line starts with an operator that
//! cannot begin an expression (D17). Nesting is limited so that no input can overflow the
//! stack of this or any later stage: past [`MAX_DEPTH`] the parser answers with a `limit`
//! diagnostic.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, DiagnosticKind, Span};
use crate::lexer::{lex, FPiece, Tok, Token};
use std::collections::HashMap;
use std::rc::Rc;

/// The deepest syntax tree the parser builds (nested brackets, blocks, and chains of binary
/// operators and postfix calls all count). Later stages recurse over the tree, so this bounds
/// their stack use too.
pub const MAX_DEPTH: u32 = 1000;

pub fn parse(source: &str) -> Result<Program, Diagnostic> {
    let _stack = crate::stack::enter();
    let tokens = lex(source, 0)?;
    let mut p = Parser {
        src: source,
        tokens,
        pos: 0,
        n_uses: 0,
        n_bindings: 0,
        n_fns: 0,
        depth: 0,
        no_struct: false,
        refutable: false,
        no_arrow: false,
        ternaries: HashMap::new(),
        pending: Vec::new(),
        statement_start: 0,
        pattern_defaults: None,
        traits: HashMap::new(),
    };
    let mut exprs = Vec::new();
    loop {
        while p.eat(&Tok::Semi) {}
        if p.at(&Tok::Eof) {
            break;
        }
        p.statement_into(&mut exprs)?;
    }
    Ok(Program {
        exprs,
        n_uses: p.n_uses,
        n_bindings: p.n_bindings,
        n_fns: p.n_fns,
    })
}

struct Parser<'s> {
    /// The source, to quote a keyword or operator as it was written.
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    n_uses: u32,
    n_bindings: u32,
    n_fns: u32,
    depth: u32,
    /// Set while parsing the head of `if`/`while`/`match`/`for`: `Name {` is not a struct
    /// literal there (D14).
    no_struct: bool,
    /// Set while parsing a pattern that may fail (`match`, `if let`, `catch`): a bare
    /// uppercase name there is a variant or constant; elsewhere it is a binding.
    refutable: bool,
    /// Set while parsing a match guard: `limit => ...` there ends the guard, it does not
    /// start an arrow lambda.
    no_arrow: bool,
    /// Whether the `?` at a token position (in a mode: `no_struct`, `refutable`, `no_arrow`)
    /// starts a ternary: see [`Parser::ternary_ahead`].
    ternaries: HashMap<(usize, bool, bool, bool), bool>,
    /// Items a statement brought along, placed after it: the `impl` of methods written in a
    /// struct's body.
    pending: Vec<Expr>,
    /// Where the statement being parsed starts (a `let` with pattern defaults is one only there).
    statement_start: u32,
    /// While the top level of a `let`'s object pattern is parsed: its fields with defaults
    /// (`{ a, b = 2 }`), which [`Parser::let_expr`] reads after the value.
    pattern_defaults: Option<Vec<(Name, Binding, Expr)>>,
    /// The default methods of the traits parsed so far: name and the position of its `fun`.
    /// An `impl Trait for T` after the trait in the same source parses the defaults T lacks
    /// again, as its own methods (fresh names, spans in the trait's text).
    traits: HashMap<Name, Vec<(Name, usize)>>,
}

type PResult<T> = Result<T, Diagnostic>;

// binding powers (higher binds tighter), spec section 3
const BP_ASSIGN: u8 = 1;
const BP_OR: u8 = 1;
const BP_COALESCE: u8 = 2;
const BP_AND: u8 = 3;
const BP_BITOR: u8 = 4;
const BP_RANGE: u8 = 5;
const BP_BITAND: u8 = 6;
const BP_EQ: u8 = 7;
const BP_CMP: u8 = 8;
const BP_SHIFT: u8 = 9;
const BP_ADD: u8 = 10;
const BP_MUL: u8 = 11;
const BP_POW: u8 = 12;
const BP_PREFIX: u8 = 13;

impl Parser<'_> {
    // ---- token helpers -------------------------------------------------------------------

    fn tok(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }

    fn token(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_tok(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.token().span
    }

    fn prev_span(&self) -> Span {
        if self.pos == 0 {
            Span::default()
        } else {
            self.tokens[self.pos - 1].span
        }
    }

    fn at(&self, t: &Tok) -> bool {
        self.tok() == t
    }

    fn advance(&mut self) -> Token {
        let t = self.token().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> PResult<Span> {
        if self.at(t) {
            Ok(self.advance().span)
        } else {
            Err(self.unexpected(&format!("`{}` {what}", t.text())))
        }
    }

    fn unexpected(&self, expected: &str) -> Diagnostic {
        let t = self.token();
        if t.tok == Tok::Eof {
            return Diagnostic::parse(
                format!("Unexpected end of input: expected {expected}"),
                t.span,
            );
        }
        // keywords and operators as written (`fn`, not its synonym `fun`)
        let found = match (&t.tok, t.tok.text()) {
            (_, "") => t.tok.describe(),
            _ => match self.src.get(t.span.start as usize..t.span.end as usize) {
                Some(text) if !text.is_empty() => format!("`{text}`"),
                _ => t.tok.describe(),
            },
        };
        Diagnostic::parse(format!("Expected {expected}, found {found}"), t.span)
    }

    fn ident(&mut self, what: &str) -> PResult<(Name, Span)> {
        match self.tok().clone() {
            Tok::Ident(name) => {
                let span = self.advance().span;
                Ok((name, span))
            }
            Tok::Reserved(word) => Err(Diagnostic::parse(
                format!("`{word}` is a reserved word and cannot be used as {what}"),
                self.span(),
            )),
            _ => Err(self.unexpected(what)),
        }
    }

    /// A name after `::`: reserved words are names there too (`String::from`).
    fn path_segment(&mut self) -> PResult<Name> {
        if let Tok::Reserved(word) = self.tok().clone() {
            self.advance();
            return Ok(word.into());
        }
        Ok(self.ident("a name after `::`")?.0)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if !crate::stack::ok() {
            return Err(crate::stack::too_deep(self.span()));
        }
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::new(
                DiagnosticKind::Limit,
                format!("Nesting too deep: more than {MAX_DEPTH} levels of nested expressions"),
                self.span(),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn new_use(&mut self, name: Name) -> VarRef {
        self.n_uses += 1;
        VarRef {
            name,
            id: self.n_uses - 1,
        }
    }

    fn new_binding(&mut self, name: Name, span: Span, mutable: bool) -> PResult<Binding> {
        if matches!(&*name, "Some" | "None" | "Ok" | "Err") {
            return Err(Diagnostic::parse(
                format!("`{name}` is a keyword and cannot be used as a name"),
                span,
            ));
        }
        self.n_bindings += 1;
        Ok(Binding {
            name,
            id: self.n_bindings - 1,
            span,
            mutable,
        })
    }

    fn mk(&self, kind: ExprKind, start: Span) -> Expr {
        Expr {
            kind,
            span: start.to(self.prev_span()),
        }
    }

    // ---- statements and blocks -----------------------------------------------------------

    /// One element of a block or program: an expression, with item forms allowed.
    fn statement(&mut self) -> PResult<Expr> {
        self.visibility();
        self.expr()
    }

    /// `*map.entry(k).or_insert(v) += e` (the parser wrote the target `map.or_insert(k, v)`):
    /// `{ let key = k; map.or_insert(key, v); map[key] += e }`, the key computed once.
    /// `None` for any other target.
    fn entry_assign(
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
    fn destructuring_assign(&mut self, target: Expr, value: Expr, start: Span) -> PResult<Expr> {
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
    fn target_pattern(&mut self, t: &Expr, assigns: &mut Vec<Expr>) -> PResult<Pattern> {
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
    fn statement_into(&mut self, out: &mut Vec<Expr>) -> PResult<()> {
        self.statement_start = self.span().start;
        let e = self.statement()?;
        out.push(e);
        out.append(&mut self.pending);
        Ok(())
    }

    /// `pub`, `pub(crate)`, `pub(super)`, `pub(self)`, `pub(in path)`: accepted and meaning
    /// nothing (a session is one namespace).
    fn visibility(&mut self) {
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
    fn block(&mut self) -> PResult<Expr> {
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

    // ---- expressions ---------------------------------------------------------------------

    pub fn expr(&mut self) -> PResult<Expr> {
        self.expr_bp(0)
    }

    fn expr_no_struct(&mut self) -> PResult<Expr> {
        let saved = std::mem::replace(&mut self.no_struct, true);
        let e = self.expr_bp(0);
        self.no_struct = saved;
        e
    }

    fn expr_bp(&mut self, min_bp: u8) -> PResult<Expr> {
        self.enter()?;
        let result = self.expr_bp_inner(min_bp);
        self.leave();
        result
    }

    fn expr_bp_inner(&mut self, min_bp: u8) -> PResult<Expr> {
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
    fn postfix(&mut self, lhs: Expr, start: Span, token: &Token) -> PResult<Expr> {
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
    fn is_macro_bang(&self, lhs: &Expr) -> bool {
        matches!(lhs.kind, ExprKind::Var(_))
            && self.token().span.start == lhs.span.end
            && matches!(self.peek_tok(1), Tok::LParen | Tok::LBracket)
    }

    fn macro_call(&mut self, lhs: Expr, start: Span) -> PResult<Expr> {
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
    fn inline_format_args(&mut self, args: &mut Vec<Expr>) {
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
    fn index_expr(&mut self) -> PResult<Expr> {
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

    fn member(&mut self, lhs: Expr, start: Span, optional: bool) -> PResult<Expr> {
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

    fn tuple_float_text(&self, span: Span) -> String {
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
    fn ternary_ahead(&mut self) -> PResult<bool> {
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
    fn try_ternary(&mut self, cond: Expr, start: Span) -> PResult<Result<Expr, Expr>> {
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

    fn infix(
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

    fn args(&mut self, close: &Tok) -> PResult<Vec<Expr>> {
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

    fn prefix(&mut self) -> PResult<Expr> {
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

    fn label(&mut self) -> Option<Name> {
        if let Tok::Label(l) = self.tok().clone() {
            if !self.token().newline_before {
                self.advance();
                return Some(l);
            }
        }
        None
    }

    /// Whether an optional value follows `return`/`break` on the same line.
    fn value_follows(&self) -> bool {
        !self.token().newline_before && starts_expr(self.tok()) && !self.at(&Tok::LBrace)
            || (!self.token().newline_before && self.at(&Tok::LBrace))
    }

    fn ident_expr(&mut self, name: Name, start: Span) -> PResult<Expr> {
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
    fn struct_lit_ahead(&self) -> bool {
        match self.peek_tok(1) {
            Tok::RBrace | Tok::DotDot => true,
            Tok::Ident(_) => matches!(self.peek_tok(2), Tok::Colon | Tok::Comma | Tok::RBrace),
            _ => false,
        }
    }

    fn struct_lit(&mut self, path: Vec<Name>, start: Span) -> PResult<Expr> {
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

    fn paren(&mut self, start: Span) -> PResult<Expr> {
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
    fn array_body(&mut self, start: Span, close: &Tok) -> PResult<Expr> {
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
    fn brace_expr(&mut self) -> PResult<Expr> {
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

    fn prefix_range(&mut self, start: Span) -> PResult<Expr> {
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

    fn fstring(&mut self, pieces: &[FPiece]) -> PResult<Vec<FStrPart>> {
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

    // ---- binding forms -------------------------------------------------------------------

    fn let_expr(&mut self, start: Span) -> PResult<Expr> {
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
    fn let_with_defaults(
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

    fn if_expr(&mut self, start: Span) -> PResult<Expr> {
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

    fn else_branch(&mut self) -> PResult<Option<Expr>> {
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

    fn match_expr(&mut self, start: Span) -> PResult<Expr> {
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

    fn while_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
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

    fn loop_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
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

    fn for_expr(&mut self, start: Span, label: Option<Name>) -> PResult<Expr> {
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

    fn try_expr(&mut self, start: Span) -> PResult<Expr> {
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

    // ---- functions -----------------------------------------------------------------------

    fn new_fn_id(&mut self) -> FnId {
        self.n_fns += 1;
        self.n_fns - 1
    }

    fn fun(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.at(&Tok::LParen) {
            // anonymous `fun(x) { x + 1 }`
            let params = self.params(&Tok::LParen, &Tok::RParen)?.1;
            let ret = self.ret_type()?;
            let body = self.block()?;
            let id = self.new_fn_id();
            let def = FnDef {
                id,
                name: None,
                self_kind: SelfKind::None,
                self_binding: None,
                params,
                ret,
                body: Box::new(body),
                span: start.to(self.prev_span()),
            };
            return Ok(self.mk(ExprKind::Fn(Rc::new(def)), start));
        }
        let def = self.fn_def(start)?;
        Ok(self.mk(ExprKind::Fn(Rc::new(def)), start))
    }

    /// A named function after `fun`/`fn`: `name<T>(params) -> Ret where .. { body }`.
    fn fn_def(&mut self, start: Span) -> PResult<FnDef> {
        let (name, name_span) = self.ident("a function name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let (self_kind, params) = self.params(&Tok::LParen, &Tok::RParen)?;
        let ret = self.ret_type()?;
        if self.eat(&Tok::Where) {
            while !self.at(&Tok::LBrace) && !self.at(&Tok::Eof) {
                self.advance();
            }
        }
        let body = self.block()?;
        let binding = self.new_binding(name, name_span, false)?;
        let self_binding = if self_kind == SelfKind::None {
            None
        } else {
            Some(self.new_binding("self".into(), start, true)?)
        };
        let id = self.new_fn_id();
        Ok(FnDef {
            id,
            name: Some(binding),
            self_kind,
            self_binding,
            params,
            ret,
            body: Box::new(body),
            span: start.to(self.prev_span()),
        })
    }

    fn ret_type(&mut self) -> PResult<Option<TypeAnn>> {
        if self.eat(&Tok::Arrow) {
            Ok(Some(self.type_ann()?))
        } else {
            Ok(None)
        }
    }

    /// A parameter list; returns how `self` is taken (for methods) and the other parameters.
    fn params(&mut self, open: &Tok, close: &Tok) -> PResult<(SelfKind, Vec<Param>)> {
        self.expect(open, "to start the parameter list")?;
        let mut self_kind = SelfKind::None;
        let mut params = Vec::new();
        while !self.at(close) {
            let pstart = self.span();
            // receivers: self, &self, &mut self, mut self, self: Type
            let save = self.pos;
            let is_ref = self.eat(&Tok::Amp);
            let is_mut = self.eat(&Tok::Mut);
            if params.is_empty() && self_kind == SelfKind::None && self.eat(&Tok::SelfLower) {
                self_kind = if is_mut {
                    SelfKind::Mut
                } else {
                    SelfKind::Value
                };
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                }
                let _ = is_ref;
                if !self.eat(&Tok::Comma) {
                    break;
                }
                continue;
            }
            self.pos = save;
            let mutable = self.eat(&Tok::Mut);
            // no or-patterns here: `|` closes a lambda's parameter list
            self.enter()?;
            let pat = self.pattern_single(mutable);
            self.leave();
            let pat = pat?;
            let ty = if self.eat(&Tok::Colon) {
                Some(self.type_ann()?)
            } else {
                None
            };
            let default = if self.eat(&Tok::Eq) {
                Some(self.expr()?)
            } else {
                None
            };
            params.push(Param {
                pat,
                ty,
                default,
                span: pstart.to(self.prev_span()),
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(close, "or `,` in the parameter list")?;
        Ok((self_kind, params))
    }

    fn lambda(&mut self, start: Span) -> PResult<Expr> {
        let params = if self.eat(&Tok::OrOr) {
            Vec::new()
        } else {
            self.params(&Tok::Pipe, &Tok::Pipe)?.1
        };
        self.lambda_body(params, start)
    }

    fn lambda_body(&mut self, params: Vec<Param>, start: Span) -> PResult<Expr> {
        let ret = self.ret_type()?;
        // `|| {}` is an empty block (nil, D22), not an empty object
        let body = if ret.is_some() || self.at(&Tok::LBrace) && self.peek_tok(1) == &Tok::RBrace {
            self.block()?
        } else {
            self.expr()?
        };
        let id = self.new_fn_id();
        let def = FnDef {
            id,
            name: None,
            self_kind: SelfKind::None,
            self_binding: None,
            params,
            ret,
            body: Box::new(body),
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Fn(Rc::new(def)), start))
    }

    // ---- type definitions ----------------------------------------------------------------

    fn struct_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("a struct name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let mut fields = Vec::new();
        let mut defaults = Vec::new();
        let mut methods = Vec::new();
        let tuple;
        if self.eat(&Tok::LParen) {
            tuple = true;
            let mut i = 0;
            while !self.at(&Tok::RParen) {
                self.visibility();
                fields.push((i.to_string().into(), self.type_ann()?));
                defaults.push(None);
                i += 1;
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "to close the tuple struct")?;
        } else if self.eat(&Tok::LBrace) {
            tuple = false;
            while !self.at(&Tok::RBrace) {
                self.visibility();
                // a method written in the body: as if in an `impl` after the struct
                if self.at(&Tok::Fun)
                    || self.at(&Tok::Const) && matches!(self.peek_tok(1), Tok::Fun)
                {
                    self.eat(&Tok::Const);
                    let mstart = self.span();
                    self.advance();
                    methods.push(Rc::new(self.fn_def(mstart)?));
                    while self.eat(&Tok::Comma) || self.eat(&Tok::Semi) {}
                    continue;
                }
                let (f, fspan) = self.ident("a field name")?;
                if fields.iter().any(|(n, _)| *n == f) {
                    return Err(Diagnostic::parse(
                        format!("field `{f}` is declared twice"),
                        fspan,
                    ));
                }
                self.expect(&Tok::Colon, "after the field name")?;
                let ty = self.type_ann()?;
                defaults.push(if self.eat(&Tok::Eq) {
                    Some(self.expr()?)
                } else {
                    None
                });
                fields.push((f, ty));
                if !self.eat(&Tok::Comma) && !matches!(self.tok(), Tok::Fun | Tok::Pub | Tok::Const)
                {
                    break;
                }
            }
            self.expect(&Tok::RBrace, "or `,` in the struct definition")?;
        } else {
            tuple = false; // unit struct
        }
        let span = start.to(self.prev_span());
        if !methods.is_empty() {
            let imp = ImplDef {
                type_name: name.clone(),
                trait_name: None,
                methods,
                span,
            };
            self.pending.push(Expr {
                kind: ExprKind::Impl(Rc::new(imp)),
                span,
            });
        }
        let def = StructDef {
            name,
            fields,
            defaults,
            tuple,
            span,
        };
        Ok(self.mk(ExprKind::Struct(Rc::new(def)), start))
    }

    fn enum_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("an enum name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        self.expect(&Tok::LBrace, "to start the enum variants")?;
        let mut variants: Vec<VariantDef> = Vec::new();
        while !self.at(&Tok::RBrace) {
            let vstart = self.span();
            let (vname, vspan) = self.ident("a variant name")?;
            if variants.iter().any(|v| v.name == vname) {
                return Err(Diagnostic::parse(
                    format!("variant `{vname}` is declared twice"),
                    vspan,
                ));
            }
            let shape = if self.eat(&Tok::LParen) {
                let mut tys = Vec::new();
                while !self.at(&Tok::RParen) {
                    tys.push(self.type_ann()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "to close the variant")?;
                VariantShape::Tuple(tys)
            } else if self.eat(&Tok::LBrace) {
                let mut fs = Vec::new();
                while !self.at(&Tok::RBrace) {
                    let (f, _) = self.ident("a field name")?;
                    self.expect(&Tok::Colon, "after the field name")?;
                    fs.push((f, self.type_ann()?));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RBrace, "to close the variant")?;
                VariantShape::Struct(fs)
            } else {
                VariantShape::Unit
            };
            let discriminant = if self.eat(&Tok::Eq) {
                let neg = self.eat(&Tok::Minus);
                match self.tok().clone() {
                    Tok::Int(n) => {
                        self.advance();
                        Some(if neg { -n } else { n })
                    }
                    _ => return Err(self.unexpected("an integer discriminant")),
                }
            } else {
                None
            };
            variants.push(VariantDef {
                name: vname,
                shape,
                discriminant,
                span: vstart.to(self.prev_span()),
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBrace, "or `,` in the enum definition")?;
        let def = EnumDef {
            name,
            variants,
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Enum(Rc::new(def)), start))
    }

    fn impl_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let (mut type_name, _) = self.ident("a type name after `impl`")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let mut trait_name = None;
        if self.eat(&Tok::For) {
            // `impl Trait for Type`: the trait's default methods come along
            trait_name = Some(type_name);
            // a type: `Point`, `i32`, `&str`, `Vec<T>`, `[T]`
            type_name = match self.type_ann()? {
                TypeAnn::Named(n, _) => n,
                TypeAnn::Ref(t) => match *t {
                    TypeAnn::Named(n, _) => n,
                    TypeAnn::Array(..) => "[T]".into(),
                    _ => return Err(self.unexpected("a type name after `for`")),
                },
                TypeAnn::Array(..) => "[T]".into(),
                _ => return Err(self.unexpected("a type name after `for`")),
            };
        }
        self.expect(&Tok::LBrace, "to start the impl block")?;
        let mut methods = self.method_list()?;
        let span = start.to(self.prev_span());
        // the trait's defaults this impl lacks, parsed again as its own (same source only;
        // a trait from an earlier cell gives them at run time)
        let defaults = trait_name
            .as_ref()
            .and_then(|t| self.traits.get(t))
            .cloned()
            .unwrap_or_default();
        for (name, at) in defaults {
            let own = methods
                .iter()
                .any(|m| m.name.as_ref().is_some_and(|b| b.name == name));
            if own {
                continue;
            }
            let save = self.pos;
            self.pos = at;
            let mstart = self.span();
            self.advance();
            let m = self.fn_def(mstart);
            self.pos = save;
            methods.push(Rc::new(m?));
        }
        let def = ImplDef {
            type_name,
            trait_name,
            methods,
            span,
        };
        Ok(self.mk(ExprKind::Impl(Rc::new(def)), start))
    }

    /// Functions inside `impl { }` or `trait { }`, up to and including the `}`.
    fn method_list(&mut self) -> PResult<Vec<Rc<FnDef>>> {
        Ok(self.method_list_at()?.into_iter().map(|(_, m)| m).collect())
    }

    /// [`Parser::method_list`], with the token position of each method's `fun`.
    fn method_list_at(&mut self) -> PResult<Vec<(usize, Rc<FnDef>)>> {
        let mut methods = Vec::new();
        loop {
            while self.eat(&Tok::Semi) || self.at(&Tok::Pub) {
                self.visibility();
            }
            self.eat(&Tok::Const);
            if self.eat(&Tok::RBrace) {
                break;
            }
            // an associated type (`type Item;`, `type Item = i32;`): accepted, as type aliases
            // are, and meaning nothing (values carry their types)
            if self.eat(&Tok::Type) {
                self.ident("an associated type name")?;
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
                if self.eat(&Tok::Eq) {
                    self.type_ann()?;
                }
                self.eat(&Tok::Semi);
                continue;
            }
            let mstart = self.span();
            let at = self.pos;
            if !self.eat(&Tok::Fun) {
                return Err(self.unexpected("`fun` or `}` in the impl block"));
            }
            // a trait method without a body: `fn name(&self) -> T;`
            let save = self.pos;
            if let Ok((_, _)) = self.ident("a method name") {
                if self.at(&Tok::Lt) {
                    self.generic_args()?;
                }
                if self.at(&Tok::LParen) {
                    self.params(&Tok::LParen, &Tok::RParen)?;
                    self.ret_type()?;
                    // a signature ends with `;` or its line (no body follows)
                    if self.eat(&Tok::Semi) || !self.at(&Tok::LBrace) && !self.at(&Tok::Where) {
                        continue;
                    }
                }
            }
            self.pos = save;
            methods.push((at, Rc::new(self.fn_def(mstart)?)));
        }
        Ok(methods)
    }

    /// `trait Name { fn a(&self); fn b(&self) { default } }`: default methods are ignored
    /// unless an `impl` provides them; a trait is accepted as documentation.
    fn trait_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("a trait name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        self.expect(&Tok::LBrace, "to start the trait")?;
        // the methods with a body are the defaults; signatures alone are documentation
        let listed = self.method_list_at()?;
        if listed.is_empty() {
            return Ok(self.mk(ExprKind::Nil, start));
        }
        let positions = listed
            .iter()
            .filter_map(|(at, m)| Some((m.name.as_ref()?.name.clone(), *at)))
            .collect();
        self.traits.insert(name.clone(), positions);
        let methods = listed.into_iter().map(|(_, m)| m).collect();
        let def = ImplDef {
            type_name: format!("trait {name}").into(),
            trait_name: None,
            methods,
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Impl(Rc::new(def)), start))
    }

    // ---- types ---------------------------------------------------------------------------

    /// `<...>` generic parameters or arguments, skipped with nesting (`>>` counts twice).
    fn generic_args(&mut self) -> PResult<Vec<TypeAnn>> {
        self.expect(&Tok::Lt, "to start generic arguments")?;
        let mut args = Vec::new();
        loop {
            if self.close_angle() {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(self.unexpected("`>` to close the generic arguments"));
            }
            if let Tok::Label(_) = self.tok() {
                self.advance(); // a lifetime, and its bounds (`'b: 'a + 'c`)
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
            } else {
                args.push(self.type_ann()?);
                // bounds `T: Display + Clone`
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
            }
            if !self.eat(&Tok::Comma) {
                if !self.close_angle() {
                    return Err(self.unexpected("`>` or `,` in the generic arguments"));
                }
                break;
            }
        }
        Ok(args)
    }

    /// Consumes one `>`, splitting `>>`/`>=`/`>>=` tokens as Rust does.
    fn close_angle(&mut self) -> bool {
        let t = self.token().clone();
        let rest = match t.tok {
            Tok::Gt => {
                self.advance();
                return true;
            }
            Tok::Shr => Tok::Gt,
            Tok::Ge => Tok::Eq,
            Tok::ShrEq => Tok::Ge,
            _ => return false,
        };
        let i = self.pos.min(self.tokens.len() - 1);
        self.tokens[i].tok = rest;
        self.tokens[i].span.start += 1;
        true
    }

    fn type_ann(&mut self) -> PResult<TypeAnn> {
        self.enter()?;
        let t = self.type_inner();
        self.leave();
        t
    }

    fn type_inner(&mut self) -> PResult<TypeAnn> {
        match self.tok().clone() {
            Tok::Amp | Tok::AndAnd => {
                self.advance();
                if let Tok::Label(_) = self.tok() {
                    self.advance();
                }
                self.eat(&Tok::Mut);
                Ok(TypeAnn::Ref(Box::new(self.type_ann()?)))
            }
            Tok::Star => {
                self.advance();
                if !self.eat(&Tok::Mut) {
                    self.eat(&Tok::Const);
                }
                Ok(TypeAnn::Ref(Box::new(self.type_ann()?)))
            }
            Tok::LBracket => {
                self.advance();
                let elem = self.type_ann()?;
                let len = if self.eat(&Tok::Semi) {
                    match self.tok().clone() {
                        Tok::Int(n) => {
                            self.advance();
                            Some(n)
                        }
                        _ => {
                            self.expr()?;
                            None
                        }
                    }
                } else {
                    None
                };
                self.expect(&Tok::RBracket, "to close the array type")?;
                Ok(TypeAnn::Array(Box::new(elem), len))
            }
            Tok::LParen => {
                self.advance();
                let mut items = Vec::new();
                while !self.at(&Tok::RParen) {
                    items.push(self.type_ann()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "to close the tuple type")?;
                Ok(TypeAnn::Tuple(items))
            }
            Tok::Fun => {
                self.advance();
                self.fn_type_tail()
            }
            Tok::Ident(name) if &*name == "_" => {
                self.advance();
                Ok(TypeAnn::Infer)
            }
            // a lifetime as a bound (`T: 'a`, `'b: 'a`): nothing to check
            Tok::Label(_) => {
                self.advance();
                Ok(TypeAnn::Infer)
            }
            Tok::Ident(name) if &*name == "dyn" => {
                self.advance();
                self.type_ann()
            }
            Tok::Impl => {
                self.advance();
                let t = self.type_ann()?;
                while self.eat(&Tok::Plus) {
                    self.type_ann()?;
                }
                Ok(t)
            }
            Tok::Ident(mut name) => {
                self.advance();
                while self.eat(&Tok::ColonColon) {
                    name = self.ident("a type name")?.0;
                }
                if matches!(&*name, "Fn" | "FnMut" | "FnOnce") && self.at(&Tok::LParen) {
                    return self.fn_type_tail();
                }
                let args = if self.at(&Tok::Lt) {
                    self.generic_args()?
                } else {
                    Vec::new()
                };
                Ok(TypeAnn::Named(name, args))
            }
            Tok::SelfLower => {
                self.advance();
                Ok(TypeAnn::Named("Self".into(), Vec::new()))
            }
            _ => Err(self.unexpected("a type")),
        }
    }

    fn fn_type_tail(&mut self) -> PResult<TypeAnn> {
        self.expect(&Tok::LParen, "in a function type")?;
        let mut params = Vec::new();
        while !self.at(&Tok::RParen) {
            params.push(self.type_ann()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "to close the function type")?;
        let ret = if self.eat(&Tok::Arrow) {
            Some(Box::new(self.type_ann()?))
        } else {
            None
        };
        Ok(TypeAnn::Fn(params, ret))
    }

    // ---- patterns ------------------------------------------------------------------------

    fn pattern(&mut self) -> PResult<Pattern> {
        self.pattern_with_mut(false)
    }

    /// After `{` of a struct or object pattern, through `}`: `name` (binds the field's value
    /// to its name), `name: pattern`, and a final `..` (other fields allowed, as they are
    /// anyway in an object pattern).
    fn field_patterns(&mut self, mutable: bool) -> PResult<(Vec<(Name, Pattern)>, bool)> {
        // defaults belong to the `let` pattern's own top level, not to patterns inside it
        let mut defaults = self.pattern_defaults.take();
        let r = self.field_patterns_with(mutable, &mut defaults);
        self.pattern_defaults = defaults;
        r
    }

    fn field_patterns_with(
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
    fn refutable_pattern(&mut self) -> PResult<Pattern> {
        let saved = std::mem::replace(&mut self.refutable, true);
        let p = self.pattern();
        self.refutable = saved;
        p
    }

    fn pattern_with_mut(&mut self, mutable: bool) -> PResult<Pattern> {
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

    fn pattern_single(&mut self, mutable: bool) -> PResult<Pattern> {
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

    fn literal_pattern_value(&mut self) -> PResult<Expr> {
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

fn check_assign_target(target: &Expr) -> PResult<()> {
    match &target.kind {
        ExprKind::Var(_)
        | ExprKind::Index(..)
        | ExprKind::Field { .. }
        | ExprKind::TupleField(..) => Ok(()),
        _ => Err(Diagnostic::parse(
            "Invalid assignment target: expected a variable, field or index",
            target.span,
        )),
    }
}

/// Moves token spans found in an unescaped f-string hole back to the positions of the
/// written text (one byte right for each removed backslash before them).
fn remap(tokens: &mut [Token], base: u32, removed: &[u32]) {
    let before = |p: u32, inclusive: bool| {
        let rel = p.saturating_sub(base);
        removed
            .iter()
            .filter(|&&r| if inclusive { r <= rel } else { r < rel })
            .count() as u32
    };
    for t in tokens.iter_mut() {
        // a start moves past removals at or before it; an end (after its last byte) only
        // past removals strictly before it
        t.span.start += before(t.span.start, true);
        t.span.end += before(t.span.end, false);
        if let Tok::FStr(pieces) = &t.tok {
            let moved: Vec<FPiece> = pieces
                .iter()
                .map(|p| match p {
                    FPiece::Hole {
                        source,
                        offset,
                        spec,
                        removed: inner,
                    } => FPiece::Hole {
                        source: source.clone(),
                        offset: offset + before(*offset, true),
                        spec: spec.clone(),
                        removed: inner.clone(),
                    },
                    other => other.clone(),
                })
                .collect();
            t.tok = Tok::FStr(moved.into());
        }
    }
}

/// Tokens that start a postfix form (the macro `!` is checked separately).
fn is_postfix(t: &Tok) -> bool {
    matches!(
        t,
        Tok::LParen
            | Tok::LBracket
            | Tok::Dot
            | Tok::QuestionDot
            | Tok::Question
            | Tok::As
            | Tok::PlusPlus
            | Tok::MinusMinus
    )
}

/// Tokens that, at the start of a line, continue the previous line's expression (D17).
fn continues_line(t: &Tok) -> bool {
    use Tok::*;
    matches!(
        t,
        Dot | QuestionDot
            | PipeGt
            | AndAnd
            | OrOr
            | Plus
            | Star
            | Slash
            | Percent
            | StarStar
            | EqEq
            | NotEq
            | Lt
            | Le
            | Gt
            | Ge
            | DotDot
            | DotDotEq
            | Caret
            | Shl
            | Shr
            | QuestionQuestion
            | Question
    )
}

/// Whether a token can begin an expression.
fn starts_expr(t: &Tok) -> bool {
    use Tok::*;
    !matches!(
        t,
        RParen
            | RBracket
            | RBrace
            | Comma
            | Semi
            | Colon
            | Eof
            | Dot
            | FatArrow
            | Arrow
            | Else
            | Catch
            | Finally
            | In
            | Eq
            | Question
            | QuestionDot
            | Star
            | Slash
            | Percent
            | StarStar
            | EqEq
            | NotEq
            | Lt
            | Le
            | Gt
            | Ge
            | Caret
            | Shl
            | Shr
            | QuestionQuestion
            | PlusEq
            | MinusEq
            | StarEq
            | SlashEq
            | PercentEq
            | StarStarEq
            | AmpEq
            | PipeEq
            | CaretEq
            | ShlEq
            | ShrEq
            | PipeGt
            | As
    )
}

/// Tokens after `..` that mean the range has no end: `a[2..]`, `(1..)`.
fn range_end_absent(t: &Tok) -> bool {
    matches!(
        t,
        Tok::RBracket | Tok::RParen | Tok::RBrace | Tok::Comma | Tok::Semi | Tok::Eof | Tok::LBrace
    )
}

fn compound_op(t: &Tok) -> Option<BinOp> {
    Some(match t {
        Tok::PlusEq => BinOp::Add,
        Tok::MinusEq => BinOp::Sub,
        Tok::StarEq => BinOp::Mul,
        Tok::SlashEq => BinOp::Div,
        Tok::PercentEq => BinOp::Rem,
        Tok::StarStarEq => BinOp::Pow,
        Tok::AmpEq => BinOp::BitAnd,
        Tok::PipeEq => BinOp::BitOr,
        Tok::CaretEq => BinOp::BitXor,
        Tok::ShlEq => BinOp::Shl,
        Tok::ShrEq => BinOp::Shr,
        _ => return None,
    })
}

fn binop(t: &Tok) -> Option<BinOp> {
    Some(match t {
        Tok::Plus => BinOp::Add,
        Tok::Minus => BinOp::Sub,
        Tok::Star => BinOp::Mul,
        Tok::Slash => BinOp::Div,
        Tok::Percent => BinOp::Rem,
        Tok::StarStar => BinOp::Pow,
        Tok::EqEq => BinOp::Eq,
        Tok::NotEq => BinOp::Ne,
        Tok::Lt => BinOp::Lt,
        Tok::Le => BinOp::Le,
        Tok::Gt => BinOp::Gt,
        Tok::Ge => BinOp::Ge,
        Tok::Amp => BinOp::BitAnd,
        Tok::Pipe => BinOp::BitOr,
        Tok::Caret => BinOp::BitXor,
        Tok::Shl => BinOp::Shl,
        Tok::Shr => BinOp::Shr,
        _ => return None,
    })
}

/// Binding power and right-associativity of an infix token.
fn infix_bp(t: &Tok) -> Option<(u8, bool)> {
    use Tok::*;
    Some(match t {
        Eq | PlusEq | MinusEq | StarEq | SlashEq | PercentEq | StarStarEq | AmpEq | PipeEq
        | CaretEq | ShlEq | ShrEq => (BP_ASSIGN, true),
        OrOr => (BP_OR, false),
        QuestionQuestion => (BP_COALESCE, false),
        AndAnd | PipeGt => (BP_AND, false),
        Pipe => (BP_BITOR, false),
        Caret | DotDot | DotDotEq => (BP_RANGE, false),
        Amp => (BP_BITAND, false),
        EqEq | NotEq => (BP_EQ, false),
        Lt | Le | Gt | Ge => (BP_CMP, false),
        Shl | Shr => (BP_SHIFT, false),
        Plus | Minus => (BP_ADD, false),
        Star | Slash | Percent => (BP_MUL, false),
        StarStar => (BP_POW, false),
        _ => return None,
    })
}

/// A method's type arguments (`::<T>`), as hints. `parse::<T>()` is Rust's parse: the type's
/// name becomes its argument (`parse("i32")`: a Result, see `methods::parse_as`);
/// `collect::<Vec<_>>()` is `collect()` and `collect::<String>()` is `join("")`; `sum` and
/// `product` take theirs as the type they already give. Anything else would be a type
/// argument that changes nothing while the program says it should, so it is an error.
/// `let pat: ty = value` as a statement the parser writes itself (a desugaring's).
fn plain_let(pat: Pattern, ty: Option<TypeAnn>, value: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Let(Box::new(LetExpr {
            pat,
            ty,
            value,
            body: None,
            else_block: None,
        })),
        span,
    }
}

/// The collection a `collect::<T>()` names (`HashSet<_>`, `BTreeMap<_, _>`).
fn collection_named(method: &str, types: &[TypeAnn]) -> Option<crate::ast::CollectionKind> {
    match (method, types) {
        ("collect", [TypeAnn::Named(n, _)]) => crate::ast::CollectionKind::named(n),
        _ => None,
    }
}

/// `Kind::from(items)`: what collecting into a collection is.
fn collect_into(kind: crate::ast::CollectionKind, items: Expr, at: Span) -> ExprKind {
    ExprKind::Call {
        callee: Box::new(Expr {
            kind: ExprKind::Path(vec![kind.name().into(), "from".into()]),
            span: at,
        }),
        args: vec![items],
    }
}

fn turbofish(method: &mut Name, types: &[TypeAnn], args: &mut Vec<Expr>, at: Span) -> PResult<()> {
    let named = |t: &TypeAnn| match t {
        TypeAnn::Named(n, _) => Some(n.clone()),
        _ => None,
    };
    let refuse = |what: &str| {
        Err(Diagnostic::parse(
            format!("`{method}::<..>` is not supported: {what}"),
            at,
        ))
    };
    match (&**method, types) {
        ("parse", [t]) if args.is_empty() => match named(t) {
            Some(n) if crate::ast::PARSE_TYPES.contains(&&*n) => {
                args.push(Expr {
                    kind: ExprKind::Str(n.clone()),
                    span: at,
                });
                Ok(())
            }
            _ => refuse("parse reads integers (i8 .. i128, u8 .. u128, isize, usize), floats (f32, f64), bool and String"),
        },
        ("collect", [t]) => match named(t).as_deref() {
            Some("Vec") => Ok(()),
            Some("String") => {
                *method = "join".into();
                args.push(Expr {
                    kind: ExprKind::Str("".into()),
                    span: at,
                });
                Ok(())
            }
            _ => refuse("collect() makes an array (`collect::<Vec<_>>()`), text (`collect::<String>()`) or a HashMap, BTreeMap, HashSet, BTreeSet or VecDeque"),
        },
        ("sum" | "product", [_]) => Ok(()),
        _ => refuse("type arguments are read on parse, collect, sum and product"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Expr {
        let p = parse(src).unwrap_or_else(|d| panic!("{src}: {d}"));
        assert_eq!(p.exprs.len(), 1, "{src}");
        p.exprs.into_iter().next().unwrap()
    }

    fn shape(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(n) => n.to_string(),
            ExprKind::Var(v) => v.name.to_string(),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", shape(a), op.symbol(), shape(b)),
            ExprKind::Unary(UnOp::Neg, a) => format!("(-{})", shape(a)),
            ExprKind::Range { start, end, .. } => format!(
                "({}..{})",
                start.as_ref().map_or(String::new(), |s| shape(s)),
                end.as_ref().map_or(String::new(), |s| shape(s))
            ),
            other => format!("{other:?}").chars().take(12).collect(),
        }
    }

    #[test]
    fn precedence_follows_the_reference() {
        assert_eq!(shape(&one("x * 2 + 1")), "((x * 2) + 1)");
        assert_eq!(shape(&one("2 ** 3 ** 2")), "((2 ** 3) ** 2)");
        assert_eq!(shape(&one("-2 ** 2")), "((-2) ** 2)");
        assert_eq!(shape(&one("1 << 2 + 1")), "(1 << (2 + 1))");
        assert_eq!(shape(&one("0..n+1")), "(0..(n + 1))");
    }

    #[test]
    fn newline_rules_of_d17() {
        assert_eq!(parse("let x = 1\n-1").unwrap().exprs.len(), 2);
        assert_eq!(parse("x\n  + 1").unwrap().exprs.len(), 1);
        assert_eq!(parse("f\n(2)").unwrap().exprs.len(), 2);
        assert_eq!(parse("a\n[1]").unwrap().exprs.len(), 2);
        assert_eq!(parse("xs\n  .len()").unwrap().exprs.len(), 1);
    }

    #[test]
    fn struct_literal_not_allowed_in_conditions_d14() {
        assert!(parse("if n == MAX { 1 } else { 2 }").is_ok());
        assert!(matches!(one("P { x: 1 }").kind, ExprKind::StructLit { .. }));
    }

    #[test]
    fn increment_is_a_parse_error_d18() {
        let d = parse("x++").unwrap_err();
        assert!(d.message.contains("x += 1"), "{}", d.message);
    }

    #[test]
    fn python_slice_is_a_parse_error_d21() {
        assert!(parse("a[1:]").is_err());
        assert!(parse("a[1..]").is_ok());
    }

    #[test]
    fn braces_object_or_block() {
        assert!(matches!(one("{}").kind, ExprKind::Object(_)));
        assert!(matches!(one("{a: 1}").kind, ExprKind::Object(_)));
        assert!(matches!(one("{ 1; 2 }").kind, ExprKind::Block(_)));
    }

    #[test]
    fn deep_nesting_is_a_limit_error_not_a_crash() {
        let src = "(".repeat(50_000) + &")".repeat(50_000);
        let d = parse(&src).unwrap_err();
        assert_eq!(d.kind, DiagnosticKind::Limit);
        let chain = "1".to_string() + &" + 1".repeat(5_000);
        assert_eq!(parse(&chain).unwrap_err().kind, DiagnosticKind::Limit);
    }

    #[test]
    fn errors_say_what_was_expected() {
        let d = parse("let x = ").unwrap_err();
        assert_eq!(d.message, "Unexpected end of input: expected an expression");
        let d = parse("fun f( + ) { }").unwrap_err();
        assert!(d.message.starts_with("Expected"), "{}", d.message);
    }

    #[test]
    fn ternary_and_try_operator() {
        assert!(matches!(one("c ? 1 : 2").kind, ExprKind::Ternary(..)));
        assert!(matches!(one("f()?").kind, ExprKind::Question(_)));
    }

    #[test]
    fn question_marks_that_are_not_ternaries_parse_in_linear_time() {
        // each `?` looks ahead for `: else`; without remembering the answer these took time
        // exponential in the number of `?`
        for unit in ["x?(", "1+x?(", "x?[", "x?(y, ", "x?{a: "] {
            let src = unit.repeat(300);
            assert!(parse(&src).is_err(), "{src}");
        }
        let src = "x?".repeat(2000);
        assert!(parse(&src).is_err());
        // and nested ternaries still parse
        let nested = "a ? (b ? 1 : 2) : c ? 3 : 4";
        assert!(matches!(one(nested).kind, ExprKind::Ternary(..)));
        let deep = "1+x?(".repeat(40) + "0" + &"):0".repeat(40);
        assert!(parse(&deep).is_ok(), "{deep}");
    }
}
