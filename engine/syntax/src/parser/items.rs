//! Items: functions, and type definitions (structs, enums, traits, `impl` blocks).

use super::*;

impl Parser<'_> {
    pub(super) fn new_fn_id(&mut self) -> FnId {
        self.n_fns += 1;
        self.n_fns - 1
    }

    pub(super) fn fun(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.at(&Tok::LParen) {
            // anonymous `fun(x) { x + 1 }`
            let params = self.params(&Tok::LParen, &Tok::RParen)?.1;
            let ret = self.ret_type()?;
            let body = self.block()?;
            let id = self.new_fn_id();
            let def = FnDef {
                id,
                name: None,
                self_kind: SelfKind::None,
                self_binding: None,
                params,
                ret,
                body: Box::new(body),
                span: start.to(self.prev_span()),
            };
            return Ok(self.mk(ExprKind::Fn(Rc::new(def)), start));
        }
        let def = self.fn_def(start)?;
        Ok(self.mk(ExprKind::Fn(Rc::new(def)), start))
    }

    /// A named function after `fun`/`fn`: `name<T>(params) -> Ret where .. { body }`.
    pub(super) fn fn_def(&mut self, start: Span) -> PResult<FnDef> {
        let (name, name_span) = self.ident("a function name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let (self_kind, params) = self.params(&Tok::LParen, &Tok::RParen)?;
        let ret = self.ret_type()?;
        if self.eat(&Tok::Where) {
            while !self.at(&Tok::LBrace) && !self.at(&Tok::Eof) {
                self.advance();
            }
        }
        let body = self.block()?;
        let binding = self.new_binding(name, name_span, false)?;
        let self_binding = if self_kind == SelfKind::None {
            None
        } else {
            Some(self.new_binding("self".into(), start, true)?)
        };
        let id = self.new_fn_id();
        Ok(FnDef {
            id,
            name: Some(binding),
            self_kind,
            self_binding,
            params,
            ret,
            body: Box::new(body),
            span: start.to(self.prev_span()),
        })
    }

    pub(super) fn ret_type(&mut self) -> PResult<Option<TypeAnn>> {
        if self.eat(&Tok::Arrow) {
            Ok(Some(self.type_ann()?))
        } else {
            Ok(None)
        }
    }

    /// A parameter list; returns how `self` is taken (for methods) and the other parameters.
    pub(super) fn params(&mut self, open: &Tok, close: &Tok) -> PResult<(SelfKind, Vec<Param>)> {
        self.expect(open, "to start the parameter list")?;
        let mut self_kind = SelfKind::None;
        let mut params = Vec::new();
        while !self.at(close) {
            let pstart = self.span();
            // receivers: self, &self, &mut self, mut self, self: Type
            let save = self.pos;
            let is_ref = self.eat(&Tok::Amp);
            let is_mut = self.eat(&Tok::Mut);
            if params.is_empty() && self_kind == SelfKind::None && self.eat(&Tok::SelfLower) {
                self_kind = if is_mut {
                    SelfKind::Mut
                } else {
                    SelfKind::Value
                };
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                }
                let _ = is_ref;
                if !self.eat(&Tok::Comma) {
                    break;
                }
                continue;
            }
            self.pos = save;
            let mutable = self.eat(&Tok::Mut);
            // no or-patterns here: `|` closes a lambda's parameter list
            self.enter()?;
            let pat = self.pattern_single(mutable);
            self.leave();
            let pat = pat?;
            let ty = if self.eat(&Tok::Colon) {
                Some(self.type_ann()?)
            } else {
                None
            };
            let default = if self.eat(&Tok::Eq) {
                Some(self.expr()?)
            } else {
                None
            };
            params.push(Param {
                pat,
                ty,
                default,
                span: pstart.to(self.prev_span()),
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(close, "or `,` in the parameter list")?;
        Ok((self_kind, params))
    }

    pub(super) fn lambda(&mut self, start: Span) -> PResult<Expr> {
        let params = if self.eat(&Tok::OrOr) {
            Vec::new()
        } else {
            self.params(&Tok::Pipe, &Tok::Pipe)?.1
        };
        self.lambda_body(params, start)
    }

    pub(super) fn lambda_body(&mut self, params: Vec<Param>, start: Span) -> PResult<Expr> {
        let ret = self.ret_type()?;
        // `|| {}` is an empty block (nil, D22), not an empty object
        let body = if ret.is_some() || self.at(&Tok::LBrace) && self.peek_tok(1) == &Tok::RBrace {
            self.block()?
        } else {
            self.expr()?
        };
        let id = self.new_fn_id();
        let def = FnDef {
            id,
            name: None,
            self_kind: SelfKind::None,
            self_binding: None,
            params,
            ret,
            body: Box::new(body),
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Fn(Rc::new(def)), start))
    }

    // ---- type definitions ----------------------------------------------------------------

    pub(super) fn struct_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("a struct name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let mut fields = Vec::new();
        let mut defaults = Vec::new();
        let mut methods = Vec::new();
        let tuple;
        if self.eat(&Tok::LParen) {
            tuple = true;
            let mut i = 0;
            while !self.at(&Tok::RParen) {
                self.visibility();
                fields.push((i.to_string().into(), self.type_ann()?));
                defaults.push(None);
                i += 1;
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "to close the tuple struct")?;
        } else if self.eat(&Tok::LBrace) {
            tuple = false;
            while !self.at(&Tok::RBrace) {
                self.visibility();
                // a method written in the body: as if in an `impl` after the struct
                if self.at(&Tok::Fun)
                    || self.at(&Tok::Const) && matches!(self.peek_tok(1), Tok::Fun)
                {
                    self.eat(&Tok::Const);
                    let mstart = self.span();
                    self.advance();
                    methods.push(Rc::new(self.fn_def(mstart)?));
                    while self.eat(&Tok::Comma) || self.eat(&Tok::Semi) {}
                    continue;
                }
                let (f, fspan) = self.ident("a field name")?;
                if fields.iter().any(|(n, _)| *n == f) {
                    return Err(Diagnostic::parse(
                        format!("field `{f}` is declared twice"),
                        fspan,
                    ));
                }
                self.expect(&Tok::Colon, "after the field name")?;
                let ty = self.type_ann()?;
                defaults.push(if self.eat(&Tok::Eq) {
                    Some(self.expr()?)
                } else {
                    None
                });
                fields.push((f, ty));
                if !self.eat(&Tok::Comma) && !matches!(self.tok(), Tok::Fun | Tok::Pub | Tok::Const)
                {
                    break;
                }
            }
            self.expect(&Tok::RBrace, "or `,` in the struct definition")?;
        } else {
            tuple = false; // unit struct
        }
        let span = start.to(self.prev_span());
        if !methods.is_empty() {
            let imp = ImplDef {
                type_name: name.clone(),
                trait_name: None,
                methods,
                span,
            };
            self.pending.push(Expr {
                kind: ExprKind::Impl(Rc::new(imp)),
                span,
            });
        }
        let def = StructDef {
            name,
            fields,
            defaults,
            tuple,
            span,
        };
        Ok(self.mk(ExprKind::Struct(Rc::new(def)), start))
    }

    pub(super) fn enum_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("an enum name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        self.expect(&Tok::LBrace, "to start the enum variants")?;
        let mut variants: Vec<VariantDef> = Vec::new();
        while !self.at(&Tok::RBrace) {
            let vstart = self.span();
            let (vname, vspan) = self.ident("a variant name")?;
            if variants.iter().any(|v| v.name == vname) {
                return Err(Diagnostic::parse(
                    format!("variant `{vname}` is declared twice"),
                    vspan,
                ));
            }
            let shape = if self.eat(&Tok::LParen) {
                let mut tys = Vec::new();
                while !self.at(&Tok::RParen) {
                    tys.push(self.type_ann()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "to close the variant")?;
                VariantShape::Tuple(tys)
            } else if self.eat(&Tok::LBrace) {
                let mut fs = Vec::new();
                while !self.at(&Tok::RBrace) {
                    let (f, _) = self.ident("a field name")?;
                    self.expect(&Tok::Colon, "after the field name")?;
                    fs.push((f, self.type_ann()?));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RBrace, "to close the variant")?;
                VariantShape::Struct(fs)
            } else {
                VariantShape::Unit
            };
            let discriminant = if self.eat(&Tok::Eq) {
                let neg = self.eat(&Tok::Minus);
                match self.tok().clone() {
                    Tok::Int(n) => {
                        self.advance();
                        Some(if neg { -n } else { n })
                    }
                    _ => return Err(self.unexpected("an integer discriminant")),
                }
            } else {
                None
            };
            variants.push(VariantDef {
                name: vname,
                shape,
                discriminant,
                span: vstart.to(self.prev_span()),
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBrace, "or `,` in the enum definition")?;
        let def = EnumDef {
            name,
            variants,
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Enum(Rc::new(def)), start))
    }

    pub(super) fn impl_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let (mut type_name, _) = self.ident("a type name after `impl`")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        let mut trait_name = None;
        if self.eat(&Tok::For) {
            // `impl Trait for Type`: the trait's default methods come along
            trait_name = Some(type_name);
            // a type: `Point`, `i32`, `&str`, `Vec<T>`, `[T]`
            type_name = match self.type_ann()? {
                TypeAnn::Named(n, _) => n,
                TypeAnn::Ref(t) => match *t {
                    TypeAnn::Named(n, _) => n,
                    TypeAnn::Array(..) => "[T]".into(),
                    _ => return Err(self.unexpected("a type name after `for`")),
                },
                TypeAnn::Array(..) => "[T]".into(),
                _ => return Err(self.unexpected("a type name after `for`")),
            };
        }
        self.expect(&Tok::LBrace, "to start the impl block")?;
        let mut methods = self.method_list()?;
        let span = start.to(self.prev_span());
        // the trait's defaults this impl lacks, parsed again as its own (same source only;
        // a trait from an earlier cell gives them at run time)
        let defaults = trait_name
            .as_ref()
            .and_then(|t| self.traits.get(t))
            .cloned()
            .unwrap_or_default();
        for (name, at) in defaults {
            let own = methods
                .iter()
                .any(|m| m.name.as_ref().is_some_and(|b| b.name == name));
            if own {
                continue;
            }
            let save = self.pos;
            self.pos = at;
            let mstart = self.span();
            self.advance();
            let m = self.fn_def(mstart);
            self.pos = save;
            methods.push(Rc::new(m?));
        }
        let def = ImplDef {
            type_name,
            trait_name,
            methods,
            span,
        };
        Ok(self.mk(ExprKind::Impl(Rc::new(def)), start))
    }

    /// Functions inside `impl { }` or `trait { }`, up to and including the `}`.
    pub(super) fn method_list(&mut self) -> PResult<Vec<Rc<FnDef>>> {
        Ok(self.method_list_at()?.into_iter().map(|(_, m)| m).collect())
    }

    /// [`Parser::method_list`], with the token position of each method's `fun`.
    pub(super) fn method_list_at(&mut self) -> PResult<Vec<(usize, Rc<FnDef>)>> {
        let mut methods = Vec::new();
        loop {
            while self.eat(&Tok::Semi) || self.at(&Tok::Pub) {
                self.visibility();
            }
            self.eat(&Tok::Const);
            if self.eat(&Tok::RBrace) {
                break;
            }
            // an associated type (`type Item;`, `type Item = i32;`): accepted, as type aliases
            // are, and meaning nothing (values carry their types)
            if self.eat(&Tok::Type) {
                self.ident("an associated type name")?;
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
                if self.eat(&Tok::Eq) {
                    self.type_ann()?;
                }
                self.eat(&Tok::Semi);
                continue;
            }
            let mstart = self.span();
            let at = self.pos;
            if !self.eat(&Tok::Fun) {
                return Err(self.unexpected("`fun` or `}` in the impl block"));
            }
            // a trait method without a body: `fn name(&self) -> T;`
            let save = self.pos;
            if let Ok((_, _)) = self.ident("a method name") {
                if self.at(&Tok::Lt) {
                    self.generic_args()?;
                }
                if self.at(&Tok::LParen) {
                    self.params(&Tok::LParen, &Tok::RParen)?;
                    self.ret_type()?;
                    // a signature ends with `;` or its line (no body follows)
                    if self.eat(&Tok::Semi) || !self.at(&Tok::LBrace) && !self.at(&Tok::Where) {
                        continue;
                    }
                }
            }
            self.pos = save;
            methods.push((at, Rc::new(self.fn_def(mstart)?)));
        }
        Ok(methods)
    }

    /// `trait Name { fn a(&self); fn b(&self) { default } }`: default methods are ignored
    /// unless an `impl` provides them; a trait is accepted as documentation.
    pub(super) fn trait_def(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        let (name, _) = self.ident("a trait name")?;
        if self.at(&Tok::Lt) {
            self.generic_args()?;
        }
        self.expect(&Tok::LBrace, "to start the trait")?;
        // the methods with a body are the defaults; signatures alone are documentation
        let listed = self.method_list_at()?;
        if listed.is_empty() {
            return Ok(self.mk(ExprKind::Nil, start));
        }
        let positions = listed
            .iter()
            .filter_map(|(at, m)| Some((m.name.as_ref()?.name.clone(), *at)))
            .collect();
        self.traits.insert(name.clone(), positions);
        let methods = listed.into_iter().map(|(_, m)| m).collect();
        let def = ImplDef {
            type_name: format!("trait {name}").into(),
            trait_name: None,
            methods,
            span: start.to(self.prev_span()),
        };
        Ok(self.mk(ExprKind::Impl(Rc::new(def)), start))
    }
}
