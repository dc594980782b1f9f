//! The bytecode: instruction set and function prototypes.
//!
//! A register machine in the style of Lua 5.4. Each function activation owns a window of
//! registers `R[0..nregs]` in one shared register file; parameters arrive in `R[0..arity]`
//! (for a method, `self` is `R[0]`). A call puts the callee in `R[base]` and its arguments in
//! `R[base+1..]`; the callee's window starts at `base+1`, so arguments are never copied, and
//! the result lands in `R[base]`.
//!
//! Jump offsets are relative to the instruction after the jump. Operands named `a`, `b`,
//! `src`, `dst` are registers; `slot` indexes the session's globals; `name`, `desc`, `idx`
//! index the prototype's `names`, `descs` and `consts`. Every instruction is 12 bytes or less.

use crate::catalogue::MethodId;
use crate::value::{TypeId, Value};
use ruchy_syntax::ast::SelfKind;
use ruchy_syntax::diagnostic::Span;
use ruchy_syntax::template::FormatSpec;
use std::rc::Rc;

pub type Reg = u16;

/// The `cmp` of [`Op::JumpIfNotCmpImm`]: a mask of the orderings for which the comparison
/// holds (bit 0 less, bit 1 equal, bit 2 greater), so the VM tests one bit.
pub const CMP_LT: u8 = 0b001;
pub const CMP_LE: u8 = 0b011;
pub const CMP_GT: u8 = 0b100;
pub const CMP_GE: u8 = 0b110;
pub const CMP_EQ: u8 = 0b010;
pub const CMP_NE: u8 = 0b101;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    // ---- loads and moves
    /// `R[dst] = R[src]`
    Move {
        dst: Reg,
        src: Reg,
    },
    /// `R[dst] = nil`
    LoadNil {
        dst: Reg,
    },
    /// `R[dst] = value`
    LoadBool {
        dst: Reg,
        value: bool,
    },
    /// `R[dst] = value` (small integers inline)
    LoadInt {
        dst: Reg,
        value: i32,
    },
    /// `R[dst] = consts[idx]`
    LoadConst {
        dst: Reg,
        idx: u32,
    },
    /// `R[dst] = <undefined>` (a hoisted local function not yet defined)
    LoadUndef {
        dst: Reg,
    },

    // ---- variables
    /// `R[dst] = globals[slot]`; error `Undefined variable` if unset.
    GetGlobal {
        dst: Reg,
        slot: u32,
    },
    /// As `GetGlobal` in callee position; error `Undefined function`.
    GetGlobalFn {
        dst: Reg,
        slot: u32,
    },
    /// `globals[slot] = R[src]` (the old value is logged for rollback of a failing cell).
    SetGlobal {
        slot: u32,
        src: Reg,
    },
    /// `globals[slot] = globals[slot] op R[src]`, in place (a string or array is appended to
    /// without a copy); `op` is a [`ruchy_syntax::ast::BinOp`] as `u8`.
    UpdateGlobal {
        slot: u32,
        op: u8,
        src: Reg,
    },
    /// `globals[slot] = globals[slot] op consts[k]`: `n += 1`, `y = y + 0.25` on a global
    /// with a number constant (Lua's K operands).
    UpdateGlobalK {
        slot: u32,
        op: u8,
        k: u16,
    },
    /// `R[dst] = *upvals[idx]`
    GetUpval {
        dst: Reg,
        idx: u16,
    },
    /// `*upvals[idx] = R[src]`
    SetUpval {
        idx: u16,
        src: Reg,
    },
    /// `R[reg] = new box holding R[reg]`: the local is captured by a closure.
    NewBox {
        reg: Reg,
    },
    /// `R[dst] = *R[boxed]`
    GetBox {
        dst: Reg,
        boxed: Reg,
    },
    /// `*R[boxed] = R[src]`
    SetBox {
        boxed: Reg,
        src: Reg,
    },
    /// `R[dst] = the running closure` (a nested function calling itself).
    LoadSelf {
        dst: Reg,
    },

    // ---- arithmetic, comparison, bitwise: `R[dst] = R[a] op R[b]`
    /// With `own`, `R[a]` is a temporary the instruction may take: a string or an array on
    /// the left is appended to in place (`f(x) + [p] + g(y)`, `"a" + s + "b"`), not copied.
    Add {
        dst: Reg,
        a: Reg,
        b: Reg,
        own: bool,
    },
    Sub {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Mul {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Div {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Rem {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Pow {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    BitAnd {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    BitOr {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    BitXor {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Shl {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Shr {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Eq {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Ne {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Lt {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Le {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Gt {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Ge {
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// `R[dst] = R[a] + imm`, or `R[a] - imm` when `sub` (for the overflow message).
    AddImm {
        dst: Reg,
        a: Reg,
        imm: i16,
        sub: bool,
    },
    /// `R[dst] = R[a] op consts[k]` with a number constant: `i % 3`, `x * 0.5`, or a string
    /// constant added: `s + "x"` (appended in place when `dst == a`); `op` is a
    /// [`ruchy_syntax::ast::BinOp`] as `u8` (`+ - * / % **`).
    ArithK {
        dst: Reg,
        a: Reg,
        op: u8,
        k: u16,
    },
    /// `R[dst] = -R[src]`
    Neg {
        dst: Reg,
        src: Reg,
    },
    /// `R[dst] = !truthy(R[src])`
    Not {
        dst: Reg,
        src: Reg,
    },
    /// `R[dst] = ~R[src]`
    BitNot {
        dst: Reg,
        src: Reg,
    },

    // ---- control flow
    /// `pc += off`
    Jump {
        off: i32,
    },
    /// Backward jump of a loop: `pc += off`, charging the step budget.
    Loop {
        off: i32,
    },
    /// `if !truthy(R[cond]) { pc += off }`
    JumpIfFalse {
        cond: Reg,
        off: i32,
    },
    /// `if truthy(R[cond]) { pc += off }`
    JumpIfTrue {
        cond: Reg,
        off: i32,
    },
    /// `if R[src] != nil { pc += off }`
    JumpIfNotNil {
        src: Reg,
        off: i32,
    },
    /// `if !(R[a] < R[b]) { pc += off }` (fused compare and branch)
    JumpIfNotLt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// `if !(R[a] <= R[b]) { pc += off }`
    JumpIfNotLe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// `if !(R[a] > R[b]) { pc += off }`
    JumpIfNotGt {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// `if !(R[a] >= R[b]) { pc += off }`
    JumpIfNotGe {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// `if !(R[a] cmp imm) { pc += off }` (a loop or recursion bound, `i % 3 == 0`); `cmp` is
    /// one of the `CMP_*` masks: the orderings of `R[a]` against `imm` for which it holds.
    JumpIfNotCmpImm {
        a: Reg,
        imm: i32,
        cmp: u8,
        off: i32,
    },
    /// `if !(R[a] == R[b]) { pc += off }`
    JumpIfNotEq {
        a: Reg,
        b: Reg,
        off: i32,
    },
    /// `if !(R[a] != R[b]) { pc += off }`
    JumpIfNotNe {
        a: Reg,
        b: Reg,
        off: i32,
    },

    // ---- calls
    /// `R[base] = R[base](R[base+1], .., R[base+argc])`
    Call {
        base: Reg,
        argc: u8,
    },
    /// `R[base] = globals[slot](R[base+1], .., R[base+argc])`: a call of a top-level
    /// function, without loading it into a register; error `Undefined function` if unset.
    CallGlobal {
        base: Reg,
        argc: u8,
        slot: u32,
    },
    /// `R[base] = R[base+1].names[name](R[base+2], ..)`; the receiver is a temporary. `id`:
    /// the built-in method of that name, resolved once by the compiler (`Unknown` for a name
    /// no built-in method has); a user method of the receiver's type (looked up by name) comes
    /// first.
    CallMethod {
        base: Reg,
        argc: u8,
        id: MethodId,
        name: u32,
    },
    /// As `CallMethod`, with the receiver read from (and, for mutating methods, written back
    /// to) the place of `descs[place]`, a `Desc::MethodPlace` that also holds the name;
    /// `R[base+1]` is scratch.
    CallMethodPlace {
        base: Reg,
        argc: u8,
        id: MethodId,
        place: u32,
    },
    /// Returns `R[src]` to the caller.
    Return {
        src: Reg,
    },
    /// Parameter default: `if R[reg] is not <missing> { pc += off }`.
    SkipIfArg {
        reg: Reg,
        off: i32,
    },

    // ---- construction
    /// `R[dst] = [R[base], .., R[base+n-1]]`
    MakeArray {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    /// `R[dst] = (R[base], .., R[base+n-1])`
    MakeTuple {
        dst: Reg,
        base: Reg,
        n: u16,
    },
    /// `R[dst] = {keys[i]: R[base+i]}` with the keys in `descs[keys]`.
    MakeObject {
        dst: Reg,
        base: Reg,
        n: u16,
        keys: u32,
    },
    /// `R[dst] = Name { field_i: R[base+i] }` per `descs[desc]`.
    MakeStruct {
        dst: Reg,
        base: Reg,
        desc: u32,
    },
    /// `R[dst] = [R[value]; R[count]]`
    ArrayRepeat {
        dst: Reg,
        value: Reg,
        count: Reg,
    },
    /// `Rc::make_mut(R[arr]).push(R[src])` (comprehensions, lambdas run in place), growing
    /// as the memory limit allows
    ArrayPush {
        arr: Reg,
        src: Reg,
    },
    /// `R[dst] = R[start]..R[end]`; `flags`: 1 inclusive, 2 has start, 4 has end.
    MakeRange {
        dst: Reg,
        start: Reg,
        end: Reg,
        flags: u8,
    },
    /// `R[dst] = closure of protos[proto]`, capturing per its `captures`.
    MakeClosure {
        dst: Reg,
        proto: u32,
    },
    /// `R[dst] = f-string descs[desc]` with its holes' values in `R[base..]`.
    FString {
        dst: Reg,
        base: Reg,
        desc: u32,
    },

    // ---- access
    /// `R[dst] = R[obj][R[index]]` (arrays, strings, tuples, objects; ranges slice)
    GetIndex {
        dst: Reg,
        obj: Reg,
        index: Reg,
    },
    /// `R[dst] = globals[slot][R[index]]` without copying the global out first (`counts[w]`,
    /// `b[k]` on a session variable); `descs[at]` is a `Desc::Span`, the variable's span for
    /// `Undefined variable`.
    GetIndexGlobal {
        dst: Reg,
        index: Reg,
        at: u16,
        slot: u32,
    },
    /// `R[dst] = R[obj].names[name]`
    GetField {
        dst: Reg,
        obj: Reg,
        name: u32,
    },
    /// `R[dst] = R[obj].index` (tuples and tuple structs)
    GetTupleField {
        dst: Reg,
        obj: Reg,
        index: u32,
    },
    /// `R[dst] = Type::member` per `descs[desc]` (variants, associated functions).
    GetPath {
        dst: Reg,
        desc: u32,
    },
    /// `place = R[src]` for the place `descs[place]` (`a[i].x = v`).
    StorePlace {
        place: u32,
        src: Reg,
    },
    /// `R[dst] = place` (read for compound assignment to a place).
    LoadPlace {
        dst: Reg,
        place: u32,
    },

    // ---- pattern matching
    /// If `R[src]` is not the variant / tuple struct `descs[desc]` with its arity, `pc += off`.
    TestVariant {
        src: Reg,
        desc: u32,
        off: i32,
    },
    /// If `R[src]` is not a tuple of `n` elements, `pc += off`.
    TestTuple {
        src: Reg,
        n: u16,
        off: i32,
    },
    /// If `R[src]` is not an array of `n` (or, with `at_least`, at least `n`) elements, `pc += off`.
    TestList {
        src: Reg,
        n: u16,
        at_least: bool,
        off: i32,
    },
    /// If `R[src]` is not in the range of `descs[desc]`, `pc += off` (never an error).
    TestRange {
        src: Reg,
        desc: u32,
        off: i32,
    },
    /// `R[dst] = element idx of R[src]` (tuple, array, variant payload, struct field); from the
    /// end when `from_end`.
    GetElem {
        dst: Reg,
        src: Reg,
        idx: u16,
        from_end: bool,
    },
    /// `R[dst] = R[src][start..len-end]` (list pattern rest)
    SliceRest {
        dst: Reg,
        src: Reg,
        start: u16,
        end: u16,
    },
    /// Error `No match arm matched the value` (a `match`), or `The pattern does not match
    /// the value` (`binding`: a `let`, a `for` or a parameter pattern).
    MatchFail {
        src: Reg,
        binding: bool,
    },

    // ---- iteration
    /// Prepares `R[src]` for `IterNext`: ranges and arrays as they are, strings to their
    /// characters, objects to `(key, value)` tuples; `R[src+1] = 0`.
    IterPrep {
        src: Reg,
    },
    /// Next element of `R[src]` at position `R[src+1]` into `R[dst]`, or `pc += off` when done.
    IterNext {
        src: Reg,
        dst: Reg,
        off: i32,
    },
    /// A lambda run in place (`xs.map(|x| ..)`): if `R[src]` is an array, `R[src+1] = 0` for
    /// `IterNext` and, with `reserve`, `R[acc]` an empty array with room for as many elements
    /// (asked of the memory limit first); otherwise `pc += off`, to the ordinary method call.
    IterArray {
        src: Reg,
        acc: Reg,
        reserve: bool,
        off: i32,
    },
    /// Counting loop head: `R[base]` start, `R[base+1]` end (integers); if the range is empty
    /// `pc += off`.
    ForPrep {
        base: Reg,
        inclusive: bool,
        off: i32,
    },
    /// Counting loop step: if another value follows, `R[base] += 1` and `pc += off` (backward).
    ForNext {
        base: Reg,
        inclusive: bool,
        off: i32,
    },

    // ---- errors
    /// Installs a handler: an error until `TryEnd` jumps to `pc + off` with the error in `R[err]`.
    TryBegin {
        err: Reg,
        off: i32,
    },
    /// Removes the innermost handler.
    TryEnd,
    /// Raises `R[src]` as an exception.
    Throw {
        src: Reg,
    },
    /// Raises again the error last caught (after a `finally` block).
    Rethrow {
        src: Reg,
    },
    /// `expr?`: `Ok(v)`/`Some(v)` give `v`; `Err`/`None` return from the function.
    Question {
        dst: Reg,
        src: Reg,
    },
    /// Checks `R[reg]` against the annotation `descs[desc]` (decision D24).
    CheckType {
        reg: Reg,
        desc: u32,
    },
    /// `R[dst] = R[src] as T` for the cast kind `descs[desc]`.
    Cast {
        dst: Reg,
        src: Reg,
        desc: u32,
    },

    // ---- definitions
    /// Defines the struct or enum `descs[desc]`; `R[dst]` = the type value. A struct with
    /// field defaults has them in `R[defaults..]`, one register per field (`<undef>` for a
    /// field without one); `defaults` is `Reg::MAX` for none.
    DefType {
        dst: Reg,
        desc: u32,
        defaults: Reg,
    },
    /// Adds the methods of `descs[desc]` (closures in `R[base..]`) to their type.
    DefImpl {
        base: Reg,
        desc: u32,
    },
}

/// Where a captured variable of a new closure comes from, in the enclosing function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Capture {
    /// The box in the enclosing function's register.
    Local(Reg),
    /// A copy of the value in the enclosing function's register, in a box of its own (a
    /// variable that never changes, [`crate::resolver::BindInfo::boxed`]).
    Value(Reg),
    /// The enclosing closure's own upvalue.
    Upval(u16),
}

/// The root of an assignable place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Root {
    Local(Reg),
    Boxed(Reg),
    Global(u32),
    Upval(u16),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Field(Rc<str>),
    Tuple(u32),
    Index(Reg),
}

/// An assignable place: `root.step.step...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub root: Root,
    pub steps: Vec<Step>,
    /// Source name of the root, for messages.
    pub name: Rc<str>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FSeg {
    Text(Rc<str>),
    Hole(Option<FormatSpec>),
}

/// The annotation kinds checked at run time (D24).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Int,
    Float,
    Bool,
    Str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastKind {
    Int,
    Float,
    Str,
    Bool,
    Char,
    /// Casts to other types leave the value as it is (`x as MyType`).
    Keep,
}

/// A method in an `impl` block: its name, how it takes `self`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImplMethod {
    pub name: Rc<str>,
    pub self_kind: SelfKind,
}

/// Operand descriptors too large for an instruction.
#[derive(Clone, Debug)]
pub enum Desc {
    Place(Place),
    /// The receiver place of a `CallMethodPlace` and the method's name (`names[name]`).
    MethodPlace {
        place: Place,
        name: u32,
    },
    Keys(Vec<Rc<str>>),
    StructLit {
        name: Rc<str>,
        fields: Vec<Rc<str>>,
        has_base: bool,
        /// What the last run found, valid while the session's types are at that version:
        /// the type's id and whether the literal gives every field in declaration order.
        cache: std::cell::Cell<Option<(u32, TypeId, bool)>>,
    },
    FString(Vec<FSeg>),
    /// A variant or tuple-struct pattern: path and arity (`None`: a bare path).
    VariantPat {
        path: Vec<Rc<str>>,
        arity: Option<u16>,
        /// Struct-pattern field names: elements are extracted by these names.
        fields: Option<Vec<Rc<str>>>,
        /// For a bare name (`MAX`): the global it may name, compared with `==` when the
        /// value is not a variant.
        constant: Option<u32>,
    },
    RangePat {
        lo: Option<Value>,
        hi: Option<Value>,
        inclusive: bool,
    },
    Path(Vec<Rc<str>>),
    Check {
        kind: Checked,
        annotation: Rc<str>,
    },
    Cast(CastKind),
    /// The span of part of an instruction's expression (a variable of `GetIndexGlobal`).
    Span(Span),
    Struct(Rc<ruchy_syntax::ast::StructDef>),
    Enum(Rc<ruchy_syntax::ast::EnumDef>),
    Impl {
        type_name: Rc<str>,
        trait_name: Option<Rc<str>>,
        methods: Vec<ImplMethod>,
    },
}

/// A field found by name in a struct type: (types version, type, field index).
pub type FieldSlot = (u32, TypeId, u32);

/// A compiled function (or cell).
#[derive(Debug)]
pub struct Proto {
    pub name: Rc<str>,
    /// Declared parameters, `self` included.
    pub arity: u16,
    /// Parameters without a default value, `self` included.
    pub min_arity: u16,
    pub self_kind: Option<SelfKind>,
    /// Size of the register window.
    pub nregs: u16,
    /// The instructions; an `Rc` so the VM can hold them while it switches frames.
    pub code: Rc<[Op]>,
    /// Source span of each instruction, for errors.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<str>>,
    /// For `GetField` with `names[i]`: the struct type it last read and that field's index,
    /// valid while the session's types are at the version beside them.
    pub field_cache: Box<[std::cell::Cell<Option<FieldSlot>>]>,
    pub descs: Vec<Desc>,
    /// Functions defined inside this one.
    pub protos: Vec<Rc<Proto>>,
    /// How this function's closures capture, from the enclosing function.
    pub captures: Vec<Capture>,
    /// The session cell this was compiled in (error spans point into that cell's source).
    pub cell: u32,
}

impl Default for Proto {
    fn default() -> Self {
        Proto {
            name: "".into(),
            arity: 0,
            min_arity: 0,
            self_kind: None,
            nregs: 0,
            code: Rc::from(Vec::new()),
            spans: Vec::new(),
            consts: Vec::new(),
            names: Vec::new(),
            field_cache: Box::new([]),
            descs: Vec::new(),
            protos: Vec::new(),
            captures: Vec::new(),
            cell: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn instructions_are_at_most_12_bytes() {
        assert!(std::mem::size_of::<super::Op>() <= 12);
    }
}
