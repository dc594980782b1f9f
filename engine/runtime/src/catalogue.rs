//! The catalogue of built-in functions and methods: for each one its name, aliases, receiver,
//! parameters, return type, whether it changes its receiver, and a one-line doc. It is the
//! one list the rest of the engine reads: the compiler resolves a method call's name to its
//! [`MethodId`] here once, the VM and [`crate::methods`] dispatch on that id, the transpiler
//! normalises method names through it, and a notebook's completion and hover show it.
//!
//! Reading the tables below: `m!(Str Split([sep: "String"]) -> "[String]", "...")` is the
//! method `split` of strings, with an optional parameter `sep`; `m!(mut Array Push(..) ..)`
//! changes its receiver. Parameters are `name: "Type"` (required), `[name: "Type"]`
//! (optional) or `...name: "Type"` (any number). Types are written Ruchy-style: `Int`,
//! `Float`, `Number` (either), `String`, `Bool`, `[T]`, `(T, U)`, `Option<T>`,
//! `Result<T, E>`, `Fn(T) -> U`, `Object`, `nil`, `Any`; `A|B` is either.
//!
//! Method names and aliases: a method's name and aliases are those of its [`MethodId`]
//! (`method_ids!` below): names that do the same on every receiver share an id and are
//! aliases (`to_upper`, `upper` of `to_uppercase`). A name that does something else somewhere
//! has an id and an entry of its own, even where it behaves like another name (a string's
//! `rev` is its `reverse`, but an array's `rev` returns a copy where `reverse` reverses in
//! place), so an id names one behaviour for each receiver.
//!
//! Ranges have, besides their own methods, every array method that does not change its
//! receiver (the range is turned into an array first); [`method`] and [`methods_of`] give
//! them. `Option` and `Result` share their methods at run time (`Some(1).is_ok()` is false);
//! the catalogue lists for each the ones that make sense for it.

macro_rules! builtins {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A built-in function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Builtin { $($variant),* }

        impl Builtin {
            pub const ALL: &'static [Builtin] = &[$(Builtin::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name),* }
            }
        }
    };
}

builtins! {
    Println => "println",
    Print => "print",
    Dbg => "dbg",
    Len => "len",
    TypeOf => "typeof",
    TypeOf2 => "type_of",
    Assert => "assert",
    AssertEq => "assert_eq",
    AssertNe => "assert_ne",
    Range => "range",
    Int => "int",
    Float => "float",
    Str => "str",
    Bool => "bool",
    Sqrt => "sqrt",
    Pow => "pow",
    Abs => "abs",
    Min => "min",
    Max => "max",
    Floor => "floor",
    Ceil => "ceil",
    Round => "round",
    Sin => "sin",
    Cos => "cos",
    Tan => "tan",
    Log => "log",
    Log10 => "log10",
    Exp => "exp",
    Random => "random",
    Sort => "sort",
    Reverse => "reverse",
    Sorted => "sorted",
    Reversed => "reversed",
    Zip => "zip",
    Enumerate => "enumerate",
    IsNil => "is_nil",
    ParseInt => "parse_int",
    ParseFloat => "parse_float",
    ToString => "to_string",
    Sum => "sum",
    Product => "product",
    Unique => "unique",
    Flatten => "flatten",
    Join => "join",
    Split => "split",
    Format => "format",
    Panic => "panic",
    Html => "html",
    Markdown => "markdown",
    Svg => "svg",
    Display => "display",
    LineChart => "line_chart",
    ScatterChart => "scatter_chart",
    BarChart => "bar_chart",
    Histogram => "histogram",
    // Rust's standard constructors, reached by path (not session globals)
    VecNew => "Vec::new",
    VecWithCapacity => "Vec::with_capacity",
    StringNew => "String::new",
    StringFrom => "String::from",
    BoxNew => "Box::new",
    // Rust's collections (crate::collection)
    HashMapNew => "HashMap::new",
    HashMapFrom => "HashMap::from",
    BTreeMapNew => "BTreeMap::new",
    BTreeMapFrom => "BTreeMap::from",
    HashSetNew => "HashSet::new",
    HashSetFrom => "HashSet::from",
    BTreeSetNew => "BTreeSet::new",
    BTreeSetFrom => "BTreeSet::from",
    VecDequeNew => "VecDeque::new",
    VecDequeFrom => "VecDeque::from",
    HashMapWithCapacity => "HashMap::with_capacity",
    HashSetWithCapacity => "HashSet::with_capacity",
    VecDequeWithCapacity => "VecDeque::with_capacity",
}

/// The receiver of a built-in method: a kind of value (`Any`: every value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recv {
    Str,
    Array,
    Range,
    Tuple,
    Object,
    /// `HashMap` and `BTreeMap`.
    Map,
    /// `HashSet` and `BTreeSet`.
    Set,
    /// `VecDeque`.
    Deque,
    Int,
    Float,
    Bool,
    Option,
    Result,
    Any,
}

impl Recv {
    pub const ALL: &'static [Recv] = &[
        Recv::Str,
        Recv::Array,
        Recv::Range,
        Recv::Tuple,
        Recv::Object,
        Recv::Map,
        Recv::Set,
        Recv::Deque,
        Recv::Int,
        Recv::Float,
        Recv::Bool,
        Recv::Option,
        Recv::Result,
        Recv::Any,
    ];

    /// The receiver's type as a signature shows it.
    pub fn name(self) -> &'static str {
        match self {
            Recv::Str => "String",
            Recv::Array => "Array",
            Recv::Range => "Range",
            Recv::Tuple => "Tuple",
            Recv::Object => "Object",
            Recv::Map => "HashMap",
            Recv::Set => "HashSet",
            Recv::Deque => "VecDeque",
            Recv::Int => "Int",
            Recv::Float => "Float",
            Recv::Bool => "Bool",
            Recv::Option => "Option",
            Recv::Result => "Result",
            Recv::Any => "Any",
        }
    }
}

/// A parameter: its name and type; `optional`: may be left out (for a name starting with
/// `...`: any number of arguments, also none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub ty: &'static str,
    pub optional: bool,
}

/// A built-in function or method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The canonical name.
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// `None`: a free function.
    pub recv: Option<Recv>,
    pub params: &'static [Param],
    /// Ruchy-style type: `Int`, `Float`, `String`, `Bool`, `[T]`, `Option<T>`, `nil`, ...
    pub returns: &'static str,
    /// Changes its receiver (a variable or place is updated after the call).
    pub mutates: bool,
    /// One line.
    pub doc: &'static str,
    /// A method's id (`None` for free functions).
    pub id: Option<MethodId>,
}

impl Entry {
    /// Whether `name` is this entry's name or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// `String.split(sep?: String) -> [String]`, `len(x: String|[T]|Object) -> Int`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let opt = if p.optional && !p.name.starts_with("...") {
                    "?"
                } else {
                    ""
                };
                format!("{}{opt}: {}", p.name, p.ty)
            })
            .collect();
        let recv = match self.recv {
            Some(r) => format!("{}.", r.name()),
            None => String::new(),
        };
        format!(
            "{recv}{}({}) -> {}",
            self.name,
            params.join(", "),
            self.returns
        )
    }
}

macro_rules! method_ids {
    ($($id:ident => $name:literal $(| $alias:literal)*,)*) => {
        /// A built-in method behaviour: what the compiler resolves a method call's name to,
        /// once, and the VM dispatches on (together with the receiver). `Unknown`: no
        /// built-in method has this name (a user method may; else the call is an error).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum MethodId {
            $($id,)*
            Unknown,
        }

        impl MethodId {
            /// Every id but `Unknown`.
            pub const ALL: &'static [MethodId] = &[$(MethodId::$id),*];
            /// The number of ids, `Unknown` included.
            pub const COUNT: usize = MethodId::ALL.len() + 1;

            /// The name or alias's id.
            pub fn lookup(name: &str) -> Option<MethodId> {
                Some(match name {
                    $($name $(| $alias)* => MethodId::$id,)*
                    _ => return None,
                })
            }

            /// The canonical name (`"?"` for `Unknown`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(MethodId::$id => $name,)*
                    MethodId::Unknown => "?",
                }
            }

            pub const fn aliases(self) -> &'static [&'static str] {
                match self {
                    $(MethodId::$id => &[$($alias),*],)*
                    MethodId::Unknown => &[],
                }
            }
        }
    };
}

method_ids! {
    // every value
    ToString => "to_string",
    Clone => "clone" | "to_owned",
    // sizes and membership (several receivers)
    Len => "len",
    IsEmpty => "is_empty",
    Count => "count",
    Contains => "contains",
    Iter => "iter",
    // strings
    ToUppercase => "to_uppercase" | "to_upper" | "upper",
    ToLowercase => "to_lowercase" | "to_lower" | "lower",
    Trim => "trim",
    TrimStart => "trim_start" | "trim_left",
    TrimEnd => "trim_end" | "trim_right",
    StartsWith => "starts_with",
    EndsWith => "ends_with",
    Replace => "replace",
    Split => "split",
    SplitWhitespace => "split_whitespace",
    Lines => "lines",
    Chars => "chars",
    Bytes => "bytes" | "as_bytes",
    Repeat => "repeat",
    Substring => "substring" | "substr",
    CharAt => "char_at",
    Parse => "parse",
    ParseInt => "parse_int",
    ParseFloat => "parse_float",
    IsNumeric => "is_numeric" | "is_digit",
    IsAlphabetic => "is_alphabetic" | "is_alpha",
    IsAlphanumeric => "is_alphanumeric",
    IsWhitespace => "is_whitespace",
    IsUppercase => "is_uppercase",
    IsLowercase => "is_lowercase",
    Capitalize => "capitalize",
    StripPrefix => "strip_prefix",
    StripSuffix => "strip_suffix",
    PadLeft => "pad_left" | "pad_start",
    PadRight => "pad_right" | "pad_end",
    ReplaceFirst => "replace_first",
    CharIndices => "char_indices",
    Format => "format",
    PushStr => "push_str",
    // strings and arrays
    Reverse => "reverse",
    Rev => "rev",
    Slice => "slice",
    Nth => "nth",
    Find => "find",
    IndexOf => "index_of",
    Push => "push",
    // arrays
    First => "first",
    Last => "last",
    Get => "get",
    Position => "position",
    FindIndex => "find_index",
    Pop => "pop",
    Insert => "insert",
    Remove => "remove",
    Clear => "clear",
    Truncate => "truncate",
    Swap => "swap",
    Extend => "extend" | "append",
    Concat => "concat",
    Sort => "sort",
    SortBy => "sort_by",
    SortByKey => "sort_by_key",
    Dedup => "dedup",
    Retain => "retain",
    Sorted => "sorted",
    Reversed => "reversed",
    Partition => "partition",
    GroupBy => "group_by",
    ChunkBy => "chunk_by",
    BinarySearch => "binary_search",
    Map => "map",
    FlatMap => "flat_map",
    Filter => "filter",
    FilterMap => "filter_map",
    Any => "any",
    All => "all",
    Each => "each" | "for_each",
    Reduce => "reduce" | "fold",
    Take => "take",
    Skip => "skip",
    StepBy => "step_by",
    Enumerate => "enumerate",
    Zip => "zip",
    Max => "max",
    Min => "min",
    MaxByKey => "max_by_key",
    MinByKey => "min_by_key",
    Sum => "sum",
    Product => "product",
    Unique => "unique",
    Flatten => "flatten",
    Join => "join",
    Union => "union",
    SymmetricDifference => "symmetric_difference",
    IsSubset => "is_subset",
    IsSuperset => "is_superset",
    IsDisjoint => "is_disjoint",
    // VecDeque
    PushBack => "push_back",
    PushFront => "push_front",
    PopBack => "pop_back",
    PopFront => "pop_front",
    Front => "front",
    Back => "back",
    // maps: `map.entry(k).or_insert(v)`, which the parser writes `map.or_insert(k, v)`
    OrInsert => "or_insert",
    Intersection => "intersection",
    Difference => "difference",
    Windows => "windows",
    Chunks => "chunks",
    IntoIter => "into_iter" | "collect" | "cloned" | "copied",
    ToArray => "to_array" | "to_vec",
    // ranges
    Start => "start",
    End => "end",
    // objects
    Keys => "keys",
    Values => "values",
    Items => "items" | "entries",
    ContainsKey => "contains_key" | "has_key",
    // numbers
    Abs => "abs",
    Pow => "pow",
    Powf => "powf" | "powi",
    Clamp => "clamp",
    Signum => "signum",
    IsPositive => "is_positive",
    IsNegative => "is_negative",
    Sqrt => "sqrt",
    Cmp => "cmp",
    ToInt => "to_int",
    AsInt => "as_int",
    ToFloat => "to_float",
    AsFloat => "as_float",
    Floor => "floor",
    Ceil => "ceil",
    Round => "round",
    Trunc => "trunc",
    Fract => "fract",
    Exp => "exp",
    Ln => "ln",
    Log10 => "log10",
    Log2 => "log2",
    Sin => "sin",
    Cos => "cos",
    Tan => "tan",
    Cbrt => "cbrt",
    Exp2 => "exp2",
    Log => "log",
    Asin => "asin",
    Acos => "acos",
    Atan => "atan",
    Atan2 => "atan2",
    Sinh => "sinh",
    Cosh => "cosh",
    Tanh => "tanh",
    Hypot => "hypot",
    ToDegrees => "to_degrees",
    ToRadians => "to_radians",
    IsNan => "is_nan",
    IsInfinite => "is_infinite",
    IsFinite => "is_finite",
    // booleans
    Then => "then",
    ThenSome => "then_some",
    // Option and Result
    IsSome => "is_some",
    IsNone => "is_none",
    IsOk => "is_ok",
    IsErr => "is_err",
    Unwrap => "unwrap",
    Expect => "expect",
    UnwrapErr => "unwrap_err" | "expect_err",
    UnwrapOr => "unwrap_or",
    UnwrapOrElse => "unwrap_or_else",
    UnwrapOrDefault => "unwrap_or_default",
    MapErr => "map_err",
    AndThen => "and_then",
    Or => "or",
    OrElse => "or_else",
    OkOr => "ok_or",
    Ok => "ok",
    Err => "err",
}

impl MethodId {
    /// Whether a method of this id changes its receiver (for some receiver: an array's
    /// `reverse` does, a string's does not).
    pub fn mutates(self) -> bool {
        MUTATING[self as usize]
    }
}

/// Parameter lists: `name: "T"`, `[name: "T"]` (optional), `...name: "T"` (any number).
macro_rules! params {
    (@ [$($done:expr),*]) => { &[$($done),*] };
    (@ [$($done:expr),*] [$n:ident : $t:literal] $(, $($rest:tt)*)?) => {
        params!(@ [$($done,)* Param { name: stringify!($n), ty: $t, optional: true }] $($($rest)*)?)
    };
    (@ [$($done:expr),*] ... $n:ident : $t:literal $(, $($rest:tt)*)?) => {
        params!(@ [$($done,)* Param { name: concat!("...", stringify!($n)), ty: $t, optional: true }] $($($rest)*)?)
    };
    (@ [$($done:expr),*] $n:ident : $t:literal $(, $($rest:tt)*)?) => {
        params!(@ [$($done,)* Param { name: stringify!($n), ty: $t, optional: false }] $($($rest)*)?)
    };
    ($($t:tt)*) => { params!(@ [] $($t)*) };
}

/// A method: `m!(Recv Id(params) -> "Returns", "doc")`; `m!(mut ...)` changes its receiver.
macro_rules! m {
    (@ $mutates:literal $recv:ident $id:ident ($($p:tt)*) -> $ret:literal, $doc:literal) => {
        Entry {
            name: MethodId::$id.name(),
            aliases: MethodId::$id.aliases(),
            recv: Some(Recv::$recv),
            params: params!($($p)*),
            returns: $ret,
            mutates: $mutates,
            doc: $doc,
            id: Some(MethodId::$id),
        }
    };
    (mut $($rest:tt)*) => { m!(@ true $($rest)*) };
    ($($rest:tt)*) => { m!(@ false $($rest)*) };
}

/// A free function: `f!("name" | "alias" (params) -> "Returns", "doc")`.
macro_rules! f {
    ($name:literal $(| $alias:literal)* ($($p:tt)*) -> $ret:literal, $doc:literal) => {
        Entry {
            name: $name,
            aliases: &[$($alias),*],
            recv: None,
            params: params!($($p)*),
            returns: $ret,
            mutates: false,
            doc: $doc,
            id: None,
        }
    };
}

static FUNCTIONS: &[Entry] = &[
    // ---- output
    f!("println"(...values: "Any") -> "nil", "Prints the values separated by spaces and a newline; a first string with {} placeholders is a template."),
    f!("print"(...values: "Any") -> "nil", "As println, without the newline."),
    f!("dbg"(x: "T") -> "T", "Prints [DEBUG] and x's display, and returns x."),
    f!("panic"(...values: "Any") -> "!", "Stops with the runtime error 'panic: ' and the values as println shows them."),
    f!("format"(template: "String", ...values: "Any") -> "String", "The template with its {} placeholders filled by the values."),
    // ---- values and types
    f!("len"(x: "String|[T]|Object") -> "Int", "Bytes of a string, elements of an array, tuple, object or range."),
    f!("typeof" | "type_of"(x: "Any") -> "String", "The name of x's type: integer, float, string, array, object, ..."),
    f!("is_nil"(x: "Any") -> "Bool", "Whether x is nil."),
    f!("int"(x: "Int|Float|Bool|String") -> "Int", "x as an integer: a float truncated, a string parsed."),
    f!("float"(x: "Int|Float|Bool|String") -> "Float", "x as a float: a string parsed, true as 1.0 and false as 0.0."),
    f!("str" | "to_string"(x: "Any") -> "String", "x as text, as println shows it."),
    f!("bool"(x: "Any") -> "Bool", "Truthiness: false, nil, zero and empty strings and arrays are false."),
    f!("parse_int"(s: "String") -> "Int", "The integer the string holds (surrounding whitespace ignored)."),
    f!("parse_float"(s: "String") -> "Float", "The float the string holds (surrounding whitespace ignored)."),
    // ---- assertions
    f!("assert"(cond: "Bool", [message: "Any"]) -> "nil", "Fails with 'Assertion failed' (and the message) unless cond is truthy."),
    f!("assert_eq"(a: "Any", b: "Any", [message: "Any"]) -> "nil", "Fails unless a equals b."),
    f!("assert_ne"(a: "Any", b: "Any", [message: "Any"]) -> "nil", "Fails if a equals b."),
    // ---- numbers
    f!("sqrt"(x: "Number") -> "Float", "Square root."),
    f!("pow"(x: "Number", y: "Number") -> "Number", "x to the power y (an integer for integers and an exponent >= 0)."),
    f!("abs"(x: "Number") -> "Number", "Absolute value."),
    f!("min"(...values: "Any") -> "Any", "The smallest argument, or the smallest element of one array argument."),
    f!("max"(...values: "Any") -> "Any", "The largest argument, or the largest element of one array argument."),
    f!("floor"(x: "Number") -> "Int", "x rounded down, as an integer."),
    f!("ceil"(x: "Number") -> "Int", "x rounded up, as an integer."),
    f!("round"(x: "Number") -> "Int", "x rounded half away from zero, as an integer."),
    f!("sin"(x: "Number") -> "Float", "Sine (radians)."),
    f!("cos"(x: "Number") -> "Float", "Cosine (radians)."),
    f!("tan"(x: "Number") -> "Float", "Tangent (radians)."),
    f!("log"(x: "Number") -> "Float", "Natural logarithm."),
    f!("log10"(x: "Number") -> "Float", "Base-10 logarithm."),
    f!("exp"(x: "Number") -> "Float", "e to the power x."),
    f!("random"() -> "Float", "A pseudo-random float in [0, 1) from the session's generator."),
    // ---- collections (the free forms of array and string methods, D10)
    f!("range"(a: "Int", [b: "Int"], [step: "Int"]) -> "[Int]", "range(n): 0 to n-1; range(a, b): a to b-1; with step, every step-th."),
    f!("sort"(xs: "[T]") -> "[T]", "A sorted copy of xs."),
    f!("reverse"(xs: "[T]|String") -> "[T]|String", "A reversed copy of xs."),
    f!("sorted"(xs: "[T]") -> "[T]", "A sorted copy of xs (as xs.sorted())."),
    f!("reversed"(xs: "[T]|String") -> "[T]|String", "A reversed copy of xs (as xs.reversed())."),
    f!("zip"(xs: "[T]", ys: "[U]") -> "[(T, U)]", "Pairs of elements at the same index, as long as the shorter."),
    f!("enumerate"(xs: "[T]") -> "[(Int, T)]", "Pairs of index and element."),
    f!("sum"(xs: "[Number]") -> "Number", "The sum of the numbers (0 for none)."),
    f!("product"(xs: "[Number]") -> "Number", "The product of the numbers (1 for none)."),
    f!("unique"(xs: "[T]") -> "[T]", "The elements without repeats, in first-seen order."),
    f!("flatten"(xs: "[[T]]") -> "[T]", "Nested arrays flattened one level."),
    f!("join"(xs: "[T]", [sep: "String"]) -> "String", "The elements as text, separated by sep."),
    f!("split"(s: "String", [sep: "String"]) -> "[String]", "The parts of s between each sep; without sep, between runs of whitespace."),
    // ---- being added on another branch (rich output; no `Builtin` variant yet here):
    // ---- Rust's standard constructors, by path
    f!("Vec::new"() -> "[T]", "An empty array (Rust's Vec::new)."),
    f!("Vec::with_capacity"(n: "Int") -> "[T]", "An empty array; the capacity is a hint."),
    f!("String::new"() -> "String", "An empty string."),
    f!("String::from"(s: "String") -> "String", "The string itself (Rust's String::from of a &str)."),
    f!("HashMap::new"() -> "HashMap<K, V>", "An empty HashMap (Rust's HashMap::new)."),
    f!("HashMap::from"(items: "[(K, V)]") -> "HashMap<K, V>", "A HashMap of the items (Rust's HashMap::from)."),
    f!("HashMap::with_capacity"(n: "Int") -> "HashMap<K, V>", "An empty HashMap; the capacity is a hint."),
    f!("BTreeMap::new"() -> "BTreeMap<K, V>", "An empty BTreeMap (Rust's BTreeMap::new)."),
    f!("BTreeMap::from"(items: "[(K, V)]") -> "BTreeMap<K, V>", "A BTreeMap of the items (Rust's BTreeMap::from)."),
    f!("HashSet::new"() -> "HashSet<T>", "An empty HashSet (Rust's HashSet::new)."),
    f!("HashSet::from"(items: "[T]") -> "HashSet<T>", "A HashSet of the items (Rust's HashSet::from)."),
    f!("HashSet::with_capacity"(n: "Int") -> "HashSet<T>", "An empty HashSet; the capacity is a hint."),
    f!("BTreeSet::new"() -> "BTreeSet<T>", "An empty BTreeSet (Rust's BTreeSet::new)."),
    f!("BTreeSet::from"(items: "[T]") -> "BTreeSet<T>", "A BTreeSet of the items (Rust's BTreeSet::from)."),
    f!("VecDeque::new"() -> "VecDeque<T>", "An empty VecDeque (Rust's VecDeque::new)."),
    f!("VecDeque::from"(items: "[T]") -> "VecDeque<T>", "A VecDeque of the items (Rust's VecDeque::from)."),
    f!("VecDeque::with_capacity"(n: "Int") -> "VecDeque<T>", "An empty VecDeque; the capacity is a hint."),
    f!("Box::new"(x: "T") -> "T", "x itself: values are shared and copied on write, so a box adds nothing."),
    // ---- notebook output (rich values, display, charts)
    f!("html"(s: "String") -> "Html", "A value shown as HTML (text/html) in notebooks."),
    f!("markdown"(s: "String") -> "Markdown", "A value shown as Markdown (text/markdown) in notebooks."),
    f!("svg"(s: "String") -> "Svg", "A value shown as an SVG image (image/svg+xml) in notebooks."),
    f!("display"(v: "Any") -> "nil", "Shows v as an output of the cell right away (its rich form: table, chart, HTML...)."),
    f!("line_chart"(xs: "[Number]", ys: "[Number]", [options: "Object"]) -> "Chart", "A line chart, drawn as SVG; options: title, x_label, y_label, width, height, color."),
    f!("scatter_chart"(xs: "[Number]", ys: "[Number]", [options: "Object"]) -> "Chart", "A scatter chart, drawn as SVG; options: title, x_label, y_label, width, height, color."),
    f!("bar_chart"(labels: "[Any]", values: "[Number]", [options: "Object"]) -> "Chart", "A bar chart, drawn as SVG; options: title, x_label, y_label, width, height, color."),
    f!("histogram"(values: "[Number]", [bins: "Int"], [options: "Object"]) -> "Chart", "A histogram of the values in bins bars, drawn as SVG; options: title, x_label, y_label, width, height, color."),
];

const METHOD_TABLE: &[Entry] = &[
    // ---- every value
    m!(Any ToString() -> "String", "The value as text, as println shows it."),
    m!(Any Clone() -> "Self", "The value itself (values are copied on write)."),
    // ---- strings
    m!(Str Len() -> "Int", "Length in bytes (UTF-8)."),
    m!(Str IsEmpty() -> "Bool", "Whether the string is empty."),
    m!(Str ToUppercase() -> "String", "The string in upper case."),
    m!(Str ToLowercase() -> "String", "The string in lower case."),
    m!(Str Trim() -> "String", "Without leading and trailing whitespace."),
    m!(Str TrimStart() -> "String", "Without leading whitespace."),
    m!(Str TrimEnd() -> "String", "Without trailing whitespace."),
    m!(Str Contains(pat: "String") -> "Bool", "Whether pat occurs in the string."),
    m!(Str StartsWith(prefix: "String") -> "Bool", "Whether the string starts with prefix."),
    m!(Str EndsWith(suffix: "String") -> "Bool", "Whether the string ends with suffix."),
    m!(Str Replace(from: "String", to: "String") -> "String", "Every occurrence of from replaced by to."),
    m!(Str Split([sep: "String"]) -> "[String]", "The parts between each sep; without sep, between runs of whitespace."),
    m!(Str SplitWhitespace() -> "[String]", "The parts between runs of whitespace."),
    m!(Str Lines() -> "[String]", "The lines, without their line ends."),
    m!(Str Chars() -> "[String]", "The characters, each a one-character string."),
    m!(Str Bytes() -> "[Int]", "The UTF-8 bytes."),
    m!(Str Repeat(n: "Int") -> "String", "The string n times."),
    m!(Str Reverse() -> "String", "The characters in reverse order."),
    m!(Str Rev() -> "String", "The characters in reverse order (as reverse)."),
    m!(Str Reversed() -> "String", "The characters in reverse order (as reverse)."),
    m!(Str Substring(start: "Int", end: "Int") -> "String", "Characters start to end-1, clamped to the string."),
    m!(Str Slice(start: "Int", end: "Int") -> "String", "Characters start to end-1, clamped to the string (as substring)."),
    m!(Str CharAt(i: "Int") -> "String", "The character at index i (negative: from the end); an error out of bounds."),
    m!(Str Nth(i: "Int") -> "Option<String>", "The character at index i (negative: from the end); None out of bounds."),
    m!(Str Find(pat: "String") -> "Option<Int>", "The character index of the first occurrence of pat."),
    m!(Str IndexOf(pat: "String") -> "Option<Int>", "The character index of the first occurrence of pat (as find)."),
    m!(Str Count(pat: "String") -> "Int", "Occurrences of pat (for an empty pat: characters + 1)."),
    m!(Str Parse() -> "Int|Float", "The number the string holds: a float if it has '.', 'e' or 'E', else an integer."),
    m!(Str ToInt() -> "Int", "The integer the string holds (surrounding whitespace ignored)."),
    m!(Str ParseInt() -> "Int", "The integer the string holds (as to_int)."),
    m!(Str ToFloat() -> "Float", "The float the string holds (surrounding whitespace ignored)."),
    m!(Str ParseFloat() -> "Float", "The float the string holds (as to_float)."),
    m!(Str IsNumeric() -> "Bool", "Non-empty and only ASCII digits."),
    m!(Str IsAlphabetic() -> "Bool", "Non-empty and only letters."),
    m!(Str IsAlphanumeric() -> "Bool", "Non-empty and only letters and digits."),
    m!(Str IsWhitespace() -> "Bool", "Non-empty and only whitespace."),
    m!(Str IsUppercase() -> "Bool", "Has a letter and no lower-case letter."),
    m!(Str IsLowercase() -> "Bool", "Has a letter and no upper-case letter."),
    m!(Str Capitalize() -> "String", "The first character in upper case."),
    m!(Str StripPrefix(prefix: "String") -> "Option<String>", "The rest after prefix; None if the string does not start with it."),
    m!(Str StripSuffix(suffix: "String") -> "Option<String>", "The rest before suffix; None if the string does not end with it."),
    m!(Str PadLeft(width: "Int", [fill: "String"]) -> "String", "The string right-aligned in width characters, filled on the left with fill (one character, default a space)."),
    m!(Str PadRight(width: "Int", [fill: "String"]) -> "String", "The string left-aligned in width characters, filled on the right with fill (one character, default a space)."),
    m!(Str ReplaceFirst(from: "String", to: "String") -> "String", "The first occurrence of from replaced by to."),
    m!(Str CharIndices() -> "[(Int, String)]", "Pairs of character index (as find and char_at count) and character."),
    m!(Str Format(...values: "Any") -> "String", "The string's {} placeholders filled by the values."),
    m!(mut Str PushStr(s: "String") -> "nil", "Appends s."),
    m!(mut Str Push(s: "String") -> "nil", "Appends s (as push_str)."),
    m!(Str Iter() -> "[String]", "The characters (as chars)."),
    // ---- arrays (elements of type T)
    m!(Array Len() -> "Int", "The number of elements."),
    m!(Array Count([f: "Fn(T) -> Bool"]) -> "Int", "The number of elements; with f, of those for which f is true."),
    m!(Array IsEmpty() -> "Bool", "Whether there are no elements."),
    m!(Array First() -> "T|nil", "The first element (nil for none)."),
    m!(Array Last() -> "T|nil", "The last element (nil for none)."),
    m!(Array Nth(i: "Int") -> "Option<T>", "The element at index i (None out of bounds or for i < 0)."),
    m!(Array Get(i: "Int") -> "Option<T>", "The element at index i (as nth)."),
    m!(Array Contains(x: "T") -> "Bool", "Whether an element equals x."),
    m!(Array IndexOf(x: "T|Fn(T) -> Bool") -> "Option<Int>", "The index of the first element equal to x (x a function: for which x is true)."),
    m!(Array Position(x: "T|Fn(T) -> Bool") -> "Option<Int>", "The index of the first element for which x is true (x a value: equal to x)."),
    m!(Array FindIndex(f: "Fn(T) -> Bool") -> "Option<Int>", "The index of the first element for which f is true."),
    m!(Array Find(f: "Fn(T) -> Bool") -> "T|nil", "The first element for which f is true (nil for none)."),
    m!(mut Array Push(x: "T") -> "nil", "Appends x."),
    m!(mut Array Pop() -> "T|nil", "Removes and returns the last element (nil for none)."),
    m!(mut Array Insert(i: "Int", x: "T") -> "nil", "Inserts x at index i (0 to the length)."),
    m!(mut Array Remove(i: "Int") -> "T", "Removes and returns the element at index i (negative: from the end)."),
    m!(mut Array Clear() -> "nil", "Removes every element."),
    m!(mut Array Truncate(n: "Int") -> "nil", "Keeps the first n elements."),
    m!(mut Array Swap(i: "Int", j: "Int") -> "nil", "Swaps the elements at i and j."),
    m!(mut Array Extend(items: "[T]") -> "nil", "Appends the elements of an array, tuple or range."),
    m!(Array Concat(other: "[T]") -> "[T]", "A new array: the elements, then other's."),
    m!(mut Array Reverse() -> "[T]", "Reverses the array in place and returns it."),
    m!(Array Rev() -> "[T]", "A reversed copy."),
    m!(mut Array Sort() -> "[T]", "Sorts the array in place (stable) and returns it."),
    m!(mut Array SortBy(cmp: "Fn(T, T) -> Int|Bool") -> "[T]", "Sorts in place by a comparator (a number: its sign; a boolean: true for less) and returns the array."),
    m!(mut Array SortByKey(key: "Fn(T) -> K") -> "[T]", "Sorts in place by key (stable) and returns the array."),
    m!(mut Array Dedup() -> "nil", "Removes consecutive equal elements."),
    m!(mut Array Retain(f: "Fn(T) -> Bool") -> "nil", "Keeps the elements for which f is true."),
    m!(Array Sorted() -> "[T]", "A sorted copy (stable); the array itself is unchanged."),
    m!(Array Reversed() -> "[T]", "A reversed copy; the array itself is unchanged."),
    m!(Array Partition(f: "Fn(T) -> Bool") -> "([T], [T])", "The elements for which f is true, and the others, each in order."),
    m!(Array GroupBy(key: "Fn(T) -> K") -> "HashMap<K, [T]>", "The elements in a map from each key(x) to those with that key, in order."),
    m!(Array ChunkBy(same: "Fn(T, T) -> Bool") -> "[[T]]", "Runs of neighbours: a new run starts where same(previous, x) is false (Rust's chunk_by)."),
    m!(Array BinarySearch(x: "T") -> "Result<Int, Int>", "In a sorted array: Ok(index) of an element equal to x, or Err(index) where x would be inserted."),
    m!(Array Map(f: "Fn(T) -> U") -> "[U]", "f of each element."),
    m!(Array FlatMap(f: "Fn(T) -> [U]") -> "[U]", "f of each element, arrays flattened one level."),
    m!(Array Filter(f: "Fn(T) -> Bool") -> "[T]", "The elements for which f is true."),
    m!(Array FilterMap(f: "Fn(T) -> Option<U>") -> "[U]", "The results of f, a Some unwrapped, None and nil left out."),
    m!(Array Any(f: "Fn(T) -> Bool") -> "Bool", "Whether f is true for some element."),
    m!(Array All(f: "Fn(T) -> Bool") -> "Bool", "Whether f is true for every element."),
    m!(Array Each(f: "Fn(T)") -> "nil", "Calls f on each element."),
    m!(Array Reduce(f: "Fn(A, T) -> A", [init: "A"]) -> "A", "Folds the elements into init with f (the two arguments in either order); without init, Some of the elements folded from the first, None for none."),
    m!(Array Take(n: "Int") -> "[T]", "The first n elements."),
    m!(Array Skip(n: "Int") -> "[T]", "All but the first n elements."),
    m!(Array StepBy(n: "Int") -> "[T]", "Every n-th element, from the first."),
    m!(Array Slice(start: "Int", end: "Int") -> "[T]", "Elements start to end-1, clamped to the array."),
    m!(Array Enumerate() -> "[(Int, T)]", "Pairs of index and element."),
    m!(Array Zip(other: "[U]") -> "[(T, U)]", "Pairs of elements at the same index, as long as the shorter."),
    m!(Array Max() -> "T|nil", "The largest element (nil for none)."),
    m!(Array Min() -> "T|nil", "The smallest element (nil for none)."),
    m!(Array MaxByKey(key: "Fn(T) -> K") -> "T|nil", "The element with the largest key (the last of equals)."),
    m!(Array MinByKey(key: "Fn(T) -> K") -> "T|nil", "The element with the smallest key (the first of equals)."),
    m!(Array Sum() -> "Number", "The sum of the numbers (0 for none)."),
    m!(Array Product() -> "Number", "The product of the numbers (1 for none)."),
    m!(Array Unique() -> "[T]", "The elements without repeats, in first-seen order."),
    m!(Array Flatten() -> "[T]", "Nested arrays flattened one level."),
    m!(Array Join([sep: "String"]) -> "String", "The elements as text, separated by sep."),
    m!(Array Union(other: "[T]") -> "[T]", "The elements of both, without repeats."),
    m!(Array Intersection(other: "[T]") -> "[T]", "The elements also in other, without repeats."),
    m!(Array Difference(other: "[T]") -> "[T]", "The elements not in other, without repeats."),
    m!(Array Windows(n: "Int") -> "[[T]]", "Every run of n consecutive elements."),
    m!(Array Chunks(n: "Int") -> "[[T]]", "The elements in pieces of n (the last may be shorter)."),
    m!(Array Iter() -> "[T]", "The array itself (iteration is eager)."),
    m!(Array IntoIter() -> "[T]", "The array itself (iteration is eager)."),
    m!(Array ToArray() -> "[T]", "The array itself."),
    // ---- ranges (and every array method that does not change its receiver)
    m!(Range Contains(x: "Int") -> "Bool", "Whether x lies in the range."),
    m!(Range Len() -> "Int", "The number of elements."),
    m!(Range Count() -> "Int", "The number of elements."),
    m!(Range Start() -> "Int|nil", "The start (nil when open)."),
    m!(Range End() -> "Int|nil", "The end (nil when open)."),
    m!(Range Sort() -> "[Int]", "The elements as a sorted array."),
    m!(Range Reverse() -> "[Int]", "The elements as an array, in reverse order."),
    // ---- tuples
    m!(Tuple Len() -> "Int", "The number of elements."),
    m!(Tuple ToArray() -> "[T]", "The elements as an array."),
    m!(Tuple Iter() -> "[T]", "The elements as an array."),
    m!(Tuple Contains(x: "T") -> "Bool", "Whether an element equals x."),
    // ---- objects (keys are strings, in key order)
    m!(Object Keys() -> "[String]", "The keys, in order."),
    m!(Object Values() -> "[V]", "The values, in key order."),
    m!(Object Items() -> "[(String, V)]", "Pairs of key and value, in key order."),
    m!(Object Iter() -> "[(String, V)]", "Pairs of key and value, in key order (as items)."),
    m!(Object Len() -> "Int", "The number of keys."),
    m!(Object IsEmpty() -> "Bool", "Whether there are no keys."),
    m!(Object Get(key: "String") -> "Option<V>", "The value at key."),
    m!(Object ContainsKey(key: "String") -> "Bool", "Whether key is present."),
    m!(Object Contains(key: "String") -> "Bool", "Whether key is present (as contains_key)."),
    m!(mut Object Remove(key: "String") -> "Option<V>", "Removes key and returns its value."),
    m!(mut Object Insert(key: "String", value: "V") -> "Option<V>", "Sets key to value and returns the value it had."),
    m!(mut Object Clear() -> "nil", "Removes every key."),
    // ---- HashMap and BTreeMap (keys in key order)
    m!(Map Len() -> "Int", "The number of keys."),
    m!(Map IsEmpty() -> "Bool", "Whether there are no keys."),
    m!(Map Get(key: "K") -> "Option<V>", "The value at key."),
    m!(Map ContainsKey(key: "K") -> "Bool", "Whether key is present."),
    m!(Map Keys() -> "[K]", "The keys, in order."),
    m!(Map Values() -> "[V]", "The values, in key order."),
    m!(Map Iter() -> "[(K, V)]", "Pairs of key and value, in key order."),
    m!(Map IntoIter() -> "[(K, V)]", "Pairs of key and value, in key order (iteration is eager)."),
    m!(Map ToArray() -> "[(K, V)]", "Pairs of key and value, in key order."),
    m!(mut Map Insert(key: "K", value: "V") -> "Option<V>", "Sets key to value and returns the value it had."),
    m!(mut Map Remove(key: "K") -> "Option<V>", "Removes key and returns its value."),
    m!(mut Map OrInsert(key: "K", value: "V") -> "V", "map.entry(key).or_insert(value): the value at key, value put there first when there is none."),
    m!(mut Map Clear() -> "nil", "Removes every key."),
    // ---- HashSet and BTreeSet (in order)
    m!(Set Len() -> "Int", "The number of elements."),
    m!(Set IsEmpty() -> "Bool", "Whether there are no elements."),
    m!(Set Contains(x: "T") -> "Bool", "Whether x is an element."),
    m!(Set Iter() -> "[T]", "The elements, in order."),
    m!(Set IntoIter() -> "[T]", "The elements, in order (iteration is eager)."),
    m!(Set ToArray() -> "[T]", "The elements, in order."),
    m!(Set Union(other: "HashSet<T>") -> "HashSet<T>", "The elements of either."),
    m!(Set Intersection(other: "HashSet<T>") -> "HashSet<T>", "The elements of both."),
    m!(Set Difference(other: "HashSet<T>") -> "HashSet<T>", "The elements not in other."),
    m!(Set SymmetricDifference(other: "HashSet<T>") -> "HashSet<T>", "The elements of exactly one."),
    m!(Set IsSubset(other: "HashSet<T>") -> "Bool", "Whether every element is in other."),
    m!(Set IsSuperset(other: "HashSet<T>") -> "Bool", "Whether every element of other is here."),
    m!(Set IsDisjoint(other: "HashSet<T>") -> "Bool", "Whether no element is in other."),
    m!(mut Set Insert(x: "T") -> "Bool", "Adds x; whether it was new."),
    m!(mut Set Remove(x: "T") -> "Bool", "Removes x; whether it was there."),
    m!(mut Set Clear() -> "nil", "Removes every element."),
    // ---- VecDeque
    m!(Deque Len() -> "Int", "The number of elements."),
    m!(Deque IsEmpty() -> "Bool", "Whether there are no elements."),
    m!(Deque Front() -> "Option<T>", "The first element."),
    m!(Deque Back() -> "Option<T>", "The last element."),
    m!(Deque Get(i: "Int") -> "Option<T>", "The element at i."),
    m!(Deque Contains(x: "T") -> "Bool", "Whether an element equals x."),
    m!(Deque Iter() -> "[T]", "The elements, front to back."),
    m!(Deque IntoIter() -> "[T]", "The elements, front to back (iteration is eager)."),
    m!(Deque ToArray() -> "[T]", "The elements, front to back."),
    m!(mut Deque PushBack(x: "T") -> "nil", "Adds x at the back."),
    m!(mut Deque PushFront(x: "T") -> "nil", "Adds x at the front."),
    m!(mut Deque PopBack() -> "Option<T>", "Removes and returns the last element."),
    m!(mut Deque PopFront() -> "Option<T>", "Removes and returns the first element."),
    m!(mut Deque Clear() -> "nil", "Removes every element."),
    // ---- integers
    m!(Int Abs() -> "Int", "Absolute value (an error for the smallest integer)."),
    m!(Int Pow(exp: "Number") -> "Number", "The integer to the power exp (a float for a negative or float exp)."),
    m!(Int Min(other: "Number") -> "Number", "The smaller of the two."),
    m!(Int Max(other: "Number") -> "Number", "The larger of the two."),
    m!(Int Clamp(lo: "Number", hi: "Number") -> "Number", "The integer limited to lo..=hi."),
    m!(Int Signum() -> "Int", "-1, 0 or 1."),
    m!(Int IsPositive() -> "Bool", "Whether the integer is > 0."),
    m!(Int IsNegative() -> "Bool", "Whether the integer is < 0."),
    m!(Int ToFloat() -> "Float", "The integer as a float."),
    m!(Int AsFloat() -> "Float", "The integer as a float (as to_float)."),
    m!(Int ToInt() -> "Int", "The integer itself."),
    m!(Int Sqrt() -> "Float", "Square root."),
    m!(Int Cmp(other: "Number") -> "Int", "-1, 0 or 1 as the integer is less than, equal to or greater than other."),
    // ---- floats
    m!(Float Floor() -> "Float", "Rounded down."),
    m!(Float Ceil() -> "Float", "Rounded up."),
    m!(Float Round() -> "Float", "Rounded half away from zero."),
    m!(Float Trunc() -> "Float", "The integer part."),
    m!(Float Fract() -> "Float", "The fractional part."),
    m!(Float Abs() -> "Float", "Absolute value."),
    m!(Float Sqrt() -> "Float", "Square root."),
    m!(Float Exp() -> "Float", "e to the power of the float."),
    m!(Float Ln() -> "Float", "Natural logarithm."),
    m!(Float Log10() -> "Float", "Base-10 logarithm."),
    m!(Float Log2() -> "Float", "Base-2 logarithm."),
    m!(Float Sin() -> "Float", "Sine (radians)."),
    m!(Float Cos() -> "Float", "Cosine (radians)."),
    m!(Float Tan() -> "Float", "Tangent (radians)."),
    m!(Float Cbrt() -> "Float", "Cube root."),
    m!(Float Exp2() -> "Float", "2 to the power of the float."),
    m!(Float Log(base: "Number") -> "Float", "Logarithm to the given base."),
    m!(Float Asin() -> "Float", "Arcsine, in radians (NaN outside -1..=1)."),
    m!(Float Acos() -> "Float", "Arccosine, in radians (NaN outside -1..=1)."),
    m!(Float Atan() -> "Float", "Arctangent, in radians."),
    m!(Float Atan2(x: "Number") -> "Float", "The angle of the point (x, self) from the x axis, in radians (self is y)."),
    m!(Float Sinh() -> "Float", "Hyperbolic sine."),
    m!(Float Cosh() -> "Float", "Hyperbolic cosine."),
    m!(Float Tanh() -> "Float", "Hyperbolic tangent."),
    m!(Float Hypot(other: "Number") -> "Float", "The length of the hypotenuse: sqrt(self^2 + other^2) without overflow on the way."),
    m!(Float Signum() -> "Float", "-1.0 or 1.0 by the sign (NaN for NaN)."),
    m!(Float ToDegrees() -> "Float", "Radians to degrees."),
    m!(Float ToRadians() -> "Float", "Degrees to radians."),
    m!(Float Powf(exp: "Number") -> "Float", "The float to the power exp."),
    m!(Float Pow(exp: "Number") -> "Float", "The float to the power exp (as powf)."),
    m!(Float Min(other: "Number") -> "Float", "The smaller of the two."),
    m!(Float Max(other: "Number") -> "Float", "The larger of the two."),
    m!(Float Clamp(lo: "Number", hi: "Number") -> "Float", "The float limited to lo..=hi."),
    m!(Float IsNan() -> "Bool", "Whether the float is NaN."),
    m!(Float IsInfinite() -> "Bool", "Whether the float is infinite."),
    m!(Float IsFinite() -> "Bool", "Whether the float is neither infinite nor NaN."),
    m!(Float ToInt() -> "Int", "Truncated to an integer (an error for infinity and NaN)."),
    m!(Float AsInt() -> "Int", "Truncated to an integer (as to_int)."),
    m!(Float ToFloat() -> "Float", "The float itself."),
    m!(Float ToString() -> "String", "The float as text, Rust-style: 10.0 gives \"10\"."),
    // ---- booleans
    m!(Bool Then(f: "Fn() -> T") -> "Option<T>", "Some(f()) if true, else None (f not called)."),
    m!(Bool ThenSome(x: "T") -> "Option<T>", "Some(x) if true, else None."),
    // ---- Option<T>
    m!(Option IsSome() -> "Bool", "Whether it is Some."),
    m!(Option IsNone() -> "Bool", "Whether it is None."),
    m!(Option Unwrap() -> "T", "The value of Some; an error for None."),
    m!(Option Expect([message: "Any"]) -> "T", "The value of Some; for None an error with the message."),
    m!(Option UnwrapOr(default: "T") -> "T", "The value of Some, else default."),
    m!(Option UnwrapOrElse(f: "Fn() -> T") -> "T", "The value of Some, else f()."),
    m!(Option UnwrapOrDefault() -> "T|nil", "The value of Some, else nil."),
    m!(Option Map(f: "Fn(T) -> U") -> "Option<U>", "Some(f(x)) for Some(x); None stays None."),
    m!(Option AndThen(f: "Fn(T) -> Option<U>") -> "Option<U>", "f(x) for Some(x); None stays None."),
    m!(Option Or(other: "Option<T>") -> "Option<T>", "Itself if Some, else other."),
    m!(Option OrElse(f: "Fn() -> Option<T>") -> "Option<T>", "Itself if Some, else f()."),
    m!(Option Filter(f: "Fn(T) -> Bool") -> "Option<T>", "Itself if Some(x) and f(x) is true, else None."),
    m!(Option OkOr(err: "E") -> "Result<T, E>", "Ok(x) for Some(x), Err(err) for None."),
    // ---- Result<T, E>
    m!(Result IsOk() -> "Bool", "Whether it is Ok."),
    m!(Result IsErr() -> "Bool", "Whether it is Err."),
    m!(Result Unwrap() -> "T", "The value of Ok; an error for Err."),
    m!(Result Expect([message: "Any"]) -> "T", "The value of Ok; for Err an error with the message."),
    m!(Result UnwrapErr() -> "E", "The error of Err; an error for Ok."),
    m!(Result UnwrapOr(default: "T") -> "T", "The value of Ok, else default."),
    m!(Result UnwrapOrElse(f: "Fn(E) -> T") -> "T", "The value of Ok, else f(error)."),
    m!(Result UnwrapOrDefault() -> "T|nil", "The value of Ok, else nil."),
    m!(Result Map(f: "Fn(T) -> U") -> "Result<U, E>", "Ok(f(x)) for Ok(x); Err stays."),
    m!(Result MapErr(f: "Fn(E) -> F") -> "Result<T, F>", "Err(f(e)) for Err(e); Ok stays."),
    m!(Result AndThen(f: "Fn(T) -> Result<U, E>") -> "Result<U, E>", "f(x) for Ok(x); Err stays."),
    m!(Result Or(other: "Result<T, E>") -> "Result<T, E>", "Itself if Ok, else other."),
    m!(Result OrElse(f: "Fn(E) -> Result<T, F>") -> "Result<T, F>", "Itself if Ok, else f(error)."),
    m!(Result Ok() -> "Option<T>", "Some(x) for Ok(x), else None."),
    m!(Result Err() -> "Option<E>", "Some(e) for Err(e), else None."),
];

static METHODS: &[Entry] = METHOD_TABLE;

/// For each id: whether some method of that id changes its receiver.
const MUTATING: [bool; MethodId::COUNT] = {
    let mut table = [false; MethodId::COUNT];
    let mut i = 0;
    while i < METHOD_TABLE.len() {
        if let (true, Some(id)) = (METHOD_TABLE[i].mutates, METHOD_TABLE[i].id) {
            table[id as usize] = true;
        }
        i += 1;
    }
    table
};

/// Every built-in free function.
pub fn functions() -> &'static [Entry] {
    FUNCTIONS
}

/// Every built-in method, of every receiver (a range's array methods are the array's
/// entries: [`methods_of`] gives them).
pub fn methods() -> &'static [Entry] {
    METHODS
}

/// The free function of this name or alias.
pub fn function(name: &str) -> Option<&'static Entry> {
    FUNCTIONS.iter().find(|e| e.is_named(name))
}

/// The method `name` (or alias) of `recv`: its own, a range's array method, or one every
/// value has.
pub fn method(recv: Recv, name: &str) -> Option<&'static Entry> {
    let own = |r: Recv| {
        METHODS
            .iter()
            .find(|e| e.recv == Some(r) && e.is_named(name))
    };
    own(recv)
        .or_else(|| match recv {
            Recv::Range => own(Recv::Array).filter(|e| !e.mutates),
            _ => None,
        })
        .or_else(|| own(Recv::Any))
}

/// The methods of `recv` (as [`method`] finds them): its own, then inherited ones.
pub fn methods_of(recv: Recv) -> impl Iterator<Item = &'static Entry> {
    METHODS.iter().filter(move |e| {
        let applies = match e.recv {
            Some(r) if r == recv => return true,
            Some(Recv::Array) => recv == Recv::Range,
            Some(Recv::Any) => true,
            _ => false,
        };
        applies && method(recv, e.name).is_some_and(|m| std::ptr::eq(m, *e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_builtin_function_has_an_entry() {
        for b in Builtin::ALL {
            let e = function(b.name()).unwrap_or_else(|| panic!("no entry for {}", b.name()));
            assert_eq!(e.recv, None);
            assert_eq!(e.id, None);
        }
        for e in FUNCTIONS {
            for n in std::iter::once(&e.name).chain(e.aliases) {
                assert!(
                    Builtin::ALL.iter().any(|b| b.name() == *n),
                    "{n} is not a builtin"
                );
            }
        }
    }

    #[test]
    fn every_method_id_has_an_entry_and_names_agree() {
        for &id in MethodId::ALL {
            assert!(
                METHODS.iter().any(|e| e.id == Some(id)),
                "no entry for {id:?}"
            );
            assert_eq!(MethodId::lookup(id.name()), Some(id));
            for a in id.aliases() {
                assert_eq!(MethodId::lookup(a), Some(id), "{a}");
            }
        }
        for e in METHODS {
            assert!(e.recv.is_some() && e.id.is_some(), "{}", e.name);
            for n in std::iter::once(&e.name).chain(e.aliases) {
                assert_eq!(MethodId::lookup(n), e.id, "{n}");
            }
        }
        assert_eq!(MethodId::lookup("no_such_method"), None);
        assert_eq!(MethodId::ALL.len() + 1, MethodId::COUNT);
    }

    #[test]
    fn names_are_unique_per_receiver() {
        for &r in Recv::ALL {
            let mut seen = HashSet::new();
            for e in METHODS.iter().filter(|e| e.recv == Some(r)) {
                for n in std::iter::once(&e.name).chain(e.aliases) {
                    assert!(seen.insert(*n), "{n} twice for {r:?}");
                }
            }
            // the inherited ones too, as methods_of gives them
            let mut seen = HashSet::new();
            for e in methods_of(r) {
                for n in std::iter::once(&e.name).chain(e.aliases) {
                    assert!(seen.insert(*n), "{n} twice in methods_of({r:?})");
                }
            }
        }
        let mut seen = HashSet::new();
        for e in FUNCTIONS {
            for n in std::iter::once(&e.name).chain(e.aliases) {
                assert!(seen.insert(*n), "function {n} twice");
            }
        }
    }

    #[test]
    fn the_methods_that_change_their_receiver() {
        let mut names: Vec<&str> = MethodId::ALL
            .iter()
            .filter(|id| id.mutates())
            .flat_map(|id| std::iter::once(id.name()).chain(id.aliases().iter().copied()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "append",
                "clear",
                "dedup",
                "extend",
                "insert",
                "or_insert",
                "pop",
                "pop_back",
                "pop_front",
                "push",
                "push_back",
                "push_front",
                "push_str",
                "remove",
                "retain",
                "reverse",
                "sort",
                "sort_by",
                "sort_by_key",
                "swap",
                "truncate"
            ]
        );
        assert!(!MethodId::Unknown.mutates());
    }

    #[test]
    fn signatures() {
        let sig = |r, n| method(r, n).unwrap().signature();
        assert_eq!(
            sig(Recv::Str, "split"),
            "String.split(sep?: String) -> [String]"
        );
        assert_eq!(sig(Recv::Str, "upper"), "String.to_uppercase() -> String");
        assert_eq!(
            sig(Recv::Array, "fold"),
            "Array.reduce(f: Fn(A, T) -> A, init?: A) -> A"
        );
        assert_eq!(sig(Recv::Int, "to_string"), "Any.to_string() -> String");
        assert_eq!(sig(Recv::Float, "to_string"), "Float.to_string() -> String");
        assert_eq!(sig(Recv::Range, "map"), "Array.map(f: Fn(T) -> U) -> [U]");
        assert!(method(Recv::Range, "push").is_none());
        assert_eq!(
            function("len").unwrap().signature(),
            "len(x: String|[T]|Object) -> Int"
        );
        assert_eq!(
            function("type_of").unwrap().signature(),
            "typeof(x: Any) -> String"
        );
        assert_eq!(
            function("format").unwrap().signature(),
            "format(template: String, ...values: Any) -> String"
        );
        assert_eq!(
            function("histogram").unwrap().signature(),
            "histogram(values: [Number], bins?: Int, options?: Object) -> Chart"
        );
    }

    #[test]
    fn methods_of_receivers() {
        let any: Vec<&str> = methods_of(Recv::Any).map(|e| e.name).collect();
        assert_eq!(any, ["to_string", "clone"]);
        assert!(methods_of(Recv::Range).any(|e| e.name == "map"));
        assert!(!methods_of(Recv::Range).any(|e| e.name == "push"));
        assert!(methods_of(Recv::Int).any(|e| e.name == "clone"));
    }
}
