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
use crate::value::*;
use crate::vm::{norm_index, Vm, VmError};
use std::cmp::Ordering;
use std::rc::Rc;

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
        (Value::Coll(c), k) => crate::collection::index(c, k),
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
    arith::copies(1, hi.saturating_sub(lo), arith::VALUE_BYTES)?;
    Ok(budget::collect((lo..hi.max(lo)).map(Value::Int))?)
}

/// A copy of `items`, asked for first.
fn to_vec(items: &[Value]) -> VResult<Vec<Value>> {
    budget::values(items.len())?;
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
            Value::Coll(c) => crate::collection::method(c, id, name, args),
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

    fn string_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Value::Str(s) = recv else {
            return Err(unknown(recv, name));
        };
        let a0 = |n: &str| -> VResult<&str> {
            args.first()
                .ok_or_else(|| VmError::runtime(format!("{n}() expects 1 argument, got 0")))
                .and_then(|v| str_arg(n, v))
        };
        // the methods below but the first few read the whole string (once or twice over):
        // a unit of work per 16 bytes
        if !matches!(id, M::Len | M::IsEmpty | M::ToString) {
            budget::burn(s.len() / 16)?;
        }
        Ok(match id {
            M::Len => Value::Int(s.len() as i64),
            M::IsEmpty => Value::Bool(s.is_empty()),
            M::ToUppercase => {
                budget::bytes(s.len())?;
                Value::str(s.to_uppercase())
            }
            M::ToLowercase => {
                budget::bytes(s.len())?;
                Value::str(s.to_lowercase())
            }
            M::Trim => Value::str(s.trim()),
            M::TrimStart => Value::str(s.trim_start()),
            M::TrimEnd => Value::str(s.trim_end()),
            M::Contains => Value::Bool(s.contains(a0(name)?)),
            M::StartsWith => Value::Bool(s.starts_with(a0(name)?)),
            M::EndsWith => Value::Bool(s.ends_with(a0(name)?)),
            M::Replace => {
                want(name, args, 2)?;
                let from = str_arg(name, &args[0])?;
                let to = str_arg(name, &args[1])?;
                if to.len() > from.len() {
                    // the result's size, asked for before it is made
                    let n = if from.is_empty() {
                        s.chars().count() + 1
                    } else {
                        s.matches(from).count()
                    };
                    budget::bytes(
                        s.len()
                            .saturating_add(n.saturating_mul(to.len() - from.len())),
                    )?;
                }
                Value::str(replace_metered(s, from, to)?)
            }
            M::Split => match args.first() {
                None => strs(s.split_whitespace())?,
                Some(_) => strs(s.split(a0(name)?))?,
            },
            M::SplitWhitespace => strs(s.split_whitespace())?,
            M::Lines => strs(s.lines())?,
            M::Chars | M::Iter => Value::array(budget::collect(
                s.chars().map(|c| Value::str(c.to_string())),
            )?),
            M::Bytes => Value::array(budget::collect(s.bytes().map(|b| Value::Int(b as i64)))?),
            M::Repeat => {
                want(name, args, 1)?;
                arith::repeat_str(s, int_arg(name, &args[0])?)?
            }
            M::Reverse | M::Rev | M::Reversed => {
                budget::bytes(s.len())?;
                Value::str(s.chars().rev().collect::<String>())
            }
            M::Substring | M::Slice => {
                want(name, args, 2)?;
                let (a, b) = (int_arg(name, &args[0])?, int_arg(name, &args[1])?);
                let n = s.chars().count() as i64;
                let lo = a.clamp(0, n) as usize;
                let hi = b.clamp(lo as i64, n) as usize;
                Value::str(char_slice(s, lo, hi))
            }
            M::CharAt | M::Nth => {
                want(name, args, 1)?;
                let i = int_arg(name, &args[0])?;
                let n = s.chars().count();
                let c = norm_index(i, n).and_then(|k| s.chars().nth(k));
                if id == M::Nth {
                    Value::option(c.map(|c| Value::str(c.to_string())))
                } else {
                    match c {
                        Some(c) => Value::str(c.to_string()),
                        None => {
                            return Err(VmError::runtime(format!(
                                "Index {i} out of bounds for string of length {n}"
                            )))
                        }
                    }
                }
            }
            M::Find | M::IndexOf => Value::option(
                s.find(a0(name)?)
                    .map(|i| Value::Int(s[..i].chars().count() as i64)),
            ),
            M::Count => {
                let pat = a0(name)?;
                if pat.is_empty() {
                    Value::Int(s.chars().count() as i64 + 1)
                } else {
                    Value::Int(s.matches(pat).count() as i64)
                }
            }
            // `s.parse::<i32>()` (the parser made the type its argument): Rust's parse
            M::Parse if !args.is_empty() => {
                want(name, args, 1)?;
                let ty = match &args[0] {
                    Value::Str(t) => t.clone(),
                    other => {
                        return Err(VmError::type_error(format!(
                            "parse expects a type name (as in parse::<i32>()), found {}",
                            other.type_name()
                        )))
                    }
                };
                parse_as(s, &ty).ok_or_else(|| {
                    VmError::type_error(format!(
                        "parse::<{ty}>() is not supported: it reads integers, floats and bool"
                    ))
                })?
            }
            M::Parse | M::ToInt | M::ParseInt => {
                // `"3.5".parse()` is a float: parse() reads whatever number the text holds
                if id == M::Parse && s.trim().contains(['.', 'e', 'E']) {
                    parse_float(s)?
                } else {
                    parse_int(s)?
                }
            }
            M::ToFloat | M::ParseFloat => parse_float(s)?,
            M::IsNumeric => Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
            M::IsAlphabetic => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphabetic)),
            M::IsAlphanumeric => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
            M::IsWhitespace => Value::Bool(!s.is_empty() && s.chars().all(char::is_whitespace)),
            M::IsUppercase => Value::Bool(
                s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase),
            ),
            M::IsLowercase => Value::Bool(
                s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_uppercase),
            ),
            M::Capitalize => {
                let mut c = s.chars();
                Value::str(match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                })
            }
            M::StripPrefix => Value::option(s.strip_prefix(a0(name)?).map(Value::str)),
            M::StripSuffix => Value::option(s.strip_suffix(a0(name)?).map(Value::str)),
            M::PadLeft | M::PadRight => {
                crate::builtins::arity(name, args, 1, 2)?;
                let width = arith::count(int_arg(name, &args[0])?);
                let fill = match args.get(1) {
                    None => ' ',
                    Some(v) => {
                        let f = str_arg(name, v)?;
                        let mut cs = f.chars();
                        match (cs.next(), cs.next()) {
                            (Some(c), None) => c,
                            _ => {
                                return Err(VmError::runtime(format!(
                                    "{name}() fills with one character, got {f:?}"
                                )))
                            }
                        }
                    }
                };
                let have = s.chars().count();
                if have >= width {
                    Value::Str(s.clone())
                } else {
                    let pad = width - have;
                    budget::bytes(s.len().saturating_add(pad.saturating_mul(fill.len_utf8())))?;
                    budget::burn(pad / 16)?;
                    let mut out = String::with_capacity(s.len() + pad * fill.len_utf8());
                    if id == M::PadRight {
                        out.push_str(s);
                    }
                    out.extend(std::iter::repeat_n(fill, pad));
                    if id == M::PadLeft {
                        out.push_str(s);
                    }
                    Value::str(out)
                }
            }
            M::ReplaceFirst => {
                want(name, args, 2)?;
                let from = str_arg(name, &args[0])?;
                let to = str_arg(name, &args[1])?;
                budget::bytes(s.len().saturating_add(to.len()))?;
                Value::str(s.replacen(from, to, 1))
            }
            M::CharIndices => {
                want(name, args, 0)?;
                Value::array(budget::collect(s.chars().enumerate().map(|(i, c)| {
                    Value::tuple(vec![Value::Int(i as i64), Value::str(c.to_string())])
                }))?)
            }
            M::ToString => Value::Str(s.clone()),
            M::Format => {
                let text = crate::format::template(s, args, &self.types);
                budget::bytes(text.len())?;
                Value::str(text)
            }
            M::PushStr | M::Push => {
                want(name, args, 1)?;
                let t = str_arg(name, &args[0])?;
                budget::bytes(s.len() + t.len())?;
                budget::grow_str(Rc::make_mut(s), t.len())?;
                Rc::make_mut(s).push_str(t);
                Value::Nil
            }
            _ => return Err(unknown(recv, name)),
        })
    }

    fn array_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Value::Array(a) = recv else {
            return Err(unknown(recv, name));
        };
        let f0 = || -> VResult<&Value> {
            args.first()
                .ok_or_else(|| VmError::runtime(format!("{name}() expects a function argument")))
        };
        Ok(match id {
            M::Len | M::Count if args.is_empty() => Value::Int(a.len() as i64),
            M::IsEmpty => Value::Bool(a.is_empty()),
            M::First => a.first().cloned().unwrap_or(Value::Nil),
            M::Last => a.last().cloned().unwrap_or(Value::Nil),
            M::Nth | M::Get => {
                want(name, args, 1)?;
                let i = int_arg(name, &args[0])?;
                Value::option(if i >= 0 {
                    a.get(arith::count(i)).cloned()
                } else {
                    None
                })
            }
            M::Contains => {
                want(name, args, 1)?;
                Value::Bool(position(a, &args[0])?.is_some())
            }
            M::IndexOf | M::Position if !matches!(args.first(), Some(Value::Func(_))) => {
                want(name, args, 1)?;
                Value::option(position(a, &args[0])?.map(|i| Value::Int(i as i64)))
            }
            M::Push => {
                want(name, args, 1)?;
                budget::push(&mut Rc::make_mut(a).0, args[0].clone())?;
                Value::Nil
            }
            M::Pop => Rc::make_mut(a).pop().unwrap_or(Value::Nil),
            M::Insert => {
                want(name, args, 2)?;
                let i = int_arg(name, &args[0])?;
                if i < 0 || arith::count(i) > a.len() {
                    return Err(VmError::runtime(format!(
                        "Insert index {i} out of bounds for array of length {}",
                        a.len()
                    )));
                }
                budget::burn(a.len())?;
                let items = &mut Rc::make_mut(a).0;
                budget::grow(items, 1)?;
                items.insert(i as usize, args[1].clone());
                Value::Nil
            }
            M::Remove => {
                want(name, args, 1)?;
                let i = int_arg(name, &args[0])?;
                let len = a.len();
                let k = norm_index(i, len).ok_or_else(|| {
                    VmError::runtime(format!(
                        "Remove index {i} out of bounds for array of length {len}"
                    ))
                })?;
                budget::burn(len)?;
                Rc::make_mut(a).remove(k)
            }
            M::Clear => {
                Rc::make_mut(a).clear();
                Value::Nil
            }
            M::Truncate => {
                want(name, args, 1)?;
                let n = arith::count(int_arg(name, &args[0])?);
                Rc::make_mut(a).truncate(n);
                Value::Nil
            }
            M::Swap => {
                want(name, args, 2)?;
                let len = a.len();
                let i = norm_index(int_arg(name, &args[0])?, len);
                let j = norm_index(int_arg(name, &args[1])?, len);
                match (i, j) {
                    (Some(i), Some(j)) => Rc::make_mut(a).swap(i, j),
                    _ => return Err(VmError::runtime("swap() index out of bounds")),
                }
                Value::Nil
            }
            M::Extend => {
                want(name, args, 1)?;
                let items = match &args[0] {
                    Value::Array(b) | Value::Tuple(b) => to_vec(b)?,
                    Value::Range(r) => range_items(r)?,
                    other => {
                        return Err(VmError::type_error(format!(
                            "{name}() expects an array, found {}",
                            other.type_name()
                        )))
                    }
                };
                let mine = &mut Rc::make_mut(a).0;
                budget::grow(mine, items.len())?;
                mine.extend(items);
                Value::Nil
            }
            M::Concat => {
                want(name, args, 1)?;
                arith::add(recv, &args[0])?
            }
            M::Reverse => {
                budget::burn(a.len())?;
                Rc::make_mut(a).reverse();
                recv.clone()
            }
            M::Rev => Value::array(budget::collect(a.iter().rev().cloned())?),
            M::Sort => {
                let items = &mut Rc::make_mut(a).0;
                if sort_ints(items)? {
                    return Ok(recv.clone());
                }
                budget::sort_by(items, |x, y| {
                    x.compare(y).ok_or_else(|| {
                        VmError::type_error(format!(
                            "Cannot sort: cannot compare {} and {}",
                            x.type_name(),
                            y.type_name()
                        ))
                    })
                })?;
                recv.clone()
            }
            M::SortBy | M::SortByKey => {
                let f = f0()?.clone();
                let mut items = std::mem::take(&mut Rc::make_mut(a).0);
                let result = self.sort_with(&mut items, &f, id == M::SortByKey);
                if let Value::Array(a) = recv {
                    Rc::make_mut(a).0 = items;
                }
                result?;
                recv.clone()
            }
            M::Sorted => {
                want(name, args, 0)?;
                let mut copy = Value::array(to_vec(a)?);
                self.array_method(&mut copy, M::Sort, name, args)?
            }
            M::Reversed => {
                want(name, args, 0)?;
                Value::array(budget::collect(a.iter().rev().cloned())?)
            }
            M::Partition => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let (mut yes, mut no) = (Vec::new(), Vec::new());
                for x in items.iter() {
                    let side = if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        &mut yes
                    } else {
                        &mut no
                    };
                    budget::grow(side, 1)?;
                    side.push(x.clone());
                }
                Value::tuple(vec![Value::array(yes), Value::array(no)])
            }
            // `xs.group_by(|x| key)`: a HashMap from each key to its elements, in order
            M::GroupBy => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let mut groups = crate::collection::Table::default();
                for x in items.iter() {
                    let k = self.call_value(&f, std::slice::from_ref(x))?;
                    let key = crate::collection::Key::new(&k)?;
                    budget::values(1)?;
                    match groups.get_mut(&key) {
                        Some(Value::Array(g)) => Rc::make_mut(g).0.push(x.clone()),
                        _ => {
                            groups.insert(key, Value::array(vec![x.clone()]));
                        }
                    }
                }
                Value::Coll(Rc::new(crate::collection::Coll::Map(
                    crate::collection::Kind::HashMap,
                    groups,
                )))
            }
            // `xs.chunk_by(|a, b| same)`: runs of neighbours, as Rust's `slice::chunk_by`
            M::ChunkBy => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let mut runs = Vec::new();
                let mut run: Vec<Value> = Vec::new();
                for x in items.iter() {
                    if let Some(prev) = run.last() {
                        let pair = [prev.clone(), x.clone()];
                        if !self.call_value(&f, &pair)?.truthy() {
                            budget::grow(&mut runs, 1)?;
                            runs.push(Value::array(std::mem::take(&mut run)));
                        }
                    }
                    budget::grow(&mut run, 1)?;
                    run.push(x.clone());
                }
                if !run.is_empty() {
                    runs.push(Value::array(run));
                }
                Value::array(runs)
            }
            M::BinarySearch => {
                want(name, args, 1)?;
                let x = &args[0];
                budget::burn(64)?;
                let mut bad = None;
                let found = a.binary_search_by(|e| {
                    e.compare(x).unwrap_or_else(|| {
                        bad.get_or_insert_with(|| (e.type_name(), x.type_name()));
                        std::cmp::Ordering::Equal
                    })
                });
                if let Some((e, x)) = bad {
                    return Err(VmError::type_error(format!(
                        "{name}() cannot compare {e} and {x}"
                    )));
                }
                match found {
                    Ok(i) => Value::ok(Value::Int(i as i64)),
                    Err(i) => Value::err(Value::Int(i as i64)),
                }
            }
            M::Dedup => {
                budget::burn(a.len())?;
                Rc::make_mut(a).dedup_by(|x, y| x.equals(y));
                Value::Nil
            }
            M::Retain => {
                let f = f0()?.clone();
                let items = std::mem::take(&mut Rc::make_mut(a).0);
                let mut kept = budget::vec_with(items.len())?;
                let mut failure = None;
                for x in items {
                    if failure.is_some() {
                        kept.push(x);
                        continue;
                    }
                    match self.call_value(&f, std::slice::from_ref(&x)) {
                        Ok(keep) => {
                            if keep.truthy() {
                                kept.push(x)
                            }
                        }
                        Err(e) => {
                            failure = Some(e);
                            kept.push(x);
                        }
                    }
                }
                if let Value::Array(a) = recv {
                    Rc::make_mut(a).0 = kept;
                }
                if let Some(e) = failure {
                    return Err(e);
                }
                Value::Nil
            }
            M::Map => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = budget::vec_with(items.len())?;
                for x in items.iter() {
                    out.push(self.call_value(&f, std::slice::from_ref(x))?);
                }
                Value::array(out)
            }
            M::FlatMap => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    match self.call_value(&f, std::slice::from_ref(x))? {
                        Value::Array(inner) => {
                            budget::grow(&mut out, inner.len())?;
                            budget::burn(inner.len())?;
                            out.extend(inner.iter().cloned())
                        }
                        other => budget::push(&mut out, other)?,
                    }
                }
                Value::array(out)
            }
            M::Filter => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        budget::push(&mut out, x.clone())?;
                    }
                }
                Value::array(out)
            }
            M::FilterMap => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    let r = self.call_value(&f, std::slice::from_ref(x))?;
                    match r.as_variant() {
                        Some((OPTION, SOME, [v])) => budget::push(&mut out, v.clone())?,
                        Some((OPTION, NONE, _)) => {}
                        _ if r.is_nil() => {}
                        _ => budget::push(&mut out, r)?,
                    }
                }
                Value::array(out)
            }
            M::Find => {
                let f = f0()?.clone();
                let items = a.clone();
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        return Ok(x.clone());
                    }
                }
                Value::Nil
            }
            M::Position | M::IndexOf | M::FindIndex => {
                let f = f0()?.clone();
                let items = a.clone();
                for (i, x) in items.iter().enumerate() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        return Ok(Value::some(Value::Int(i as i64)));
                    }
                }
                Value::none()
            }
            M::Any | M::All => {
                let f = f0()?.clone();
                let items = a.clone();
                let want_any = id == M::Any;
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() == want_any {
                        return Ok(Value::Bool(want_any));
                    }
                }
                Value::Bool(!want_any)
            }
            M::Count => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut n = 0;
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
            M::Each => {
                let f = f0()?.clone();
                let items = a.clone();
                for x in items.iter() {
                    self.call_value(&f, std::slice::from_ref(x))?;
                }
                Value::Nil
            }
            M::Reduce => {
                // `reduce(f)`: Some of the elements folded from the first (None for none);
                // `reduce(f, init)` or `reduce(init, f)` / `fold(init, f)`: folded into init
                let items = a.clone();
                let one = args.len() == 1;
                let (f, mut acc, rest) = if one {
                    let Some((first, rest)) = items.split_first() else {
                        return Ok(Value::option(None));
                    };
                    (f0()?, first.clone(), rest)
                } else {
                    want(name, args, 2)?;
                    let (f, init) = if matches!(args[0], Value::Func(_) | Value::Builtin(_)) {
                        (&args[0], &args[1])
                    } else {
                        (&args[1], &args[0])
                    };
                    (f, init.clone(), &items[..])
                };
                for x in rest {
                    acc = self.call_value(f, &[acc, x.clone()])?;
                }
                if one {
                    Value::option(Some(acc))
                } else {
                    acc
                }
            }
            M::Take => {
                want(name, args, 1)?;
                let n = arith::count(int_arg(name, &args[0])?);
                Value::array(budget::collect(a.iter().take(n).cloned())?)
            }
            M::Skip => {
                want(name, args, 1)?;
                let n = arith::count(int_arg(name, &args[0])?);
                Value::array(budget::collect(a.iter().skip(n).cloned())?)
            }
            M::StepBy => {
                want(name, args, 1)?;
                let n = int_arg(name, &args[0])?;
                if n <= 0 {
                    return Err(VmError::runtime("step_by() needs a positive step"));
                }
                Value::array(budget::collect(a.iter().step_by(arith::count(n)).cloned())?)
            }
            M::Slice => {
                want(name, args, 2)?;
                let len = a.len() as i64;
                let lo = int_arg(name, &args[0])?.clamp(0, len) as usize;
                let hi = int_arg(name, &args[1])?.clamp(lo as i64, len) as usize;
                Value::array(to_vec(&a[lo..hi])?)
            }
            M::Enumerate => Value::array(budget::collect(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| Value::tuple(vec![Value::Int(i as i64), x.clone()])),
            )?),
            M::Zip => {
                want(name, args, 1)?;
                let other = match &args[0] {
                    Value::Array(b) => to_vec(b)?,
                    Value::Range(r) => {
                        // no more of the range than there are elements to pair with it
                        let r = RangeValue {
                            end: r.start.map(|s| {
                                let n = i64::try_from(a.len()).unwrap_or(i64::MAX);
                                r.end
                                    .map_or(s.saturating_add(n), |e| e.min(s.saturating_add(n)))
                            }),
                            ..(**r).clone()
                        };
                        range_items(&r)?
                    }
                    o => {
                        return Err(VmError::type_error(format!(
                            "zip() expects an array, found {}",
                            o.type_name()
                        )))
                    }
                };
                Value::array(budget::collect(
                    a.iter()
                        .zip(other)
                        .map(|(x, y)| Value::tuple(vec![x.clone(), y])),
                )?)
            }
            M::Max | M::Min => extreme(a, id == M::Max)?,
            M::MaxByKey | M::MinByKey => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut best: Option<(Value, Value)> = None;
                for x in items.iter() {
                    let k = self.call_value(&f, std::slice::from_ref(x))?;
                    let better = match &best {
                        None => true,
                        Some((bk, _)) => match k.compare(bk) {
                            Some(Ordering::Greater) => id == M::MaxByKey,
                            Some(Ordering::Less) => id == M::MinByKey,
                            Some(Ordering::Equal) => id == M::MaxByKey,
                            None => {
                                return Err(VmError::type_error("Cannot compare the keys"));
                            }
                        },
                    };
                    if better {
                        best = Some((k, x.clone()));
                    }
                }
                best.map_or(Value::Nil, |(_, v)| v)
            }
            M::Sum => sum_values(a, false)?,
            M::Product => sum_values(a, true)?,
            M::Unique => {
                let mut out: Vec<Value> = Vec::new();
                for x in a.iter() {
                    budget::burn(out.len())?;
                    if !out.iter().any(|y| y.equals(x)) {
                        budget::push(&mut out, x.clone())?;
                    }
                }
                Value::array(out)
            }
            M::Flatten => {
                let mut out = Vec::new();
                for x in a.iter() {
                    match x {
                        Value::Array(inner) => {
                            budget::grow(&mut out, inner.len())?;
                            budget::burn(inner.len())?;
                            out.extend(inner.iter().cloned())
                        }
                        other => budget::push(&mut out, other.clone())?,
                    }
                }
                Value::array(out)
            }
            M::Join => {
                let sep = match args.first() {
                    Some(v) => str_arg(name, v)?,
                    None => "",
                };
                let mut out = String::new();
                for (i, x) in a.iter().enumerate() {
                    budget::burn(1)?;
                    if i > 0 {
                        budget::grow_str(&mut out, sep.len())?;
                        out.push_str(sep);
                    }
                    crate::display::write_plain(&mut out, x, &self.types);
                    budget::settled()?;
                }
                budget::bytes(out.len())?;
                Value::str(out)
            }
            M::Union | M::Intersection | M::Difference => {
                want(name, args, 1)?;
                let Value::Array(b) = &args[0] else {
                    return Err(VmError::type_error(format!("{name}() expects an array")));
                };
                let mut out: Vec<Value> = Vec::new();
                let push_unique = |out: &mut Vec<Value>, x: &Value| -> VResult<()> {
                    budget::burn(out.len())?;
                    if !out.iter().any(|y| y.equals(x)) {
                        budget::push(out, x.clone())?;
                    }
                    Ok(())
                };
                let in_b = |x: &Value| -> VResult<bool> {
                    budget::burn(b.len())?;
                    Ok(b.iter().any(|y| y.equals(x)))
                };
                match id {
                    M::Union => {
                        for x in a.iter().chain(b.iter()) {
                            push_unique(&mut out, x)?;
                        }
                    }
                    M::Intersection => {
                        for x in a.iter() {
                            if in_b(x)? {
                                push_unique(&mut out, x)?;
                            }
                        }
                    }
                    _ => {
                        for x in a.iter() {
                            if !in_b(x)? {
                                push_unique(&mut out, x)?;
                            }
                        }
                    }
                }
                Value::array(out)
            }
            M::Windows | M::Chunks => {
                want(name, args, 1)?;
                let n = int_arg(name, &args[0])?;
                if n <= 0 {
                    return Err(VmError::runtime(format!("{name}() needs a positive size")));
                }
                let n = arith::count(n);
                // every window is a copy: (len - n + 1) * n values in all, asked for first
                let total = if id == M::Windows {
                    (a.len().saturating_sub(n) as u64 + u64::from(a.len() >= n))
                        .saturating_mul(n.min(a.len()) as u64)
                } else {
                    a.len() as u64
                };
                budget::elements(total, arith::VALUE_BYTES)?;
                budget::burn(usize::try_from(total).unwrap_or(usize::MAX))?;
                let parts: Vec<Value> = if id == M::Windows {
                    a.windows(n).map(|w| Value::array(w.to_vec())).collect()
                } else {
                    a.chunks(n).map(|w| Value::array(w.to_vec())).collect()
                };
                Value::array(parts)
            }
            M::Iter | M::IntoIter | M::ToArray => recv.clone(),
            _ => return Err(unknown(recv, name)),
        })
    }

    fn sort_with(&mut self, items: &mut [Value], f: &Value, by_key: bool) -> VResult<()> {
        // compute keys / comparisons up front so the closure may fail cleanly
        if by_key {
            let mut keyed = budget::vec_with(items.len())?;
            for x in items.iter() {
                keyed.push((self.call_value(f, std::slice::from_ref(x))?, x.clone()));
            }
            budget::sort_by(&mut keyed, |(k1, _), (k2, _)| {
                k1.compare(k2)
                    .ok_or_else(|| VmError::type_error("Cannot compare the sort keys"))
            })?;
            for (slot, (_, v)) in items.iter_mut().zip(keyed) {
                *slot = v;
            }
            return Ok(());
        }
        // a comparator: a stable sort with a fallible callback
        let mut owned: Vec<Value> = to_vec(items)?;
        budget::sort_by(&mut owned, |x, y| {
            match self.call_value(f, &[x.clone(), y.clone()])? {
                Value::Int(n) => Ok(n.cmp(&0)),
                Value::Float(n) => Ok(n.partial_cmp(&0.0).unwrap_or(Ordering::Equal)),
                Value::Bool(true) => Ok(Ordering::Less),
                Value::Bool(false) => Ok(Ordering::Greater),
                other => Err(VmError::type_error(format!(
                    "sort_by() comparator must return a number or a boolean, found {}",
                    other.type_name()
                ))),
            }
        })?;
        items.clone_from_slice(&owned);
        Ok(())
    }

    fn object_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Value::Object(m) = recv else {
            return Err(unknown(recv, name));
        };
        let key = |i: usize| -> VResult<Rc<str>> {
            match args.get(i) {
                Some(Value::Str(s)) => Ok(s.as_str().into()),
                Some(other) => Err(VmError::type_error(format!(
                    "Object keys are strings, found {}",
                    other.type_name()
                ))),
                None => Err(VmError::runtime(format!("{name}() expects a key"))),
            }
        };
        // a key to look up: no allocation
        let probe = |i: usize| -> VResult<&str> {
            match args.get(i) {
                Some(Value::Str(s)) => Ok(s.as_str()),
                _ => key(i).map(|_| ""),
            }
        };
        Ok(match id {
            M::Keys => Value::array(budget::collect(
                m.keys().map(|k| Value::str(k.to_string())),
            )?),
            M::Values => Value::array(budget::collect(m.values().cloned())?),
            M::Items | M::Iter => {
                Value::array(budget::collect(m.iter().map(|(k, v)| {
                    Value::tuple(vec![Value::str(k.to_string()), v.clone()])
                }))?)
            }
            M::Len => Value::Int(m.len() as i64),
            M::IsEmpty => Value::Bool(m.is_empty()),
            M::Get => Value::option(m.get(probe(0)?).cloned()),
            M::ContainsKey | M::Contains => Value::Bool(m.contains_key(probe(0)?)),
            M::Remove => {
                let k = probe(0)?;
                if m.contains_key(k) {
                    Value::option(Rc::make_mut(m).remove(k))
                } else {
                    Value::none()
                }
            }
            M::Insert => {
                want(name, args, 2)?;
                let k = key(0)?;
                Value::option(Rc::make_mut(m).insert(k, args[1].clone()))
            }
            M::Clear => {
                Rc::make_mut(m).clear();
                Value::Nil
            }
            _ => return Err(unknown(recv, name)),
        })
    }

    fn number_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        if let Value::Int(n) = *recv {
            let r = match id {
                M::Abs => n
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| arith::overflow("abs"))?,
                M::Pow => {
                    want(name, args, 1)?;
                    arith::pow(recv, &args[0])?
                }
                M::Min | M::Max => {
                    want(name, args, 1)?;
                    extreme(&[recv.clone(), args[0].clone()], id == M::Max)?
                }
                M::Clamp => {
                    want(name, args, 2)?;
                    let lo = extreme(&[recv.clone(), args[0].clone()], true)?;
                    extreme(&[lo, args[1].clone()], false)?
                }
                M::Signum => Value::Int(n.signum()),
                M::IsPositive => Value::Bool(n > 0),
                M::IsNegative => Value::Bool(n < 0),
                M::ToFloat | M::AsFloat => Value::Float(n as f64),
                M::ToInt => Value::Int(n),
                M::Sqrt => Value::Float((n as f64).sqrt()),
                M::Cmp => {
                    want(name, args, 1)?;
                    Value::Int(match arith::order(recv, &args[0])? {
                        Ordering::Less => -1,
                        Ordering::Equal => 0,
                        Ordering::Greater => 1,
                    })
                }
                M::ToString => Value::str(n.to_string()),
                _ => return Err(unknown(recv, name)),
            };
            return Ok(r);
        }
        let x = to_float(recv, name)?;
        let f1 = |v: f64| Ok(Value::Float(v));
        match id {
            M::Floor => f1(x.floor()),
            M::Ceil => f1(x.ceil()),
            M::Round => f1(x.round()),
            M::Trunc => f1(x.trunc()),
            M::Fract => f1(x.fract()),
            M::Abs => f1(x.abs()),
            M::Sqrt => f1(x.sqrt()),
            M::Exp => f1(x.exp()),
            M::Ln => f1(x.ln()),
            M::Log10 => f1(x.log10()),
            M::Log2 => f1(x.log2()),
            M::Sin => f1(x.sin()),
            M::Cos => f1(x.cos()),
            M::Tan => f1(x.tan()),
            M::Cbrt => f1(x.cbrt()),
            M::Exp2 => f1(x.exp2()),
            M::Asin => f1(x.asin()),
            M::Acos => f1(x.acos()),
            M::Atan => f1(x.atan()),
            M::Sinh => f1(x.sinh()),
            M::Cosh => f1(x.cosh()),
            M::Tanh => f1(x.tanh()),
            M::Log | M::Atan2 | M::Hypot => {
                want(name, args, 1)?;
                let y = to_float(&args[0], name)?;
                f1(match id {
                    M::Log => x.log(y),
                    M::Atan2 => x.atan2(y),
                    _ => x.hypot(y),
                })
            }
            M::Signum => f1(x.signum()),
            M::ToDegrees => f1(x.to_degrees()),
            M::ToRadians => f1(x.to_radians()),
            M::Powf | M::Pow => {
                want(name, args, 1)?;
                f1(x.powf(to_float(&args[0], name)?))
            }
            M::Min | M::Max => {
                want(name, args, 1)?;
                let y = to_float(&args[0], name)?;
                f1(if id == M::Min { x.min(y) } else { x.max(y) })
            }
            M::Clamp => {
                want(name, args, 2)?;
                f1(x.clamp(to_float(&args[0], name)?, to_float(&args[1], name)?))
            }
            M::IsNan => Ok(Value::Bool(x.is_nan())),
            M::IsInfinite => Ok(Value::Bool(x.is_infinite())),
            M::IsFinite => Ok(Value::Bool(x.is_finite())),
            M::ToInt | M::AsInt => {
                if x.is_finite() {
                    Ok(Value::Int(x as i64))
                } else {
                    Err(VmError::runtime(format!(
                        "{} does not fit in an integer",
                        format_float(x)
                    )))
                }
            }
            M::ToFloat => f1(x),
            // Rust's `f64::to_string`: `10.0.to_string()` is "10" (spec section 9)
            M::ToString => Ok(Value::str(format!("{x}"))),
            _ => Err(unknown(recv, name)),
        }
    }

    /// Methods of `Option` and `Result` (D11) and of user enum values.
    fn variant_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Some((ty, variant, payload)) = recv.as_variant() else {
            return Err(unknown(recv, name));
        };
        if ty != OPTION && ty != RESULT {
            return Err(VmError::runtime(format!(
                "Unknown method: {}.{name}()",
                self.types.name(ty)
            )));
        }
        let inner = payload.first().cloned().unwrap_or(Value::Nil);
        let good = (ty == OPTION && variant == SOME) || (ty == RESULT && variant == OK);
        let shown = || display(recv, &self.types);
        Ok(match id {
            M::IsSome => Value::Bool(ty == OPTION && variant == SOME),
            M::IsNone => Value::Bool(ty == OPTION && variant == NONE),
            M::IsOk => Value::Bool(ty == RESULT && variant == OK),
            M::IsErr => Value::Bool(ty == RESULT && variant == ERR),
            M::Unwrap => {
                if good {
                    inner
                } else {
                    return Err(VmError::runtime(format!("Called unwrap() on {}", shown())));
                }
            }
            M::Expect => {
                if good {
                    inner
                } else {
                    let msg = args
                        .first()
                        .map_or(String::new(), |m| display_plain(m, &self.types));
                    return Err(VmError::runtime(format!("{msg}: {}", shown())));
                }
            }
            M::UnwrapErr => {
                if ty == RESULT && variant == ERR {
                    inner
                } else {
                    return Err(VmError::runtime(format!("Called {name}() on {}", shown())));
                }
            }
            M::UnwrapOr => {
                want(name, args, 1)?;
                if good {
                    inner
                } else {
                    args[0].clone()
                }
            }
            M::UnwrapOrElse => {
                want(name, args, 1)?;
                if good {
                    inner
                } else if ty == RESULT {
                    self.call_value(&args[0], &[inner])?
                } else {
                    self.call_value(&args[0], &[])?
                }
            }
            M::UnwrapOrDefault => {
                if good {
                    inner
                } else {
                    Value::Nil
                }
            }
            M::Map => {
                want(name, args, 1)?;
                if good {
                    let v = self.call_value(&args[0], &[inner])?;
                    if ty == OPTION {
                        Value::some(v)
                    } else {
                        Value::ok(v)
                    }
                } else {
                    recv.clone()
                }
            }
            M::MapErr => {
                want(name, args, 1)?;
                if ty == RESULT && variant == ERR {
                    Value::err(self.call_value(&args[0], &[inner])?)
                } else {
                    recv.clone()
                }
            }
            M::AndThen => {
                want(name, args, 1)?;
                if good {
                    self.call_value(&args[0], &[inner])?
                } else {
                    recv.clone()
                }
            }
            M::Or => {
                want(name, args, 1)?;
                if good {
                    recv.clone()
                } else {
                    args[0].clone()
                }
            }
            M::OrElse => {
                want(name, args, 1)?;
                if good {
                    recv.clone()
                } else if ty == RESULT {
                    self.call_value(&args[0], &[inner])?
                } else {
                    self.call_value(&args[0], &[])?
                }
            }
            M::Filter => {
                want(name, args, 1)?;
                if good
                    && self
                        .call_value(&args[0], std::slice::from_ref(&inner))?
                        .truthy()
                {
                    recv.clone()
                } else {
                    Value::none()
                }
            }
            M::OkOr => {
                want(name, args, 1)?;
                if good {
                    Value::ok(inner)
                } else {
                    Value::err(args[0].clone())
                }
            }
            M::Ok => Value::option(if good { Some(inner) } else { None }),
            M::Err => Value::option(if ty == RESULT && variant == ERR {
                Some(inner)
            } else {
                None
            }),
            _ => return Err(unknown(recv, name)),
        })
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
