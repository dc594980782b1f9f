//! Blocks and statements.

use super::*;

impl Emitter<'_> {
    /// A body as a Rust block; `value`: its last expression is the block's value.
    pub(super) fn block_of(&mut self, e: &Expr, value: bool) -> EResult<String> {
        self.block_mode(e, if value { &Mode::Value } else { &Mode::Stmt })
    }

    /// A body as a Rust block whose last expression is emitted as `mode` says.
    pub(super) fn block_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
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
    pub(super) fn tail(&mut self, e: &Expr) -> EResult<String> {
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
    pub(super) fn displayed(&mut self, e: &Expr) -> EResult<String> {
        self.shown(e, &Sink::Print)
    }

    /// What an expression's value is, as far as showing it goes (see [`Tail`]).
    pub(super) fn tail_kind(&self, e: &Expr) -> Tail {
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
    pub(super) fn shown(&mut self, e: &Expr, sink: &Sink) -> EResult<String> {
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
    pub(super) fn deliver_nil(sink: &Sink) -> String {
        match sink {
            Sink::Print => String::new(),
            Sink::Last { var, .. } => format!("{var} = None;"),
        }
    }

    /// Code that delivers the value `v` (Rust text) of type `t` to a sink.
    pub(super) fn deliver(v: &str, t: &Ty, sink: &Sink) -> String {
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
    pub(super) fn shown_leaf(&mut self, e: &Expr, sink: &Sink) -> EResult<String> {
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
    pub(super) fn stmt(&mut self, e: &Expr) -> EResult<String> {
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

    pub(super) fn let_stmt(&mut self, l: &LetExpr, span: Span) -> EResult<String> {
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
    pub(super) fn destructure_list(&mut self, p: &Pattern, t: &Ty, value: &str) -> EResult<String> {
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
    pub(super) fn local_fn(&mut self, def: &FnDef) -> EResult<String> {
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
    pub(super) fn loop_mode(&mut self, e: &Expr, mode: &Mode) -> EResult<String> {
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

    pub(super) fn for_mode(&mut self, f: &ForExpr, mode: &Mode) -> EResult<String> {
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
    pub(super) fn bind_pattern_ty(&self, p: &Pattern) -> Option<Ty> {
        match &p.kind {
            PatKind::Bind(b) => Some(self.bind_ty(b.id)),
            _ => None,
        }
    }

    /// What `for x in <e>` walks: a snapshot of the collection (Ruchy iterates a copy).
    pub(super) fn iter_of(&mut self, e: &Expr) -> EResult<String> {
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
}
