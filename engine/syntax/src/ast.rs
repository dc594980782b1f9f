//! The syntax tree the parser builds and the resolver, compiler and transpiler read.
//!
//! Everything in Ruchy is an expression (spec section 1), so the tree is one `Expr` type.
//! Nodes that the resolver annotates carry an id: [`VarRef::id`] for each use of a name,
//! [`Binding::id`] for each name a pattern, parameter or definition introduces, and
//! [`FnDef::id`] for each function. The resolver's tables are indexed by these ids.

use crate::diagnostic::Span;
use std::rc::Rc;

pub type Name = Rc<str>;

/// Index of a name use in the resolver's `uses` table.
pub type UseId = u32;
/// Index of a binding in the resolver's `bindings` table.
pub type BindId = u32;
/// Index of a function in the resolver's `functions` table.
pub type FnId = u32;

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A use of a name.
#[derive(Clone, Debug)]
pub struct VarRef {
    pub name: Name,
    pub id: UseId,
}

/// A name being introduced.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: Name,
    pub id: BindId,
    pub span: Span,
    pub mutable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    /// The operator an `Op::UpdateGlobal` carries as a byte.
    pub fn from_u8(b: u8) -> Option<BinOp> {
        use BinOp::*;
        [
            Add, Sub, Mul, Div, Rem, Pow, Eq, Ne, Lt, Le, Gt, Ge, BitAnd, BitOr, BitXor, Shl, Shr,
        ]
        .get(b as usize)
        .copied()
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    BitNot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
    /// `a ?? b`: `b` when `a` is nil.
    Coalesce,
}

/// A type annotation, kept as written; the checked kinds are per decision D24.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeAnn {
    /// A named type with optional generic arguments: `i32`, `String`, `Vec<i32>`, `Option<T>`.
    Named(Name, Vec<TypeAnn>),
    /// `&T`, `&mut T`
    Ref(Box<TypeAnn>),
    /// `[T]`, `[T; N]`
    Array(Box<TypeAnn>, Option<i64>),
    /// `(A, B)`; `()` is the unit type.
    Tuple(Vec<TypeAnn>),
    /// `fn(A) -> B`, `impl Fn(A) -> B`, `dyn Fn(..)`.
    Fn(Vec<TypeAnn>, Option<Box<TypeAnn>>),
    /// `_` or anything else we only accept.
    Infer,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub pat: Pattern,
    pub ty: Option<TypeAnn>,
    pub default: Option<Expr>,
    pub span: Span,
}

/// How a method takes its receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfKind {
    /// An associated function: no `self`.
    None,
    /// `self` or `&self`: the method sees a copy.
    Value,
    /// `&mut self` or `mut self`: the caller's receiver is updated after the call.
    Mut,
}

#[derive(Clone, Debug)]
pub struct FnDef {
    pub id: FnId,
    /// The binding of a named function (`fun f`), `None` for lambdas.
    pub name: Option<Binding>,
    pub self_kind: SelfKind,
    /// Binding for `self` when `self_kind != None`.
    pub self_binding: Option<Binding>,
    pub params: Vec<Param>,
    pub ret: Option<TypeAnn>,
    pub body: Box<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub exprs: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct MatchArm {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum FStrPart {
    Text(String),
    Hole { expr: Expr, spec: Option<Rc<str>> },
}

#[derive(Clone)]
pub struct StructDef {
    pub name: Name,
    /// Field names and annotations; for a tuple struct the names are `0`, `1`, ...
    pub fields: Vec<(Name, TypeAnn)>,
    /// Each field's default (`size: i32 = 14`), computed when the struct is defined and used
    /// by a literal that leaves the field out.
    pub defaults: Vec<Option<Expr>>,
    pub tuple: bool,
    pub span: Span,
}

// Written out so that the defaults' expressions are not: a derived `Debug` here (type
// definitions are printed with the bytecode's descriptions) would bring every expression's
// `Debug` into the component, 48 KB.
impl std::fmt::Debug for StructDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructDef")
            .field("name", &self.name)
            .field("fields", &self.fields)
            .field(
                "defaults",
                &self.defaults.iter().filter(|d| d.is_some()).count(),
            )
            .field("tuple", &self.tuple)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub enum VariantShape {
    Unit,
    Tuple(Vec<TypeAnn>),
    Struct(Vec<(Name, TypeAnn)>),
}

#[derive(Clone, Debug)]
pub struct VariantDef {
    pub name: Name,
    pub shape: VariantShape,
    pub discriminant: Option<i64>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct EnumDef {
    pub name: Name,
    pub variants: Vec<VariantDef>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ImplDef {
    /// The type the methods are for; a trait's default methods are kept under
    /// `trait Name` (a name no type can have).
    pub type_name: Name,
    /// `impl Trait for Type`: the trait, whose default methods the type gets unless it has
    /// its own.
    pub trait_name: Option<Name>,
    pub methods: Vec<Rc<FnDef>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bool(bool),
    Nil,
    FStr(Vec<FStrPart>),
    Var(VarRef),
    /// `a::b::c`: a type's associated item or enum variant (`Color::Red`, `P::new`).
    Path(Vec<Name>),
    Let(Box<LetExpr>),
    /// `target = value` or `target op= value`.
    Assign {
        target: Box<Expr>,
        op: Option<BinOp>,
        value: Box<Expr>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Logic(LogicOp, Box<Expr>, Box<Expr>),
    /// `x |> f`
    Pipe(Box<Expr>, Box<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    /// `cond ? a : b`
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    While {
        label: Option<Name>,
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    Loop {
        label: Option<Name>,
        body: Box<Expr>,
    },
    For(Box<ForExpr>),
    Break {
        label: Option<Name>,
        value: Option<Box<Expr>>,
    },
    Continue {
        label: Option<Name>,
    },
    Return(Option<Box<Expr>>),
    Block(Block),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    MethodCall {
        receiver: Box<Expr>,
        method: Name,
        args: Vec<Expr>,
        /// `recv?.method()`: nil receiver gives nil.
        optional: bool,
    },
    Field {
        object: Box<Expr>,
        field: Name,
        optional: bool,
    },
    TupleField(Box<Expr>, u32),
    Index(Box<Expr>, Box<Expr>),
    Array(Vec<Expr>),
    /// `[value; count]`
    ArrayRepeat(Box<Expr>, Box<Expr>),
    Tuple(Vec<Expr>),
    Object(Vec<(Name, Expr)>),
    Range {
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
        inclusive: bool,
    },
    /// A lambda, or a named `fun` (which also binds its name).
    Fn(Rc<FnDef>),
    Struct(Rc<StructDef>),
    Enum(Rc<EnumDef>),
    Impl(Rc<ImplDef>),
    StructLit {
        name: Name,
        fields: Vec<(Name, Expr)>,
        base: Option<Box<Expr>>,
    },
    Try(Box<TryExpr>),
    Throw(Box<Expr>),
    /// `expr?`
    Question(Box<Expr>),
    Cast(Box<Expr>, Box<TypeAnn>),
    /// `[expr for pat in iter if cond]`
    Comprehension(Box<Comprehension>),
}

// The larger forms are boxed so that an `Expr` stays small (64 bytes): the parser and the
// later stages recurse over it, and their stack frames grow with it.

#[derive(Clone, Debug)]
pub struct LetExpr {
    pub pat: Pattern,
    pub ty: Option<TypeAnn>,
    pub value: Expr,
    /// `let x = 1 in body`
    pub body: Option<Expr>,
    /// `let Some(v) = e else { .. }`
    pub else_block: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct ForExpr {
    pub label: Option<Name>,
    pub pat: Pattern,
    pub iter: Expr,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub struct TryExpr {
    pub body: Expr,
    pub catch: Option<(Pattern, Expr)>,
    pub finally: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct Comprehension {
    pub expr: Expr,
    pub pat: Pattern,
    pub iter: Expr,
    pub cond: Option<Expr>,
}

#[derive(Clone, Debug)]
pub struct Pattern {
    pub kind: PatKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PatKind {
    Wild,
    /// A literal to compare with `==`.
    Lit(Box<Expr>),
    Bind(Binding),
    /// `name @ pat`
    At(Binding, Box<Pattern>),
    Tuple(Vec<Pattern>),
    /// `[a, b, ..rest]`: patterns before the rest, the rest binding (or `..`), patterns after.
    List {
        before: Vec<Pattern>,
        rest: Option<Option<Binding>>,
        after: Vec<Pattern>,
    },
    Range {
        lo: Option<Box<Expr>>,
        hi: Option<Box<Expr>>,
        inclusive: bool,
    },
    Or(Vec<Pattern>),
    /// `Path::Variant`, `Some(x)`, `Point(x, y)`: path segments and tuple sub-patterns
    /// (`None` for a bare path).
    Variant {
        path: Vec<Name>,
        args: Option<Vec<Pattern>>,
    },
    /// `P { x, y: 0, .. }`
    Struct {
        path: Vec<Name>,
        fields: Vec<(Name, Pattern)>,
        rest: bool,
    },
}

impl Pattern {
    /// Every binding in the pattern, in source order.
    pub fn bindings<'a>(&'a self, out: &mut Vec<&'a Binding>) {
        match &self.kind {
            PatKind::Wild | PatKind::Lit(_) | PatKind::Range { .. } => {}
            PatKind::Bind(b) => out.push(b),
            PatKind::At(b, p) => {
                out.push(b);
                p.bindings(out);
            }
            PatKind::Tuple(ps) => ps.iter().for_each(|p| p.bindings(out)),
            PatKind::List {
                before,
                rest,
                after,
            } => {
                before.iter().for_each(|p| p.bindings(out));
                if let Some(Some(b)) = rest {
                    out.push(b);
                }
                after.iter().for_each(|p| p.bindings(out));
            }
            // all alternatives bind the same names; the first one stands for them
            PatKind::Or(ps) => {
                if let Some(p) = ps.first() {
                    p.bindings(out)
                }
            }
            PatKind::Variant { args, .. } => {
                if let Some(args) = args {
                    args.iter().for_each(|p| p.bindings(out))
                }
            }
            PatKind::Struct { fields, .. } => fields.iter().for_each(|(_, p)| p.bindings(out)),
        }
    }

    /// A pattern that matches every value (used to skip match tests).
    pub fn is_irrefutable(&self) -> bool {
        match &self.kind {
            PatKind::Wild | PatKind::Bind(_) => true,
            PatKind::At(_, p) => p.is_irrefutable(),
            PatKind::Tuple(_) => false,
            _ => false,
        }
    }
}

/// A parsed cell or program: its top-level expressions.
#[derive(Clone, Debug)]
pub struct Program {
    pub exprs: Vec<Expr>,
    /// Number of ids handed out, so the resolver can size its tables.
    pub n_uses: u32,
    pub n_bindings: u32,
    pub n_fns: u32,
}

/// Visits the expressions of `e`, not entering nested functions.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    let mut go = |x: &Expr| visit(x, f);
    match &e.kind {
        ExprKind::FStr(parts) => {
            for p in parts {
                if let FStrPart::Hole { expr, .. } = p {
                    go(expr)
                }
            }
        }
        ExprKind::Let(l) => {
            go(&l.value);
            if let Some(b) = &l.body {
                go(b)
            }
            if let Some(b) = &l.else_block {
                go(b)
            }
        }
        ExprKind::Assign { target, value, .. } => {
            go(target);
            go(value)
        }
        ExprKind::Unary(_, a)
        | ExprKind::Throw(a)
        | ExprKind::Question(a)
        | ExprKind::Cast(a, _)
        | ExprKind::TupleField(a, _) => go(a),
        ExprKind::Field { object, .. } => go(object),
        ExprKind::Binary(_, a, b)
        | ExprKind::Logic(_, a, b)
        | ExprKind::Pipe(a, b)
        | ExprKind::Index(a, b)
        | ExprKind::ArrayRepeat(a, b) => {
            go(a);
            go(b)
        }
        ExprKind::If { cond, then, else_ } => {
            go(cond);
            go(then);
            if let Some(e) = else_ {
                go(e)
            }
        }
        ExprKind::Ternary(a, b, c) => {
            go(a);
            go(b);
            go(c)
        }
        ExprKind::Match { scrutinee, arms } => {
            go(scrutinee);
            for a in arms {
                if let Some(g) = &a.guard {
                    go(g)
                }
                go(&a.body)
            }
        }
        ExprKind::While { cond, body, .. } => {
            go(cond);
            go(body)
        }
        ExprKind::Loop { body, .. } => go(body),
        ExprKind::For(f) => {
            go(&f.iter);
            go(&f.body)
        }
        ExprKind::Comprehension(c) => {
            go(&c.iter);
            go(&c.expr);
            if let Some(x) = &c.cond {
                go(x)
            }
        }
        ExprKind::Break { value, .. } | ExprKind::Return(value) => {
            if let Some(v) = value {
                go(v)
            }
        }
        ExprKind::Block(b) => b.exprs.iter().for_each(go),
        ExprKind::Call { callee, args } => {
            go(callee);
            args.iter().for_each(go)
        }
        ExprKind::MethodCall { receiver, args, .. } => {
            go(receiver);
            args.iter().for_each(go)
        }
        ExprKind::Array(items) | ExprKind::Tuple(items) => items.iter().for_each(go),
        ExprKind::Object(entries) => entries.iter().for_each(|(_, v)| go(v)),
        ExprKind::StructLit { fields, base, .. } => {
            fields.iter().for_each(|(_, v)| go(v));
            if let Some(b) = base {
                go(b)
            }
        }
        ExprKind::Range { start, end, .. } => {
            if let Some(s) = start {
                go(s)
            }
            if let Some(x) = end {
                go(x)
            }
        }
        ExprKind::Try(t) => {
            go(&t.body);
            if let Some((_, h)) = &t.catch {
                go(h)
            }
            if let Some(f) = &t.finally {
                go(f)
            }
        }
        _ => {}
    }
}

/// The collections `collect::<T>()` and their constructors make (the runtime's `collection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionKind {
    HashMap,
    BTreeMap,
    HashSet,
    BTreeSet,
    VecDeque,
}

impl CollectionKind {
    pub const ALL: [CollectionKind; 5] = [
        CollectionKind::HashMap,
        CollectionKind::BTreeMap,
        CollectionKind::HashSet,
        CollectionKind::BTreeSet,
        CollectionKind::VecDeque,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CollectionKind::HashMap => "HashMap",
            CollectionKind::BTreeMap => "BTreeMap",
            CollectionKind::HashSet => "HashSet",
            CollectionKind::BTreeSet => "BTreeSet",
            CollectionKind::VecDeque => "VecDeque",
        }
    }

    pub fn named(name: &str) -> Option<CollectionKind> {
        CollectionKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The types `s.parse::<T>()` reads: Rust's integer and float types, `bool` and `String`, and
/// Ruchy's names for them (the runtime's `methods::parse_as` reads each).
pub const PARSE_TYPES: &[&str] = &[
    "i8", "i16", "i32", "i64", "Int", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
    "f32", "f64", "Float", "String", "str", "bool", "Bool",
];
