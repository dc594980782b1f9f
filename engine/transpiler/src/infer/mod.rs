//! Type inference pass of the transpiler.
//!
//! Definitions first (structs, enums, methods, top-level functions: Rust items are visible
//! everywhere), then every expression in order, unifying as it goes. Whatever cannot be given
//! one Rust type, or has no Rust equivalent that behaves the same, is refused here with a
//! diagnostic; the emitter may assume everything it is given is expressible.

use crate::types::{describe, Subst, Ty};
use crate::types::{HashMap, HashSet};
use ruchy_runtime::catalogue::MethodId;
use ruchy_runtime::catalogue::MethodId as M;
use ruchy_runtime::compiler::checked;
use ruchy_runtime::opcode::Checked;
use ruchy_runtime::resolver::{CaptureSrc, Globals, Resolution, UseRes};
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::{Diagnostic, DiagnosticKind, Span};
use std::collections::BTreeMap;
use std::rc::Rc;

mod bindings;
mod calls;
mod definitions;
mod names;

type IResult<T> = Result<T, Diagnostic>;

pub fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        DiagnosticKind::Type,
        format!("compile cannot express {what} in Rust"),
        span,
    )
}

/// The diagnostic for an or-pattern whose alternatives bind different names, where the name
/// is used (Rust's E0408).
fn partial_or(name: &str, span: Span) -> Diagnostic {
    unsupported(
        span,
        &format!(
            "an or-pattern whose alternatives bind different names, when the code uses one (`{name}` is bound by only some of them)"
        ),
    )
}

/// The diagnostic for a value whose type is past [`crate::types::MAX_TYPE_PARTS`] or
/// [`crate::types::MAX_TYPE_DEPTH`].
fn too_large(span: Span) -> Diagnostic {
    unsupported(
        span,
        &format!(
            "a value whose type has more than {} parts or nests more than {} deep",
            crate::types::MAX_TYPE_PARTS,
            crate::types::MAX_TYPE_DEPTH
        ),
    )
}

#[derive(Clone, Debug)]
pub struct StructInfo {
    pub fields: Vec<(Rc<str>, Ty)>,
    pub tuple: bool,
    /// The definition, for its field defaults (constants, typed with the program).
    pub def: Option<Rc<StructDef>>,
}

#[derive(Clone, Debug)]
pub enum VariantKind {
    Unit,
    Tuple(Vec<Ty>),
    Struct(Vec<(Rc<str>, Ty)>),
}

#[derive(Clone, Debug)]
pub struct EnumInfo {
    pub variants: Vec<(Rc<str>, VariantKind, Option<i64>)>,
}

#[derive(Clone, Debug)]
pub struct MethodInfo {
    /// Parameters without `self`, and the result.
    pub ty: Ty,
    pub self_kind: SelfKind,
}

/// The types of a program, final (no variables left).
pub struct Typed {
    /// Each expression's type, and where the expression is.
    pub exprs: HashMap<*const Expr, (Ty, Span)>,
    pub binds: HashMap<BindId, Ty>,
    pub globals: HashMap<u32, Ty>,
    /// Top-level bindings assigned after they are made.
    pub globals_assigned: HashSet<u32>,
    /// Top-level bindings a function reads or writes: they live in `thread_local!` statics.
    pub shared_globals: HashSet<u32>,
    /// Slots of top-level functions.
    pub global_fns: HashSet<u32>,
    pub fns: HashMap<FnId, Ty>,
    pub structs: BTreeMap<Rc<str>, StructInfo>,
    pub enums: BTreeMap<Rc<str>, EnumInfo>,
    pub methods: HashMap<(Rc<str>, Rc<str>), MethodInfo>,
    pub records: Vec<Vec<(Rc<str>, Ty)>>,
    /// Local bindings that need `let mut`.
    pub mutable: HashSet<BindId>,
    /// Bindings of an or-pattern that only some alternatives make (unused): written as `_`.
    pub unbound: HashSet<BindId>,
}

impl Typed {
    pub fn of(&self, e: &Expr) -> Ty {
        self.exprs
            .get(&(e as *const Expr))
            .map_or(Ty::Unit, |(t, _)| t.clone())
    }
}

struct FnCtx {
    id: FnId,
    ret: Ty,
}

struct Infer<'a> {
    res: &'a Resolution,
    globals: &'a Globals,
    s: Subst,
    /// Each expression's type, and its span for the diagnostic if it grows too large.
    exprs: HashMap<*const Expr, (Ty, Span)>,
    binds: HashMap<BindId, Ty>,
    gl: HashMap<u32, Ty>,
    global_fns: HashSet<u32>,
    globals_assigned: HashSet<u32>,
    shared_globals: HashSet<u32>,
    /// Top-level names read before any `let` made them (a function reading a later global, or
    /// a read that never runs): they are shared, and their first `let` is not a re-assignment.
    forward: HashSet<u32>,
    fn_types: HashMap<FnId, Ty>,
    structs: BTreeMap<Rc<str>, StructInfo>,
    enums: BTreeMap<Rc<str>, EnumInfo>,
    methods: HashMap<(Rc<str>, Rc<str>), MethodInfo>,
    records: Vec<Vec<(Rc<str>, Ty)>>,
    mutable: HashSet<BindId>,
    /// Bindings of an or-pattern that only some of its alternatives make: written as `_`.
    unbound: HashSet<BindId>,
    /// Their names, with the or-pattern, until the `match` arm has checked nothing uses them.
    partial_names: Vec<(Rc<str>, Span)>,
    stack: Vec<FnCtx>,
    /// The type of every thrown value of the program (a string when anything catches).
    thrown: Ty,
    /// Top-level functions whose bodies are not inferred yet, by slot: a body is inferred at
    /// the function's first call, once the arguments have given its parameters their types,
    /// or at the end of the program.
    pending: HashMap<u32, &'a FnDef>,
    /// Annotations that are not checked (D24), as hints: (the annotated value's type, the
    /// annotation).
    hints: Vec<(Ty, Ty)>,
    /// The loops around the expression being inferred, innermost last: label, and for a
    /// `loop` the type of its value.
    loops: Vec<(Option<Name>, Option<Ty>)>,
    /// The type an `impl` block is for, while inferring its methods.
    impl_type: Option<Rc<str>>,
}

pub fn infer<'a>(
    program: &'a Program,
    res: &'a Resolution,
    globals: &'a Globals,
) -> Result<Typed, Vec<Diagnostic>> {
    let mut inf = Infer {
        res,
        globals,
        s: Subst::default(),
        exprs: HashMap::default(),
        binds: HashMap::default(),
        gl: HashMap::default(),
        global_fns: HashSet::default(),
        globals_assigned: HashSet::default(),
        shared_globals: HashSet::default(),
        forward: HashSet::default(),
        fn_types: HashMap::default(),
        structs: BTreeMap::new(),
        enums: BTreeMap::new(),
        methods: HashMap::default(),
        records: Vec::new(),
        mutable: HashSet::default(),
        unbound: HashSet::default(),
        partial_names: Vec::new(),
        stack: Vec::new(),
        thrown: Ty::Unit,
        pending: HashMap::default(),
        hints: Vec::new(),
        loops: Vec::new(),
        impl_type: None,
    };
    inf.thrown = inf.s.fresh();
    inf.program(program).map_err(|d| vec![d])?;
    if let Some((name, span)) = inf.partial_names.first() {
        // an or-pattern outside a `match` arm (`if let`, `let`, `for`)
        return Err(vec![partial_or(name, *span)]);
    }
    let s = &inf.s;
    let fin = |t: &Ty| s.finish(t);
    // a type may have grown after its expression was inferred: each is checked again (in
    // bounded time) before it is written out in full
    // (the big maps are finished in place)
    let mut exprs = std::mem::take(&mut inf.exprs);
    for (t, span) in exprs.values_mut() {
        if s.too_large(t) {
            return Err(vec![too_large(*span)]);
        }
        *t = fin(t);
    }
    let mut binds = std::mem::take(&mut inf.binds);
    for t in binds.values_mut() {
        *t = fin(t);
    }
    Ok(Typed {
        exprs,
        binds,
        globals: inf.gl.iter().map(|(k, t)| (*k, fin(t))).collect(),
        globals_assigned: inf.globals_assigned,
        shared_globals: inf.shared_globals,
        global_fns: inf.global_fns,
        fns: inf.fn_types.iter().map(|(k, t)| (*k, fin(t))).collect(),
        structs: inf
            .structs
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    StructInfo {
                        fields: v.fields.iter().map(|(n, t)| (n.clone(), fin(t))).collect(),
                        tuple: v.tuple,
                        def: v.def.clone(),
                    },
                )
            })
            .collect(),
        enums: inf
            .enums
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    EnumInfo {
                        variants: v
                            .variants
                            .iter()
                            .map(|(n, kind, d)| {
                                let kind = match kind {
                                    VariantKind::Unit => VariantKind::Unit,
                                    VariantKind::Tuple(ts) => {
                                        VariantKind::Tuple(ts.iter().map(fin).collect())
                                    }
                                    VariantKind::Struct(fs) => VariantKind::Struct(
                                        fs.iter().map(|(n, t)| (n.clone(), fin(t))).collect(),
                                    ),
                                };
                                (n.clone(), kind, *d)
                            })
                            .collect(),
                    },
                )
            })
            .collect(),
        methods: inf
            .methods
            .iter()
            .map(|(k, m)| {
                (
                    k.clone(),
                    MethodInfo {
                        ty: fin(&m.ty),
                        self_kind: m.self_kind,
                    },
                )
            })
            .collect(),
        records: inf
            .records
            .iter()
            .map(|r| r.iter().map(|(n, t)| (n.clone(), fin(t))).collect())
            .collect(),
        mutable: inf.mutable,
        unbound: inf.unbound,
    })
}

/// The D24 types plus what `compile` understands in annotations; `None` for "infer it".
fn annotation_of(
    t: &TypeAnn,
    structs: &BTreeMap<Rc<str>, StructInfo>,
    enums: &BTreeMap<Rc<str>, EnumInfo>,
    self_ty: Option<&Rc<str>>,
) -> Option<Ty> {
    if let Some(k) = checked(t) {
        return Some(match k {
            Checked::Int => Ty::Int,
            Checked::Float => Ty::Float,
            Checked::Bool => Ty::Bool,
            Checked::Str => Ty::Str,
        });
    }
    let rec = |t: &TypeAnn| annotation_of(t, structs, enums, self_ty);
    match t {
        TypeAnn::Named(n, args) => match (&**n, args.as_slice()) {
            ("Vec", [a]) => Some(Ty::Vec(Rc::new(rec(a)?))),
            ("Option", [a]) => Some(Ty::Option(Rc::new(rec(a)?))),
            ("Box" | "Rc", [a]) => rec(a),
            ("Result", [a, b]) => Some(Ty::Result(Rc::new(rec(a)?), Rc::new(rec(b)?))),
            ("HashMap" | "BTreeMap", [k, v]) if rec(k) == Some(Ty::Str) => {
                Some(Ty::Map(Rc::new(rec(v)?)))
            }
            ("Self", []) => self_ty.map(|s| Ty::Named(s.clone())),
            (name, []) if structs.contains_key(name) || enums.contains_key(name) => {
                Some(Ty::Named(n.clone()))
            }
            _ => None,
        },
        TypeAnn::Array(inner, _) => Some(Ty::Vec(Rc::new(rec(inner)?))),
        TypeAnn::Ref(inner) => rec(inner),
        TypeAnn::Tuple(items) if items.is_empty() => Some(Ty::Unit),
        TypeAnn::Tuple(items) => Some(Ty::Tuple(
            items.iter().map(rec).collect::<Option<Vec<_>>>()?.into(),
        )),
        TypeAnn::Fn(params, ret) => Some(Ty::Fn(
            params.iter().map(rec).collect::<Option<Vec<_>>>()?.into(),
            Rc::new(match ret {
                Some(r) => rec(r)?,
                None => Ty::Unit,
            }),
        )),
        TypeAnn::Infer => None,
    }
}

/// Whether the names in an annotation are all ones `compile` knows (so that a missing
/// `annotation_of` means "infer it", not "an unknown type").
fn mentions_unknown_type(
    t: &TypeAnn,
    structs: &BTreeMap<Rc<str>, StructInfo>,
    enums: &BTreeMap<Rc<str>, EnumInfo>,
) -> Option<Rc<str>> {
    match t {
        TypeAnn::Named(n, args) => {
            let known = matches!(
                &**n,
                "Vec"
                    | "Option"
                    | "Result"
                    | "Box"
                    | "Rc"
                    | "HashMap"
                    | "BTreeMap"
                    | "Self"
                    | "Int"
                    | "Float"
                    | "String"
                    | "str"
                    | "bool"
                    | "Bool"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "isize"
                    | "u8"
                    | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "usize"
                    | "f32"
                    | "f64"
            ) || structs.contains_key(n)
                || enums.contains_key(n)
                || n.len() == 1;
            if !known {
                return Some(n.clone());
            }
            args.iter()
                .find_map(|a| mentions_unknown_type(a, structs, enums))
        }
        TypeAnn::Array(inner, _) | TypeAnn::Ref(inner) => {
            mentions_unknown_type(inner, structs, enums)
        }
        TypeAnn::Tuple(items) => items
            .iter()
            .find_map(|a| mentions_unknown_type(a, structs, enums)),
        TypeAnn::Fn(ps, r) => ps
            .iter()
            .chain(r.as_deref())
            .find_map(|a| mentions_unknown_type(a, structs, enums)),
        TypeAnn::Infer => None,
    }
}

/// Whether a type contains itself without an indirection Rust can build (`struct N { next:
/// Option<N> }`).
fn recursive(
    name: &str,
    t: &Ty,
    structs: &BTreeMap<Rc<str>, StructInfo>,
    enums: &BTreeMap<Rc<str>, EnumInfo>,
    depth: u32,
) -> bool {
    if depth > 16 {
        return true;
    }
    match t {
        Ty::Named(n) => {
            if &**n == name {
                return true;
            }
            if let Some(s) = structs.get(n) {
                return s
                    .fields
                    .iter()
                    .any(|(_, f)| recursive(name, f, structs, enums, depth + 1));
            }
            if let Some(e) = enums.get(n) {
                return e.variants.iter().any(|(_, k, _)| match k {
                    VariantKind::Unit => false,
                    VariantKind::Tuple(ts) => ts
                        .iter()
                        .any(|f| recursive(name, f, structs, enums, depth + 1)),
                    VariantKind::Struct(fs) => fs
                        .iter()
                        .any(|(_, f)| recursive(name, f, structs, enums, depth + 1)),
                });
            }
            false
        }
        Ty::Option(x) => recursive(name, x, structs, enums, depth + 1),
        Ty::Tuple(items) => items
            .iter()
            .any(|i| recursive(name, i, structs, enums, depth + 1)),
        Ty::Result(a, b) => {
            recursive(name, a, structs, enums, depth + 1)
                || recursive(name, b, structs, enums, depth + 1)
        }
        // Vec and maps are indirections
        _ => false,
    }
}

impl<'a> Infer<'a> {
    fn unify(&mut self, a: &Ty, b: &Ty, span: Span) -> IResult<()> {
        self.s.unify(a, b).map_err(|m| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!("compile needs one Rust type per value: {m}"),
                span,
            )
        })
    }

    fn resolve(&self, t: &Ty) -> Ty {
        self.s.resolve(t)
    }

    /// `t` resolved, with the annotation hints applied first if it is still open.
    fn known(&mut self, t: &Ty) -> Ty {
        if matches!(self.s.shallow(t), Ty::Var(_)) {
            self.apply_hints();
        }
        self.s.resolve(t)
    }

    /// Gives the annotated types to the values whose type is still open; an annotation the
    /// value contradicts is dropped (D24: such annotations are not checked).
    fn apply_hints(&mut self) {
        for (v, h) in std::mem::take(&mut self.hints) {
            // an annotation the value contradicts leaves the types as they were
            let _ = self.s.try_unify(&v, &h);
        }
    }

    fn ann(&mut self, t: Option<&TypeAnn>, span: Span) -> IResult<Ty> {
        match t {
            None => Ok(self.s.fresh()),
            // `Int`, `Float`, `String` and `bool` are checked (D24): the value has that type
            Some(t) if checked(t).is_some() => {
                Ok(annotation_of(t, &self.structs, &self.enums, None)
                    .unwrap_or_else(|| self.s.fresh()))
            }
            // other annotations are not checked: a hint, used where the type is still open
            Some(t) => {
                let _ = span;
                let v = self.s.fresh();
                if mentions_unknown_type(t, &self.structs, &self.enums).is_none() {
                    if let Some(h) =
                        annotation_of(t, &self.structs, &self.enums, self.impl_type.as_ref())
                    {
                        self.hints.push((v.clone(), h));
                    }
                }
                Ok(v)
            }
        }
    }
}

/// The standard constructor a path names (`Vec::new`, `String::from`, `Box::new`), unless the
/// program defines a type of that name: the built-in's name.
pub fn std_constructor(
    path: &[Name],
    structs: &BTreeMap<Rc<str>, StructInfo>,
    enums: &BTreeMap<Rc<str>, EnumInfo>,
) -> Option<&'static str> {
    let [.., owner, last] = path else {
        return None;
    };
    if structs.contains_key(owner) || enums.contains_key(owner) {
        return None;
    }
    ruchy_runtime::builtins::std_constructor(owner, last).map(|b| b.name())
}

/// A literal, or an array or tuple of literals (a negative number too).
fn constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => true,
        ExprKind::Unary(UnOp::Neg, a) => matches!(a.kind, ExprKind::Int(_) | ExprKind::Float(_)),
        ExprKind::Array(items) | ExprKind::Tuple(items) => items.iter().all(constant),
        _ => false,
    }
}

/// A program's type may not take a name the Rust program uses for its own types.
fn std_name(name: &str, span: Span) -> IResult<()> {
    const USED: [&str; 9] = [
        "Vec", "String", "Option", "Result", "Box", "Rc", "RefCell", "HashMap", "BTreeMap",
    ];
    if USED.contains(&name) {
        return Err(unsupported(
            span,
            &format!("a type named {name} (the Rust program uses the standard {name})"),
        ));
    }
    Ok(())
}

/// The type `parse::<T>()` gives for the type named (the Ok side).
pub fn parse_type(name: &str) -> Option<Ty> {
    Some(match name {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "Int" => Ty::Int,
        "f32" | "f64" | "Float" => Ty::Float,
        "bool" | "Bool" => Ty::Bool,
        "String" | "str" => Ty::Str,
        _ => return None,
    })
}

/// Built-in functions that are a method of their first argument (D10): the method's name.
pub fn method_alias(name: &str) -> Option<&'static str> {
    Some(match name {
        "join" => "join",
        "split" => "split",
        "unique" => "unique",
        "flatten" => "flatten",
        "sort" => "sort",
        "reverse" => "reverse",
        "sorted" => "sorted",
        "reversed" => "reversed",
        "zip" => "zip",
        "enumerate" => "enumerate",
        "parse_int" => "to_int",
        "parse_float" => "to_float",
        _ => return None,
    })
}

/// Struct, enum and impl definitions anywhere in the program (they are Rust items).
pub(super) fn collect_types<'e>(exprs: &'e [Expr], out: &mut Vec<&'e Expr>) {
    for e in exprs {
        match &e.kind {
            ExprKind::Struct(_) | ExprKind::Enum(_) | ExprKind::Impl(_) => out.push(e),
            ExprKind::Fn(def) => {
                if let ExprKind::Block(b) = &def.body.kind {
                    collect_types(&b.exprs, out);
                }
            }
            ExprKind::Block(b) => collect_types(&b.exprs, out),
            _ => {}
        }
    }
}

fn irrefutable(p: &Pattern) -> bool {
    match &p.kind {
        PatKind::Wild | PatKind::Bind(_) => true,
        PatKind::At(_, s) => irrefutable(s),
        PatKind::Tuple(items) => items.iter().all(irrefutable),
        PatKind::Struct { path, fields, .. } => {
            path.len() <= 1 && fields.iter().all(|(_, p)| irrefutable(p))
        }
        PatKind::Variant {
            path,
            args: Some(args),
        } => {
            path.len() == 1
                && !matches!(&*path[0], "Some" | "Ok" | "Err")
                && args.iter().all(irrefutable)
        }
        _ => false,
    }
}

/// Whether control leaves a `try` body other than by its end or a throw: a `return` or `?`, or
/// a `break`/`continue` of a loop outside it (the body becomes a closure).
fn escapes(body: &Expr) -> bool {
    let mut inner: HashSet<*const Expr> = HashSet::default();
    let mut escape = false;
    visit(body, &mut |x| match &x.kind {
        ExprKind::While { body, .. } | ExprKind::Loop { body, .. } => visit(body, &mut |y| {
            if matches!(
                y.kind,
                ExprKind::Break { label: None, .. } | ExprKind::Continue { label: None }
            ) {
                inner.insert(y as *const Expr);
            }
        }),
        ExprKind::For(f) => visit(&f.body, &mut |y| {
            if matches!(
                y.kind,
                ExprKind::Break { label: None, .. } | ExprKind::Continue { label: None }
            ) {
                inner.insert(y as *const Expr);
            }
        }),
        ExprKind::Return(_) | ExprKind::Question(_) => escape = true,
        _ => {}
    });
    visit(body, &mut |x| {
        if matches!(x.kind, ExprKind::Break { .. } | ExprKind::Continue { .. })
            && !inner.contains(&(x as *const Expr))
        {
            escape = true;
        }
    });
    escape
}

/// Whether a function body calls `name`.
fn calls_self(e: &Expr, name: &str) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        if let ExprKind::Var(v) = &x.kind {
            if &*v.name == name {
                found = true;
            }
        }
    });
    found
}
