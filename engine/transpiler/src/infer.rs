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
    pub exprs: HashMap<*const Expr, Ty>,
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
            .cloned()
            .unwrap_or(Ty::Unit)
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
    let mut exprs = HashMap::default();
    exprs.reserve(inf.exprs.len());
    for (e, (t, span)) in std::mem::take(&mut inf.exprs) {
        if s.too_large(&t) {
            return Err(vec![too_large(span)]);
        }
        exprs.insert(e, fin(&t));
    }
    // (the big maps are finished in place)
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

    // ---- definitions ---------------------------------------------------------------------

    fn program(&mut self, p: &'a Program) -> IResult<()> {
        // type names first (fields may refer to each other), then their fields
        let mut defs = Vec::new();
        collect_types(&p.exprs, &mut defs);
        for e in &defs {
            match &e.kind {
                ExprKind::Struct(d) => {
                    if self.structs.contains_key(&d.name) || self.enums.contains_key(&d.name) {
                        return Err(unsupported(d.span, "a type defined twice"));
                    }
                    std_name(&d.name, d.span)?;
                    self.structs.insert(
                        d.name.clone(),
                        StructInfo {
                            fields: Vec::new(),
                            tuple: d.tuple,
                            def: Some(d.clone()),
                        },
                    );
                }
                ExprKind::Enum(d) => {
                    std_name(&d.name, d.span)?;
                    if self.structs.contains_key(&d.name) || self.enums.contains_key(&d.name) {
                        return Err(unsupported(d.span, "a type defined twice"));
                    }
                    self.enums.insert(
                        d.name.clone(),
                        EnumInfo {
                            variants: Vec::new(),
                        },
                    );
                }
                _ => {}
            }
        }
        for e in &defs {
            match &e.kind {
                ExprKind::Struct(d) => {
                    let mut fields = Vec::new();
                    for ((n, t), default) in d.fields.iter().zip(&d.defaults) {
                        let ty = self.ann(Some(t), d.span)?;
                        if let Some(v) = default {
                            // written out at each literal that leaves the field out: a
                            // constant, so that it is the value the interpreter computed once
                            if !constant(v) {
                                return Err(unsupported(
                                    v.span,
                                    "a field default that is not a constant (a literal)",
                                ));
                            }
                            let tv = self.expr(v)?;
                            self.unify(&ty, &tv, v.span)?;
                        }
                        fields.push((n.clone(), ty));
                    }
                    if let Some(info) = self.structs.get_mut(&d.name) {
                        info.fields = fields;
                    }
                }
                ExprKind::Enum(d) => {
                    let mut variants = Vec::new();
                    for v in &d.variants {
                        let kind = match &v.shape {
                            VariantShape::Unit => VariantKind::Unit,
                            VariantShape::Tuple(ts) => VariantKind::Tuple(
                                ts.iter()
                                    .map(|t| self.ann(Some(t), v.span))
                                    .collect::<IResult<_>>()?,
                            ),
                            VariantShape::Struct(fs) => VariantKind::Struct(
                                fs.iter()
                                    .map(|(n, t)| Ok((n.clone(), self.ann(Some(t), v.span)?)))
                                    .collect::<IResult<_>>()?,
                            ),
                        };
                        variants.push((v.name.clone(), kind, v.discriminant));
                    }
                    if let Some(info) = self.enums.get_mut(&d.name) {
                        info.variants = variants;
                    }
                }
                _ => {}
            }
        }
        let names: Vec<(Rc<str>, Span)> = defs
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Struct(d) => Some((d.name.clone(), d.span)),
                ExprKind::Enum(d) => Some((d.name.clone(), d.span)),
                _ => None,
            })
            .collect();
        for (n, span) in &names {
            let inner: Vec<Ty> = match (self.structs.get(n), self.enums.get(n)) {
                (Some(s), _) => s.fields.iter().map(|(_, t)| t.clone()).collect(),
                (_, Some(e)) => e
                    .variants
                    .iter()
                    .flat_map(|(_, k, _)| match k {
                        VariantKind::Unit => Vec::new(),
                        VariantKind::Tuple(ts) => ts.clone(),
                        VariantKind::Struct(fs) => fs.iter().map(|(_, t)| t.clone()).collect(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if inner
                .iter()
                .any(|t| recursive(n, t, &self.structs, &self.enums, 0))
            {
                return Err(unsupported(
                    *span,
                    "a type that contains itself (it would need a Box)",
                ));
            }
        }
        // methods of every impl block
        for e in &defs {
            if let ExprKind::Impl(imp) = &e.kind {
                if let Some(trait_name) = imp.type_name.strip_prefix("trait ") {
                    // the parser copied the defaults into every impl after the trait; an impl
                    // that lacks one (the trait in another cell) is what Rust cannot be told
                    let lacking = defs.iter().any(|d| match &d.kind {
                        ExprKind::Impl(i) if i.trait_name.as_deref() == Some(trait_name) => {
                            imp.methods.iter().any(|m| {
                                let name = m.name.as_ref().map(|b| &b.name);
                                !i.methods
                                    .iter()
                                    .any(|o| o.name.as_ref().map(|b| &b.name) == name)
                            })
                        }
                        _ => false,
                    });
                    if lacking {
                        return Err(unsupported(
                            imp.span,
                            "a trait's default methods used by an impl written before the trait (write them in each impl)",
                        ));
                    }
                    continue;
                }
                if !self.structs.contains_key(&imp.type_name)
                    && !self.enums.contains_key(&imp.type_name)
                {
                    return Err(unsupported(
                        imp.span,
                        &format!(
                            "an impl for `{}`, which is not a struct or enum of the program",
                            imp.type_name
                        ),
                    ));
                }
                self.impl_type = Some(imp.type_name.clone());
                for m in &imp.methods {
                    let ty = self.fn_signature(m)?;
                    let Some(b) = &m.name else { continue };
                    let key = (imp.type_name.clone(), b.name.clone());
                    if self.methods.contains_key(&key) {
                        return Err(unsupported(m.span, "a method defined twice"));
                    }
                    self.methods.insert(
                        key,
                        MethodInfo {
                            ty: ty.clone(),
                            self_kind: m.self_kind,
                        },
                    );
                    self.fn_types.insert(m.id, ty);
                }
                self.impl_type = None;
            }
        }
        // top-level functions are visible everywhere (they are Rust items)
        for e in &p.exprs {
            if let ExprKind::Fn(def) = &e.kind {
                let ty = self.fn_signature(def)?;
                if let Some(slot) = def
                    .name
                    .as_ref()
                    .and_then(|b| self.res.binding(b.id).global)
                {
                    if self.global_fns.contains(&slot) {
                        return Err(unsupported(e.span, "a function defined twice"));
                    }
                    self.global_fns.insert(slot);
                    self.gl.insert(slot, ty.clone());
                    self.pending.insert(slot, def);
                }
                self.fn_types.insert(def.id, ty);
            }
        }
        for e in &p.exprs {
            self.expr(e)?;
        }
        // the bodies of functions nothing has called yet: first those no function calls (such
        // as `main`), whose calls then give their callees' parameters types, then the rest
        let top_fns: Vec<(u32, &FnDef)> = p
            .exprs
            .iter()
            .filter_map(|e| match &e.kind {
                ExprKind::Fn(def) => def
                    .name
                    .as_ref()
                    .and_then(|b| self.res.binding(b.id).global)
                    .map(|slot| (slot, &**def)),
                _ => None,
            })
            .collect();
        let mut called: HashSet<Rc<str>> = HashSet::default();
        for (_, def) in &top_fns {
            visit(&def.body, &mut |x| {
                if let ExprKind::Call { callee, .. } = &x.kind {
                    if let ExprKind::Var(v) = &callee.kind {
                        called.insert(v.name.clone());
                    }
                }
            });
        }
        let is_called = |def: &FnDef| def.name.as_ref().is_some_and(|b| called.contains(&*b.name));
        for (slot, def) in &top_fns {
            if !is_called(def) {
                self.infer_pending(*slot)?;
            }
        }
        for (slot, _) in &top_fns {
            self.infer_pending(*slot)?;
        }
        self.apply_hints();
        Ok(())
    }

    /// Infers the body of a top-level function not inferred yet.
    fn infer_pending(&mut self, slot: u32) -> IResult<()> {
        let Some(def) = self.pending.remove(&slot) else {
            return Ok(());
        };
        let ty = self
            .fn_types
            .get(&def.id)
            .cloned()
            .ok_or_else(|| unsupported(def.span, "this function"))?;
        let saved = self.impl_type.take();
        let r = self.function(def, &ty);
        self.impl_type = saved;
        r
    }

    fn fn_signature(&mut self, def: &FnDef) -> IResult<Ty> {
        let mut params = Vec::new();
        for p in &def.params {
            if p.default.is_some() {
                return Err(unsupported(p.span, "default parameter values"));
            }
            params.push(self.ann(p.ty.as_ref(), p.span)?);
        }
        let ret = match &def.ret {
            Some(t) => self.ann(Some(t), def.span)?,
            None => self.s.fresh(),
        };
        Ok(Ty::Fn(params.into(), Rc::new(ret)))
    }

    fn function(&mut self, def: &FnDef, ty: &Ty) -> IResult<()> {
        let Ty::Fn(params, ret) = self.resolve(ty) else {
            return Err(unsupported(def.span, "this function"));
        };
        if let Some(sb) = &def.self_binding {
            let t = match &self.impl_type {
                Some(n) => Ty::Named(n.clone()),
                None => return Err(unsupported(def.span, "`self` outside an impl")),
            };
            self.binds.insert(self.res.canonical(sb.id), t);
            if def.self_kind == SelfKind::Mut {
                self.mutable.insert(self.res.canonical(sb.id));
            }
        }
        for (p, t) in def.params.iter().zip(params.iter()) {
            self.bind_pattern(&p.pat, t)?;
        }
        self.stack.push(FnCtx {
            id: def.id,
            ret: (*ret).clone(),
        });
        let loops = std::mem::take(&mut self.loops);
        let body = self.expr(&def.body);
        self.loops = loops;
        self.stack.pop();
        let body = body?;
        // a body whose value is not used (`-> ()`, or a statement) is fine as it is
        if !matches!(self.s.shallow(&ret), Ty::Unit) {
            self.unify(&body, &ret, def.body.span)?;
        }
        Ok(())
    }

    // ---- bindings ------------------------------------------------------------------------

    fn bind_name(&mut self, b: &Binding, t: &Ty, span: Span) -> IResult<()> {
        let id = self.res.canonical(b.id);
        match self.res.binding(id).global {
            Some(slot) => match self.gl.get(&slot).cloned() {
                Some(old) => {
                    if self.global_fns.contains(&slot) {
                        return Err(unsupported(
                            span,
                            &format!("a variable with the name of the function `{}`", b.name),
                        ));
                    }
                    self.unify(&old, t, span)?;
                    if !self.forward.remove(&slot) {
                        self.globals_assigned.insert(slot);
                    }
                }
                None => {
                    self.gl.insert(slot, t.clone());
                }
            },
            None => {
                if let Some(old) = self.binds.get(&id).cloned() {
                    self.unify(&old, t, span)?;
                } else {
                    self.binds.insert(id, t.clone());
                }
                if b.mutable {
                    self.mutable.insert(id);
                }
            }
        }
        Ok(())
    }

    /// Types an irrefutable or refutable pattern against `t`, binding its names.
    fn bind_pattern(&mut self, p: &Pattern, t: &Ty) -> IResult<()> {
        match &p.kind {
            PatKind::Bind(b) => self.bind_name(b, t, p.span),
            PatKind::Wild => Ok(()),
            PatKind::At(b, sub) => {
                self.bind_pattern(sub, t)?;
                self.bind_name(b, t, p.span)
            }
            PatKind::Lit(lit) => {
                let lt = self.expr(lit)?;
                self.unify(t, &lt, p.span)
            }
            PatKind::Range { lo, hi, .. } => {
                for e in lo.iter().chain(hi.iter()) {
                    let lt = self.expr(e)?;
                    self.unify(t, &lt, p.span)?;
                }
                Ok(())
            }
            PatKind::Tuple(items) => {
                let tys: Vec<Ty> = items.iter().map(|_| self.s.fresh()).collect();
                self.unify(t, &Ty::Tuple(tys.clone().into()), p.span)?;
                for (item, ty) in items.iter().zip(&tys) {
                    self.bind_pattern(item, ty)?;
                }
                Ok(())
            }
            PatKind::List {
                before,
                rest,
                after,
            } => {
                let elem = self.s.fresh();
                self.unify(t, &Ty::Vec(Rc::new(elem.clone())), p.span)?;
                for item in before.iter().chain(after) {
                    self.bind_pattern(item, &elem)?;
                }
                if let Some(Some(b)) = rest {
                    self.bind_name(b, &Ty::Vec(Rc::new(elem)), p.span)?;
                }
                Ok(())
            }
            PatKind::Or(alts) => {
                // Rust needs every alternative to bind the same names (E0408); a name only
                // some alternatives bind is written as `_`, which is right when nothing uses
                // it (checked by the `match` arm, refused anywhere else)
                let names = |a: &Pattern| {
                    let mut bs = Vec::new();
                    a.bindings(&mut bs);
                    bs.iter().map(|b| b.name.clone()).collect::<Vec<Rc<str>>>()
                };
                let all: Vec<Vec<Rc<str>>> = alts.iter().map(names).collect();
                for a in alts {
                    let mut bs = Vec::new();
                    a.bindings(&mut bs);
                    for b in bs {
                        if !all.iter().all(|ns| ns.contains(&b.name)) {
                            self.unbound.insert(b.id);
                            self.partial_names.push((b.name.clone(), p.span));
                        }
                    }
                }
                for a in alts {
                    self.bind_pattern(a, t)?;
                }
                Ok(())
            }
            PatKind::Variant { path, args } => self.variant_pattern(p, path, args.as_deref(), t),
            PatKind::Struct { path, fields, .. } if path.is_empty() => {
                // `{ name, age }`: the fields of the struct or object literal the value is
                let known: Vec<(Rc<str>, Ty)> = match self.known(t) {
                    Ty::Named(n) => match self.structs.get(&n) {
                        Some(info) => info.fields.clone(),
                        None => Vec::new(),
                    },
                    Ty::Record(r) => self.records.get(r as usize).cloned().unwrap_or_default(),
                    _ => {
                        return Err(unsupported(
                            p.span,
                            "an object pattern on a value whose type is not a struct or an object literal's here (annotate it)",
                        ))
                    }
                };
                for (f, fp) in fields {
                    let Some((_, ft)) = known.iter().find(|(n, _)| n == f) else {
                        return Err(unsupported(
                            fp.span,
                            &format!("an object pattern with the field `{f}`, which the value's type does not have"),
                        ));
                    };
                    self.bind_pattern(fp, &ft.clone())?;
                }
                Ok(())
            }
            PatKind::Struct { path, fields, .. } => {
                let name = path.last().cloned().unwrap_or_else(|| "".into());
                if path.len() == 1 {
                    let Some(info) = self.structs.get(&name).cloned() else {
                        return Err(unsupported(p.span, "this struct pattern"));
                    };
                    self.unify(t, &Ty::Named(name.clone()), p.span)?;
                    for (f, fp) in fields {
                        let Some((_, ft)) = info.fields.iter().find(|(n, _)| n == f) else {
                            return Err(unsupported(fp.span, &format!("the field `{f}`")));
                        };
                        self.bind_pattern(fp, &ft.clone())?;
                    }
                    return Ok(());
                }
                let enum_name = self.self_path(&path[path.len() - 2]);
                let Some(info) = self.enums.get(&enum_name).cloned() else {
                    return Err(unsupported(p.span, "this pattern"));
                };
                self.unify(t, &Ty::Named(enum_name.clone()), p.span)?;
                let Some((_, VariantKind::Struct(fs), _)) =
                    info.variants.iter().find(|(n, _, _)| *n == name)
                else {
                    return Err(unsupported(p.span, "this variant pattern"));
                };
                for (f, fp) in fields {
                    let Some((_, ft)) = fs.iter().find(|(n, _)| n == f) else {
                        return Err(unsupported(fp.span, &format!("the field `{f}`")));
                    };
                    self.bind_pattern(fp, &ft.clone())?;
                }
                Ok(())
            }
        }
    }

    fn self_path(&self, n: &Rc<str>) -> Rc<str> {
        if &**n == "Self" {
            if let Some(t) = &self.impl_type {
                return t.clone();
            }
        }
        n.clone()
    }

    fn variant_pattern(
        &mut self,
        p: &Pattern,
        path: &[Name],
        args: Option<&[Pattern]>,
        t: &Ty,
    ) -> IResult<()> {
        let name = path.last().cloned().unwrap_or_else(|| "".into());
        let arg = |inf: &mut Self, i: usize, ty: &Ty| -> IResult<()> {
            match args.and_then(|a| a.get(i)) {
                Some(sub) => inf.bind_pattern(sub, ty),
                None => Ok(()),
            }
        };
        let arity = args.map_or(0, <[Pattern]>::len);
        match (&*name, path.len()) {
            ("Some", 1) => {
                let inner = self.s.fresh();
                self.unify(t, &Ty::Option(Rc::new(inner.clone())), p.span)?;
                return arg(self, 0, &inner);
            }
            ("None", 1) => {
                let inner = self.s.fresh();
                return self.unify(t, &Ty::Option(Rc::new(inner)), p.span);
            }
            ("Ok" | "Err", 1) => {
                let (a, b) = (self.s.fresh(), self.s.fresh());
                self.unify(
                    t,
                    &Ty::Result(Rc::new(a.clone()), Rc::new(b.clone())),
                    p.span,
                )?;
                return arg(self, 0, if &*name == "Ok" { &a } else { &b });
            }
            _ => {}
        }
        // a tuple struct pattern `Point(x, y)`
        if path.len() == 1 {
            if let Some(info) = self.structs.get(&name).cloned() {
                self.unify(t, &Ty::Named(name.clone()), p.span)?;
                for (i, (_, ft)) in info.fields.iter().enumerate() {
                    arg(self, i, ft)?;
                }
                return Ok(());
            }
        }
        // an enum variant: the enum comes from the path, or from the scrutinee's type
        let enum_name = if path.len() >= 2 {
            self.self_path(&path[path.len() - 2])
        } else {
            match self.resolve(t) {
                Ty::Named(n) if self.enums.contains_key(&n) => n,
                _ => {
                    // a bare name against a non-enum: a constant to compare with
                    return Err(unsupported(
                        p.span,
                        &format!("the pattern `{name}` (compare with `==` in a guard)"),
                    ));
                }
            }
        };
        let Some(info) = self.enums.get(&enum_name).cloned() else {
            return Err(unsupported(p.span, &format!("the pattern `{name}`")));
        };
        self.unify(t, &Ty::Named(enum_name.clone()), p.span)?;
        let Some((_, kind, _)) = info.variants.iter().find(|(n, _, _)| *n == name) else {
            return Err(Diagnostic::new(
                DiagnosticKind::Type,
                format!("{enum_name} has no variant named {name}"),
                p.span,
            ));
        };
        match kind {
            VariantKind::Tuple(ts) if ts.len() == arity => {
                for (i, ft) in ts.iter().enumerate() {
                    arg(self, i, ft)?;
                }
                Ok(())
            }
            VariantKind::Unit if arity == 0 && args.is_none() => Ok(()),
            _ => Err(unsupported(
                p.span,
                "a variant pattern with another number of fields than the variant",
            )),
        }
    }

    // ---- names ---------------------------------------------------------------------------

    /// The binding a captured variable refers to, following the chain of captures.
    fn upval_binding(&self, idx: u16) -> Option<BindId> {
        let mut idx = idx;
        for ctx in self.stack.iter().rev() {
            match self
                .res
                .fns
                .get(ctx.id as usize)?
                .captures
                .get(idx as usize)?
            {
                CaptureSrc::Local(b) => return Some(*b),
                CaptureSrc::Upval(i) => idx = *i,
            }
        }
        None
    }

    fn global_slot(&self, v: &VarRef, slot: u32) -> u32 {
        if slot == u32::MAX {
            self.globals.get(&v.name).unwrap_or(u32::MAX)
        } else {
            slot
        }
    }

    fn var(&mut self, v: &VarRef, span: Span) -> IResult<Ty> {
        match self.res.use_of(v) {
            UseRes::Local(b) => {
                let id = self.res.canonical(b);
                self.binds
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this variable"))
            }
            UseRes::Upval(i) => {
                let b = self
                    .upval_binding(i)
                    .ok_or_else(|| unsupported(span, "this capture"))?;
                self.binds
                    .get(&self.res.canonical(b))
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this variable"))
            }
            UseRes::SelfFn => {
                let id = self.stack.last().map(|c| c.id).unwrap_or(u32::MAX);
                self.fn_types
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| unsupported(span, "this recursion"))
            }
            UseRes::Global(slot) => {
                let slot = self.global_slot(v, slot);
                if let Some(t) = self.gl.get(&slot).cloned() {
                    if !self.stack.is_empty() && !self.global_fns.contains(&slot) {
                        self.shared_globals.insert(slot);
                    }
                    return Ok(t);
                }
                match &*v.name {
                    "None" => Ok(Ty::Option(Rc::new(self.s.fresh()))),
                    name if ruchy_runtime::builtins::is_float_constant(name) => Ok(Ty::Float),
                    _ if self.structs.contains_key(&v.name) => {
                        // a tuple struct's constructor used as a value, or a unit struct
                        Err(unsupported(
                            span,
                            &format!("the type `{}` used as a value", v.name),
                        ))
                    }
                    _ => {
                        // made later (or never, and then reading it is an error when it runs)
                        let t = self.s.fresh();
                        self.gl.insert(slot, t.clone());
                        self.forward.insert(slot);
                        self.shared_globals.insert(slot);
                        Ok(t)
                    }
                }
            }
        }
    }

    /// The root binding of a place (`x`, `x.f`, `x[i]`), marked as needing `let mut`.
    fn mark_mutable(&mut self, e: &Expr) {
        let mut t = e;
        loop {
            match &t.kind {
                ExprKind::Var(v) => {
                    match self.res.use_of(v) {
                        UseRes::Local(b) => {
                            self.mutable.insert(self.res.canonical(b));
                        }
                        UseRes::Upval(i) => {
                            if let Some(b) = self.upval_binding(i) {
                                self.mutable.insert(self.res.canonical(b));
                            }
                        }
                        UseRes::Global(slot) => {
                            let slot = self.global_slot(v, slot);
                            self.globals_assigned.insert(slot);
                            if !self.stack.is_empty() {
                                self.shared_globals.insert(slot);
                            }
                        }
                        UseRes::SelfFn => {}
                    }
                    return;
                }
                ExprKind::Index(o, _) | ExprKind::TupleField(o, _) => t = o,
                ExprKind::Field { object, .. } => t = object,
                _ => return,
            }
        }
    }

    fn record(&mut self, e: &Expr, t: Ty) -> Ty {
        self.exprs.insert(e as *const Expr, (t.clone(), e.span));
        t
    }

    fn expr(&mut self, e: &Expr) -> IResult<Ty> {
        if !ruchy_syntax::stack::ok() {
            return Err(ruchy_syntax::stack::too_deep(e.span));
        }
        ruchy_runtime::budget::burn(1).map_err(|x| crate::over_time(x, e.span))?;
        let t = self.expr_inner(e)?;
        if self.s.too_large(&t) {
            return Err(too_large(e.span));
        }
        Ok(self.record(e, t))
    }

    fn numeric_result(&mut self, a: &Ty, b: &Ty, span: Span, op: &str) -> IResult<Ty> {
        let (ra, rb) = (self.s.shallow(a), self.s.shallow(b));
        match (&ra, &rb) {
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ok(Ty::Float),
            _ => {
                self.unify(a, b, span)?;
                match self.s.shallow(a) {
                    Ty::Int | Ty::Float | Ty::Var(_) => Ok(a.clone()),
                    other => Err(Diagnostic::new(
                        DiagnosticKind::Type,
                        format!("compile: `{op}` needs numbers, found {}", describe(&other)),
                        span,
                    )),
                }
            }
        }
    }

    fn need_bool(&mut self, t: &Ty, span: Span, what: &str) -> IResult<()> {
        self.s.unify(t, &Ty::Bool).map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!(
                    "compile needs a boolean for {what}, found {} (Ruchy's truthiness has no Rust equivalent)",
                    describe(&self.s.resolve(t))
                ),
                span,
            )
        })
    }

    fn expr_inner(&mut self, e: &Expr) -> IResult<Ty> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Float,
            ExprKind::Str(_) => Ty::Str,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Nil => Ty::Unit,
            ExprKind::FStr(parts) => {
                for p in parts {
                    if let FStrPart::Hole { expr, .. } = p {
                        let t = self.expr(expr)?;
                        self.printable(&t, expr.span)?;
                    }
                }
                Ty::Str
            }
            ExprKind::Var(v) => self.var(v, span)?,
            ExprKind::Path(path) => self.path(path, span)?,
            ExprKind::Let(l) => {
                if l.body.is_some() {
                    return Err(unsupported(span, "`let ... in`"));
                }
                let t = self.expr(&l.value)?;
                if let Some(ann) = l.ty.as_ref() {
                    let a = self.ann(Some(ann), l.value.span)?;
                    self.unify(&a, &t, l.value.span)?;
                }
                if let Some(eb) = &l.else_block {
                    if !matches!(l.pat.kind, PatKind::Variant { .. }) {
                        return Err(unsupported(span, "`let ... else` with this pattern"));
                    }
                    self.expr(eb)?;
                } else if !irrefutable(&l.pat) && !matches!(l.pat.kind, PatKind::List { .. }) {
                    return Err(unsupported(
                        l.pat.span,
                        "a `let` whose pattern may not match (use `let ... else`)",
                    ));
                }
                self.bind_pattern(&l.pat, &t)?;
                t
            }
            ExprKind::Assign { target, op, value } => {
                self.mark_mutable(target);
                let tt = self.expr(target)?;
                let vt = self.expr(value)?;
                match op {
                    None => self.unify(&tt, &vt, value.span)?,
                    Some(BinOp::Add) if matches!(self.s.shallow(&tt), Ty::Str) => {
                        self.printable(&vt, value.span)?;
                    }
                    Some(BinOp::Pow) => {
                        let r = self.numeric_result(&tt, &vt, span, "**")?;
                        self.unify(&tt, &r, span)?;
                        if matches!(self.s.shallow(&r), Ty::Int)
                            && !matches!(value.kind, ExprKind::Int(n) if n >= 0)
                        {
                            return Err(unsupported(value.span, "an integer `**=` whose exponent is not a literal (a negative one gives a float)"));
                        }
                    }
                    Some(op)
                        if matches!(
                            op,
                            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem
                        ) =>
                    {
                        let r = self.numeric_result(&tt, &vt, span, op.symbol())?;
                        self.unify(&tt, &r, span)?;
                    }
                    Some(_) => {
                        self.unify(&tt, &Ty::Int, span)?;
                        self.unify(&vt, &Ty::Int, span)?;
                    }
                }
                tt
            }
            ExprKind::Unary(op, a) => {
                let t = self.expr(a)?;
                match op {
                    UnOp::Not => {
                        self.need_bool(&t, a.span, "`!`")?;
                        Ty::Bool
                    }
                    UnOp::Neg => self.numeric_result(&t, &t.clone(), span, "-")?,
                    UnOp::BitNot => {
                        self.unify(&t, &Ty::Int, a.span)?;
                        Ty::Int
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span)?,
            ExprKind::Logic(op, a, b) => {
                if *op == LogicOp::Coalesce {
                    let ta = self.expr(a)?;
                    let tb = self.expr(b)?;
                    self.unify(&ta, &Ty::Option(Rc::new(tb.clone())), a.span)?;
                    tb
                } else {
                    let ta = self.expr(a)?;
                    let tb = self.expr(b)?;
                    self.need_bool(&ta, a.span, "`&&` and `||`")?;
                    self.need_bool(&tb, b.span, "`&&` and `||`")?;
                    Ty::Bool
                }
            }
            ExprKind::Pipe(a, f) => {
                // `x |> f` is `f(x)`
                let ta = self.expr(a)?;
                let tf = self.expr(f)?;
                let r = self.s.fresh();
                self.unify(&tf, &Ty::Fn(vec![ta].into(), Rc::new(r.clone())), f.span)?;
                r
            }
            ExprKind::If { cond, then, else_ } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a condition")?;
                let tt = self.expr(then)?;
                match else_ {
                    Some(els) => {
                        let te = self.expr(els)?;
                        if self.s.unify(&tt, &te).is_err() {
                            Ty::Unit
                        } else {
                            tt
                        }
                    }
                    None => Ty::Unit,
                }
            }
            ExprKind::Ternary(c, a, b) => {
                let tc = self.expr(c)?;
                self.need_bool(&tc, c.span, "a condition")?;
                let ta = self.expr(a)?;
                let tb = self.expr(b)?;
                self.unify(&ta, &tb, span)?;
                ta
            }
            ExprKind::Match { scrutinee, arms } => {
                let ts = self.expr(scrutinee)?;
                let result = self.s.fresh();
                let mut unit = false;
                for arm in arms {
                    self.bind_pattern(&arm.pat, &ts)?;
                    for (name, span) in std::mem::take(&mut self.partial_names) {
                        let mut used = false;
                        let mut uses = |x: &Expr| {
                            used |= matches!(&x.kind, ExprKind::Var(v) if v.name == name);
                        };
                        ruchy_syntax::ast::visit(&arm.body, &mut uses);
                        if let Some(g) = &arm.guard {
                            ruchy_syntax::ast::visit(g, &mut uses);
                        }
                        if used {
                            return Err(partial_or(&name, span));
                        }
                    }
                    if let Some(g) = &arm.guard {
                        let tg = self.expr(g)?;
                        self.need_bool(&tg, g.span, "a guard")?;
                    }
                    let tb = self.expr(&arm.body)?;
                    if self.s.unify(&result, &tb).is_err() {
                        unit = true;
                    }
                }
                if matches!(self.resolve(&ts), Ty::Float) {
                    return Err(unsupported(scrutinee.span, "`match` on a float"));
                }
                if unit {
                    Ty::Unit
                } else {
                    result
                }
            }
            ExprKind::Block(b) => {
                let mut last = Ty::Unit;
                for x in &b.exprs {
                    last = self.expr(x)?;
                }
                last
            }
            ExprKind::While { cond, body, label } => {
                let tc = self.expr(cond)?;
                self.need_bool(&tc, cond.span, "a `while` condition")?;
                self.loops.push((label.clone(), None));
                let r = self.expr(body);
                self.loops.pop();
                r?;
                Ty::Unit
            }
            ExprKind::Loop { body, label } => {
                // its value is what `break` gives it
                let value = self.s.fresh();
                self.loops.push((label.clone(), Some(value.clone())));
                let r = self.expr(body);
                self.loops.pop();
                r?;
                match self.s.shallow(&value) {
                    Ty::Var(_) | Ty::Unit => {
                        self.unify(&value, &Ty::Unit, span)?;
                        Ty::Unit
                    }
                    _ => value,
                }
            }
            ExprKind::For(f) => {
                let item = match &f.iter.kind {
                    ExprKind::Range {
                        start: Some(lo),
                        end: Some(hi),
                        ..
                    } => {
                        let tl = self.expr(lo)?;
                        let th = self.expr(hi)?;
                        self.unify(&tl, &Ty::Int, lo.span)?;
                        self.unify(&th, &Ty::Int, hi.span)?;
                        self.record(&f.iter, Ty::Range);
                        Ty::Int
                    }
                    _ => {
                        let ti = self.expr(&f.iter)?;
                        match self.known(&ti) {
                            Ty::Range | Ty::RangeInclusive => Ty::Int,
                            Ty::Vec(t) => Rc::unwrap_or_clone(t),
                            Ty::Str => Ty::Str,
                            Ty::Map(v) => Ty::Tuple(vec![Ty::Str, Rc::unwrap_or_clone(v)].into()),
                            Ty::Dict(k, v) => Ty::Tuple(
                                vec![Rc::unwrap_or_clone(k), Rc::unwrap_or_clone(v)].into(),
                            ),
                            Ty::Set(t) | Ty::Deque(t) => Rc::unwrap_or_clone(t),
                            Ty::Var(_) => {
                                return Err(unsupported(
                                    f.iter.span,
                                    "`for` over a value whose type is not known yet",
                                ))
                            }
                            other => {
                                return Err(unsupported(
                                    f.iter.span,
                                    &format!("`for` over {}", describe(&other)),
                                ))
                            }
                        }
                    }
                };
                self.bind_pattern(&f.pat, &item)?;
                self.loops.push((f.label.clone(), None));
                let r = self.expr(&f.body);
                self.loops.pop();
                r?;
                Ty::Unit
            }
            ExprKind::Comprehension(c) => {
                let ti = self.expr(&c.iter)?;
                let item = match self.resolve(&ti) {
                    Ty::Range | Ty::RangeInclusive => Ty::Int,
                    Ty::Vec(t) => Rc::unwrap_or_clone(t),
                    _ => return Err(unsupported(c.iter.span, "a comprehension over this value")),
                };
                self.bind_pattern(&c.pat, &item)?;
                if let Some(cond) = &c.cond {
                    let tc = self.expr(cond)?;
                    self.need_bool(&tc, cond.span, "a comprehension condition")?;
                }
                let te = self.expr(&c.expr)?;
                Ty::Vec(Rc::new(te))
            }
            ExprKind::Break { value, label } => {
                let target = match label {
                    Some(l) => self.loops.iter().rev().find(|(n, _)| n.as_ref() == Some(l)),
                    None => self.loops.last(),
                };
                let target = target.map(|(_, v)| v.clone());
                match (target, value) {
                    (Some(Some(lv)), Some(v)) => {
                        let tv = self.expr(v)?;
                        self.unify(&lv, &tv, v.span)?;
                    }
                    (Some(Some(lv)), None) => self.unify(&lv, &Ty::Unit, span)?,
                    (_, Some(_)) => {
                        return Err(unsupported(
                            span,
                            "`break` with a value out of a `while` or `for`",
                        ))
                    }
                    (_, None) => {}
                }
                self.s.fresh()
            }
            ExprKind::Continue { .. } => self.s.fresh(),
            ExprKind::Return(value) => {
                let Some(ret) = self.stack.last().map(|c| c.ret.clone()) else {
                    return Err(unsupported(span, "`return` outside a function"));
                };
                let t = match value {
                    Some(v) => self.expr(v)?,
                    None => Ty::Unit,
                };
                self.unify(&ret, &t, span)?;
                self.s.fresh()
            }
            ExprKind::Call { callee, args } => self.call(callee, args, span)?,
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                optional,
            } => {
                if *optional {
                    return Err(unsupported(span, "`?.`"));
                }
                self.method(receiver, method, args, span)?
            }
            ExprKind::Field {
                object,
                field,
                optional,
            } => {
                if *optional {
                    return Err(unsupported(span, "`?.`"));
                }
                let to = self.expr(object)?;
                self.field(&to, field, span)?
            }
            ExprKind::TupleField(obj, n) => {
                let t = self.expr(obj)?;
                match self.known(&t) {
                    Ty::Tuple(items) if (*n as usize) < items.len() => items[*n as usize].clone(),
                    Ty::Named(s) => match self.structs.get(&s) {
                        Some(info) if info.tuple && (*n as usize) < info.fields.len() => {
                            info.fields[*n as usize].1.clone()
                        }
                        _ => return Err(unsupported(span, "this `.N`")),
                    },
                    _ => {
                        return Err(unsupported(
                            span,
                            "`.N` on a value whose tuple type is not known yet",
                        ))
                    }
                }
            }
            ExprKind::Index(obj, idx) => {
                let to = self.expr(obj)?;
                let ti = match &idx.kind {
                    // a slice `a[lo..hi]`, `a[lo..]`, `a[..hi]` (D21)
                    ExprKind::Range {
                        start,
                        end,
                        inclusive,
                    } => {
                        for b in [start, end].into_iter().flatten() {
                            let tb = self.expr(b)?;
                            self.unify(&tb, &Ty::Int, b.span)?;
                        }
                        let t = if *inclusive {
                            Ty::RangeInclusive
                        } else {
                            Ty::Range
                        };
                        self.record(idx, t)
                    }
                    _ => self.expr(idx)?,
                };
                let ranged = matches!(self.resolve(&ti), Ty::Range | Ty::RangeInclusive)
                    || matches!(idx.kind, ExprKind::Range { .. });
                match self.resolve(&to) {
                    Ty::Str => {
                        if !ranged {
                            self.unify(&ti, &Ty::Int, idx.span)?;
                        }
                        Ty::Str
                    }
                    Ty::Map(v) => {
                        self.unify(&ti, &Ty::Str, idx.span)?;
                        Rc::unwrap_or_clone(v)
                    }
                    Ty::Dict(k, v) => {
                        self.unify(&ti, &k, idx.span)?;
                        Rc::unwrap_or_clone(v)
                    }
                    Ty::Deque(t) => {
                        self.unify(&ti, &Ty::Int, idx.span)?;
                        Rc::unwrap_or_clone(t)
                    }
                    Ty::Record(r) => match &idx.kind {
                        ExprKind::Str(k) => self.record_field(r, k, span)?,
                        _ => {
                            return Err(unsupported(
                                idx.span,
                                "indexing an object of mixed value types with a computed key",
                            ))
                        }
                    },
                    Ty::Tuple(items) => match idx.kind {
                        ExprKind::Int(n) if n >= 0 && (n as usize) < items.len() => {
                            items[n as usize].clone()
                        }
                        _ => {
                            return Err(unsupported(
                                idx.span,
                                "indexing a tuple with a computed index",
                            ))
                        }
                    },
                    _ => {
                        let elem = self.s.fresh();
                        self.unify(&to, &Ty::Vec(Rc::new(elem.clone())), obj.span)?;
                        if ranged {
                            Ty::Vec(Rc::new(elem))
                        } else {
                            self.unify(&ti, &Ty::Int, idx.span)?;
                            elem
                        }
                    }
                }
            }
            ExprKind::Array(items) => {
                let elem = self.s.fresh();
                for i in items {
                    let t = self.expr(i)?;
                    self.s.unify(&elem, &t).map_err(|_| {
                        Diagnostic::new(
                            DiagnosticKind::Type,
                            format!(
                                "compile needs arrays of one type: this element is {}, the first is {}",
                                describe(&self.s.resolve(&t)),
                                describe(&self.s.resolve(&elem))
                            ),
                            i.span,
                        )
                    })?;
                }
                Ty::Vec(Rc::new(elem))
            }
            ExprKind::ArrayRepeat(v, n) => {
                let tv = self.expr(v)?;
                let tn = self.expr(n)?;
                self.unify(&tn, &Ty::Int, n.span)?;
                Ty::Vec(Rc::new(tv))
            }
            ExprKind::Tuple(items) => {
                let mut tys = Vec::new();
                for i in items {
                    tys.push(self.expr(i)?);
                }
                Ty::Tuple(tys.into())
            }
            ExprKind::Object(entries) => self.object(entries, span)?,
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let (Some(lo), Some(hi)) = (start, end) else {
                    return Err(unsupported(span, "an open range as a value"));
                };
                let tl = self.expr(lo)?;
                let th = self.expr(hi)?;
                self.unify(&tl, &Ty::Int, lo.span)?;
                self.unify(&th, &Ty::Int, hi.span)?;
                if *inclusive {
                    Ty::RangeInclusive
                } else {
                    Ty::Range
                }
            }
            ExprKind::Fn(def) => self.fn_expr(def, span)?,
            ExprKind::Struct(_) | ExprKind::Enum(_) => Ty::Unit,
            // a trait's defaults are inferred as the copies in each impl
            ExprKind::Impl(imp) if imp.type_name.starts_with("trait ") => Ty::Unit,
            ExprKind::Impl(imp) => {
                self.impl_type = Some(imp.type_name.clone());
                let mut r = Ok(());
                for m in &imp.methods {
                    let ty = self.fn_types.get(&m.id).cloned().unwrap_or(Ty::Unit);
                    r = self.function(m, &ty);
                    if r.is_err() {
                        break;
                    }
                }
                self.impl_type = None;
                r?;
                Ty::Unit
            }
            ExprKind::StructLit { name, fields, base } => {
                self.struct_lit(name, fields, base.as_deref(), span)?
            }
            ExprKind::Try(t) => self.try_expr(t, span)?,
            ExprKind::Throw(v) => {
                let tv = self.expr(v)?;
                self.printable(&tv, v.span)?;
                let thrown = self.thrown.clone();
                self.unify(&thrown, &tv, v.span)?;
                self.s.fresh()
            }
            ExprKind::Question(v) => {
                let tv = self.expr(v)?;
                let Some(ret) = self.stack.last().map(|c| c.ret.clone()) else {
                    return Err(unsupported(span, "`?` outside a function"));
                };
                match (self.resolve(&tv), self.resolve(&ret)) {
                    (Ty::Option(inner), Ty::Option(_)) => Rc::unwrap_or_clone(inner),
                    (Ty::Result(inner, err), Ty::Result(_, rerr)) => {
                        self.unify(&err, &rerr, span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    (Ty::Option(inner), Ty::Var(_)) => {
                        let fresh = self.s.fresh();
                        self.unify(&ret, &Ty::Option(Rc::new(fresh)), span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    (Ty::Result(inner, err), Ty::Var(_)) => {
                        let ok = self.s.fresh();
                        self.unify(&ret, &Ty::Result(Rc::new(ok), err), span)?;
                        Rc::unwrap_or_clone(inner)
                    }
                    _ => return Err(unsupported(span, "`?` where the value or the function is not an Option or Result of the same kind")),
                }
            }
            ExprKind::Cast(v, ty) => {
                let tv = self.expr(v)?;
                let target = self.ann(Some(ty), span)?;
                match (self.resolve(&tv), self.resolve(&target)) {
                    (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => target,
                    (Ty::Bool, Ty::Int) => Ty::Int,
                    (Ty::Named(n), Ty::Int) if self.enums.contains_key(&n) => Ty::Int,
                    _ => return Err(unsupported(span, "this `as` cast")),
                }
            }
        })
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> IResult<Ty> {
        let ta = self.expr(a)?;
        let tb = self.expr(b)?;
        Ok(match op {
            BinOp::Add
                if matches!(self.s.shallow(&ta), Ty::Str)
                    || matches!(self.s.shallow(&tb), Ty::Str) =>
            {
                for (t, x) in [(&ta, a), (&tb, b)] {
                    match self.s.shallow(t) {
                        Ty::Str | Ty::Int | Ty::Float | Ty::Bool => {}
                        // most likely a string (a parameter joined to one); the program is
                        // refused later if it turns out otherwise
                        Ty::Var(_) => self.unify(t, &Ty::Str, x.span)?,
                        other => {
                            return Err(Diagnostic::new(
                                DiagnosticKind::Type,
                                format!("compile: cannot add {} to a string", describe(&other)),
                                x.span,
                            ))
                        }
                    }
                }
                Ty::Str
            }
            BinOp::Add if matches!(self.s.shallow(&ta), Ty::Vec(_)) => {
                self.unify(&ta, &tb, span)?;
                ta
            }
            BinOp::Mul if matches!(self.s.shallow(&ta), Ty::Str) => {
                self.unify(&tb, &Ty::Int, b.span)?;
                Ty::Str
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                self.numeric_result(&ta, &tb, span, op.symbol())?
            }
            BinOp::Pow => {
                let r = self.numeric_result(&ta, &tb, span, "**")?;
                if matches!(self.s.shallow(&r), Ty::Int)
                    && !matches!(b.kind, ExprKind::Int(n) if n >= 0)
                {
                    return Err(unsupported(b.span, "an integer `**` whose exponent is not a literal (a negative one gives a float)"));
                }
                r
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                let (ra, rb) = (self.s.shallow(&ta), self.s.shallow(&tb));
                if !matches!((&ra, &rb), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
                    self.unify(&ta, &tb, span)?;
                }
                if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
                    match self.resolve(&ta) {
                        Ty::Int | Ty::Float | Ty::Str | Ty::Var(_) => {}
                        other => {
                            return Err(Diagnostic::new(
                                DiagnosticKind::Type,
                                format!("compile: cannot order {}", describe(&other)),
                                span,
                            ))
                        }
                    }
                }
                Ty::Bool
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
                self.unify(&ta, &Ty::Int, a.span)?;
                self.unify(&tb, &Ty::Int, b.span)?;
                Ty::Int
            }
        })
    }

    /// Values that can be printed: everything but functions.
    fn printable(&mut self, t: &Ty, span: Span) -> IResult<()> {
        if matches!(self.resolve(t), Ty::Fn(..)) {
            return Err(unsupported(span, "printing a function"));
        }
        Ok(())
    }

    fn record_field(&mut self, r: u32, k: &str, span: Span) -> IResult<Ty> {
        self.records
            .get(r as usize)
            .and_then(|fs| fs.iter().find(|(n, _)| &**n == k))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("Object has no field named {k}"),
                    span,
                )
            })
    }

    fn field(&mut self, to: &Ty, field: &Rc<str>, span: Span) -> IResult<Ty> {
        match self.known(to) {
            Ty::Named(n) => {
                if let Some(info) = self.structs.get(&n) {
                    if let Some((_, t)) = info.fields.iter().find(|(f, _)| f == field) {
                        return Ok(t.clone());
                    }
                }
                Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{n} has no field named {field}"),
                    span,
                ))
            }
            Ty::Record(r) => self.record_field(r, field, span),
            Ty::Map(v) => Ok(Rc::unwrap_or_clone(v)),
            Ty::Var(_) => Err(unsupported(
                span,
                "a field of a value whose type is not known yet (annotate the parameter)",
            )),
            other => Err(unsupported(
                span,
                &format!("a field of {}", describe(&other)),
            )),
        }
    }

    fn object(&mut self, entries: &[(Name, Expr)], span: Span) -> IResult<Ty> {
        let mut tys = Vec::new();
        for (k, v) in entries {
            tys.push((k.clone(), self.expr(v)?));
        }
        // one value type: a map; several: a record struct
        let first = self.s.fresh();
        let homogeneous = {
            let snapshot: Vec<Ty> = tys.iter().map(|(_, t)| self.resolve(t)).collect();
            snapshot
                .windows(2)
                .all(|w| w[0] == w[1] || matches!(w[0], Ty::Var(_)) || matches!(w[1], Ty::Var(_)))
        };
        if homogeneous {
            for (_, t) in &tys {
                self.unify(&first, t, span)?;
            }
            return Ok(Ty::Map(Rc::new(first)));
        }
        let mut fields = tys;
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if fields.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(unsupported(span, "an object with a key twice"));
        }
        // the same shape is the same record
        for (i, r) in self.records.clone().iter().enumerate() {
            if r.len() == fields.len() && r.iter().zip(&fields).all(|(a, b)| a.0 == b.0) {
                let mut same = true;
                for (a, b) in r.iter().zip(&fields) {
                    if self.s.unify(&a.1, &b.1).is_err() {
                        same = false;
                    }
                }
                if same {
                    return Ok(Ty::Record(i as u32));
                }
            }
        }
        self.records.push(fields);
        Ok(Ty::Record(self.records.len() as u32 - 1))
    }

    fn struct_lit(
        &mut self,
        name: &Name,
        fields: &[(Name, Expr)],
        base: Option<&Expr>,
        span: Span,
    ) -> IResult<Ty> {
        let name = self.self_path(name);
        if let Some((en, vn)) = name.split_once("::") {
            let en: Rc<str> = self.self_path(&Rc::from(en));
            let Some(info) = self.enums.get(&en).cloned() else {
                return Err(unsupported(span, "this variant"));
            };
            let Some((_, VariantKind::Struct(fs), _)) =
                info.variants.iter().find(|(n, _, _)| &**n == vn)
            else {
                return Err(unsupported(span, "this variant"));
            };
            for (f, v) in fields {
                let tv = self.expr(v)?;
                let Some((_, ft)) = fs.iter().find(|(n, _)| n == f) else {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("{name} has no field named {f}"),
                        v.span,
                    ));
                };
                self.unify(ft, &tv, v.span)?;
            }
            if fields.len() != fs.len() || base.is_some() {
                return Err(unsupported(span, "this variant literal"));
            }
            return Ok(Ty::Named(en));
        }
        let Some(info) = self.structs.get(&name).cloned() else {
            return Err(Diagnostic::new(
                DiagnosticKind::Runtime,
                format!("Undefined struct: {name}"),
                span,
            ));
        };
        for (f, v) in fields {
            let tv = self.expr(v)?;
            let Some((_, ft)) = info.fields.iter().find(|(n, _)| n == f) else {
                return Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{name} has no field named {f}"),
                    v.span,
                ));
            };
            self.unify(ft, &tv, v.span)?;
        }
        match base {
            Some(b) => {
                let tb = self.expr(b)?;
                self.unify(&tb, &Ty::Named(name.clone()), b.span)?;
            }
            None => {
                let defaulted = |i: usize| {
                    info.def
                        .as_ref()
                        .is_some_and(|d| d.defaults.get(i).is_some_and(Option::is_some))
                };
                if let Some((_, (missing, _))) = info
                    .fields
                    .iter()
                    .enumerate()
                    .find(|(i, (n, _))| !fields.iter().any(|(f, _)| f == n) && !defaulted(*i))
                {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!("Missing field {missing} in {name} literal"),
                        span,
                    ));
                }
            }
        }
        Ok(Ty::Named(name))
    }

    /// The parameters and result of a collection's constructor (`HashMap::new`,
    /// `HashSet::from`, `VecDeque::with_capacity`); `None` for any other name.
    fn collection_ctor(&mut self, name: &str) -> Option<(Vec<Ty>, Ty)> {
        let (owner, f) = name.split_once("::")?;
        let kind = ruchy_runtime::collection::Kind::named(owner)?;
        let (k, v) = (Rc::new(self.s.fresh()), Rc::new(self.s.fresh()));
        use ruchy_runtime::collection::Kind as K;
        let (ty, item) = match kind {
            K::HashMap | K::BTreeMap => (
                Ty::Dict(k.clone(), v.clone()),
                Ty::Tuple(vec![(*k).clone(), (*v).clone()].into()),
            ),
            K::HashSet | K::BTreeSet => (Ty::Set(k.clone()), (*k).clone()),
            K::VecDeque => (Ty::Deque(k.clone()), (*k).clone()),
        };
        Some(match f {
            "new" => (vec![], ty),
            "with_capacity" => (vec![Ty::Int], ty),
            _ => (vec![Ty::Vec(Rc::new(item))], ty),
        })
    }

    fn path(&mut self, path: &[Name], span: Span) -> IResult<Ty> {
        let (Some(last), true) = (path.last(), path.len() >= 2) else {
            return Err(unsupported(span, "this path"));
        };
        // `String::from` and the other standard constructors as values (`.map(String::from)`)
        if let Some(name) = std_constructor(path, &self.structs, &self.enums) {
            let a = self.s.fresh();
            let (params, ret): (Vec<Ty>, Ty) = match name {
                "Vec::new" => (vec![], Ty::Vec(Rc::new(a))),
                "Vec::with_capacity" => (vec![Ty::Int], Ty::Vec(Rc::new(a))),
                "String::new" => (vec![], Ty::Str),
                "String::from" => (vec![Ty::Str], Ty::Str),
                _ => match self.collection_ctor(name) {
                    Some(sig) => sig,
                    None => (vec![a.clone()], a),
                },
            };
            return Ok(Ty::Fn(params.into(), Rc::new(ret)));
        }
        let owner = self.self_path(&path[path.len() - 2]);
        if let Some(info) = self.enums.get(&owner).cloned() {
            if let Some((_, kind, _)) = info.variants.iter().find(|(n, _, _)| n == last) {
                return Ok(match kind {
                    VariantKind::Unit => Ty::Named(owner),
                    VariantKind::Tuple(ts) => Ty::Fn(ts.clone().into(), Rc::new(Ty::Named(owner))),
                    VariantKind::Struct(_) => {
                        return Err(unsupported(
                            span,
                            "a struct-like variant without its fields",
                        ))
                    }
                });
            }
        }
        if let Some(m) = self.methods.get(&(owner.clone(), last.clone())).cloned() {
            if m.self_kind != SelfKind::None {
                return Err(unsupported(span, "a method used as a function"));
            }
            return Ok(m.ty);
        }
        match (&*owner, &**last) {
            ("i64" | "i32" | "Int", "MAX" | "MIN") => Ok(Ty::Int),
            (
                "f64" | "f32" | "Float",
                "MAX" | "MIN" | "INFINITY" | "NEG_INFINITY" | "NAN" | "EPSILON",
            ) => Ok(Ty::Float),
            (_, "PI" | "E" | "TAU") => Ok(Ty::Float),
            _ => Err(Diagnostic::new(
                DiagnosticKind::Runtime,
                format!("{owner} has no variant or associated function named {last}"),
                span,
            )),
        }
    }

    fn fn_expr(&mut self, def: &FnDef, span: Span) -> IResult<Ty> {
        if let Some(ty) = self.fn_types.get(&def.id).cloned() {
            // a top-level function (signature made up front; body at its first call)
            if self.stack.is_empty() && def.name.is_some() {
                return Ok(ty);
            }
        }
        // a lambda or a nested function: a closure
        let ty = self.fn_signature(def)?;
        self.fn_types.insert(def.id, ty.clone());
        if let Some(b) = &def.name {
            self.bind_name(b, &ty, span)?;
            // a nested function calling itself is a closure that needs itself: not in Rust
            if self
                .res
                .fns
                .get(def.id as usize)
                .is_some_and(|f| !f.captures.is_empty())
                && calls_self(&def.body, &b.name)
            {
                return Err(unsupported(
                    span,
                    "a nested function that captures variables and calls itself",
                ));
            }
        }
        let saved = self.impl_type.take();
        let r = self.function(def, &ty);
        self.impl_type = saved;
        r?;
        Ok(ty)
    }

    fn try_expr(&mut self, t: &TryExpr, span: Span) -> IResult<Ty> {
        if t.finally.is_some() {
            return Err(unsupported(span, "`finally`"));
        }
        let Some((pat, handler)) = &t.catch else {
            return Err(unsupported(span, "`try` without `catch`"));
        };
        if escapes(&t.body) {
            return Err(unsupported(
                span,
                "`return`, `?`, `break` or `continue` that leaves a `try` body",
            ));
        }
        // a `catch` also catches the engine's errors, which are strings: every thrown value of
        // a program that catches is a string
        let thrown = self.thrown.clone();
        self.s.unify(&thrown, &Ty::Str).map_err(|m| {
            Diagnostic::new(
                DiagnosticKind::Type,
                format!("compile needs the values a `catch` catches to be strings, as the engine's errors are: {m}"),
                span,
            )
        })?;
        let tb = self.expr(&t.body)?;
        self.bind_pattern(pat, &thrown)?;
        let th = self.expr(handler)?;
        // values of different types are fine where nothing uses them (see `emit::Tail`)
        if self.s.unify(&tb, &th).is_err() {
            return Ok(Ty::Unit);
        }
        Ok(tb)
    }

    // ---- calls ---------------------------------------------------------------------------

    fn call(&mut self, callee: &Expr, args: &[Expr], span: Span) -> IResult<Ty> {
        if let ExprKind::Var(v) = &callee.kind {
            if let UseRes::Global(slot) = self.res.use_of(v) {
                let slot = self.global_slot(v, slot);
                if !self.gl.contains_key(&slot) {
                    if let Some(info) = self.structs.get(&v.name).cloned() {
                        // a tuple struct's constructor
                        if !info.tuple || info.fields.len() != args.len() {
                            return Err(unsupported(span, "this constructor call"));
                        }
                        for (a, (_, ft)) in args.iter().zip(&info.fields) {
                            let t = self.expr(a)?;
                            self.unify(ft, &t, a.span)?;
                        }
                        self.record(callee, Ty::Unit);
                        return Ok(Ty::Named(v.name.clone()));
                    }
                    let t = self.builtin_call(&v.name, args, span)?;
                    self.record(callee, Ty::Unit);
                    return Ok(t);
                }
            }
        }
        if let ExprKind::Path(path) = &callee.kind {
            if let Some(name) = std_constructor(path, &self.structs, &self.enums) {
                let t = self.builtin_call(name, args, span)?;
                self.record(callee, Ty::Unit);
                return Ok(t);
            }
        }
        let ft = self.expr(callee)?;
        let ret = self.s.fresh();
        let (ats, lambdas) = self.arg_types(args)?;
        let t = self.call_typed(callee, &ft, &ats, ret, args, span)?;
        self.finish_lambdas(lambdas)?;
        Ok(t)
    }

    /// The arguments' types; a lambda argument gets its signature only, and its body is
    /// inferred by [`Self::finish_lambdas`] once the call has given its parameters their
    /// types (`people.map(|p| p.name)`).
    #[allow(clippy::type_complexity)]
    fn arg_types<'e>(&mut self, args: &'e [Expr]) -> IResult<(Vec<Ty>, Vec<(&'e FnDef, Ty)>)> {
        let mut ats = Vec::new();
        let mut lambdas = Vec::new();
        for a in args {
            match &a.kind {
                ExprKind::Fn(def) if def.name.is_none() => {
                    let ty = self.fn_signature(def)?;
                    self.fn_types.insert(def.id, ty.clone());
                    self.record(a, ty.clone());
                    lambdas.push((&**def, ty.clone()));
                    ats.push(ty);
                }
                _ => ats.push(self.expr(a)?),
            }
        }
        Ok((ats, lambdas))
    }

    fn finish_lambdas(&mut self, lambdas: Vec<(&FnDef, Ty)>) -> IResult<()> {
        for (def, ty) in lambdas {
            let saved = self.impl_type.take();
            let r = self.function(def, &ty);
            self.impl_type = saved;
            r?;
        }
        Ok(())
    }

    fn call_typed(
        &mut self,
        callee: &Expr,
        ft: &Ty,
        ats: &[Ty],
        ret: Ty,
        args: &[Expr],
        span: Span,
    ) -> IResult<Ty> {
        match self.resolve(ft) {
            Ty::Fn(params, r) => {
                if params.len() != args.len() {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!(
                            "Function expects {} arguments, got {}",
                            params.len(),
                            args.len()
                        ),
                        span,
                    ));
                }
                for ((a, p), at) in args.iter().zip(params.iter()).zip(ats) {
                    self.arg(p, at, a.span)?;
                }
                if let ExprKind::Var(v) = &callee.kind {
                    if let UseRes::Global(slot) = self.res.use_of(v) {
                        let slot = self.global_slot(v, slot);
                        self.infer_pending(slot)?;
                    }
                }
                Ok(Rc::unwrap_or_clone(r))
            }
            Ty::Var(_) => {
                self.unify(ft, &Ty::Fn(ats.into(), Rc::new(ret.clone())), callee.span)?;
                Ok(ret)
            }
            other => Err(unsupported(
                callee.span,
                &format!("calling {}", describe(&other)),
            )),
        }
    }

    /// An argument passed to a parameter of type `p` (an int is not a float in Rust).
    fn arg(&mut self, p: &Ty, at: &Ty, span: Span) -> IResult<()> {
        self.unify(p, at, span)
    }

    fn builtin_call(&mut self, name: &str, args: &[Expr], span: Span) -> IResult<Ty> {
        if let (Some(method), Some((receiver, rest))) = (method_alias(name), args.split_first()) {
            // D10: `join(xs, ", ")` is `xs.join(", ")`
            return self.method(receiver, &Name::from(method), rest, span);
        }
        let mut ats = Vec::new();
        for a in args {
            ats.push(self.expr(a)?);
        }
        let n = args.len();
        let want = |k: usize| -> IResult<()> {
            if n == k {
                Ok(())
            } else {
                Err(Diagnostic::new(
                    DiagnosticKind::Runtime,
                    format!("{name}() expects {k} arguments, got {n}"),
                    span,
                ))
            }
        };
        if let Some((params, ret)) = self.collection_ctor(name) {
            want(params.len())?;
            for ((p, t), a) in params.iter().zip(&ats).zip(args) {
                self.unify(p, t, a.span)?;
            }
            return Ok(ret);
        }
        Ok(match name {
            "println" | "print" => {
                for (a, t) in args.iter().zip(&ats) {
                    self.printable(t, a.span)?;
                }
                Ty::Unit
            }
            "Vec::new" => {
                want(0)?;
                Ty::Vec(Rc::new(self.s.fresh()))
            }
            "Vec::with_capacity" => {
                want(1)?;
                self.unify(&Ty::Int, &ats[0], args[0].span)?;
                Ty::Vec(Rc::new(self.s.fresh()))
            }
            "String::new" => {
                want(0)?;
                Ty::Str
            }
            "String::from" => {
                want(1)?;
                self.unify(&Ty::Str, &ats[0], args[0].span)?;
                Ty::Str
            }
            "Box::new" => {
                want(1)?;
                ats[0].clone()
            }
            "format" => {
                if !matches!(args.first().map(|a| &a.kind), Some(ExprKind::Str(_))) {
                    return Err(unsupported(
                        span,
                        "`format` with a template that is not a literal",
                    ));
                }
                Ty::Str
            }
            "Some" => {
                want(1)?;
                Ty::Option(Rc::new(ats[0].clone()))
            }
            "Ok" => {
                want(1)?;
                Ty::Result(Rc::new(ats[0].clone()), Rc::new(self.s.fresh()))
            }
            "Err" => {
                want(1)?;
                Ty::Result(Rc::new(self.s.fresh()), Rc::new(ats[0].clone()))
            }
            "len" => {
                want(1)?;
                match self.known(&ats[0]) {
                    Ty::Str
                    | Ty::Vec(_)
                    | Ty::Map(_)
                    | Ty::Tuple(_)
                    | Ty::Dict(..)
                    | Ty::Set(_)
                    | Ty::Deque(_) => Ty::Int,
                    other => {
                        return Err(unsupported(span, &format!("`len` of {}", describe(&other))))
                    }
                }
            }
            "str" | "to_string" => {
                want(1)?;
                self.printable(&ats[0], span)?;
                Ty::Str
            }
            "typeof" | "type_of" => {
                want(1)?;
                Ty::Str
            }
            "int" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float | Ty::Str | Ty::Bool => Ty::Int,
                    _ => return Err(unsupported(span, "this `int()`")),
                }
            }
            "float" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float | Ty::Str | Ty::Bool => Ty::Float,
                    _ => return Err(unsupported(span, "this `float()`")),
                }
            }
            "abs" => {
                want(1)?;
                let t = ats[0].clone();
                self.numeric_result(&t, &t, span, "abs")?
            }
            "sqrt" | "sin" | "cos" | "tan" | "log" | "log10" | "exp" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float => Ty::Float,
                    _ => return Err(unsupported(span, &format!("this `{name}()`"))),
                }
            }
            "random" => {
                want(0)?;
                Ty::Float
            }
            "floor" | "ceil" | "round" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int | Ty::Float => Ty::Int,
                    _ => return Err(unsupported(span, &format!("this `{name}()`"))),
                }
            }
            "min" | "max" if n == 2 => self.numeric_result(&ats[0], &ats[1], span, name)?,
            "pow" => {
                want(2)?;
                let r = self.numeric_result(&ats[0], &ats[1], span, "pow")?;
                if matches!(self.resolve(&r), Ty::Int)
                    && !matches!(args[1].kind, ExprKind::Int(k) if k >= 0)
                {
                    return Err(unsupported(
                        span,
                        "an integer `pow` whose exponent is not a literal",
                    ));
                }
                r
            }
            "range" if n == 1 || n == 2 => {
                for (a, t) in args.iter().zip(&ats) {
                    self.unify(t, &Ty::Int, a.span)?;
                }
                Ty::Vec(Rc::new(Ty::Int))
            }
            "assert" => {
                if n == 0 || n > 2 {
                    want(1)?;
                }
                self.need_bool(&ats[0], args[0].span, "`assert`")?;
                Ty::Unit
            }
            "assert_eq" => {
                if !(2..=3).contains(&n) {
                    want(2)?;
                }
                self.unify(&ats[0], &ats[1], span)?;
                Ty::Unit
            }
            "panic" => self.s.fresh(),
            "bool" => {
                want(1)?;
                match self.resolve(&ats[0]) {
                    Ty::Int
                    | Ty::Float
                    | Ty::Str
                    | Ty::Bool
                    | Ty::Unit
                    | Ty::Vec(_)
                    | Ty::Map(_) => Ty::Bool,
                    other => {
                        return Err(unsupported(
                            span,
                            &format!("`bool` of {}", describe(&other)),
                        ))
                    }
                }
            }
            "is_nil" => {
                want(1)?;
                Ty::Bool
            }
            "dbg" => {
                want(1)?;
                self.printable(&ats[0], args[0].span)?;
                ats[0].clone()
            }
            "sum" | "product" if n == 1 => {
                let elem = self.s.fresh();
                self.unify(&ats[0], &Ty::Vec(Rc::new(elem.clone())), span)?;
                elem
            }
            _ => {
                return Err(unsupported(
                    span,
                    &format!("the built-in function `{name}`"),
                ))
            }
        })
    }

    fn method(&mut self, receiver: &Expr, name: &Name, args: &[Expr], span: Span) -> IResult<Ty> {
        let tr = self.expr(receiver)?;
        let rt = self.known(&tr);
        if let Ty::Named(n) = &rt {
            if let Some(m) = self.methods.get(&(n.clone(), name.clone())).cloned() {
                if m.self_kind == SelfKind::None {
                    return Err(unsupported(
                        span,
                        "calling an associated function as a method",
                    ));
                }
                if m.self_kind == SelfKind::Mut {
                    self.mark_mutable(receiver);
                }
                let Ty::Fn(params, ret) = self.resolve(&m.ty) else {
                    return Err(unsupported(span, "this method"));
                };
                if params.len() != args.len() {
                    return Err(Diagnostic::new(
                        DiagnosticKind::Runtime,
                        format!(
                            "Function {name} expects {} arguments, got {}",
                            params.len(),
                            args.len()
                        ),
                        span,
                    ));
                }
                for (a, p) in args.iter().zip(params.iter()) {
                    let t = self.expr(a)?;
                    self.unify(p, &t, a.span)?;
                }
                return Ok(Rc::unwrap_or_clone(ret));
            }
        }
        let (ats, lambdas) = self.arg_types(args)?;
        // built-in methods by id: a name and its aliases are one method (the catalogue)
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        if id.mutates() {
            self.mark_mutable(receiver);
        }
        let n = args.len();
        let bad = || {
            unsupported(
                span,
                &format!(
                    "the method `{name}` on {} with {n} arguments",
                    describe(&rt)
                ),
            )
        };
        let want = |k: usize| if n == k { Ok(()) } else { Err(bad()) };
        let t = match &rt {
            Ty::Str => match id {
                M::Len | M::Count if n == 0 => Ty::Int,
                M::IsEmpty | M::IsNumeric | M::IsAlphabetic | M::IsAlphanumeric => {
                    want(0)?;
                    Ty::Bool
                }
                M::ToUppercase
                | M::ToLowercase
                | M::Trim
                | M::TrimStart
                | M::TrimEnd
                | M::ToString
                | M::Clone
                | M::Reverse
                | M::Reversed
                | M::Capitalize => {
                    want(0)?;
                    Ty::Str
                }
                M::Contains | M::StartsWith | M::EndsWith => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Bool
                }
                M::Replace | M::ReplaceFirst => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    self.unify(&ats[1], &Ty::Str, args[1].span)?;
                    Ty::Str
                }
                M::PadLeft | M::PadRight if !args.is_empty() && args.len() <= 2 => {
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    if let Some(t) = ats.get(1) {
                        self.unify(t, &Ty::Str, args[1].span)?;
                    }
                    Ty::Str
                }
                M::CharIndices => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Tuple(vec![Ty::Int, Ty::Str].into())))
                }
                M::Repeat => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Str
                }
                M::Split => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                M::Chars | M::Lines | M::SplitWhitespace => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                // `parse::<T>()` (the type's name is the argument): Rust's parse
                M::Parse if !args.is_empty() => {
                    want(1)?;
                    let ok = match &args[0].kind {
                        ExprKind::Str(t) => parse_type(t),
                        _ => None,
                    };
                    let Some(ok) = ok else {
                        return Err(unsupported(
                            span,
                            "`parse` with a type known only at run time",
                        ));
                    };
                    Ty::Result(Rc::new(ok), Rc::new(Ty::Str))
                }
                M::Parse => {
                    want(0)?;
                    // `parse` reads whatever number the text holds: its type is known only for
                    // a literal
                    match &receiver.kind {
                        ExprKind::Str(t) if t.trim().contains(['.', 'e', 'E']) => Ty::Float,
                        ExprKind::Str(_) => Ty::Int,
                        _ => {
                            return Err(unsupported(
                                span,
                                "`parse` of a string known only at run time (it gives an integer or a float; `to_int()` or `to_float()` say which)",
                            ))
                        }
                    }
                }
                M::ToInt | M::ParseInt => {
                    want(0)?;
                    Ty::Int
                }
                M::Bytes => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Int))
                }
                M::ToFloat | M::ParseFloat => {
                    want(0)?;
                    Ty::Float
                }
                M::CharAt => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Str
                }
                M::Substring | M::Slice => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    self.unify(&ats[1], &Ty::Int, args[1].span)?;
                    Ty::Str
                }
                M::PushStr => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Unit
                }
                _ => return Err(bad()),
            },
            Ty::Vec(elem) => self.vec_method(name, elem, &ats, args, span)?,
            Ty::Range | Ty::RangeInclusive => match id {
                M::Contains => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Bool
                }
                _ if !id.mutates() => self.vec_method(name, &Ty::Int, &ats, args, span)?,
                _ => return Err(bad()),
            },
            Ty::Map(v) => match id {
                M::Keys => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Str))
                }
                M::Values => {
                    want(0)?;
                    Ty::Vec(v.clone())
                }
                M::Items => {
                    want(0)?;
                    Ty::Vec(Rc::new(Ty::Tuple(vec![Ty::Str, (**v).clone()].into())))
                }
                M::Len => {
                    want(0)?;
                    Ty::Int
                }
                M::IsEmpty => {
                    want(0)?;
                    Ty::Bool
                }
                M::Get => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Option(v.clone())
                }
                M::ContainsKey => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Bool
                }
                M::Remove => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    Ty::Option(v.clone())
                }
                M::Insert => {
                    want(2)?;
                    self.unify(&ats[0], &Ty::Str, args[0].span)?;
                    self.unify(&ats[1], v, args[1].span)?;
                    Ty::Option(v.clone())
                }
                _ => return Err(bad()),
            },
            Ty::Dict(k, v) => {
                let (k, v) = ((**k).clone(), (**v).clone());
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Keys, 0) => Ty::Vec(Rc::new(k)),
                    (M::Values, 0) => Ty::Vec(Rc::new(v)),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => {
                        Ty::Vec(Rc::new(Ty::Tuple(vec![k, v].into())))
                    }
                    (M::Get | M::Remove, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Option(Rc::new(v))
                    }
                    (M::ContainsKey, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Bool
                    }
                    (M::Insert | M::OrInsert, 2) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        self.unify(&ats[1], &v, args[1].span)?;
                        if id == M::Insert {
                            Ty::Option(Rc::new(v))
                        } else {
                            v
                        }
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Set(k) => {
                let k = (**k).clone();
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => Ty::Vec(Rc::new(k)),
                    (M::Contains | M::Insert | M::Remove, 1) => {
                        self.unify(&ats[0], &k, args[0].span)?;
                        Ty::Bool
                    }
                    (M::Union | M::Intersection | M::Difference | M::SymmetricDifference, 1) => {
                        self.unify(&ats[0], &rt, args[0].span)?;
                        rt.clone()
                    }
                    (M::IsSubset | M::IsSuperset | M::IsDisjoint, 1) => {
                        self.unify(&ats[0], &rt, args[0].span)?;
                        Ty::Bool
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Deque(t) => {
                let t = (**t).clone();
                match (id, n) {
                    (M::Len, 0) => Ty::Int,
                    (M::IsEmpty, 0) => Ty::Bool,
                    (M::Clear, 0) => Ty::Unit,
                    (M::Clone, 0) => rt.clone(),
                    (M::Iter | M::IntoIter | M::ToArray, 0) => Ty::Vec(Rc::new(t)),
                    (M::Front | M::Back | M::PopFront | M::PopBack, 0) => Ty::Option(Rc::new(t)),
                    (M::PushFront | M::PushBack, 1) => {
                        self.unify(&ats[0], &t, args[0].span)?;
                        Ty::Unit
                    }
                    (M::Get, 1) => {
                        self.unify(&ats[0], &Ty::Int, args[0].span)?;
                        Ty::Option(Rc::new(t))
                    }
                    (M::Contains, 1) => {
                        self.unify(&ats[0], &t, args[0].span)?;
                        Ty::Bool
                    }
                    _ => return Err(bad()),
                }
            }
            Ty::Int => match id {
                M::Abs | M::Signum => {
                    want(0)?;
                    Ty::Int
                }
                M::Pow => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    if !matches!(args[0].kind, ExprKind::Int(k) if k >= 0) {
                        return Err(unsupported(
                            span,
                            "an integer `pow` whose exponent is not a literal",
                        ));
                    }
                    Ty::Int
                }
                M::Min | M::Max => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Int, args[0].span)?;
                    Ty::Int
                }
                M::ToString => {
                    want(0)?;
                    Ty::Str
                }
                M::ToFloat => {
                    want(0)?;
                    Ty::Float
                }
                _ => return Err(bad()),
            },
            Ty::Float => match id {
                M::Floor
                | M::Ceil
                | M::Round
                | M::Abs
                | M::Sqrt
                | M::Trunc
                | M::Sin
                | M::Cos
                | M::Tan
                | M::Ln
                | M::Exp
                | M::Log10
                | M::Log2
                | M::Cbrt
                | M::Exp2
                | M::Asin
                | M::Acos
                | M::Atan
                | M::Sinh
                | M::Cosh
                | M::Tanh
                | M::ToDegrees
                | M::ToRadians => {
                    want(0)?;
                    Ty::Float
                }
                M::Powf | M::Min | M::Max | M::Log | M::Atan2 | M::Hypot => {
                    want(1)?;
                    self.unify(&ats[0], &Ty::Float, args[0].span)?;
                    Ty::Float
                }
                M::ToInt => {
                    want(0)?;
                    Ty::Int
                }
                M::ToString => {
                    want(0)?;
                    Ty::Str
                }
                M::IsNan => {
                    want(0)?;
                    Ty::Bool
                }
                _ => return Err(bad()),
            },
            Ty::Option(inner) => match id {
                M::Unwrap | M::Expect if n <= 1 => (**inner).clone(),
                M::IsSome | M::IsNone => {
                    want(0)?;
                    Ty::Bool
                }
                M::UnwrapOr => {
                    want(1)?;
                    self.unify(inner, &ats[0], args[0].span)?;
                    (**inner).clone()
                }
                M::UnwrapOrElse => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(Vec::new().into(), inner.clone()),
                        args[0].span,
                    )?;
                    (**inner).clone()
                }
                M::Map => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**inner).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Option(Rc::new(r))
                }
                M::AndThen => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(
                            vec![(**inner).clone()].into(),
                            Rc::new(Ty::Option(Rc::new(r.clone()))),
                        ),
                        args[0].span,
                    )?;
                    Ty::Option(Rc::new(r))
                }
                M::Filter => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**inner).clone()].into(), Rc::new(Ty::Bool)),
                        args[0].span,
                    )?;
                    Ty::Option(inner.clone())
                }
                M::OkOr => {
                    want(1)?;
                    Ty::Result(inner.clone(), Rc::new(ats[0].clone()))
                }
                _ => return Err(bad()),
            },
            Ty::Result(ok, err) => match id {
                M::Unwrap | M::Expect if n <= 1 => (**ok).clone(),
                M::UnwrapErr => (**err).clone(),
                M::IsOk | M::IsErr => {
                    want(0)?;
                    Ty::Bool
                }
                M::UnwrapOr => {
                    want(1)?;
                    self.unify(ok, &ats[0], args[0].span)?;
                    (**ok).clone()
                }
                M::UnwrapOrElse => {
                    want(1)?;
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**err).clone()].into(), ok.clone()),
                        args[0].span,
                    )?;
                    (**ok).clone()
                }
                M::AndThen => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(
                            vec![(**ok).clone()].into(),
                            Rc::new(Ty::Result(Rc::new(r.clone()), err.clone())),
                        ),
                        args[0].span,
                    )?;
                    Ty::Result(Rc::new(r), err.clone())
                }
                M::Ok => {
                    want(0)?;
                    Ty::Option(ok.clone())
                }
                M::Map => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**ok).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Result(Rc::new(r), err.clone())
                }
                M::MapErr => {
                    want(1)?;
                    let r = self.s.fresh();
                    self.unify(
                        &ats[0],
                        &Ty::Fn(vec![(**err).clone()].into(), Rc::new(r.clone())),
                        args[0].span,
                    )?;
                    Ty::Result(ok.clone(), Rc::new(r))
                }
                _ => return Err(bad()),
            },
            Ty::Tuple(_) if id == M::Len && n == 0 => Ty::Int,
            Ty::Var(_) => {
                return Err(unsupported(
                    receiver.span,
                    &format!(
                        "the method `{name}` on a value whose type is not known yet (annotate it)"
                    ),
                ))
            }
            _ => return Err(bad()),
        };
        self.finish_lambdas(lambdas)?;
        Ok(t)
    }

    fn vec_method(
        &mut self,
        name: &Name,
        elem: &Ty,
        ats: &[Ty],
        args: &[Expr],
        span: Span,
    ) -> IResult<Ty> {
        let n = args.len();
        let elem = elem.clone();
        let bad = || {
            unsupported(
                span,
                &format!("the array method `{name}` with {n} arguments"),
            )
        };
        let want = |k: usize| if n == k { Ok(()) } else { Err(bad()) };
        let vec_of = |t: Ty| Ty::Vec(Rc::new(t));
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        Ok(match id {
            M::Len | M::Count if n == 0 => Ty::Int,
            M::IsEmpty => {
                want(0)?;
                Ty::Bool
            }
            M::Push => {
                want(1)?;
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Unit
            }
            M::Pop | M::First | M::Last => {
                want(0)?;
                elem
            }
            M::Get | M::Nth => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                Ty::Option(Rc::new(elem))
            }
            M::Contains => {
                want(1)?;
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Bool
            }
            M::Insert => {
                want(2)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                self.unify(&elem, &ats[1], args[1].span)?;
                Ty::Unit
            }
            M::Remove => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                elem
            }
            M::Clear => {
                want(0)?;
                Ty::Unit
            }
            M::Extend => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem), args[0].span)?;
                Ty::Unit
            }
            M::Concat => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem.clone()), args[0].span)?;
                vec_of(elem)
            }
            M::Map => {
                want(1)?;
                let r = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(r.clone())),
                    args[0].span,
                )?;
                vec_of(r)
            }
            M::Windows | M::Chunks => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                vec_of(vec_of(elem))
            }
            M::GroupBy => {
                want(1)?;
                let k = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone()].into(), Rc::new(k.clone())),
                    args[0].span,
                )?;
                Ty::Dict(Rc::new(k), Rc::new(vec_of(elem)))
            }
            M::ChunkBy => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone(), elem.clone()].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                vec_of(vec_of(elem))
            }
            M::Filter | M::Partition => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem.clone()].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                let kept = vec_of(elem);
                if id == M::Partition {
                    // the elements for which it holds, and the others
                    Ty::Tuple(vec![kept.clone(), kept].into())
                } else {
                    kept
                }
            }
            M::BinarySearch => {
                want(1)?;
                self.unify(&ats[0], &elem, args[0].span)?;
                if !matches!(self.resolve(&elem), Ty::Int | Ty::Str) {
                    return Err(unsupported(
                        span,
                        "a binary search over values that are not integers or strings",
                    ));
                }
                Ty::Result(Rc::new(Ty::Int), Rc::new(Ty::Int))
            }
            M::Any | M::All => {
                want(1)?;
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                Ty::Bool
            }
            M::Find => {
                return Err(unsupported(span, "`find` (it gives nil when nothing matches, and a value that may be nil has no Rust type here)"));
            }
            M::Each => {
                want(1)?;
                let r = self.s.fresh();
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(r)),
                    args[0].span,
                )?;
                Ty::Unit
            }
            M::Reduce if n == 1 => {
                // reduce(f): Some of the elements folded from the first
                self.unify(
                    &ats[0],
                    &Ty::Fn(
                        vec![elem.clone(), elem.clone()].into(),
                        Rc::new(elem.clone()),
                    ),
                    args[0].span,
                )?;
                Ty::Option(Rc::new(elem))
            }
            M::Reduce => {
                want(2)?;
                // reduce(f, init) or reduce(init, f) / fold(init, f)
                let (fi, ii) = if matches!(args[0].kind, ExprKind::Fn(_)) {
                    (0, 1)
                } else {
                    (1, 0)
                };
                let acc = ats[ii].clone();
                self.unify(
                    &ats[fi],
                    &Ty::Fn(vec![acc.clone(), elem].into(), Rc::new(acc.clone())),
                    args[fi].span,
                )?;
                acc
            }
            M::Sum | M::Product | M::Max | M::Min => {
                want(0)?;
                match self.resolve(&elem) {
                    Ty::Int | Ty::Float => elem,
                    Ty::Str if matches!(id, M::Max | M::Min) => elem,
                    _ => return Err(bad()),
                }
            }
            M::Sort | M::Reverse | M::Sorted | M::Reversed => {
                want(0)?;
                if matches!(id, M::Sort | M::Sorted)
                    && !matches!(self.resolve(&elem), Ty::Int | Ty::Float | Ty::Str)
                {
                    return Err(unsupported(
                        span,
                        "sorting values that are not numbers or strings",
                    ));
                }
                vec_of(elem)
            }
            M::Join => {
                if n > 1 {
                    return Err(bad());
                }
                if let Some(t) = ats.first() {
                    self.unify(t, &Ty::Str, args[0].span)?;
                }
                self.printable(&elem, span)?;
                Ty::Str
            }
            M::Enumerate => {
                want(0)?;
                vec_of(Ty::Tuple(vec![Ty::Int, elem].into()))
            }
            M::Zip => {
                want(1)?;
                let other = self.s.fresh();
                self.unify(&ats[0], &vec_of(other.clone()), args[0].span)?;
                vec_of(Ty::Tuple(vec![elem, other].into()))
            }
            M::Take | M::Skip => {
                want(1)?;
                self.unify(&ats[0], &Ty::Int, args[0].span)?;
                vec_of(elem)
            }
            M::Iter | M::IntoIter | M::ToArray | M::Clone => {
                want(0)?;
                vec_of(elem)
            }
            M::Unique => {
                want(0)?;
                vec_of(elem)
            }
            M::Flatten => {
                want(0)?;
                let inner = self.s.fresh();
                self.unify(&elem, &vec_of(inner.clone()), span)?;
                vec_of(inner)
            }
            M::Position if n == 1 && matches!(self.s.shallow(&ats[0]), Ty::Fn(..)) => {
                self.unify(
                    &ats[0],
                    &Ty::Fn(vec![elem].into(), Rc::new(Ty::Bool)),
                    args[0].span,
                )?;
                Ty::Option(Rc::new(Ty::Int))
            }
            M::IndexOf | M::Position if n == 1 => {
                self.unify(&elem, &ats[0], args[0].span)?;
                Ty::Option(Rc::new(Ty::Int))
            }
            M::Union | M::Intersection | M::Difference => {
                want(1)?;
                self.unify(&ats[0], &vec_of(elem.clone()), args[0].span)?;
                vec_of(elem)
            }
            _ => return Err(bad()),
        })
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
