//! Calls in the dispatch loop's slow section ([`Vm::dispatch`]): a function value, a
//! top-level function by its slot, a method of a temporary, and a method of a place (a
//! variable or a field) with its quick cases (`xs.push(x)` straight onto the array; `len`,
//! `is_empty` and `contains_key` answered where the value is). The fast section
//! (`dispatch.rs`, `fast`) takes the common calls of a function before they get here, and
//! `xs.push(x)` onto a variable's array is written in the loop itself (a call away, LLVM no
//! longer inlines `Rc::make_mut` there: 23 more instructions a push, measured with cachegrind).
//!
//! Each returns [`Called`]: the call is over and its value is in `R[base]`, or it pushed a
//! frame that the loop switches to. On an error the loop records the instruction's position.

use super::*;

/// What a call did.
pub(super) enum Called {
    /// Done: the value is in the call's base register; the next instruction follows.
    Next,
    /// A frame was pushed for a Ruchy function: the loop switches to it.
    Entered,
}

impl Vm {
    /// `Op::Call`: `R[abs]` called with the `argc` registers after it.
    #[inline(always)]
    pub(super) fn op_call(&mut self, abs: usize, argc: u8, pc: usize) -> VResult<Called> {
        // a Ruchy function stays in its register during the call; a built-in is taken out
        let f = match &self.regs[abs] {
            Value::Func(c) => Value::Func(c.clone()),
            _ => std::mem::take(&mut self.regs[abs]),
        };
        self.enter_or_call(f, abs, argc, pc)
    }

    /// `Op::CallGlobal`: the top-level function in `slot`; an unset one is `Undefined
    /// function`, pointing at the callee's name in the current cell.
    #[inline(always)]
    pub(super) fn op_call_global(
        &mut self,
        proto: &Proto,
        abs: usize,
        argc: u8,
        slot: u32,
        pc: usize,
    ) -> VResult<Called> {
        match self.globals.get(slot as usize) {
            Some(Value::Undef) | None => {
                let name = self.global_name(slot);
                let mut e = VmError::runtime(format!("Undefined function: {name}"));
                // the call starts with the callee's name: point at the name
                if proto.cell == self.cell {
                    if let Some(sp) = proto.spans.get(pc - 1) {
                        e.span = Some(Span::new(sp.start, sp.start + name.len() as u32));
                    }
                }
                Err(e)
            }
            Some(f) => {
                let f = f.clone();
                self.enter_or_call(f, abs, argc, pc)
            }
        }
    }

    /// Calls `f` with the `argc` registers after `abs`: a Ruchy function gets a frame (its
    /// value will be put in `R[abs]` when it returns), anything else is called now and its
    /// value put in `R[abs]`.
    #[inline(always)]
    fn enter_or_call(&mut self, f: Value, abs: usize, argc: u8, pc: usize) -> VResult<Called> {
        match f {
            Value::Func(c) => {
                self.tick()?;
                self.set_pc(pc);
                self.push_frame(c, abs + 1, argc as usize, None)?;
                Ok(Called::Entered)
            }
            f => {
                let mut args = self.take_args(abs + 1, argc as usize);
                self.set_pc(pc);
                self.regs[abs] = self.call_native_args(&f, &mut args)?;
                Ok(Called::Next)
            }
        }
    }

    /// `Op::CallMethod`: method `name` (built-in `id`) of the temporary in `R[abs + 1]`; a
    /// method of the receiver's own type comes first.
    #[inline(always)]
    pub(super) fn op_call_method(
        &mut self,
        proto: &Proto,
        abs: usize,
        argc: u8,
        id: MethodId,
        name: u32,
        pc: usize,
    ) -> VResult<Called> {
        let recv = std::mem::take(&mut self.regs[abs + 1]);
        self.set_pc(pc);
        let mname: &str = proto.names.get(name as usize).map_or("", |n| n);
        if let Some(m) = self.user_method(&recv, mname) {
            self.regs[abs + 1] = recv;
            self.tick()?;
            self.push_frame(m.func, abs + 1, argc as usize + 1, None)?;
            return Ok(Called::Entered);
        }
        let mut recv = recv;
        self.regs[abs] = self.call_method_in(&mut recv, id, mname, abs + 2, argc)?;
        Ok(Called::Next)
    }

    /// `Op::CallMethodPlace`: as [`Vm::op_call_method`] with the receiver at the place of
    /// `descs[place]`, which a mutating method (built-in, or `&mut self`) changes in place
    /// (after the loop's own `xs.push(x)` found no array to push onto).
    #[inline(always)]
    pub(super) fn op_call_method_place(
        &mut self,
        proto: &Proto,
        at: (usize, usize),
        argc: u8,
        id: MethodId,
        place: u32,
        pc: usize,
    ) -> VResult<Called> {
        let (base, abs) = at;
        self.set_pc(pc);
        let Some(Desc::MethodPlace { place: pl, name }) = proto.descs.get(place as usize) else {
            return Err(VmError::runtime("internal error: bad place"));
        };
        // `xs.len()`, `s.is_empty()`, `m.contains_key(k)` on a variable: answered where the
        // value is (no copy of it, no argument list; the built-in method is the one these
        // receivers have)
        if pl.steps.is_empty()
            && matches!(
                id,
                MethodId::Len | MethodId::IsEmpty | MethodId::ContainsKey
            )
        {
            if let Some(v) = self.quick_query(pl.root, base, id, abs, argc) {
                self.regs[abs] = v;
                return Ok(Called::Next);
            }
        }
        let mname: &str = proto.names.get(*name as usize).map_or("", |n| n);
        let recv = self.read_place(pl, base)?;
        if let Some(m) = self.user_method(&recv, mname) {
            let wb = if m.self_kind == SelfKind::Mut {
                drop(recv);
                self.regs[abs + 1] = self.take_place(pl, base)?;
                Some(place)
            } else {
                self.regs[abs + 1] = recv;
                None
            };
            self.tick()?;
            if let Err(e) = self.push_frame(m.func, abs + 1, argc as usize + 1, wb) {
                if wb.is_some() {
                    let v = std::mem::take(&mut self.regs[abs + 1]);
                    self.put_place(pl, base, v)?;
                }
                return Err(e);
            }
            return Ok(Called::Entered);
        }
        let v = if id.mutates() {
            drop(recv);
            let mut v = self.take_place(pl, base)?;
            let res = self.call_method_in(&mut v, id, mname, abs + 2, argc);
            self.put_place(pl, base, v)?;
            res?
        } else {
            let mut recv = recv;
            self.call_method_in(&mut recv, id, mname, abs + 2, argc)?
        };
        self.regs[abs] = v;
        Ok(Called::Next)
    }

    /// `len`, `is_empty` and `contains_key` of the variable at `root`, when its value is one
    /// these built-ins answer without a call; `None` otherwise.
    #[inline(always)]
    fn quick_query(
        &self,
        root: Root,
        base: usize,
        id: MethodId,
        abs: usize,
        argc: u8,
    ) -> Option<Value> {
        let recv = match root {
            Root::Local(r) => self.regs.get(base + r as usize),
            Root::Global(s) => self.globals.get(s as usize),
            _ => None,
        };
        match (id, recv, argc) {
            (MethodId::Len, Some(Value::Str(s)), 0) => Some(Value::Int(s.len() as i64)),
            (MethodId::Len, Some(Value::Array(a)), 0) => Some(Value::Int(a.len() as i64)),
            (MethodId::Len, Some(Value::Object(m)), 0) => Some(Value::Int(m.len() as i64)),
            (MethodId::IsEmpty, Some(Value::Str(s)), 0) => Some(Value::Bool(s.is_empty())),
            (MethodId::IsEmpty, Some(Value::Array(a)), 0) => Some(Value::Bool(a.is_empty())),
            (MethodId::ContainsKey, Some(Value::Object(m)), 1) => match self.regs.get(abs + 2) {
                Some(Value::Str(k)) => Some(Value::Bool(m.contains_key(k))),
                _ => None,
            },
            _ => None,
        }
    }

    /// Records the caller's position in its frame (where a call returns to, and where an
    /// error of the call's own points).
    #[inline(always)]
    fn set_pc(&mut self, pc: usize) {
        if let Some(f) = self.frames.last_mut() {
            f.pc = pc;
        }
    }
}
