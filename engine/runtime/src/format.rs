//! Format specs and templates (decision D9): `{x:>5}` in f-strings, `format(..)` and
//! `println("{} {:.2}", a, b)`.
//!
//! A spec is Rust's: `[[fill]align][sign][#][0][width][.precision][type]` with type one of
//! `?` (debug: strings quoted), `x`, `X`, `o`, `b`, `e`, `E`. As in the reference, a
//! precision formats an integer like a float (`f"{5:.2}"` is `5.00`).

use crate::display::{display, display_plain};
use crate::value::{Types, Value};
use ruchy_syntax::template::{pieces, Align, FormatSpec, Kind, Piece};

/// Formats `v` with `spec`.
pub fn apply(spec: &FormatSpec, v: &Value, types: &Types) -> String {
    let (sign, body) = body(spec, v, types);
    let len = sign.chars().count() + body.chars().count();
    let Some(width) = spec.width.filter(|&w| w > len) else {
        return sign + &body;
    };
    let pad = width - len;
    let numeric = matches!(v, Value::Int(_) | Value::Float(_));
    // as in Rust, `0` pads a number with zeros whatever the alignment (`{:<05}` of 7 is 00007)
    if spec.zero && numeric {
        return format!("{sign}{}{body}", "0".repeat(pad));
    }
    let align = spec
        .align
        .unwrap_or(if numeric { Align::Right } else { Align::Left });
    let fill = |n: usize| spec.fill.to_string().repeat(n);
    match align {
        Align::Left => format!("{sign}{body}{}", fill(pad)),
        Align::Right => format!("{}{sign}{body}", fill(pad)),
        Align::Center => format!("{}{sign}{body}{}", fill(pad / 2), fill(pad - pad / 2)),
    }
}

/// The sign and the digits/text, before padding.
fn body(spec: &FormatSpec, v: &Value, types: &Types) -> (String, String) {
    let signed = |negative: bool, digits: String| -> (String, String) {
        let sign = if negative {
            "-"
        } else if spec.plus {
            "+"
        } else {
            ""
        };
        (sign.to_string(), digits)
    };
    match (v, spec.kind) {
        (Value::Int(n), Kind::LowerHex | Kind::UpperHex | Kind::Octal | Kind::Binary) => {
            // as Rust: a negative number in two's complement, and zeros of a width go
            // between the `0x` and the digits
            let (prefix, digits) = match spec.kind {
                Kind::LowerHex => ("0x", format!("{n:x}")),
                Kind::UpperHex => ("0x", format!("{n:X}")),
                Kind::Octal => ("0o", format!("{n:o}")),
                _ => ("0b", format!("{n:b}")),
            };
            let (sign, digits) = signed(false, digits);
            let prefix = if spec.alternate { prefix } else { "" };
            (format!("{sign}{prefix}"), digits)
        }
        (Value::Int(n), Kind::LowerExp | Kind::UpperExp) => float_body(spec, *n as f64),
        (Value::Int(n), _) => match spec.precision {
            Some(p) => signed(*n < 0, format!("{:.p$}", (*n as f64).abs())),
            None => signed(*n < 0, n.unsigned_abs().to_string()),
        },
        (Value::Float(f), _) => float_body(spec, *f),
        (Value::Str(s), Kind::Display) => {
            let text = match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            (String::new(), text)
        }
        (_, Kind::Debug) => (String::new(), display(v, types)),
        _ => (String::new(), display_plain(v, types)),
    }
}

fn float_body(spec: &FormatSpec, f: f64) -> (String, String) {
    let negative = f.is_sign_negative() && !f.is_nan();
    let a = f.abs();
    let digits = match (spec.kind, spec.precision) {
        (Kind::LowerExp, Some(p)) => format!("{a:.p$e}"),
        (Kind::LowerExp, None) => format!("{a:e}"),
        (Kind::UpperExp, Some(p)) => format!("{a:.p$E}"),
        (Kind::UpperExp, None) => format!("{a:E}"),
        (_, Some(p)) => format!("{a:.p$}"),
        (_, None) => crate::display::format_float(a),
    };
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else {
        ""
    };
    (sign.to_string(), digits)
}

/// A `{}`-style template as `println("x = {}", x)` and `format("{:>5}", x)` take it: `{}`,
/// `{:spec}`, `{N}`, `{N:spec}` take arguments; `{{`/`}}` are braces; a placeholder without an
/// argument stays as written; anything else in braces is literal text.
pub fn template(fmt: &str, args: &[Value], types: &Types) -> String {
    let mut out = String::with_capacity(fmt.len() + 8 * args.len());
    let mut next = 0usize;
    for piece in pieces(fmt) {
        match piece {
            // room is asked for before each piece; past the memory limit the text stops here
            // and the VM ends the cell with the limit (crate::budget)
            Piece::Text(text) => {
                if !crate::budget::room(&mut out, text.len()) {
                    return out;
                }
                out.push_str(text);
            }
            Piece::Brace(brace, _) => out.push(brace),
            Piece::Hole { pos, spec, raw } => {
                let index = if pos.is_empty() {
                    Some(next)
                } else {
                    pos.parse::<usize>().ok()
                };
                match (index, FormatSpec::parse(spec.unwrap_or(""))) {
                    (Some(idx), Some(spec)) if idx < args.len() => {
                        let text = apply(&spec, &args[idx], types);
                        if !crate::budget::room(&mut out, text.len()) {
                            return out;
                        }
                        out.push_str(&text);
                        if pos.is_empty() {
                            next += 1;
                        }
                    }
                    _ => out.push_str(raw),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(spec: &str, v: Value) -> String {
        apply(&FormatSpec::parse(spec).unwrap(), &v, &Types::default())
    }

    #[test]
    fn rust_style_specs_d9() {
        assert_eq!(f(">5", Value::Int(42)), "   42");
        assert_eq!(f("05", Value::Int(42)), "00042");
        assert_eq!(f("05", Value::Int(-42)), "-0042");
        assert_eq!(f("+.2", Value::Float(3.14159)), "+3.14");
        assert_eq!(f(".2", Value::Int(5)), "5.00");
        assert_eq!(f(".0", Value::Float(2.5)), "2");
        assert_eq!(f("<6", Value::str("ab")), "ab    ");
        assert_eq!(f("*^7", Value::str("ab")), "**ab***");
        assert_eq!(f("?", Value::str("ab")), "\"ab\"");
        assert_eq!(f("", Value::str("ab")), "ab");
        assert_eq!(f("#x", Value::Int(255)), "0xff");
        assert_eq!(f("08.3", Value::Float(-3.14159)), "-003.142");
    }

    #[test]
    fn templates() {
        let t = Types::default();
        let args = [Value::Int(1), Value::str("x")];
        assert_eq!(template("a={} b={}", &args, &t), "a=1 b=x");
        assert_eq!(template("{} {} {}", &args, &t), "1 x {}");
        assert_eq!(template("{{}} {1}{0} {:>3}", &args, &t), "{} x1   1");
        assert_eq!(template("{name}", &args, &t), "{name}");
    }
}
