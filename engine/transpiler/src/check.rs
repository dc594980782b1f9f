//! What typed Rust cannot say about the program as a whole, decided after inference and
//! before emission: a method of an `impl` inside a function that uses that function's
//! variables (Rust's items cannot see them), a function stored in a struct or an object (the
//! types Rust is given derive `Debug` and `PartialEq`, which function types do not have), a type
//! that holds a value of its own type (infinitely large in Rust), a notebook global holding a
//! function, a call of a function before its `fun` has run (Rust hoists `fn` items), and a
//! script's `main` that needs arguments (a script calls its `main` with none).

use crate::infer::{unsupported, Typed, VariantKind};
use crate::types::HashMap;
use crate::types::Ty;
use ruchy_runtime::resolver::{Globals, Resolution, UseRes};
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::{Diagnostic, Span};
use std::rc::Rc;

/// The first of these refusals the program meets, or none. `notebook`: cells, whose `main` is
/// just a function.
pub fn check(
    program: &Program,
    res: &Resolution,
    globals: &Globals,
    typed: &Typed,
    notebook: bool,
) -> Result<(), Diagnostic> {
    // the impls written inside functions
    let mut defs = Vec::new();
    crate::infer::collect_types(&program.exprs, &mut defs);
    for d in defs
        .iter()
        .filter(|d| !program.exprs.iter().any(|x| std::ptr::eq(x, **d)))
    {
        let ExprKind::Impl(imp) = &d.kind else {
            continue;
        };
        for m in &imp.methods {
            let captures = res
                .fns
                .get(m.id as usize)
                .is_some_and(|f| !f.captures.is_empty());
            if captures {
                return Err(unsupported(
                    m.span,
                    "a method that uses a variable of the function its `impl` is in",
                ));
            }
        }
    }
    let fn_struct = typed
        .structs
        .iter()
        .find(|(_, s)| s.fields.iter().any(|(_, t)| t.holds_fn()))
        .map(|(n, _)| n.clone());
    let fn_record = typed.records.iter().flatten().any(|(_, t)| t.holds_fn());
    if fn_struct.is_some() || fn_record {
        // at the struct's definition (an object literal has no type of its own to point at)
        let span = fn_struct.map_or(Span::default(), |n| type_def_span(program, &n));
        return Err(unsupported(
            span,
            "a function stored in a struct or an object (its Rust type has no Debug or PartialEq)",
        ));
    }
    for name in typed.structs.keys().chain(typed.enums.keys()) {
        if holds_itself(typed, name) {
            return Err(unsupported(
                type_def_span(program, name),
                &format!("the type `{name}`, which holds a value of its own type (Rust needs a `Box` there)"),
            ));
        }
    }
    // (in slot order: the first one defined is named)
    let mut shared: Vec<&u32> = typed.shared_globals.iter().collect();
    ruchy_runtime::sort::sort_by(&mut shared, |a, b| a < b);
    for slot in shared {
        if let (Some(name), Some(Ty::Fn(..))) =
            (globals.names.get(*slot as usize), typed.globals.get(slot))
        {
            return Err(unsupported(
                Span::default(),
                &format!("the notebook global `{name}` holding a function"),
            ));
        }
    }
    // Rust hoists `fn` items; Ruchy defines a function where its `fun` runs, so a call before
    // that is an error in the interpreter and must not quietly work here
    let mut first_fun: HashMap<Name, usize> = HashMap::default();
    for (i, x) in program.exprs.iter().enumerate() {
        if let ExprKind::Fn(def) = &x.kind {
            if let Some(b) = &def.name {
                first_fun.entry(b.name.clone()).or_insert(i);
            }
        }
    }
    for (i, x) in program.exprs.iter().enumerate() {
        let mut early = None;
        ruchy_syntax::ast::visit(x, &mut |y: &Expr| {
            if let ExprKind::Call { callee, .. } = &y.kind {
                if let ExprKind::Var(v) = &callee.kind {
                    let global = matches!(res.use_of(v), UseRes::Global(_));
                    if global && early.is_none() && first_fun.get(&v.name).is_some_and(|&j| j > i) {
                        early = Some((v.name.clone(), y.span));
                    }
                }
            }
        });
        if let Some((name, span)) = early {
            return Err(unsupported(
                span,
                &format!(
                    "a call of `{name}` before its `fun` (it is defined where its `fun` runs)"
                ),
            ));
        }
    }
    let main_slot = globals.get("main").filter(|s| typed.global_fns.contains(s));
    if main_slot.is_some() && !notebook {
        let main_def = program.exprs.iter().rev().find_map(|x| match &x.kind {
            ExprKind::Fn(def) if def.name.as_ref().is_some_and(|b| &*b.name == "main") => Some(def),
            _ => None,
        });
        if let Some(def) = main_def.filter(|d| d.params.iter().any(|p| p.default.is_none())) {
            // the interpreter calls it without arguments and stops with an arity error
            return Err(unsupported(
                def.span,
                "a `main` that needs arguments (a script calls its `main` with none)",
            ));
        }
    }
    Ok(())
}

/// Where the struct or enum `name` is defined (nowhere known: the start).
fn type_def_span(program: &Program, name: &str) -> Span {
    program
        .exprs
        .iter()
        .find(|x| match &x.kind {
            ExprKind::Struct(s) => &*s.name == name,
            ExprKind::Enum(en) => &*en.name == name,
            _ => false,
        })
        .map_or(Span::default(), |x| x.span)
}

/// Whether a value of the struct or enum `name` holds one of its own type by value, directly
/// or through an `Option`, a tuple or another struct (an infinitely large type in Rust; a
/// `Vec` is fine).
fn holds_itself(typed: &Typed, name: &str) -> bool {
    fn inline<'t>(typed: &'t Typed, t: &'t Ty, out: &mut Vec<&'t Ty>) {
        match t {
            Ty::Option(x) => inline(typed, x, out),
            Ty::Result(a, b) => {
                inline(typed, a, out);
                inline(typed, b, out);
            }
            Ty::Tuple(items) => items.iter().for_each(|x| inline(typed, x, out)),
            Ty::Named(_) => out.push(t),
            Ty::Record(i) => {
                if let Some(fields) = typed.records.get(*i as usize) {
                    fields.iter().for_each(|(_, x)| inline(typed, x, out));
                }
            }
            _ => {}
        }
    }
    let fields_of = |n: &str| -> Vec<&Ty> {
        let mut out = Vec::new();
        if let Some(s) = typed.structs.get(n) {
            s.fields
                .iter()
                .for_each(|(_, t)| inline(typed, t, &mut out));
        }
        if let Some(e) = typed.enums.get(n) {
            for (_, kind, _) in &e.variants {
                match kind {
                    VariantKind::Unit => {}
                    VariantKind::Tuple(ts) => ts.iter().for_each(|t| inline(typed, t, &mut out)),
                    VariantKind::Struct(fs) => {
                        fs.iter().for_each(|(_, t)| inline(typed, t, &mut out))
                    }
                }
            }
        }
        out
    };
    let mut seen: Vec<Rc<str>> = Vec::new();
    let mut todo: Vec<Rc<str>> = vec![name.into()];
    while let Some(n) = todo.pop() {
        for t in fields_of(&n) {
            if let Ty::Named(m) = t {
                if &**m == name {
                    return true;
                }
                if !seen.contains(m) {
                    seen.push(m.clone());
                    todo.push(m.clone());
                }
            }
        }
    }
    false
}
