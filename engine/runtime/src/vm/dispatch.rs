//! The dispatch loop: the fast section (`fast`: the common cases of the common instructions, on the frame's registers) and the slow section (`dispatch`: every instruction, errors, calls, `try`).

use super::calls::Called;
use super::*;

impl Vm {
    /// The dispatch loop's fast section: the common cases of the common instructions, on the
    /// frame's register window and code. Anything else returns with its instruction for the
    /// slow section in [`Vm::dispatch`]. A function of its own so that its few hot values
    /// stay in machine registers: inside the whole dispatch loop, WebAssembly compilers
    /// spilled them (the memory base, the program counter) to the stack on every instruction.
    #[inline(never)]
    pub(super) fn fast(&mut self, at: Pos, entry: usize) -> Exit {
        let Pos {
            mut proto,
            mut code,
            mut pc,
            mut base,
        } = at;
        macro_rules! jump {
            ($off:expr) => {
                pc = pc.wrapping_add_signed($off as isize)
            };
        }
        let op = {
            let all: &mut [Value] = &mut self.regs;
            macro_rules! w {
                ($r:expr) => {
                    all[base + $r as usize]
                };
            }
            // a call that needs nothing special starts its frame right here
            macro_rules! fast_call {
                ($c:expr, $callee_base:expr, $argc:expr, $op:expr) => {{
                    let p = &$c.proto;
                    let nb = $callee_base;
                    if $argc as u16 != p.arity
                        || p.min_arity != p.arity
                        || nb + p.nregs as usize > all.len()
                        || self.frames.len() > self.limits.max_depth
                        || self.steps_left == 0
                    {
                        break $op;
                    }
                    self.steps_left -= 1;
                    let c = $c.clone();
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = pc;
                    }
                    proto = c.proto.clone();
                    code = proto.code.clone();
                    self.frames.push(Frame::call(c, nb, None));
                    base = nb;
                    pc = 0;
                }};
            }
            // `R[dst] = R[a] op R[b]` on two integers (`None`: overflow or division by
            // zero, left to the slow section's error) or two floats
            macro_rules! arith {
                ($op:ident, $dst:expr, $a:expr, $b:expr, $int:expr, $float:expr) => {
                    match (&w!($a), &w!($b)) {
                        (Value::Int(x), Value::Int(y)) => match $int(*x, *y) {
                            Some(n) => put(&mut w!($dst), Value::Int(n)),
                            None => break $op,
                        },
                        (Value::Float(x), Value::Float(y)) => match $float(*x, *y) {
                            Some(f) => put(&mut w!($dst), Value::Float(f)),
                            None => break $op,
                        },
                        _ => break $op,
                    }
                };
            }
            // `R[dst] = R[a] cmp R[b]` on two integers or two floats (NaN: false)
            macro_rules! compare {
            ($op:ident, $dst:expr, $a:expr, $b:expr, $cmp:tt) => {
                match (&w!($a), &w!($b)) {
                    (Value::Int(x), Value::Int(y)) => {
                        let v = x $cmp y;
                        put(&mut w!($dst), Value::Bool(v))
                    }
                    (Value::Float(x), Value::Float(y)) => {
                        let v = x $cmp y;
                        put(&mut w!($dst), Value::Bool(v))
                    }
                    _ => break $op,
                }
            };
        }
            // `if !(R[a] cmp R[b]) { pc += off }` on two integers or two floats
            macro_rules! jump_unless {
            ($op:ident, $a:expr, $b:expr, $off:expr, $cmp:tt) => {
                match (&w!($a), &w!($b)) {
                    (Value::Int(x), Value::Int(y)) => {
                        if !(x $cmp y) {
                            jump!($off)
                        }
                    }
                    (Value::Float(x), Value::Float(y)) => {
                        if !(x $cmp y) {
                            jump!($off)
                        }
                    }
                    _ => break $op,
                }
            };
        }
            loop {
                let Some(&op) = code.get(pc) else {
                    return Exit::Failed(VmError::runtime(
                        "internal error: ran past the end of the code",
                    ));
                };
                pc += 1;
                match op {
                    Op::Move { dst, src } => {
                        let v = w!(src).dup();
                        put(&mut w!(dst), v);
                    }
                    Op::LoadNil { dst } => put(&mut w!(dst), Value::Nil),
                    Op::LoadBool { dst, value } => put(&mut w!(dst), Value::Bool(value)),
                    Op::LoadInt { dst, value } => put(&mut w!(dst), Value::Int(value as i64)),
                    Op::LoadConst { dst, idx } => {
                        let v = proto.consts.get(idx as usize).cloned().unwrap_or_default();
                        put(&mut w!(dst), v);
                    }
                    Op::LoadUndef { dst } => put(&mut w!(dst), Value::Undef),
                    Op::GetGlobal { dst, slot } => match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => break op,
                        Some(v) => {
                            let v = v.dup();
                            put(&mut w!(dst), v);
                        }
                    },
                    // a global already logged for rollback in this cell: update in place
                    // a struct's field (`p.x`)
                    Op::GetField { dst, obj, name } => {
                        let v = match &w!(obj) {
                            Value::Struct(st) => {
                                let Some(i) = field_slot(&proto, &self.types, st.ty, name) else {
                                    break op;
                                };
                                match st.fields.get(i) {
                                    Some(v) => v.dup(),
                                    None => break op,
                                }
                            }
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    // a captured local (a box in this frame)
                    Op::GetBox { dst, boxed } => {
                        let v = match &w!(boxed) {
                            Value::Cell(c) => match &*c.value.borrow() {
                                Value::Undef => break op,
                                v => v.dup(),
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    // the next element of an array (`for`, comprehensions, lambdas in place)
                    Op::IterNext { src, dst, off } => {
                        let Value::Int(p) = w!(src + 1) else { break op };
                        let next = match &w!(src) {
                            Value::Array(a) => a.get(p as usize).map(Value::dup),
                            _ => break op,
                        };
                        match next {
                            Some(v) => {
                                if self.steps_left == 0 {
                                    break op;
                                }
                                self.steps_left -= 1;
                                put(&mut w!(dst), v);
                                w!(src + 1) = Value::Int(p + 1);
                            }
                            None => jump!(off),
                        }
                    }
                    // onto an array with room that nothing else holds
                    Op::ArrayPush { arr, src } => {
                        match &mut w!(arr) {
                            Value::Array(a) => match Rc::get_mut(a) {
                                Some(l) if l.len() < l.capacity() => {}
                                _ => break op,
                            },
                            _ => break op,
                        }
                        let v = std::mem::take(&mut w!(src));
                        if let Value::Array(a) = &mut w!(arr) {
                            if let Some(l) = Rc::get_mut(a) {
                                l.push(v);
                            }
                        }
                    }
                    // a captured variable of the running closure (a callback's bound)
                    Op::GetUpval { dst, idx } => {
                        let v = match self
                            .frames
                            .last()
                            .map(|f| f.closure.upvals.get(idx as usize))
                        {
                            Some(Some(u)) => match &*u.value.borrow() {
                                Value::Undef => break op,
                                v => v.dup(),
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v);
                    }
                    Op::UpdateGlobal { slot, op: bop, src } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        match (self.globals.get_mut(s), all.get(base + src as usize)) {
                            (Some(Value::Int(g)), Some(Value::Int(y))) => {
                                let r = match bop {
                                    0 => g.checked_add(*y),
                                    1 => g.checked_sub(*y),
                                    2 => g.checked_mul(*y),
                                    _ => None,
                                };
                                match r {
                                    Some(n) => *g = n,
                                    None => break op,
                                }
                            }
                            (Some(Value::Float(g)), Some(Value::Float(y))) => match bop {
                                0 => *g += *y,
                                1 => *g -= *y,
                                2 => *g *= *y,
                                _ => break op,
                            },
                            // `s += "x"`: appended in place (an error is left to the slow
                            // section, which finds it again before changing anything)
                            (Some(g @ Value::Str(_)), Some(y @ Value::Str(_))) if bop == 0 => {
                                if arith::add_assign(g, y).is_err() {
                                    break op;
                                }
                            }
                            _ => break op,
                        }
                    }
                    Op::SetGlobal { slot, src } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        let v = w!(src).dup();
                        match self.globals.get_mut(s) {
                            Some(g) => put(g, v),
                            None => break op,
                        }
                    }
                    Op::Add { dst, a, b, .. } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_add(y), |x: f64, y| {
                            Some(x + y)
                        })
                    }
                    Op::AddImm { dst, a, imm, sub } => match &w!(a) {
                        Value::Int(x) => {
                            let r = if sub {
                                x.checked_sub(imm as i64)
                            } else {
                                x.checked_add(imm as i64)
                            };
                            match r {
                                Some(s) => put(&mut w!(dst), Value::Int(s)),
                                None => break op,
                            }
                        }
                        _ => break op,
                    },
                    Op::ArithK { dst, a, op: bop, k } => {
                        let y = proto.consts.get(k as usize);
                        match y.and_then(|y| number_op(bop, &w!(a), y)) {
                            Some(v) => put(&mut w!(dst), v),
                            None => {
                                // `s += "x"`: appended in place (an error is the slow
                                // section's to report: `add_assign` changes nothing then)
                                if let (ADD, true, Some(y @ Value::Str(_))) = (bop, dst == a, y) {
                                    if matches!(w!(a), Value::Str(_))
                                        && arith::add_assign(&mut w!(a), y).is_ok()
                                    {
                                        continue;
                                    }
                                }
                                break op;
                            }
                        }
                    }
                    Op::UpdateGlobalK { slot, op: bop, k } => {
                        let s = slot as usize;
                        if self.touched.get(s) != Some(&self.cell) {
                            break op;
                        }
                        let (Some(g), Some(y)) =
                            (self.globals.get_mut(s), proto.consts.get(k as usize))
                        else {
                            break op;
                        };
                        match number_op(bop, g, y) {
                            Some(v) => *g = v,
                            None => break op,
                        }
                    }
                    Op::Sub { dst, a, b } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_sub(y), |x: f64, y| {
                            Some(x - y)
                        })
                    }
                    Op::Mul { dst, a, b } => {
                        arith!(op, dst, a, b, |x: i64, y| x.checked_mul(y), |x: f64, y| {
                            Some(x * y)
                        })
                    }
                    Op::Div { dst, a, b } => arith!(
                        op,
                        dst,
                        a,
                        b,
                        |x: i64, y| if y == 0 { None } else { x.checked_div(y) },
                        |x: f64, y| Some(x / y)
                    ),
                    Op::Rem { dst, a, b } => arith!(
                        op,
                        dst,
                        a,
                        b,
                        |x: i64, y| if y == 0 { None } else { x.checked_rem(y) },
                        |x: f64, y| if y == 0.0 { None } else { Some(x % y) }
                    ),
                    Op::Lt { dst, a, b } => compare!(op, dst, a, b, <),
                    Op::Le { dst, a, b } => compare!(op, dst, a, b, <=),
                    Op::Gt { dst, a, b } => compare!(op, dst, a, b, >),
                    Op::Ge { dst, a, b } => compare!(op, dst, a, b, >=),
                    Op::Eq { dst, a, b } => {
                        let v = w!(a).equals(&w!(b));
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Ne { dst, a, b } => {
                        let v = !w!(a).equals(&w!(b));
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Not { dst, src } => {
                        let v = !w!(src).truthy();
                        put(&mut w!(dst), Value::Bool(v))
                    }
                    Op::Jump { off } => jump!(off),
                    Op::Loop { off } => {
                        if self.steps_left == 0 {
                            break op;
                        }
                        self.steps_left -= 1;
                        jump!(off)
                    }
                    Op::JumpIfFalse { cond, off } => {
                        if !w!(cond).truthy() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfTrue { cond, off } => {
                        if w!(cond).truthy() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfNotNil { src, off } => {
                        if !w!(src).is_nil() {
                            jump!(off)
                        }
                    }
                    Op::JumpIfNotLt { a, b, off } => jump_unless!(op, a, b, off, <),
                    Op::JumpIfNotLe { a, b, off } => jump_unless!(op, a, b, off, <=),
                    Op::JumpIfNotGt { a, b, off } => jump_unless!(op, a, b, off, >),
                    Op::JumpIfNotGe { a, b, off } => jump_unless!(op, a, b, off, >=),
                    Op::JumpIfNotCmpImm { a, imm, cmp, off } => match &w!(a) {
                        Value::Int(x) => {
                            let y = imm as i64;
                            // bit 0: less, bit 1: equal, bit 2: greater
                            let at = (*x >= y) as u8 + (*x > y) as u8;
                            let holds = (cmp >> at) & 1 != 0;
                            if !holds {
                                jump!(off)
                            }
                        }
                        _ => break op,
                    },
                    Op::JumpIfNotEq { a, b, off } => match (&w!(a), &w!(b)) {
                        (Value::Int(x), Value::Int(y)) => {
                            if x != y {
                                jump!(off)
                            }
                        }
                        (x, y) => {
                            if !x.equals(y) {
                                jump!(off)
                            }
                        }
                    },
                    Op::ForNext {
                        base: b,
                        inclusive,
                        off,
                    } => match (&w!(b), &w!(b + 1)) {
                        (Value::Int(i), Value::Int(hi)) if self.steps_left > 0 => {
                            let (i, hi) = (*i, *hi);
                            let more = if inclusive { i < hi } else { i + 1 < hi };
                            if more {
                                self.steps_left -= 1;
                                put(&mut w!(b), Value::Int(i + 1));
                                jump!(off);
                            }
                        }
                        _ => break op,
                    },
                    Op::GetIndex { dst, obj, index } => match (&w!(obj), &w!(index)) {
                        (Value::Array(a), Value::Int(i))
                            if *i >= 0 && crate::value::count(*i) < a.len() =>
                        {
                            let v = a[*i as usize].dup();
                            put(&mut w!(dst), v)
                        }
                        (Value::Object(m), Value::Str(k)) => match m.get(k.as_str()) {
                            Some(v) => {
                                let v = v.dup();
                                put(&mut w!(dst), v)
                            }
                            None => break op,
                        },
                        _ => break op,
                    },
                    Op::GetIndexGlobal {
                        dst, index, slot, ..
                    } => {
                        // (the twin of `GetIndex`'s case, written out: a shared helper
                        // returning an Option made the matrix row 12% slower natively)
                        let v = match (self.globals.get(slot as usize), &w!(index)) {
                            (Some(Value::Array(a)), Value::Int(i))
                                if *i >= 0 && crate::value::count(*i) < a.len() =>
                            {
                                a[*i as usize].dup()
                            }
                            (Some(Value::Object(m)), Value::Str(k)) => match m.get(k.as_str()) {
                                Some(v) => v.dup(),
                                None => break op,
                            },
                            _ => break op,
                        };
                        put(&mut w!(dst), v)
                    }
                    // `xs[i] = v` and `o[k] = v` with an element already there
                    Op::StorePlace { place, src } => {
                        let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                            break op;
                        };
                        let at = (&mut *all, base, &mut self.globals[..]);
                        if !store_index(at, &self.touched, self.cell, pl, src) {
                            break op;
                        }
                    }
                    Op::CallGlobal {
                        base: cb,
                        argc,
                        slot,
                    } => match self.globals.get(slot as usize) {
                        Some(Value::Func(c)) => fast_call!(c, base + cb as usize + 1, argc, op),
                        _ => break op,
                    },
                    Op::Call { base: cb, argc } => match &all[base + cb as usize] {
                        Value::Func(c) => fast_call!(c, base + cb as usize + 1, argc, op),
                        _ => break op,
                    },
                    Op::Return { src } => {
                        let depth = self.frames.len();
                        if depth <= entry
                            || self.frames.last().is_none_or(|f| f.kind != Frame::CALL)
                        {
                            break op;
                        }
                        let v = std::mem::take(&mut w!(src));
                        let Some(done) = self.frames.pop() else {
                            break op;
                        };
                        let end = (done.base + done.proto().nregs as usize).min(all.len());
                        for r in &mut all[done.base..end] {
                            if r.owns_heap() {
                                crate::value::release(std::mem::take(r));
                            }
                        }
                        while self.handlers.last().is_some_and(|h| h.frame >= depth - 1) {
                            self.handlers.pop();
                        }
                        if depth == entry + 1 {
                            // the end of a callback from a built-in: back to it
                            return Exit::Done(v);
                        }
                        put(&mut all[done.base - 1], v);
                        let Some(caller) = self.frames.last() else {
                            return Exit::Failed(VmError::runtime("internal error: no caller"));
                        };
                        proto = caller.proto().clone();
                        code = proto.code.clone();
                        base = caller.base;
                        pc = caller.pc;
                    }
                    _ => break op,
                }
            }
        };
        Exit::Slow(
            Pos {
                proto,
                code,
                pc,
                base,
            },
            op,
        )
    }

    /// The dispatch loop.
    pub(super) fn dispatch(&mut self, entry: usize) -> VResult<Value> {
        let fi = self.frames.len() - 1;
        let mut proto = self.frames[fi].proto().clone();
        let mut code = proto.code.clone();
        let mut pc = self.frames[fi].pc;
        let mut base = self.frames[fi].base;

        macro_rules! r {
            ($r:expr) => {
                self.regs[base + $r as usize]
            };
        }
        // runs a fallible step; on error, records where it happened
        macro_rules! t {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(err) => {
                        if let Some(f) = self.frames.last_mut() {
                            f.pc = pc;
                        }
                        return Err(err);
                    }
                }
            };
        }
        // raises an error from the current instruction
        macro_rules! bail {
            ($e:expr) => {{
                if let Some(f) = self.frames.last_mut() {
                    f.pc = pc;
                }
                return Err($e);
            }};
        }
        macro_rules! jump {
            ($off:expr) => {
                pc = pc.wrapping_add_signed($off as isize)
            };
        }
        // switches the local copies to the (new) top frame
        macro_rules! enter_top {
            () => {{
                let f = self.frames.last().expect("a frame");
                proto = f.proto().clone();
                code = proto.code.clone();
                pc = f.pc;
                base = f.base;
            }};
        }

        loop {
            // ---- the fast section: the common cases of the common instructions, on the
            // frame's register window and code as local slices. Anything else leaves the
            // loop with its instruction for the slow section below. An instruction the fast
            // section never handles is taken here directly (a method call after a method
            // call costs no trip through it).
            let op = match code.get(pc) {
                Some(&op) if !fast_handles(&op) => {
                    pc += 1;
                    op
                }
                _ => match self.fast(
                    Pos {
                        proto,
                        code,
                        pc,
                        base,
                    },
                    entry,
                ) {
                    Exit::Slow(at, op) => {
                        Pos {
                            proto,
                            code,
                            pc,
                            base,
                        } = at;
                        op
                    }
                    Exit::Done(v) => return Ok(v),
                    Exit::Failed(e) => return Err(e),
                },
            };
            // ---- the slow section: everything else, with the whole VM at hand
            match op {
                // handled entirely by the fast section
                Op::Move { .. }
                | Op::LoadNil { .. }
                | Op::LoadBool { .. }
                | Op::LoadInt { .. }
                | Op::LoadConst { .. }
                | Op::LoadUndef { .. }
                | Op::Eq { .. }
                | Op::Ne { .. }
                | Op::Not { .. }
                | Op::Jump { .. }
                | Op::JumpIfFalse { .. }
                | Op::JumpIfTrue { .. }
                | Op::JumpIfNotNil { .. }
                | Op::JumpIfNotEq { .. } => {
                    bail!(VmError::runtime(
                        "internal error: fast instruction in the slow path"
                    ))
                }
                Op::GetGlobal { dst, slot } | Op::GetGlobalFn { dst, slot } => {
                    let v = match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => {
                            let name = self.global_name(slot);
                            let what = if matches!(op, Op::GetGlobalFn { .. }) {
                                "function"
                            } else {
                                "variable"
                            };
                            bail!(VmError::runtime(format!("Undefined {what}: {name}")))
                        }
                        Some(v) => v.clone(),
                    };
                    r!(dst) = v;
                }
                Op::SetGlobal { slot, src } => {
                    let s = slot as usize;
                    self.log_global(s);
                    let v = r!(src).clone();
                    if let Some(g) = self.globals.get_mut(s) {
                        *g = v;
                    }
                }
                Op::UpdateGlobal { slot, op, src } => {
                    // (out of its register while the global changes, then put back)
                    let rhs = std::mem::take(&mut r!(src));
                    let r = self.update_global(slot, op, &rhs);
                    r!(src) = rhs;
                    t!(r);
                }
                Op::UpdateGlobalK { slot, op, k } => {
                    let rhs = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    t!(self.update_global(slot, op, &rhs));
                }
                Op::GetUpval { dst, idx } => {
                    let v = match self.frames.last().and_then(|f| f.callee()) {
                        Some(c) => c
                            .upvals
                            .get(idx as usize)
                            .map(|u| u.value.borrow().clone())
                            .unwrap_or_default(),
                        None => Value::Nil,
                    };
                    t!(check_defined(&v));
                    r!(dst) = v;
                }
                Op::SetUpval { idx, src } => {
                    let cell = self
                        .frames
                        .last()
                        .and_then(|f| f.callee())
                        .and_then(|c| c.upvals.get(idx as usize).cloned());
                    if let Some(cell) = cell {
                        self.log_cell(&cell);
                        *cell.value.borrow_mut() = r!(src).clone();
                    }
                }
                Op::NewBox { reg } => {
                    let v = std::mem::take(&mut r!(reg));
                    r!(reg) = Value::Cell(Rc::new(UpCell {
                        value: RefCell::new(v),
                        born: self.cell,
                        logged: Cell::new(0),
                    }));
                }
                Op::GetBox { dst, boxed } => {
                    let v = match &r!(boxed) {
                        Value::Cell(c) => c.value.borrow().clone(),
                        other => other.clone(),
                    };
                    t!(check_defined(&v));
                    r!(dst) = v;
                }
                Op::SetBox { boxed, src } => {
                    let v = r!(src).clone();
                    if let Value::Cell(c) = &r!(boxed) {
                        let c = c.clone();
                        self.log_cell(&c);
                        *c.value.borrow_mut() = v;
                    } else {
                        r!(boxed) = v;
                    }
                }
                Op::LoadSelf { dst } => {
                    let v = self
                        .frames
                        .last()
                        .and_then(|f| f.callee().cloned())
                        .map_or(Value::Nil, Value::Func);
                    r!(dst) = v;
                }

                Op::Add { dst, a, b, own } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("addition")),
                        },
                        (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
                        (x, y) => {
                            if dst == a || own {
                                // `s = s + t` on a string or array, or a temporary on the
                                // left: append in place
                                let y = y.clone();
                                let mut x = std::mem::take(&mut r!(a));
                                let res = arith::add_assign(&mut x, &y);
                                r!(dst) = x;
                                t!(res);
                                continue;
                            }
                            t!(arith::add(x, y))
                        }
                    };
                    r!(dst) = v;
                }
                Op::AddImm { dst, a, imm, sub } => {
                    let v = match &r!(a) {
                        Value::Int(x) => {
                            let r = if sub {
                                x.checked_sub(imm as i64)
                            } else {
                                x.checked_add(imm as i64)
                            };
                            match r {
                                Some(s) => Value::Int(s),
                                None => bail!(arith::overflow(if sub {
                                    "subtraction"
                                } else {
                                    "addition"
                                })),
                            }
                        }
                        x => {
                            let k = Value::Int(imm as i64);
                            if sub {
                                t!(arith::sub(x, &k))
                            } else {
                                t!(arith::add(x, &k))
                            }
                        }
                    };
                    r!(dst) = v;
                }
                Op::ArithK { dst, a, op, k } => {
                    let y = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    let v = t!(binary(op, &r!(a), &y));
                    r!(dst) = v;
                }
                Op::Sub { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_sub(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("subtraction")),
                        },
                        (x, y) => t!(arith::sub(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Mul { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_mul(*y) {
                            Some(s) => Value::Int(s),
                            None => bail!(arith::overflow("multiplication")),
                        },
                        (x, y) => t!(arith::mul(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Div { dst, a, b } => {
                    let v = t!(arith::div(&r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Rem { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) if *y > 0 => Value::Int(x % y),
                        (x, y) => t!(arith::rem(x, y)),
                    };
                    r!(dst) = v;
                }
                Op::Pow { dst, a, b } => {
                    let v = t!(arith::pow(&r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitAnd { dst, a, b } => {
                    let v = t!(arith::bit("&", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitOr { dst, a, b } => {
                    let v = t!(arith::bit("|", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::BitXor { dst, a, b } => {
                    let v = t!(arith::bit("^", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Shl { dst, a, b } => {
                    let v = t!(arith::bit("<<", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Shr { dst, a, b } => {
                    let v = t!(arith::bit(">>", &r!(a), &r!(b)));
                    r!(dst) = v;
                }
                Op::Lt { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => t!(arith::lt(x, y)),
                    };
                    r!(dst) = Value::Bool(v);
                }
                Op::Le { dst, a, b } => {
                    let v = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => t!(arith::le(x, y)),
                    };
                    r!(dst) = Value::Bool(v);
                }
                Op::Gt { dst, a, b } => {
                    let v = t!(arith::gt(&r!(a), &r!(b)));
                    r!(dst) = Value::Bool(v);
                }
                Op::Ge { dst, a, b } => {
                    let v = t!(arith::ge(&r!(a), &r!(b)));
                    r!(dst) = Value::Bool(v);
                }
                Op::Neg { dst, src } => {
                    let v = t!(arith::neg(&r!(src)));
                    r!(dst) = v;
                }
                Op::BitNot { dst, src } => {
                    let v = t!(arith::bit_not(&r!(src)));
                    r!(dst) = v;
                }

                Op::Loop { off } => {
                    jump!(off);
                    t!(self.tick());
                }
                Op::JumpIfNotLt { a, b, off } => {
                    let lt = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x < y,
                        (x, y) => t!(arith::lt(x, y)),
                    };
                    if !lt {
                        jump!(off)
                    }
                }
                Op::JumpIfNotLe { a, b, off } => {
                    let le = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x <= y,
                        (x, y) => t!(arith::le(x, y)),
                    };
                    if !le {
                        jump!(off)
                    }
                }
                Op::JumpIfNotGt { a, b, off } => {
                    if !t!(arith::gt(&r!(a), &r!(b))) {
                        jump!(off)
                    }
                }
                Op::JumpIfNotGe { a, b, off } => {
                    if !t!(arith::ge(&r!(a), &r!(b))) {
                        jump!(off)
                    }
                }
                Op::JumpIfNotCmpImm { a, imm, cmp, off } => {
                    let holds = match &r!(a) {
                        Value::Int(x) => {
                            let y = imm as i64;
                            let at = (*x >= y) as u8 + (*x > y) as u8;
                            (cmp >> at) & 1 != 0
                        }
                        x => {
                            let y = Value::Int(imm as i64);
                            t!(match cmp {
                                CMP_LT => arith::lt(x, &y),
                                CMP_LE => arith::le(x, &y),
                                CMP_GT => arith::gt(x, &y),
                                CMP_GE => arith::ge(x, &y),
                                CMP_EQ => Ok(x.equals(&y)),
                                _ => Ok(!x.equals(&y)),
                            })
                        }
                    };
                    if !holds {
                        jump!(off)
                    }
                }
                Op::JumpIfNotNe { a, b, off } => {
                    let ne = match (&r!(a), &r!(b)) {
                        (Value::Int(x), Value::Int(y)) => x != y,
                        (x, y) => !x.equals(y),
                    };
                    if !ne {
                        jump!(off)
                    }
                }

                Op::Call { base: cb, argc } => {
                    if let Called::Entered = t!(self.op_call(base + cb as usize, argc, pc)) {
                        enter_top!();
                    }
                }
                Op::CallGlobal {
                    base: cb,
                    argc,
                    slot,
                } => {
                    let abs = base + cb as usize;
                    if let Called::Entered = t!(self.op_call_global(&proto, abs, argc, slot, pc)) {
                        enter_top!();
                    }
                }
                Op::CallMethod {
                    base: cb,
                    argc,
                    id,
                    name,
                } => {
                    let abs = base + cb as usize;
                    if let Called::Entered =
                        t!(self.op_call_method(&proto, abs, argc, id, name, pc))
                    {
                        enter_top!();
                    }
                }
                Op::CallMethodPlace {
                    base: cb,
                    argc,
                    id,
                    place,
                } => {
                    let abs = base + cb as usize;
                    // `xs.push(x)` on a variable: straight onto the array
                    if id == MethodId::Push && argc == 1 {
                        if let Some(Desc::MethodPlace { place: pl, .. }) =
                            proto.descs.get(place as usize)
                        {
                            if pl.steps.is_empty() {
                                let x = std::mem::take(&mut self.regs[abs + 2]);
                                let target = match pl.root {
                                    Root::Local(r) => self.regs.get_mut(base + r as usize),
                                    Root::Global(s) => {
                                        self.log_global(s as usize);
                                        self.globals.get_mut(s as usize)
                                    }
                                    _ => None,
                                };
                                if let Some(Value::Array(a)) = target {
                                    if let Some(f) = self.frames.last_mut() {
                                        f.pc = pc;
                                    }
                                    t!(crate::budget::push(&mut Rc::make_mut(a).0, x)
                                        .map_err(VmError::from));
                                    self.regs[abs] = Value::Nil;
                                    continue;
                                }
                                self.regs[abs + 2] = x;
                            }
                        }
                    }
                    let at = (base, abs);
                    if let Called::Entered =
                        t!(self.op_call_method_place(&proto, at, argc, id, place, pc))
                    {
                        enter_top!();
                    }
                }
                Op::Return { src } => {
                    let v = std::mem::take(&mut r!(src));
                    let Some(done) = self.pop_frame() else {
                        return Ok(v);
                    };
                    t!(self.write_back(&done));
                    if self.frames.len() <= entry {
                        return Ok(v);
                    }
                    self.regs[done.base - 1] = v;
                    enter_top!();
                }
                Op::SkipIfArg { reg, off } => {
                    if !matches!(r!(reg), Value::Undef) {
                        jump!(off)
                    }
                }

                Op::MakeArray { dst, base: b, n } => {
                    let items: Vec<Value> =
                        (0..n).map(|i| std::mem::take(&mut r!(b + i))).collect();
                    r!(dst) = Value::array(items);
                }
                Op::MakeTuple { dst, base: b, n } => {
                    let items: Vec<Value> =
                        (0..n).map(|i| std::mem::take(&mut r!(b + i))).collect();
                    r!(dst) = Value::tuple(items);
                }
                Op::MakeObject {
                    dst,
                    base: b,
                    n,
                    keys,
                } => {
                    let mut map = crate::object::ObjMap::new();
                    if let Some(Desc::Keys(ks)) = proto.descs.get(keys as usize) {
                        for (i, k) in ks.iter().enumerate().take(n as usize) {
                            map.insert(k.clone(), std::mem::take(&mut r!(b + i as u16)));
                        }
                    }
                    r!(dst) = Value::object(map);
                }
                Op::MakeStruct { dst, base: b, desc } => {
                    let v = t!(self.make_struct(&proto, desc, base + b as usize));
                    r!(dst) = v;
                }
                Op::ArrayRepeat { dst, value, count } => {
                    let n = match &r!(count) {
                        Value::Int(n) => t!(arith::copies(1, *n, crate::value::VALUE_BYTES)),
                        other => bail!(VmError::type_error(format!(
                            "Array length must be an integer, found {}",
                            other.type_name()
                        ))),
                    };
                    let v = r!(value).clone();
                    r!(dst) = Value::array(vec![v; n]);
                }
                Op::ArrayPush { arr, src } => {
                    let v = std::mem::take(&mut r!(src));
                    if let Value::Array(a) = &mut r!(arr) {
                        t!(crate::budget::push(&mut Rc::make_mut(a).0, v).map_err(VmError::from));
                    }
                }
                Op::MakeRange {
                    dst,
                    start,
                    end,
                    flags,
                } => {
                    r!(dst) = t!(iteration::make_range(&r!(start), &r!(end), flags));
                }
                Op::MakeClosure { dst, proto: pi } => {
                    let v = t!(self.make_closure(&proto, pi, base));
                    r!(dst) = v;
                }
                Op::FString { dst, base: b, desc } => {
                    let v = t!(self.fstring(&proto, desc, base + b as usize));
                    r!(dst) = v;
                }

                Op::GetIndex { dst, obj, index } => {
                    let v = match (&r!(obj), &r!(index)) {
                        (Value::Array(a), Value::Int(i))
                            if *i >= 0 && crate::value::count(*i) < a.len() =>
                        {
                            a[*i as usize].clone()
                        }
                        (o, i) => t!(crate::methods::index(o, i)),
                    };
                    r!(dst) = v;
                }
                Op::GetIndexGlobal {
                    dst,
                    index,
                    at,
                    slot,
                } => {
                    let v = match self.globals.get(slot as usize) {
                        Some(Value::Undef) | None => {
                            let mut e = self.undefined_variable(slot);
                            if let Some(Desc::Span(sp)) = proto.descs.get(at as usize) {
                                if proto.cell == self.cell {
                                    e.span = Some(*sp);
                                }
                            }
                            bail!(e)
                        }
                        Some(g) => t!(crate::methods::index(g, &r!(index))),
                    };
                    r!(dst) = v;
                }
                Op::GetField { dst, obj, name } => {
                    let fname = proto
                        .names
                        .get(name as usize)
                        .cloned()
                        .unwrap_or_else(|| "".into());
                    let v = t!(self.get_field(&r!(obj), &fname));
                    r!(dst) = v;
                }
                Op::GetTupleField { dst, obj, index } => {
                    let v = t!(tuple_field(&r!(obj), index));
                    r!(dst) = v;
                }
                Op::GetPath { dst, desc } => {
                    let v = t!(self.get_path(&proto, desc));
                    r!(dst) = v;
                }
                Op::StorePlace { place, src } => {
                    let v = r!(src).clone();
                    let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                        bail!(VmError::runtime("internal error: bad place"))
                    };
                    t!(self.put_place(pl, base, v));
                }
                Op::LoadPlace { dst, place } => {
                    let Some(Desc::Place(pl)) = proto.descs.get(place as usize) else {
                        bail!(VmError::runtime("internal error: bad place"))
                    };
                    let v = t!(self.read_place(pl, base));
                    r!(dst) = v;
                }

                Op::TestVariant { src, desc, off } => {
                    if !self.test_variant(&proto, desc, &r!(src)) {
                        jump!(off)
                    }
                }
                Op::TestTuple { src, n, off } => {
                    if !matches!(&r!(src), Value::Tuple(t) if t.len() == n as usize) {
                        jump!(off)
                    }
                }
                Op::TestList {
                    src,
                    n,
                    at_least,
                    off,
                } => {
                    let ok = match &r!(src) {
                        Value::Array(a) => {
                            if at_least {
                                a.len() >= n as usize
                            } else {
                                a.len() == n as usize
                            }
                        }
                        _ => false,
                    };
                    if !ok {
                        jump!(off)
                    }
                }
                Op::TestRange { src, desc, off } => {
                    if !test_range(&proto, desc, &r!(src)) {
                        jump!(off)
                    }
                }
                Op::GetElem {
                    dst,
                    src,
                    idx,
                    from_end,
                } => {
                    let v = element(&r!(src), idx as usize, from_end);
                    r!(dst) = v;
                }
                Op::SliceRest {
                    dst,
                    src,
                    start,
                    end,
                } => {
                    let v = match &r!(src) {
                        Value::Array(a) => {
                            let hi = a.len().saturating_sub(end as usize);
                            let lo = (start as usize).min(hi);
                            t!(crate::value::budget_values(hi - lo).map_err(VmError::from));
                            t!(crate::budget::burn(hi - lo).map_err(VmError::from));
                            Value::array(a[lo..hi].to_vec())
                        }
                        _ => Value::array(Vec::new()),
                    };
                    r!(dst) = v;
                }
                Op::MatchFail { src, binding } => {
                    let shown = display(&r!(src), &self.types);
                    bail!(VmError::runtime(if binding {
                        format!("The pattern does not match the value {shown}")
                    } else {
                        format!("No match arm matched the value {shown}")
                    }));
                }

                Op::IterPrep { src } => {
                    let v = std::mem::take(&mut r!(src));
                    let prepared = t!(crate::methods::iterable(v));
                    r!(src) = prepared;
                    r!(src + 1) = Value::Int(0);
                }
                Op::IterArray {
                    src,
                    acc,
                    reserve,
                    off,
                } => match &r!(src) {
                    Value::Array(a) => {
                        if reserve {
                            let room = t!(crate::budget::vec_with(a.len()).map_err(VmError::from));
                            r!(acc) = Value::array(room);
                        }
                        r!(src + 1) = Value::Int(0);
                    }
                    _ => jump!(off),
                },
                Op::IterNext { src, dst, off } => {
                    let (src, dst) = (base + src as usize, base + dst as usize);
                    if !t!(self.iter_next(src, dst)) {
                        jump!(off)
                    }
                }
                Op::ForPrep {
                    base: b,
                    inclusive,
                    off,
                } => {
                    let (lo, hi) = match (&r!(b), &r!(b + 1)) {
                        (Value::Int(lo), Value::Int(hi)) => (*lo, *hi),
                        (x, y) => bail!(VmError::type_error(format!(
                            "A range in `for` needs integer bounds, found {} and {}",
                            x.type_name(),
                            y.type_name()
                        ))),
                    };
                    let empty = if inclusive { lo > hi } else { lo >= hi };
                    if empty {
                        jump!(off)
                    }
                }
                Op::ForNext {
                    base: b,
                    inclusive,
                    off,
                } => {
                    if let (Value::Int(i), Value::Int(hi)) = (&r!(b), &r!(b + 1)) {
                        let (i, hi) = (*i, *hi);
                        let more = if inclusive { i < hi } else { i + 1 < hi };
                        if more {
                            r!(b) = Value::Int(i + 1);
                            jump!(off);
                            t!(self.tick());
                        }
                    }
                }

                Op::TryBegin { err, off } => {
                    let target = (pc as i64 + off as i64) as usize;
                    self.handlers.push(Handler {
                        frame: self.frames.len() - 1,
                        pc: target,
                        err,
                    });
                }
                Op::TryEnd => {
                    self.handlers.pop();
                }
                Op::Throw { src } => {
                    let v = r!(src).clone();
                    let shown = display(&v, &self.types);
                    let mut e = VmError::runtime(format!("Uncaught exception: {shown}"));
                    e.thrown = Some(v);
                    bail!(e);
                }
                Op::Rethrow { src } => {
                    let e = match self.last_caught.take() {
                        Some(e) => e,
                        None => {
                            let v = r!(src).clone();
                            let shown = display(&v, &self.types);
                            let mut e = VmError::runtime(format!("Uncaught exception: {shown}"));
                            e.thrown = Some(v);
                            e
                        }
                    };
                    bail!(e);
                }
                Op::Question { dst, src } => {
                    enum Q {
                        Value(Value),
                        Return,
                        Bad,
                    }
                    let q = match r!(src).as_variant() {
                        Some((OPTION, SOME, [inner])) | Some((RESULT, OK, [inner])) => {
                            Q::Value(inner.clone())
                        }
                        Some((OPTION, NONE, _)) | Some((RESULT, ERR, _)) => Q::Return,
                        _ => Q::Bad,
                    };
                    match q {
                        Q::Value(v) => r!(dst) = v,
                        Q::Return => {
                            // early return of the `None`/`Err` from the current function
                            let ret = std::mem::take(&mut r!(src));
                            let Some(done) = self.pop_frame() else {
                                return Ok(ret);
                            };
                            t!(self.write_back(&done));
                            if self.frames.len() <= entry {
                                return Ok(ret);
                            }
                            self.regs[done.base - 1] = ret;
                            enter_top!();
                        }
                        Q::Bad => {
                            let shown = display(&r!(src), &self.types);
                            bail!(VmError::type_error(format!(
                                "The `?` operator needs an Option or a Result, found {shown}"
                            )))
                        }
                    }
                }
                Op::CheckType { reg, desc } => {
                    if let Some(Desc::Check { kind, annotation }) = proto.descs.get(desc as usize) {
                        t!(check_type(&r!(reg), *kind, annotation));
                    }
                }
                Op::Cast { dst, src, desc } => {
                    let kind = match proto.descs.get(desc as usize) {
                        Some(Desc::Cast(k)) => *k,
                        _ => CastKind::Keep,
                    };
                    let v = t!(self.cast(&r!(src), kind));
                    r!(dst) = v;
                }
                Op::DefType {
                    dst,
                    desc,
                    defaults,
                } => {
                    let defaults = if defaults == Reg::MAX {
                        None
                    } else {
                        Some(base + defaults as usize)
                    };
                    let v = t!(self.def_type(&proto, desc, defaults));
                    r!(dst) = v;
                }
                Op::DefImpl { base: b, desc } => {
                    t!(self.def_impl(&proto, desc, base + b as usize));
                }
            }
        }
    }
}
