//! Operator semantics (spec section 8, decision D19): what `+ - * / % ** & | ^ << >> < <=`
//! and unary `-` do for every pair of values, and the errors when they cannot.
//!
//! The VM handles int-int arithmetic inline; everything else comes here. Integers are i64
//! and every integer operator is checked: overflow is `Integer overflow in <operation>`.

use crate::budget;
use crate::error::VmError;
use crate::value::{List, Value};
use ruchy_syntax::diagnostic::DiagnosticKind;
use std::cmp::Ordering;
use std::rc::Rc;

pub type OpResult = Result<Value, VmError>;

pub fn overflow(what: &str) -> VmError {
    VmError::runtime(format!("Integer overflow in {what}"))
}

fn type_error(verb: &str, a: &Value, b: &Value) -> VmError {
    VmError::new(
        DiagnosticKind::Type,
        format!("Cannot {verb} {} and {}", a.type_name(), b.type_name()),
    )
}

/// Strings the `+` operator appends to a string: ints, floats, bools and strings.
fn concat_text(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(f) => Some(crate::display::format_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn add(a: &Value, b: &Value) -> OpResult {
    use Value::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(|| overflow("addition"))?),
        (Float(x), Float(y)) => Float(x + y),
        (Int(x), Float(y)) => Float(*x as f64 + y),
        (Float(x), Int(y)) => Float(x + *y as f64),
        (Str(x), other) => match concat_text(other) {
            Some(t) => {
                budget::bytes(x.len() + t.len())?;
                budget::burn((x.len() + t.len()) / 16)?;
                let mut s = String::with_capacity(x.len() + t.len());
                s.push_str(x);
                s.push_str(&t);
                Value::str(s)
            }
            None => return Err(type_error("add", a, b)),
        },
        (other, Str(y)) => match concat_text(other) {
            Some(t) => {
                budget::bytes(t.len() + y.len())?;
                budget::burn((t.len() + y.len()) / 16)?;
                Value::str(t + y)
            }
            None => return Err(type_error("add", a, b)),
        },
        (Array(x), Array(y)) => {
            crate::value::budget_values(x.len() + y.len())?;
            budget::burn(x.len() + y.len())?;
            let mut v = Vec::with_capacity(x.len() + y.len());
            v.extend(x.iter().cloned());
            v.extend(y.iter().cloned());
            Array(Rc::new(List(v)))
        }
        _ => return Err(type_error("add", a, b)),
    })
}

/// `a += b` when `a` is owned by the caller: appends in place where that is the same thing.
pub fn add_assign(a: &mut Value, b: &Value) -> Result<(), VmError> {
    match (&mut *a, b) {
        (Value::Str(x), Value::Str(y)) => {
            budget::bytes(x.len() + y.len())?;
            budget::grow_str(Rc::make_mut(x), y.len())?;
            Rc::make_mut(x).push_str(y);
            Ok(())
        }
        (Value::Str(x), other) => match concat_text(other) {
            Some(t) => {
                budget::bytes(x.len() + t.len())?;
                budget::grow_str(Rc::make_mut(x), t.len())?;
                Rc::make_mut(x).push_str(&t);
                Ok(())
            }
            None => Err(type_error("add", a, b)),
        },
        (Value::Array(x), Value::Array(y)) => {
            budget::burn(y.len())?;
            let items = &mut Rc::make_mut(x).0;
            budget::grow(items, y.len())?;
            items.extend(y.iter().cloned());
            Ok(())
        }
        _ => {
            *a = add(a, b)?;
            Ok(())
        }
    }
}

fn numeric(
    a: &Value,
    b: &Value,
    verb: &str,
    int: impl Fn(i64, i64) -> Result<Value, VmError>,
    float: impl Fn(f64, f64) -> Result<Value, VmError>,
) -> OpResult {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => int(*x, *y),
        (Float(x), Float(y)) => float(*x, *y),
        (Int(x), Float(y)) => float(*x as f64, *y),
        (Float(x), Int(y)) => float(*x, *y as f64),
        _ => Err(type_error(verb, a, b)),
    }
}

pub fn sub(a: &Value, b: &Value) -> OpResult {
    numeric(
        a,
        b,
        "subtract",
        |x, y| {
            Ok(Value::Int(
                x.checked_sub(y).ok_or_else(|| overflow("subtraction"))?,
            ))
        },
        |x, y| Ok(Value::Float(x - y)),
    )
}

pub fn mul(a: &Value, b: &Value) -> OpResult {
    if let (Value::Str(s), Value::Int(n)) = (a, b) {
        return repeat_str(s, *n);
    }
    if let (Value::Array(items), Value::Int(n)) = (a, b) {
        let n = copies(items.len(), *n, crate::value::VALUE_BYTES)?;
        let mut out = Vec::with_capacity(items.len() * n);
        for _ in 0..n {
            out.extend(items.iter().cloned());
        }
        return Ok(Value::array(out));
    }
    numeric(
        a,
        b,
        "multiply",
        |x, y| {
            Ok(Value::Int(
                x.checked_mul(y).ok_or_else(|| overflow("multiplication"))?,
            ))
        },
        |x, y| Ok(Value::Float(x * y)),
    )
}

/// `n` copies of something `per` elements long of `size` bytes each (`"ab" * n`, `[x; n]`,
/// the `n` items of a range): the number of copies, once the whole is known to be allowed
/// (asked of the memory limit, and burnt as work).
pub fn copies(per: usize, n: i64, size: usize) -> Result<usize, VmError> {
    let n = u64::try_from(n).unwrap_or(0);
    let total = (per as u64).saturating_mul(n);
    budget::elements(total, size)?;
    budget::burn(total as usize)?;
    Ok(if per == 0 { 0 } else { n as usize })
}

pub fn repeat_str(s: &str, n: i64) -> OpResult {
    let n = copies(s.len(), n, 1)?;
    Ok(Value::str(s.repeat(n)))
}

pub fn div(a: &Value, b: &Value) -> OpResult {
    numeric(
        a,
        b,
        "divide",
        |x, y| {
            if y == 0 {
                return Err(VmError::runtime("Division by zero"));
            }
            Ok(Value::Int(
                x.checked_div(y).ok_or_else(|| overflow("division"))?,
            ))
        },
        |x, y| Ok(Value::Float(x / y)),
    )
}

pub fn rem(a: &Value, b: &Value) -> OpResult {
    numeric(
        a,
        b,
        "compute the remainder of",
        |x, y| {
            if y == 0 {
                return Err(VmError::runtime("Division by zero"));
            }
            Ok(Value::Int(
                x.checked_rem(y).ok_or_else(|| overflow("modulo"))?,
            ))
        },
        |x, y| {
            if y == 0.0 {
                return Err(VmError::runtime("Division by zero"));
            }
            Ok(Value::Float(x % y))
        },
    )
}

pub fn pow(a: &Value, b: &Value) -> OpResult {
    numeric(
        a,
        b,
        "raise",
        |x, y| {
            if y < 0 {
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            let e = u32::try_from(y).map_err(|_| overflow("exponentiation"));
            match e {
                Ok(e) => Ok(Value::Int(
                    x.checked_pow(e).ok_or_else(|| overflow("exponentiation"))?,
                )),
                // 0, 1 and -1 to a huge power do not overflow
                Err(err) => match x {
                    0 => Ok(Value::Int(0)),
                    1 => Ok(Value::Int(1)),
                    -1 => Ok(Value::Int(if y % 2 == 0 { 1 } else { -1 })),
                    _ => Err(err),
                },
            }
        },
        |x, y| Ok(Value::Float(x.powf(y))),
    )
}

pub fn bit(op: &str, a: &Value, b: &Value) -> OpResult {
    use Value::*;
    Ok(match (op, a, b) {
        ("&", Int(x), Int(y)) => Int(x & y),
        ("|", Int(x), Int(y)) => Int(x | y),
        ("^", Int(x), Int(y)) => Int(x ^ y),
        ("&", Bool(x), Bool(y)) => Bool(x & y),
        ("|", Bool(x), Bool(y)) => Bool(x | y),
        ("^", Bool(x), Bool(y)) => Bool(x ^ y),
        ("<<", Int(x), Int(y)) => Int(u32::try_from(*y)
            .ok()
            .and_then(|s| x.checked_shl(s))
            .filter(|r| r >> u32::try_from(*y).unwrap_or(0) == *x)
            .ok_or_else(|| overflow("shift left"))?),
        (">>", Int(x), Int(y)) => Int(u32::try_from(*y)
            .ok()
            .and_then(|s| x.checked_shr(s))
            .ok_or_else(|| overflow("shift right"))?),
        _ => {
            let verb = match op {
                "&" => "bitwise-and",
                "|" => "bitwise-or",
                "^" => "bitwise-xor",
                "<<" => "shift",
                _ => "shift",
            };
            return Err(type_error(verb, a, b));
        }
    })
}

/// Ordering for `<`, `<=`, `>`, `>=`: numbers (mixed), strings; else a type error.
pub fn order(a: &Value, b: &Value) -> Result<Ordering, VmError> {
    use Value::*;
    let o = match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(_) | Int(_), Float(_) | Int(_)) | (Str(_), Str(_)) => a.compare(b),
        _ => {
            return Err(VmError::new(
                DiagnosticKind::Type,
                format!(
                    "Cannot compare {} and {} for ordering",
                    a.type_name(),
                    b.type_name()
                ),
            ))
        }
    };
    // NaN compares false with everything: report it as "not less, not equal, not greater"
    Ok(o.unwrap_or(Ordering::Equal))
}

pub fn lt(a: &Value, b: &Value) -> Result<bool, VmError> {
    if let (Value::Float(x), Value::Float(y)) = (a, b) {
        return Ok(x < y);
    }
    if is_nan_pair(a, b) {
        return Ok(false);
    }
    Ok(order(a, b)? == Ordering::Less)
}

pub fn le(a: &Value, b: &Value) -> Result<bool, VmError> {
    if let (Value::Float(x), Value::Float(y)) = (a, b) {
        return Ok(x <= y);
    }
    if is_nan_pair(a, b) {
        return Ok(false);
    }
    Ok(order(a, b)? != Ordering::Greater)
}

pub fn gt(a: &Value, b: &Value) -> Result<bool, VmError> {
    if let (Value::Float(x), Value::Float(y)) = (a, b) {
        return Ok(x > y);
    }
    if is_nan_pair(a, b) {
        return Ok(false);
    }
    Ok(order(a, b)? == Ordering::Greater)
}

pub fn ge(a: &Value, b: &Value) -> Result<bool, VmError> {
    if let (Value::Float(x), Value::Float(y)) = (a, b) {
        return Ok(x >= y);
    }
    if is_nan_pair(a, b) {
        return Ok(false);
    }
    Ok(order(a, b)? != Ordering::Less)
}

fn is_nan_pair(a: &Value, b: &Value) -> bool {
    matches!(a, Value::Float(f) if f.is_nan()) || matches!(b, Value::Float(f) if f.is_nan())
}

pub fn neg(a: &Value) -> OpResult {
    match a {
        Value::Int(n) => Ok(Value::Int(
            n.checked_neg().ok_or_else(|| overflow("negation"))?,
        )),
        Value::Float(f) => Ok(Value::Float(-f)),
        _ => Err(VmError::new(
            DiagnosticKind::Type,
            format!("Cannot negate {}", a.type_name()),
        )),
    }
}

pub fn bit_not(a: &Value) -> OpResult {
    match a {
        Value::Int(n) => Ok(Value::Int(!n)),
        Value::Bool(b) => Ok(Value::Bool(!b)),
        _ => Err(VmError::new(
            DiagnosticKind::Type,
            format!("Cannot apply `~` to {}", a.type_name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: OpResult) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn integer_semantics() {
        assert_eq!(
            div(&Value::Int(-7), &Value::Int(2)).unwrap(),
            Value::Int(-3)
        );
        assert_eq!(
            rem(&Value::Int(-7), &Value::Int(3)).unwrap(),
            Value::Int(-1)
        );
        assert_eq!(rem(&Value::Int(7), &Value::Int(-3)).unwrap(), Value::Int(1));
        assert_eq!(msg(div(&Value::Int(1), &Value::Int(0))), "Division by zero");
        assert_eq!(
            msg(add(&Value::Int(i64::MAX), &Value::Int(1))),
            "Integer overflow in addition"
        );
        assert_eq!(
            msg(neg(&Value::Int(i64::MIN))),
            "Integer overflow in negation"
        );
        assert_eq!(
            msg(pow(&Value::Int(2), &Value::Int(64))),
            "Integer overflow in exponentiation"
        );
        assert_eq!(
            pow(&Value::Int(2), &Value::Int(-1)).unwrap(),
            Value::Float(0.5)
        );
        assert_eq!(pow(&Value::Int(0), &Value::Int(0)).unwrap(), Value::Int(1));
    }

    #[test]
    fn strings_and_mixed() {
        assert_eq!(
            add(&Value::str("a"), &Value::Int(1)).unwrap(),
            Value::str("a1")
        );
        assert_eq!(
            add(&Value::Int(1), &Value::str("a")).unwrap(),
            Value::str("1a")
        );
        assert_eq!(
            add(&Value::str("x"), &Value::Float(1.5)).unwrap(),
            Value::str("x1.5")
        );
        assert_eq!(
            mul(&Value::str("ab"), &Value::Int(3)).unwrap(),
            Value::str("ababab")
        );
        assert_eq!(
            add(&Value::Int(1), &Value::Float(2.0)).unwrap(),
            Value::Float(3.0)
        );
        assert_eq!(
            msg(add(&Value::Bool(true), &Value::Int(1))),
            "Cannot add boolean and integer"
        );
        assert_eq!(
            msg(order(&Value::Int(1), &Value::str("a")).map(|_| Value::Nil)),
            "Cannot compare integer and string for ordering"
        );
    }
}
