//! Methods of the built-in types (spec section 13, decisions D11, D12, D20, D21): strings,
//! arrays, ranges, tuples, objects, numbers, `Option` and `Result`. Also indexing, `len` and
//! what `for` iterates over.
//!
//! A method that changes its receiver (`push`, `pop`, `insert`, `remove`, `sort` ...) gets the
//! receiver by `&mut`; when the receiver is a variable or a field the VM hands it over without
//! a copy, so `xs.push(x)` in a loop is amortised O(1). Such a method is marked so in the
//! catalogue ([`crate::catalogue`], read by [`mutates`]). `sort` and `reverse` change an array
//! in place and also return it.

use crate::arith;
use crate::budget;
use crate::builtins::{parse_float, parse_int, to_float};
use crate::catalogue::MethodId;
use crate::catalogue::MethodId as M;
use crate::display::{display, display_plain, format_float};
use crate::error::VmError;
use crate::value::*;
use crate::vm::{norm_index, Vm};
use std::cmp::Ordering;
use std::rc::Rc;

mod array;
pub mod collection;
mod number;
mod object;
mod string;
mod variant;

type VResult<T> = Result<T, VmError>;

/// Methods that change their receiver (a variable or a place is updated after the call; the
/// transpiler makes such a receiver `mut`): the catalogue's `mutates`.
pub fn mutates(name: &str) -> bool {
    MethodId::lookup(name).is_some_and(MethodId::mutates)
}

/// `len(x)` and `x.len()`: bytes of a string, elements of a collection.
pub fn length(v: &Value) -> VResult<i64> {
    Ok(match v {
        Value::Str(s) => s.len() as i64,
        Value::Array(a) | Value::Tuple(a) => a.len() as i64,
        Value::Object(m) => m.len() as i64,
        Value::Coll(c) => c.len() as i64,
        Value::Range(r) if r.start.is_none() || r.end.is_none() => {
            return Err(VmError::runtime("An open range has no length"))
        }
        Value::Range(r) => match r.bounds().and_then(|(lo, hi)| hi.checked_sub(lo)) {
            Some(n) => n.max(0),
            None => return Err(arith::overflow("range length")),
        },
        other => {
            return Err(VmError::type_error(format!(
                "len() is not defined for {}",
                other.type_name()
            )))
        }
    })
}

/// The element or slice `obj[idx]` (D21 for ranges).
pub fn index(obj: &Value, idx: &Value) -> VResult<Value> {
    match (obj, idx) {
        (Value::Array(a), Value::Int(i)) | (Value::Tuple(a), Value::Int(i)) => {
            let kind = if matches!(obj, Value::Array(_)) {
                "array"
            } else {
                "tuple"
            };
            norm_index(*i, a.len())
                .map(|k| a[k].clone())
                .ok_or_else(|| {
                    VmError::runtime(format!(
                        "Index {i} out of bounds for {kind} of length {}",
                        a.len()
                    ))
                })
        }
        (Value::Array(a), Value::Range(r)) => match r.slice_bounds(a.len()) {
            Some((lo, hi)) => Ok(Value::array(to_vec(&a[lo..hi])?)),
            None => Err(VmError::runtime(format!(
                "Range {} out of bounds for array of length {}",
                display(idx, &Types::default()),
                a.len()
            ))),
        },
        (Value::Str(s), Value::Int(i)) => {
            let n = s.chars().count();
            budget::burn(n)?;
            norm_index(*i, n)
                .and_then(|k| s.chars().nth(k))
                .map(|c| Value::str(c.to_string()))
                .ok_or_else(|| {
                    VmError::runtime(format!("Index {i} out of bounds for string of length {n}"))
                })
        }
        (Value::Str(s), Value::Range(r)) => {
            let n = s.chars().count();
            budget::burn(n)?;
            match r.slice_bounds(n) {
                Some((lo, hi)) => Ok(Value::str(char_slice(s, lo, hi))),
                None => Err(VmError::runtime(format!(
                    "Range {} out of bounds for string of length {n}",
                    display(idx, &Types::default()),
                ))),
            }
        }
        (Value::Object(m), Value::Str(k)) => m
            .get(k.as_str())
            .cloned()
            .ok_or_else(|| VmError::runtime(format!("Key not found: \"{k}\""))),
        (Value::Coll(c), k) => collection::index(c, k),
        (o, i) => Err(VmError::type_error(format!(
            "Cannot index {} with {}",
            o.type_name(),
            i.type_name()
        ))),
    }
}

/// What `for` walks: arrays, integer ranges and strings as they are (the VM steps through
/// them), objects as `(key, value)` tuples in key order, tuples as arrays (D12).
pub fn iterable(v: Value) -> VResult<Value> {
    match v {
        Value::Array(_) | Value::Str(_) => Ok(v),
        Value::Range(ref r) if r.start.is_some() => Ok(v),
        Value::Tuple(t) => Ok(Value::Array(t)),
        Value::Coll(c) => Ok(Value::array(crate::collection::items(&c)?)),
        Value::Object(m) => {
            Ok(Value::array(budget::collect(m.iter().map(|(k, v)| {
                Value::tuple(vec![Value::str(k.to_string()), v.clone()])
            }))?))
        }
        other => Err(VmError::type_error(format!(
            "Cannot iterate over {}",
            other.type_name()
        ))),
    }
}

/// The largest (or smallest) element; nil for none.
/// Where `x` first is in `items` (by `==`), a chunk of elements at a time for the meter.
fn position(items: &[Value], x: &Value) -> VResult<Option<usize>> {
    for (k, chunk) in items.chunks(budget::CHUNK as usize).enumerate() {
        budget::burn(chunk.len())?;
        if let Some(i) = chunk.iter().position(|y| y.equals(x)) {
            return Ok(Some(k * budget::CHUNK as usize + i));
        }
    }
    Ok(None)
}

pub fn extreme(items: &[Value], max: bool) -> VResult<Value> {
    let mut best: Option<&Value> = None;
    for (i, v) in items.iter().enumerate() {
        if i % budget::CHUNK as usize == 0 {
            budget::burn(budget::CHUNK as usize)?;
        }
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = v.compare(b).ok_or_else(|| {
                    // named in the order they are written; NaN is a float that has no order
                    let nan = |x: &Value| matches!(x, Value::Float(f) if f.is_nan());
                    VmError::type_error(if nan(v) || nan(b) {
                        "Cannot compare NaN with a number: NaN has no order".to_string()
                    } else {
                        format!("Cannot compare {} and {}", b.type_name(), v.type_name())
                    })
                })?;
                if (max && o == Ordering::Greater) || (!max && o == Ordering::Less) {
                    v
                } else {
                    b
                }
            }
        });
    }
    Ok(best.cloned().unwrap_or(Value::Nil))
}

pub(crate) fn range_items(r: &RangeValue) -> VResult<Vec<Value>> {
    let (lo, hi) = r
        .bounds()
        .ok_or_else(|| VmError::runtime("An open range cannot be turned into an array"))?;
    arith::copies(1, hi.saturating_sub(lo), crate::value::VALUE_BYTES)?;
    Ok(budget::collect((lo..hi.max(lo)).map(Value::Int))?)
}

/// A copy of `items`, asked for first.
fn to_vec(items: &[Value]) -> VResult<Vec<Value>> {
    crate::value::budget_values(items.len())?;
    budget::burn(items.len())?;
    Ok(items.to_vec())
}

/// The characters `lo..hi` of `s` (by character, not byte).
fn char_slice(s: &str, lo: usize, hi: usize) -> &str {
    let at = |k: usize| s.char_indices().nth(k).map_or(s.len(), |(i, _)| i);
    let start = at(lo);
    let end = start
        + s[start..]
            .char_indices()
            .nth(hi - lo)
            .map_or(s.len() - start, |(i, _)| i);
    &s[start..end]
}

/// An array of the strings `parts`, asked for first.
fn strs<'a>(parts: impl Iterator<Item = &'a str>) -> VResult<Value> {
    Ok(Value::array(budget::collect(parts.map(Value::str))?))
}

fn want(name: &str, args: &[Value], n: usize) -> VResult<()> {
    if args.len() != n {
        return Err(VmError::runtime(format!(
            "{name}() expects {n} argument{}, got {}",
            if n == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

fn int_arg(name: &str, v: &Value) -> VResult<i64> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(VmError::type_error(format!(
            "{name}() expects an integer, found {}",
            other.type_name()
        ))),
    }
}

fn str_arg<'a>(name: &str, v: &'a Value) -> VResult<&'a str> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(VmError::type_error(format!(
            "{name}() expects a string, found {}",
            other.type_name()
        ))),
    }
}

fn unknown(recv: &Value, name: &str) -> VmError {
    VmError::runtime(format!("Unknown method: {}.{name}()", recv.type_name()))
}

fn sum_values(items: &[Value], product: bool) -> VResult<Value> {
    let mut acc = Value::Int(if product { 1 } else { 0 });
    for (i, v) in items.iter().enumerate() {
        if i % budget::CHUNK as usize == 0 {
            budget::burn(budget::CHUNK as usize)?;
        }
        // (`+` would turn `0 + "a"` into "0a")
        if !matches!(v, Value::Int(_) | Value::Float(_)) {
            let name = if product { "product" } else { "sum" };
            let hint = if matches!(v, Value::Str(_)) {
                " (join() puts strings together)"
            } else {
                ""
            };
            return Err(VmError::type_error(format!(
                "{name}() takes numbers, found {}{hint}",
                v.type_name()
            )));
        }
        acc = if product {
            arith::mul(&acc, v)?
        } else {
            arith::add(&acc, v)?
        };
    }
    Ok(acc)
}

impl Vm {
    /// Calls the built-in method `id` on `recv`; `name` is the name the call was written with
    /// (for messages; [`MethodId::Unknown`] for a name no built-in method has). A limit the
    /// meter tripped on inside it ends the call with that limit ([`crate::budget`]).
    pub fn call_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let r = self.method_body(recv, id, name, args);
        crate::budget::settle(r)
    }

    fn method_body(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        match id {
            M::ToString if !matches!(recv, Value::Float(_)) => {
                want(name, args, 0)?;
                return Ok(Value::str(display_plain(recv, &self.types)));
            }
            M::Clone => return Ok(recv.clone()),
            _ => {}
        }
        match recv {
            Value::Str(_) => self.string_method(recv, id, name, args),
            Value::Array(_) => self.array_method(recv, id, name, args),
            Value::Range(r) => {
                match id {
                    M::Contains => {
                        want(name, args, 1)?;
                        let Value::Int(x) = args[0] else {
                            return Ok(Value::Bool(false));
                        };
                        let lo_ok = r.start.is_none_or(|s| x >= s);
                        let hi_ok = match r.end {
                            None => true,
                            Some(e) if r.inclusive => x <= e,
                            Some(e) => x < e,
                        };
                        return Ok(Value::Bool(lo_ok && hi_ok));
                    }
                    M::Len | M::Count => return length(recv).map(Value::Int),
                    M::Start => return Ok(r.start.map_or(Value::Nil, Value::Int)),
                    M::End => return Ok(r.end.map_or(Value::Nil, Value::Int)),
                    _ => {}
                }
                if id.mutates() && id != M::Reverse && id != M::Sort {
                    return Err(unknown(recv, name));
                }
                let mut arr = Value::array(range_items(r)?);
                self.array_method(&mut arr, id, name, args)
            }
            Value::Tuple(t) => match id {
                M::Len => Ok(Value::Int(t.len() as i64)),
                M::ToArray | M::Iter => Ok(Value::Array(t.clone())),
                M::Contains => {
                    want(name, args, 1)?;
                    Ok(Value::Bool(position(t, &args[0])?.is_some()))
                }
                _ => Err(unknown(recv, name)),
            },
            Value::Object(_) => self.object_method(recv, id, name, args),
            Value::Coll(c) => collection::method(c, id, name, args),
            Value::Int(_) | Value::Float(_) => self.number_method(recv, id, name, args),
            Value::Variant(_) | Value::Unit(..) => self.variant_method(recv, id, name, args),
            Value::Bool(b) => match id {
                M::Then | M::ThenSome => {
                    want(name, args, 1)?;
                    if !*b {
                        return Ok(Value::none());
                    }
                    let v = if id == M::Then {
                        self.call_value(&args[0], &[])?
                    } else {
                        args[0].clone()
                    };
                    Ok(Value::some(v))
                }
                _ => Err(unknown(recv, name)),
            },
            _ => Err(unknown(recv, name)),
        }
    }
}

/// `s.replace(from, to)` with its work counted as it goes: a cell's time limit stops a replace
/// of ten million matches part way (found by the `cell_time` fuzzer: 1.5 s in one call).
/// `s.parse::<T>()` for the type named `ty`: Rust's parse of that type, as a Result (Ok of the
/// number or bool, Err of Rust's message; an integer type wider than 64 bits must hold a value
/// that fits an Int). `None`: not a type `parse::<T>` reads.
pub fn parse_as(s: &str, ty: &str) -> Option<Value> {
    fn int<T>(s: &str) -> Value
    where
        T: std::str::FromStr<Err = std::num::ParseIntError> + TryInto<i64>,
    {
        match s.parse::<T>() {
            Ok(n) => match n.try_into() {
                Ok(n) => Value::ok(Value::Int(n)),
                Err(_) => Value::err(Value::str("number too large to fit in target type")),
            },
            Err(e) => Value::err(Value::str(e.to_string())),
        }
    }
    let float = |r: Result<f64, std::num::ParseFloatError>| match r {
        Ok(x) => Value::ok(Value::Float(x)),
        Err(e) => Value::err(Value::str(e.to_string())),
    };
    Some(match ty {
        "i8" => int::<i8>(s),
        "i16" => int::<i16>(s),
        "i32" => int::<i32>(s),
        "i64" | "Int" => int::<i64>(s),
        "i128" => int::<i128>(s),
        // 64 bits on every machine (the component's are 32)
        "isize" => int::<i64>(s),
        "u8" => int::<u8>(s),
        "u16" => int::<u16>(s),
        "u32" => int::<u32>(s),
        "u64" => int::<u64>(s),
        "u128" => int::<u128>(s),
        "usize" => int::<u64>(s),
        "f32" => float(s.parse::<f32>().map(f64::from)),
        "f64" | "Float" => float(s.parse::<f64>()),
        "String" | "str" => Value::ok(Value::str(s)),
        "bool" | "Bool" => match s.parse::<bool>() {
            Ok(b) => Value::ok(Value::Bool(b)),
            Err(e) => Value::err(Value::str(e.to_string())),
        },
        _ => return None,
    })
}

fn replace_metered(s: &str, from: &str, to: &str) -> VResult<String> {
    const SLICE: usize = 1 << 16;
    let mut out = String::new();
    let (mut last, mut done) = (0, 0);
    for (i, _) in s.match_indices(from) {
        out.push_str(&s[last..i]);
        out.push_str(to);
        last = i + from.len();
        if last - done >= SLICE {
            budget::burn(last - done)?;
            done = last;
        }
    }
    out.push_str(&s[last..]);
    budget::burn(s.len() - done)?;
    Ok(out)
}

/// Sorts an array that holds only ints as plain `i64`s (no tag to match per comparison; equal
/// ints cannot be told apart, so the order of equal ones does not matter); `false`, leaving
/// the array alone, when some element is not an int. Metered as [`budget::sort_by`] is.
fn sort_ints(items: &mut [Value]) -> VResult<bool> {
    if !items.iter().all(|v| matches!(v, Value::Int(_))) {
        return Ok(false);
    }
    let mut keys: Vec<i64> = budget::vec_with(items.len())?;
    keys.extend(items.iter().map(|v| match v {
        Value::Int(n) => *n,
        _ => 0,
    }));
    budget::sort_total(&mut keys)?;
    for (slot, k) in items.iter_mut().zip(keys) {
        *slot = Value::Int(k);
    }
    Ok(true)
}
