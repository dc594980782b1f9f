//! Places: reading and writing `xs[i].f` and the like through the registers, globals and captured boxes, with copy-on-write at each level.

use super::*;

impl Vm {
    /// Runs `f` on the value at a place (creating object entries for an assignment when
    /// `create` is set).
    pub(super) fn with_place<R>(
        &mut self,
        place: &Place,
        base: usize,
        create: bool,
        f: impl FnOnce(&mut Value) -> VResult<R>,
    ) -> VResult<R> {
        // index values first: they live in registers that the root may borrow (one step, the
        // common `xs[i] = v` and `p.x = v`, without allocating)
        let key = |s: &Step| match s {
            Step::Field(n) => Key::Field(n.clone()),
            Step::Tuple(i) => Key::Tuple(*i as usize),
            Step::Index(r) => Key::Index(self.regs[base + *r as usize].dup()),
        };
        let one: [Key; 1];
        let many: Vec<Key>;
        let keys: &[Key] = match &place.steps[..] {
            [s] => {
                one = [key(s)];
                &one
            }
            steps => {
                many = steps.iter().map(key).collect();
                &many
            }
        };
        match place.root {
            Root::Local(r) => {
                let types = &self.types;
                let root = &mut self.regs[base + r as usize];
                walk(root, keys, types, create, &place.name, f)
            }
            Root::Global(slot) => {
                let s = slot as usize;
                if matches!(self.globals.get(s), Some(Value::Undef) | None)
                    && !(keys.is_empty() && create)
                {
                    return Err(VmError::runtime(format!(
                        "Undefined variable: {}",
                        self.global_name(slot)
                    )));
                }
                self.log_global(s);
                let types = &self.types;
                let root = self
                    .globals
                    .get_mut(s)
                    .ok_or_else(|| VmError::runtime("internal error: bad global"))?;
                walk(root, keys, types, create, &place.name, f)
            }
            Root::Boxed(r) => {
                let cell = match &self.regs[base + r as usize] {
                    Value::Cell(c) => c.clone(),
                    _ => return Err(VmError::runtime("internal error: not a box")),
                };
                self.log_cell(&cell);
                let mut v = cell.value.borrow_mut();
                walk(&mut v, keys, &self.types, create, &place.name, f)
            }
            Root::Upval(i) => {
                let cell = self
                    .frames
                    .last()
                    .and_then(|f| f.callee())
                    .and_then(|c| c.upvals.get(i as usize).cloned())
                    .ok_or_else(|| VmError::runtime("internal error: bad upvalue"))?;
                self.log_cell(&cell);
                let mut v = cell.value.borrow_mut();
                walk(&mut v, keys, &self.types, create, &place.name, f)
            }
        }
    }

    pub(crate) fn read_place(&mut self, place: &Place, base: usize) -> VResult<Value> {
        // reading needs no logging or copying: walk shared references
        let root = match place.root {
            Root::Local(r) => self.regs[base + r as usize].clone(),
            Root::Global(s) => match self.globals.get(s as usize) {
                Some(Value::Undef) | None => {
                    return Err(VmError::runtime(format!(
                        "Undefined variable: {}",
                        self.global_name(s)
                    )))
                }
                Some(v) => v.clone(),
            },
            Root::Boxed(r) => match &self.regs[base + r as usize] {
                Value::Cell(c) => c.value.borrow().clone(),
                v => v.clone(),
            },
            Root::Upval(i) => self
                .frames
                .last()
                .and_then(|f| f.callee())
                .and_then(|c| c.upvals.get(i as usize))
                .map(|u| u.value.borrow().clone())
                .unwrap_or_default(),
        };
        check_defined(&root)?;
        let mut cur = root;
        for s in &place.steps {
            cur = match s {
                Step::Field(n) => self.get_field(&cur, n)?,
                Step::Tuple(i) => tuple_field(&cur, *i)?,
                Step::Index(r) => {
                    let idx = self.regs[base + *r as usize].clone();
                    crate::methods::index(&cur, &idx)?
                }
            };
        }
        Ok(cur)
    }

    pub(super) fn take_place(&mut self, place: &Place, base: usize) -> VResult<Value> {
        self.with_place(place, base, false, |v| Ok(std::mem::take(v)))
    }

    pub(super) fn put_place(&mut self, place: &Place, base: usize, value: Value) -> VResult<()> {
        self.with_place(place, base, true, move |v| {
            *v = value;
            Ok(())
        })
    }
}

pub(super) enum Key {
    Field(Rc<str>),
    Tuple(usize),
    Index(Value),
}

/// Follows `keys` from `root` with copy-on-write at each level, then applies `f`.
pub(super) fn walk<R>(
    root: &mut Value,
    keys: &[Key],
    types: &Types,
    create: bool,
    name: &str,
    f: impl FnOnce(&mut Value) -> VResult<R>,
) -> VResult<R> {
    let mut cur = root;
    for k in keys {
        cur = step_mut(cur, k, types, create, name)?;
    }
    f(cur)
}

pub(super) fn step_mut<'v>(
    cur: &'v mut Value,
    key: &Key,
    types: &Types,
    create: bool,
    name: &str,
) -> VResult<&'v mut Value> {
    match (cur, key) {
        (Value::Struct(s), Key::Field(f)) => {
            let def = types.get(s.ty);
            let idx = def.and_then(|d| d.field_index(f)).ok_or_else(|| {
                VmError::runtime(format!(
                    "{} has no field named {f}",
                    def.map_or("?", |d| &d.name)
                ))
            })?;
            Rc::make_mut(s)
                .fields
                .get_mut(idx)
                .ok_or_else(|| VmError::runtime("internal error: field index"))
        }
        (Value::Variant(v), Key::Field(f)) => {
            let idx = types
                .get(v.ty)
                .and_then(|d| d.variant(v.variant))
                .and_then(|i| i.fields.as_ref())
                .and_then(|fs| fs.iter().position(|x| x == f))
                .ok_or_else(|| VmError::runtime(format!("The variant has no field named {f}")))?;
            Rc::make_mut(v)
                .fields
                .get_mut(idx)
                .ok_or_else(|| VmError::runtime("internal error: field index"))
        }
        (Value::Object(map), Key::Field(f)) => {
            let m = Rc::make_mut(map);
            if create && !m.contains_key(&**f) {
                m.insert(f.clone(), Value::Nil);
            }
            m.get_mut(&**f)
                .ok_or_else(|| VmError::runtime(format!("Object has no field named {f}")))
        }
        (Value::Object(map), Key::Index(Value::Str(k))) => {
            let m = Rc::make_mut(map);
            let key = k.as_str();
            if create && !m.contains_key(key) {
                m.insert(key.into(), Value::Nil);
            }
            m.get_mut(key)
                .ok_or_else(|| VmError::runtime(format!("Key not found: \"{k}\"")))
        }
        (Value::Coll(c), Key::Index(k)) => {
            crate::methods::collection::place(Rc::make_mut(c), k, create)
        }
        (Value::Tuple(t), Key::Tuple(_) | Key::Index(Value::Int(_))) => {
            let i = match key {
                Key::Tuple(i) => *i as i64,
                Key::Index(Value::Int(i)) => *i,
                _ => 0,
            };
            let len = t.len();
            let i = norm_index(i, len).ok_or_else(|| {
                VmError::runtime(format!("Index {i} out of bounds for tuple of length {len}"))
            })?;
            Ok(&mut Rc::make_mut(t)[i])
        }
        (Value::Struct(s), Key::Tuple(i)) => {
            let len = s.fields.len();
            let st = Rc::make_mut(s);
            st.fields.get_mut(*i).ok_or_else(|| {
                VmError::runtime(format!(
                    "Index {i} out of bounds for tuple struct of {len} fields"
                ))
            })
        }
        (Value::Array(a), Key::Index(Value::Int(i))) => {
            let len = a.len();
            let idx = norm_index(*i, len).ok_or_else(|| {
                VmError::runtime(format!("Index {i} out of bounds for array of length {len}"))
            })?;
            Ok(&mut Rc::make_mut(a)[idx])
        }
        (v, Key::Index(i)) => Err(VmError::type_error(format!(
            "Cannot assign to an element of {} with an index of type {}",
            v.type_name(),
            i.type_name()
        ))),
        (v, Key::Field(f)) => Err(VmError::type_error(format!(
            "Cannot assign to field {f} of {} (`{name}`)",
            v.type_name()
        ))),
        (v, Key::Tuple(i)) => Err(VmError::type_error(format!(
            "Cannot assign to .{i} of {}",
            v.type_name()
        ))),
    }
}
