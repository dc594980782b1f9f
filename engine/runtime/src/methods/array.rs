//! Methods of arrays (and ranges and tuples as arrays), sorting included.

use super::*;

impl Vm {
    pub(super) fn array_method(
        &mut self,
        recv: &mut Value,
        id: MethodId,
        name: &str,
        args: &[Value],
    ) -> VResult<Value> {
        let Value::Array(a) = recv else {
            return Err(unknown(recv, name));
        };
        let f0 = || -> VResult<&Value> {
            args.first()
                .ok_or_else(|| VmError::runtime(format!("{name}() expects a function argument")))
        };
        Ok(match id {
            M::Len | M::Count if args.is_empty() => Value::Int(a.len() as i64),
            M::IsEmpty => Value::Bool(a.is_empty()),
            M::First => a.first().cloned().unwrap_or(Value::Nil),
            M::Last => a.last().cloned().unwrap_or(Value::Nil),
            M::Nth | M::Get => {
                want(name, args, 1)?;
                let i = int_arg(name, &args[0])?;
                Value::option(if i >= 0 {
                    a.get(crate::value::count(i)).cloned()
                } else {
                    None
                })
            }
            M::Contains => {
                want(name, args, 1)?;
                Value::Bool(position(a, &args[0])?.is_some())
            }
            M::IndexOf | M::Position if !matches!(args.first(), Some(Value::Func(_))) => {
                want(name, args, 1)?;
                Value::option(position(a, &args[0])?.map(|i| Value::Int(i as i64)))
            }
            M::Push => {
                want(name, args, 1)?;
                budget::push(&mut Rc::make_mut(a).0, args[0].clone())?;
                Value::Nil
            }
            M::Pop => Rc::make_mut(a).pop().unwrap_or(Value::Nil),
            M::Insert => {
                want(name, args, 2)?;
                let i = int_arg(name, &args[0])?;
                if i < 0 || crate::value::count(i) > a.len() {
                    return Err(VmError::runtime(format!(
                        "Insert index {i} out of bounds for array of length {}",
                        a.len()
                    )));
                }
                budget::burn(a.len())?;
                let items = &mut Rc::make_mut(a).0;
                budget::grow(items, 1)?;
                items.insert(i as usize, args[1].clone());
                Value::Nil
            }
            M::Remove => {
                want(name, args, 1)?;
                let i = int_arg(name, &args[0])?;
                let len = a.len();
                let k = norm_index(i, len).ok_or_else(|| {
                    VmError::runtime(format!(
                        "Remove index {i} out of bounds for array of length {len}"
                    ))
                })?;
                budget::burn(len)?;
                Rc::make_mut(a).remove(k)
            }
            M::Clear => {
                Rc::make_mut(a).clear();
                Value::Nil
            }
            M::Truncate => {
                want(name, args, 1)?;
                let n = crate::value::count(int_arg(name, &args[0])?);
                Rc::make_mut(a).truncate(n);
                Value::Nil
            }
            M::Swap => {
                want(name, args, 2)?;
                let len = a.len();
                let i = norm_index(int_arg(name, &args[0])?, len);
                let j = norm_index(int_arg(name, &args[1])?, len);
                match (i, j) {
                    (Some(i), Some(j)) => Rc::make_mut(a).swap(i, j),
                    _ => return Err(VmError::runtime("swap() index out of bounds")),
                }
                Value::Nil
            }
            M::Extend => {
                want(name, args, 1)?;
                let items = match &args[0] {
                    Value::Array(b) | Value::Tuple(b) => to_vec(b)?,
                    Value::Range(r) => range_items(r)?,
                    other => {
                        return Err(VmError::type_error(format!(
                            "{name}() expects an array, found {}",
                            other.type_name()
                        )))
                    }
                };
                let mine = &mut Rc::make_mut(a).0;
                budget::grow(mine, items.len())?;
                mine.extend(items);
                Value::Nil
            }
            M::Concat => {
                want(name, args, 1)?;
                arith::add(recv, &args[0])?
            }
            M::Reverse => {
                budget::burn(a.len())?;
                Rc::make_mut(a).reverse();
                recv.clone()
            }
            M::Rev => Value::array(budget::collect(a.iter().rev().cloned())?),
            M::Sort => {
                let items = &mut Rc::make_mut(a).0;
                if sort_ints(items)? {
                    return Ok(recv.clone());
                }
                budget::sort_by(items, |x, y| {
                    x.compare(y).ok_or_else(|| {
                        VmError::type_error(format!(
                            "Cannot sort: cannot compare {} and {}",
                            x.type_name(),
                            y.type_name()
                        ))
                    })
                })?;
                recv.clone()
            }
            M::SortBy | M::SortByKey => {
                let f = f0()?.clone();
                let mut items = std::mem::take(&mut Rc::make_mut(a).0);
                let result = self.sort_with(&mut items, &f, id == M::SortByKey);
                if let Value::Array(a) = recv {
                    Rc::make_mut(a).0 = items;
                }
                result?;
                recv.clone()
            }
            M::Sorted => {
                want(name, args, 0)?;
                let mut copy = Value::array(to_vec(a)?);
                self.array_method(&mut copy, M::Sort, name, args)?
            }
            M::Reversed => {
                want(name, args, 0)?;
                Value::array(budget::collect(a.iter().rev().cloned())?)
            }
            M::Partition => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let (mut yes, mut no) = (Vec::new(), Vec::new());
                for x in items.iter() {
                    let side = if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        &mut yes
                    } else {
                        &mut no
                    };
                    budget::grow(side, 1)?;
                    side.push(x.clone());
                }
                Value::tuple(vec![Value::array(yes), Value::array(no)])
            }
            // `xs.group_by(|x| key)`: a HashMap from each key to its elements, in order
            M::GroupBy => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let mut groups = crate::collection::Table::default();
                for x in items.iter() {
                    let k = self.call_value(&f, std::slice::from_ref(x))?;
                    let key = crate::collection::Key::new(&k)?;
                    crate::value::budget_values(1)?;
                    match groups.get_mut(&key) {
                        Some(Value::Array(g)) => Rc::make_mut(g).0.push(x.clone()),
                        _ => {
                            groups.insert(key, Value::array(vec![x.clone()]));
                        }
                    }
                }
                Value::Coll(Rc::new(crate::collection::Coll::Map(
                    crate::collection::Kind::HashMap,
                    groups,
                )))
            }
            // `xs.chunk_by(|a, b| same)`: runs of neighbours, as Rust's `slice::chunk_by`
            M::ChunkBy => {
                want(name, args, 1)?;
                let f = f0()?.clone();
                let items = a.clone();
                let mut runs = Vec::new();
                let mut run: Vec<Value> = Vec::new();
                for x in items.iter() {
                    if let Some(prev) = run.last() {
                        let pair = [prev.clone(), x.clone()];
                        if !self.call_value(&f, &pair)?.truthy() {
                            budget::grow(&mut runs, 1)?;
                            runs.push(Value::array(std::mem::take(&mut run)));
                        }
                    }
                    budget::grow(&mut run, 1)?;
                    run.push(x.clone());
                }
                if !run.is_empty() {
                    runs.push(Value::array(run));
                }
                Value::array(runs)
            }
            M::BinarySearch => {
                want(name, args, 1)?;
                let x = &args[0];
                budget::burn(64)?;
                let mut bad = None;
                let found = a.binary_search_by(|e| {
                    e.compare(x).unwrap_or_else(|| {
                        bad.get_or_insert_with(|| (e.type_name(), x.type_name()));
                        std::cmp::Ordering::Equal
                    })
                });
                if let Some((e, x)) = bad {
                    return Err(VmError::type_error(format!(
                        "{name}() cannot compare {e} and {x}"
                    )));
                }
                match found {
                    Ok(i) => Value::ok(Value::Int(i as i64)),
                    Err(i) => Value::err(Value::Int(i as i64)),
                }
            }
            M::Dedup => {
                budget::burn(a.len())?;
                Rc::make_mut(a).dedup_by(|x, y| x.equals(y));
                Value::Nil
            }
            M::Retain => {
                let f = f0()?.clone();
                let items = std::mem::take(&mut Rc::make_mut(a).0);
                let mut kept = budget::vec_with(items.len())?;
                let mut failure = None;
                for x in items {
                    if failure.is_some() {
                        kept.push(x);
                        continue;
                    }
                    match self.call_value(&f, std::slice::from_ref(&x)) {
                        Ok(keep) => {
                            if keep.truthy() {
                                kept.push(x)
                            }
                        }
                        Err(e) => {
                            failure = Some(e);
                            kept.push(x);
                        }
                    }
                }
                if let Value::Array(a) = recv {
                    Rc::make_mut(a).0 = kept;
                }
                if let Some(e) = failure {
                    return Err(e);
                }
                Value::Nil
            }
            M::Map => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = budget::vec_with(items.len())?;
                for x in items.iter() {
                    out.push(self.call_value(&f, std::slice::from_ref(x))?);
                }
                Value::array(out)
            }
            M::FlatMap => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    match self.call_value(&f, std::slice::from_ref(x))? {
                        Value::Array(inner) => {
                            budget::grow(&mut out, inner.len())?;
                            budget::burn(inner.len())?;
                            out.extend(inner.iter().cloned())
                        }
                        other => budget::push(&mut out, other)?,
                    }
                }
                Value::array(out)
            }
            M::Filter => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        budget::push(&mut out, x.clone())?;
                    }
                }
                Value::array(out)
            }
            M::FilterMap => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut out = Vec::new();
                for x in items.iter() {
                    let r = self.call_value(&f, std::slice::from_ref(x))?;
                    match r.as_variant() {
                        Some((OPTION, SOME, [v])) => budget::push(&mut out, v.clone())?,
                        Some((OPTION, NONE, _)) => {}
                        _ if r.is_nil() => {}
                        _ => budget::push(&mut out, r)?,
                    }
                }
                Value::array(out)
            }
            M::Find => {
                let f = f0()?.clone();
                let items = a.clone();
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        return Ok(x.clone());
                    }
                }
                Value::Nil
            }
            M::Position | M::IndexOf | M::FindIndex => {
                let f = f0()?.clone();
                let items = a.clone();
                for (i, x) in items.iter().enumerate() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        return Ok(Value::some(Value::Int(i as i64)));
                    }
                }
                Value::none()
            }
            M::Any | M::All => {
                let f = f0()?.clone();
                let items = a.clone();
                let want_any = id == M::Any;
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() == want_any {
                        return Ok(Value::Bool(want_any));
                    }
                }
                Value::Bool(!want_any)
            }
            M::Count => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut n = 0;
                for x in items.iter() {
                    if self.call_value(&f, std::slice::from_ref(x))?.truthy() {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
            M::Each => {
                let f = f0()?.clone();
                let items = a.clone();
                for x in items.iter() {
                    self.call_value(&f, std::slice::from_ref(x))?;
                }
                Value::Nil
            }
            M::Reduce => {
                // `reduce(f)`: Some of the elements folded from the first (None for none);
                // `reduce(f, init)` or `reduce(init, f)` / `fold(init, f)`: folded into init
                let items = a.clone();
                let one = args.len() == 1;
                let (f, mut acc, rest) = if one {
                    let Some((first, rest)) = items.split_first() else {
                        return Ok(Value::option(None));
                    };
                    (f0()?, first.clone(), rest)
                } else {
                    want(name, args, 2)?;
                    let (f, init) = if matches!(args[0], Value::Func(_) | Value::Builtin(_)) {
                        (&args[0], &args[1])
                    } else {
                        (&args[1], &args[0])
                    };
                    (f, init.clone(), &items[..])
                };
                for x in rest {
                    acc = self.call_value(f, &[acc, x.clone()])?;
                }
                if one {
                    Value::option(Some(acc))
                } else {
                    acc
                }
            }
            M::Take => {
                want(name, args, 1)?;
                let n = crate::value::count(int_arg(name, &args[0])?);
                Value::array(budget::collect(a.iter().take(n).cloned())?)
            }
            M::Skip => {
                want(name, args, 1)?;
                let n = crate::value::count(int_arg(name, &args[0])?);
                Value::array(budget::collect(a.iter().skip(n).cloned())?)
            }
            M::StepBy => {
                want(name, args, 1)?;
                let n = int_arg(name, &args[0])?;
                if n <= 0 {
                    return Err(VmError::runtime("step_by() needs a positive step"));
                }
                Value::array(budget::collect(
                    a.iter().step_by(crate::value::count(n)).cloned(),
                )?)
            }
            M::Slice => {
                want(name, args, 2)?;
                let len = a.len() as i64;
                let lo = int_arg(name, &args[0])?.clamp(0, len) as usize;
                let hi = int_arg(name, &args[1])?.clamp(lo as i64, len) as usize;
                Value::array(to_vec(&a[lo..hi])?)
            }
            M::Enumerate => Value::array(budget::collect(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| Value::tuple(vec![Value::Int(i as i64), x.clone()])),
            )?),
            M::Zip => {
                want(name, args, 1)?;
                let other = match &args[0] {
                    Value::Array(b) => to_vec(b)?,
                    Value::Range(r) => {
                        // no more of the range than there are elements to pair with it
                        let r = RangeValue {
                            end: r.start.map(|s| {
                                let n = i64::try_from(a.len()).unwrap_or(i64::MAX);
                                r.end
                                    .map_or(s.saturating_add(n), |e| e.min(s.saturating_add(n)))
                            }),
                            ..(**r).clone()
                        };
                        range_items(&r)?
                    }
                    o => {
                        return Err(VmError::type_error(format!(
                            "zip() expects an array, found {}",
                            o.type_name()
                        )))
                    }
                };
                Value::array(budget::collect(
                    a.iter()
                        .zip(other)
                        .map(|(x, y)| Value::tuple(vec![x.clone(), y])),
                )?)
            }
            M::Max | M::Min => extreme(a, id == M::Max)?,
            M::MaxByKey | M::MinByKey => {
                let f = f0()?.clone();
                let items = a.clone();
                let mut best: Option<(Value, Value)> = None;
                for x in items.iter() {
                    let k = self.call_value(&f, std::slice::from_ref(x))?;
                    let better = match &best {
                        None => true,
                        Some((bk, _)) => match k.compare(bk) {
                            Some(Ordering::Greater) => id == M::MaxByKey,
                            Some(Ordering::Less) => id == M::MinByKey,
                            Some(Ordering::Equal) => id == M::MaxByKey,
                            None => {
                                return Err(VmError::type_error("Cannot compare the keys"));
                            }
                        },
                    };
                    if better {
                        best = Some((k, x.clone()));
                    }
                }
                best.map_or(Value::Nil, |(_, v)| v)
            }
            M::Sum => sum_values(a, false)?,
            M::Product => sum_values(a, true)?,
            M::Unique => {
                let mut out: Vec<Value> = Vec::new();
                for x in a.iter() {
                    budget::burn(out.len())?;
                    if !out.iter().any(|y| y.equals(x)) {
                        budget::push(&mut out, x.clone())?;
                    }
                }
                Value::array(out)
            }
            M::Flatten => {
                let mut out = Vec::new();
                for x in a.iter() {
                    match x {
                        Value::Array(inner) => {
                            budget::grow(&mut out, inner.len())?;
                            budget::burn(inner.len())?;
                            out.extend(inner.iter().cloned())
                        }
                        other => budget::push(&mut out, other.clone())?,
                    }
                }
                Value::array(out)
            }
            M::Join => {
                let sep = match args.first() {
                    Some(v) => str_arg(name, v)?,
                    None => "",
                };
                let mut out = String::new();
                for (i, x) in a.iter().enumerate() {
                    budget::burn(1)?;
                    if i > 0 {
                        budget::grow_str(&mut out, sep.len())?;
                        out.push_str(sep);
                    }
                    crate::display::write_plain(&mut out, x, &self.types);
                    budget::settled()?;
                }
                budget::bytes(out.len())?;
                Value::str(out)
            }
            M::Union | M::Intersection | M::Difference => {
                want(name, args, 1)?;
                let Value::Array(b) = &args[0] else {
                    return Err(VmError::type_error(format!("{name}() expects an array")));
                };
                let mut out: Vec<Value> = Vec::new();
                let push_unique = |out: &mut Vec<Value>, x: &Value| -> VResult<()> {
                    budget::burn(out.len())?;
                    if !out.iter().any(|y| y.equals(x)) {
                        budget::push(out, x.clone())?;
                    }
                    Ok(())
                };
                let in_b = |x: &Value| -> VResult<bool> {
                    budget::burn(b.len())?;
                    Ok(b.iter().any(|y| y.equals(x)))
                };
                match id {
                    M::Union => {
                        for x in a.iter().chain(b.iter()) {
                            push_unique(&mut out, x)?;
                        }
                    }
                    M::Intersection => {
                        for x in a.iter() {
                            if in_b(x)? {
                                push_unique(&mut out, x)?;
                            }
                        }
                    }
                    _ => {
                        for x in a.iter() {
                            if !in_b(x)? {
                                push_unique(&mut out, x)?;
                            }
                        }
                    }
                }
                Value::array(out)
            }
            M::Windows | M::Chunks => {
                want(name, args, 1)?;
                let n = int_arg(name, &args[0])?;
                if n <= 0 {
                    return Err(VmError::runtime(format!("{name}() needs a positive size")));
                }
                let n = crate::value::count(n);
                // every window is a copy: (len - n + 1) * n values in all, asked for first
                let total = if id == M::Windows {
                    (a.len().saturating_sub(n) as u64 + u64::from(a.len() >= n))
                        .saturating_mul(n.min(a.len()) as u64)
                } else {
                    a.len() as u64
                };
                budget::elements(total, crate::value::VALUE_BYTES)?;
                budget::burn(usize::try_from(total).unwrap_or(usize::MAX))?;
                let parts: Vec<Value> = if id == M::Windows {
                    a.windows(n).map(|w| Value::array(w.to_vec())).collect()
                } else {
                    a.chunks(n).map(|w| Value::array(w.to_vec())).collect()
                };
                Value::array(parts)
            }
            M::Iter | M::IntoIter | M::ToArray => recv.clone(),
            _ => return Err(unknown(recv, name)),
        })
    }

    pub(super) fn sort_with(
        &mut self,
        items: &mut [Value],
        f: &Value,
        by_key: bool,
    ) -> VResult<()> {
        // compute keys / comparisons up front so the closure may fail cleanly
        if by_key {
            let mut keyed = budget::vec_with(items.len())?;
            for x in items.iter() {
                keyed.push((self.call_value(f, std::slice::from_ref(x))?, x.clone()));
            }
            budget::sort_by(&mut keyed, |(k1, _), (k2, _)| {
                k1.compare(k2)
                    .ok_or_else(|| VmError::type_error("Cannot compare the sort keys"))
            })?;
            for (slot, (_, v)) in items.iter_mut().zip(keyed) {
                *slot = v;
            }
            return Ok(());
        }
        // a comparator: a stable sort with a fallible callback
        let mut owned: Vec<Value> = to_vec(items)?;
        budget::sort_by(&mut owned, |x, y| {
            match self.call_value(f, &[x.clone(), y.clone()])? {
                Value::Int(n) => Ok(n.cmp(&0)),
                Value::Float(n) => Ok(n.partial_cmp(&0.0).unwrap_or(Ordering::Equal)),
                Value::Bool(true) => Ok(Ordering::Less),
                Value::Bool(false) => Ok(Ordering::Greater),
                other => Err(VmError::type_error(format!(
                    "sort_by() comparator must return a number or a boolean, found {}",
                    other.type_name()
                ))),
            }
        })?;
        items.clone_from_slice(&owned);
        Ok(())
    }
}
