//! Methods of `HashMap`, `BTreeMap`, `HashSet`, `BTreeSet` and `VecDeque` (the values of
//! [`crate::collection`]), their indexing (`map[k]`, `map[k] = v`) and making one from other
//! values (`HashSet::from([1, 2])`, `collect()`).

use crate::budget;
use crate::catalogue::MethodId as M;
use crate::collection::{empty, items, Coll, Key, Kind, Table};
use crate::error::VmError;
use crate::value::Value;
use std::rc::Rc;

type VResult<T> = Result<T, VmError>;

/// A collection of kind `kind` with the items of `from` (an array, a range, another
/// collection): `HashSet::from([1, 2])`, `HashMap::from([("a", 1)])`, `collect()`.
pub fn build(kind: Kind, from: Value) -> VResult<Coll> {
    let items = match from {
        Value::Coll(c) => items(&c)?,
        Value::Array(a) | Value::Tuple(a) => a.to_vec(),
        r @ Value::Range(_) => match super::iterable(r)? {
            Value::Range(r) => super::range_items(&r)?,
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
                crate::value::budget_values(1)?;
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
            crate::value::budget_values(m.len())?;
            return Ok(Value::array(m.keys().map(|k| k.0.clone()).collect()));
        }
        (Coll::Map(_, m), M::Values) => {
            crate::value::budget_values(m.len())?;
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
            crate::value::budget_values(keys.len())?;
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
            crate::value::budget_values(1)?;
            Value::option(m.insert(k, v))
        }
        (Coll::Map(_, m), M::Remove) => Value::option(m.remove(&Key::new(arg(name, args, 0)?)?)),
        // `map.entry(k).or_insert(v)` (the parser's spelling): the value at k, v put there first
        // when there is none
        (Coll::Map(_, m), M::OrInsert) => {
            let k = Key::new(arg(name, args, 0)?)?;
            let v = arg(name, args, 1)?;
            crate::value::budget_values(1)?;
            m.or_insert(k, v).clone()
        }
        (Coll::Set(_, s), M::Insert) => {
            let k = Key::new(arg(name, args, 0)?)?;
            crate::value::budget_values(1)?;
            Value::Bool(s.insert(k, Value::Nil).is_none())
        }
        (Coll::Set(_, s), M::Remove) => {
            Value::Bool(s.remove(&Key::new(arg(name, args, 0)?)?).is_some())
        }
        (Coll::Deque(d), M::PushBack) => {
            crate::value::budget_values(1)?;
            d.push_back(arg(name, args, 0)?.clone());
            Value::Nil
        }
        (Coll::Deque(d), M::PushFront) => {
            crate::value::budget_values(1)?;
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
