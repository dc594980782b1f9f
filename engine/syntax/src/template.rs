//! Format specs and `{}` templates as written in source (decision D9): `{x:>5}` in f-strings,
//! `format(..)` and `println("{} {:.2}", a, b)`. What they read; the runtime's `format` applies
//! them to values, the transpiler writes them as Rust.
//!
//! A spec is Rust's: `[[fill]align][sign][#][0][width][.precision][type]` with type one of
//! `?` (debug: strings quoted), `x`, `X`, `o`, `b`, `e`, `E`.

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

    #[test]
    fn non_specs_are_rejected() {
        assert!(FormatSpec::parse(" b").is_none());
        assert!(FormatSpec::parse("abc").is_none());
        assert!(FormatSpec::parse(".").is_none());
        assert!(FormatSpec::parse("+08.3").is_some());
    }

    #[test]
    fn placeholders() {
        assert!(has_placeholder("x = {}"));
        assert!(has_placeholder("{1:>3}"));
        assert!(!has_placeholder("{name} {{}}"));
    }
}
