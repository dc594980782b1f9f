//! Methods of integers and floats.

use super::*;

impl Vm {
    pub(super) fn number_method(
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
}
