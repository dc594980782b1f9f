//! Methods of objects (D20).

use super::*;

impl Vm {
    pub(super) fn object_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Value::Object(m) = recv else {
            return Err(unknown(recv, name));
        };
        let key = |i: usize| -> VResult<Rc<str>> {
            match args.get(i) {
                Some(Value::Str(s)) => Ok(s.as_str().into()),
                Some(other) => Err(VmError::type_error(format!(
                    "Object keys are strings, found {}",
                    other.type_name()
                ))),
                None => Err(VmError::runtime(format!("{name}() expects a key"))),
            }
        };
        // a key to look up: no allocation
        let probe = |i: usize| -> VResult<&str> {
            match args.get(i) {
                Some(Value::Str(s)) => Ok(s.as_str()),
                _ => key(i).map(|_| ""),
            }
        };
        Ok(match id {
            M::Keys => Value::array(budget::collect(
                m.keys().map(|k| Value::str(k.to_string())),
            )?),
            M::Values => Value::array(budget::collect(m.values().cloned())?),
            M::Items | M::Iter => {
                Value::array(budget::collect(m.iter().map(|(k, v)| {
                    Value::tuple(vec![Value::str(k.to_string()), v.clone()])
                }))?)
            }
            M::Len => Value::Int(m.len() as i64),
            M::IsEmpty => Value::Bool(m.is_empty()),
            M::Get => Value::option(m.get(probe(0)?).cloned()),
            M::ContainsKey | M::Contains => Value::Bool(m.contains_key(probe(0)?)),
            M::Remove => {
                let k = probe(0)?;
                if m.contains_key(k) {
                    Value::option(Rc::make_mut(m).remove(k))
                } else {
                    Value::none()
                }
            }
            M::Insert => {
                want(name, args, 2)?;
                let k = key(0)?;
                Value::option(Rc::make_mut(m).insert(k, args[1].clone()))
            }
            M::Clear => {
                Rc::make_mut(m).clear();
                Value::Nil
            }
            _ => return Err(unknown(recv, name)),
        })
    }
}
