//! Type machinery: closures and f-strings made at run time, struct and variant values, fields and paths, casts and type checks, and the definitions of types and `impl` blocks.

use super::*;

impl Vm {
    pub(super) fn make_closure(&self, proto: &Proto, index: u32, base: usize) -> VResult<Value> {
        let p = proto
            .protos
            .get(index as usize)
            .ok_or_else(|| VmError::runtime("internal error: bad function index"))?;
        let mut upvals = Vec::with_capacity(p.captures.len());
        let current = self.frames.last().and_then(|f| f.callee().cloned());
        for c in &p.captures {
            let cell = match c {
                Capture::Local(r) => match self.regs.get(base + *r as usize) {
                    Some(Value::Cell(cell)) => cell.clone(),
                    _ => Rc::new(UpCell {
                        value: RefCell::new(Value::Undef),
                        born: self.cell,
                        logged: Cell::new(0),
                    }),
                },
                Capture::Value(r) => Rc::new(UpCell {
                    value: RefCell::new(
                        self.regs
                            .get(base + *r as usize)
                            .cloned()
                            .unwrap_or(Value::Undef),
                    ),
                    born: self.cell,
                    logged: Cell::new(0),
                }),
                Capture::Upval(i) => match current.as_ref().and_then(|c| c.upvals.get(*i as usize))
                {
                    Some(cell) => cell.clone(),
                    None => Rc::new(UpCell {
                        value: RefCell::new(Value::Undef),
                        born: self.cell,
                        logged: Cell::new(0),
                    }),
                },
            };
            upvals.push(cell);
        }
        Ok(Value::Func(Rc::new(Closure {
            proto: p.clone(),
            upvals: upvals.into_boxed_slice(),
        })))
    }

    pub(super) fn fstring(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<Value> {
        let Some(Desc::FString(segs)) = proto.descs.get(desc as usize) else {
            return Err(VmError::runtime("internal error: bad f-string"));
        };
        // room for the text and a number per hole at once (one allocation for `f"w{i}"`)
        let guess: usize = segs
            .iter()
            .map(|seg| match seg {
                FSeg::Text(t) => t.len(),
                FSeg::Hole(_) => 20,
            })
            .sum();
        let mut out = String::new();
        crate::budget::grow_str(&mut out, guess)?;
        let mut hole = 0usize;
        for seg in segs {
            match seg {
                FSeg::Text(t) => {
                    crate::budget::grow_str(&mut out, t.len())?;
                    out.push_str(t)
                }
                FSeg::Hole(spec) => {
                    let v = &self.regs[base + hole];
                    hole += 1;
                    match (spec, v) {
                        (None, Value::Int(n)) => crate::display::push_int(&mut out, *n),
                        (None, Value::Str(text)) => {
                            crate::budget::grow_str(&mut out, text.len())?;
                            out.push_str(text)
                        }
                        (None, v) => write_plain(&mut out, v, &self.types),
                        (Some(spec), v) => {
                            let text = crate::format::apply(spec, v, &self.types);
                            crate::budget::grow_str(&mut out, text.len())?;
                            out.push_str(&text)
                        }
                    }
                    crate::budget::settled()?;
                    crate::budget::bytes(out.len())?;
                }
            }
        }
        Ok(Value::str(out))
    }

    pub(super) fn make_struct(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<Value> {
        let Some(Desc::StructLit {
            name,
            fields,
            has_base,
            cache,
        }) = proto.descs.get(desc as usize)
        else {
            return Err(VmError::runtime("internal error: bad struct literal"));
        };
        // the type and whether the literal gives every field in declaration order, without
        // `..base`: remembered from the last run while the session's types are unchanged
        let (ty, in_order) = match cache.get() {
            Some((version, ty, in_order)) if version == self.types.version => (ty, in_order),
            _ => {
                // `Shape::Rect { w: 1.0 }`: a struct-like enum variant
                if let Some((ty_name, variant)) =
                    name.contains(':').then(|| name.split_once("::")).flatten()
                {
                    return self.make_variant(ty_name, variant, name, fields, base);
                }
                let ty = self
                    .types
                    .lookup(name)
                    .ok_or_else(|| VmError::runtime(format!("Undefined struct: {name}")))?;
                let def = self
                    .types
                    .get(ty)
                    .ok_or_else(|| VmError::runtime("Unknown type"))?;
                let TypeKind::Struct { fields: decl, .. } = &def.kind else {
                    return Err(VmError::type_error(format!("{name} is not a struct")));
                };
                let in_order = !*has_base
                    && decl.len() == fields.len()
                    && decl.iter().zip(fields.iter()).all(|(d, f)| d == f);
                cache.set(Some((self.types.version, ty, in_order)));
                (ty, in_order)
            }
        };
        let n = fields.len();
        if in_order
            && self.regs[base..base + n]
                .iter()
                .all(|v| !matches!(v, Value::Undef))
        {
            let mut values = crate::budget::vec_with(n)?;
            values.extend(self.regs[base..base + n].iter_mut().map(std::mem::take));
            return Ok(Value::Struct(Rc::new(StructValue { ty, fields: values })));
        }
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        let TypeKind::Struct { fields: decl, .. } = &def.kind else {
            return Err(VmError::type_error(format!("{name} is not a struct")));
        };
        let decl = decl.clone();
        let defaults = def.defaults.clone();
        let base_value = if *has_base {
            match std::mem::take(&mut self.regs[base + fields.len()]) {
                Value::Struct(s) if s.ty == ty => Some(s),
                other => {
                    return Err(VmError::type_error(format!(
                        "`..base` of a {name} literal must be a {name}, found {}",
                        other.type_name()
                    )))
                }
            }
        } else {
            None
        };
        let values =
            self.gather_fields(&decl, &defaults, fields, base, base_value.as_deref(), name)?;
        Ok(Value::Struct(Rc::new(StructValue { ty, fields: values })))
    }

    /// `Shape::Rect { w: 1.0 }`: a struct-like enum variant's literal.
    pub(super) fn make_variant(
        &mut self,
        ty_name: &str,
        variant: &str,
        name: &str,
        fields: &[Rc<str>],
        base: usize,
    ) -> VResult<Value> {
        let ty = self
            .types
            .lookup(ty_name)
            .ok_or_else(|| VmError::runtime(format!("Undefined type: {ty_name}")))?;
        let def = self
            .types
            .get(ty)
            .ok_or_else(|| VmError::runtime("Unknown type"))?;
        let vi = def
            .variant_index(variant)
            .ok_or_else(|| VmError::runtime(format!("{ty_name} has no variant named {variant}")))?;
        let names = def
            .variant(vi)
            .and_then(|v| v.fields.clone())
            .ok_or_else(|| VmError::runtime(format!("{name} is not a struct-like variant")))?;
        let values = self.gather_fields(&names, &[], fields, base, None, name)?;
        Ok(Value::Variant(Rc::new(VariantValue {
            ty,
            variant: vi,
            fields: values,
        })))
    }

    /// Orders literal fields (in registers from `base`) by the declaration `decl`; a field
    /// left out comes from `..base`, else from its default.
    pub(super) fn gather_fields(
        &mut self,
        decl: &[Rc<str>],
        defaults: &[Option<Value>],
        given: &[Rc<str>],
        base: usize,
        fallback: Option<&StructValue>,
        name: &str,
    ) -> VResult<Vec<Value>> {
        let mut values = vec![Value::Undef; decl.len()];
        for (i, f) in given.iter().enumerate() {
            let Some(pos) = decl.iter().position(|d| d == f) else {
                return Err(VmError::runtime(format!("{name} has no field named {f}")));
            };
            values[pos] = std::mem::take(&mut self.regs[base + i]);
        }
        for (i, v) in values.iter_mut().enumerate() {
            if matches!(v, Value::Undef) {
                match fallback
                    .and_then(|b| b.fields.get(i))
                    .or_else(|| defaults.get(i).and_then(Option::as_ref))
                {
                    Some(x) => *v = x.clone(),
                    None => {
                        return Err(VmError::runtime(format!(
                            "Missing field {} in {name} literal",
                            decl[i]
                        )))
                    }
                }
            }
        }
        Ok(values)
    }

    pub fn get_field(&self, obj: &Value, name: &str) -> VResult<Value> {
        match obj {
            Value::Struct(s) => {
                let def = self.types.get(s.ty);
                if let Some(i) = def.and_then(|d| d.field_index(name)) {
                    return Ok(s.fields.get(i).cloned().unwrap_or_default());
                }
                let tname = def.map_or("?", |d| &d.name);
                Err(VmError::runtime(format!(
                    "{tname} has no field named {name}"
                )))
            }
            Value::Variant(v) => {
                let info = self.types.get(v.ty).and_then(|d| d.variant(v.variant));
                if let Some(i) = info
                    .and_then(|i| i.fields.as_ref())
                    .and_then(|fs| fs.iter().position(|f| &**f == name))
                {
                    return Ok(v.fields.get(i).cloned().unwrap_or_default());
                }
                Err(VmError::runtime(format!(
                    "{} has no field named {name}",
                    info.map_or("?", |i| &i.name)
                )))
            }
            Value::Object(map) => map
                .get(name)
                .cloned()
                .ok_or_else(|| VmError::runtime(format!("Object has no field named {name}"))),
            Value::Tuple(_) => Err(VmError::runtime(format!(
                "A tuple has no field named {name}: use `.0`, `.1`, ..."
            ))),
            other => Err(VmError::runtime(format!(
                "Cannot read field {name} of {}",
                other.type_name()
            ))),
        }
    }

    pub(super) fn get_path(&self, proto: &Proto, desc: u32) -> VResult<Value> {
        let Some(Desc::Path(path)) = proto.descs.get(desc as usize) else {
            return Err(VmError::runtime("internal error: bad path"));
        };
        let (Some(first), Some(last)) = (path.first(), path.last()) else {
            return Err(VmError::runtime("empty path"));
        };
        let type_name = &path[path.len().saturating_sub(2)];
        if let Some(ty) = self.types.lookup(type_name) {
            let def = self
                .types
                .get(ty)
                .ok_or_else(|| VmError::runtime("Unknown type"))?;
            if let Some(vi) = def.variant_index(last) {
                let info = def
                    .variant(vi)
                    .ok_or_else(|| VmError::runtime("Unknown variant"))?;
                return Ok(if info.arity == 0 && info.fields.is_none() {
                    Value::Unit(ty, vi)
                } else {
                    Value::Ctor(ty, vi)
                });
            }
            if let Some(m) = def.methods.get(&**last) {
                return Ok(Value::Func(m.func.clone()));
            }
            return Err(VmError::runtime(format!(
                "{type_name} has no variant or associated function named {last}"
            )));
        }
        if let Some(v) = crate::builtins::path_constant(path) {
            return Ok(v);
        }
        if let Some(b) = crate::builtins::std_constructor(type_name, last) {
            return Ok(Value::Builtin(b));
        }
        Err(VmError::runtime(format!(
            "Undefined type: {first} (in `{}`)",
            path.iter().map(|s| &**s).collect::<Vec<_>>().join("::")
        )))
    }

    pub(super) fn test_variant(&self, proto: &Proto, desc: u32, v: &Value) -> bool {
        let Some(Desc::VariantPat {
            path,
            arity,
            fields,
            constant,
        }) = proto.descs.get(desc as usize)
        else {
            return false;
        };
        // `MAX =>` where MAX is a constant, not a variant: compare the values
        if let Some(slot) = constant {
            if !matches!(v, Value::Variant(_) | Value::Unit(..) | Value::Struct(_)) {
                return match self.globals.get(*slot as usize) {
                    Some(Value::Undef | Value::Type(_) | Value::Ctor(..)) | None => false,
                    Some(g) => v.equals(g),
                };
            }
        }
        let Some(last) = path.last() else {
            // `{ name, age }`: an object with those keys, or a struct with those fields
            let names = fields.as_deref().unwrap_or(&[]);
            return match v {
                Value::Object(map) => names.iter().all(|f| map.get(f).is_some()),
                Value::Struct(s) => self
                    .types
                    .get(s.ty)
                    .is_some_and(|def| names.iter().all(|f| def.field_index(f).is_some())),
                _ => false,
            };
        };
        let type_name = if path.len() >= 2 {
            Some(&path[path.len() - 2])
        } else {
            None
        };
        match v {
            Value::Variant(_) | Value::Unit(..) => {
                let Some((ty, vi, payload)) = v.as_variant() else {
                    return false;
                };
                let Some(def) = self.types.get(ty) else {
                    return false;
                };
                if type_name.is_some_and(|t| **t != *def.name) {
                    return false;
                }
                let Some(info) = def.variant(vi) else {
                    return false;
                };
                if *info.name != **last {
                    return false;
                }
                match (arity, fields) {
                    (Some(n), _) => payload.len() == *n as usize,
                    (None, Some(fs)) => fs.iter().all(|f| {
                        info.fields
                            .as_ref()
                            .is_some_and(|names| names.iter().any(|n| n == f))
                    }),
                    (None, None) => payload.is_empty() || info.fields.is_some(),
                }
            }
            Value::Struct(s) => {
                let Some(def) = self.types.get(s.ty) else {
                    return false;
                };
                if *def.name != **last || type_name.is_some() {
                    return false;
                }
                match (arity, fields) {
                    (Some(n), _) => s.fields.len() == *n as usize,
                    (None, Some(fs)) => fs.iter().all(|f| def.field_index(f).is_some()),
                    (None, None) => true,
                }
            }
            _ => false,
        }
    }

    pub(super) fn cast(&self, v: &Value, kind: CastKind) -> VResult<Value> {
        Ok(match (kind, v) {
            (CastKind::Int, Value::Int(n)) => Value::Int(*n),
            (CastKind::Int, Value::Float(f)) => {
                if f.is_nan() {
                    Value::Int(0)
                } else {
                    Value::Int(*f as i64)
                }
            }
            (CastKind::Int, Value::Bool(b)) => Value::Int(*b as i64),
            (CastKind::Int, Value::Unit(ty, vi)) => {
                let d = self
                    .types
                    .get(*ty)
                    .and_then(|d| d.variant(*vi))
                    .map_or(*vi as i64, |i| i.discriminant);
                Value::Int(d)
            }
            (CastKind::Int, Value::Str(s)) if s.chars().count() == 1 => {
                Value::Int(s.chars().next().map_or(0, |c| c as i64))
            }
            (CastKind::Float, Value::Int(n)) => Value::Float(*n as f64),
            (CastKind::Float, Value::Float(f)) => Value::Float(*f),
            (CastKind::Str, v) => Value::str(crate::display::display_plain(v, &self.types)),
            (CastKind::Bool, v) => Value::Bool(v.truthy()),
            (CastKind::Char, Value::Int(n)) => {
                match u32::try_from(*n).ok().and_then(char::from_u32) {
                    Some(c) => Value::str(c.to_string()),
                    None => {
                        return Err(VmError::runtime(format!(
                            "{n} is not a valid character code"
                        )))
                    }
                }
            }
            (CastKind::Char, Value::Str(s)) if s.chars().count() == 1 => v.clone(),
            (CastKind::Keep, v) => v.clone(),
            (k, v) => {
                return Err(VmError::type_error(format!(
                    "Cannot cast {} to {}",
                    v.type_name(),
                    match k {
                        CastKind::Int => "an integer",
                        CastKind::Float => "a float",
                        CastKind::Char => "a char",
                        _ => "that type",
                    }
                )))
            }
        })
    }

    #[inline(never)]
    pub(super) fn def_type(
        &mut self,
        proto: &Proto,
        desc: u32,
        defaults: Option<usize>,
    ) -> VResult<Value> {
        let def = match proto.descs.get(desc as usize) {
            Some(Desc::Struct(s)) => TypeDef {
                name: s.name.clone(),
                kind: TypeKind::Struct {
                    fields: s.fields.iter().map(|(n, _)| n.clone()).collect(),
                    tuple: s.tuple,
                },
                methods: Default::default(),
                defaults: match defaults {
                    Some(at) => (0..s.fields.len())
                        .map(|i| match std::mem::take(&mut self.regs[at + i]) {
                            Value::Undef => None,
                            v => Some(v),
                        })
                        .collect(),
                    None => Vec::new(),
                },
            },
            Some(Desc::Enum(e)) => {
                let mut next = 0i64;
                let variants = e
                    .variants
                    .iter()
                    .map(|v| {
                        let d = v.discriminant.unwrap_or(next);
                        next = d.wrapping_add(1);
                        let (fields, arity) = match &v.shape {
                            ruchy_syntax::ast::VariantShape::Unit => (None, 0),
                            ruchy_syntax::ast::VariantShape::Tuple(t) => (None, t.len()),
                            ruchy_syntax::ast::VariantShape::Struct(fs) => (
                                Some(fs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()),
                                fs.len(),
                            ),
                        };
                        VariantInfo {
                            name: v.name.clone(),
                            fields,
                            arity,
                            discriminant: d,
                        }
                    })
                    .collect();
                TypeDef {
                    name: e.name.clone(),
                    kind: TypeKind::Enum { variants },
                    methods: Default::default(),
                    defaults: Vec::new(),
                }
            }
            _ => return Err(VmError::runtime("internal error: bad type definition")),
        };
        let old = self.types.lookup(&def.name);
        self.undo.push(Undo::TypeName(def.name.clone(), old));
        let id = self.types.add(def);
        Ok(Value::Type(id))
    }

    pub(super) fn def_impl(&mut self, proto: &Proto, desc: u32, base: usize) -> VResult<()> {
        let Some(Desc::Impl {
            type_name,
            trait_name,
            methods,
        }) = proto.descs.get(desc as usize)
        else {
            return Err(VmError::runtime("internal error: bad impl"));
        };
        // `impl Trait for i32` (or `str`, `Vec<T>`, ...): the built-in type's own methods
        // (a program's own type of that name comes first)
        let builtin = builtin_type(type_name)
            .filter(|_| self.types.lookup(type_name).is_none())
            .map(|k| Rc::<str>::from(format!("builtin {k}")));
        let type_name = builtin.as_ref().unwrap_or(type_name);
        let ty = match self.types.lookup(type_name) {
            Some(ty) => ty,
            // a trait's default methods live under `trait Name`, and a built-in type's methods
            // under `builtin kind`: types nothing can make
            None if type_name.starts_with("trait ") || builtin.is_some() => {
                self.types.builtin_impls |= builtin.is_some();
                let id = self.types.add(TypeDef {
                    name: type_name.clone(),
                    kind: TypeKind::Enum {
                        variants: Vec::new(),
                    },
                    methods: Default::default(),
                    defaults: Vec::new(),
                });
                self.undo.push(Undo::TypeName(type_name.clone(), None));
                id
            }
            None => {
                return Err(VmError::runtime(format!(
                    "Undefined type: {type_name} (define the struct or enum before its impl)"
                )))
            }
        };
        for (i, m) in methods.iter().enumerate() {
            let Value::Func(f) = std::mem::take(&mut self.regs[base + i]) else {
                continue;
            };
            let method = Method {
                func: f,
                self_kind: m.self_kind,
            };
            if let Some(def) = self.types.defs.get_mut(ty as usize) {
                let old = def.methods.insert(m.name.clone(), method);
                self.undo.push(Undo::Method(ty, m.name.clone(), old));
            }
        }
        // `impl Trait for Type`: the trait's defaults the type does not have itself (a trait
        // that is not defined, or has no defaults, adds nothing)
        let defaults: Vec<(Rc<str>, Method)> = trait_name
            .as_ref()
            .and_then(|t| self.types.lookup(&format!("trait {t}")))
            .and_then(|t| self.types.get(t))
            .map(|t| {
                t.methods
                    .iter()
                    .map(|(n, m)| (n.clone(), m.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (name, method) in defaults {
            if let Some(def) = self.types.defs.get_mut(ty as usize) {
                if !def.methods.contains_key(&name) {
                    def.methods.insert(name.clone(), method);
                    self.undo.push(Undo::Method(ty, name, None));
                }
            }
        }
        Ok(())
    }
}

pub(super) fn test_range(proto: &Proto, desc: u32, v: &Value) -> bool {
    let Some(Desc::RangePat { lo, hi, inclusive }) = proto.descs.get(desc as usize) else {
        return false;
    };
    let above = match lo {
        Some(lo) => matches!(
            v.compare(lo),
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        ),
        None => matches!(v, Value::Int(_) | Value::Float(_) | Value::Str(_)),
    };
    let below = match hi {
        Some(hi) => match v.compare(hi) {
            Some(std::cmp::Ordering::Less) => true,
            Some(std::cmp::Ordering::Equal) => *inclusive,
            _ => false,
        },
        None => true,
    };
    above && below
}

/// Checks a value against a D24 annotation.
pub(super) fn check_type(v: &Value, kind: Checked, annotation: &str) -> VResult<()> {
    let ok = match kind {
        Checked::Int => matches!(v, Value::Int(_)),
        Checked::Float => matches!(v, Value::Float(_)),
        Checked::Bool => matches!(v, Value::Bool(_)),
        Checked::Str => matches!(v, Value::Str(_)),
    };
    if ok {
        Ok(())
    } else {
        Err(VmError::type_error(format!(
            "expected {annotation}, found {}",
            v.type_name()
        )))
    }
}

/// The built-in type a type name in `impl .. for NAME` means (`i32`, `str`, `Vec`, ...), by
/// the name [`builtin_kind`] gives it.
pub(super) fn builtin_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "Int" => "int",
        "f32" | "f64" | "Float" => "float",
        "str" | "String" | "char" => "string",
        "bool" | "Bool" => "bool",
        "Vec" | "[T]" => "array",
        _ => return None,
    })
}

/// The name under which a built-in receiver kind keeps the methods a program gave it.
pub(super) fn builtin_kind(kind: crate::catalogue::Recv) -> Option<&'static str> {
    use crate::catalogue::Recv;
    Some(match kind {
        Recv::Int => "int",
        Recv::Float => "float",
        Recv::Str => "string",
        Recv::Bool => "bool",
        Recv::Array => "array",
        _ => return None,
    })
}
