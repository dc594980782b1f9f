//! How values are shown (spec section 9, decisions D7, D23).
//!
//! [`display`] is the notebook display of a cell's value and of values nested in others:
//! strings are quoted (no escaping), floats always show a decimal point, objects sort their
//! keys, structs keep declaration order. [`display_plain`] is what `println` and f-strings
//! print: the same, except that a top-level string is printed raw.

use crate::collection::Coll;
use crate::value::{TypeKind, Types, Value};
use std::fmt::Write;

/// Values nested deeper than this print `...` instead of recursing further.
const MAX_DEPTH: u32 = 1000;

pub fn display(v: &Value, types: &Types) -> String {
    let mut out = String::new();
    write_value(&mut out, v, types, 0);
    out
}

pub fn display_plain(v: &Value, types: &Types) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => display(v, types),
    }
}

/// Appends the plain display to `out` without an intermediate string for strings.
pub fn write_plain(out: &mut String, v: &Value, types: &Types) {
    match v {
        Value::Str(s) => {
            if crate::budget::room(out, s.len()) {
                out.push_str(s)
            }
        }
        _ => write_value(out, v, types, 0),
    }
}

/// Float display: integral values keep one decimal (`3.0`, `1e21` as
/// `1000000000000000000000.0`), others use Rust's shortest round-trip form.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else if f == f.trunc() {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn write_seq(out: &mut String, items: &[Value], types: &Types, depth: u32) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(out, item, types, depth + 1);
    }
}

fn write_value(out: &mut String, v: &Value, types: &Types, depth: u32) {
    if depth > MAX_DEPTH || !ruchy_syntax::stack::ok() {
        out.push_str("...");
        return;
    }
    // each node is a unit of work and asks for room for its text before writing it: a display
    // past the time or memory limit stops here, and the VM ends the cell with that limit
    let size = match v {
        Value::Str(s) => s.len() + 4,
        _ => 32,
    };
    if !crate::budget::go_on(1) || !crate::budget::room(out, size) {
        return;
    }
    match v {
        Value::Nil | Value::Undef => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => push_int(out, *n),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::Str(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            write_seq(out, items, types, depth);
            out.push(']');
        }
        Value::Tuple(items) => {
            out.push('(');
            write_seq(out, items, types, depth);
            out.push(')');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !crate::budget::room(out, k.len() + 4) {
                    return;
                }
                out.push_str(k);
                out.push_str(": ");
                write_value(out, v, types, depth + 1);
            }
            out.push('}');
        }
        // as Rust's `{:?}`: `{"a": 1}`, `{1, 2}`, `[1, 2]`
        Value::Coll(c) => match &**c {
            Coll::Map(_, m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, &k.0, types, depth + 1);
                    out.push_str(": ");
                    write_value(out, v, types, depth + 1);
                }
                out.push('}');
            }
            Coll::Set(_, s) => {
                out.push('{');
                for (i, k) in s.keys().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, &k.0, types, depth + 1);
                }
                out.push('}');
            }
            Coll::Deque(d) => {
                out.push('[');
                for (i, x) in d.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_value(out, x, types, depth + 1);
                }
                out.push(']');
            }
        },
        Value::Range(r) => {
            if let Some(s) = r.start {
                let _ = write!(out, "{s}");
            }
            out.push_str(if r.inclusive { "..=" } else { ".." });
            if let Some(e) = r.end {
                let _ = write!(out, "{e}");
            }
        }
        Value::Func(_) | Value::Builtin(_) | Value::Ctor(..) => out.push_str("<function>"),
        Value::Type(ty) => match types.get(*ty).map(|d| &d.kind) {
            Some(TypeKind::Enum { .. }) => {
                let _ = write!(out, "<enum {}>", types.name(*ty));
            }
            _ => {
                let _ = write!(out, "<struct {}>", types.name(*ty));
            }
        },
        Value::Struct(s) => {
            let def = types.get(s.ty);
            out.push_str(def.map_or("?", |d| &d.name));
            match def.map(|d| &d.kind) {
                Some(TypeKind::Struct {
                    fields,
                    tuple: false,
                }) if !fields.is_empty() => {
                    write_fields(out, fields, &s.fields, types, depth);
                }
                Some(TypeKind::Struct { tuple: true, .. }) => {
                    out.push('(');
                    write_seq(out, &s.fields, types, depth);
                    out.push(')');
                }
                _ => {}
            }
        }
        Value::Variant(var) => {
            let info = types.get(var.ty).and_then(|d| d.variant(var.variant));
            out.push_str(info.map_or("?", |i| &i.name));
            match info.and_then(|i| i.fields.as_ref()) {
                Some(names) => write_fields(out, names, &var.fields, types, depth),
                None => {
                    out.push('(');
                    write_seq(out, &var.fields, types, depth);
                    out.push(')');
                }
            }
        }
        Value::Unit(ty, variant) => out.push_str(types.variant_name(*ty, *variant)),
        Value::Rich(r) => {
            let plain = r.plain();
            if crate::budget::room(out, plain.len()) {
                out.push_str(&plain);
            }
        }
        Value::Cell(c) => match c.value.try_borrow() {
            Ok(inner) => write_value(out, &inner, types, depth + 1),
            Err(_) => out.push_str("..."),
        },
    }
}

/// ` {a: 1, b: 2}` (D23: declaration order, no space after `{`).
fn write_fields(
    out: &mut String,
    names: &[std::rc::Rc<str>],
    values: &[Value],
    types: &Types,
    depth: u32,
) {
    out.push_str(" {");
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(": ");
        write_value(out, value, types, depth + 1);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: Value) -> String {
        display(&v, &Types::default())
    }

    #[test]
    fn integers_are_written_as_rust_formats_them() {
        for n in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN, -1000] {
            let mut out = String::from(">");
            push_int(&mut out, n);
            assert_eq!(out, format!(">{n}"));
        }
    }

    #[test]
    fn floats_show_a_decimal_point() {
        assert_eq!(format_float(3.0), "3.0");
        assert_eq!(format_float(1e21), "1000000000000000000000.0");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float(1e-7), "0.0000001");
        assert_eq!(format_float(-0.0), "-0.0");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn collections() {
        assert_eq!(
            d(Value::array(vec![
                Value::Int(1),
                Value::str("a"),
                Value::Float(2.5),
                Value::Nil
            ])),
            "[1, \"a\", 2.5, nil]"
        );
        assert_eq!(d(Value::tuple(vec![Value::Int(100)])), "(100)");
        assert_eq!(d(Value::some(Value::str("s"))), "Some(\"s\")");
        assert_eq!(d(Value::none()), "None");
        assert_eq!(d(Value::err(Value::str("boom"))), "Err(\"boom\")");
    }

    #[test]
    fn deep_nesting_is_cut_not_overflowed() {
        let mut v = Value::Int(0);
        for _ in 0..5000 {
            v = Value::array(vec![v]);
        }
        let s = d(v.clone());
        assert!(s.contains("..."));
    }
}

/// Writes an integer in decimal without the formatting machinery (f-strings and displays of
/// numbers are most of what a notebook prints).
pub fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}
