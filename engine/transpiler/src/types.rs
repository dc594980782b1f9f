//! The transpiler's types: every expression and binding of a program gets a Rust type
//! (`i64`, `f64`, `bool`, `String`, `Vec<T>`, tuples, `Option<T>`, `Result<T, E>`, objects as
//! `BTreeMap<String, T>` or generated record structs, user structs and enums, functions as
//! `Rc<dyn Fn(..) -> R>`), found by unification. Annotations pin types; literals and
//! operators constrain them; a type still open at the end defaults to `i64`.

use std::cell::RefCell;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// A fast hasher for the transpiler's maps, whose keys are pointers and small integers (the
/// multiply-rotate hash rustc uses; no protection against chosen keys, which is fine here).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
/// A `HashSet` with [`FxHasher`].
pub type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Unit,
    Vec(Rc<Ty>),
    Tuple(Rc<[Ty]>),
    Option(Rc<Ty>),
    Result(Rc<Ty>, Rc<Ty>),
    /// An object whose values share one type.
    Map(Rc<Ty>),
    /// A `HashMap` or `BTreeMap` (`rt::Map`: a `BTreeMap` shown as Rust's `{:?}`).
    Dict(Rc<Ty>, Rc<Ty>),
    /// A `HashSet` or `BTreeSet` (`BTreeSet`).
    Set(Rc<Ty>),
    /// A `VecDeque`.
    Deque(Rc<Ty>),
    /// An object literal of mixed value types: a generated struct (its number).
    Record(u32),
    /// A user struct or enum.
    Named(Rc<str>),
    Fn(Rc<[Ty]>, Rc<Ty>),
    /// `a..b` as a value.
    Range,
    /// `a..=b` as a value.
    RangeInclusive,
    Var(u32),
}

impl Ty {
    /// Whether a value of this type can be copied in Rust (no `.clone()` needed).
    pub fn is_copy(&self) -> bool {
        match self {
            Ty::Int | Ty::Float | Ty::Bool | Ty::Unit => true,
            Ty::Tuple(items) => items.iter().all(Ty::is_copy),
            _ => false,
        }
    }

    /// Whether a function is part of this type (a closure in a `Vec`, an `Option`, ...).
    pub fn holds_fn(&self) -> bool {
        match self {
            Ty::Fn(..) => true,
            Ty::Vec(t) | Ty::Option(t) | Ty::Map(t) | Ty::Set(t) | Ty::Deque(t) => t.holds_fn(),
            Ty::Result(a, b) | Ty::Dict(a, b) => a.holds_fn() || b.holds_fn(),
            Ty::Tuple(items) => items.iter().any(Ty::holds_fn),
            _ => false,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => write!(f, "i64"),
            Ty::Float => write!(f, "f64"),
            Ty::Bool => write!(f, "bool"),
            Ty::Str => write!(f, "String"),
            Ty::Unit => write!(f, "()"),
            Ty::Vec(t) => write!(f, "Vec<{t}>"),
            Ty::Tuple(items) => {
                write!(f, "(")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if items.len() == 1 {
                    write!(f, ",")?;
                }
                write!(f, ")")
            }
            Ty::Option(t) => write!(f, "Option<{t}>"),
            Ty::Result(t, e) => write!(f, "Result<{t}, {e}>"),
            Ty::Map(t) => write!(f, "BTreeMap<String, {t}>"),
            Ty::Dict(k, v) => write!(f, "rt::Map<{k}, {v}>"),
            Ty::Set(t) => write!(f, "BTreeSet<{t}>"),
            Ty::Deque(t) => write!(f, "VecDeque<{t}>"),
            Ty::Record(n) => write!(f, "Record{n}"),
            Ty::Named(n) => write!(f, "{n}"),
            Ty::Fn(params, ret) => {
                write!(f, "Rc<dyn Fn(")?;
                for (i, t) in params.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ") -> {ret}>")
            }
            Ty::Range => write!(f, "std::ops::Range<i64>"),
            Ty::RangeInclusive => write!(f, "std::ops::RangeInclusive<i64>"),
            Ty::Var(_) => write!(f, "i64"),
        }
    }
}

/// How large a type may be: at most [`MAX_TYPE_PARTS`] parts (each `Vec<..>`, tuple element,
/// parameter...) and at most [`MAX_TYPE_DEPTH`] levels of nesting. Every step of inference
/// and emission looks at types, so this bound keeps `compile` linear in its input: without
/// it, 200 nested closures (`|| || ... 1`, 400 bytes) have a type 200 levels deep at each of
/// their 200 levels, and the Rust spelling of those types alone is quadratic.
pub const MAX_TYPE_PARTS: usize = 128;
/// See [`MAX_TYPE_PARTS`].
pub const MAX_TYPE_DEPTH: usize = 16;

/// A union-find substitution over type variables, with path compression (so following a
/// variable is amortised constant time) and a trail for trial unifications that are undone
/// when they fail (see [`Subst::try_unify`]).
#[derive(Default)]
pub struct Subst {
    bindings: RefCell<Vec<Option<Ty>>>,
    /// While a trial unification runs: each binding written, with what it held before.
    trail: RefCell<Option<Trail>>,
}

/// Bindings written during a trial unification, with what each held before.
type Trail = Vec<(u32, Option<Ty>)>;

impl Subst {
    pub fn fresh(&mut self) -> Ty {
        let b = self.bindings.get_mut();
        b.push(None);
        Ty::Var(b.len() as u32 - 1)
    }

    fn binding(&self, v: u32) -> Option<Ty> {
        self.bindings.borrow().get(v as usize).cloned().flatten()
    }

    fn set(&self, v: u32, t: Ty) {
        let old = self
            .bindings
            .borrow_mut()
            .get_mut(v as usize)
            .map(|b| b.replace(t));
        if let (Some(trail), Some(old)) = (self.trail.borrow_mut().as_mut(), old) {
            trail.push((v, old));
        }
    }

    /// Follows variable bindings at the top level (a clone of the top node only: the parts
    /// of a type are shared). The variables passed on the way are pointed at the last one.
    pub fn shallow(&self, t: &Ty) -> Ty {
        let Ty::Var(first) = *t else {
            return t.clone();
        };
        let mut last = first;
        let mut hops = 0;
        let end = loop {
            match self.binding(last) {
                Some(Ty::Var(w)) => {
                    last = w;
                    hops += 1;
                }
                Some(other) => break other,
                None => break Ty::Var(last),
            }
        };
        if hops > 1 {
            let mut v = first;
            while v != last {
                let Some(Ty::Var(next)) = self.binding(v) else {
                    break;
                };
                self.set(v, Ty::Var(last));
                v = next;
            }
        }
        end
    }

    /// [`Subst::unify`] that leaves the substitution as it was when it fails.
    pub fn try_unify(&mut self, a: &Ty, b: &Ty) -> Result<(), String> {
        *self.trail.get_mut() = Some(Vec::new());
        let r = self.unify(a, b);
        let trail = self.trail.get_mut().take().unwrap_or_default();
        if r.is_err() {
            let bindings = self.bindings.get_mut();
            for (v, old) in trail.into_iter().rev() {
                if let Some(b) = bindings.get_mut(v as usize) {
                    *b = old;
                }
            }
        }
        r
    }

    /// Whether `t` (resolved) is larger than [`MAX_TYPE_PARTS`] or deeper than
    /// [`MAX_TYPE_DEPTH`]; looks at no more than that many parts.
    pub fn too_large(&self, t: &Ty) -> bool {
        fn walk(s: &Subst, t: &Ty, depth: usize, left: &mut usize) -> bool {
            if depth > MAX_TYPE_DEPTH || *left == 0 {
                return true;
            }
            *left -= 1;
            match s.shallow(t) {
                Ty::Vec(e) | Ty::Option(e) | Ty::Map(e) | Ty::Set(e) | Ty::Deque(e) => {
                    walk(s, &e, depth + 1, left)
                }
                Ty::Result(a, b) | Ty::Dict(a, b) => {
                    walk(s, &a, depth + 1, left) || walk(s, &b, depth + 1, left)
                }
                Ty::Tuple(items) => items.iter().any(|i| walk(s, i, depth + 1, left)),
                Ty::Fn(ps, r) => {
                    ps.iter().any(|p| walk(s, p, depth + 1, left)) || walk(s, &r, depth + 1, left)
                }
                _ => false,
            }
        }
        walk(self, t, 1, &mut { MAX_TYPE_PARTS })
    }

    /// The type with every bound variable replaced; free variables stay.
    pub fn resolve(&self, t: &Ty) -> Ty {
        match self.shallow(t) {
            Ty::Vec(e) => Ty::Vec(Rc::new(self.resolve(&e))),
            Ty::Option(e) => Ty::Option(Rc::new(self.resolve(&e))),
            Ty::Map(e) => Ty::Map(Rc::new(self.resolve(&e))),
            Ty::Set(e) => Ty::Set(Rc::new(self.resolve(&e))),
            Ty::Deque(e) => Ty::Deque(Rc::new(self.resolve(&e))),
            Ty::Dict(k, v) => Ty::Dict(Rc::new(self.resolve(&k)), Rc::new(self.resolve(&v))),
            Ty::Result(t, e) => Ty::Result(Rc::new(self.resolve(&t)), Rc::new(self.resolve(&e))),
            Ty::Tuple(items) => Ty::Tuple(items.iter().map(|i| self.resolve(i)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|p| self.resolve(p)).collect(),
                Rc::new(self.resolve(&r)),
            ),
            other => other,
        }
    }

    /// The final type: free variables default to `i64`.
    pub fn finish(&self, t: &Ty) -> Ty {
        match self.shallow(t) {
            Ty::Var(_) => Ty::Int,
            Ty::Vec(e) => Ty::Vec(Rc::new(self.finish(&e))),
            Ty::Option(e) => Ty::Option(Rc::new(self.finish(&e))),
            Ty::Map(e) => Ty::Map(Rc::new(self.finish(&e))),
            Ty::Set(e) => Ty::Set(Rc::new(self.finish(&e))),
            Ty::Deque(e) => Ty::Deque(Rc::new(self.finish(&e))),
            Ty::Dict(k, v) => Ty::Dict(Rc::new(self.finish(&k)), Rc::new(self.finish(&v))),
            Ty::Result(t, e) => Ty::Result(Rc::new(self.finish(&t)), Rc::new(self.finish(&e))),
            Ty::Tuple(items) => Ty::Tuple(items.iter().map(|i| self.finish(i)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|p| self.finish(p)).collect(),
                Rc::new(self.finish(&r)),
            ),
            other => other,
        }
    }

    fn occurs(&self, v: u32, t: &Ty) -> bool {
        match self.shallow(t) {
            Ty::Var(w) => v == w,
            Ty::Vec(e) | Ty::Option(e) | Ty::Map(e) | Ty::Set(e) | Ty::Deque(e) => {
                self.occurs(v, &e)
            }
            Ty::Result(t, e) | Ty::Dict(t, e) => self.occurs(v, &t) || self.occurs(v, &e),
            Ty::Tuple(items) => items.iter().any(|i| self.occurs(v, i)),
            Ty::Fn(ps, r) => ps.iter().any(|p| self.occurs(v, p)) || self.occurs(v, &r),
            _ => false,
        }
    }

    /// Makes `a` and `b` the same type, or says why they cannot be.
    pub fn unify(&mut self, a: &Ty, b: &Ty) -> Result<(), String> {
        let (a, b) = (self.shallow(a), self.shallow(b));
        match (&a, &b) {
            (Ty::Var(x), Ty::Var(y)) if x == y => Ok(()),
            (Ty::Var(x), other) | (other, Ty::Var(x)) => {
                if self.occurs(*x, other) {
                    return Err("a value would contain itself".into());
                }
                self.set(*x, other.clone());
                Ok(())
            }
            (Ty::Vec(x), Ty::Vec(y))
            | (Ty::Option(x), Ty::Option(y))
            | (Ty::Map(x), Ty::Map(y))
            | (Ty::Set(x), Ty::Set(y))
            | (Ty::Deque(x), Ty::Deque(y)) => self.unify(x, y),
            (Ty::Result(t1, e1), Ty::Result(t2, e2)) | (Ty::Dict(t1, e1), Ty::Dict(t2, e2)) => {
                self.unify(t1, t2)?;
                self.unify(e1, e2)
            }
            (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
                for (x, y) in xs.iter().zip(ys.iter()) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Fn(p1, r1), Ty::Fn(p2, r2)) if p1.len() == p2.len() => {
                for (x, y) in p1.iter().zip(p2.iter()) {
                    self.unify(x, y)?;
                }
                self.unify(r1, r2)
            }
            _ if a == b => Ok(()),
            _ => Err(format!(
                "a value is used both as {} and as {}",
                describe(&self.resolve(&a)),
                describe(&self.resolve(&b))
            )),
        }
    }
}

/// A type as a Ruchy user would name it.
pub fn describe(t: &Ty) -> String {
    match t {
        Ty::Int => "an integer".into(),
        Ty::Float => "a float".into(),
        Ty::Bool => "a boolean".into(),
        Ty::Str => "a string".into(),
        Ty::Unit => "nil".into(),
        Ty::Vec(_) => "an array".into(),
        Ty::Tuple(_) => "a tuple".into(),
        Ty::Option(_) => "an Option".into(),
        Ty::Result(..) => "a Result".into(),
        Ty::Map(_) | Ty::Record(_) => "an object".into(),
        Ty::Dict(..) => "a map".into(),
        Ty::Set(_) => "a set".into(),
        Ty::Deque(_) => "a VecDeque".into(),
        Ty::Named(n) => format!("a {n}"),
        Ty::Range | Ty::RangeInclusive => "a range".into(),
        Ty::Fn(..) => "a function".into(),
        Ty::Var(_) => "a value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unification_binds_and_rejects() {
        let mut s = Subst::default();
        let a = s.fresh();
        let v = Ty::Vec(Rc::new(a.clone()));
        s.unify(&v, &Ty::Vec(Rc::new(Ty::Int))).unwrap();
        assert_eq!(s.resolve(&a), Ty::Int);
        assert!(s.unify(&a, &Ty::Str).is_err());
        let b = s.fresh();
        assert_eq!(s.finish(&b), Ty::Int);
        assert_eq!(Ty::Tuple(vec![Ty::Int].into()).to_string(), "(i64,)");
    }
}
