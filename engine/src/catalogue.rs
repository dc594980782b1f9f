//! A first catalogue (a handful of entries) that completion and inspection read; the full
//! catalogue of every built-in function and method replaces it in the next change.
use crate::value::Value;
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recv {
    Str,
    Array,
    Range,
    Tuple,
    Object,
    Int,
    Float,
    Bool,
    Option,
    Result,
    Any,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodId {
    X,
}
pub struct Param {
    pub name: &'static str,
    pub ty: &'static str,
    pub optional: bool,
}
pub struct Entry {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub recv: Option<Recv>,
    pub params: &'static [Param],
    pub returns: &'static str,
    pub mutates: bool,
    pub doc: &'static str,
    pub id: Option<MethodId>,
}
static F: &[Entry] = &[Entry {
    name: "len",
    aliases: &[],
    recv: None,
    params: &[Param {
        name: "x",
        ty: "String|[T]|Object",
        optional: false,
    }],
    returns: "Int",
    mutates: false,
    doc: "Length.",
    id: None,
}];
static M: &[Entry] = &[
    Entry {
        name: "push",
        aliases: &[],
        recv: Some(Recv::Array),
        params: &[Param {
            name: "x",
            ty: "T",
            optional: false,
        }],
        returns: "nil",
        mutates: true,
        doc: "Adds x at the end.",
        id: None,
    },
    Entry {
        name: "len",
        aliases: &[],
        recv: Some(Recv::Array),
        params: &[],
        returns: "Int",
        mutates: false,
        doc: "Number of elements.",
        id: None,
    },
    Entry {
        name: "split",
        aliases: &[],
        recv: Some(Recv::Str),
        params: &[Param {
            name: "sep",
            ty: "String",
            optional: true,
        }],
        returns: "[String]",
        mutates: false,
        doc: "Splits.",
        id: None,
    },
    Entry {
        name: "to_string",
        aliases: &[],
        recv: Some(Recv::Any),
        params: &[],
        returns: "String",
        mutates: false,
        doc: "Text.",
        id: None,
    },
];
pub fn functions() -> &'static [Entry] {
    F
}
pub fn methods() -> &'static [Entry] {
    M
}
pub fn function(name: &str) -> Option<&'static Entry> {
    F.iter()
        .find(|e| e.name == name || e.aliases.contains(&name))
}
pub fn method(recv: Recv, name: &str) -> Option<&'static Entry> {
    methods_of(recv).find(|e| e.name == name || e.aliases.contains(&name))
}
pub fn methods_of(recv: Recv) -> impl Iterator<Item = &'static Entry> {
    M.iter()
        .filter(move |e| e.recv == Some(recv) || e.recv == Some(Recv::Any))
}
pub fn recv_of(v: &Value) -> Option<Recv> {
    Some(match v {
        Value::Str(_) => Recv::Str,
        Value::Array(_) => Recv::Array,
        Value::Int(_) => Recv::Int,
        Value::Object(_) => Recv::Object,
        _ => return None,
    })
}
impl Entry {
    pub fn signature(&self) -> String {
        format!(
            "{}({})",
            self.name,
            self.params
                .iter()
                .map(|p| format!("{}: {}", p.name, p.ty))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
