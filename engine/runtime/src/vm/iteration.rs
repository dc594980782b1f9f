//! Ranges and `for` loops in the dispatch loop's slow section ([`Vm::dispatch`]): making a
//! range value, and the next element of an array, a range or a string (`Op::IterNext`).
//! Counting loops over integer bounds (`Op::ForPrep`, `Op::ForNext`) stay in the loop: they
//! are a comparison and a jump.

use super::*;

impl Vm {
    /// `Op::IterNext`: the next element of the iterable in `R[src]` at the position in
    /// `R[src + 1]`, into `R[dst]` with the position advanced; `false` at the end.
    #[inline(always)]
    pub(super) fn iter_next(&mut self, src: usize, dst: usize) -> VResult<bool> {
        let pos = match self.regs[src + 1] {
            Value::Int(p) => p,
            _ => 0,
        };
        let next = match &self.regs[src] {
            Value::Array(a) => a.get(pos as usize).cloned().map(|v| (v, pos + 1)),
            Value::Range(rg) => match rg.bounds() {
                Some((lo, hi)) => {
                    let i = lo.checked_add(pos);
                    i.filter(|&i| i < hi).map(|i| (Value::Int(i), pos + 1))
                }
                None => match rg.start {
                    // an open range `a..` counts up without end
                    Some(lo) => lo.checked_add(pos).map(|i| (Value::Int(i), pos + 1)),
                    None => None,
                },
            },
            Value::Str(s) => {
                let p = pos as usize;
                s.get(p..)
                    .and_then(|rest| rest.chars().next())
                    .map(|c| (Value::str(c.to_string()), (p + c.len_utf8()) as i64))
            }
            _ => None,
        };
        let Some((v, p)) = next else {
            return Ok(false);
        };
        self.regs[dst] = v;
        self.regs[src + 1] = Value::Int(p);
        self.tick()?;
        Ok(true)
    }
}

/// `Op::MakeRange`: a range from `start` and `end` (each there if `flags` has 2 or 4; 1 for
/// `..=`); a bound that is not an integer is a type error.
pub(super) fn make_range(start: &Value, end: &Value, flags: u8) -> VResult<Value> {
    let bound = |v: &Value, what: &str| -> VResult<i64> {
        match v {
            Value::Int(n) => Ok(*n),
            other => Err(VmError::type_error(format!(
                "Range {what} must be an integer, found {}",
                other.type_name()
            ))),
        }
    };
    let s = if flags & 2 != 0 {
        Some(bound(start, "start")?)
    } else {
        None
    };
    let e = if flags & 4 != 0 {
        Some(bound(end, "end")?)
    } else {
        None
    };
    Ok(Value::Range(Rc::new(RangeValue {
        start: s,
        end: e,
        inclusive: flags & 1 != 0,
    })))
}
