//! Expressions.

use super::*;

impl Emitter<'_> {
    /// An expression whose value is moved somewhere: places of non-`Copy` types are cloned.
    pub(super) fn value(&mut self, e: &Expr) -> EResult<String> {
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

    pub(super) fn is_shared_global(&self, v: &VarRef, slot: u32) -> bool {
        let slot = if slot == u32::MAX {
            self.globals.get(&v.name).unwrap_or(u32::MAX)
        } else {
            slot
        };
        self.typed.shared_globals.contains(&slot)
    }

    /// The binding a use refers to, if it is a local or a capture.
    pub(super) fn local_binding(&self, v: &VarRef) -> Option<BindId> {
        match self.res.use_of(v) {
            UseRes::Local(b) => Some(self.res.canonical(b)),
            UseRes::Upval(i) => self.upval_binding(i),
            _ => None,
        }
    }

    /// The binding behind a capture of the closure being emitted.
    pub(super) fn upval_binding(&self, idx: u16) -> Option<BindId> {
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
    pub(super) fn read_any_binding(&self, b: &Binding) -> String {
        let id = self.res.canonical(b.id);
        match self.res.binding(id).global {
            Some(slot) if self.typed.shared_globals.contains(&slot) => {
                format!("{}()", ident(&b.name))
            }
            Some(_) => ident(&b.name).into_owned(),
            None => self.read_binding(id, &b.name),
        }
    }

    /// Reading a binding by name (`x`, or `rt::get(&x)` for a shared one).
    pub(super) fn read_binding(&self, b: BindId, name: &str) -> String {
        if self.repr(b) == Repr::Shared {
            // a function, so that no `Ref` outlives the block it ends
            format!("rt::get(&{})", ident(name))
        } else {
            ident(name).into_owned()
        }
    }

    pub(super) fn var(&mut self, v: &VarRef, e: &Expr) -> EResult<String> {
        Ok(match self.res.use_of(v) {
            UseRes::Local(b) => self.read_binding(self.res.canonical(b), &v.name),
            UseRes::Upval(i) => match self.upval_binding(i) {
                Some(b) => self.read_binding(b, &v.name),
                None => ident(&v.name).into_owned(),
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
                    ident(&v.name).into_owned()
                }
            }
        })
    }

    pub(super) fn expr(&mut self, e: &Expr) -> EResult<String> {
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

    pub(super) fn path(&mut self, path: &[Name], e: &Expr) -> EResult<String> {
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

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        whole: &Expr,
    ) -> EResult<String> {
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

    pub(super) fn binary_inner(
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
    pub(super) fn arith(
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
    pub(super) fn message(&mut self, e: &Expr) -> EResult<String> {
        let text = self.plain(e)?;
        Ok(if self.ty(e) == Ty::Str {
            text
        } else {
            format!("{}.to_string()", paren(&text))
        })
    }

    /// What `println` prints for `e` (strings as they are).
    pub(super) fn plain(&mut self, e: &Expr) -> EResult<String> {
        let t = self.ty(e);
        let v = self.expr(e)?;
        Ok(match t {
            Ty::Int | Ty::Bool => v,
            Ty::Str => v,
            _ => format!("{}.plain()", paren(&v)),
        })
    }

    pub(super) fn assign(
        &mut self,
        target: &Expr,
        op: Option<BinOp>,
        value: &Expr,
    ) -> EResult<String> {
        let s = self.assign_expr_parts(target, op, value)?;
        Ok(if s.starts_with('{') {
            s
        } else {
            format!("{s};")
        })
    }

    pub(super) fn assign_expr(&mut self, e: &Expr) -> EResult<String> {
        let ExprKind::Assign { target, op, value } = &e.kind else {
            return Err(unsupported(e.span, "this assignment"));
        };
        let s = self.assign_expr_parts(target, *op, value)?;
        let v = self.value(target)?;
        Ok(format!("{{\n    {s};\n    {v}\n}}"))
    }

    pub(super) fn assign_expr_parts(
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
    pub(super) fn assign_to_place(
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

    pub(super) fn combine(&self, op: BinOp, cur: &str, x: &str, tt: &Ty, tv: &Ty) -> String {
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
    pub(super) fn place(&mut self, e: &Expr) -> EResult<String> {
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
    pub(super) fn place_with(&mut self, e: &Expr, prelude: &mut Vec<String>) -> EResult<String> {
        Ok(match &e.kind {
            ExprKind::Var(v) => match (self.local_binding(v), self.res.use_of(v)) {
                (Some(b), _) if self.repr(b) == Repr::Shared => {
                    format!("*{}.borrow_mut()", ident(&v.name))
                }
                (None, UseRes::Global(slot)) if self.is_shared_global(v, slot) => {
                    self.global_root = Some(v.name.clone());
                    global_local(&v.name)
                }
                _ => ident(&v.name).into_owned(),
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

    pub(super) fn index(&mut self, obj: &Expr, idx: &Expr, e: &Expr) -> EResult<String> {
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
}
