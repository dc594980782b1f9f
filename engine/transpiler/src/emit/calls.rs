//! Calls: built-in functions, methods (from the catalogue) and user functions.

use super::*;

impl Emitter<'_> {
    pub(super) fn call(&mut self, callee: &Expr, args: &[Expr], e: &Expr) -> EResult<String> {
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
    pub(super) fn collection_ctor(
        &mut self,
        name: &str,
        args: &[Expr],
        e: &Expr,
    ) -> EResult<String> {
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

    pub(super) fn builtin(&mut self, name: &str, args: &[Expr], e: &Expr) -> EResult<String> {
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
                    // (an int and a float were refused by inference)
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
    pub(super) fn closure(&mut self, def: &FnDef) -> EResult<String> {
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

    pub(super) fn capture_names(&self, def: &FnDef) -> Vec<Name> {
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
    pub(super) fn callback(&mut self, f: &Expr, _arity: usize) -> EResult<String> {
        self.expr(f)
    }

    /// Code that calls the function value `f` from inside a Rust closure that `make` writes
    /// (given how to name `f`): a plain name is used as it is; anything else is evaluated once,
    /// before, into `f`, so that no name of the closure `make` writes shadows one it uses.
    pub(super) fn with_callback(
        &mut self,
        f: &Expr,
        make: impl Fn(&str) -> String,
    ) -> EResult<String> {
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

    pub(super) fn method(
        &mut self,
        receiver: &Expr,
        name: &Name,
        args: &[Expr],
        e: &Expr,
    ) -> EResult<String> {
        self.method_on(receiver, name, args, e, false)
    }

    /// A method call; `copy`: a method that changes its receiver changes a copy (as the free
    /// function of the same name does).
    pub(super) fn method_on(
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
    pub(super) fn reads_no_global(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => true,
            ExprKind::Var(v) => self.local_binding(v).is_some(),
            ExprKind::Unary(_, x) => self.reads_no_global(x),
            ExprKind::Binary(_, a, b) => self.reads_no_global(a) && self.reads_no_global(b),
            _ => false,
        }
    }

    /// Whether the indices of a place (`a[i][j].f`) cannot read a notebook global.
    pub(super) fn place_reads_no_global(&self, e: &Expr) -> bool {
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

    pub(super) fn method_inner(
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

    pub(super) fn vec_method(
        &mut self,
        r: &str,
        name: &Name,
        args: &[Expr],
        e: &Expr,
    ) -> EResult<String> {
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
}
