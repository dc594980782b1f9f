//! Methods of `Option` and `Result` (D11) and of user enum values.

use super::*;

impl Vm {
    /// Methods of `Option` and `Result` (D11) and of user enum values.
    pub(super) fn variant_method(
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
