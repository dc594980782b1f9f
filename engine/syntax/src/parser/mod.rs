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

mod expressions;
mod items;
mod patterns;
mod statements;
mod types;

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
