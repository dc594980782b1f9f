//! Objects (`{name: "Ada", age: 36}`, `counts[w] += 1`): string keys to values.
//!
//! Entries are found by hash (one probe and one key comparison, where a sorted tree compared
//! a dozen keys through a pointer each: 5,000 words counted 4x slower), and shown, iterated
//! and compared in key order as the language promises (spec D12): the order is made when it
//! is asked for, by sorting the keys.

use crate::value::Value;
use rustc_hash::FxHashMap;
use std::rc::Rc;

#[derive(Clone, Debug, Default)]
pub struct ObjMap(FxHashMap<Rc<str>, Value>);

impl ObjMap {
    pub fn new() -> ObjMap {
        ObjMap::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    #[inline]
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.get_mut(key)
    }

    #[inline]
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key`, returning the value it had.
    pub fn insert(&mut self, key: Rc<str>, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    pub fn clear(&mut self) {
        self.0.clear()
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// The entries in key order.
    pub fn iter(&self) -> std::vec::IntoIter<(&Rc<str>, &Value)> {
        let mut entries: Vec<(&Rc<str>, &Value)> = self.0.iter().collect();
        crate::sort::sort_by(&mut entries, |a, b| a.0 < b.0);
        entries.into_iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &Rc<str>> {
        self.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    /// The values in no particular order (a question about all of them).
    pub fn values_unordered(&self) -> impl Iterator<Item = &Value> {
        self.0.values()
    }

    /// Every value, moved out in no particular order (freeing a deep nest without recursion).
    pub fn drain_values(&mut self) -> impl Iterator<Item = Value> + '_ {
        self.0.drain().map(|(_, v)| v)
    }
}

impl FromIterator<(Rc<str>, Value)> for ObjMap {
    fn from_iter<I: IntoIterator<Item = (Rc<str>, Value)>>(iter: I) -> ObjMap {
        ObjMap(iter.into_iter().collect())
    }
}

impl Drop for ObjMap {
    fn drop(&mut self) {
        if self.0.values().any(crate::value::is_container) {
            let mut values: Vec<Value> = self.drain_values().collect();
            crate::value::drop_children(&mut values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_is_in_key_order_whatever_the_insertion_order() {
        let mut m = ObjMap::new();
        for k in ["pear", "apple", "fig", "banana", "apple"] {
            m.insert(k.into(), Value::Int(k.len() as i64));
        }
        let keys: Vec<&str> = m.keys().map(|k| &**k).collect();
        assert_eq!(keys, ["apple", "banana", "fig", "pear"]);
        assert_eq!(m.len(), 4);
        assert!(matches!(m.get("fig"), Some(Value::Int(3))));
        assert!(m.remove("fig").is_some() && !m.contains_key("fig"));
    }
}
