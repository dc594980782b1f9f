//! The chart built-ins, `line_chart`, `scatter_chart`, `bar_chart` and `histogram`: their
//! arguments (values and an options object) checked and read into a [`Chart`], which
//! [`crate::chart`] describes and draws.

use crate::chart::*;
use crate::display::display_plain;
use crate::error::VmError;
use crate::value::{RangeValue, Types, Value};
use std::fmt;

/// Builds a chart from the arguments of the Ruchy built-in functions
///   line_chart(xs, ys)            line_chart(xs, ys, options)
///   scatter_chart(xs, ys)         scatter_chart(xs, ys, options)
///   bar_chart(labels, values)     bar_chart(labels, values, options)
///   histogram(values)  histogram(values, bins)  histogram(values, bins, options)  histogram(values, options)
/// `name` is the function's name, used in messages ("line_chart() ...").
pub fn build(kind: ChartKind, name: &str, args: &[Value], types: &Types) -> Result<Chart, VmError> {
    let (data, options) = match kind {
        ChartKind::Line | ChartKind::Scatter => {
            arity(name, args, 2, 3, "2 or 3 arguments (xs, ys, options)")?;
            let xs = numbers(name, "xs", &args[0])?;
            let ys = numbers(name, "ys", &args[1])?;
            same_length(name, "xs", xs.len(), "ys", ys.len(), "numbers")?;
            if xs.is_empty() {
                return Err(VmError::runtime(format!(
                    "{name}(): no data (xs and ys are empty)"
                )));
            }
            (Data::Points { xs, ys }, args.get(2))
        }
        ChartKind::Bar => {
            arity(
                name,
                args,
                2,
                3,
                "2 or 3 arguments (labels, values, options)",
            )?;
            let labels = labels(name, &args[0], types)?;
            let values = numbers(name, "values", &args[1])?;
            same_length(
                name,
                "labels",
                labels.len(),
                "values",
                values.len(),
                "items",
            )?;
            if values.is_empty() {
                return Err(VmError::runtime(format!(
                    "{name}(): no data (labels and values are empty)"
                )));
            }
            (Data::Bars { labels, values }, args.get(2))
        }
        ChartKind::Histogram => {
            arity(name, args, 1, 3, "1 to 3 arguments (values, bins, options)")?;
            let values = numbers(name, "values", &args[0])?;
            if values.is_empty() {
                return Err(VmError::runtime(format!("{name}(): no values")));
            }
            let (bins, options) = match args.get(1) {
                None => (DEFAULT_BINS, None),
                Some(Value::Object(_)) if args.len() == 2 => (DEFAULT_BINS, args.get(1)),
                Some(bins) => (bins_arg(name, bins, args.len() == 2)?, args.get(2)),
            };
            (Data::Histogram { values, bins }, options)
        }
    };
    let options = parse_options(name, options)?;
    let default_y_label = if kind == ChartKind::Histogram {
        "count"
    } else {
        ""
    };
    Ok(Chart {
        kind,
        title: options.title.unwrap_or_default(),
        x_label: options.x_label.unwrap_or_default(),
        y_label: options
            .y_label
            .unwrap_or_else(|| default_y_label.to_string()),
        width: options.width.unwrap_or(DEFAULT_WIDTH),
        height: options.height.unwrap_or(DEFAULT_HEIGHT),
        color: options.color.unwrap_or_else(|| DEFAULT_COLOR.to_string()),
        data,
    })
}

fn arity(
    name: &str,
    args: &[Value],
    min: usize,
    max: usize,
    expected: &str,
) -> Result<(), VmError> {
    if args.len() < min || args.len() > max {
        return Err(VmError::runtime(format!(
            "{name}() expects {expected}, got {}",
            args.len()
        )));
    }
    Ok(())
}

fn same_length(
    name: &str,
    a: &str,
    a_len: usize,
    b: &str,
    b_len: usize,
    items: &str,
) -> Result<(), VmError> {
    if a_len != b_len {
        return Err(VmError::runtime(format!(
            "{name}(): {a} has {a_len} {items} and {b} has {b_len}; they must be the same length"
        )));
    }
    Ok(())
}

/// "a string", "an object", "nil": a value's type for a message.
fn a_type(v: &Value) -> String {
    let t = v.type_name();
    match t {
        "nil" => t.to_string(),
        _ if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

fn too_many(name: &str, what: &str, desc: &str, n: impl fmt::Display) -> VmError {
    VmError::runtime(format!(
        "{name}(): {what} {desc} {n} numbers; at most {MAX_POINTS} can be drawn"
    ))
}

/// A sequence of numbers: an array or tuple of numbers, or a closed integer range.
fn numbers(name: &str, what: &str, v: &Value) -> Result<Vec<f64>, VmError> {
    match v {
        Value::Array(items) | Value::Tuple(items) => {
            if items.len() > MAX_POINTS {
                return Err(too_many(name, what, "has", items.len()));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| number(name, what, i, item))
                .collect()
        }
        Value::Range(r) => Ok(range_items(name, what, r)?.map(|n| n as f64).collect()),
        other => Err(VmError::type_error(format!(
            "{name}(): {what} must be an array or a range of numbers, found {}",
            other.type_name()
        ))),
    }
}

fn number(name: &str, what: &str, i: usize, v: &Value) -> Result<f64, VmError> {
    let f = match v {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        other => {
            return Err(VmError::type_error(format!(
                "{name}(): {what}[{i}] is {}, not a number",
                a_type(other)
            )))
        }
    };
    if f.is_nan() {
        Err(VmError::runtime(format!("{name}(): {what}[{i}] is NaN")))
    } else if f.is_infinite() {
        let sign = if f > 0.0 { "inf" } else { "-inf" };
        Err(VmError::runtime(format!(
            "{name}(): {what}[{i}] is not finite ({sign})"
        )))
    } else if f.abs() > MAX_MAGNITUDE {
        Err(VmError::runtime(format!(
            "{name}(): {what}[{i}] is {f:e}, too large to draw (at most 1e300 in size)"
        )))
    } else {
        Ok(f)
    }
}

/// The integers of a closed range, refused when open or longer than [`MAX_POINTS`].
fn range_items(
    name: &str,
    what: &str,
    r: &RangeValue,
) -> Result<impl Iterator<Item = i64>, VmError> {
    let (Some(start), Some(end)) = (r.start, r.end) else {
        return Err(VmError::runtime(format!(
            "{name}(): {what} is an open range; a chart needs both ends, e.g. 0..10"
        )));
    };
    // In i128 so that `..=i64::MAX` counts right.
    let end = i128::from(end) + i128::from(r.inclusive);
    let len = (end - i128::from(start)).max(0);
    if len > MAX_POINTS as i128 {
        return Err(too_many(name, what, "is a range of", len));
    }
    Ok((0..len as i64).map(move |i| (i128::from(start) + i128::from(i)) as i64))
}

/// Bar labels: strings as they are, other values as `println` shows them.
fn labels(name: &str, v: &Value, types: &Types) -> Result<Vec<String>, VmError> {
    match v {
        Value::Array(items) | Value::Tuple(items) => {
            if items.len() > MAX_POINTS {
                return Err(too_many(name, "labels", "has", items.len()));
            }
            Ok(items.iter().map(|l| display_plain(l, types)).collect())
        }
        Value::Range(r) => Ok(range_items(name, "labels", r)?
            .map(|n| n.to_string())
            .collect()),
        other => Err(VmError::type_error(format!(
            "{name}(): labels must be an array or a range, found {}",
            other.type_name()
        ))),
    }
}

/// histogram's `bins`; `or_options` when it is the second of two arguments (which may also be
/// the options).
fn bins_arg(name: &str, v: &Value, or_options: bool) -> Result<usize, VmError> {
    match v {
        Value::Int(n) if (1..=MAX_BINS as i64).contains(n) => Ok(*n as usize),
        Value::Int(n) => Err(VmError::runtime(format!(
            "{name}(): bins must be between 1 and {MAX_BINS}, got {n}"
        ))),
        other if or_options => Err(VmError::type_error(format!(
            "{name}(): the second argument must be bins (an integer) or options (an object), found {}",
            other.type_name()
        ))),
        other => Err(VmError::type_error(format!(
            "{name}(): bins must be an integer, found {}",
            other.type_name()
        ))),
    }
}

/// The options object, each field `None` when not given (or given as `nil`).
#[derive(Default)]
struct Options {
    title: Option<String>,
    x_label: Option<String>,
    y_label: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    color: Option<String>,
}

fn parse_options(name: &str, v: Option<&Value>) -> Result<Options, VmError> {
    let mut options = Options::default();
    let map = match v {
        None => return Ok(options),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(VmError::type_error(format!(
                "{name}(): options must be an object such as {{title: \"Sales\"}}, found {}",
                other.type_name()
            )))
        }
    };
    for (key, value) in map.iter() {
        match &**key {
            "title" => options.title = string_option(name, key, value)?,
            "x_label" => options.x_label = string_option(name, key, value)?,
            "y_label" => options.y_label = string_option(name, key, value)?,
            "width" => options.width = size_option(name, key, value)?,
            "height" => options.height = size_option(name, key, value)?,
            "color" => options.color = color_option(name, value)?,
            _ => {
                return Err(VmError::runtime(format!(
                    "{name}(): unknown option '{key}'; the options are {OPTION_KEYS}"
                )))
            }
        }
    }
    Ok(options)
}

fn string_option(name: &str, key: &str, v: &Value) -> Result<Option<String>, VmError> {
    match v {
        Value::Nil => Ok(None),
        Value::Str(s) => Ok(Some(s.to_string())),
        other => Err(VmError::type_error(format!(
            "{name}(): option {key} must be a string, found {}",
            other.type_name()
        ))),
    }
}

fn size_option(name: &str, key: &str, v: &Value) -> Result<Option<u32>, VmError> {
    let (pixels, shown) = match v {
        Value::Nil => return Ok(None),
        Value::Int(n) => (*n as f64, n.to_string()),
        Value::Float(f) => (f.round(), crate::display::format_float(*f)),
        other => {
            return Err(VmError::type_error(format!(
                "{name}(): option {key} must be a number (pixels), found {}",
                other.type_name()
            )))
        }
    };
    if !(f64::from(MIN_SIZE)..=f64::from(MAX_SIZE)).contains(&pixels) {
        return Err(VmError::runtime(format!(
            "{name}(): option {key} must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {shown}"
        )));
    }
    Ok(Some(pixels as u32))
}

fn color_option(name: &str, v: &Value) -> Result<Option<String>, VmError> {
    let color = match v {
        Value::Nil => return Ok(None),
        Value::Str(s) => s.trim(),
        other => {
            return Err(VmError::type_error(format!(
                "{name}(): option color must be a string, found {}",
                other.type_name()
            )))
        }
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "#(),.% ".contains(c);
    if color.is_empty() || color.len() > MAX_COLOR_LEN || !color.chars().all(allowed) {
        return Err(VmError::runtime(format!(
            "{name}(): option color must be a CSS color such as \"steelblue\", \"#4e79a7\" or \
             \"rgb(78, 121, 167)\" (letters, digits, spaces and # ( ) , . % only), got {color:?}"
        )));
    }
    Ok(Some(color.to_string()))
}
