//! Runtime values (spec section 8) and the registry of user-defined types.
//!
//! A [`Value`] is 16 bytes: integers, floats, booleans, nil and unit enum variants are stored
//! inline; strings, arrays, tuples, objects, structs and closures live behind `Rc`. Cloning a
//! value never allocates. Value semantics (an array passed to a function is a copy) come from
//! copy-on-write: every mutation goes through `Rc::make_mut`, which copies only when the data
//! is shared.

use crate::catalogue::{Builtin, Recv};
use crate::opcode::Proto;
use ruchy_syntax::ast::SelfKind;
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashMap;

pub use crate::object::ObjMap;
use std::rc::Rc;

pub type TypeId = u32;

/// The built-in `Option` enum: variants `Some` (0) and `None` (1).
pub const OPTION: TypeId = 0;
/// The built-in `Result` enum: variants `Ok` (0) and `Err` (1).
pub const RESULT: TypeId = 1;
pub const SOME: u32 = 0;
pub const NONE: u32 = 1;
pub const OK: u32 = 0;
pub const ERR: u32 = 1;

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<String>),
    Array(Rc<List>),
    Tuple(Rc<List>),
    Object(Rc<ObjMap>),
    /// `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet`, `VecDeque` ([`crate::collection`]).
    Coll(Rc<crate::collection::Coll>),
    Range(Rc<RangeValue>),
    Func(Rc<Closure>),
    Builtin(Builtin),
    /// A struct value (also tuple structs and unit structs).
    Struct(Rc<StructValue>),
    /// An enum variant with a payload: `Some(1)`, `Move(1, 2)`, `Rect { w: 2.0 }`.
    Variant(Rc<VariantValue>),
    /// A payload-free enum variant: `None`, `Color::Red`.
    Unit(TypeId, u32),
    /// A constructor used as a function: `Some`, `Ok`, `Point` (tuple struct), `Shape::Circle`.
    Ctor(TypeId, u32),
    /// A struct or enum type as a value (what a definition evaluates to); calling a tuple
    /// struct's type constructs it.
    Type(TypeId),
    /// A value with a rich MIME form: HTML, Markdown, SVG, a chart ([`crate::rich`]).
    Rich(Rc<crate::rich::Rich>),
    /// Internal: the shared box of a local that a closure captured. Never user-visible.
    Cell(Rc<UpCell>),
    /// Internal: an unassigned global slot or a parameter left for its default.
    Undef,
}

/// A shared mutable box for a captured local (an "upvalue").
#[derive(Debug)]
pub struct UpCell {
    pub value: RefCell<Value>,
    /// The session cell during which the box was created; boxes older than the running cell
    /// are logged before their first write so a failing cell can be rolled back.
    pub born: u32,
    pub logged: Cell<u32>,
}

#[derive(Debug)]
pub struct Closure {
    pub proto: Rc<Proto>,
    pub upvals: Box<[Rc<UpCell>]>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RangeValue {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub inclusive: bool,
}

impl RangeValue {
    /// The integers the range yields when iterated: `start..end` or `start..=end`.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        let start = self.start?;
        let end = self.end?;
        Some(if self.inclusive {
            (start, end.checked_add(1)?)
        } else {
            (start, end)
        })
    }

    /// Resolves the range against a length `len` for slicing; `None` if out of bounds.
    pub fn slice_bounds(&self, len: usize) -> Option<(usize, usize)> {
        let start = self.start.unwrap_or(0);
        let end = match self.end {
            Some(e) if self.inclusive => e.checked_add(1)?,
            Some(e) => e,
            None => len as i64,
        };
        if start < 0 || end < start || count(end) > len {
            return None;
        }
        Some((start as usize, end as usize))
    }
}

#[derive(Clone, Debug)]
pub struct StructValue {
    pub ty: TypeId,
    pub fields: Vec<Value>,
}

#[derive(Clone, Debug)]
pub struct VariantValue {
    pub ty: TypeId,
    pub variant: u32,
    pub fields: Vec<Value>,
}

/// The elements of an array or tuple. A newtype over `Vec<Value>` only so that dropping a
/// deeply nested value does not recurse (see [`drop_children`]).
#[derive(Clone, Debug, Default)]
pub struct List(pub Vec<Value>);

impl std::ops::Deref for List {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for List {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

/// Lets go of a value with the common cases inline: a number owns nothing, and an `Rc` that
/// others still hold is one decrement (the out-of-line drop of a whole `Value`, a jump table
/// over every variant, runs only for the rest and when the last holder goes).
#[inline(always)]
pub fn release(v: Value) {
    if !v.owns_heap() {
        std::mem::forget(v);
        return;
    }
    match v {
        Value::Array(rc) | Value::Tuple(rc) => drop(rc),
        Value::Str(rc) => drop(rc),
        Value::Struct(rc) => drop(rc),
        Value::Object(rc) => drop(rc),
        Value::Func(rc) => drop(rc),
        other => drop(other),
    }
}

pub(crate) fn is_container(v: &Value) -> bool {
    matches!(
        v,
        Value::Array(_) | Value::Tuple(_) | Value::Object(_) | Value::Struct(_) | Value::Variant(_)
    )
}

/// Drops `values` without recursion: containers owned only here are emptied into a work list
/// first, so a million-deep nest (a linked list of enum cells, an array wrapped in itself in a
/// loop) is freed in a loop instead of overflowing the stack. Cheap when no element is a
/// container: nothing happens beyond the normal drop.
pub(crate) fn drop_children(values: &mut Vec<Value>) {
    if !values.iter().any(is_container) {
        // numbers and the like own nothing: let them go without a drop call each
        if !values.iter().any(Value::owns_heap) {
            values.drain(..).for_each(std::mem::forget);
        }
        return;
    }
    let mut stack = std::mem::take(values);
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(mut rc) | Value::Tuple(mut rc) => {
                if let Some(list) = Rc::get_mut(&mut rc) {
                    stack.append(&mut list.0);
                }
            }
            Value::Struct(mut rc) => {
                if let Some(s) = Rc::get_mut(&mut rc) {
                    stack.append(&mut s.fields);
                }
            }
            Value::Variant(mut rc) => {
                if let Some(var) = Rc::get_mut(&mut rc) {
                    stack.append(&mut var.fields);
                }
            }
            Value::Object(mut rc) => {
                if let Some(map) = Rc::get_mut(&mut rc) {
                    stack.extend(map.drain_values());
                }
            }
            _ => {}
        }
    }
}

impl Drop for List {
    fn drop(&mut self) {
        drop_children(&mut self.0);
    }
}

impl Drop for StructValue {
    fn drop(&mut self) {
        drop_children(&mut self.fields);
    }
}

impl Drop for VariantValue {
    fn drop(&mut self) {
        drop_children(&mut self.fields);
    }
}

/// The shape of a user-defined type.
#[derive(Clone, Debug)]
pub enum TypeKind {
    Struct { fields: Vec<Rc<str>>, tuple: bool },
    Enum { variants: Vec<VariantInfo> },
}

#[derive(Clone, Debug)]
pub struct VariantInfo {
    pub name: Rc<str>,
    /// Field names for a struct-like variant; `None` for a tuple or unit variant.
    pub fields: Option<Vec<Rc<str>>>,
    pub arity: usize,
    pub discriminant: i64,
}

#[derive(Clone, Debug)]
pub struct Method {
    pub func: Rc<Closure>,
    pub self_kind: SelfKind,
}

#[derive(Clone, Debug)]
pub struct TypeDef {
    pub name: Rc<str>,
    pub kind: TypeKind,
    pub methods: HashMap<Rc<str>, Method>,
    /// A struct's field defaults, by field (empty: none).
    pub defaults: Vec<Option<Value>>,
}

impl TypeDef {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        match &self.kind {
            TypeKind::Struct { fields, .. } => fields.iter().position(|f| &**f == name),
            TypeKind::Enum { .. } => None,
        }
    }

    pub fn variant(&self, index: u32) -> Option<&VariantInfo> {
        match &self.kind {
            TypeKind::Enum { variants } => variants.get(index as usize),
            TypeKind::Struct { .. } => None,
        }
    }

    pub fn variant_index(&self, name: &str) -> Option<u32> {
        match &self.kind {
            TypeKind::Enum { variants } => variants
                .iter()
                .position(|v| &*v.name == name)
                .map(|i| i as u32),
            TypeKind::Struct { .. } => None,
        }
    }
}

/// All types known to a session. `Option` and `Result` are ids 0 and 1; user types follow.
/// A type redefined by a later cell gets a new id (values made earlier keep their old type);
/// its name then points at the new id.
#[derive(Clone, Debug)]
pub struct Types {
    pub defs: Vec<TypeDef>,
    pub by_name: HashMap<Rc<str>, TypeId>,
    /// A program gave a built-in type methods (`impl Trait for i32`): method calls on
    /// built-in values look for them (see `Vm::user_method`).
    pub builtin_impls: bool,
    /// Changes whenever a type is added or a failed cell's types are taken back: what the
    /// VM's caches of type lookups (`Proto::field_cache`, a struct literal's) are checked by.
    pub version: u32,
}

impl Default for Types {
    fn default() -> Self {
        let variant = |name: &str, arity| VariantInfo {
            name: name.into(),
            fields: None,
            arity,
            discriminant: 0,
        };
        let mut t = Types {
            defs: Vec::new(),
            by_name: HashMap::new(),
            builtin_impls: false,
            version: 0,
        };
        t.add(TypeDef {
            name: "Option".into(),
            kind: TypeKind::Enum {
                variants: vec![variant("Some", 1), variant("None", 0)],
            },
            methods: HashMap::new(),
            defaults: Vec::new(),
        });
        t.add(TypeDef {
            name: "Result".into(),
            kind: TypeKind::Enum {
                variants: vec![variant("Ok", 1), variant("Err", 1)],
            },
            methods: HashMap::new(),
            defaults: Vec::new(),
        });
        t
    }
}

impl Types {
    pub fn add(&mut self, def: TypeDef) -> TypeId {
        let id = self.defs.len() as TypeId;
        self.by_name.insert(def.name.clone(), id);
        self.defs.push(def);
        self.version = self.version.wrapping_add(1);
        id
    }

    /// Takes back the types added after the first `n` (a failed cell's).
    pub fn truncate(&mut self, n: usize) {
        self.defs.truncate(n);
        self.version = self.version.wrapping_add(1);
    }

    pub fn get(&self, id: TypeId) -> Option<&TypeDef> {
        self.defs.get(id as usize)
    }

    pub fn lookup(&self, name: &str) -> Option<TypeId> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: TypeId) -> &str {
        self.get(id).map_or("?", |d| &d.name)
    }

    pub fn variant_name(&self, ty: TypeId, variant: u32) -> &str {
        self.get(ty)
            .and_then(|d| d.variant(variant))
            .map_or("?", |v| &v.name)
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(s.into()))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(List(items)))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(List(items)))
    }

    pub fn object(map: ObjMap) -> Value {
        Value::Object(Rc::new(map))
    }

    pub fn some(v: Value) -> Value {
        Value::Variant(Rc::new(VariantValue {
            ty: OPTION,
            variant: SOME,
            fields: vec![v],
        }))
    }

    pub fn none() -> Value {
        Value::Unit(OPTION, NONE)
    }

    pub fn ok(v: Value) -> Value {
        Value::Variant(Rc::new(VariantValue {
            ty: RESULT,
            variant: OK,
            fields: vec![v],
        }))
    }

    pub fn err(v: Value) -> Value {
        Value::Variant(Rc::new(VariantValue {
            ty: RESULT,
            variant: ERR,
            fields: vec![v],
        }))
    }

    pub fn option(v: Option<Value>) -> Value {
        v.map_or_else(Value::none, Value::some)
    }

    /// Truthiness of `if`, `while` (D13), `&&`, `||`, `!`: only `false` and `nil` are falsy.
    #[inline]
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Bool(false) | Value::Nil)
    }

    /// A copy of the value: numbers, booleans and nil inline (the VM's fast paths copy these
    /// most), anything else through `clone` (a reference count).
    #[inline(always)]
    pub fn dup(&self) -> Value {
        match self {
            Value::Int(n) => Value::Int(*n),
            Value::Float(x) => Value::Float(*x),
            Value::Bool(b) => Value::Bool(*b),
            Value::Nil => Value::Nil,
            _ => self.clone(),
        }
    }

    /// Whether dropping the value can free memory (it holds an `Rc`).
    #[inline(always)]
    pub fn owns_heap(&self) -> bool {
        !matches!(
            self,
            Value::Nil
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::Builtin(_)
                | Value::Unit(..)
                | Value::Ctor(..)
                | Value::Type(_)
                | Value::Undef
        )
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The enum type and variant of a variant value, with its payload.
    pub fn as_variant(&self) -> Option<(TypeId, u32, &[Value])> {
        match self {
            Value::Variant(v) => Some((v.ty, v.variant, &v.fields)),
            Value::Unit(t, i) => Some((*t, *i, &[])),
            _ => None,
        }
    }

    /// `typeof(v)` (spec section 8).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil | Value::Undef => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Tuple(_) => "tuple",
            Value::Object(_) => "object",
            Value::Coll(c) => c.kind().name(),
            Value::Range(_) => "range",
            Value::Func(_) | Value::Builtin(_) | Value::Ctor(..) => "function",
            Value::Type(_) => "type",
            Value::Struct(_) => "struct",
            Value::Variant(_) | Value::Unit(..) => "enum_variant",
            Value::Rich(r) => r.type_name(),
            Value::Cell(_) => "cell",
        }
    }

    /// Structural equality for every kind of value (D6); numbers compare across int/float.
    pub fn equals(&self, other: &Value) -> bool {
        equals(self, other, 0)
    }

    /// Ordering for `<` and `sort`: numbers (mixed int/float), strings, and arrays/tuples of
    /// those elementwise. `None` when the two cannot be ordered.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        compare(self, other, 0)
    }
}

/// Nesting past which equality and ordering give up (the values are then unequal/unordered)
/// rather than overflowing the stack.
const MAX_NESTING: u32 = 2000;

/// Elements compared between two looks at the meter.
const CHUNK: usize = crate::budget::CHUNK as usize;

fn equals(a: &Value, b: &Value, depth: u32) -> bool {
    use Value::*;
    if depth > MAX_NESTING || !ruchy_syntax::stack::ok() {
        return false;
    }
    let d = depth + 1;
    match (a, b) {
        (Nil, Nil) | (Undef, Undef) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => (*x as f64) == *y,
        // long strings are work for the meter (a unit per 16 bytes)
        (Str(x), Str(y)) => (x.len() < 4096 || crate::budget::go_on(x.len() / 16)) && x == y,
        // a unit of work per element (the meter stops a comparison of values that share
        // their parts a billion times; the VM then ends the cell with the limit)
        (Array(x), Array(y)) | (Tuple(x), Tuple(y)) => {
            Rc::ptr_eq(x, y)
                || x.len() == y.len()
                    && x.chunks(CHUNK).zip(y.chunks(CHUNK)).all(|(p, q)| {
                        crate::budget::go_on(p.len())
                            && p.iter().zip(q.iter()).all(|(p, q)| equals(p, q, d))
                    })
        }
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && crate::budget::go_on(x.len())
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && equals(v1, v2, d))
        }
        (Coll(x), Coll(y)) => {
            Rc::ptr_eq(x, y) || crate::budget::go_on(x.len()) && x.equals(y, |p, q| equals(p, q, d))
        }
        (Range(x), Range(y)) => x == y,
        (Rich(x), Rich(y)) => Rc::ptr_eq(x, y) || x == y,
        (Func(x), Func(y)) => Rc::ptr_eq(x, y),
        (Builtin(x), Builtin(y)) => x == y,
        (Ctor(t1, v1), Ctor(t2, v2)) => t1 == t2 && v1 == v2,
        (Type(t1), Type(t2)) => t1 == t2,
        (Struct(x), Struct(y)) => {
            x.ty == y.ty
                && x.fields.len() == y.fields.len()
                && x.fields.iter().zip(&y.fields).all(|(p, q)| equals(p, q, d))
        }
        (Variant(_) | Unit(..), Variant(_) | Unit(..)) => {
            let (Some((t1, v1, f1)), Some((t2, v2, f2))) = (a.as_variant(), b.as_variant()) else {
                return false;
            };
            t1 == t2
                && v1 == v2
                && f1.len() == f2.len()
                && f1.iter().zip(f2).all(|(p, q)| equals(p, q, d))
        }
        _ => false,
    }
}

fn compare(a: &Value, b: &Value, depth: u32) -> Option<Ordering> {
    use Value::*;
    if depth > MAX_NESTING || !ruchy_syntax::stack::ok() {
        return None;
    }
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Str(x), Str(y)) => {
            if x.len().min(y.len()) >= 4096 && !crate::budget::go_on(x.len().min(y.len()) / 16) {
                return None;
            }
            Some(x.as_str().cmp(y.as_str()))
        }
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Array(x), Array(y)) | (Tuple(x), Tuple(y)) => {
            for (i, (p, q)) in x.iter().zip(y.iter()).enumerate() {
                if i % CHUNK == 0 && !crate::budget::go_on(CHUNK) {
                    return None;
                }
                match compare(p, q, depth + 1)? {
                    Ordering::Equal => continue,
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => None,
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.equals(other)
    }
}

/// The receiver kind of a value; `None` for values with no built-in methods of their own
/// (nil, functions, types, structs and user enums: only the [`Recv::Any`] methods apply).
pub fn recv_of(v: &Value) -> Option<Recv> {
    Some(match v {
        Value::Str(_) => Recv::Str,
        Value::Array(_) => Recv::Array,
        Value::Range(_) => Recv::Range,
        Value::Tuple(_) => Recv::Tuple,
        Value::Object(_) => Recv::Object,
        Value::Coll(c) => match &**c {
            crate::collection::Coll::Map(..) => Recv::Map,
            crate::collection::Coll::Set(..) => Recv::Set,
            crate::collection::Coll::Deque(_) => Recv::Deque,
        },
        Value::Int(_) => Recv::Int,
        Value::Float(_) => Recv::Float,
        Value::Bool(_) => Recv::Bool,
        Value::Variant(_) | Value::Unit(..) => match v.as_variant() {
            Some((OPTION, ..)) => Recv::Option,
            Some((RESULT, ..)) => Recv::Result,
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_of_values() {
        assert_eq!(recv_of(&Value::str("a")), Some(Recv::Str));
        assert_eq!(recv_of(&Value::Int(1)), Some(Recv::Int));
        assert_eq!(recv_of(&Value::some(Value::Int(1))), Some(Recv::Option));
        assert_eq!(recv_of(&Value::none()), Some(Recv::Option));
        assert_eq!(recv_of(&Value::err(Value::Int(1))), Some(Recv::Result));
        assert_eq!(recv_of(&Value::Nil), None);
    }

    #[test]
    fn dropping_a_million_deep_nest_does_not_overflow() {
        let mut v = Value::Nil;
        for i in 0..1_000_000 {
            v = if i % 2 == 0 {
                Value::array(vec![v])
            } else {
                Value::Variant(Rc::new(VariantValue {
                    ty: OPTION,
                    variant: SOME,
                    fields: vec![v],
                }))
            };
        }
        drop(v);
    }

    #[test]
    fn a_value_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn structural_equality_d6() {
        assert!(Value::some(Value::Int(1)).equals(&Value::some(Value::Int(1))));
        assert!(Value::none().equals(&Value::none()));
        assert!(!Value::some(Value::Int(1)).equals(&Value::none()));
        assert!(Value::Int(1).equals(&Value::Float(1.0)));
        assert!(!Value::Int(1).equals(&Value::str("1")));
        assert!(!Value::Nil.equals(&Value::Bool(false)));
    }

    #[test]
    fn truthiness_only_false_and_nil_are_falsy() {
        assert!(Value::Int(0).truthy());
        assert!(Value::str("").truthy());
        assert!(!Value::Nil.truthy());
        assert!(!Value::Bool(false).truthy());
    }
}

/// The bytes of one value in an array (the size a value of `n` elements is asked for with).
pub const VALUE_BYTES: usize = std::mem::size_of::<Value>();

/// [`crate::budget::elements`] for `n` values.
pub fn budget_values(n: usize) -> Result<(), crate::budget::Exceeded> {
    crate::budget::elements(n as u64, VALUE_BYTES)
}

/// An `Int` used as a count or an index: a negative one is 0, and one past `usize` (32 bits in
/// WebAssembly, where `as usize` would wrap 2^32 to 0) saturates, so it is refused as too big
/// or out of bounds instead of meaning something small.
pub fn count(n: i64) -> usize {
    if n <= 0 {
        0
    } else {
        usize::try_from(n).unwrap_or(usize::MAX)
    }
}
