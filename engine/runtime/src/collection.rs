//! Rust's collections by their names: `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet` and
//! `VecDeque` (`HashMap::new()`, `map.insert(k, v)`, `*map.entry(k).or_insert(0) += 1`).
//!
//! A map or a set holds its keys in order (any value made of integers, strings, booleans and
//! tuples or arrays of those is a key; a float is not, as in Rust), so a `HashMap` iterates
//! and prints in key order exactly as a `BTreeMap` does: the same program always prints the
//! same thing, where Rust's own `HashMap` picks a new order each run (language choices,
//! "Collections"). A `VecDeque` is a double-ended queue of any values. Each prints as Rust's
//! `{:?}` prints it: `{"a": 1}`, `{1, 2}`, `[1, 2]`.

use crate::budget;
use crate::catalogue::MethodId as M;
use crate::error::VmError;
use crate::value::Value;
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

type VResult<T> = Result<T, VmError>;

/// Which of Rust's collections a value is.
pub use ruchy_syntax::ast::CollectionKind as Kind;

/// An empty collection of this kind.
pub fn empty(kind: Kind) -> Coll {
    match kind {
        Kind::HashMap | Kind::BTreeMap => Coll::Map(kind, Table::default()),
        Kind::HashSet | Kind::BTreeSet => Coll::Set(kind, Table::default()),
        Kind::VecDeque => Coll::Deque(VecDeque::new()),
    }
}

/// A map's or a set's key: a value with a total order (checked by [`Key::new`]).
#[derive(Clone)]
pub struct Key(pub Value);

impl Key {
    /// `v` as a key, or why it cannot be one.
    pub fn new(v: &Value) -> VResult<Key> {
        if keyable(v, 0) {
            Ok(Key(v.clone()))
        } else {
            Err(VmError::type_error(format!(
                "A {} cannot be a key of a map or set: keys are integers, strings, booleans, and tuples or arrays of those",
                v.type_name()
            )))
        }
    }
}

fn keyable(v: &Value, depth: u32) -> bool {
    match v {
        Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Str(_) | Value::Unit(..) => true,
        Value::Tuple(items) | Value::Array(items) => {
            depth < 64 && items.iter().all(|x| keyable(x, depth + 1))
        }
        _ => false,
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 2,
        Value::Str(_) => 3,
        Value::Tuple(_) => 4,
        Value::Array(_) => 5,
        _ => 6,
    }
}

fn key_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_str().cmp(y.as_str()),
        (Value::Tuple(x), Value::Tuple(y)) | (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match key_cmp(p, q) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Unit(t, i), Value::Unit(u, j)) => (t, i).cmp(&(u, j)),
        _ => rank(a).cmp(&rank(b)),
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        key_cmp(&self.0, &other.0) == Ordering::Equal
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        key_cmp(&self.0, &other.0)
    }
}

fn key_hash<H: Hasher>(v: &Value, h: &mut H) {
    rank(v).hash(h);
    match v {
        Value::Bool(b) => b.hash(h),
        Value::Int(n) => n.hash(h),
        Value::Str(s) => s.as_str().hash(h),
        Value::Tuple(items) | Value::Array(items) => {
            items.len().hash(h);
            for x in items.iter() {
                key_hash(x, h);
            }
        }
        Value::Unit(t, i) => (t, i).hash(h),
        _ => {}
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        key_hash(&self.0, h)
    }
}

/// A map's entries: found by hash, and put in key order when they are walked or shown (the
/// order both `HashMap` and `BTreeMap` promise here). A hash table and a sort, where a
/// `BTreeMap` of its own cost the component 80 KB of code.
#[derive(Clone, Default)]
pub struct Table(FxHashMap<Key, Value>);

impl Table {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, k: &Key) -> Option<&Value> {
        self.0.get(k)
    }

    pub fn get_mut(&mut self, k: &Key) -> Option<&mut Value> {
        self.0.get_mut(k)
    }

    pub fn contains_key(&self, k: &Key) -> bool {
        self.0.contains_key(k)
    }

    pub fn insert(&mut self, k: Key, v: Value) -> Option<Value> {
        self.0.insert(k, v)
    }

    pub fn remove(&mut self, k: &Key) -> Option<Value> {
        self.0.remove(k)
    }

    pub fn clear(&mut self) {
        self.0.clear()
    }

    /// The value at `k`, `v` put there first when there is none.
    pub fn or_insert(&mut self, k: Key, v: &Value) -> &mut Value {
        self.0.entry(k).or_insert_with(|| v.clone())
    }

    /// The entries in key order.
    pub fn iter(&self) -> std::vec::IntoIter<(&Key, &Value)> {
        let mut entries: Vec<(&Key, &Value)> = self.0.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        entries.into_iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.iter().map(|(k, _)| k)
    }

    /// A set of these keys (each to nil).
    fn nil_entries<'a>(keys: impl Iterator<Item = &'a Key>) -> Table {
        Table(keys.map(|k| (k.clone(), Value::Nil)).collect())
    }
}

/// A collection value. A set is a table whose values are all nil: one table's code in the
/// component, not two.
#[derive(Clone)]
pub enum Coll {
    /// `HashMap` or `BTreeMap`.
    Map(Kind, Table),
    /// `HashSet` or `BTreeSet`: the keys, each to nil.
    Set(Kind, Table),
    Deque(VecDeque<Value>),
}

// (by hand: a derived `Debug` of the B-tree and its keys costs the component kilobytes)
impl std::fmt::Debug for Coll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(len {})", self.kind().name(), self.len())
    }
}

impl Coll {
    pub fn kind(&self) -> Kind {
        match self {
            Coll::Map(k, _) | Coll::Set(k, _) => *k,
            Coll::Deque(_) => Kind::VecDeque,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Coll::Map(_, m) => m.len(),
            Coll::Set(_, s) => s.len(),
            Coll::Deque(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A collection of kind `kind` with the items of `from` (an array, a range, another
    /// collection): `HashSet::from([1, 2])`, `HashMap::from([("a", 1)])`, `collect()`.
    pub fn build(kind: Kind, from: Value) -> VResult<Coll> {
        let items = match from {
            Value::Coll(c) => items(&c)?,
            Value::Array(a) | Value::Tuple(a) => a.to_vec(),
            r @ Value::Range(_) => match crate::methods::iterable(r)? {
                Value::Range(r) => crate::methods::range_items(&r)?,
                other => vec![other],
            },
            other => {
                return Err(VmError::type_error(format!(
                    "{}::from needs an array, found {}",
                    kind.name(),
                    other.type_name()
                )))
            }
        };
        budget::burn(items.len())?;
        let mut c = empty(kind);
        match &mut c {
            Coll::Map(_, m) => {
                for it in items {
                    match it {
                        Value::Tuple(p) | Value::Array(p) if p.len() == 2 => {
                            m.insert(Key::new(&p[0])?, p[1].clone());
                        }
                        other => {
                            return Err(VmError::type_error(format!(
                                "A {} is made of (key, value) pairs, found {}",
                                kind.name(),
                                other.type_name()
                            )))
                        }
                    }
                }
            }
            Coll::Set(_, s) => {
                for it in items {
                    s.insert(Key::new(&it)?, Value::Nil);
                }
            }
            Coll::Deque(d) => d.extend(items),
        }
        Ok(c)
    }

    /// Structural equality: the same kind of collection with equal entries.
    pub fn equals(&self, other: &Coll, eq: impl Fn(&Value, &Value) -> bool) -> bool {
        match (self, other) {
            (Coll::Map(_, a), Coll::Map(_, b)) => {
                a.len() == b.len() && a.0.iter().all(|(k, v)| b.get(k).is_some_and(|w| eq(v, w)))
            }
            (Coll::Set(_, a), Coll::Set(_, b)) => {
                a.len() == b.len() && a.0.keys().all(|k| b.contains_key(k))
            }
            (Coll::Deque(a), Coll::Deque(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(p, q)| eq(p, q))
            }
            _ => false,
        }
    }
}

/// What `for` and `iter()` walk: a map's `(key, value)` pairs and a set's keys in key order,
/// a deque's values front to back.
pub fn items(c: &Coll) -> VResult<Vec<Value>> {
    budget::values(c.len())?;
    Ok(match c {
        Coll::Map(_, m) => m
            .iter()
            .map(|(k, v)| Value::tuple(vec![k.0.clone(), v.clone()]))
            .collect(),
        Coll::Set(_, s) => s.keys().map(|k| k.0.clone()).collect(),
        Coll::Deque(d) => d.iter().cloned().collect(),
    })
}

/// `map[k]`: the value at `k`, an error when there is none (Rust panics).
pub fn index(c: &Coll, k: &Value) -> VResult<Value> {
    match c {
        Coll::Map(_, m) => m
            .get(&Key::new(k)?)
            .cloned()
            .ok_or_else(|| VmError::runtime(format!("Key not found: {}", show_key(k)))),
        Coll::Deque(d) => match k {
            Value::Int(i) if *i >= 0 && (*i as usize) < d.len() => Ok(d[*i as usize].clone()),
            Value::Int(i) => Err(VmError::runtime(format!(
                "Index {i} out of bounds for VecDeque of length {}",
                d.len()
            ))),
            other => Err(VmError::type_error(format!(
                "Cannot index a VecDeque with {}",
                other.type_name()
            ))),
        },
        Coll::Set(..) => Err(VmError::type_error(
            "Cannot index a set: ask set.contains(x)",
        )),
    }
}

/// `map[k] = v`, `map[k] += 1`: the place of `k`'s value (made, as nil, when `create` and
/// there is none).
pub fn place<'c>(c: &'c mut Coll, k: &Value, create: bool) -> VResult<&'c mut Value> {
    match c {
        Coll::Map(_, m) => {
            let key = Key::new(k)?;
            if create && !m.contains_key(&key) {
                budget::values(1)?;
                m.insert(key.clone(), Value::Nil);
            }
            m.get_mut(&key)
                .ok_or_else(|| VmError::runtime(format!("Key not found: {}", show_key(k))))
        }
        Coll::Deque(d) => {
            let len = d.len();
            match k {
                Value::Int(i) if *i >= 0 && (*i as usize) < len => Ok(&mut d[*i as usize]),
                _ => Err(VmError::runtime(format!(
                    "Index {} out of bounds for VecDeque of length {len}",
                    show_key(k)
                ))),
            }
        }
        Coll::Set(..) => Err(VmError::type_error(
            "Cannot assign into a set: use set.insert(x)",
        )),
    }
}

fn show_key(k: &Value) -> String {
    crate::display::display(k, &Default::default())
}

fn arg<'a>(name: &str, args: &'a [Value], i: usize) -> VResult<&'a Value> {
    args.get(i)
        .ok_or_else(|| VmError::runtime(format!("{name}() expects {} arguments", i + 1)))
}

fn unknown(c: &Coll, name: &str) -> VmError {
    VmError::runtime(format!("Unknown method: {}.{name}()", c.kind().name()))
}

/// A built-in method of a collection. Those that change it (`mutates` in the catalogue)
/// change `c` in place.
pub fn method(c: &mut Rc<Coll>, id: M, name: &str, args: &[Value]) -> VResult<Value> {
    // the ones that only read
    match (&**c, id) {
        (_, M::Len) => return Ok(Value::Int(c.len() as i64)),
        (_, M::IsEmpty) => return Ok(Value::Bool(c.is_empty())),
        (_, M::Iter | M::IntoIter | M::ToArray) => return Ok(Value::array(items(c)?)),
        (Coll::Map(_, m), M::Get) => {
            return Ok(Value::option(
                m.get(&Key::new(arg(name, args, 0)?)?).cloned(),
            ))
        }
        (Coll::Map(_, m), M::ContainsKey) => {
            return Ok(Value::Bool(m.contains_key(&Key::new(arg(name, args, 0)?)?)))
        }
        (Coll::Map(_, m), M::Keys) => {
            budget::values(m.len())?;
            return Ok(Value::array(m.keys().map(|k| k.0.clone()).collect()));
        }
        (Coll::Map(_, m), M::Values) => {
            budget::values(m.len())?;
            return Ok(Value::array(m.iter().map(|(_, v)| v.clone()).collect()));
        }
        (Coll::Set(_, s), M::Contains) => {
            return Ok(Value::Bool(s.contains_key(&Key::new(arg(name, args, 0)?)?)))
        }
        (
            Coll::Set(kind, s),
            M::Union | M::Intersection | M::Difference | M::SymmetricDifference,
        ) => {
            let other = match arg(name, args, 0)? {
                Value::Coll(o) => match &**o {
                    Coll::Set(_, o) => o,
                    o => {
                        return Err(VmError::type_error(format!(
                            "{name}() of a {} needs another set, found a {}",
                            kind.name(),
                            o.kind().name()
                        )))
                    }
                },
                o => {
                    return Err(VmError::type_error(format!(
                        "{name}() of a {} needs another set, found {}",
                        kind.name(),
                        o.type_name()
                    )))
                }
            };
            budget::burn(s.len() + other.len())?;
            let keys = match id {
                M::Union => Table::nil_entries(s.0.keys().chain(other.0.keys())),
                M::Intersection => Table::nil_entries(s.0.keys().filter(|k| other.contains_key(k))),
                M::Difference => Table::nil_entries(s.0.keys().filter(|k| !other.contains_key(k))),
                _ => Table::nil_entries(
                    s.0.keys()
                        .filter(|k| !other.contains_key(k))
                        .chain(other.0.keys().filter(|k| !s.contains_key(k))),
                ),
            };
            budget::values(keys.len())?;
            return Ok(Value::Coll(Rc::new(Coll::Set(*kind, keys))));
        }
        (Coll::Set(_, s), M::IsSubset | M::IsSuperset | M::IsDisjoint) => {
            let Value::Coll(o) = arg(name, args, 0)? else {
                return Err(VmError::type_error(format!("{name}() needs another set")));
            };
            let Coll::Set(_, o) = &**o else {
                return Err(VmError::type_error(format!("{name}() needs another set")));
            };
            let within = |a: &Table, b: &Table| a.0.keys().all(|k| b.contains_key(k));
            return Ok(Value::Bool(match id {
                M::IsSubset => within(s, o),
                M::IsSuperset => within(o, s),
                _ => !s.0.keys().any(|k| o.contains_key(k)),
            }));
        }
        (Coll::Deque(d), M::Front) => return Ok(Value::option(d.front().cloned())),
        (Coll::Deque(d), M::Back) => return Ok(Value::option(d.back().cloned())),
        (Coll::Deque(d), M::Get) => {
            let v = match arg(name, args, 0)? {
                Value::Int(i) if *i >= 0 => d.get(*i as usize).cloned(),
                _ => None,
            };
            return Ok(Value::option(v));
        }
        (Coll::Deque(d), M::Contains) => {
            let x = arg(name, args, 0)?;
            budget::burn(d.len())?;
            return Ok(Value::Bool(d.iter().any(|y| y.equals(x))));
        }
        _ => {}
    }
    if !id.mutates() {
        return Err(unknown(c, name));
    }
    // the ones that change it: one holder, or a copy of its own
    let coll = Rc::make_mut(c);
    Ok(match (coll, id) {
        (Coll::Map(_, m), M::Insert) => {
            let k = Key::new(arg(name, args, 0)?)?;
            let v = arg(name, args, 1)?.clone();
            budget::values(1)?;
            Value::option(m.insert(k, v))
        }
        (Coll::Map(_, m), M::Remove) => Value::option(m.remove(&Key::new(arg(name, args, 0)?)?)),
        // `map.entry(k).or_insert(v)` (the parser's spelling): the value at k, v put there first
        // when there is none
        (Coll::Map(_, m), M::OrInsert) => {
            let k = Key::new(arg(name, args, 0)?)?;
            let v = arg(name, args, 1)?;
            budget::values(1)?;
            m.or_insert(k, v).clone()
        }
        (Coll::Set(_, s), M::Insert) => {
            let k = Key::new(arg(name, args, 0)?)?;
            budget::values(1)?;
            Value::Bool(s.insert(k, Value::Nil).is_none())
        }
        (Coll::Set(_, s), M::Remove) => {
            Value::Bool(s.remove(&Key::new(arg(name, args, 0)?)?).is_some())
        }
        (Coll::Deque(d), M::PushBack) => {
            budget::values(1)?;
            d.push_back(arg(name, args, 0)?.clone());
            Value::Nil
        }
        (Coll::Deque(d), M::PushFront) => {
            budget::values(1)?;
            d.push_front(arg(name, args, 0)?.clone());
            Value::Nil
        }
        (Coll::Deque(d), M::PopBack) => Value::option(d.pop_back()),
        (Coll::Deque(d), M::PopFront) => Value::option(d.pop_front()),
        (Coll::Map(_, m), M::Clear) => {
            m.clear();
            Value::Nil
        }
        (Coll::Set(_, s), M::Clear) => {
            s.clear();
            Value::Nil
        }
        (Coll::Deque(d), M::Clear) => {
            d.clear();
            Value::Nil
        }
        (coll, _) => return Err(unknown(coll, name)),
    })
}
