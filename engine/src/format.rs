//! Format specs and templates (decision D9): `{x:>5}` in f-strings, `format(..)` and
//! `println("{} {:.2}", a, b)`.
//!
//! A spec is Rust's: `[[fill]align][sign][#][0][width][.precision][type]` with type one of
//! `?` (debug: strings quoted), `x`, `X`, `o`, `b`, `e`, `E`. As in the reference, a
//! precision formats an integer like a float (`f"{5:.2}"` is `5.00`).

use crate::display::{display, display_plain};
use crate::value::{Types, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Display,
    Debug,
    LowerHex,
    UpperHex,
    Octal,
    Binary,
    LowerExp,
    UpperExp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FormatSpec {
    pub fill: char,
    pub align: Option<Align>,
    pub plus: bool,
    pub alternate: bool,
    pub zero: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
    pub kind: Kind,
}

impl FormatSpec {
    /// Parses the text after `:`; `None` if it is not a format spec.
    pub fn parse(spec: &str) -> Option<FormatSpec> {
        let mut s = FormatSpec {
            fill: ' ',
            align: None,
            plus: false,
            alternate: false,
            zero: false,
            width: None,
            precision: None,
            kind: Kind::Display,
        };
        let chars: Vec<char> = spec.chars().collect();
        let mut i = 0;
        let align_of = |c: char| match c {
            '<' => Some(Align::Left),
            '^' => Some(Align::Center),
            '>' => Some(Align::Right),
            _ => None,
        };
        if chars.len() >= 2 && align_of(chars[1]).is_some() {
            s.fill = chars[0];
            s.align = align_of(chars[1]);
            i = 2;
        } else if let Some(a) = chars.first().and_then(|&c| align_of(c)) {
            s.align = Some(a);
            i = 1;
        }
        if chars.get(i) == Some(&'+') {
            s.plus = true;
            i += 1;
        } else if chars.get(i) == Some(&'-') {
            i += 1;
        }
        if chars.get(i) == Some(&'#') {
            s.alternate = true;
            i += 1;
        }
        if chars.get(i) == Some(&'0') {
            s.zero = true;
            i += 1;
        }
        let digits = |i: &mut usize| -> Option<usize> {
            let start = *i;
            while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
                *i += 1;
            }
            if *i == start {
                None
            } else {
                chars[start..*i].iter().collect::<String>().parse().ok()
            }
        };
        s.width = digits(&mut i);
        if chars.get(i) == Some(&'.') {
            i += 1;
            s.precision = Some(digits(&mut i)?);
        }
        s.kind = match chars.get(i) {
            None => Kind::Display,
            Some('?') => Kind::Debug,
            Some('x') => Kind::LowerHex,
            Some('X') => Kind::UpperHex,
            Some('o') => Kind::Octal,
            Some('b') => Kind::Binary,
            Some('e') => Kind::LowerExp,
            Some('E') => Kind::UpperExp,
            // Python's presentation types, which users type: `.2f` is Rust's `.2` (and `f`
            // alone Python's six decimals), `05d` is `05`, `>10s` is `>10`
            Some('f') => {
                s.precision = s.precision.or(Some(6));
                Kind::Display
            }
            Some('d' | 's') => Kind::Display,
            Some(_) => return None,
        };
        if chars.get(i).is_some() {
            i += 1;
        }
        if i != chars.len() || s.width.is_some_and(|w| w > 10_000) {
            return None;
        }
        if s.precision.is_some_and(|p| p > 1_000) {
            return None;
        }
        Some(s)
    }

    /// The spec as Rust writes it (`.2f` is `.2`): what `compile` puts in a `format!`.
    pub fn rust(&self) -> String {
        let mut out = String::new();
        if let Some(a) = self.align {
            if self.fill != ' ' {
                out.push(self.fill);
            }
            out.push(match a {
                Align::Left => '<',
                Align::Center => '^',
                Align::Right => '>',
            });
        }
        if self.plus {
            out.push('+');
        }
        if self.alternate {
            out.push('#');
        }
        if self.zero {
            out.push('0');
        }
        if let Some(w) = self.width {
            out.push_str(&w.to_string());
        }
        if let Some(p) = self.precision {
            out.push('.');
            out.push_str(&p.to_string());
        }
        out.push_str(match self.kind {
            Kind::Display => "",
            Kind::Debug => "?",
            Kind::LowerHex => "x",
            Kind::UpperHex => "X",
            Kind::Octal => "o",
            Kind::Binary => "b",
            Kind::LowerExp => "e",
            Kind::UpperExp => "E",
        });
        out
    }

    /// Formats `v` with this spec.
    pub fn apply(&self, v: &Value, types: &Types) -> String {
        let (sign, body) = self.body(v, types);
        let len = sign.chars().count() + body.chars().count();
        let Some(width) = self.width.filter(|&w| w > len) else {
            return sign + &body;
        };
        let pad = width - len;
        let numeric = matches!(v, Value::Int(_) | Value::Float(_));
        // as in Rust, `0` pads a number with zeros whatever the alignment (`{:<05}` of 7 is 00007)
        if self.zero && numeric {
            return format!("{sign}{}{body}", "0".repeat(pad));
        }
        let align = self
            .align
            .unwrap_or(if numeric { Align::Right } else { Align::Left });
        let fill = |n: usize| self.fill.to_string().repeat(n);
        match align {
            Align::Left => format!("{sign}{body}{}", fill(pad)),
            Align::Right => format!("{}{sign}{body}", fill(pad)),
            Align::Center => format!("{}{sign}{body}{}", fill(pad / 2), fill(pad - pad / 2)),
        }
    }

    /// The sign and the digits/text, before padding.
    fn body(&self, v: &Value, types: &Types) -> (String, String) {
        let signed = |negative: bool, digits: String| -> (String, String) {
            let sign = if negative {
                "-"
            } else if self.plus {
                "+"
            } else {
                ""
            };
            (sign.to_string(), digits)
        };
        match (v, self.kind) {
            (Value::Int(n), Kind::LowerHex | Kind::UpperHex | Kind::Octal | Kind::Binary) => {
                // as Rust: a negative number in two's complement, and zeros of a width go
                // between the `0x` and the digits
                let (prefix, digits) = match self.kind {
                    Kind::LowerHex => ("0x", format!("{n:x}")),
                    Kind::UpperHex => ("0x", format!("{n:X}")),
                    Kind::Octal => ("0o", format!("{n:o}")),
                    _ => ("0b", format!("{n:b}")),
                };
                let (sign, digits) = signed(false, digits);
                let prefix = if self.alternate { prefix } else { "" };
                (format!("{sign}{prefix}"), digits)
            }
            (Value::Int(n), Kind::LowerExp | Kind::UpperExp) => self.float_body(*n as f64),
            (Value::Int(n), _) => match self.precision {
                Some(p) => signed(*n < 0, format!("{:.p$}", (*n as f64).abs())),
                None => signed(*n < 0, n.unsigned_abs().to_string()),
            },
            (Value::Float(f), _) => self.float_body(*f),
            (Value::Str(s), Kind::Display) => {
                let text = match self.precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s.to_string(),
                };
                (String::new(), text)
            }
            (_, Kind::Debug) => (String::new(), display(v, types)),
            _ => (String::new(), display_plain(v, types)),
        }
    }

    fn float_body(&self, f: f64) -> (String, String) {
        let negative = f.is_sign_negative() && !f.is_nan();
        let a = f.abs();
        let digits = match (self.kind, self.precision) {
            (Kind::LowerExp, Some(p)) => format!("{a:.p$e}"),
            (Kind::LowerExp, None) => format!("{a:e}"),
            (Kind::UpperExp, Some(p)) => format!("{a:.p$E}"),
            (Kind::UpperExp, None) => format!("{a:E}"),
            (_, Some(p)) => format!("{a:.p$}"),
            (_, None) => crate::display::format_float(a),
        };
        let sign = if negative {
            "-"
        } else if self.plus {
            "+"
        } else {
            ""
        };
        (sign.to_string(), digits)
    }
}

/// A piece of a `{}`-style template, as [`pieces`] reads it.
pub enum Piece<'a> {
    /// Text without braces (or after an unclosed `{`, all of it).
    Text(&'a str),
    /// `{{`, `}}` or a lone `}`: the brace it stands for, and how it was written.
    Brace(char, &'a str),
    /// `{pos}` or `{pos:spec}`; `raw` as written, braces included.
    Hole {
        pos: &'a str,
        spec: Option<&'a str>,
        raw: &'a str,
    },
}

/// The pieces of a template, in order: what [`template`], [`has_placeholder`] and the
/// parser's inline format arguments (`println!("{name}")`) all read the same way.
pub fn pieces(fmt: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = fmt;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let i = rest.find(['{', '}']).unwrap_or(rest.len());
        if i > 0 {
            let text = &rest[..i];
            rest = &rest[i..];
            return Some(Piece::Text(text));
        }
        let tail = rest;
        for (written, brace) in [("{{", '{'), ("}}", '}'), ("}", '}')] {
            if tail.starts_with(written) {
                rest = &tail[written.len()..];
                return Some(Piece::Brace(brace, written));
            }
        }
        let Some(close) = tail.find('}') else {
            rest = "";
            return Some(Piece::Text(tail));
        };
        let inner = &tail[1..close];
        let (pos, spec) = match inner.split_once(':') {
            Some((p, s)) => (p, Some(s)),
            None => (inner, None),
        };
        rest = &tail[close + 1..];
        Some(Piece::Hole {
            pos,
            spec,
            raw: &tail[..=close],
        })
    })
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
                        let text = spec.apply(&args[idx], types);
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

/// Whether a string is a template with at least one placeholder.
pub fn has_placeholder(s: &str) -> bool {
    pieces(s).any(|p| match p {
        Piece::Hole { pos, spec, .. } => {
            (pos.is_empty() || pos.parse::<usize>().is_ok())
                && FormatSpec::parse(spec.unwrap_or("")).is_some()
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(spec: &str, v: Value) -> String {
        FormatSpec::parse(spec)
            .unwrap()
            .apply(&v, &Types::default())
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
    fn non_specs_are_rejected() {
        assert!(FormatSpec::parse(" b").is_none());
        assert!(FormatSpec::parse("abc").is_none());
        assert!(FormatSpec::parse(".").is_none());
    }

    #[test]
    fn templates() {
        let t = Types::default();
        let args = [Value::Int(1), Value::str("x")];
        assert_eq!(template("a={} b={}", &args, &t), "a=1 b=x");
        assert_eq!(template("{} {} {}", &args, &t), "1 x {}");
        assert_eq!(template("{{}} {1}{0} {:>3}", &args, &t), "{} x1   1");
        assert_eq!(template("{name}", &args, &t), "{name}");
        assert!(has_placeholder("x = {}"));
        assert!(!has_placeholder("{name} {{}}"));
    }
}
