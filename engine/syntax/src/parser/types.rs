//! Type annotations.

use super::*;

impl Parser<'_> {
    /// `<...>` generic parameters or arguments, skipped with nesting (`>>` counts twice).
    pub(super) fn generic_args(&mut self) -> PResult<Vec<TypeAnn>> {
        self.expect(&Tok::Lt, "to start generic arguments")?;
        let mut args = Vec::new();
        loop {
            if self.close_angle() {
                break;
            }
            if self.at(&Tok::Eof) {
                return Err(self.unexpected("`>` to close the generic arguments"));
            }
            if let Tok::Label(_) = self.tok() {
                self.advance(); // a lifetime, and its bounds (`'b: 'a + 'c`)
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
            } else {
                args.push(self.type_ann()?);
                // bounds `T: Display + Clone`
                if self.eat(&Tok::Colon) {
                    self.type_ann()?;
                    while self.eat(&Tok::Plus) {
                        self.type_ann()?;
                    }
                }
            }
            if !self.eat(&Tok::Comma) {
                if !self.close_angle() {
                    return Err(self.unexpected("`>` or `,` in the generic arguments"));
                }
                break;
            }
        }
        Ok(args)
    }

    /// Consumes one `>`, splitting `>>`/`>=`/`>>=` tokens as Rust does.
    pub(super) fn close_angle(&mut self) -> bool {
        let t = self.token().clone();
        let rest = match t.tok {
            Tok::Gt => {
                self.advance();
                return true;
            }
            Tok::Shr => Tok::Gt,
            Tok::Ge => Tok::Eq,
            Tok::ShrEq => Tok::Ge,
            _ => return false,
        };
        let i = self.pos.min(self.tokens.len() - 1);
        self.tokens[i].tok = rest;
        self.tokens[i].span.start += 1;
        true
    }

    pub(super) fn type_ann(&mut self) -> PResult<TypeAnn> {
        self.enter()?;
        let t = self.type_inner();
        self.leave();
        t
    }

    pub(super) fn type_inner(&mut self) -> PResult<TypeAnn> {
        match self.tok().clone() {
            Tok::Amp | Tok::AndAnd => {
                self.advance();
                if let Tok::Label(_) = self.tok() {
                    self.advance();
                }
                self.eat(&Tok::Mut);
                Ok(TypeAnn::Ref(Box::new(self.type_ann()?)))
            }
            Tok::Star => {
                self.advance();
                if !self.eat(&Tok::Mut) {
                    self.eat(&Tok::Const);
                }
                Ok(TypeAnn::Ref(Box::new(self.type_ann()?)))
            }
            Tok::LBracket => {
                self.advance();
                let elem = self.type_ann()?;
                let len = if self.eat(&Tok::Semi) {
                    match self.tok().clone() {
                        Tok::Int(n) => {
                            self.advance();
                            Some(n)
                        }
                        _ => {
                            self.expr()?;
                            None
                        }
                    }
                } else {
                    None
                };
                self.expect(&Tok::RBracket, "to close the array type")?;
                Ok(TypeAnn::Array(Box::new(elem), len))
            }
            Tok::LParen => {
                self.advance();
                let mut items = Vec::new();
                while !self.at(&Tok::RParen) {
                    items.push(self.type_ann()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "to close the tuple type")?;
                Ok(TypeAnn::Tuple(items))
            }
            Tok::Fun => {
                self.advance();
                self.fn_type_tail()
            }
            Tok::Ident(name) if &*name == "_" => {
                self.advance();
                Ok(TypeAnn::Infer)
            }
            // a lifetime as a bound (`T: 'a`, `'b: 'a`): nothing to check
            Tok::Label(_) => {
                self.advance();
                Ok(TypeAnn::Infer)
            }
            Tok::Ident(name) if &*name == "dyn" => {
                self.advance();
                self.type_ann()
            }
            Tok::Impl => {
                self.advance();
                let t = self.type_ann()?;
                while self.eat(&Tok::Plus) {
                    self.type_ann()?;
                }
                Ok(t)
            }
            Tok::Ident(mut name) => {
                self.advance();
                while self.eat(&Tok::ColonColon) {
                    name = self.ident("a type name")?.0;
                }
                if matches!(&*name, "Fn" | "FnMut" | "FnOnce") && self.at(&Tok::LParen) {
                    return self.fn_type_tail();
                }
                let args = if self.at(&Tok::Lt) {
                    self.generic_args()?
                } else {
                    Vec::new()
                };
                Ok(TypeAnn::Named(name, args))
            }
            Tok::SelfLower => {
                self.advance();
                Ok(TypeAnn::Named("Self".into(), Vec::new()))
            }
            _ => Err(self.unexpected("a type")),
        }
    }

    pub(super) fn fn_type_tail(&mut self) -> PResult<TypeAnn> {
        self.expect(&Tok::LParen, "in a function type")?;
        let mut params = Vec::new();
        while !self.at(&Tok::RParen) {
            params.push(self.type_ann()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "to close the function type")?;
        let ret = if self.eat(&Tok::Arrow) {
            Some(Box::new(self.type_ann()?))
        } else {
            None
        };
        Ok(TypeAnn::Fn(params, ret))
    }
}
