//! The runtime a compiled program carries at its end, in a module `rt`: Ruchy's display rules
//! as a trait (`show`: the notebook display, strings quoted; `plain`: what `println` prints),
//! always; and, only when the program uses them, the operations whose Ruchy meaning Rust spells
//! differently (negative indices, `**`, slices, `catch` of engine errors, ...).

/// The first line of the runtime; what a batch of compiled programs shares.
pub const MARKER: &str = "// ---- Ruchy runtime";

/// The start of the module: the `Show` trait and its impls (every program shows values).
const PRELUDE: &str = r#"// ---- Ruchy runtime: how values are shown, and what Rust spells differently ----
#[allow(dead_code)]
mod rt {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    /// Ruchy's display of a value: `show` is the notebook display (strings quoted), `plain`
    /// is what `println` and f-strings print (strings as they are).
    pub trait Show {
        fn show(&self) -> String;
        fn plain(&self) -> String {
            self.show()
        }
    }

    impl Show for i64 {
        fn show(&self) -> String {
            self.to_string()
        }
    }

    impl Show for f64 {
        fn show(&self) -> String {
            float(*self)
        }
    }

    impl Show for bool {
        fn show(&self) -> String {
            self.to_string()
        }
    }

    impl Show for String {
        fn show(&self) -> String {
            format!("\"{self}\"")
        }
        fn plain(&self) -> String {
            self.clone()
        }
    }

    impl Show for () {
        fn show(&self) -> String {
            "nil".to_string()
        }
    }

    impl<T: Show> Show for Vec<T> {
        fn show(&self) -> String {
            format!("[{}]", self.iter().map(Show::show).collect::<Vec<_>>().join(", "))
        }
    }

    impl<T: Show> Show for Option<T> {
        fn show(&self) -> String {
            match self {
                Some(x) => format!("Some({})", x.show()),
                None => "None".to_string(),
            }
        }
    }

    impl<T: Show, E: Show> Show for Result<T, E> {
        fn show(&self) -> String {
            match self {
                Ok(x) => format!("Ok({})", x.show()),
                Err(e) => format!("Err({})", e.show()),
            }
        }
    }

    impl<T: Show> Show for BTreeMap<String, T> {
        fn show(&self) -> String {
            let items: Vec<String> = self.iter().map(|(k, v)| format!("{k}: {}", v.show())).collect();
            format!("{{{}}}", items.join(", "))
        }
    }

    /// A `HashMap` or `BTreeMap` of the program: a `BTreeMap` (keys in order, as the
    /// interpreter walks both), shown as Rust's `{:?}` shows a map.
    #[derive(Clone, PartialEq, Default)]
    pub struct Map<K: Ord, V>(pub BTreeMap<K, V>);

    impl<K: Ord, V> Map<K, V> {
        pub fn new() -> Self {
            Map(BTreeMap::new())
        }
    }

    impl<K: Ord, V> std::ops::Deref for Map<K, V> {
        type Target = BTreeMap<K, V>;
        fn deref(&self) -> &BTreeMap<K, V> {
            &self.0
        }
    }

    impl<K: Ord, V> std::ops::DerefMut for Map<K, V> {
        fn deref_mut(&mut self) -> &mut BTreeMap<K, V> {
            &mut self.0
        }
    }

    impl<K: Ord, V> IntoIterator for Map<K, V> {
        type Item = (K, V);
        type IntoIter = std::collections::btree_map::IntoIter<K, V>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.into_iter()
        }
    }

    impl<K: Ord, V> FromIterator<(K, V)> for Map<K, V> {
        fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
            Map(items.into_iter().collect())
        }
    }

    impl<K: Ord + Show, V: Show> Show for Map<K, V> {
        fn show(&self) -> String {
            let items: Vec<String> =
                self.0.iter().map(|(k, v)| format!("{}: {}", k.show(), v.show())).collect();
            format!("{{{}}}", items.join(", "))
        }
    }

    impl<T: Show> Show for BTreeSet<T> {
        fn show(&self) -> String {
            format!("{{{}}}", self.iter().map(Show::show).collect::<Vec<_>>().join(", "))
        }
    }

    impl<T: Show> Show for VecDeque<T> {
        fn show(&self) -> String {
            format!("[{}]", self.iter().map(Show::show).collect::<Vec<_>>().join(", "))
        }
    }

    macro_rules! fn_show {
        ($($a:ident),*) => {
            impl<$($a,)* R> Show for std::rc::Rc<dyn Fn($($a),*) -> R> {
                fn show(&self) -> String {
                    "<function>".to_string()
                }
            }
        };
    }
    fn_show!();
    fn_show!(A);
    fn_show!(A, B);
    fn_show!(A, B, C);
    fn_show!(A, B, C, D);

    impl Show for std::ops::Range<i64> {
        fn show(&self) -> String {
            format!("{}..{}", self.start, self.end)
        }
    }

    impl Show for std::ops::RangeInclusive<i64> {
        fn show(&self) -> String {
            format!("{}..={}", self.start(), self.end())
        }
    }

    macro_rules! tuple_show {
        ($($t:ident $i:tt),+) => {
            impl<$($t: Show),+> Show for ($($t,)+) {
                fn show(&self) -> String {
                    let parts: Vec<String> = vec![$(self.$i.show()),+];
                    format!("({})", parts.join(", "))
                }
            }
        };
    }
    tuple_show!(A 0);
    tuple_show!(A 0, B 1);
    tuple_show!(A 0, B 1, C 2);
    tuple_show!(A 0, B 1, C 2, D 3);
    tuple_show!(A 0, B 1, C 2, D 3, E 4);
    tuple_show!(A 0, B 1, C 2, D 3, E 4, F 5);

    /// Float display: integral values keep one decimal (`3.0`).
    pub fn float(x: f64) -> String {
        if x.is_nan() {
            "NaN".to_string()
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.to_string()
        } else if x == x.trunc() {
            format!("{x:.1}")
        } else {
            format!("{x}")
        }
    }
"#;

/// The other items: the `rt::` functions each defines (an item is included when the program
/// calls one of them), and its source.
const ITEMS: &[(&[&str], &str)] = &[
    (
        &["random"],
        r#"
    thread_local! {
        /// The `random()` generator: the interpreter's seed and xorshift, so a program draws
        /// the numbers its notebook drew.
        static RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(0x9E37_79B9_7F4A_7C15) };
    }

    /// `random()`: a float in [0, 1).
    pub fn random() -> f64 {
        RNG.with(|r| {
            let mut x = r.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r.set(x);
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
    }
"#,
    ),
    (
        &["throw", "catch"],
        r#"
    /// A thrown string, as the payload of the panic that carries it to `catch`.
    pub struct Thrown(pub String);

    /// `throw value`.
    pub fn throw<T: Show>(value: T) -> ! {
        if CATCHING.with(|c| c.get()) == 0 {
            // nothing catches it: the program ends, as the interpreter's does
            use std::io::Write;
            let _ = std::io::stdout().flush();
            eprintln!("Error: Uncaught exception: {}", value.show());
            std::process::exit(1);
        }
        std::panic::panic_any(Thrown(value.plain()))
    }

    thread_local! {
        /// How many `catch`es are running: their panics are not reported.
        static CATCHING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// Runs a `try` body: a throw, or an error the interpreter reports as a runtime error (a
    /// Rust panic), becomes `Err` with the string `catch` binds.
    pub fn catch<T>(body: impl FnOnce() -> T) -> Result<T, String> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if CATCHING.with(|c| c.get()) == 0 {
                    default(info)
                }
            }));
        });
        CATCHING.with(|c| c.set(c.get() + 1));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        CATCHING.with(|c| c.set(c.get() - 1));
        result.map_err(|payload| {
            if let Some(Thrown(s)) = payload.downcast_ref::<Thrown>() {
                return s.clone();
            }
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            engine_message(&message)
        })
    }

    /// The interpreter's message for an error Rust reports in its own words.
    fn engine_message(rust: &str) -> String {
        let overflow = [
            ("add", "addition"),
            ("subtract", "subtraction"),
            ("multiply", "multiplication"),
            ("divide", "division"),
            ("calculate the remainder", "modulo"),
            ("negate", "negation"),
        ];
        if let Some(rest) = rust.strip_prefix("index out of bounds: the len is ") {
            if let Some((len, index)) = rest.split_once(" but the index is ") {
                return format!("Index {index} out of bounds for array of length {len}");
            }
        }
        if rust == "attempt to divide by zero" || rust == "attempt to calculate the remainder with a divisor of zero" {
            return "Division by zero".to_string();
        }
        for (op, what) in overflow {
            if rust == format!("attempt to {op} with overflow") {
                return format!("Integer overflow in {what}");
            }
        }
        rust.to_string()
    }
"#,
    ),
    (
        &["dbg"],
        r#"
    /// `dbg(x)`: prints and gives back its argument.
    pub fn dbg<T: Show>(x: T) -> T {
        println!("[DEBUG] {}", x.show());
        x
    }
"#,
    ),
    (
        &["union"],
        r#"
    /// `a.union(b)`: the elements of `a`, then those of `b` not in `a`, each once.
    pub fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
        let mut out: Vec<T> = Vec::new();
        for x in a.iter().chain(b) {
            if !out.contains(x) {
                out.push(x.clone());
            }
        }
        out
    }
"#,
    ),
    (
        &["get"],
        r#"
    /// The value of a binding a closure shares.
    pub fn get<T: Clone>(cell: &std::cell::RefCell<T>) -> T {
        cell.borrow().clone()
    }
"#,
    ),
    (
        &["shl", "shr"],
        r#"
    /// `a << b`: an error when bits are lost or `b` is not in 0..64, as in Ruchy.
    pub fn shl(a: i64, b: i64) -> i64 {
        u32::try_from(b)
            .ok()
            .and_then(|s| a.checked_shl(s).filter(|r| r >> s == a))
            .expect("Integer overflow in shift left")
    }

    /// `a >> b`: an error when `b` is not in 0..64, as in Ruchy.
    pub fn shr(a: i64, b: i64) -> i64 {
        u32::try_from(b)
            .ok()
            .and_then(|s| a.checked_shr(s))
            .expect("Integer overflow in shift right")
    }
"#,
    ),
    (
        &["fmax", "fmin"],
        r#"
    /// `max` of floats: NaN has no order, so it is an error, as in Ruchy.
    pub fn fmax(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            panic!("Cannot compare NaN with a number: NaN has no order");
        }
        a.max(b)
    }

    /// `min` of floats (see `fmax`).
    pub fn fmin(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            panic!("Cannot compare NaN with a number: NaN has no order");
        }
        a.min(b)
    }
"#,
    ),
    (
        &["frem"],
        r#"
    /// Float `%`: by zero it is an error, as in Ruchy (not NaN).
    pub fn frem(a: f64, b: f64) -> f64 {
        if b == 0.0 {
            panic!("Division by zero");
        }
        a % b
    }
"#,
    ),
    (
        &["pow"],
        r#"
    /// `a ** b` on integers (a negative exponent has no integer result).
    pub fn pow(a: i64, b: i64) -> i64 {
        let e = u32::try_from(b).expect("a negative exponent gives a float");
        a.checked_pow(e).expect("Integer overflow in exponentiation")
    }
"#,
    ),
    (
        &["len"],
        r#"
    /// `x.len()` of a string: bytes, as in Ruchy.
    pub fn len(s: &str) -> i64 {
        s.len() as i64
    }
"#,
    ),
    (
        &["pad"],
        r#"
    /// `s.pad_left(width, fill)` / `pad_right`: `fill` is one character, as in Ruchy.
    pub fn pad(s: &str, width: i64, fill: &str, name: &str) -> String {
        let mut cs = fill.chars();
        let c = match (cs.next(), cs.next()) {
            (Some(c), None) => c,
            _ => panic!("{name}() fills with one character, got {fill:?}"),
        };
        let have = s.chars().count();
        let pad = usize::try_from(width).unwrap_or(0).saturating_sub(have);
        let fill: String = std::iter::repeat_n(c, pad).collect();
        if name == "pad_left" || name == "pad_start" {
            fill + s
        } else {
            s.to_string() + &fill
        }
    }
"#,
    ),
    (
        &["chars"],
        r#"
    /// The characters of a string as one-character strings.
    pub fn chars(s: &str) -> Vec<String> {
        s.chars().map(|c| c.to_string()).collect()
    }
"#,
    ),
    (
        &["index", "char_at"],
        r#"
    /// `a[i]`: a negative index counts from the end.
    pub fn index(i: i64, len: usize) -> usize {
        index_in(i, len, "array")
    }

    fn index_in(i: i64, len: usize, what: &str) -> usize {
        let k = if i < 0 { len as i64 + i } else { i };
        if k < 0 || k as usize >= len {
            panic!("Index {i} out of bounds for {what} of length {len}");
        }
        k as usize
    }

    /// `s[i]` of a string: the character at a character index (negative from the end).
    pub fn char_at(s: &str, i: i64) -> String {
        let n = s.chars().count();
        s.chars().nth(index_in(i, n, "string")).map(|c| c.to_string()).unwrap_or_default()
    }
"#,
    ),
    (
        &["slice", "substring"],
        r#"
    /// `a[lo..hi]` of an array.
    pub fn slice<T: Clone>(a: &[T], r: impl std::ops::RangeBounds<i64>) -> Vec<T> {
        match bounds(&r, a.len()) {
            Some((lo, hi)) => a[lo..hi].to_vec(),
            None => panic!("Range {} out of bounds for array of length {}", shown(&r), a.len()),
        }
    }

    /// `s[lo..hi]` of a string, in characters (D21).
    pub fn substring(s: &str, r: impl std::ops::RangeBounds<i64>) -> String {
        let chars: Vec<char> = s.chars().collect();
        match bounds(&r, chars.len()) {
            Some((lo, hi)) => chars[lo..hi].iter().collect(),
            None => panic!("Range {} out of bounds for string of length {}", shown(&r), chars.len()),
        }
    }

    /// The positions a range selects from `len` elements, if they are all there.
    fn bounds(r: &impl std::ops::RangeBounds<i64>, len: usize) -> Option<(usize, usize)> {
        use std::ops::Bound;
        let lo = match r.start_bound() {
            Bound::Included(&x) => x,
            Bound::Excluded(&x) => x.checked_add(1)?,
            Bound::Unbounded => 0,
        };
        let hi = match r.end_bound() {
            Bound::Included(&x) => x.checked_add(1)?,
            Bound::Excluded(&x) => x,
            Bound::Unbounded => len as i64,
        };
        if lo < 0 || hi < lo || hi as usize > len {
            return None;
        }
        Some((lo as usize, hi as usize))
    }

    /// A range as Ruchy shows it.
    fn shown(r: &impl std::ops::RangeBounds<i64>) -> String {
        use std::ops::Bound;
        let lo = match r.start_bound() {
            Bound::Included(x) | Bound::Excluded(x) => x.to_string(),
            Bound::Unbounded => String::new(),
        };
        match r.end_bound() {
            Bound::Included(x) => format!("{lo}..={x}"),
            Bound::Excluded(x) => format!("{lo}..{x}"),
            Bound::Unbounded => format!("{lo}.."),
        }
    }
"#,
    ),
    (
        &["clamped_substring"],
        r#"
    /// `s.substring(a, b)`: the characters from `a` to `b`, both clamped to the string.
    pub fn clamped_substring(s: &str, a: i64, b: i64) -> String {
        let chars: Vec<char> = s.chars().collect();
        let lo = a.clamp(0, chars.len() as i64) as usize;
        let hi = b.clamp(lo as i64, chars.len() as i64) as usize;
        chars[lo..hi].iter().collect()
    }
"#,
    ),
    (
        &["cmp_f64"],
        r#"
    /// Ordering of floats for `sort` and `max` (Ruchy compares numbers; NaN sorts as equal).
    pub fn cmp_f64(a: &f64, b: &f64) -> std::cmp::Ordering {
        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
    }
"#,
    ),
];

/// Room for the runtime a program gets: the prelude and some of the items.
pub const RUNTIME_CAPACITY: usize = PRELUDE.len() + 2048;

/// The line between the runtime's prelude and the items a program uses.
pub const ITEMS_MARKER: &str = "    // ---- the operations this program uses";

/// Appends to `code` (a program) the runtime: the prelude and the items the program calls
/// from byte `from` on (what comes before, the program's fixed header, calls none).
pub fn append_runtime(code: &mut String, from: usize) {
    // the names after `rt::` in the code (called, or passed as `sort_by(rt::cmp_f64)`): found
    // from its `::`s (memchr for ':' is several times cheaper than a substring search)
    let mut used: Vec<&str> = Vec::new();
    let bytes = code.as_bytes();
    let mut from = from.min(code.len());
    while let Some(at) = code[from..].find(':').map(|i| from + i) {
        from = at + 1;
        if at >= 2 && &bytes[at - 2..at] == b"rt" && bytes.get(at + 1) == Some(&b':') {
            let word_start =
                at < 3 || !(bytes[at - 3].is_ascii_alphanumeric() || bytes[at - 3] == b'_');
            if word_start {
                let rest = &code[at + 2..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                used.push(&rest[..end]);
            }
        }
    }
    let mut items: Vec<&str> = Vec::new();
    for (names, src) in ITEMS {
        if names.iter().any(|n| used.contains(n)) {
            items.push(src);
        }
    }
    let more =
        PRELUDE.len() + ITEMS_MARKER.len() + 4 + items.iter().map(|s| s.len()).sum::<usize>();
    code.reserve(more);
    code.push_str(PRELUDE);
    code.push('\n');
    code.push_str(ITEMS_MARKER);
    code.push('\n');
    for src in items {
        code.push_str(src);
    }
    code.push_str("}\n");
}

/// The runtime's prelude as a module of its own (what a batch of programs shares).
pub fn prelude_source() -> String {
    format!("{PRELUDE}}}\n")
}
