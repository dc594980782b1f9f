//! Methods of strings.

use super::*;

impl Vm {
    pub(super) fn string_method(
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
                let width = crate::value::count(int_arg(name, &args[0])?);
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
}
