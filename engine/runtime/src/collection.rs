//! Rust's collections by their names: `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet` and
//! `VecDeque` (`HashMap::new()`, `map.insert(k, v)`, `*map.entry(k).or_insert(0) += 1`).
//!
//! A map or a set holds its keys in order (any value made of integers, strings, booleans and
//! tuples or arrays of those is a key; a float is not, as in Rust), so a `HashMap` iterates
//! and prints in key order exactly as a `BTreeMap` does: the same program always prints the
//! same thing, where Rust's own `HashMap` picks a new order each run (language choices,
//! "Collections"). A `VecDeque` is a double-ended queue of any values. Each prints as Rust's
//! `{:?}` prints it: `{"a": 1}`, `{1, 2}`, `[1, 2]`.

use crate::error::VmError;
use crate::value::Value;
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

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
pub struct Table(pub(crate) FxHashMap<Key, Value>);

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
        crate::sort::sort_by(&mut entries, |a, b| a.0 < b.0);
        entries.into_iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.iter().map(|(k, _)| k)
    }

    /// A set of these keys (each to nil).
    pub(crate) fn nil_entries<'a>(keys: impl Iterator<Item = &'a Key>) -> Table {
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
    crate::value::budget_values(c.len())?;
    Ok(match c {
        Coll::Map(_, m) => m
            .iter()
            .map(|(k, v)| Value::tuple(vec![k.0.clone(), v.clone()]))
            .collect(),
        Coll::Set(_, s) => s.keys().map(|k| k.0.clone()).collect(),
        Coll::Deque(d) => d.iter().cloned().collect(),
    })
}
