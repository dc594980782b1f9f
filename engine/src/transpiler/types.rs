//! The transpiler's types: every expression and binding of a program gets a Rust type
//! (`i64`, `f64`, `bool`, `String`, `Vec<T>`, tuples, `Option<T>`, `Result<T, E>`, objects as
//! `BTreeMap<String, T>` or generated record structs, user structs and enums, functions as
//! `Rc<dyn Fn(..) -> R>`), found by unification. Annotations pin types; literals and
//! operators constrain them; a type still open at the end defaults to `i64`.

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
    Vec(Box<Ty>),
    Tuple(Vec<Ty>),
    Option(Box<Ty>),
    Result(Box<Ty>, Box<Ty>),
    /// An object whose values share one type.
    Map(Box<Ty>),
    /// An object literal of mixed value types: a generated struct (its number).
    Record(u32),
    /// A user struct or enum.
    Named(Rc<str>),
    Fn(Vec<Ty>, Box<Ty>),
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
            Ty::Vec(t) | Ty::Option(t) | Ty::Map(t) => t.holds_fn(),
            Ty::Result(a, b) => a.holds_fn() || b.holds_fn(),
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

/// A union-find substitution over type variables.
#[derive(Clone, Default)]
pub struct Subst {
    bindings: Vec<Option<Ty>>,
}

impl Subst {
    pub fn fresh(&mut self) -> Ty {
        self.bindings.push(None);
        Ty::Var(self.bindings.len() as u32 - 1)
    }

    /// Follows variable bindings at the top level.
    pub fn shallow(&self, t: &Ty) -> Ty {
        let mut t = t.clone();
        while let Ty::Var(v) = t {
            match self.bindings.get(v as usize).and_then(|b| b.clone()) {
                Some(next) => t = next,
                None => return Ty::Var(v),
            }
        }
        t
    }

    /// The type with every bound variable replaced; free variables stay.
    pub fn resolve(&self, t: &Ty) -> Ty {
        match self.shallow(t) {
            Ty::Vec(e) => Ty::Vec(Box::new(self.resolve(&e))),
            Ty::Option(e) => Ty::Option(Box::new(self.resolve(&e))),
            Ty::Map(e) => Ty::Map(Box::new(self.resolve(&e))),
            Ty::Result(t, e) => Ty::Result(Box::new(self.resolve(&t)), Box::new(self.resolve(&e))),
            Ty::Tuple(items) => Ty::Tuple(items.iter().map(|i| self.resolve(i)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|p| self.resolve(p)).collect(),
                Box::new(self.resolve(&r)),
            ),
            other => other,
        }
    }

    /// The final type: free variables default to `i64`.
    pub fn finish(&self, t: &Ty) -> Ty {
        match self.resolve(t) {
            Ty::Var(_) => Ty::Int,
            Ty::Vec(e) => Ty::Vec(Box::new(self.finish(&e))),
            Ty::Option(e) => Ty::Option(Box::new(self.finish(&e))),
            Ty::Map(e) => Ty::Map(Box::new(self.finish(&e))),
            Ty::Result(t, e) => Ty::Result(Box::new(self.finish(&t)), Box::new(self.finish(&e))),
            Ty::Tuple(items) => Ty::Tuple(items.iter().map(|i| self.finish(i)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|p| self.finish(p)).collect(),
                Box::new(self.finish(&r)),
            ),
            other => other,
        }
    }

    fn occurs(&self, v: u32, t: &Ty) -> bool {
        match self.shallow(t) {
            Ty::Var(w) => v == w,
            Ty::Vec(e) | Ty::Option(e) | Ty::Map(e) => self.occurs(v, &e),
            Ty::Result(t, e) => self.occurs(v, &t) || self.occurs(v, &e),
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
                self.bindings[*x as usize] = Some(other.clone());
                Ok(())
            }
            (Ty::Vec(x), Ty::Vec(y))
            | (Ty::Option(x), Ty::Option(y))
            | (Ty::Map(x), Ty::Map(y)) => self.unify(x, y),
            (Ty::Result(t1, e1), Ty::Result(t2, e2)) => {
                self.unify(t1, t2)?;
                self.unify(e1, e2)
            }
            (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
                for (x, y) in xs.iter().zip(ys) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Fn(p1, r1), Ty::Fn(p2, r2)) if p1.len() == p2.len() => {
                for (x, y) in p1.iter().zip(p2) {
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
        let v = Ty::Vec(Box::new(a.clone()));
        s.unify(&v, &Ty::Vec(Box::new(Ty::Int))).unwrap();
        assert_eq!(s.resolve(&a), Ty::Int);
        assert!(s.unify(&a, &Ty::Str).is_err());
        let b = s.fresh();
        assert_eq!(s.finish(&b), Ty::Int);
        assert_eq!(Ty::Tuple(vec![Ty::Int]).to_string(), "(i64,)");
    }
}
