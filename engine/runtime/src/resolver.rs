//! Resolver: decides, before any code runs, what every name refers to.
//!
//! * A name bound inside a function or block is a **local**: it lives in a register of its
//!   function's frame. If a closure captures it, it is marked `captured` and lives in a box
//!   that the closure shares (assignment through either side is seen by both, D4).
//! * A name bound at the top level of a cell is a **session global** (D4): an index into the
//!   session's global table, the same index every time the name is bound again.
//! * A name not bound in any enclosing function is a global too, read when the code runs (so a
//!   function may call one defined in a later cell).
//! * Inside a nested named function, its own name is `SelfFn` (no capture, no cycle).
//!
//! Functions declared in a block are hoisted, as Rust items are, so nested helpers may call
//! each other in any order. No hashing happens at run time for any of this.

use ruchy_syntax::ast::*;
use ruchy_syntax::diagnostic::{Diagnostic, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// What a use of a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseRes {
    Local(BindId),
    Upval(u16),
    Global(u32),
    SelfFn,
}

/// Where a closure's captured variable comes from, in the enclosing function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureSrc {
    Local(BindId),
    Upval(u16),
}

#[derive(Clone, Debug, Default)]
pub struct BindInfo {
    /// A closure captures it: it lives in a box.
    pub captured: bool,
    /// Assigned after its definition (`x = ..`, `x += ..`).
    pub assigned: bool,
    /// A top-level binding: the session global slot it sets.
    pub global: Option<u32>,
    /// An alternative of an or-pattern binds the same variable as the first alternative.
    pub alias_of: Option<BindId>,
    /// Declared by hoisting (a named function in a block).
    pub hoisted: bool,
    /// The receiver (or a receiver's root) of a method call, which may change it in place.
    pub receiver: bool,
}

impl BindInfo {
    /// Whether it lives in a box that closures share: it is captured and may change after a
    /// closure took it (assigned, changed in place by a method, or a hoisted function whose
    /// value comes after the closures that see it). A captured binding that never changes is
    /// copied into each closure instead: nothing can tell the two apart, and its reads are
    /// plain register reads.
    pub fn boxed(&self) -> bool {
        self.captured && (self.assigned || self.receiver || self.hoisted)
    }
}

#[derive(Clone, Debug, Default)]
pub struct FnInfo {
    pub captures: Vec<CaptureSrc>,
}

#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub uses: Vec<Option<UseRes>>,
    /// The binding behind each use of a local or captured variable.
    pub use_binding: Vec<Option<BindId>>,
    pub bindings: Vec<BindInfo>,
    pub fns: Vec<FnInfo>,
}

impl Resolution {
    pub fn use_of(&self, v: &VarRef) -> UseRes {
        self.uses
            .get(v.id as usize)
            .copied()
            .flatten()
            .unwrap_or(UseRes::Global(u32::MAX))
    }

    pub fn binding(&self, id: BindId) -> &BindInfo {
        static DEFAULT: BindInfo = BindInfo {
            captured: false,
            assigned: false,
            global: None,
            alias_of: None,
            hoisted: false,
            receiver: false,
        };
        self.bindings.get(id as usize).unwrap_or(&DEFAULT)
    }

    /// The binding a use refers to, following or-pattern aliases.
    pub fn canonical(&self, id: BindId) -> BindId {
        self.binding(id).alias_of.unwrap_or(id)
    }
}

/// The session's global names: name to slot, stable for the life of the session.
#[derive(Clone, Debug, Default)]
pub struct Globals {
    pub slots: HashMap<Rc<str>, u32>,
    pub names: Vec<Rc<str>>,
    /// How many times names were forgotten ([`Globals::truncate`]): an index of the names
    /// kept elsewhere is rebuilt when this changes.
    pub truncations: u64,
}

impl Globals {
    pub fn slot(&mut self, name: &Rc<str>) -> u32 {
        if let Some(&s) = self.slots.get(name) {
            return s;
        }
        let s = self.names.len() as u32;
        self.slots.insert(name.clone(), s);
        self.names.push(name.clone());
        s
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.slots.get(name).copied()
    }

    /// Forgets slots made at or after `len` (a failed cell's new names).
    pub fn truncate(&mut self, len: usize) {
        if len < self.names.len() {
            self.truncations += 1;
        }
        for name in self.names.drain(len..) {
            self.slots.remove(&name);
        }
    }
}

struct FnScope {
    /// Block scopes, innermost last: (name, binding).
    blocks: Vec<Vec<(Name, BindId)>>,
    captures: Vec<CaptureSrc>,
    /// The function's own name binding, for `SelfFn`.
    self_name: Option<(Name, BindId)>,
    id: Option<FnId>,
}

pub struct Resolver<'g> {
    res: Resolution,
    globals: &'g mut Globals,
    fns: Vec<FnScope>,
}

/// Resolves a parsed cell. Top-level bindings get global slots in `globals`.
pub fn resolve(program: &Program, globals: &mut Globals) -> Result<Resolution, Diagnostic> {
    let _stack = ruchy_syntax::stack::enter();
    let mut r = Resolver {
        res: Resolution {
            uses: vec![None; program.n_uses as usize],
            use_binding: vec![None; program.n_uses as usize],
            bindings: vec![BindInfo::default(); program.n_bindings as usize],
            fns: vec![FnInfo::default(); program.n_fns as usize],
        },
        globals,
        fns: vec![FnScope {
            blocks: Vec::new(),
            captures: Vec::new(),
            self_name: None,
            id: None,
        }],
    };
    r.hoist(&program.exprs, true);
    for e in &program.exprs {
        r.expr(e, true)?;
    }
    Ok(r.res)
}

impl Resolver<'_> {
    fn at_top_level(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].blocks.is_empty()
    }

    fn declare(&mut self, b: &Binding) {
        if self.at_top_level() {
            let slot = self.globals.slot(&b.name);
            if let Some(info) = self.res.bindings.get_mut(b.id as usize) {
                info.global = Some(slot);
            }
            return;
        }
        let f = self.fns.last_mut().expect("a function scope");
        if let Some(block) = f.blocks.last_mut() {
            block.push((b.name.clone(), b.id));
        }
    }

    fn declare_pattern(&mut self, p: &Pattern) {
        let mut bs = Vec::new();
        p.bindings(&mut bs);
        for b in bs {
            self.declare(b);
        }
        self.alias_or_patterns(p);
    }

    /// In `A(x) | B(x)`, the `x` of `B` is the `x` of `A`.
    fn alias_or_patterns(&mut self, p: &Pattern) {
        match &p.kind {
            PatKind::Or(alts) => {
                let mut first = Vec::new();
                if let Some(a) = alts.first() {
                    a.bindings(&mut first);
                }
                for alt in alts.iter().skip(1) {
                    let mut other = Vec::new();
                    alt.bindings(&mut other);
                    for b in other {
                        if let Some(f) = first.iter().find(|f| f.name == b.name) {
                            if let Some(info) = self.res.bindings.get_mut(b.id as usize) {
                                info.alias_of = Some(f.id);
                            }
                        }
                    }
                }
                for alt in alts {
                    self.alias_or_patterns(alt);
                }
            }
            PatKind::At(_, p) => self.alias_or_patterns(p),
            PatKind::Tuple(ps) => ps.iter().for_each(|p| self.alias_or_patterns(p)),
            PatKind::List { before, after, .. } => before
                .iter()
                .chain(after)
                .for_each(|p| self.alias_or_patterns(p)),
            PatKind::Variant { args: Some(ps), .. } => {
                ps.iter().for_each(|p| self.alias_or_patterns(p))
            }
            PatKind::Struct { fields, .. } => {
                fields.iter().for_each(|(_, p)| self.alias_or_patterns(p))
            }
            _ => {}
        }
    }

    /// Named functions and type definitions of a block are visible in the whole block.
    fn hoist(&mut self, exprs: &[Expr], top: bool) {
        for e in exprs {
            if let ExprKind::Fn(def) = &e.kind {
                if let Some(b) = &def.name {
                    if !top {
                        if let Some(info) = self.res.bindings.get_mut(b.id as usize) {
                            info.hoisted = true;
                        }
                    }
                    self.declare(b);
                }
            }
        }
    }

    fn lookup(&mut self, name: &Name) -> (UseRes, Option<BindId>) {
        let depth = self.fns.len();
        // innermost function first
        for fi in (0..depth).rev() {
            if let Some(bid) = find_in(&self.fns[fi], name) {
                if fi == depth - 1 {
                    return (UseRes::Local(bid), Some(bid));
                }
                // a nested named function calling itself
                if fi == depth - 2 {
                    if let Some((n, sb)) = &self.fns[depth - 1].self_name {
                        if n == name && *sb == bid {
                            return (UseRes::SelfFn, None);
                        }
                    }
                }
                return (self.capture(fi, bid), Some(bid));
            }
        }
        (UseRes::Global(self.globals.slot(name)), None)
    }

    /// Threads a capture of binding `bid` (a local of function `owner`) through every
    /// function between it and the current one.
    fn capture(&mut self, owner: usize, bid: BindId) -> UseRes {
        let canonical = self.res.canonical(bid);
        if let Some(info) = self.res.bindings.get_mut(canonical as usize) {
            info.captured = true;
        }
        let mut src = CaptureSrc::Local(bid);
        let mut idx = 0u16;
        for fi in owner + 1..self.fns.len() {
            let caps = &mut self.fns[fi].captures;
            idx = match caps.iter().position(|c| *c == src) {
                Some(i) => i as u16,
                None => {
                    caps.push(src);
                    (caps.len() - 1) as u16
                }
            };
            src = CaptureSrc::Upval(idx);
        }
        UseRes::Upval(idx)
    }

    fn use_name(&mut self, v: &VarRef) {
        let (r, b) = self.lookup(&v.name);
        if let Some(slot) = self.res.uses.get_mut(v.id as usize) {
            *slot = Some(r);
        }
        if let Some(slot) = self.res.use_binding.get_mut(v.id as usize) {
            *slot = b;
        }
    }

    fn push_block(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.blocks.push(Vec::new());
        }
    }

    fn pop_block(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.blocks.pop();
        }
    }

    fn block(&mut self, exprs: &[Expr]) -> Result<(), Diagnostic> {
        self.push_block();
        self.hoist(exprs, false);
        for e in exprs {
            self.expr(e, true)?;
        }
        self.pop_block();
        Ok(())
    }

    /// Resolves a block body in its own scope, or any other expression as it is.
    fn scoped(&mut self, e: &Expr) -> Result<(), Diagnostic> {
        match &e.kind {
            ExprKind::Block(b) => self.block(&b.exprs),
            _ => {
                self.push_block();
                let r = self.expr(e, true);
                self.pop_block();
                r
            }
        }
    }

    fn function(&mut self, def: &FnDef) -> Result<(), Diagnostic> {
        for p in &def.params {
            if let Some(d) = &p.default {
                self.expr(d, false)?;
            }
        }
        self.fns.push(FnScope {
            blocks: vec![Vec::new()],
            captures: Vec::new(),
            self_name: def.name.as_ref().map(|b| (b.name.clone(), b.id)),
            id: Some(def.id),
        });
        if let Some(sb) = &def.self_binding {
            self.declare(sb);
        }
        for p in &def.params {
            self.declare_pattern(&p.pat);
        }
        let result = self.scoped(&def.body);
        let scope = self.fns.pop();
        result?;
        if let Some(scope) = scope {
            if let Some(id) = scope.id {
                if let Some(info) = self.res.fns.get_mut(id as usize) {
                    info.captures = scope.captures;
                }
            }
        }
        Ok(())
    }

    fn mark_assigned(&mut self, target: &Expr) {
        self.mark_root(target, |info| info.assigned = true)
    }

    /// Marks the variable at the root of a place (`x`, `x[i]`, `x.f`).
    fn mark_root(&mut self, target: &Expr, mark: fn(&mut BindInfo)) {
        let mut t = target;
        loop {
            match &t.kind {
                ExprKind::Var(v) => {
                    // a local, or a capture assigned inside a closure
                    if let Some(Some(b)) = self.res.use_binding.get(v.id as usize) {
                        let b = self.res.canonical(*b);
                        if let Some(info) = self.res.bindings.get_mut(b as usize) {
                            mark(info);
                        }
                    }
                    return;
                }
                ExprKind::Index(o, _) | ExprKind::TupleField(o, _) => t = o,
                ExprKind::Field { object, .. } => t = object,
                _ => return,
            }
        }
    }

    /// `stmt` is true for an element of a block (where `let` binds for the rest of the block).
    fn expr(&mut self, e: &Expr, stmt: bool) -> Result<(), Diagnostic> {
        if !ruchy_syntax::stack::ok() {
            return Err(ruchy_syntax::stack::too_deep(e.span));
        }
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Path(_) => Ok(()),
            ExprKind::FStr(parts) => {
                for p in parts {
                    if let FStrPart::Hole { expr, .. } = p {
                        self.expr(expr, false)?;
                    }
                }
                Ok(())
            }
            ExprKind::Var(v) => {
                self.use_name(v);
                Ok(())
            }
            ExprKind::Let(l) => {
                let LetExpr {
                    pat,
                    value,
                    body,
                    else_block,
                    ..
                } = &**l;
                self.expr(value, false)?;
                if let Some(eb) = else_block {
                    self.scoped(eb)?;
                }
                if let Some(body) = body {
                    self.push_block();
                    self.declare_pattern(pat);
                    let r = self.expr(body, false);
                    self.pop_block();
                    return r;
                }
                if stmt {
                    self.declare_pattern(pat);
                    Ok(())
                } else {
                    // a `let` inside an expression binds only for itself
                    self.push_block();
                    self.declare_pattern(pat);
                    self.pop_block();
                    Ok(())
                }
            }
            ExprKind::Assign { target, value, .. } => {
                self.expr(value, false)?;
                self.expr(target, false)?;
                self.mark_assigned(target);
                Ok(())
            }
            ExprKind::Unary(_, a)
            | ExprKind::Throw(a)
            | ExprKind::Question(a)
            | ExprKind::Cast(a, _)
            | ExprKind::TupleField(a, _) => self.expr(a, false),
            ExprKind::Field { object, .. } => self.expr(object, false),
            ExprKind::Binary(_, a, b)
            | ExprKind::Logic(_, a, b)
            | ExprKind::Pipe(a, b)
            | ExprKind::Index(a, b)
            | ExprKind::ArrayRepeat(a, b) => {
                self.expr(a, false)?;
                self.expr(b, false)
            }
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond, false)?;
                self.scoped(then)?;
                if let Some(e) = else_ {
                    self.scoped(e)?;
                }
                Ok(())
            }
            ExprKind::Ternary(c, a, b) => {
                self.expr(c, false)?;
                self.expr(a, false)?;
                self.expr(b, false)
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee, false)?;
                for arm in arms {
                    self.push_block();
                    self.pattern_exprs(&arm.pat)?;
                    self.declare_pattern(&arm.pat);
                    if let Some(g) = &arm.guard {
                        self.expr(g, false)?;
                    }
                    let r = self.scoped(&arm.body);
                    self.pop_block();
                    r?;
                }
                Ok(())
            }
            ExprKind::While { cond, body, .. } => {
                self.expr(cond, false)?;
                self.scoped(body)
            }
            ExprKind::Loop { body, .. } => self.scoped(body),
            ExprKind::For(f) => {
                let ForExpr {
                    pat, iter, body, ..
                } = &**f;
                self.expr(iter, false)?;
                self.push_block();
                self.declare_pattern(pat);
                let r = self.scoped(body);
                self.pop_block();
                r
            }
            ExprKind::Comprehension(c) => {
                let Comprehension {
                    expr,
                    pat,
                    iter,
                    cond,
                } = &**c;
                self.expr(iter, false)?;
                self.push_block();
                self.declare_pattern(pat);
                let mut r = Ok(());
                if let Some(c) = cond {
                    r = self.expr(c, false);
                }
                if r.is_ok() {
                    r = self.expr(expr, false);
                }
                self.pop_block();
                r
            }
            ExprKind::Break { value, .. } | ExprKind::Return(value) => {
                if let Some(v) = value {
                    self.expr(v, false)?;
                }
                Ok(())
            }
            ExprKind::Continue { .. } => Ok(()),
            ExprKind::Block(b) => self.block(&b.exprs),
            ExprKind::Call { callee, args } => {
                self.expr(callee, false)?;
                for a in args {
                    self.expr(a, false)?;
                }
                Ok(())
            }
            ExprKind::MethodCall { receiver, args, .. } => {
                self.expr(receiver, false)?;
                self.mark_root(receiver, |info| info.receiver = true);
                for a in args {
                    self.expr(a, false)?;
                }
                Ok(())
            }
            ExprKind::Array(items) | ExprKind::Tuple(items) => {
                for i in items {
                    self.expr(i, false)?;
                }
                Ok(())
            }
            ExprKind::Object(entries) => {
                for (_, v) in entries {
                    self.expr(v, false)?;
                }
                Ok(())
            }
            ExprKind::StructLit { fields, base, .. } => {
                for (_, v) in fields {
                    self.expr(v, false)?;
                }
                if let Some(b) = base {
                    self.expr(b, false)?;
                }
                Ok(())
            }
            ExprKind::Range { start, end, .. } => {
                if let Some(s) = start {
                    self.expr(s, false)?;
                }
                if let Some(e) = end {
                    self.expr(e, false)?;
                }
                Ok(())
            }
            ExprKind::Fn(def) => {
                // a named function not hoisted (inside an expression) binds here
                if let Some(b) = &def.name {
                    if !stmt {
                        self.declare(b);
                    }
                }
                self.function(def)
            }
            ExprKind::Struct(def) => {
                for d in def.defaults.iter().flatten() {
                    self.expr(d, false)?;
                }
                Ok(())
            }
            ExprKind::Enum(_) => Ok(()),
            ExprKind::Impl(imp) => {
                for m in &imp.methods {
                    self.function(m)?;
                }
                Ok(())
            }
            ExprKind::Try(t) => {
                let TryExpr {
                    body,
                    catch,
                    finally,
                } = &**t;
                self.scoped(body)?;
                if let Some((pat, handler)) = catch {
                    self.push_block();
                    self.declare_pattern(pat);
                    let r = self.scoped(handler);
                    self.pop_block();
                    r?;
                }
                if let Some(f) = finally {
                    self.scoped(f)?;
                }
                Ok(())
            }
        }
    }

    /// Literal expressions inside patterns need no names, but keep the walk uniform.
    fn pattern_exprs(&mut self, _p: &Pattern) -> Result<(), Diagnostic> {
        Ok(())
    }
}

fn find_in(f: &FnScope, name: &Name) -> Option<BindId> {
    for block in f.blocks.iter().rev() {
        if let Some((_, id)) = block.iter().rev().find(|(n, _)| n == name) {
            return Some(*id);
        }
    }
    None
}

/// The span of a use, for diagnostics that need one.
pub fn span_of(e: &Expr) -> Span {
    e.span
}
