//! Built-in functions (spec section 12, decisions D8, D10): `println`, `len`, `range`,
//! `format`, ... Each is a session global at start-up, so a user may redefine one.
//!
//! Methods (`"abc".len()`, `xs.map(f)`) live in [`crate::methods`].

use crate::arith;
use crate::catalogue::{Builtin, MethodId};
use crate::chart::ChartKind;
use crate::display::{display, display_plain};
use crate::error::VmError;
use crate::format::template;
use crate::rich::Rich;
use crate::value::{Value, ERR, NONE, OK, OPTION, RESULT, SOME};
use crate::vm::Vm;
use ruchy_syntax::template::has_placeholder;
use std::rc::Rc;

pub(crate) mod charts;

type VResult<T> = Result<T, VmError>;

/// The collection a constructor's name (`HashSet::from`) makes.
fn collection_kind(name: &str) -> crate::collection::Kind {
    name.split("::")
        .next()
        .and_then(crate::collection::Kind::named)
        .unwrap_or(crate::collection::Kind::HashMap)
}

/// The built-in a path like `Vec::new` names (`String::from`, `Box::new`, ...): Rust's
/// standard constructors, when no user type of that name is defined.
pub fn std_constructor(owner: &str, name: &str) -> Option<Builtin> {
    Builtin::ALL.iter().copied().find(|b| {
        b.name()
            .split_once("::")
            .is_some_and(|(o, n)| o == owner && n == name)
    })
}

/// The globals a fresh session starts with: the builtins, the `Option`/`Result`
/// constructors and the constants `PI`, `E`, `TAU`.
pub fn initial_globals() -> Vec<(&'static str, Value)> {
    let mut g: Vec<(&'static str, Value)> = Builtin::ALL
        .iter()
        .filter(|b| !b.name().contains("::"))
        .map(|b| (b.name(), Value::Builtin(*b)))
        .collect();
    g.push(("Some", Value::Ctor(OPTION, SOME)));
    g.push(("None", Value::Unit(OPTION, NONE)));
    g.push(("Ok", Value::Ctor(RESULT, OK)));
    g.push(("Err", Value::Ctor(RESULT, ERR)));
    g.push(("Option", Value::Type(OPTION)));
    g.push(("Result", Value::Type(RESULT)));
    g.extend(FLOAT_CONSTANTS.iter().map(|&(n, f)| (n, Value::Float(f))));
    g
}

/// `std::f64::consts` that are session globals by their bare names (as after `use
/// std::f64::consts::PI`) and reachable by path (`f64::consts::PI`); `compile` writes
/// `std::f64::consts::NAME`.
pub const FLOAT_CONSTANTS: [(&str, f64); 3] = [
    ("PI", std::f64::consts::PI),
    ("E", std::f64::consts::E),
    ("TAU", std::f64::consts::TAU),
];

/// Whether `name` is one of [`FLOAT_CONSTANTS`].
pub fn is_float_constant(name: &str) -> bool {
    FLOAT_CONSTANTS.iter().any(|&(n, _)| n == name)
}

/// Constants reachable by path: `i64::MAX`, `f64::consts::PI`, ...
pub fn path_constant(path: &[Rc<str>]) -> Option<Value> {
    let last = path.last()?;
    let ty = path.first()?;
    Some(match (&**ty, &**last) {
        ("i64" | "i32" | "isize" | "Int", "MAX") => Value::Int(match &**ty {
            "i32" => i32::MAX as i64,
            _ => i64::MAX,
        }),
        ("i64" | "i32" | "isize" | "Int", "MIN") => Value::Int(match &**ty {
            "i32" => i32::MIN as i64,
            _ => i64::MIN,
        }),
        ("f64" | "f32" | "Float", "MAX") => Value::Float(f64::MAX),
        ("f64" | "f32" | "Float", "MIN") => Value::Float(f64::MIN),
        ("f64" | "f32" | "Float", "INFINITY") => Value::Float(f64::INFINITY),
        ("f64" | "f32" | "Float", "NEG_INFINITY") => Value::Float(f64::NEG_INFINITY),
        ("f64" | "f32" | "Float", "NAN") => Value::Float(f64::NAN),
        ("f64" | "f32" | "Float" | "std", "EPSILON") => Value::Float(f64::EPSILON),
        (_, name) => match FLOAT_CONSTANTS.iter().find(|&&(n, _)| n == name) {
            Some(&(_, f)) => Value::Float(f),
            None => return None,
        },
    })
}

pub(crate) fn arity(name: &str, args: &[Value], min: usize, max: usize) -> VResult<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(VmError::runtime(format!(
            "{name}() expects {expected} argument{}, got {}",
            if max == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

pub fn to_float(v: &Value, what: &str) -> VResult<f64> {
    match v {
        Value::Int(n) => Ok(*n as f64),
        Value::Float(f) => Ok(*f),
        other => Err(VmError::type_error(format!(
            "{what} expects a number, found {}",
            other.type_name()
        ))),
    }
}

fn float_to_int(f: f64, what: &str) -> VResult<Value> {
    if f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64 {
        Ok(Value::Int(f as i64))
    } else {
        Err(VmError::runtime(format!(
            "{what}: {f} does not fit in an integer"
        )))
    }
}

pub fn parse_int(s: &str) -> VResult<Value> {
    s.trim()
        .parse::<i64>()
        .map(Value::Int)
        .map_err(|_| VmError::runtime(format!("Cannot parse \"{s}\" as an integer")))
}

pub fn parse_float(s: &str) -> VResult<Value> {
    s.trim()
        .parse::<f64>()
        .map(Value::Float)
        .map_err(|_| VmError::runtime(format!("Cannot parse \"{s}\" as a float")))
}

/// Python-style truthiness of `bool(x)`: zero, empty and nil are false.
fn to_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(n) => *n != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Nil | Value::Undef => false,
        _ => true,
    }
}

impl Vm {
    /// The text `println`/`print` write for their arguments (D8, D9).
    pub fn print_text(&self, args: &[Value]) -> String {
        if let Some(Value::Str(first)) = args.first() {
            if has_placeholder(first) {
                return template(first, &args[1..], &self.types);
            }
        }
        let mut out = String::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            crate::display::write_plain(&mut out, a, &self.types);
        }
        out
    }

    /// Calls the built-in function `b`. A limit the meter tripped on inside it ends the call
    /// with that limit, whatever it returned ([`crate::budget`]).
    pub fn call_builtin(&mut self, b: Builtin, args: &mut [Value]) -> VResult<Value> {
        crate::budget::settle(self.builtin_body(b, args))
    }

    fn builtin_body(&mut self, b: Builtin, args: &mut [Value]) -> VResult<Value> {
        use Builtin::*;
        let name = b.name();
        match b {
            Println | Print => {
                let mut text = self.print_text(args);
                if b == Println {
                    text.push('\n');
                }
                self.write_out(&text)?;
                Ok(Value::Nil)
            }
            Dbg => {
                arity(name, args, 1, 1)?;
                let text = format!("[DEBUG] {}\n", display(&args[0], &self.types));
                self.write_out(&text)?;
                Ok(std::mem::take(&mut args[0]))
            }
            Len => {
                arity(name, args, 1, 1)?;
                crate::methods::length(&args[0]).map(Value::Int)
            }
            TypeOf | TypeOf2 => {
                arity(name, args, 1, 1)?;
                Ok(Value::str(args[0].type_name()))
            }
            Assert => {
                arity(name, args, 1, 2)?;
                if args[0].truthy() {
                    return Ok(Value::Nil);
                }
                Err(VmError::runtime(match args.get(1) {
                    Some(m) => format!("Assertion failed: {}", display_plain(m, &self.types)),
                    None => "Assertion failed".to_string(),
                }))
            }
            AssertEq | AssertNe => {
                arity(name, args, 2, 3)?;
                let equal = args[0].equals(&args[1]);
                if equal == (b == AssertEq) {
                    return Ok(Value::Nil);
                }
                let (a, c) = (
                    display(&args[0], &self.types),
                    display(&args[1], &self.types),
                );
                let mut msg = if b == AssertEq {
                    format!("Assertion failed: expected {a}, got {c}")
                } else {
                    format!("Assertion failed: {a} == {c}")
                };
                if let Some(m) = args.get(2) {
                    msg.push_str(&format!(": {}", display_plain(m, &self.types)));
                }
                Err(VmError::runtime(msg))
            }
            Range => {
                arity(name, args, 1, 3)?;
                let ints: Vec<i64> = args
                    .iter()
                    .map(|a| match a {
                        Value::Int(n) => Ok(*n),
                        other => Err(VmError::type_error(format!(
                            "range() expects integers, found {}",
                            other.type_name()
                        ))),
                    })
                    .collect::<VResult<_>>()?;
                let (lo, hi, step) = match ints.as_slice() {
                    [n] => (0, *n, 1),
                    [a, b] => (*a, *b, 1),
                    [a, b, s] => (*a, *b, *s),
                    _ => (0, 0, 1),
                };
                if step == 0 {
                    return Err(VmError::runtime("range() step must not be zero"));
                }
                let count = if step > 0 {
                    (hi.saturating_sub(lo).max(0) as u64).div_ceil(step as u64)
                } else {
                    (lo.saturating_sub(hi).max(0) as u64).div_ceil(step.unsigned_abs())
                };
                arith::copies(
                    1,
                    i64::try_from(count).unwrap_or(i64::MAX),
                    crate::value::VALUE_BYTES,
                )?;
                let mut out = crate::budget::vec_with(count as usize)?;
                let mut i = lo;
                while (step > 0 && i < hi) || (step < 0 && i > hi) {
                    if out.len() % crate::budget::CHUNK as usize == 0 {
                        crate::budget::burn(crate::budget::CHUNK as usize)?;
                    }
                    out.push(Value::Int(i));
                    match i.checked_add(step) {
                        Some(n) => i = n,
                        None => break,
                    }
                }
                Ok(Value::array(out))
            }
            Int => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(n) => Ok(Value::Int(*n)),
                    Value::Float(f) => float_to_int(f.trunc(), "int()"),
                    Value::Bool(b) => Ok(Value::Int(*b as i64)),
                    Value::Str(s) => parse_int(s),
                    other => Err(VmError::type_error(format!(
                        "int() cannot convert {}",
                        other.type_name()
                    ))),
                }
            }
            Float => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(n) => Ok(Value::Float(*n as f64)),
                    Value::Float(f) => Ok(Value::Float(*f)),
                    Value::Bool(b) => Ok(Value::Float(if *b { 1.0 } else { 0.0 })),
                    Value::Str(s) => parse_float(s),
                    other => Err(VmError::type_error(format!(
                        "float() cannot convert {}",
                        other.type_name()
                    ))),
                }
            }
            Str | ToString => {
                arity(name, args, 1, 1)?;
                Ok(Value::str(display_plain(&args[0], &self.types)))
            }
            Bool => {
                arity(name, args, 1, 1)?;
                Ok(Value::Bool(to_bool(&args[0])))
            }
            Sqrt | Sin | Cos | Tan | Log | Log10 | Exp => {
                arity(name, args, 1, 1)?;
                let x = to_float(&args[0], name)?;
                Ok(Value::Float(match b {
                    Sqrt => x.sqrt(),
                    Sin => x.sin(),
                    Cos => x.cos(),
                    Tan => x.tan(),
                    Log => x.ln(),
                    Log10 => x.log10(),
                    _ => x.exp(),
                }))
            }
            Pow => {
                arity(name, args, 2, 2)?;
                arith::pow(&args[0], &args[1])
            }
            Abs => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(n) => n
                        .checked_abs()
                        .map(Value::Int)
                        .ok_or_else(|| arith::overflow("abs")),
                    Value::Float(f) => Ok(Value::Float(f.abs())),
                    other => Err(VmError::type_error(format!(
                        "abs() expects a number, found {}",
                        other.type_name()
                    ))),
                }
            }
            Min | Max => {
                if args.is_empty() {
                    return Err(VmError::runtime(format!(
                        "{name}() expects at least 1 argument"
                    )));
                }
                let items: &[Value] = match args {
                    [Value::Array(a)] => a,
                    _ => args,
                };
                crate::methods::extreme(items, b == Max)
            }
            Floor | Ceil | Round => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(n) => Ok(Value::Int(*n)),
                    v => {
                        let x = to_float(v, name)?;
                        let r = match b {
                            Floor => x.floor(),
                            Ceil => x.ceil(),
                            _ => x.round(),
                        };
                        float_to_int(r, name)
                    }
                }
            }
            Random => {
                arity(name, args, 0, 0)?;
                Ok(Value::Float(self.random()))
            }
            Sort | Sorted | Reverse | Reversed | Zip | Enumerate | Sum | Product | Unique
            | Flatten | Join => {
                // free-function forms of array methods (D10): `sum(xs)` is `xs.sum()`
                if args.is_empty() {
                    return Err(VmError::runtime(format!("{name}() expects an array")));
                }
                let mut recv = std::mem::take(&mut args[0]);
                let rest = args[1..].to_vec();
                self.call_method(
                    &mut recv,
                    MethodId::lookup(name).unwrap_or(MethodId::Unknown),
                    name,
                    &rest,
                )
            }
            Split => {
                arity(name, args, 1, 2)?;
                let mut recv = std::mem::take(&mut args[0]);
                let rest = args[1..].to_vec();
                self.call_method(&mut recv, MethodId::Split, "split", &rest)
            }
            IsNil => {
                arity(name, args, 1, 1)?;
                Ok(Value::Bool(args[0].is_nil()))
            }
            ParseInt | ParseFloat => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Str(s) if b == ParseInt => parse_int(s),
                    Value::Str(s) => parse_float(s),
                    other => Err(VmError::type_error(format!(
                        "{name}() expects a string, found {}",
                        other.type_name()
                    ))),
                }
            }
            Format => {
                let Some(Value::Str(fmt)) = args.first() else {
                    return Err(VmError::type_error(
                        "format() expects a format string as its first argument",
                    ));
                };
                let text = template(fmt, &args[1..], &self.types);
                crate::budget::bytes(text.len())?;
                Ok(Value::str(text))
            }
            Panic => {
                let msg = if args.is_empty() {
                    "explicit panic".to_string()
                } else {
                    self.print_text(args)
                };
                Err(VmError::runtime(format!("panic: {msg}")))
            }
            Html | Markdown | Svg => {
                arity(name, args, 1, 1)?;
                let Value::Str(s) = &args[0] else {
                    return Err(VmError::type_error(format!(
                        "{name}() expects a string, found {}",
                        args[0].type_name()
                    )));
                };
                crate::budget::bytes(s.len())?;
                let s = s.to_string();
                Ok(Value::Rich(Rc::new(match b {
                    Html => Rich::Html(s),
                    Markdown => Rich::Markdown(s),
                    _ if crate::rich::looks_like_svg(&s) => Rich::Svg(s),
                    _ => {
                        return Err(VmError::runtime(
                            "svg() expects SVG markup: text whose first tag is <svg ...>",
                        ))
                    }
                })))
            }
            Display => {
                arity(name, args, 1, 1)?;
                self.display_value(&args[0])?;
                Ok(Value::Nil)
            }
            LineChart | ScatterChart | BarChart | Histogram => {
                let kind = match b {
                    LineChart => ChartKind::Line,
                    ScatterChart => ChartKind::Scatter,
                    BarChart => ChartKind::Bar,
                    _ => ChartKind::Histogram,
                };
                let chart = charts::build(kind, name, args, &self.types)?;
                Ok(Value::Rich(Rc::new(Rich::Chart(Box::new(chart)))))
            }
            VecNew | StringNew => {
                arity(name, args, 0, 0)?;
                Ok(if b == VecNew {
                    Value::array(Vec::new())
                } else {
                    Value::str("")
                })
            }
            VecWithCapacity => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(_) => Ok(Value::array(Vec::new())),
                    other => Err(VmError::type_error(format!(
                        "Vec::with_capacity expects an integer, found {}",
                        other.type_name()
                    ))),
                }
            }
            StringFrom => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Str(_) => Ok(std::mem::take(&mut args[0])),
                    other => Err(VmError::type_error(format!(
                        "String::from expects a string, found {} (to_string() makes text of any value)",
                        other.type_name()
                    ))),
                }
            }
            // a box is the value itself: values are shared and copied on write already
            BoxNew => {
                arity(name, args, 1, 1)?;
                Ok(std::mem::take(&mut args[0]))
            }
            HashMapNew | BTreeMapNew | HashSetNew | BTreeSetNew | VecDequeNew => {
                arity(name, args, 0, 0)?;
                Ok(Value::Coll(Rc::new(crate::collection::empty(
                    collection_kind(name),
                ))))
            }
            HashMapWithCapacity | HashSetWithCapacity | VecDequeWithCapacity => {
                arity(name, args, 1, 1)?;
                match &args[0] {
                    Value::Int(_) => Ok(Value::Coll(Rc::new(crate::collection::empty(
                        collection_kind(name),
                    )))),
                    other => Err(VmError::type_error(format!(
                        "{name} expects an integer, found {}",
                        other.type_name()
                    ))),
                }
            }
            HashMapFrom | BTreeMapFrom | HashSetFrom | BTreeSetFrom | VecDequeFrom => {
                arity(name, args, 1, 1)?;
                let from = std::mem::take(&mut args[0]);
                let c = crate::methods::collection::build(collection_kind(name), from)?;
                Ok(Value::Coll(Rc::new(c)))
            }
        }
    }

    /// A pseudo-random float in [0, 1) from the session's xorshift generator (no I/O).
    fn random(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
