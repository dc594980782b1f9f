//! Emission pass of the transpiler: typed Rust text.
//!
//! Layout of a program: the `use` lines; structs, enums and generated record structs with their
//! `Show` impls; `impl` blocks; notebook globals that functions read (`thread_local!` cells
//! with an accessor); top-level functions as `fn` items; `fn main` with everything else in
//! order (a Ruchy `main`, renamed `ruchy_main`, is called at its end: D16); the runtime.
//!
//! Values of non-`Copy` types are cloned where Ruchy's value semantics copy them. A local that
//! a closure captures and that is assigned lives in an `Rc<RefCell<_>>` shared by both (D4).

use crate::infer::{unsupported, EnumInfo, StructInfo, Typed, VariantKind};
use crate::types::Ty;
use crate::types::{HashMap, HashSet};
use ruchy_runtime::catalogue::MethodId;
use ruchy_runtime::catalogue::MethodId as M;
use ruchy_runtime::resolver::{CaptureSrc, Globals, Resolution, UseRes};
use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::{Diagnostic, Span};
use ruchy_syntax::template::{FormatSpec, Kind, Piece};
use std::fmt::Write;
use std::rc::Rc;

type EResult<T> = Result<T, Diagnostic>;

struct Emitter<'a> {
    res: &'a Resolution,
    globals: &'a Globals,
    typed: &'a Typed,
    /// Names of bindings by id (for captures).
    names: HashMap<BindId, Name>,
    /// Captured names of the closures being emitted, innermost last.
    captures: Vec<Vec<Name>>,
    /// The type an `impl` block is for, while emitting its methods.
    impl_type: Option<Rc<str>>,
    /// Methods that take `self` by value (they change their own copy).
    by_value_self: HashSet<(Rc<str>, Rc<str>)>,
    /// Slots of top-level functions typed `()` whose body may still end in a value (branches of
    /// different types): a cell that shows such a call cannot be written.
    lossy_fns: HashSet<u32>,
    /// Emitting a method that takes `&mut self` (`self = v` is `*self = v` there).
    mut_self: bool,
    /// The call being emitted as a statement (its value unused), if any.
    stmt_call: Option<*const Expr>,
    /// Counts the `last` variables of loops whose value a cell shows.
    lasts: usize,
    /// The receiver of the method being emitted is the local `tmp` (see `method`).
    temp_receiver: bool,
    /// A local that ends a function body: moved out, not cloned.
    moved_tail: Option<*const Expr>,
    /// The notebook global at the root of the place being written (`a` in `a.push(x)` or
    /// `a[i] = x`, where functions read `a`): the place is written on a local that
    /// [`on_global`] fills from the global's cell and puts back.
    global_root: Option<Name>,
}

/// Where the value of an expression whose display a cell shows goes.
#[derive(Clone)]
enum Sink {
    /// Printed with its display (nothing for nil).
    Print,
    /// Kept in a loop's `last` variable: `Option<T>` when `raw`, else the display as
    /// `Option<String>`.
    Last { var: String, raw: bool },
}

/// How the last expression of a block is emitted.
#[derive(Clone)]
enum Mode {
    /// As a statement; the value is dropped.
    Stmt,
    /// As the block's value.
    Value,
    /// Shown: its display goes to the sink.
    Show(Sink),
}

/// What an expression's value is, as far as showing it goes.
#[derive(Clone, Debug, PartialEq)]
enum Tail {
    /// Always nil.
    Nil,
    /// Never produces a value (`return`, `break`, `continue`, `throw`).
    Never,
    /// Always a value of this type.
    Value(Ty),
    /// Sometimes nil, or values of different types.
    Mixed,
}

impl Tail {
    fn join(self, other: Tail) -> Tail {
        match (self, other) {
            (Tail::Never, x) | (x, Tail::Never) => x,
            (Tail::Nil, Tail::Nil) => Tail::Nil,
            (Tail::Value(a), Tail::Value(b)) if a == b => Tail::Value(a),
            _ => Tail::Mixed,
        }
    }
}

pub fn emit(
    program: &Program,
    res: &Resolution,
    globals: &Globals,
    typed: &Typed,
    display: &HashSet<usize>,
    notebook: bool,
) -> EResult<String> {
    let mut names = HashMap::default();
    collect_names(&program.exprs, &mut names);
    let mut e = Emitter {
        res,
        globals,
        typed,
        names,
        captures: Vec::new(),
        impl_type: None,
        by_value_self: HashSet::default(),
        lossy_fns: HashSet::default(),
        lasts: 0,
        temp_receiver: false,
        moved_tail: None,
        global_root: None,
        stmt_call: None,
        mut_self: false,
    };
    // functions typed `()` that may still end in a value (until nothing changes: they call
    // each other)
    loop {
        let before = e.lossy_fns.len();
        for x in &program.exprs {
            if let ExprKind::Fn(def) = &x.kind {
                let Some(b) = &def.name else { continue };
                let Some(slot) = res.binding(res.canonical(b.id)).global else {
                    continue;
                };
                let unit = matches!(typed.fns.get(&def.id), Some(Ty::Fn(_, r)) if **r == Ty::Unit);
                if unit && !matches!(e.tail_kind(&def.body), Tail::Nil | Tail::Never) {
                    e.lossy_fns.insert(slot);
                }
            }
        }
        if e.lossy_fns.len() == before {
            break;
        }
    }
    // every impl, those written inside functions too (Rust allows items in a function body,
    // but its methods cannot see the function's locals: written at the top level)
    let mut defs = Vec::new();
    crate::infer::collect_types(&program.exprs, &mut defs);
    let nested: Vec<&Rc<ImplDef>> = defs
        .iter()
        .filter(|d| !program.exprs.iter().any(|x| std::ptr::eq(x, **d)))
        .filter_map(|d| match &d.kind {
            ExprKind::Impl(imp) => Some(imp),
            _ => None,
        })
        .collect();
    for imp in &nested {
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
    for x in defs.iter().copied() {
        if let ExprKind::Impl(imp) = &x.kind {
            for m in &imp.methods {
                if let (Some(sb), Some(b)) = (&m.self_binding, &m.name) {
                    if m.self_kind == SelfKind::Value && e.self_by_value(sb.id) {
                        e.by_value_self
                            .insert((imp.type_name.clone(), b.name.clone()));
                    }
                }
            }
        }
    }
    let mut items = String::new();
    for imp in &nested {
        items.push_str(&e.impl_item(imp)?);
        items.push('\n');
    }
    // types
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
    for (name, info) in &typed.structs {
        items.push_str(&struct_item(name, info));
    }
    for (name, info) in &typed.enums {
        items.push_str(&enum_item(name, info));
    }
    for (i, fields) in typed.records.iter().enumerate() {
        items.push_str(&record_item(i, fields));
    }
    // notebook globals that functions read
    let mut shared: Vec<&u32> = typed.shared_globals.iter().collect();
    shared.sort();
    for slot in shared {
        let (Some(name), Some(t)) = (globals.names.get(*slot as usize), typed.globals.get(slot))
        else {
            continue;
        };
        if matches!(t, Ty::Fn(..)) {
            return Err(unsupported(
                Span::default(),
                &format!("the notebook global `{name}` holding a function"),
            ));
        }
        let _ = write!(
            items,
            "thread_local! {{\n    /// The notebook global `{name}`: functions read it when they run (D4).\n    static {cell}: RefCell<Option<{t}>> = const {{ RefCell::new(None) }};\n}}\n\nfn {name}() -> {t} {{\n    {cell}.with_borrow(|v| v.clone().expect(\"Undefined variable: {name}\"))\n}}\n\n",
            cell = global_cell(name),
        );
    }
    let mut body = String::new();
    let main_slot = globals.get("main").filter(|s| typed.global_fns.contains(s));
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
    for (i, x) in program.exprs.iter().enumerate() {
        match &x.kind {
            ExprKind::Fn(def) if def.name.is_some() => {
                items.push_str(&e.fn_item(def)?);
                items.push('\n');
                if display.contains(&i) {
                    indented(&mut body, "println!(\"<function>\");");
                }
            }
            ExprKind::Impl(imp) => {
                items.push_str(&e.impl_item(imp)?);
                items.push('\n');
            }
            ExprKind::Struct(d) => {
                if display.contains(&i) {
                    indented(&mut body, &format!("println!(\"<struct {}>\");", d.name));
                }
            }
            ExprKind::Enum(d) => {
                if display.contains(&i) {
                    indented(&mut body, &format!("println!(\"<enum {}>\");", d.name));
                }
            }
            _ if display.contains(&i) => {
                let s = e.displayed(x)?;
                indented(&mut body, &s);
            }
            _ => {
                let s = e.stmt(x)?;
                indented(&mut body, &s);
            }
        }
    }
    if main_slot.is_some() && !notebook {
        // a script calls its `main` at the end (D16); in a notebook it is just a function
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
        indented(&mut body, "ruchy_main();");
    }
    let mut out = String::from(
        "// Generated by `ruchy compile`: prints what the Ruchy interpreter prints.\n\
         // Ruchy's integer overflow is an error: build with overflow checks (a debug build, or\n\
         // `rustc -O -C overflow-checks=on`), or an overflow wraps around instead.\n\
         #![allow(unused, unreachable_code, unreachable_patterns, non_snake_case, non_camel_case_types, unconditional_panic, arithmetic_overflow, clippy::all)]\n\n\
         use crate::rt::Show;\n\
         use std::cell::RefCell;\n\
         use std::collections::{BTreeMap, BTreeSet, VecDeque};\n\
         use std::rc::Rc;\n\n",
    );
    out.push_str(&items);
    out.push_str("fn main() {\n");
    out.push_str(&body);
    out.push_str("}\n\n");
    let runtime = crate::runtime::source_for(&out);
    out.push_str(&runtime);
    Ok(out)
}

/// `inner` (a statement or expression that writes a place rooted at the notebook global
/// `name`) on a local holding the global's value, which is then put back. When nothing else
/// in `inner` can read the global (`pure`) the value is taken out of its cell; otherwise
/// `inner` works on a copy, so that a read of the global in an index or an argument
/// (`a[a.len() - 1] = f(x)`) still sees it.
fn on_global(name: &str, inner: &str, pure: bool) -> String {
    let cell = global_cell(name);
    let local = global_local(name);
    let get = if pure {
        format!("{cell}.take().expect(\"Undefined variable: {name}\")")
    } else {
        format!("{name}()")
    };
    format!(
        "{{\n    let mut {local} = {get};\n    let out = {};\n    {cell}.set(Some({local}));\n    out\n}}",
        inner.replace('\n', "\n    ")
    )
}

/// The local that holds a notebook global's value while a place in it is written.
fn global_local(name: &str) -> String {
    format!("global_{name}")
}

fn global_cell(name: &str) -> String {
    format!("GLOBAL_{}", name.to_uppercase())
}

/// The name of every binding of the program, by id: one visit of each expression (a nested
/// function's body is visited from the function), so the time is linear in the program.
fn collect_names(exprs: &[Expr], out: &mut HashMap<BindId, Name>) {
    fn pat(p: &Pattern, out: &mut HashMap<BindId, Name>) {
        let mut bs = Vec::new();
        p.bindings(&mut bs);
        for b in bs {
            out.insert(b.id, b.name.clone());
        }
    }
    /// The bindings `e` itself makes (not those of the expressions inside it).
    fn own(e: &Expr, out: &mut HashMap<BindId, Name>) {
        match &e.kind {
            ExprKind::Let(l) => pat(&l.pat, out),
            ExprKind::For(f) => pat(&f.pat, out),
            ExprKind::Comprehension(c) => pat(&c.pat, out),
            ExprKind::Match { arms, .. } => {
                for a in arms {
                    pat(&a.pat, out);
                }
            }
            ExprKind::Fn(def) => fn_names(def, out),
            ExprKind::Impl(imp) => {
                for m in &imp.methods {
                    fn_names(m, out);
                }
            }
            ExprKind::Try(t) => {
                if let Some((p, _)) = &t.catch {
                    pat(p, out);
                }
            }
            _ => {}
        }
    }
    fn walk(e: &Expr, out: &mut HashMap<BindId, Name>) {
        ruchy_syntax::ast::visit(e, &mut |x: &Expr| own(x, out));
    }
    fn fn_names(def: &FnDef, out: &mut HashMap<BindId, Name>) {
        if let Some(b) = &def.name {
            out.insert(b.id, b.name.clone());
        }
        if let Some(b) = &def.self_binding {
            out.insert(b.id, b.name.clone());
        }
        for p in &def.params {
            pat(&p.pat, out);
        }
        walk(&def.body, out);
    }
    for e in exprs {
        walk(e, out);
    }
}

/// `#[derive]`s every generated type gets.
const DERIVE: &str = "#[derive(Clone, Debug, PartialEq)]";

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

fn struct_item(name: &str, info: &StructInfo) -> String {
    let mut s = String::from(DERIVE);
    s.push('\n');
    if info.tuple {
        let tys: Vec<String> = info.fields.iter().map(|(_, t)| t.to_string()).collect();
        let _ = writeln!(s, "struct {name}({});\n", tys.join(", "));
        let parts: Vec<String> = (0..info.fields.len())
            .map(|i| format!("self.{i}.show()"))
            .collect();
        let _ = write!(
            s,
            "impl Show for {name} {{\n    fn show(&self) -> String {{\n        format!(\"{name}({{}})\", [{}].join(\", \"))\n    }}\n}}\n\n",
            parts.join(", ")
        );
        if info.fields.is_empty() {
            s = s.replace(&format!("struct {name}();"), &format!("struct {name};"));
            s = s.replace(
                &format!("format!(\"{name}({{}})\", [].join(\", \"))"),
                &format!("\"{name}()\".to_string()"),
            );
        }
        return s;
    }
    if info.fields.is_empty() {
        let _ = write!(
            s,
            "struct {name};\n\nimpl Show for {name} {{\n    fn show(&self) -> String {{\n        \"{name}\".to_string()\n    }}\n}}\n\n"
        );
        return s;
    }
    let _ = writeln!(s, "struct {name} {{");
    for (f, t) in &info.fields {
        let _ = writeln!(s, "    {}: {t},", ident(f));
    }
    s.push_str("}\n\n");
    let fmt: Vec<String> = info
        .fields
        .iter()
        .map(|(f, _)| format!("{f}: {{}}"))
        .collect();
    let args: Vec<String> = info
        .fields
        .iter()
        .map(|(f, _)| format!("self.{}.show()", ident(f)))
        .collect();
    let _ = write!(
        s,
        "impl Show for {name} {{\n    fn show(&self) -> String {{\n        format!(\"{name} {{{{{}}}}}\", {})\n    }}\n}}\n\n",
        fmt.join(", "),
        args.join(", ")
    );
    s
}

fn enum_item(name: &str, info: &EnumInfo) -> String {
    let mut s = String::from(DERIVE);
    s.push('\n');
    let _ = writeln!(s, "enum {name} {{");
    for (v, kind, d) in &info.variants {
        match kind {
            VariantKind::Unit => match d {
                Some(d) => {
                    let _ = writeln!(s, "    {v} = {d},");
                }
                None => {
                    let _ = writeln!(s, "    {v},");
                }
            },
            VariantKind::Tuple(ts) => {
                let tys: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                let _ = writeln!(s, "    {v}({}),", tys.join(", "));
            }
            VariantKind::Struct(fs) => {
                let fields: Vec<String> = fs
                    .iter()
                    .map(|(f, t)| format!("{}: {t}", ident(f)))
                    .collect();
                let _ = writeln!(s, "    {v} {{ {} }},", fields.join(", "));
            }
        }
    }
    s.push_str("}\n\n");
    let _ = writeln!(
        s,
        "impl Show for {name} {{\n    fn show(&self) -> String {{\n        match self {{"
    );
    for (v, kind, _) in &info.variants {
        match kind {
            VariantKind::Unit => {
                let _ = writeln!(s, "            {name}::{v} => \"{v}\".to_string(),");
            }
            VariantKind::Tuple(ts) => {
                let binds: Vec<String> = (0..ts.len()).map(|i| format!("f{i}")).collect();
                let shows: Vec<String> = binds.iter().map(|b| format!("{b}.show()")).collect();
                let _ = writeln!(
                    s,
                    "            {name}::{v}({}) => format!(\"{v}({{}})\", [{}].join(\", \")),",
                    binds.join(", "),
                    shows.join(", ")
                );
            }
            VariantKind::Struct(fs) => {
                let binds: Vec<String> = fs.iter().map(|(f, _)| ident(f)).collect();
                let fmt: Vec<String> = fs.iter().map(|(f, _)| format!("{f}: {{}}")).collect();
                let shows: Vec<String> = binds.iter().map(|b| format!("{b}.show()")).collect();
                let _ = writeln!(
                    s,
                    "            {name}::{v} {{ {} }} => format!(\"{v} {{{{{}}}}}\", {}),",
                    binds.join(", "),
                    fmt.join(", "),
                    shows.join(", ")
                );
            }
        }
    }
    s.push_str("        }\n    }\n}\n\n");
    s
}

fn record_item(i: usize, fields: &[(Rc<str>, Ty)]) -> String {
    let name = format!("Record{i}");
    let mut s =
        format!("/// An object literal of mixed value types.\n{DERIVE}\nstruct {name} {{\n");
    for (f, t) in fields {
        let _ = writeln!(s, "    {}: {t},", ident(f));
    }
    s.push_str("}\n\n");
    let fmt: Vec<String> = fields.iter().map(|(f, _)| format!("{f}: {{}}")).collect();
    let args: Vec<String> = fields
        .iter()
        .map(|(f, _)| format!("self.{}.show()", ident(f)))
        .collect();
    let _ = write!(
        s,
        "impl Show for {name} {{\n    fn show(&self) -> String {{\n        format!(\"{{{{{}}}}}\", {})\n    }}\n}}\n\n",
        fmt.join(", "),
        args.join(", ")
    );
    s
}

/// Rust keywords that are fine Ruchy names get the raw-identifier prefix.
fn ident(name: &str) -> String {
    const RUST_ONLY: &[&str] = &[
        "abstract", "become", "box", "do", "dyn", "extern", "final", "macro", "move", "override",
        "priv", "ref", "typeof", "unsized", "virtual", "yield", "crate", "super", "mod", "async",
        "await", "try", "union", "unsafe", "static", "trait", "type", "where", "impl", "use",
        "gen",
    ];
    if RUST_ONLY.contains(&name) {
        format!("r#{name}")
    } else if let Some(n) = name.strip_prefix('(').and_then(|n| n.strip_suffix(')')) {
        // the parser's own names, which no program can write (a destructuring assignment's
        // `(part 0)`, the `(entry key)` of `*map.entry(k).or_insert(v) += 1`): `part_0_`
        let mut id: String = n
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        id.push('_');
        id
    } else {
        name.to_string()
    }
}

fn fn_name(name: &str) -> String {
    if name == "main" {
        "ruchy_main".into()
    } else {
        ident(name)
    }
}

/// A Ruchy string as a Rust string literal.
fn rust_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Literal text inside a Rust format string: braces doubled.
fn fmt_text(s: &str) -> String {
    let lit = rust_str(s);
    lit[1..lit.len() - 1].replace('{', "{{").replace('}', "}}")
}

/// Appends `text` one level deeper than its surroundings.
fn indent_text(text: &str) -> String {
    let mut out = String::new();
    indented(&mut out, text);
    out
}

/// `text`, the Rust of `e`, made safe where a statement starts (a statement, or a block's
/// last expression): Rust reads a leading block, `if`, `match` or loop there as a statement of
/// its own, so `{ x = 40; x } + 2` would be a block followed by `+ 2`. Such text is put in
/// parentheses unless `e` is itself that block, `if`, `match` or loop.
fn in_statement_position(e: &Expr, text: String) -> String {
    let own = matches!(
        e.kind,
        ExprKind::Block(_)
            | ExprKind::If { .. }
            | ExprKind::Match { .. }
            | ExprKind::While { .. }
            | ExprKind::For(_)
            | ExprKind::Loop { .. }
            | ExprKind::Ternary(..)
    );
    let t = text.trim_start();
    let like_block = t.starts_with('{')
        || t.starts_with('\'')
        || ["if ", "match ", "loop ", "while ", "for ", "unsafe "]
            .iter()
            .any(|k| t.starts_with(k));
    if !own && like_block {
        format!("({text})")
    } else {
        text
    }
}

/// Past this many spaces, nested code is not indented further: the Rust stays readable, and
/// deeply nested programs do not become quadratically long.
const MAX_INDENT: usize = 64;

fn indented(out: &mut String, text: &str) {
    for l in text.lines() {
        if l.len() - l.trim_start_matches(' ').len() >= MAX_INDENT {
            let _ = writeln!(out, "{l}");
        } else {
            let _ = writeln!(out, "    {l}");
        }
    }
}

fn label_prefix(label: &Option<Name>) -> String {
    label.as_ref().map_or(String::new(), |l| format!("'{l}: "))
}

fn label_suffix(label: &Option<Name>) -> String {
    label.as_ref().map_or(String::new(), |l| format!(" '{l}"))
}

fn float_lit(f: f64) -> String {
    if f.is_nan() {
        "f64::NAN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "f64::INFINITY"
        } else {
            "f64::NEG_INFINITY"
        }
        .into()
    } else {
        let s = format!("{f:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// A number literal without its type suffix (where the type is written next to it).
fn unsuffixed(v: &str) -> &str {
    let Some(n) = v.strip_suffix("_i64").or_else(|| v.strip_suffix("_f64")) else {
        return v;
    };
    let digits = n.strip_prefix('-').unwrap_or(n);
    if !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
    {
        n
    } else {
        v
    }
}

/// An `i64` count as a `usize` (`take`, `repeat`, `[x; n]`): a negative count is 0, as in the
/// interpreter (`as usize` would make it huge); a literal stays as it is.
fn count(n: &str) -> String {
    if n.parse::<u64>().is_ok() {
        n.to_string()
    } else {
        format!("{}.max(0) as usize", paren(n))
    }
}

/// Wraps an expression in parentheses unless it is an atom (a name, a literal, a call or a
/// field/method chain with no operator outside brackets).
fn paren(s: &str) -> String {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.contains('.')
        && digits.parse::<f64>().is_ok()
    {
        // a float literal: typed, so that a method on it resolves
        return if digits.len() < s.len() {
            format!("({s}_f64)")
        } else {
            format!("{s}_f64")
        };
    }
    if is_atom(s) {
        s.to_string()
    } else {
        format!("({s})")
    }
}

fn is_atom(s: &str) -> bool {
    if s.is_empty()
        || s.starts_with(['-', '!', '*', '&', '|'])
        || s.starts_with("if ")
        || s.starts_with("match ")
    {
        return false;
    }
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if depth == 0 && (c.is_whitespace() || "+-*/%<>=!&|^?".contains(c)) => return false,
            _ => {}
        }
    }
    depth == 0
}

/// How a binding is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repr {
    /// A plain Rust local.
    Plain,
    /// Captured by a closure and changed (assigned, or by a method such as `push`):
    /// `Rc<RefCell<T>>`.
    Shared,
}

impl Emitter<'_> {
    fn ty(&self, e: &Expr) -> Ty {
        self.typed.of(e)
    }

    fn bind_ty(&self, b: BindId) -> Ty {
        self.typed
            .binds
            .get(&self.res.canonical(b))
            .cloned()
            .unwrap_or(Ty::Unit)
    }

    fn repr(&self, b: BindId) -> Repr {
        let id = self.res.canonical(b);
        let info = self.res.binding(id);
        if info.global.is_none()
            && info.captured
            && (info.assigned || self.typed.mutable.contains(&id))
        {
            Repr::Shared
        } else {
            Repr::Plain
        }
    }

    fn is_mut(&self, b: BindId) -> bool {
        let id = self.res.canonical(b);
        self.res.binding(id).assigned || self.typed.mutable.contains(&id)
    }

    // ---- items ---------------------------------------------------------------------------

    /// Whether a `self` method changes its own copy of `self` (then it takes it by value).
    fn self_by_value(&self, self_binding: BindId) -> bool {
        let id = self.res.canonical(self_binding);
        self.typed.mutable.contains(&id) || self.res.binding(id).assigned
    }

    fn fn_item(&mut self, def: &FnDef) -> EResult<String> {
        let name = def
            .name
            .as_ref()
            .map_or("f".to_string(), |b| fn_name(&b.name));
        let sig = self.signature(def, &name)?;
        let body = self.item_body(def)?;
        Ok(format!("{sig} {body}\n"))
    }

    /// The body of a `fn` item or a method (see [`Self::mut_self`]).
    fn item_body(&mut self, def: &FnDef) -> EResult<String> {
        let outer = std::mem::replace(&mut self.mut_self, def.self_kind == SelfKind::Mut);
        let body = self.fn_body(def);
        self.mut_self = outer;
        body
    }

    fn signature(&mut self, def: &FnDef, name: &str) -> EResult<String> {
        let Some(Ty::Fn(params, ret)) = self.typed.fns.get(&def.id).cloned() else {
            return Err(unsupported(def.span, "this function"));
        };
        let mut sig = format!("fn {name}(");
        let mut parts = Vec::new();
        if let Some(sb) = &def.self_binding {
            parts.push(match def.self_kind {
                SelfKind::Mut => "&mut self".to_string(),
                _ if self.self_by_value(sb.id) => "mut self".to_string(),
                _ => "&self".to_string(),
            });
        }
        for (p, t) in def.params.iter().zip(params.iter()) {
            let pat = self.pattern(&p.pat, t, false)?;
            parts.push(format!("{pat}: {t}"));
        }
        sig.push_str(&parts.join(", "));
        sig.push(')');
        if *ret != Ty::Unit {
            let _ = write!(sig, " -> {ret}");
        }
        Ok(sig)
    }

    /// A function's body block; parameters that closures capture and assign are shared.
    fn fn_body(&mut self, def: &FnDef) -> EResult<String> {
        let ret = match self.typed.fns.get(&def.id) {
            Some(Ty::Fn(_, r)) => (**r).clone(),
            _ => Ty::Unit,
        };
        let mut prologue = String::new();
        for p in &def.params {
            if let PatKind::Bind(b) = &p.pat.kind {
                if self.repr(b.id) == Repr::Shared {
                    let n = ident(&b.name);
                    let _ = writeln!(prologue, "let {n} = Rc::new(RefCell::new({n}));");
                }
            }
        }
        // a local that ends the body is moved out (`counts`, not `counts.clone()`)
        let last = match &def.body.kind {
            ExprKind::Block(b) => b.exprs.last(),
            _ => Some(&*def.body),
        };
        let saved = self.moved_tail.take();
        if let Some(
            x @ Expr {
                kind: ExprKind::Var(v),
                ..
            },
        ) = last
        {
            // (a closure's captures are not its own to move: only true locals)
            if let UseRes::Local(b) = self.res.use_of(v) {
                if self.repr(self.res.canonical(b)) == Repr::Plain {
                    self.moved_tail = Some(x as *const Expr);
                }
            }
        }
        let body = self.block_of(&def.body, ret != Ty::Unit);
        self.moved_tail = saved;
        let body = body?;
        if prologue.is_empty() {
            Ok(body)
        } else {
            // `{` + prologue + the rest of the block
            let mut out = String::from("{\n");
            indented(&mut out, &prologue);
            out.push_str(&body[2..]);
            Ok(out)
        }
    }

    fn impl_item(&mut self, imp: &ImplDef) -> EResult<String> {
        // a trait's defaults are written as the copies in each impl
        if imp.type_name.starts_with("trait ") {
            return Ok(String::new());
        }
        self.impl_type = Some(imp.type_name.clone());
        let mut out = format!("impl {} {{\n", imp.type_name);
        for m in &imp.methods {
            let name = m.name.as_ref().map_or("f".to_string(), |b| ident(&b.name));
            let sig = self.signature(m, &name)?;
            let body = self.item_body(m)?;
            indented(&mut out, &format!("{sig} {body}\n"));
        }
        out.push_str("}\n");
        self.impl_type = None;
        Ok(out)
    }

    // ---- blocks and statements -----------------------------------------------------------

    /// A body as a Rust block; `value`: its last expression is the block's value.
    fn block_of(&mut self, e: &Expr, value: bool) -> EResult<String> {
        self.block_mode(e, if value { &Mode::Value } else { &Mode::Stmt })
    }

    /// A body as a Rust block whose last expression is emitted as `mode` says.
    fn block_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
        let exprs: Vec<&Expr> = match &e.kind {
            ExprKind::Block(b) => b.exprs.iter().collect(),
            _ => vec![e],
        };
        let mut out = String::from("{\n");
        for (i, x) in exprs.iter().enumerate() {
            let s = match mode {
                Mode::Value if i + 1 == exprs.len() => self.tail(x)?,
                Mode::Show(sink) if i + 1 == exprs.len() => self.shown(x, sink)?,
                _ => self.stmt(x)?,
            };
            indented(&mut out, &s);
        }
        if exprs.is_empty() {
            if let Mode::Show(sink) = mode {
                indented(&mut out, &Self::deliver_nil(sink));
            }
        }
        out.push('}');
        Ok(out)
    }

    /// The last expression of a block that has a value.
    fn tail(&mut self, e: &Expr) -> EResult<String> {
        match &e.kind {
            ExprKind::Let(l) => {
                let s = self.stmt(e)?;
                let PatKind::Bind(b) = &l.pat.kind else {
                    return Err(unsupported(e.span, "a destructuring `let` as a value"));
                };
                let v = self.read_binding(b.id, &b.name);
                let v = if self.bind_ty(b.id).is_copy() || self.repr(b.id) == Repr::Shared {
                    v
                } else {
                    format!("{v}.clone()")
                };
                Ok(format!("{s}\n{v}"))
            }
            ExprKind::Return(_) | ExprKind::Break { .. } | ExprKind::Continue { .. } => {
                self.stmt(e)
            }
            ExprKind::Throw(_) => {
                let s = self.stmt(e)?;
                Ok(s.trim_end_matches(';').to_string())
            }
            ExprKind::Fn(def) if def.name.is_some() => {
                Err(unsupported(e.span, "a named function as a block's value"))
            }
            _ => Ok(in_statement_position(e, self.value(e)?)),
        }
    }

    /// The last expression of a notebook cell: run it, then print its display unless nil.
    fn displayed(&mut self, e: &Expr) -> EResult<String> {
        self.shown(e, &Sink::Print)
    }

    /// What an expression's value is, as far as showing it goes (see [`Tail`]).
    fn tail_kind(&self, e: &Expr) -> Tail {
        match &e.kind {
            ExprKind::Block(b) => b.exprs.last().map_or(Tail::Nil, |x| self.tail_kind(x)),
            ExprKind::If { then, else_, .. } => {
                let t = self.tail_kind(then);
                t.join(else_.as_ref().map_or(Tail::Nil, |x| self.tail_kind(x)))
            }
            ExprKind::Ternary(_, a, b) => self.tail_kind(a).join(self.tail_kind(b)),
            ExprKind::Try(t) => match &t.catch {
                Some((_, handler)) => self.tail_kind(&t.body).join(self.tail_kind(handler)),
                None => Tail::Mixed,
            },
            ExprKind::Match { arms, .. } => arms
                .iter()
                .map(|a| self.tail_kind(&a.body))
                .reduce(Tail::join)
                .unwrap_or(Tail::Nil),
            ExprKind::While { body, .. } => match self.tail_kind(body) {
                Tail::Nil | Tail::Never => Tail::Nil,
                _ => Tail::Mixed,
            },
            ExprKind::For(f) => match self.tail_kind(&f.body) {
                Tail::Nil | Tail::Never => Tail::Nil,
                _ => Tail::Mixed,
            },
            ExprKind::Loop { .. } => match self.ty(e) {
                Ty::Unit => Tail::Nil,
                t => Tail::Value(t),
            },
            ExprKind::Return(_)
            | ExprKind::Break { .. }
            | ExprKind::Continue { .. }
            | ExprKind::Throw(_) => Tail::Never,
            ExprKind::Let(l) => match &l.pat.kind {
                PatKind::Bind(b) => match self.bind_ty(b.id) {
                    Ty::Unit => self.tail_kind(&l.value),
                    t => Tail::Value(t),
                },
                _ => Tail::Value(self.ty(&l.value)),
            },
            ExprKind::Assign { target, .. } => Tail::Value(self.ty(target)),
            ExprKind::Fn(def) if def.name.is_some() => Tail::Mixed,
            ExprKind::Call { callee, .. } if self.ty(e) == Ty::Unit => match &callee.kind {
                ExprKind::Var(v) => match self.res.use_of(v) {
                    UseRes::Global(slot) => {
                        let slot = if slot == u32::MAX {
                            self.globals.get(&v.name).unwrap_or(u32::MAX)
                        } else {
                            slot
                        };
                        if self.lossy_fns.contains(&slot) {
                            Tail::Mixed
                        } else {
                            Tail::Nil
                        }
                    }
                    _ => Tail::Nil,
                },
                _ => Tail::Nil,
            },
            _ => match self.ty(e) {
                Ty::Unit => Tail::Nil,
                Ty::Tuple(items) if items.is_empty() => Tail::Nil,
                t => Tail::Value(t),
            },
        }
    }

    /// Runs `e` and delivers the display of its value to `sink` (nothing for nil).
    fn shown(&mut self, e: &Expr, sink: &Sink) -> EResult<String> {
        match &e.kind {
            ExprKind::Block(_) => self.block_mode(e, &Mode::Show(sink.clone())),
            ExprKind::If { cond, then, else_ } => {
                let c = self.expr(cond)?;
                let t = self.block_mode(then, &Mode::Show(sink.clone()))?;
                let els = match else_ {
                    Some(x) if matches!(x.kind, ExprKind::If { .. }) => self.shown(x, sink)?,
                    Some(x) => self.block_mode(x, &Mode::Show(sink.clone()))?,
                    None if matches!(sink, Sink::Print) => return Ok(format!("if {c} {t}")),
                    None => format!("{{\n{}}}", indent_text(&Self::deliver_nil(sink))),
                };
                Ok(format!("if {c} {t} else {els}"))
            }
            ExprKind::Match { .. } => self.match_mode(e, &Mode::Show(sink.clone())),
            ExprKind::Try(t) if self.tail_kind(e) == Tail::Mixed => {
                self.try_mode(e, t, &Mode::Show(sink.clone()))
            }
            ExprKind::While { .. } | ExprKind::For(_) => {
                let body: &Expr = match &e.kind {
                    ExprKind::While { body, .. } => body,
                    ExprKind::For(f) => &f.body,
                    _ => return Err(unsupported(e.span, "this loop")),
                };
                let (raw, t) = match self.tail_kind(body) {
                    Tail::Nil | Tail::Never => {
                        let s = self.stmt(e)?;
                        return Ok(format!("{s}\n{}", Self::deliver_nil(sink))
                            .trim_end()
                            .to_string());
                    }
                    Tail::Value(t) if !matches!(t, Ty::Fn(..)) => (true, t),
                    _ => (false, Ty::Str),
                };
                self.lasts += 1;
                let var = if self.lasts == 1 {
                    "last".to_string()
                } else {
                    format!("last{}", self.lasts)
                };
                let inner = Sink::Last {
                    var: var.clone(),
                    raw,
                };
                let looped = self.loop_mode(e, &Mode::Show(inner))?;
                let delivered = match (sink, raw) {
                    (Sink::Print, true) => format!(
                        "if let Some(value) = {var} {{\n    println!(\"{{}}\", value.show());\n}}"
                    ),
                    (Sink::Print, false) => {
                        format!("if let Some(shown) = {var} {{\n    println!(\"{{shown}}\");\n}}")
                    }
                    (
                        Sink::Last {
                            var: outer,
                            raw: false,
                        },
                        true,
                    ) => format!("{outer} = {var}.map(|value| value.show());"),
                    (Sink::Last { var: outer, .. }, _) => format!("{outer} = {var};"),
                };
                Ok(format!(
                    "let mut {var}: Option<{t}> = None;\n{looped}\n{delivered}"
                ))
            }
            ExprKind::Return(_)
            | ExprKind::Break { .. }
            | ExprKind::Continue { .. }
            | ExprKind::Throw(_) => self.stmt(e),
            _ => self.shown_leaf(e, sink),
        }
    }

    /// Code that delivers nil to a sink.
    fn deliver_nil(sink: &Sink) -> String {
        match sink {
            Sink::Print => String::new(),
            Sink::Last { var, .. } => format!("{var} = None;"),
        }
    }

    /// Code that delivers the value `v` (Rust text) of type `t` to a sink.
    fn deliver(v: &str, t: &Ty, sink: &Sink) -> String {
        match (sink, t) {
            (Sink::Print, Ty::Fn(..)) => "println!(\"<function>\");".to_string(),
            (Sink::Print, _) => format!("println!(\"{{}}\", {}.show());", paren(v)),
            (Sink::Last { var, .. }, Ty::Fn(..)) => {
                format!("{var} = Some(\"<function>\".to_string());")
            }
            (Sink::Last { var, raw: true }, _) => format!("{var} = Some({v});"),
            (Sink::Last { var, raw: false }, _) => format!("{var} = Some({}.show());", paren(v)),
        }
    }

    /// [`Self::shown`] of an expression that is not a block, branch or loop.
    fn shown_leaf(&mut self, e: &Expr, sink: &Sink) -> EResult<String> {
        let t = self.ty(e);
        match self.tail_kind(e) {
            Tail::Nil => {
                let s = self.stmt(e)?;
                return Ok(format!("{s}\n{}", Self::deliver_nil(sink))
                    .trim()
                    .to_string());
            }
            Tail::Mixed if !matches!(e.kind, ExprKind::Fn(_)) => {
                return Err(unsupported(
                    e.span,
                    "showing a value that may be nil or of different types",
                ));
            }
            _ => {}
        }
        if let ExprKind::Fn(def) = &e.kind {
            if def.name.is_some() {
                let s = self.stmt(e)?;
                return Ok(format!(
                    "{s}\n{}",
                    Self::deliver("", &Ty::Fn(Vec::new().into(), Rc::new(Ty::Unit)), sink)
                ));
            }
        }
        if matches!(t, Ty::Fn(..)) {
            let s = self.stmt(e)?;
            return Ok(format!("{s}\n{}", Self::deliver("", &t, sink)));
        }
        if let ExprKind::Let(l) = &e.kind {
            if let PatKind::Bind(b) = &l.pat.kind {
                let s = self.stmt(e)?;
                let v = self.read_any_binding(b);
                let bt = self.bind_ty(b.id);
                let v = if matches!(sink, Sink::Last { raw: true, .. })
                    && !bt.is_copy()
                    && self.repr(b.id) != Repr::Shared
                {
                    format!("{}.clone()", paren(&v))
                } else {
                    v
                };
                return Ok(format!("{s}\n{}", Self::deliver(&v, &bt, sink)));
            }
            // a destructuring `let` shows the whole value
            let t = self.ty(&l.value);
            let v = self.value(&l.value)?;
            let d = Self::deliver("value.clone()", &t, sink);
            if matches!(l.pat.kind, PatKind::List { .. }) {
                let bind = self.destructure_list(&l.pat, &t, "value")?;
                return Ok(format!("let value: {t} = {v};\n{bind}\n{d}"));
            }
            let pat = self.pattern(&l.pat, &t, false)?;
            return Ok(format!(
                "let value: {t} = {v};\nlet {pat}: {t} = value.clone();\n{d}"
            ));
        }
        if let ExprKind::Assign { target, .. } = &e.kind {
            let s = self.stmt(e)?;
            let v = if matches!(sink, Sink::Last { raw: true, .. }) {
                self.value(target)?
            } else {
                self.expr(target)?
            };
            return Ok(format!(
                "{s}\n{}",
                Self::deliver(&v, &self.ty(target), sink)
            ));
        }
        let v = self.value(e)?;
        Ok(Self::deliver(&v, &t, sink))
    }

    /// An expression used as a statement, with its `;`.
    fn stmt(&mut self, e: &Expr) -> EResult<String> {
        match &e.kind {
            ExprKind::Let(l) => self.let_stmt(l, e.span),
            ExprKind::If { cond, then, else_ } => {
                let c = self.expr(cond)?;
                let t = self.block_of(then, false)?;
                let mut s = format!("if {c} {t}");
                if let Some(els) = else_ {
                    let e2 = match &els.kind {
                        ExprKind::If { .. } => self.stmt(els)?,
                        _ => self.block_of(els, false)?,
                    };
                    let _ = write!(s, " else {e2}");
                }
                Ok(s)
            }
            ExprKind::Match { .. } => {
                let s = self.match_expr(e, false)?;
                Ok(format!("{s};"))
            }
            ExprKind::While { .. } => self.loop_mode(e, &Mode::Stmt),
            ExprKind::Loop { body, label } => {
                let b = self.block_of(body, false)?;
                // a loop that `break`s with a value is an expression; as a statement, a `;`
                let end = if self.ty(e) == Ty::Unit { "" } else { ";" };
                Ok(format!("{}loop {b}{end}", label_prefix(label)))
            }
            ExprKind::For(_) => self.loop_mode(e, &Mode::Stmt),
            ExprKind::Block(_) => self.block_of(e, false),
            ExprKind::Return(v) => Ok(match v {
                Some(v) => format!("return {};", self.value(v)?),
                None => "return;".into(),
            }),
            ExprKind::Break { label, value: None } => Ok(format!("break{};", label_suffix(label))),
            ExprKind::Break {
                label,
                value: Some(v),
            } => Ok(format!("break{} {};", label_suffix(label), self.value(v)?)),
            ExprKind::Continue { label } => Ok(format!("continue{};", label_suffix(label))),
            ExprKind::Throw(v) => Ok(format!("rt::throw({});", self.value(v)?)),
            ExprKind::Assign { target, op, value } => self.assign(target, *op, value),
            ExprKind::Fn(def) if def.name.is_some() => self.local_fn(def),
            // an `impl` in a function is written at the top level with the program's items
            ExprKind::Impl(_) => Ok(String::new()),
            ExprKind::Struct(_) | ExprKind::Enum(_) => Ok(String::new()),
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                ..
            } if MethodId::lookup(method) == Some(M::Each) => {
                let r = self.iter_of(receiver)?;
                self.with_callback(&args[0], |f| {
                    format!("for item in {r} {{\n    {f}(item);\n}}")
                })
            }
            // values nobody uses: evaluated for their effects only
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Str(_)
            | ExprKind::Var(_) => Ok(String::new()),
            _ => {
                if matches!(e.kind, ExprKind::Call { .. }) {
                    self.stmt_call = Some(e as *const Expr);
                }
                Ok(format!("{};", in_statement_position(e, self.expr(e)?)))
            }
        }
    }

    fn let_stmt(&mut self, l: &LetExpr, span: Span) -> EResult<String> {
        if let Some(eb) = &l.else_block {
            // `let Some(x) = e else { .. }`
            let t = self.ty(&l.value);
            let pat = self.pattern(&l.pat, &t, true)?;
            let v = self.value(&l.value)?;
            let b = self.block_of(eb, false)?;
            return Ok(format!("let {pat} = {v} else {b};"));
        }
        let PatKind::Bind(b) = &l.pat.kind else {
            let t = self.ty(&l.value);
            let v = self.value(&l.value)?;
            if matches!(l.pat.kind, PatKind::List { .. }) {
                let d = self.destructure_list(&l.pat, &t, "value")?;
                return Ok(format!("let value: {t} = {v};\n{d}"));
            }
            let pat = self.pattern(&l.pat, &t, false)?;
            return Ok(format!("let {pat}: {t} = {v};"));
        };
        let id = self.res.canonical(b.id);
        let info = self.res.binding(id);
        let v = self.value(&l.value)?;
        if let Some(slot) = info.global {
            let t = self.typed.globals.get(&slot).cloned().unwrap_or(Ty::Unit);
            if self.typed.shared_globals.contains(&slot) {
                return Ok(format!("{}.set(Some({v}));", global_cell(&b.name)));
            }
            let m = if self.typed.globals_assigned.contains(&slot) {
                "mut "
            } else {
                ""
            };
            return Ok(format!(
                "let {m}{}: {t} = {};",
                ident(&b.name),
                unsuffixed(&v)
            ));
        }
        let t = self.bind_ty(id);
        if self.repr(id) == Repr::Shared {
            return Ok(format!(
                "let {} = Rc::new(RefCell::new({v}));",
                ident(&b.name)
            ));
        }
        let m = if self.is_mut(id) { "mut " } else { "" };
        let _ = span;
        Ok(format!(
            "let {m}{}: {t} = {};",
            ident(&b.name),
            unsuffixed(&v)
        ))
    }

    /// `let [a, b, ..rest] = value`: the slice pattern, then each binding copied out of it
    /// (a value of another length is an error, as in the interpreter).
    fn destructure_list(&mut self, p: &Pattern, t: &Ty, value: &str) -> EResult<String> {
        let pat = self.pattern(p, t, true)?;
        let mut out = format!(
            "let {pat} = {value}.as_slice() else {{\n    panic!(\"No match arm matched the value {{}}\", {value}.show());\n}};"
        );
        let mut names = Vec::new();
        p.bindings(&mut names);
        let rest = match &p.kind {
            PatKind::List {
                rest: Some(Some(b)),
                ..
            } => Some(b.name.clone()),
            _ => None,
        };
        for b in names {
            let n = ident(&b.name);
            let copy = if rest.as_ref() == Some(&b.name) {
                "to_vec"
            } else {
                "clone"
            };
            let m = if self.is_mut(b.id) { "mut " } else { "" };
            let _ = write!(out, "\nlet {m}{n} = {n}.{copy}();");
        }
        Ok(out)
    }

    /// A named function inside a function: a `fn` item if it captures nothing, else a closure.
    fn local_fn(&mut self, def: &FnDef) -> EResult<String> {
        let b = def
            .name
            .as_ref()
            .ok_or_else(|| unsupported(def.span, "this function"))?;
        let captures = self
            .res
            .fns
            .get(def.id as usize)
            .map_or(0, |f| f.captures.len());
        if captures == 0 {
            let name = fn_name(&b.name);
            return self
                .fn_item(def)
                .map(|s| s.trim_end().to_string())
                .map(|s| {
                    let _ = name;
                    s
                });
        }
        let c = self.closure(def)?;
        Ok(format!("let {} = {c};", ident(&b.name)))
    }

    /// A `while` or `for` loop whose body's last expression is emitted as `mode` says.
    fn loop_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
        match &e.kind {
            ExprKind::While { cond, body, label } => {
                let c = self.expr(cond)?;
                let b = self.block_mode(body, mode)?;
                Ok(format!("{}while {c} {b}", label_prefix(label)))
            }
            ExprKind::For(f) => self.for_mode(f, mode),
            _ => Err(unsupported(e.span, "this loop")),
        }
    }

    fn for_mode(&mut self, f: &ForExpr, mode: &Mode) -> EResult<String> {
        let t = match self.bind_pattern_ty(&f.pat) {
            Some(t) => t,
            None => match self.ty(&f.iter) {
                Ty::Vec(t) => Rc::unwrap_or_clone(t),
                Ty::Str => Ty::Str,
                Ty::Map(v) => Ty::Tuple(vec![Ty::Str, Rc::unwrap_or_clone(v)].into()),
                Ty::Dict(k, v) => {
                    Ty::Tuple(vec![Rc::unwrap_or_clone(k), Rc::unwrap_or_clone(v)].into())
                }
                Ty::Set(t) | Ty::Deque(t) => Rc::unwrap_or_clone(t),
                _ => Ty::Int,
            },
        };
        let pat = self.pattern(&f.pat, &t, false)?;
        let iter = match &f.iter.kind {
            ExprKind::Range {
                start: Some(lo),
                end: Some(hi),
                inclusive,
            } => {
                let (lo, hi) = (self.expr(lo)?, self.expr(hi)?);
                format!("{lo}{}{hi}", if *inclusive { "..=" } else { ".." })
            }
            _ => self.iter_of(&f.iter)?,
        };
        let b = self.block_mode(&f.body, mode)?;
        Ok(format!("{}for {pat} in {iter} {b}", label_prefix(&f.label)))
    }

    /// The type a pattern's single binding has (for a `for` loop variable).
    fn bind_pattern_ty(&self, p: &Pattern) -> Option<Ty> {
        match &p.kind {
            PatKind::Bind(b) => Some(self.bind_ty(b.id)),
            _ => None,
        }
    }

    /// What `for x in <e>` walks: a snapshot of the collection (Ruchy iterates a copy).
    fn iter_of(&mut self, e: &Expr) -> EResult<String> {
        let t = self.ty(e);
        let x = self.expr(e)?;
        let place = matches!(
            e.kind,
            ExprKind::Var(_)
                | ExprKind::Field { .. }
                | ExprKind::Index(..)
                | ExprKind::TupleField(..)
        );
        if !place
            && matches!(
                t,
                Ty::Vec(_)
                    | Ty::Map(_)
                    | Ty::Dict(..)
                    | Ty::Set(_)
                    | Ty::Deque(_)
                    | Ty::Range
                    | Ty::RangeInclusive
            )
        {
            // a temporary: iterated as it is
            return Ok(x);
        }
        Ok(match t {
            Ty::Vec(_) => format!("{}.clone()", paren(&x)),
            Ty::Str => format!("rt::chars(&{})", paren(&x)),
            Ty::Map(_) | Ty::Dict(..) | Ty::Set(_) | Ty::Deque(_) => {
                format!("{}.clone()", paren(&x))
            }
            Ty::Range | Ty::RangeInclusive => format!("{}.clone()", paren(&x)),
            other => {
                return Err(unsupported(
                    e.span,
                    &format!("iterating over {}", crate::types::describe(&other)),
                ))
            }
        })
    }

    // ---- patterns ------------------------------------------------------------------------

    /// A Rust pattern for `p` against a value of type `t`. `refutable`: in `match`/`if let`.
    fn pattern(&mut self, p: &Pattern, t: &Ty, refutable: bool) -> EResult<String> {
        Ok(match &p.kind {
            PatKind::Wild => "_".into(),
            PatKind::Bind(b) if self.typed.unbound.contains(&b.id) => "_".into(),
            PatKind::Bind(b) => {
                let m = if self.is_mut(b.id) && self.repr(b.id) == Repr::Plain {
                    "mut "
                } else {
                    ""
                };
                format!("{m}{}", ident(&b.name))
            }
            PatKind::At(b, sub) => {
                let s = self.pattern(sub, t, refutable)?;
                format!("{} @ {s}", ident(&b.name))
            }
            PatKind::Lit(lit) => match &lit.kind {
                ExprKind::Int(n) => format!("{n}"),
                ExprKind::Bool(b) => b.to_string(),
                ExprKind::Str(s) => rust_str(s),
                ExprKind::Nil => "()".into(),
                _ => return Err(unsupported(p.span, "this literal pattern")),
            },
            PatKind::Range { lo, hi, inclusive } => {
                let bound = |e: &Option<Box<Expr>>| -> EResult<String> {
                    match e.as_deref().map(|e| &e.kind) {
                        None => Ok(String::new()),
                        Some(ExprKind::Int(n)) => Ok(n.to_string()),
                        Some(ExprKind::Str(s)) if s.chars().count() == 1 => Ok(format!("{s:?}")),
                        _ => Err(unsupported(p.span, "this range pattern")),
                    }
                };
                let (l, h) = (bound(lo)?, bound(hi)?);
                if matches!(t, Ty::Str) {
                    return Err(unsupported(p.span, "a range pattern on strings"));
                }
                format!("{l}{}{h}", if *inclusive { "..=" } else { ".." })
            }
            PatKind::Tuple(items) => {
                let tys = match t {
                    Ty::Tuple(ts) => ts.clone(),
                    _ => return Err(unsupported(p.span, "this tuple pattern")),
                };
                let parts: Vec<String> = items
                    .iter()
                    .zip(tys.iter())
                    .map(|(i, t)| self.pattern(i, t, refutable))
                    .collect::<EResult<_>>()?;
                format!(
                    "({}{})",
                    parts.join(", "),
                    if parts.len() == 1 { "," } else { "" }
                )
            }
            PatKind::Or(alts) => {
                let parts: Vec<String> = alts
                    .iter()
                    .map(|a| self.pattern(a, t, refutable))
                    .collect::<EResult<_>>()?;
                parts.join(" | ")
            }
            PatKind::Variant { path, args } => {
                self.variant_pattern(p, path, args.as_deref(), t, refutable)?
            }
            PatKind::Struct { path, fields, rest } => {
                // an object pattern `{ a, b }`: the struct (or object literal's struct) the
                // value is, by its type
                let (owner, owner_fields): (String, Vec<(Rc<str>, Ty)>) = match t {
                    Ty::Named(n) if path.is_empty() => (
                        n.to_string(),
                        self.typed
                            .structs
                            .get(n)
                            .map(|s| s.fields.clone())
                            .unwrap_or_default(),
                    ),
                    Ty::Record(r) if path.is_empty() => (
                        t.to_string(),
                        self.typed
                            .records
                            .get(*r as usize)
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    _ if path.is_empty() => {
                        return Err(unsupported(p.span, "an object pattern on this value"))
                    }
                    _ => (String::new(), Vec::new()),
                };
                let name: String = if path.is_empty() {
                    owner
                } else if path.len() == 1 {
                    path[0].to_string()
                } else {
                    format!(
                        "{}::{}",
                        self.self_name(&path[path.len() - 2]),
                        path[path.len() - 1]
                    )
                };
                let field_tys: Vec<(Rc<str>, Ty)> = if path.is_empty() {
                    owner_fields
                } else if path.len() == 1 {
                    self.typed
                        .structs
                        .get(&path[0])
                        .map(|s| s.fields.clone())
                        .unwrap_or_default()
                } else {
                    let en = self.self_name(&path[path.len() - 2]);
                    self.typed
                        .enums
                        .get(&*en)
                        .and_then(|e| {
                            e.variants
                                .iter()
                                .find(|(n, _, _)| *n == path[path.len() - 1])
                        })
                        .and_then(|(_, k, _)| match k {
                            VariantKind::Struct(fs) => Some(fs.clone()),
                            _ => None,
                        })
                        .unwrap_or_default()
                };
                let mut parts = Vec::new();
                for (f, fp) in fields {
                    let ft = field_tys
                        .iter()
                        .find(|(n, _)| n == f)
                        .map(|(_, t)| t.clone())
                        .unwrap_or(Ty::Unit);
                    let s = self.pattern(fp, &ft, refutable)?;
                    parts.push(format!("{}: {s}", ident(f)));
                }
                if *rest || fields.len() < field_tys.len() {
                    parts.push("..".into());
                }
                format!("{name} {{ {} }}", parts.join(", "))
            }
            PatKind::List {
                before,
                rest,
                after,
            } => {
                // a slice pattern: `match` matches `xs.as_slice()` (see `match_mode`)
                let Ty::Vec(elem) = t else {
                    return Err(unsupported(p.span, "a list pattern on this value"));
                };
                if !refutable {
                    return Err(unsupported(p.span, "a list pattern outside `match`"));
                }
                let mut parts = Vec::new();
                for x in before {
                    parts.push(self.pattern(x, elem, refutable)?);
                }
                match rest {
                    Some(Some(b)) => parts.push(format!("{} @ ..", ident(&b.name))),
                    Some(None) => parts.push("..".into()),
                    None => {}
                }
                for x in after {
                    parts.push(self.pattern(x, elem, refutable)?);
                }
                format!("[{}]", parts.join(", "))
            }
        })
    }

    fn self_name(&self, n: &Rc<str>) -> Rc<str> {
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
        refutable: bool,
    ) -> EResult<String> {
        let name = path.last().cloned().unwrap_or_else(|| "".into());
        let sub_tys: Vec<Ty> = match (&*name, t) {
            ("Some", Ty::Option(inner)) => vec![(**inner).clone()],
            ("Ok", Ty::Result(ok, _)) => vec![(**ok).clone()],
            ("Err", Ty::Result(_, err)) => vec![(**err).clone()],
            (_, Ty::Named(n)) => {
                if let Some(s) = self.typed.structs.get(n) {
                    s.fields.iter().map(|(_, t)| t.clone()).collect()
                } else if let Some(e) = self.typed.enums.get(n) {
                    match e.variants.iter().find(|(v, _, _)| *v == name) {
                        Some((_, VariantKind::Tuple(ts), _)) => ts.clone(),
                        _ => Vec::new(),
                    }
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        let head: String = match (&*name, t) {
            ("Some" | "None" | "Ok" | "Err", Ty::Option(_) | Ty::Result(..)) => name.to_string(),
            (_, Ty::Named(n)) if self.typed.structs.contains_key(n) => n.to_string(),
            (_, Ty::Named(n)) => format!("{n}::{name}"),
            _ => return Err(unsupported(p.span, "this variant pattern")),
        };
        match args {
            None => Ok(head),
            Some(args) => {
                let parts: Vec<String> = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| self.pattern(a, sub_tys.get(i).unwrap_or(&Ty::Unit), refutable))
                    .collect::<EResult<_>>()?;
                Ok(format!("{head}({})", parts.join(", ")))
            }
        }
    }

    // ---- expressions ---------------------------------------------------------------------

    /// An expression whose value is moved somewhere: places of non-`Copy` types are cloned.
    fn value(&mut self, e: &Expr) -> EResult<String> {
        let s = self.expr(e)?;
        if self.moved_tail == Some(e as *const Expr) {
            return Ok(s);
        }
        let place = match &e.kind {
            ExprKind::Var(v) => {
                !matches!(self.res.use_of(v), UseRes::Global(slot) if self.is_shared_global(v, slot))
            }
            ExprKind::Index(..) | ExprKind::TupleField(..) | ExprKind::Field { .. } => true,
            _ => false,
        };
        let shared_local = match &e.kind {
            ExprKind::Var(v) => self
                .local_binding(v)
                .is_some_and(|b| self.repr(b) == Repr::Shared),
            _ => false,
        };
        if place && !shared_local && !self.ty(e).is_copy() {
            Ok(format!("{}.clone()", paren(&s)))
        } else {
            Ok(s)
        }
    }

    fn is_shared_global(&self, v: &VarRef, slot: u32) -> bool {
        let slot = if slot == u32::MAX {
            self.globals.get(&v.name).unwrap_or(u32::MAX)
        } else {
            slot
        };
        self.typed.shared_globals.contains(&slot)
    }

    /// The binding a use refers to, if it is a local or a capture.
    fn local_binding(&self, v: &VarRef) -> Option<BindId> {
        match self.res.use_of(v) {
            UseRes::Local(b) => Some(self.res.canonical(b)),
            UseRes::Upval(i) => self.upval_binding(i),
            _ => None,
        }
    }

    /// The binding behind a capture of the closure being emitted.
    fn upval_binding(&self, idx: u16) -> Option<BindId> {
        // captures are named; the binding is found by name in the capture list
        let names = self.captures.last()?;
        let name = names.get(idx as usize)?;
        self.names
            .iter()
            .filter(|(_, n)| *n == name)
            .map(|(b, _)| self.res.canonical(*b))
            .find(|b| self.res.binding(*b).captured)
    }

    /// Reading any binding by name, a notebook global included.
    fn read_any_binding(&self, b: &Binding) -> String {
        let id = self.res.canonical(b.id);
        match self.res.binding(id).global {
            Some(slot) if self.typed.shared_globals.contains(&slot) => {
                format!("{}()", ident(&b.name))
            }
            Some(_) => ident(&b.name),
            None => self.read_binding(id, &b.name),
        }
    }

    /// Reading a binding by name (`x`, or `rt::get(&x)` for a shared one).
    fn read_binding(&self, b: BindId, name: &str) -> String {
        if self.repr(b) == Repr::Shared {
            // a function, so that no `Ref` outlives the block it ends
            format!("rt::get(&{})", ident(name))
        } else {
            ident(name)
        }
    }

    fn var(&mut self, v: &VarRef, e: &Expr) -> EResult<String> {
        Ok(match self.res.use_of(v) {
            UseRes::Local(b) => self.read_binding(self.res.canonical(b), &v.name),
            UseRes::Upval(i) => match self.upval_binding(i) {
                Some(b) => self.read_binding(b, &v.name),
                None => ident(&v.name),
            },
            UseRes::SelfFn => fn_name(&v.name),
            UseRes::Global(slot) => {
                let slot = if slot == u32::MAX {
                    self.globals.get(&v.name).unwrap_or(u32::MAX)
                } else {
                    slot
                };
                if self.typed.global_fns.contains(&slot) {
                    // a function used as a value
                    let t = self.ty(e);
                    return Ok(format!("(Rc::new({}) as {t})", fn_name(&v.name)));
                }
                if self.typed.shared_globals.contains(&slot) {
                    format!("{}()", ident(&v.name))
                } else if ruchy_runtime::builtins::is_float_constant(&v.name)
                    && !self.typed.globals.contains_key(&slot)
                {
                    format!("std::f64::consts::{}", v.name)
                } else if &*v.name == "None" && !self.typed.globals.contains_key(&slot) {
                    match self.ty(e) {
                        Ty::Option(t) => format!("None::<{t}>"),
                        _ => "None".into(),
                    }
                } else {
                    ident(&v.name)
                }
            }
        })
    }

    fn expr(&mut self, e: &Expr) -> EResult<String> {
        if !ruchy_syntax::stack::ok() {
            return Err(ruchy_syntax::stack::too_deep(e.span));
        }
        ruchy_runtime::budget::burn(1).map_err(|x| crate::over_time(x, e.span))?;
        Ok(match &e.kind {
            ExprKind::Int(n) => {
                if *n == i64::MIN {
                    "i64::MIN".into()
                } else if *n < 0 {
                    format!("({n}_i64)")
                } else {
                    format!("{n}_i64")
                }
            }
            ExprKind::Float(f) => float_lit(*f),
            ExprKind::Str(s) => format!("{}.to_string()", rust_str(s)),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Nil => "()".into(),
            ExprKind::Var(v) => self.var(v, e)?,
            ExprKind::Path(path) => self.path(path, e)?,
            ExprKind::FStr(parts) => self.fstring(parts, e.span)?,
            ExprKind::Unary(op, a) => {
                let x = self.expr(a)?;
                match op {
                    UnOp::Neg => format!("-{}", paren(&x)),
                    UnOp::Not | UnOp::BitNot => format!("!{}", paren(&x)),
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e)?,
            ExprKind::Logic(op, a, b) => match op {
                LogicOp::Coalesce => {
                    format!("{}.unwrap_or({})", paren(&self.value(a)?), self.value(b)?)
                }
                _ => {
                    let sym = if *op == LogicOp::And { "&&" } else { "||" };
                    format!("{} {sym} {}", paren(&self.expr(a)?), paren(&self.expr(b)?))
                }
            },
            ExprKind::Pipe(a, f) => {
                let x = self.value(a)?;
                let g = self.expr(f)?;
                format!("({g})({x})")
            }
            ExprKind::If { cond, then, else_ } => {
                if self.tail_kind(e) == Tail::Mixed {
                    return Err(unsupported(
                        e.span,
                        "an `if` that may give nil, or values of different types, as a value",
                    ));
                }
                let value = self.ty(e) != Ty::Unit;
                let c = self.expr(cond)?;
                let t = self.block_of(then, value)?;
                match else_ {
                    Some(els) => {
                        let e2 = match &els.kind {
                            ExprKind::If { .. } => self.expr(els)?,
                            _ => self.block_of(els, value)?,
                        };
                        format!("if {c} {t} else {e2}")
                    }
                    None => format!("if {c} {t}"),
                }
            }
            ExprKind::Ternary(c, a, b) => {
                let c = self.expr(c)?;
                let (x, y) = (self.value(a)?, self.value(b)?);
                format!("if {c} {{ {x} }} else {{ {y} }}")
            }
            ExprKind::Match { .. } => {
                if self.tail_kind(e) == Tail::Mixed {
                    return Err(unsupported(
                        e.span,
                        "a `match` whose arms give values of different types, as a value",
                    ));
                }
                self.match_expr(e, true)?
            }
            ExprKind::Block(_) => self.block_of(e, self.ty(e) != Ty::Unit)?,
            ExprKind::Assign { .. } => {
                let s = self.assign_expr(e)?;
                s
            }
            ExprKind::Call { callee, args } => self.call(callee, args, e)?,
            ExprKind::MethodCall {
                receiver,
                method,
                args,
                ..
            } => self.method(receiver, method, args, e)?,
            ExprKind::Field { object, field, .. } => {
                let o = self.expr(object)?;
                match self.ty(object) {
                    Ty::Map(_) => format!("{}[{}]", paren(&o), rust_str(field)),
                    _ => format!("{}.{}", paren(&o), ident(field)),
                }
            }
            ExprKind::TupleField(obj, n) => format!("{}.{n}", paren(&self.expr(obj)?)),
            ExprKind::Index(obj, idx) => self.index(obj, idx, e)?,
            ExprKind::Array(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<EResult<_>>()?;
                let elem = match self.ty(e) {
                    Ty::Vec(t) => Rc::unwrap_or_clone(t),
                    _ => Ty::Int,
                };
                if parts.is_empty() {
                    format!("Vec::<{elem}>::new()")
                } else {
                    format!("vec![{}]", parts.join(", "))
                }
            }
            ExprKind::ArrayRepeat(v, n) => {
                format!("vec![{}; {}]", self.value(v)?, count(&self.expr(n)?))
            }
            ExprKind::Tuple(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<EResult<_>>()?;
                format!(
                    "({}{})",
                    parts.join(", "),
                    if parts.len() == 1 { "," } else { "" }
                )
            }
            ExprKind::Object(entries) => match self.ty(e) {
                Ty::Record(r) => {
                    let mut parts = Vec::new();
                    for (k, v) in entries {
                        parts.push(format!("{}: {}", ident(k), self.value(v)?));
                    }
                    format!("Record{r} {{ {} }}", parts.join(", "))
                }
                t => {
                    if entries.is_empty() {
                        match t {
                            Ty::Map(v) => format!("BTreeMap::<String, {v}>::new()"),
                            t => format!("<{t}>::new()"),
                        }
                    } else {
                        let mut parts = Vec::new();
                        for (k, v) in entries {
                            parts.push(format!(
                                "({}.to_string(), {})",
                                rust_str(k),
                                self.value(v)?
                            ));
                        }
                        format!("BTreeMap::from([{}])", parts.join(", "))
                    }
                }
            },
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let (Some(lo), Some(hi)) = (start, end) else {
                    return Err(unsupported(e.span, "an open range"));
                };
                let (lo, hi) = (self.expr(lo)?, self.expr(hi)?);
                format!("({lo}{}{hi})", if *inclusive { "..=" } else { ".." })
            }
            ExprKind::Fn(def) => {
                if def.name.is_some() {
                    return Err(unsupported(e.span, "a named function inside an expression"));
                }
                self.closure(def)?
            }
            ExprKind::StructLit { name, fields, base } => {
                let name = match name.split_once("::") {
                    Some((en, vn)) => format!("{}::{vn}", self.self_name(&Rc::from(en))),
                    None => self.self_name(name).to_string(),
                };
                let mut parts = Vec::new();
                for (f, v) in fields {
                    parts.push(format!("{}: {}", ident(f), self.value(v)?));
                }
                if let Some(b) = base {
                    parts.push(format!("..{}", self.value(b)?));
                } else if let Some(def) = self.typed.structs.get(&*name).and_then(|i| i.def.clone())
                {
                    // the fields left out take their defaults (constants)
                    for ((f, _), d) in def.fields.iter().zip(&def.defaults) {
                        if let (Some(d), false) = (d, fields.iter().any(|(g, _)| g == f)) {
                            parts.push(format!("{}: {}", ident(f), self.value(d)?));
                        }
                    }
                }
                format!("{name} {{ {} }}", parts.join(", "))
            }
            ExprKind::Try(t) => self.try_expr(e, t)?,
            ExprKind::Question(v) => format!("{}?", paren(&self.value(v)?)),
            ExprKind::Cast(v, _) => {
                let x = self.value(v)?;
                let to = self.ty(e);
                format!("({} as {to})", paren(&x))
            }
            ExprKind::Comprehension(c) => {
                let it = match &c.iter.kind {
                    ExprKind::Range { .. } => self.expr(&c.iter)?,
                    _ => self.iter_of(&c.iter)?,
                };
                let t = self.typed.of(&c.iter);
                let elem = match t {
                    Ty::Vec(t) => Rc::unwrap_or_clone(t),
                    _ => Ty::Int,
                };
                let pat = self.pattern(&c.pat, &elem, false)?;
                let x = self.value(&c.expr)?;
                let push = match &c.cond {
                    Some(cond) => format!("if {} {{ out.push({x}); }}", self.expr(cond)?),
                    None => format!("out.push({x});"),
                };
                format!("{{\n    let mut out = Vec::new();\n    for {pat} in {it} {{\n        {push}\n    }}\n    out\n}}")
            }
            ExprKind::Let(l)
                if matches!(l.pat.kind, PatKind::Bind(_)) && l.else_block.is_none() =>
            {
                let s = self.stmt(e)?;
                let PatKind::Bind(b) = &l.pat.kind else {
                    return Err(unsupported(e.span, "this let"));
                };
                let v = self.read_any_binding(b);
                let v = if self.ty(e).is_copy() {
                    v
                } else {
                    format!("{v}.clone()")
                };
                format!("{{\n    {s}\n    {v}\n}}")
            }
            ExprKind::Loop { .. } if self.ty(e) != Ty::Unit => {
                self.stmt(e)?.trim_end_matches(';').to_string()
            }
            ExprKind::Let(_)
            | ExprKind::While { .. }
            | ExprKind::Loop { .. }
            | ExprKind::For(_)
            | ExprKind::Return(_)
            | ExprKind::Break { .. }
            | ExprKind::Continue { .. }
            | ExprKind::Throw(_) => {
                let s = self.stmt(e)?;
                format!("{{\n{}}}", {
                    let mut b = String::new();
                    indented(&mut b, &s);
                    b
                })
            }
            ExprKind::Struct(_) | ExprKind::Enum(_) | ExprKind::Impl(_) => "()".into(),
        })
    }

    fn path(&mut self, path: &[Name], e: &Expr) -> EResult<String> {
        if let Some(name) =
            crate::infer::std_constructor(path, &self.typed.structs, &self.typed.enums)
        {
            // a standard constructor as a value: a closure of its type
            let t = self.ty(e);
            let Ty::Fn(params, ret) = &t else {
                return Err(unsupported(e.span, "this path"));
            };
            let body = match name {
                "Vec::new" => format!("|| Vec::<{}>::new()", elem_of(ret)),
                "Vec::with_capacity" => format!(
                    "|n: i64| Vec::<{}>::with_capacity(n.max(0) as usize)",
                    elem_of(ret)
                ),
                "String::new" => "String::new".into(),
                _ => format!("|x: {}| x", params.first().cloned().unwrap_or(Ty::Unit)),
            };
            return Ok(format!("(Rc::new({body}) as {t})"));
        }
        let owner = self.self_name(&path[path.len() - 2]);
        let last = &path[path.len() - 1];
        match self.ty(e) {
            Ty::Fn(params, _) if self.typed.enums.contains_key(&owner) => {
                // a tuple variant's constructor used as a value
                let args: Vec<String> = (0..params.len()).map(|i| format!("a{i}")).collect();
                let ps: Vec<String> = params
                    .iter()
                    .zip(&args)
                    .map(|(t, a)| format!("{a}: {t}"))
                    .collect();
                let t = self.ty(e);
                Ok(format!(
                    "(Rc::new(|{}| {owner}::{last}({})) as {t})",
                    ps.join(", "),
                    args.join(", ")
                ))
            }
            Ty::Fn(..)
                if self
                    .typed
                    .methods
                    .contains_key(&(owner.clone(), last.clone())) =>
            {
                let t = self.ty(e);
                Ok(format!("(Rc::new({owner}::{}) as {t})", ident(last)))
            }
            // a unit variant (`Dir::E` is not Euler's number)
            _ if self.typed.enums.contains_key(&owner) => Ok(format!("{owner}::{}", ident(last))),
            _ => Ok(match (&*owner, &**last) {
                ("i32", "MAX") => "(i32::MAX as i64)".into(),
                ("i32", "MIN") => "(i32::MIN as i64)".into(),
                ("Int", c) => format!("i64::{c}"),
                ("Float" | "f32", c) => format!("f64::{c}"),
                (_, "PI") => "std::f64::consts::PI".into(),
                (_, "E") => "std::f64::consts::E".into(),
                (_, "TAU") => "std::f64::consts::TAU".into(),
                _ => format!("{owner}::{last}"),
            }),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, whole: &Expr) -> EResult<String> {
        let (ta, tb) = (self.ty(a), self.ty(b));
        // `p + (p = 7)`: Ruchy reads `p` before the assignment; Rust reads the place of a
        // primitive operand after evaluating the other one, so the left value is taken first
        let mut assigns = false;
        ruchy_syntax::ast::visit(b, &mut |x| {
            assigns |= matches!(x.kind, ExprKind::Assign { .. });
        });
        let reorder = assigns
            && !matches!(
                a.kind,
                ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Str(_)
            );
        if reorder && (ta == Ty::Str || tb == Ty::Str || matches!(ta, Ty::Vec(_))) {
            return Err(unsupported(
                b.span,
                "an assignment inside the right operand of an operator on strings or arrays",
            ));
        }
        self.binary_inner(op, a, b, whole, (ta, tb), reorder)
    }

    fn binary_inner(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        whole: &Expr,
        (ta, tb): (Ty, Ty),
        reorder: bool,
    ) -> EResult<String> {
        if op == BinOp::Add && (ta == Ty::Str || tb == Ty::Str) {
            return Ok(format!(
                "format!(\"{{}}{{}}\", {}, {})",
                self.plain(a)?,
                self.plain(b)?
            ));
        }
        if op == BinOp::Add && matches!(ta, Ty::Vec(_)) {
            return Ok(format!("[{}, {}].concat()", self.value(a)?, self.value(b)?));
        }
        if op == BinOp::Mul && ta == Ty::Str {
            return Ok(format!(
                "{}.repeat({})",
                paren(&self.expr(a)?),
                count(&self.expr(b)?)
            ));
        }
        let compare = matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        );
        let (mut x, y) = if compare {
            // a comparison borrows its operands; a string literal compares as `&str`
            let operand = |s: &mut Self, e: &Expr| -> EResult<String> {
                match &e.kind {
                    ExprKind::Str(t) if matches!(op, BinOp::Eq | BinOp::Ne) => Ok(rust_str(t)),
                    _ => s.expr(e).map(|x| paren(&x)),
                }
            };
            let x = operand(self, a)?;
            let y = operand(self, b)?;
            // `&str == &str` and `String == &str` both work; `"a" == s` needs `s` as `&str`
            if x.starts_with('"') && !y.starts_with('"') {
                (x, format!("{y}.as_str()"))
            } else {
                (x, y)
            }
        } else {
            (paren(&self.value(a)?), paren(&self.value(b)?))
        };
        // the left value, taken before the right operand runs (see `binary`)
        let before = if reorder {
            let clone = if ta.is_copy() { "" } else { ".clone()" };
            let b = format!("let lhs = {x}{clone};");
            x = "lhs".into();
            b
        } else {
            String::new()
        };
        let r = self.arith(op, whole, (x, y), (&ta, &tb))?;
        Ok(if reorder {
            format!("{{ {before} {r} }}")
        } else {
            r
        })
    }

    /// `x op y` for operands already written (numbers, or a comparison's operands).
    fn arith(
        &mut self,
        op: BinOp,
        whole: &Expr,
        (mut x, mut y): (String, String),
        (ta, tb): (&Ty, &Ty),
    ) -> EResult<String> {
        let (ta, tb) = (ta.clone(), tb.clone());
        if ta == Ty::Int && tb == Ty::Float {
            x = format!("({x} as f64)");
        }
        if ta == Ty::Float && tb == Ty::Int {
            y = format!("({y} as f64)");
        }
        if matches!(op, BinOp::Shl | BinOp::Shr) && ta == Ty::Int {
            // checked as in the interpreter: a shift that loses bits is an overflow
            let f = if op == BinOp::Shl { "shl" } else { "shr" };
            return Ok(format!("rt::{f}({x}, {y})"));
        }
        if op == BinOp::Rem && (ta == Ty::Float || tb == Ty::Float) {
            // float `%` by zero is an error, as in the interpreter (not NaN)
            return Ok(format!("rt::frem({x}, {y})"));
        }
        if op == BinOp::Pow {
            return Ok(if self.ty(whole) == Ty::Float {
                format!("{x}.powf({y})")
            } else {
                format!("rt::pow({x}, {y})")
            });
        }
        // a literal next to a typed operand needs no suffix: `n * 2`
        let (x, y) = match (unsuffixed(&x) != x, unsuffixed(&y) != y) {
            (true, false) => (unsuffixed(&x).to_string(), y),
            (false, true) => {
                let y = unsuffixed(&y).to_string();
                (x, y)
            }
            _ => (x, y),
        };
        Ok(format!("{x} {} {y}", op.symbol()))
    }

    /// The message of `expect(message)` as a `String` (the message may be any value).
    fn message(&mut self, e: &Expr) -> EResult<String> {
        let text = self.plain(e)?;
        Ok(if self.ty(e) == Ty::Str {
            text
        } else {
            format!("{}.to_string()", paren(&text))
        })
    }

    /// What `println` prints for `e` (strings as they are).
    fn plain(&mut self, e: &Expr) -> EResult<String> {
        let t = self.ty(e);
        let v = self.expr(e)?;
        Ok(match t {
            Ty::Int | Ty::Bool => v,
            Ty::Str => v,
            _ => format!("{}.plain()", paren(&v)),
        })
    }

    fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr) -> EResult<String> {
        let s = self.assign_expr_parts(target, op, value)?;
        Ok(if s.starts_with('{') {
            s
        } else {
            format!("{s};")
        })
    }

    fn assign_expr(&mut self, e: &Expr) -> EResult<String> {
        let ExprKind::Assign { target, op, value } = &e.kind else {
            return Err(unsupported(e.span, "this assignment"));
        };
        let s = self.assign_expr_parts(target, *op, value)?;
        let v = self.value(target)?;
        Ok(format!("{{\n    {s};\n    {v}\n}}"))
    }

    fn assign_expr_parts(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
    ) -> EResult<String> {
        let tt = self.ty(target);
        // a notebook global that functions read
        if let ExprKind::Var(v) = &target.kind {
            if let UseRes::Global(slot) = self.res.use_of(v) {
                if self.is_shared_global(v, slot) {
                    let cell = global_cell(&v.name);
                    let x = self.value(value)?;
                    let new = match op {
                        None => x,
                        Some(op) => self.combine(
                            op,
                            &format!("{}()", ident(&v.name)),
                            &x,
                            &tt,
                            &self.ty(value),
                        ),
                    };
                    return Ok(format!("{cell}.set(Some({new}))"));
                }
            }
        }
        let mut prelude = Vec::new();
        let outer = self.global_root.take();
        let place = self.place_with(target, &mut prelude);
        let root = std::mem::replace(&mut self.global_root, outer);
        let mut place = place?;
        if self.mut_self && place == "self" {
            // `self = v` in an `&mut self` method replaces the value behind the reference
            place = "*self".into();
        }
        if let Some(root) = root {
            let pure = self.place_reads_no_global(target) && self.reads_no_global(value);
            let inner = self.assign_to_place(place, prelude, op, value, tt)?;
            return Ok(on_global(&root, &inner, pure));
        }
        self.assign_to_place(place, prelude, op, value, tt)
    }

    /// `place = value` (or `place op= value`), after the `let`s in `prelude`.
    fn assign_to_place(
        &mut self,
        place: String,
        prelude: Vec<String>,
        op: Option<BinOp>,
        value: &Expr,
        tt: Ty,
    ) -> EResult<String> {
        let x = self.value(value)?;
        let stmt = match op {
            None => format!("{place} = {x}"),
            Some(BinOp::Add) if tt == Ty::Str => {
                let p = self.plain(value)?;
                format!("{place} = format!(\"{{}}{{}}\", {place}, {p})")
            }
            Some(op) => {
                let x = if tt == Ty::Float && self.ty(value) == Ty::Int {
                    format!("({x} as f64)")
                } else {
                    x
                };
                match op {
                    BinOp::Pow if tt == Ty::Float => format!("{place} = {place}.powf({x})"),
                    BinOp::Pow => format!("{place} = rt::pow({place}, {x})"),
                    _ => format!("{place} {}= {x}", op.symbol()),
                }
            }
        };
        if prelude.is_empty() {
            return Ok(stmt);
        }
        // indices are computed before the element is borrowed for writing
        let mut out = String::from("{\n");
        for p in prelude {
            let _ = writeln!(out, "    {p}");
        }
        let _ = write!(out, "    {stmt};\n}}");
        Ok(out)
    }

    fn combine(&self, op: BinOp, cur: &str, x: &str, tt: &Ty, tv: &Ty) -> String {
        match op {
            BinOp::Add if *tt == Ty::Str => format!("format!(\"{{}}{{}}\", {cur}, {x}.plain())"),
            BinOp::Pow if *tt == Ty::Float => {
                let x = if *tv == Ty::Int {
                    format!("({x} as f64)")
                } else {
                    x.to_string()
                };
                format!("{cur}.powf({x})")
            }
            BinOp::Pow => format!("rt::pow({cur}, {x})"),
            _ => {
                let x = if *tt == Ty::Float && *tv == Ty::Int {
                    format!("({x} as f64)")
                } else {
                    x.to_string()
                };
                format!("{cur} {} {x}", op.symbol())
            }
        }
    }

    /// An assignable place as Rust (`x`, `x.f`, `x[i]`, `*x.borrow_mut()`).
    fn place(&mut self, e: &Expr) -> EResult<String> {
        let mut prelude = Vec::new();
        let p = self.place_with(e, &mut prelude)?;
        if prelude.is_empty() {
            Ok(p)
        } else {
            Err(unsupported(
                e.span,
                "calling a method on an element found by a computed index",
            ))
        }
    }

    /// As [`Self::place`], with `let` statements for the indices collected in `prelude`.
    fn place_with(&mut self, e: &Expr, prelude: &mut Vec<String>) -> EResult<String> {
        Ok(match &e.kind {
            ExprKind::Var(v) => match (self.local_binding(v), self.res.use_of(v)) {
                (Some(b), _) if self.repr(b) == Repr::Shared => {
                    format!("*{}.borrow_mut()", ident(&v.name))
                }
                (None, UseRes::Global(slot)) if self.is_shared_global(v, slot) => {
                    self.global_root = Some(v.name.clone());
                    global_local(&v.name)
                }
                _ => ident(&v.name),
            },
            ExprKind::Field { object, field, .. } => {
                let o = self.place_with(object, prelude)?;
                let o = if o.starts_with('*') {
                    format!("({o})")
                } else {
                    o
                };
                match self.ty(object) {
                    Ty::Map(_) => {
                        format!("*{o}.entry({}.to_string()).or_default()", rust_str(field))
                    }
                    _ => format!("{o}.{}", ident(field)),
                }
            }
            ExprKind::TupleField(obj, n) => {
                let o = self.place_with(obj, prelude)?;
                let o = if o.starts_with('*') {
                    format!("({o})")
                } else {
                    o
                };
                format!("{o}.{n}")
            }
            ExprKind::Index(obj, idx) => {
                let o = self.place_with(obj, prelude)?;
                let o = if o.starts_with('*') {
                    format!("({o})")
                } else {
                    o
                };
                match self.ty(obj) {
                    Ty::Map(_) => format!("*{o}.entry({}).or_default()", self.value(idx)?),
                    Ty::Dict(_, v) if has_default(&v) => {
                        format!("*{o}.entry({}).or_default()", self.value(idx)?)
                    }
                    Ty::Deque(_) => format!("{o}[({}) as usize]", self.expr(idx)?),
                    Ty::Vec(_) => {
                        let i = self.expr(idx)?;
                        let k = format!("i{}", prelude.len());
                        prelude.push(format!("let {k} = rt::index({i}, {o}.len());"));
                        format!("{o}[{k}]")
                    }
                    _ => return Err(unsupported(e.span, "assigning into this value")),
                }
            }
            _ => return Err(unsupported(e.span, "assigning to this")),
        })
    }

    fn index(&mut self, obj: &Expr, idx: &Expr, e: &Expr) -> EResult<String> {
        let o = self.expr(obj)?;
        let range = match &idx.kind {
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let lo = match start {
                    Some(x) => self.expr(x)?,
                    None => String::new(),
                };
                let hi = match end {
                    Some(x) => self.expr(x)?,
                    None => String::new(),
                };
                Some(format!("{lo}{}{hi}", if *inclusive { "..=" } else { ".." }))
            }
            _ if matches!(self.ty(idx), Ty::Range | Ty::RangeInclusive) => {
                Some(format!("{}.clone()", paren(&self.expr(idx)?)))
            }
            _ => None,
        };
        if let Some(r) = range {
            return match self.ty(obj) {
                Ty::Str => Ok(format!("rt::substring(&{}, {r})", paren(&o))),
                Ty::Vec(_) => Ok(format!("rt::slice(&{}, {r})", paren(&o))),
                _ => Err(unsupported(e.span, "this slice")),
            };
        }
        Ok(match (self.ty(obj), &idx.kind) {
            (Ty::Str, _) => format!("rt::char_at(&{}, {})", paren(&o), self.expr(idx)?),
            (Ty::Map(_), _) => format!(
                "{}[{}.as_str()].clone()",
                paren(&o),
                paren(&self.expr(idx)?)
            ),
            (Ty::Dict(..), _) => format!("{}[&{}].clone()", paren(&o), paren(&self.value(idx)?)),
            (Ty::Deque(_), _) => format!("{}[({}) as usize].clone()", paren(&o), self.expr(idx)?),
            (Ty::Record(_), ExprKind::Str(k)) => format!("{}.{}", paren(&o), ident(k)),
            (Ty::Tuple(_), ExprKind::Int(n)) => format!("{}.{n}", paren(&o)),
            (Ty::Vec(_), ExprKind::Int(n)) if *n >= 0 => format!("{}[{n}]", paren(&o)),
            (Ty::Vec(_), _) => format!(
                "{}[rt::index({}, {}.len())]",
                paren(&o),
                self.expr(idx)?,
                paren(&o)
            ),
            _ => return Err(unsupported(e.span, "this index")),
        })
    }

    // ---- calls ---------------------------------------------------------------------------

    fn call(&mut self, callee: &Expr, args: &[Expr], e: &Expr) -> EResult<String> {
        let as_stmt = self.stmt_call.take() == Some(e as *const Expr);
        if let ExprKind::Var(v) = &callee.kind {
            if let UseRes::Global(slot) = self.res.use_of(v) {
                let slot = if slot == u32::MAX {
                    self.globals.get(&v.name).unwrap_or(u32::MAX)
                } else {
                    slot
                };
                if !as_stmt && self.lossy_fns.contains(&slot) {
                    // typed `()`, its body may still end in a value: what it gives cannot be
                    // written (the Rust would print nil)
                    return Err(unsupported(
                        e.span,
                        &format!(
                            "the value of `{}`, whose body ends in values of different types or sometimes in none",
                            v.name
                        ),
                    ));
                }
                if !self.typed.globals.contains_key(&slot) {
                    if self.typed.structs.contains_key(&v.name) {
                        let parts: Vec<String> =
                            args.iter().map(|a| self.value(a)).collect::<EResult<_>>()?;
                        return Ok(format!("{}({})", v.name, parts.join(", ")));
                    }
                    return self.builtin(&v.name, args, e);
                }
                if self.typed.global_fns.contains(&slot) {
                    // the parameters are typed: literals need no suffix
                    let parts: Vec<String> = args
                        .iter()
                        .map(|a| self.value(a).map(|v| unsuffixed(&v).to_string()))
                        .collect::<EResult<_>>()?;
                    return Ok(format!("{}({})", fn_name(&v.name), parts.join(", ")));
                }
            }
            if let UseRes::SelfFn = self.res.use_of(v) {
                let parts: Vec<String> =
                    args.iter().map(|a| self.value(a)).collect::<EResult<_>>()?;
                return Ok(format!("{}({})", fn_name(&v.name), parts.join(", ")));
            }
        }
        if let ExprKind::Path(path) = &callee.kind {
            if let Some(name) =
                crate::infer::std_constructor(path, &self.typed.structs, &self.typed.enums)
            {
                return self.builtin(name, args, e);
            }
        }
        let f = self.expr(callee)?;
        let parts: Vec<String> = args.iter().map(|a| self.value(a)).collect::<EResult<_>>()?;
        let f = match &callee.kind {
            ExprKind::Path(path)
                if self.typed.methods.contains_key(&(
                    self.self_name(&path[path.len() - 2]),
                    path[path.len() - 1].clone(),
                )) =>
            {
                format!(
                    "{}::{}",
                    self.self_name(&path[path.len() - 2]),
                    ident(&path[path.len() - 1])
                )
            }
            ExprKind::Path(path) => {
                format!(
                    "{}::{}",
                    self.self_name(&path[path.len() - 2]),
                    path[path.len() - 1]
                )
            }
            _ => paren(&f),
        };
        Ok(format!("{f}({})", parts.join(", ")))
    }

    /// `HashMap::new()`, `HashSet::from(xs)`, `VecDeque::with_capacity(n)`: both maps are an
    /// `rt::Map` (a `BTreeMap`), both sets a `BTreeSet`, walked in key order as the
    /// interpreter walks them.
    fn collection_ctor(&mut self, name: &str, args: &[Expr], e: &Expr) -> EResult<String> {
        let t = self.ty(e);
        if let Ty::Dict(k, _) | Ty::Set(k) = &t {
            if !orderable(k) {
                return Err(unsupported(
                    e.span,
                    &format!(
                        "a map or set whose keys are {} (Rust orders integers, strings, booleans and tuples or arrays of those)",
                        crate::types::describe(k)
                    ),
                ));
            }
        }
        let made = match name.rsplit("::").next() {
            Some("from") => {
                let items = self.value(&args[0])?;
                format!("{}.into_iter().collect::<{t}>()", paren(&items))
            }
            // (a capacity is a hint)
            _ => format!("{t}::new()").replacen('<', "::<", 1),
        };
        Ok(made)
    }

    fn builtin(&mut self, name: &str, args: &[Expr], e: &Expr) -> EResult<String> {
        if let (Some(method), Some((receiver, rest))) =
            (crate::infer::method_alias(name), args.split_first())
        {
            // D10: `sort(xs)` is `xs.sort()` on a copy of `xs`
            return self.method_on(receiver, &Name::from(method), rest, e, true);
        }
        let v = |s: &mut Self, i: usize| s.value(&args[i]);
        Ok(match name {
            "println" | "print" => {
                let mac = if name == "println" {
                    "println!"
                } else {
                    "print!"
                };
                let (fmt, vals) = self.print_args(args)?;
                if vals.is_empty() {
                    format!("{mac}(\"{fmt}\")")
                } else {
                    format!("{mac}(\"{fmt}\", {})", vals.join(", "))
                }
            }
            "format" => {
                let Some(Expr {
                    kind: ExprKind::Str(t),
                    span,
                }) = args.first()
                else {
                    return Err(unsupported(e.span, "`format` without a literal template"));
                };
                let (fmt, vals) = self.template(t, &args[1..], *span)?;
                if vals.is_empty() {
                    format!("format!(\"{fmt}\")")
                } else {
                    format!("format!(\"{fmt}\", {})", vals.join(", "))
                }
            }
            "Some" | "Ok" | "Err" => {
                let turbofish = match self.ty(e) {
                    Ty::Option(t) => format!("::<{t}>"),
                    Ty::Result(t, err) => format!("::<{t}, {err}>"),
                    _ => String::new(),
                };
                format!("{name}{turbofish}({})", v(self, 0)?)
            }
            "len" => match self.ty(&args[0]) {
                Ty::Str => format!("rt::len(&{})", paren(&self.expr(&args[0])?)),
                Ty::Tuple(items) => match args[0].kind {
                    ExprKind::Var(_) | ExprKind::Tuple(_) => format!("{}_i64", items.len()),
                    _ => format!(
                        "{{\n    let _ = {};\n    {}_i64\n}}",
                        self.expr(&args[0])?,
                        items.len()
                    ),
                },
                _ => format!("({}.len() as i64)", paren(&self.expr(&args[0])?)),
            },
            "str" | "to_string" => {
                let p = self.plain(&args[0])?;
                match self.ty(&args[0]) {
                    Ty::Str => p,
                    Ty::Int | Ty::Bool => format!("{}.to_string()", paren(&p)),
                    _ => p,
                }
            }
            "typeof" | "type_of" => {
                let t = self.ty(&args[0]);
                if matches!(t, Ty::Dict(..) | Ty::Set(_)) {
                    // (a HashMap and a BTreeMap are one Rust type here)
                    return Err(unsupported(
                        args[0].span,
                        "`typeof` of a map or set (HashMap or BTreeMap is not known statically)",
                    ));
                }
                format!("{}.to_string()", rust_str(type_name(&t, self.typed)))
            }
            "int" => {
                let x = self.value(&args[0])?;
                match self.ty(&args[0]) {
                    Ty::Int => x,
                    Ty::Float => format!("({} as i64)", paren(&x)),
                    Ty::Bool => format!("({} as i64)", paren(&x)),
                    _ => format!("{}.trim().parse::<i64>().expect(\"an integer\")", paren(&x)),
                }
            }
            "float" => {
                let x = self.value(&args[0])?;
                match self.ty(&args[0]) {
                    Ty::Float => x,
                    Ty::Int => format!("({} as f64)", paren(&x)),
                    Ty::Bool => format!("({} as i64 as f64)", paren(&x)),
                    _ => format!("{}.trim().parse::<f64>().expect(\"a float\")", paren(&x)),
                }
            }
            "abs" if self.ty(&args[0]) == Ty::Int => format!(
                "{}.checked_abs().expect(\"Integer overflow in abs\")",
                paren(&v(self, 0)?)
            ),
            "abs" => format!("{}.abs()", paren(&v(self, 0)?)),
            "sqrt" | "sin" | "cos" | "tan" | "exp" | "log10" | "log" => {
                let x = v(self, 0)?;
                let x = if self.ty(&args[0]) == Ty::Int {
                    format!("({x} as f64)")
                } else {
                    paren(&x)
                };
                let m = if name == "log" { "ln" } else { name };
                format!("{x}.{m}()")
            }
            "random" => "rt::random()".to_string(),
            "floor" | "ceil" | "round" => {
                let x = v(self, 0)?;
                if self.ty(&args[0]) == Ty::Int {
                    x
                } else {
                    format!("({}.{name}() as i64)", paren(&x))
                }
            }
            "min" | "max" => {
                let (a, b) = (v(self, 0)?, v(self, 1)?);
                match self.ty(e) {
                    // the interpreter gives back the int or the float itself
                    Ty::Float if self.ty(&args[0]) != self.ty(&args[1]) => {
                        return Err(unsupported(
                            e.span,
                            &format!("`{name}` of an int and a float"),
                        ))
                    }
                    // NaN is an error, as in the interpreter (`f64::max` would skip it)
                    Ty::Float => format!("rt::f{name}({a}, {b})"),
                    _ => format!("{}.{name}({b})", paren(&a)),
                }
            }
            "pow" => {
                let (a, b) = (v(self, 0)?, v(self, 1)?);
                if self.ty(e) == Ty::Float {
                    let a = if self.ty(&args[0]) == Ty::Int {
                        format!("({a} as f64)")
                    } else {
                        paren(&a)
                    };
                    let b = if self.ty(&args[1]) == Ty::Int {
                        format!("({b} as f64)")
                    } else {
                        b
                    };
                    format!("{a}.powf({b})")
                } else {
                    format!("rt::pow({a}, {b})")
                }
            }
            "String::new" => "String::new()".into(),
            "Vec::new" | "Vec::with_capacity" => {
                let elem = match self.ty(e) {
                    Ty::Vec(t) => Rc::unwrap_or_clone(t),
                    _ => Ty::Int,
                };
                match args.first() {
                    // the capacity is a hint; a negative one is none
                    Some(_) => format!(
                        "Vec::<{elem}>::with_capacity(({}).max(0) as usize)",
                        v(self, 0)?
                    ),
                    None => format!("Vec::<{elem}>::new()"),
                }
            }
            "String::from" => format!("String::from({})", v(self, 0)?),
            "Box::new" => v(self, 0)?,
            _ if ruchy_runtime::collection::Kind::named(name.split("::").next().unwrap_or(""))
                .is_some() =>
            {
                self.collection_ctor(name, args, e)?
            }
            "range" => {
                if args.len() == 1 {
                    format!("(0..{}).collect::<Vec<i64>>()", v(self, 0)?)
                } else {
                    format!("({}..{}).collect::<Vec<i64>>()", v(self, 0)?, v(self, 1)?)
                }
            }
            "assert" => {
                let c = self.expr(&args[0])?;
                match args.get(1) {
                    Some(m) => format!(
                        "assert!({c}, \"Assertion failed: {{}}\", {})",
                        self.plain(m)?
                    ),
                    None => format!("assert!({c}, \"Assertion failed\")"),
                }
            }
            "assert_eq" => {
                // the interpreter's message: `Assertion failed: expected A, got B[: message]`
                let (a, b) = (v(self, 0)?, v(self, 1)?);
                let msg = match args.get(2) {
                    Some(m) => format!("format!(\": {{}}\", {})", self.plain(m)?),
                    None => "String::new()".into(),
                };
                format!(
                    "{{\n    let (left, right) = ({a}, {b});\n    if left != right {{\n        panic!(\"Assertion failed: expected {{}}, got {{}}{{}}\", left.show(), right.show(), {msg});\n    }}\n}}"
                )
            }
            "bool" => {
                let x = self.expr(&args[0])?;
                match self.ty(&args[0]) {
                    Ty::Bool => x,
                    Ty::Int => format!("({} != 0)", paren(&x)),
                    Ty::Float => format!("({} != 0.0)", paren(&x)),
                    Ty::Unit => format!("{{\n    {x};\n    false\n}}"),
                    _ => format!("!{}.is_empty()", paren(&x)),
                }
            }
            "is_nil" => {
                let x = self.expr(&args[0])?;
                let nil = self.ty(&args[0]) == Ty::Unit;
                if matches!(
                    args[0].kind,
                    ExprKind::Nil | ExprKind::Var(_) | ExprKind::Int(_) | ExprKind::Str(_)
                ) {
                    nil.to_string()
                } else {
                    format!("{{\n    {x};\n    {nil}\n}}")
                }
            }
            "dbg" => format!("rt::dbg({})", v(self, 0)?),
            "panic" => match args.first() {
                // `panic!("bad {}", x)`: a template and its arguments, as `format`
                Some(Expr {
                    kind: ExprKind::Str(t),
                    span,
                }) if args.len() > 1 => {
                    let (fmt, vals) = self.template(t, &args[1..], *span)?;
                    format!("panic!(\"panic: {fmt}\", {})", vals.join(", "))
                }
                Some(m) => format!("panic!(\"panic: {{}}\", {})", self.plain(m)?),
                None => "panic!(\"panic: explicit panic\")".into(),
            },
            "sum" => format!(
                "{}.iter().sum::<{}>()",
                paren(&self.expr(&args[0])?),
                self.ty(e)
            ),
            "product" => format!(
                "{}.iter().product::<{}>()",
                paren(&self.expr(&args[0])?),
                self.ty(e)
            ),
            _ => {
                return Err(unsupported(
                    e.span,
                    &format!("the built-in function `{name}`"),
                ))
            }
        })
    }

    /// A closure value: `Rc<dyn Fn>` capturing copies (or the shared cells) of what it uses.
    fn closure(&mut self, def: &FnDef) -> EResult<String> {
        let Some(t) = self.typed.fns.get(&def.id).cloned() else {
            return Err(unsupported(def.span, "this closure"));
        };
        let Ty::Fn(params, ret) = t.clone() else {
            return Err(unsupported(def.span, "this closure"));
        };
        if *ret == Ty::Unit && !matches!(self.tail_kind(&def.body), Tail::Nil | Tail::Never) {
            // typed `()` while its body may end in a value: a call would give nil in Rust
            return Err(unsupported(
                def.span,
                "a closure whose body ends in values of different types or sometimes in none",
            ));
        }
        let caps = self.capture_names(def);
        let mut clones = String::new();
        for c in &caps {
            let _ = writeln!(clones, "let {0} = {0}.clone();", ident(c));
        }
        let mut ps = Vec::new();
        for (p, pt) in def.params.iter().zip(params.iter()) {
            let pat = self.pattern(&p.pat, pt, false)?;
            ps.push(format!("{pat}: {pt}"));
        }
        self.captures.push(caps);
        let body = self.fn_body(def);
        self.captures.pop();
        let body = body?;
        let ret_s = if *ret == Ty::Unit {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        let lambda = format!("Rc::new(move |{}|{ret_s} {body}) as {t}", ps.join(", "));
        if clones.is_empty() {
            Ok(format!("({lambda})"))
        } else {
            let mut out = String::from("{\n");
            indented(&mut out, &clones);
            indented(&mut out, &lambda);
            out.push('}');
            Ok(out)
        }
    }

    fn capture_names(&self, def: &FnDef) -> Vec<Name> {
        let Some(info) = self.res.fns.get(def.id as usize) else {
            return Vec::new();
        };
        info.captures
            .iter()
            .map(|c| match c {
                CaptureSrc::Local(b) => self.names.get(b).cloned().unwrap_or_else(|| "_".into()),
                CaptureSrc::Upval(i) => self
                    .captures
                    .last()
                    .and_then(|cs| cs.get(*i as usize))
                    .cloned()
                    .unwrap_or_else(|| "_".into()),
            })
            .collect()
    }

    /// A function argument of a method (`map(f)`): a lambda inline, else the function value.
    fn callback(&mut self, f: &Expr, _arity: usize) -> EResult<String> {
        self.expr(f)
    }

    /// Code that calls the function value `f` from inside a Rust closure that `make` writes
    /// (given how to name `f`): a plain name is used as it is; anything else is evaluated once,
    /// before, into `f`, so that no name of the closure `make` writes shadows one it uses.
    fn with_callback(&mut self, f: &Expr, make: impl Fn(&str) -> String) -> EResult<String> {
        let cb = self.callback(f, 1)?;
        let plain = !cb.is_empty() && cb.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain && !matches!(cb.as_str(), "x" | "acc" | "i" | "item") {
            return Ok(make(&cb));
        }
        Ok(format!(
            "{{\n    let f = {cb};\n{}}}",
            indent_text(&make("f"))
        ))
    }

    fn method(&mut self, receiver: &Expr, name: &Name, args: &[Expr], e: &Expr) -> EResult<String> {
        self.method_on(receiver, name, args, e, false)
    }

    /// A method call; `copy`: a method that changes its receiver changes a copy (as the free
    /// function of the same name does).
    fn method_on(
        &mut self,
        receiver: &Expr,
        name: &Name,
        args: &[Expr],
        e: &Expr,
        copy: bool,
    ) -> EResult<String> {
        let place = matches!(
            receiver.kind,
            ExprKind::Var(_)
                | ExprKind::Field { .. }
                | ExprKind::Index(..)
                | ExprKind::TupleField(..)
        );
        if ruchy_runtime::methods::mutates(name)
            && (copy || !place)
            && !matches!(self.ty(receiver), Ty::Named(_))
        {
            // a method that changes a temporary (`[3, 1, 2].sort()`): on a copy in a local
            let v = self.value(receiver)?;
            self.temp_receiver = true;
            let inner = self.method_inner(receiver, name, args, e);
            self.temp_receiver = false;
            return Ok(format!(
                "{{\n    let mut tmp = {v};\n{}}}",
                indent_text(&inner?)
            ));
        }
        let outer = self.global_root.take();
        let call = self.method_inner(receiver, name, args, e);
        let root = std::mem::replace(&mut self.global_root, outer);
        let call = call?;
        Ok(match root {
            Some(root) => {
                let pure = self.place_reads_no_global(receiver)
                    && args.iter().all(|a| self.reads_no_global(a));
                on_global(&root, &call, pure)
            }
            None => call,
        })
    }

    /// Whether evaluating `e` cannot read a notebook global (literals, locals, arithmetic).
    fn reads_no_global(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => true,
            ExprKind::Var(v) => self.local_binding(v).is_some(),
            ExprKind::Unary(_, x) => self.reads_no_global(x),
            ExprKind::Binary(_, a, b) => self.reads_no_global(a) && self.reads_no_global(b),
            _ => false,
        }
    }

    /// Whether the indices of a place (`a[i][j].f`) cannot read a notebook global.
    fn place_reads_no_global(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Var(_) => true,
            ExprKind::Field { object, .. } => self.place_reads_no_global(object),
            ExprKind::TupleField(obj, _) => self.place_reads_no_global(obj),
            ExprKind::Index(obj, idx) => {
                self.place_reads_no_global(obj) && self.reads_no_global(idx)
            }
            _ => false,
        }
    }

    fn method_inner(
        &mut self,
        receiver: &Expr,
        name: &Name,
        args: &[Expr],
        e: &Expr,
    ) -> EResult<String> {
        let rt = self.ty(receiver);
        // user methods
        if let Ty::Named(n) = &rt {
            if let Some(m) = self.typed.methods.get(&(n.clone(), name.clone())).cloned() {
                let parts: Vec<String> =
                    args.iter().map(|a| self.value(a)).collect::<EResult<_>>()?;
                let by_value = self.by_value_self.contains(&(n.clone(), name.clone()));
                let recv = match m.self_kind {
                    SelfKind::Mut => self.place(receiver)?,
                    // a method that changes its own copy of `self` takes it by value
                    _ if by_value => format!("{}.clone()", paren(&self.expr(receiver)?)),
                    _ => self.expr(receiver)?,
                };
                let recv = if recv.starts_with('*') {
                    format!("({recv})")
                } else {
                    paren(&recv)
                };
                return Ok(format!("{recv}.{}({})", ident(name), parts.join(", ")));
            }
        }
        let v = |s: &mut Self, i: usize| s.value(&args[i]);
        // built-in methods by id (a name and its aliases are one method); the Rust method of
        // the same name is written with the canonical name
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        let cname = if id == M::Unknown { &**name } else { id.name() };
        let r = if self.temp_receiver {
            "tmp".to_string()
        } else if ruchy_runtime::methods::mutates(name) {
            let p = self.place(receiver)?;
            if p.starts_with('*') {
                format!("({p})")
            } else {
                p
            }
        } else {
            // (`paren` spells out a float literal's type: `3.7_f64.floor()`)
            paren(&self.expr(receiver)?)
        };
        let et = self.ty(e);
        Ok(match &rt {
            Ty::Str => match id {
                M::Len | M::Count => format!("rt::len(&{r})"),
                M::IsEmpty => format!("{r}.is_empty()"),
                M::ToUppercase => format!("{r}.to_uppercase()"),
                M::ToLowercase => format!("{r}.to_lowercase()"),
                M::Trim | M::TrimStart | M::TrimEnd => format!("{r}.{cname}().to_string()"),
                M::ToString | M::Clone => format!("{r}.clone()"),
                M::Reverse | M::Reversed => format!("{r}.chars().rev().collect::<String>()"),
                M::Capitalize => format!("{{ let text = &{r}; let mut c = text.chars(); match c.next() {{ Some(f) => f.to_uppercase().collect::<String>() + c.as_str(), None => String::new() }} }}"),
                M::Contains | M::StartsWith | M::EndsWith => format!("{r}.{cname}({}.as_str())", paren(&v(self, 0)?)),
                M::Replace => format!("{r}.replace({}.as_str(), {}.as_str())", paren(&v(self, 0)?), paren(&v(self, 1)?)),
                M::ReplaceFirst => format!("{r}.replacen({}.as_str(), {}.as_str(), 1)", paren(&v(self, 0)?), paren(&v(self, 1)?)),
                M::PadLeft | M::PadRight => {
                    let fill = match args.get(1) {
                        Some(_) => format!("{}.as_str()", paren(&v(self, 1)?)),
                        None => "\" \"".into(),
                    };
                    format!("rt::pad(&{r}, {}, {fill}, \"{name}\")", v(self, 0)?)
                }
                M::CharIndices => format!("{r}.chars().enumerate().map(|(i, c)| (i as i64, c.to_string())).collect::<Vec<(i64, String)>>()"),
                M::Repeat => format!("{r}.repeat({})", count(&v(self, 0)?)),
                M::Split => format!("{r}.split({}.as_str()).map(String::from).collect::<Vec<String>>()", paren(&v(self, 0)?)),
                M::SplitWhitespace | M::Lines => format!("{r}.{cname}().map(String::from).collect::<Vec<String>>()"),
                M::Chars => format!("rt::chars(&{r})"),
                M::Parse if !args.is_empty() => {
                    let ty = match &args[0].kind {
                        ExprKind::Str(t) => t.clone(),
                        _ => return Err(unsupported(e.span, "`parse` with a type known only at run time")),
                    };
                    let err = ".map_err(|e| e.to_string())";
                    match &*ty {
                        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "Int" => {
                            let t = if &*ty == "Int" { "i64" } else { &*ty };
                            format!("{r}.parse::<{t}>().map(|n| n as i64){err}")
                        }
                        "i128" | "isize" | "u64" | "u128" | "usize" => {
                            let t = match &*ty {
                                "isize" => "i64",
                                "usize" => "u64",
                                t => t,
                            };
                            format!("{r}.parse::<{t}>(){err}.and_then(|n| <i64 as std::convert::TryFrom<_>>::try_from(n).map_err(|_| String::from(\"number too large to fit in target type\")))")
                        }
                        "f32" => format!("{r}.parse::<f32>().map(f64::from){err}"),
                        "f64" | "Float" => format!("{r}.parse::<f64>(){err}"),
                        "bool" | "Bool" => format!("{r}.parse::<bool>(){err}"),
                        _ => format!("Ok::<String, String>({r}.clone())"),
                    }
                }
                M::Parse if self.ty(e) == Ty::Float => format!("{r}.trim().parse::<f64>().expect(\"a float\")"),
                M::Parse | M::ToInt | M::ParseInt => format!("{r}.trim().parse::<i64>().expect(\"an integer\")"),
                M::Bytes => format!("{r}.bytes().map(i64::from).collect::<Vec<i64>>()"),
                M::ToFloat | M::ParseFloat => format!("{r}.trim().parse::<f64>().expect(\"a float\")"),
                M::CharAt => format!("rt::char_at(&{r}, {})", v(self, 0)?),
                M::Substring | M::Slice => format!("rt::clamped_substring(&{r}, {}, {})", v(self, 0)?, v(self, 1)?),
                M::PushStr => format!("{r}.push_str({}.as_str())", paren(&v(self, 0)?)),
                M::IsNumeric => format!("(!{r}.is_empty() && {r}.chars().all(|c| c.is_ascii_digit()))"),
                M::IsAlphabetic => format!("(!{r}.is_empty() && {r}.chars().all(char::is_alphabetic))"),
                M::IsAlphanumeric => format!("(!{r}.is_empty() && {r}.chars().all(char::is_alphanumeric))"),
                _ => return Err(unsupported(e.span, &format!("the string method `{name}`"))),
            },
            Ty::Vec(_) => self.vec_method(&r, name, args, e)?,
            Ty::Range | Ty::RangeInclusive => match id {
                M::Contains => format!("{r}.contains(&{})", v(self, 0)?),
                _ => {
                    let as_vec = format!("{r}.clone().collect::<Vec<i64>>()");
                    self.vec_method(&paren(&as_vec), name, args, e)?
                }
            },
            Ty::Map(_) => match id {
                M::Keys => format!("{r}.keys().cloned().collect::<Vec<String>>()"),
                M::Values => format!("{r}.values().cloned().collect::<{et}>()"),
                M::Items => format!("{r}.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<{et}>()"),
                M::Len => format!("({r}.len() as i64)"),
                M::IsEmpty => format!("{r}.is_empty()"),
                M::Get => format!("{r}.get({}.as_str()).cloned()", paren(&v(self, 0)?)),
                M::ContainsKey => format!("{r}.contains_key({}.as_str())", paren(&v(self, 0)?)),
                M::Remove => format!("{r}.remove({}.as_str())", paren(&v(self, 0)?)),
                M::Insert => format!("{r}.insert({}, {})", v(self, 0)?, v(self, 1)?),
                _ => return Err(unsupported(e.span, &format!("the object method `{name}`"))),
            },
            Ty::Dict(..) => match id {
                M::Len => format!("({r}.len() as i64)"),
                M::IsEmpty | M::Clear => format!("{r}.{cname}()"),
                M::Clone => format!("{r}.clone()"),
                M::Keys => format!("{r}.keys().cloned().collect::<{et}>()"),
                M::Values => format!("{r}.values().cloned().collect::<{et}>()"),
                M::Iter | M::IntoIter | M::ToArray => {
                    format!("{r}.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<{et}>()")
                }
                M::Get => format!("{r}.get(&{}).cloned()", paren(&v(self, 0)?)),
                M::ContainsKey | M::Remove => format!("{r}.{cname}(&{})", paren(&v(self, 0)?)),
                M::Insert => format!("{r}.insert({}, {})", v(self, 0)?, v(self, 1)?),
                M::OrInsert => {
                    format!("{r}.entry({}).or_insert({}).clone()", v(self, 0)?, v(self, 1)?)
                }
                _ => return Err(unsupported(e.span, &format!("the map method `{name}`"))),
            },
            Ty::Set(_) => match id {
                M::Len => format!("({r}.len() as i64)"),
                M::IsEmpty | M::Clear => format!("{r}.{cname}()"),
                M::Clone => format!("{r}.clone()"),
                M::Iter | M::IntoIter | M::ToArray => format!("{r}.iter().cloned().collect::<{et}>()"),
                M::Contains | M::Remove | M::IsSubset | M::IsSuperset | M::IsDisjoint => {
                    format!("{r}.{cname}(&{})", paren(&v(self, 0)?))
                }
                M::Insert => format!("{r}.insert({})", v(self, 0)?),
                M::Union | M::Intersection | M::Difference | M::SymmetricDifference => format!(
                    "{r}.{cname}(&{}).cloned().collect::<{et}>()",
                    paren(&v(self, 0)?)
                ),
                _ => return Err(unsupported(e.span, &format!("the set method `{name}`"))),
            },
            Ty::Deque(_) => match id {
                M::Len => format!("({r}.len() as i64)"),
                M::IsEmpty | M::Clear | M::PopFront | M::PopBack => format!("{r}.{cname}()"),
                M::Clone => format!("{r}.clone()"),
                M::Front | M::Back => format!("{r}.{cname}().cloned()"),
                M::Iter | M::IntoIter | M::ToArray => format!("{r}.iter().cloned().collect::<{et}>()"),
                M::PushFront | M::PushBack => format!("{r}.{cname}({})", v(self, 0)?),
                M::Get => format!("{r}.get(({}).max(0) as usize).cloned()", v(self, 0)?),
                M::Contains => format!("{r}.contains(&{})", paren(&v(self, 0)?)),
                _ => return Err(unsupported(e.span, &format!("the VecDeque method `{name}`"))),
            },
            Ty::Int => match id {
                M::Abs => format!("{r}.checked_abs().expect(\"Integer overflow in abs\")"),
                M::Signum => format!("{r}.signum()"),
                M::Pow => format!("rt::pow({r}, {})", v(self, 0)?),
                M::Min | M::Max => format!("{r}.{cname}({})", v(self, 0)?),
                M::ToString => format!("{r}.to_string()"),
                M::ToFloat => format!("({r} as f64)"),
                _ => return Err(unsupported(e.span, &format!("the integer method `{name}`"))),
            },
            Ty::Float => match id {
                M::ToInt => format!("({r} as i64)"),
                M::ToString => format!("{r}.to_string()"),
                M::Min | M::Max => format!("rt::f{cname}({r}, {})", v(self, 0)?),
                M::Powf | M::Log | M::Atan2 | M::Hypot => format!("{r}.{cname}({})", v(self, 0)?),
                _ => format!("{r}.{cname}()"),
            },
            Ty::Option(_) => match id {
                M::Unwrap => format!("{r}.clone().expect(\"Called unwrap() on None\")"),
                // `expect()` without a message is `expect("")` (the interpreter's message is
                // empty too)
                M::Expect if args.is_empty() => format!("{r}.clone().expect(\"\")"),
                M::Expect => format!(
                    "{r}.clone().unwrap_or_else(|| panic!(\"{{}}: None\", {}))",
                    self.message(&args[0])?
                ),
                M::IsSome | M::IsNone => format!("{r}.{cname}()"),
                M::UnwrapOr => format!("{r}.clone().unwrap_or({})", v(self, 0)?),
                M::UnwrapOrElse => self.with_callback(&args[0], |f| format!("{r}.clone().unwrap_or_else(|| {f}())"))?,
                M::Map | M::AndThen => self.with_callback(&args[0], |f| format!("{r}.clone().{cname}(|x| {f}(x))"))?,
                M::Filter => self.with_callback(&args[0], |f| format!("{r}.clone().filter(|x| {f}(x.clone()))"))?,
                M::OkOr => format!("{r}.clone().ok_or({})", v(self, 0)?),
                _ => return Err(unsupported(e.span, &format!("the Option method `{name}`"))),
            },
            Ty::Result(..) => match id {
                M::Unwrap => format!("{r}.clone().unwrap()"),
                M::Expect if args.is_empty() => format!("{r}.clone().expect(\"\")"),
                M::Expect => format!("{r}.clone().expect(&{})", self.message(&args[0])?),
                M::UnwrapErr => format!("{r}.clone().unwrap_err()"),
                M::IsOk | M::IsErr => format!("{r}.{cname}()"),
                M::UnwrapOr => format!("{r}.clone().unwrap_or({})", v(self, 0)?),
                M::UnwrapOrElse => self.with_callback(&args[0], |f| format!("{r}.clone().unwrap_or_else(|x| {f}(x))"))?,
                M::AndThen => self.with_callback(&args[0], |f| format!("{r}.clone().and_then(|x| {f}(x))"))?,
                M::Ok => format!("{r}.clone().ok()"),
                M::Map | M::MapErr => self.with_callback(&args[0], |f| format!("{r}.clone().{cname}(|x| {f}(x))"))?,
                _ => return Err(unsupported(e.span, &format!("the Result method `{name}`"))),
            },
            Ty::Tuple(ts) if id == M::Len => format!("{}_i64", ts.len()),
            _ => return Err(unsupported(e.span, &format!("the method `{name}`"))),
        })
    }

    fn vec_method(&mut self, r: &str, name: &Name, args: &[Expr], e: &Expr) -> EResult<String> {
        let et = self.ty(e);
        let id = MethodId::lookup(name).unwrap_or(M::Unknown);
        let cname = if id == M::Unknown { &**name } else { id.name() };
        let v = |s: &mut Self, i: usize| s.value(&args[i]);
        Ok(match id {
            M::Len | M::Count => format!("({r}.len() as i64)"),
            M::IsEmpty => format!("{r}.is_empty()"),
            M::Push => format!("{r}.push({})", v(self, 0)?),
            M::Pop => format!("{r}.pop().expect(\"pop on an empty array\")"),
            M::First => format!("{r}.first().cloned().expect(\"first of an empty array\")"),
            M::Last => format!("{r}.last().cloned().expect(\"last of an empty array\")"),
            M::Get | M::Nth => format!("{r}.get({} as usize).cloned()", paren(&v(self, 0)?)),
            M::Contains => format!("{r}.contains(&{})", v(self, 0)?),
            M::Insert => format!("{r}.insert({} as usize, {})", paren(&v(self, 0)?), v(self, 1)?),
            M::Remove => format!("{r}.remove(rt::index({}, {r}.len()))", v(self, 0)?),
            M::Clear => format!("{r}.clear()"),
            M::Extend => format!("{r}.extend({})", v(self, 0)?),
            M::Concat => format!("[{r}.clone(), {}].concat()", v(self, 0)?),
            M::Map => self.with_callback(&args[0], |f| format!("{r}.iter().cloned().map(|x| {f}(x)).collect::<{et}>()"))?,
            // the interpreter's error for a size that is not positive (Rust's would be a panic
            // of its own words); a size past usize is as good as the whole array
            M::Windows | M::Chunks => format!(
                "{{ let n: i64 = {}; if n <= 0 {{ panic!(\"{cname}() needs a positive size\") }}; {r}.{cname}(usize::try_from(n).unwrap_or(usize::MAX)).map(|c| c.to_vec()).collect::<{et}>() }}",
                v(self, 0)?
            ),
            M::Partition => {
                let vt = match &et {
                    Ty::Tuple(parts) if parts.len() == 2 => parts[0].clone(),
                    _ => return Err(unsupported(e.span, "this partition")),
                };
                self.with_callback(&args[0], |f| format!("{r}.iter().cloned().partition::<{vt}, _>(|x| {f}(x.clone()))"))?
            }
            M::GroupBy => {
                let Ty::Dict(k, _) = &et else {
                    return Err(unsupported(e.span, "this group_by"));
                };
                if !orderable(k) {
                    return Err(unsupported(
                        e.span,
                        &format!("group_by with keys that are {} (Rust orders integers, strings, booleans and tuples or arrays of those)", crate::types::describe(k)),
                    ));
                }
                self.with_callback(&args[0], |f| format!("{r}.iter().cloned().fold({et}::new(), |mut g, x| {{\n    g.entry({f}(x.clone())).or_insert_with(Vec::new).push(x);\n    g\n}})").replacen("rt::Map<", "rt::Map::<", 1))?
            }
            M::ChunkBy => self.with_callback(&args[0], |f| format!("{r}.chunk_by(|a, b| {f}(a.clone(), b.clone())).map(|run| run.to_vec()).collect::<{et}>()"))?,
            M::BinarySearch => format!("{r}.binary_search(&{}).map(|i| i as i64).map_err(|i| i as i64)", v(self, 0)?),
            M::Filter => self.with_callback(&args[0], |f| format!("{r}.iter().cloned().filter(|x| {f}(x.clone())).collect::<{et}>()"))?,
            M::Any | M::All => self.with_callback(&args[0], |f| format!("{r}.iter().cloned().{cname}(|x| {f}(x))"))?,
            M::Reduce if args.len() == 1 => {
                self.with_callback(&args[0], |g| format!("{r}.iter().cloned().reduce(|acc, x| {g}(acc, x))"))?
            }
            M::Reduce => {
                let (fi, ii) = if matches!(args[0].kind, ExprKind::Fn(_)) { (0, 1) } else { (1, 0) };
                let init = v(self, ii)?;
                self.with_callback(&args[fi], |g| format!("{r}.iter().cloned().fold({init}, |acc, x| {g}(acc, x))"))?
            }
            M::Sum => format!("{r}.iter().sum::<{et}>()"),
            M::Product => format!("{r}.iter().product::<{et}>()"),
            M::Max | M::Min => match et {
                Ty::Float => format!(
                    "{r}.iter().cloned().reduce(rt::f{cname}).expect(\"{cname} of an empty array\")"
                ),
                _ => format!("{r}.iter().{cname}().cloned().expect(\"{cname} of an empty array\")"),
            },
            M::Sort => match et {
                Ty::Vec(ref t) if **t == Ty::Float => format!("{{\n    {r}.sort_by(rt::cmp_f64);\n    {r}.clone()\n}}"),
                _ => format!("{{\n    {r}.sort();\n    {r}.clone()\n}}"),
            },
            M::Reverse => format!("{{\n    {r}.reverse();\n    {r}.clone()\n}}"),
            M::Sorted => match et {
                Ty::Vec(ref t) if **t == Ty::Float => format!("{{\n    let mut v = {r}.clone();\n    v.sort_by(rt::cmp_f64);\n    v\n}}"),
                _ => format!("{{\n    let mut v = {r}.clone();\n    v.sort();\n    v\n}}"),
            },
            M::Reversed => format!("{r}.iter().rev().cloned().collect::<{et}>()"),
            M::Join => {
                let sep = match args.first() {
                    Some(a) => format!("{}.as_str()", paren(&self.value(a)?)),
                    None => "\"\"".into(),
                };
                format!("{r}.iter().map(|x| x.plain()).collect::<Vec<String>>().join({sep})")
            }
            M::Enumerate => format!("{r}.iter().cloned().enumerate().map(|(i, x)| (i as i64, x)).collect::<{et}>()"),
            M::Zip => format!("{r}.iter().cloned().zip({}.iter().cloned()).collect::<{et}>()", paren(&v(self, 0)?)),
            M::Take | M::Skip => format!("{r}.iter().cloned().{cname}({}).collect::<{et}>()", count(&v(self, 0)?)),
            M::Iter | M::IntoIter | M::ToArray | M::Clone => format!("{r}.clone()"),
            M::Unique => format!("{{\n    let mut out: {et} = Vec::new();\n    for x in {r}.iter().cloned() {{\n        if !out.contains(&x) {{\n            out.push(x);\n        }}\n    }}\n    out\n}}"),
            M::Flatten => format!("{r}.concat()"),
            M::Position if matches!(self.ty(&args[0]), Ty::Fn(..)) => {
                self.with_callback(&args[0], |f| format!("{r}.iter().cloned().position(|x| {f}(x)).map(|i| i as i64)"))?
            }
            M::Union => format!("rt::union(&{r}, &{})", v(self, 0)?),
            M::Intersection => format!("{r}.iter().filter(|x| {}.contains(x)).cloned().collect::<{et}>()", paren(&v(self, 0)?)),
            M::Difference => format!("{r}.iter().filter(|x| !{}.contains(x)).cloned().collect::<{et}>()", paren(&v(self, 0)?)),
            M::IndexOf | M::Position => format!("{r}.iter().position(|x| *x == {}).map(|i| i as i64)", v(self, 0)?),
            M::Each => self.with_callback(&args[0], |f| format!("{r}.iter().cloned().for_each(|x| {{ {f}(x); }})"))?,
            _ => return Err(unsupported(e.span, &format!("the array method `{name}`"))),
        })
    }

    // ---- match, try ----------------------------------------------------------------------

    fn match_expr(&mut self, e: &Expr, value: bool) -> EResult<String> {
        let value = value && self.ty(e) != Ty::Unit;
        self.match_mode(e, if value { &Mode::Value } else { &Mode::Stmt })
    }

    /// A `match` whose arms' last expressions are emitted as `mode` says.
    fn match_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
        let ExprKind::Match { scrutinee, arms } = &e.kind else {
            return Err(unsupported(e.span, "this match"));
        };
        let st = self.ty(scrutinee);
        let on_str = st == Ty::Str;
        // list patterns match a slice, whose elements the arm then copies
        let on_slice = matches!(st, Ty::Vec(_))
            && arms
                .iter()
                .any(|a| matches!(a.pat.kind, PatKind::List { .. }));
        let s = self.value(scrutinee)?;
        let head = if on_str {
            format!("match {}.as_str() {{", paren(&s))
        } else if on_slice {
            format!("match {}.as_slice() {{", paren(&s))
        } else {
            format!("match {s} {{")
        };
        let mut out = head;
        out.push('\n');
        let mut catch_all = false;
        for arm in arms {
            let mut pat = self.pattern(&arm.pat, &st, true)?;
            let mut rebind = String::new();
            if on_str {
                // a name bound to the whole string is a `String`, as in Ruchy
                match &arm.pat.kind {
                    PatKind::Bind(b) => {
                        let n = ident(&b.name);
                        pat = n.clone();
                        let _ = writeln!(rebind, "let {n}: String = {n}.to_string();");
                    }
                    PatKind::Lit(_) | PatKind::Wild | PatKind::Or(_) => {}
                    _ => return Err(unsupported(arm.pat.span, "this pattern on a string")),
                }
            }
            if on_slice {
                let mut names = Vec::new();
                arm.pat.bindings(&mut names);
                let slices: Vec<&Name> = match &arm.pat.kind {
                    PatKind::Bind(b) => vec![&b.name],
                    PatKind::List {
                        rest: Some(Some(b)),
                        ..
                    } => vec![&b.name],
                    _ => Vec::new(),
                };
                for b in names {
                    let n = ident(&b.name);
                    if slices.contains(&&b.name) {
                        let _ = writeln!(rebind, "let {n} = {n}.to_vec();");
                    } else {
                        let _ = writeln!(rebind, "let {n} = {n}.clone();");
                    }
                }
            }
            if arm.guard.is_none() && arm.pat.is_irrefutable() {
                catch_all = true;
            }
            let guard = match &arm.guard {
                Some(g) => {
                    let g = self.expr(g)?;
                    if rebind.is_empty() {
                        format!(" if {g}")
                    } else {
                        // the guard sees the `&str`; compare it as such
                        format!(" if {{ {} {g} }}", rebind.replace('\n', " "))
                    }
                }
                None => String::new(),
            };
            let body = self.block_mode(&arm.body, mode)?;
            let body = if rebind.is_empty() {
                body
            } else {
                let mut b = String::from("{\n");
                indented(&mut b, &rebind);
                b.push_str(&body[2..]);
                b
            };
            indented(&mut out, &format!("{pat}{guard} => {body}"));
        }
        if !catch_all {
            let shown = if on_str {
                "format!(\"\\\"{}\\\"\", other)".to_string()
            } else if on_slice {
                "other.to_vec().show()".to_string()
            } else {
                "other.show()".to_string()
            };
            indented(
                &mut out,
                &format!("other => panic!(\"No match arm matched the value {{}}\", {shown}),"),
            );
        }
        out.push('}');
        Ok(out)
    }

    /// `try { body } catch e { handler }`: the body runs in `rt::catch`, which turns a throw
    /// or an engine error (a Rust panic) into `Err` with the caught string.
    fn try_expr(&mut self, e: &Expr, t: &TryExpr) -> EResult<String> {
        if self.tail_kind(e) == Tail::Mixed {
            return Err(unsupported(
                e.span,
                "a `try` whose body and `catch` give values of different types, as a value",
            ));
        }
        let mode = if self.ty(e) == Ty::Unit {
            Mode::Stmt
        } else {
            Mode::Value
        };
        self.try_mode(e, t, &mode)
    }

    /// A `try` whose body's and handler's last expressions are emitted as `mode` says.
    fn try_mode(&mut self, e: &Expr, t: &TryExpr, mode: &Mode) -> EResult<String> {
        let Some((pat, handler)) = &t.catch else {
            return Err(unsupported(e.span, "this try"));
        };
        let vt = self.ty(e);
        let body = self.block_mode(&t.body, mode)?;
        let cp = self.pattern(pat, &Ty::Str, false)?;
        let h = self.block_mode(handler, mode)?;
        let ret = if matches!(mode, Mode::Value) {
            format!(" -> {vt}")
        } else {
            String::new()
        };
        Ok(format!(
            "match rt::catch(||{ret} {body}) {{\n    Ok(value) => value,\n    Err({cp}) => {h}\n}}"
        ))
    }

    // ---- printing ------------------------------------------------------------------------

    /// A Rust format string and its arguments for `println(args..)` (D8, D9).
    fn print_args(&mut self, args: &[Expr]) -> EResult<(String, Vec<String>)> {
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
    fn template(&mut self, t: &str, args: &[Expr], _span: Span) -> EResult<(String, Vec<String>)> {
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
    fn hole(&mut self, e: &Expr, s: &FormatSpec, written: &str) -> EResult<(String, String)> {
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

    fn fstring(&mut self, parts: &[FStrPart], span: Span) -> EResult<String> {
        let (fmt, vals) = self.fstring_parts(parts, span)?;
        if vals.is_empty() {
            Ok(format!("format!(\"{fmt}\")"))
        } else {
            Ok(format!("format!(\"{fmt}\", {})", vals.join(", ")))
        }
    }

    /// An f-string as a Rust format string and its arguments.
    fn fstring_parts(&mut self, parts: &[FStrPart], span: Span) -> EResult<(String, Vec<String>)> {
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

/// `typeof` of a value of this type (known statically).
fn type_name(t: &Ty, typed: &Typed) -> &'static str {
    match t {
        Ty::Int => "integer",
        Ty::Float => "float",
        Ty::Bool => "boolean",
        Ty::Str => "string",
        Ty::Unit => "nil",
        Ty::Vec(_) => "array",
        Ty::Tuple(_) => "tuple",
        Ty::Map(_) | Ty::Record(_) => "object",
        Ty::Dict(..) => "HashMap",
        Ty::Set(_) => "HashSet",
        Ty::Deque(_) => "VecDeque",
        Ty::Named(n) if typed.structs.contains_key(n) => "struct",
        Ty::Named(_) | Ty::Option(_) | Ty::Result(..) => "enum_variant",
        Ty::Fn(..) => "function",
        Ty::Range | Ty::RangeInclusive => "range",
        Ty::Var(_) => "integer",
    }
}

/// Whether Rust has a `Default` for the type (`map[k] = v` writes `entry(k).or_default()`).
fn has_default(t: &Ty) -> bool {
    match t {
        Ty::Int | Ty::Float | Ty::Bool | Ty::Str | Ty::Unit => true,
        Ty::Vec(_) | Ty::Option(_) | Ty::Map(_) | Ty::Dict(..) | Ty::Set(_) | Ty::Deque(_) => true,
        Ty::Tuple(items) => items.len() <= 12 && items.iter().all(has_default),
        _ => false,
    }
}

/// Whether Rust can order values of the type (a map's or set's key): `f64` and functions
/// cannot; user structs and enums derive no `Ord` in the Rust `compile` writes.
fn orderable(t: &Ty) -> bool {
    match t {
        Ty::Int | Ty::Bool | Ty::Str | Ty::Unit => true,
        Ty::Vec(e) | Ty::Option(e) => orderable(e),
        Ty::Tuple(items) => items.iter().all(orderable),
        _ => false,
    }
}

/// The element type of an array type (an int for anything else).
fn elem_of(t: &Ty) -> Ty {
    match t {
        Ty::Vec(e) => (**e).clone(),
        _ => Ty::Int,
    }
}
