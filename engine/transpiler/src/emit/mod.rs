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

mod calls;
mod expressions;
mod items;
mod matching;
mod patterns;
mod printing;
mod statements;

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
    // types (those Rust cannot write were refused before emission: check.rs)
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
    ruchy_runtime::sort::sort_by(&mut shared, |a, b| a < b);
    for slot in shared {
        let (Some(name), Some(t)) = (globals.names.get(*slot as usize), typed.globals.get(slot))
        else {
            continue;
        };
        // (one holding a function was refused before emission: check.rs)
        let _ = write!(
            items,
            "thread_local! {{\n    /// The notebook global `{name}`: functions read it when they run (D4).\n    static {cell}: RefCell<Option<{t}>> = const {{ RefCell::new(None) }};\n}}\n\nfn {name}() -> {t} {{\n    {cell}.with_borrow(|v| v.clone().expect(\"Undefined variable: {name}\"))\n}}\n\n",
            cell = global_cell(name),
        );
    }
    let mut body = String::new();
    let main_slot = globals.get("main").filter(|s| typed.global_fns.contains(s));
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
