//! What a notebook frontend asks of a session while the user types, without running anything:
//! completion, inspection (hover, Shift+Tab), whether a cell is complete (a console's Enter),
//! and the list of variables.
//!
//! None of these runs code or changes the session, and each answers on any text (half a line,
//! a syntax error, a megabyte): they read the text around the cursor with a small scanner of
//! their own (names, dots, string and comment state on the cursor's line), not the parser,
//! and look names up in the session's globals, its types and the [`ruchy_runtime::catalogue`].

use crate::session::Session;
use ruchy_runtime::bundle::shorten;
use ruchy_runtime::catalogue::{self, Entry, Recv};
use ruchy_runtime::display::display;
use ruchy_runtime::value::{TypeKind, Types, Value};
use ruchy_syntax::diagnostic::Span;
use ruchy_syntax::lexer::KEYWORDS;
use std::collections::HashSet;
use std::fmt::Write;

/// What a completion candidate is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompletionKind {
    Field,
    Variable,
    Method,
    Function,
    Type,
    Keyword,
}

impl CompletionKind {
    /// The kind's name in the WIT (`variable`, `function`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CompletionKind::Field => "field",
            CompletionKind::Variable => "variable",
            CompletionKind::Method => "method",
            CompletionKind::Function => "function",
            CompletionKind::Type => "type",
            CompletionKind::Keyword => "keyword",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completions {
    /// The partial name the chosen candidate replaces (empty at the cursor when none).
    pub replace: Span,
    pub items: Vec<Completion>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    pub span: Span,
    pub markdown: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// The indent to continue with.
    Incomplete(String),
    Invalid,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub name: String,
    pub type_name: String,
    pub display: String,
}

/// Characters a variable's display is shortened to.
const SHORT: usize = 100;
/// Built-in type names offered where a name is expected.
const TYPE_NAMES: &[&str] = &[
    "Int", "Float", "String", "Bool", "Option", "Result", "Vec", "i64", "f64", "bool", "str",
];

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The largest char boundary at or before `i` (clamped to the text).
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Start of the identifier that ends at `end`.
fn word_start(s: &str, end: usize) -> usize {
    s[..end]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident(*c))
        .last()
        .map_or(end, |(i, _)| i)
}

/// End of the identifier that starts at or before `start`.
fn word_end(s: &str, start: usize) -> usize {
    s[start..]
        .char_indices()
        .find(|(_, c)| !is_ident(*c))
        .map_or(s.len(), |(i, _)| start + i)
}

/// Whether `at` (on its line) is code: not inside a string or after `//`. An f-string's
/// `{...}` hole is code. Block comments and strings spanning lines are not tracked.
fn in_code(s: &str, at: usize) -> bool {
    let line_start = s[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &s[line_start..at];
    // (quote, is f-string, depth of `{` holes)
    let mut string: Option<(char, bool, u32)> = None;
    let mut chars = line.chars().peekable();
    let mut prev = '\0';
    while let Some(c) = chars.next() {
        match &mut string {
            None => match c {
                '/' if chars.peek() == Some(&'/') => return false,
                '"' | '\'' => string = Some((c, prev == 'f', 0)),
                _ => {}
            },
            Some((q, f, depth)) => {
                if *depth > 0 {
                    match c {
                        '{' => *depth += 1,
                        '}' => *depth -= 1,
                        _ => {}
                    }
                } else if c == '\\' {
                    chars.next();
                } else if c == *q {
                    string = None;
                } else if c == '{' && *f {
                    if chars.peek() == Some(&'{') {
                        chars.next();
                    } else {
                        *depth = 1;
                    }
                }
            }
        }
        prev = c;
    }
    match string {
        None => true,
        Some((_, _, depth)) => depth > 0,
    }
}

/// The receiver of a member access whose dot is at `dot`: what can be known without running.
enum Receiver {
    Value(Value),
    Builtin(Recv),
    Unknown,
}

impl Session {
    fn global(&self, name: &str) -> Option<&Value> {
        let slot = self.globals.get(name)? as usize;
        match self.vm.globals.get(slot) {
            None | Some(Value::Undef) => None,
            Some(v) => Some(v),
        }
    }

    /// What stands before the dot at `dot`: a chain of names (`p.pos.x`) starting at a session
    /// binding, or a literal.
    fn receiver(&self, s: &str, dot: usize) -> Receiver {
        let before = s[..dot].trim_end_matches([' ', '\t']);
        let end = before.len();
        match before.chars().next_back() {
            Some('"') | Some('\'') => return Receiver::Builtin(Recv::Str),
            Some(']') => return Receiver::Unknown,
            Some(c) if c.is_ascii_digit() => {
                let start = word_start(s, end);
                return if s[start..end]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '_')
                {
                    Receiver::Builtin(Recv::Int)
                } else {
                    Receiver::Unknown
                };
            }
            _ => {}
        }
        // a chain of names: a.b.c
        let mut names = Vec::new();
        let mut end = end;
        loop {
            let start = word_start(s, end);
            if start == end {
                return Receiver::Unknown;
            }
            names.push(&s[start..end]);
            match s[..start].strip_suffix('.') {
                Some(rest) if !rest.ends_with('.') && names.len() < 32 => end = rest.len(),
                _ => break,
            }
        }
        names.reverse();
        let Some(mut v) = self.global(names[0]).cloned() else {
            return Receiver::Unknown;
        };
        for name in &names[1..] {
            let next = match &v {
                Value::Object(m) => m.get(*name).cloned(),
                Value::Struct(st) => self
                    .vm
                    .types
                    .get(st.ty)
                    .and_then(|d| d.field_index(name))
                    .and_then(|i| st.fields.get(i).cloned()),
                _ => None,
            };
            match next {
                Some(n) => v = n,
                None => return Receiver::Unknown,
            }
        }
        Receiver::Value(v)
    }

    /// Completion at `cursor` (a byte offset into `source`).
    pub fn complete(&self, source: &str, cursor: usize) -> Completions {
        let cursor = floor(source, cursor);
        let start = word_start(source, cursor);
        let prefix = &source[start..cursor];
        let replace = Span::new(start as u32, cursor as u32);
        let mut items = Vec::new();
        if !in_code(source, start) || prefix.starts_with(|c: char| c.is_ascii_digit()) {
            return Completions { replace, items };
        }
        let is_member = source[..start].ends_with('.') && !source[..start].ends_with("..");
        if is_member {
            self.member_candidates(source, start - 1, prefix, &mut items);
        } else {
            self.name_candidates(prefix, &mut items);
        }
        Completions { replace, items }
    }

    fn member_candidates(&self, s: &str, dot: usize, prefix: &str, items: &mut Vec<Completion>) {
        let types = &self.vm.types;
        // (a candidate's detail is made only once its label matches: most do not)
        let mut seen: HashSet<String> = HashSet::new();
        let mut wanted = |label: &str| label.starts_with(prefix) && seen.insert(label.to_string());
        let recv = match self.receiver(s, dot) {
            Receiver::Value(v) => {
                match &v {
                    Value::Object(m) => {
                        for (k, x) in m.iter() {
                            if k.chars().all(is_ident) && wanted(k) {
                                items.push(candidate(
                                    k,
                                    CompletionKind::Field,
                                    type_label(x, types),
                                ));
                            }
                        }
                    }
                    Value::Struct(st) => {
                        if let Some(d) = types.get(st.ty) {
                            if let TypeKind::Struct { fields, .. } = &d.kind {
                                for (f, x) in fields.iter().zip(&st.fields) {
                                    if wanted(f) {
                                        let detail = type_label(x, types);
                                        items.push(candidate(f, CompletionKind::Field, detail));
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
                if let Some(d) = user_type(&v).and_then(|ty| types.get(ty)) {
                    let mut names: Vec<_> = d.methods.keys().collect();
                    ruchy_runtime::sort::sort_by(&mut names, |a, b| a < b);
                    for m in names {
                        if wanted(m) {
                            let detail = self
                                .signatures
                                .get(&format!("{}.{m}", d.name) as &str)
                                .map_or_else(|| format!("method of {}", d.name), |s| s.to_string());
                            items.push(candidate(m, CompletionKind::Method, detail));
                        }
                    }
                }
                ruchy_runtime::value::recv_of(&v)
            }
            Receiver::Builtin(r) => Some(r),
            Receiver::Unknown => None,
        };
        let mut entries: Vec<&Entry> = match recv {
            Some(r) => catalogue::methods_of(r).collect(),
            None => catalogue::methods().iter().collect(),
        };
        // only those a name or an alias of which is offered, then by name and in the
        // catalogue's order (where entries lie in memory)
        entries.retain(|e| {
            e.name.starts_with(prefix) || e.aliases.iter().any(|a| a.starts_with(prefix))
        });
        let at = |e: &&Entry| *e as *const Entry as usize;
        ruchy_runtime::sort::sort_by(&mut entries, |a, b| (a.name, at(a)) < (b.name, at(b)));
        for e in &entries {
            if wanted(e.name) {
                items.push(candidate(e.name, CompletionKind::Method, e.signature()));
            }
        }
        // an alias is offered when it matches and its canonical name does not
        if !prefix.is_empty() {
            for e in &entries {
                for a in e.aliases {
                    if wanted(a) {
                        items.push(candidate(a, CompletionKind::Method, e.signature()));
                    }
                }
            }
        }
    }

    fn name_candidates(&self, prefix: &str, items: &mut Vec<Completion>) {
        let types = &self.vm.types;
        let builtins = self.builtin_globals;
        let mut users = Vec::new();
        let mut index = self.name_index.borrow_mut();
        index.refresh(&self.globals);
        for (name, slot) in index.with_prefix(prefix) {
            let slot = slot as usize;
            if slot < builtins {
                continue;
            }
            let Some(v) = self.vm.globals.get(slot) else {
                continue;
            };
            let (kind, detail) = match v {
                Value::Undef => continue,
                Value::Func(_) | Value::Builtin(_) => (
                    CompletionKind::Function,
                    self.signatures
                        .get(name)
                        .map_or_else(|| "function".to_string(), |s| s.to_string()),
                ),
                Value::Type(_) => (CompletionKind::Type, type_label(v, types)),
                _ => (CompletionKind::Variable, type_label(v, types)),
            };
            users.push(Completion {
                label: name.to_string(),
                kind,
                detail,
            });
        }
        ruchy_runtime::sort::sort_by(&mut users, |a, b| (a.kind, &a.label) < (b.kind, &b.label));
        items.extend(users);
        let shadowed = |n: &str| {
            self.globals
                .get(n)
                .is_some_and(|slot| slot as usize >= builtins)
        };
        for e in catalogue::functions() {
            for name in std::iter::once(&e.name).chain(e.aliases) {
                if name.starts_with(prefix) && !shadowed(name) {
                    items.push(Completion {
                        label: name.to_string(),
                        kind: CompletionKind::Function,
                        detail: e.signature(),
                    });
                }
            }
        }
        for t in TYPE_NAMES {
            if t.starts_with(prefix) && !shadowed(t) {
                items.push(Completion {
                    label: t.to_string(),
                    kind: CompletionKind::Type,
                    detail: "built-in type".into(),
                });
            }
        }
        for (name, detail) in [
            ("Some", "Option: Some(value)"),
            ("None", "Option: no value"),
            ("Ok", "Result: Ok(value)"),
            ("Err", "Result: Err(error)"),
        ] {
            if name.starts_with(prefix) && !shadowed(name) {
                items.push(Completion {
                    label: name.into(),
                    kind: CompletionKind::Function,
                    detail: detail.into(),
                });
            }
        }
        for k in KEYWORDS {
            if k.starts_with(prefix) {
                items.push(Completion {
                    label: k.to_string(),
                    kind: CompletionKind::Keyword,
                    detail: "keyword".into(),
                });
            }
        }
    }

    /// What the name at `cursor` is, as Markdown.
    pub fn inspect(&self, source: &str, cursor: usize) -> Option<Inspection> {
        let cursor = floor(source, cursor);
        // the name the cursor is in or just after
        let start = word_start(source, cursor);
        let end = word_end(source, start);
        if start == end || !in_code(source, start) {
            return None;
        }
        let name = &source[start..end];
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let span = Span::new(start as u32, end as u32);
        let types = &self.vm.types;
        let is_member = source[..start].ends_with('.') && !source[..start].ends_with("..");
        let markdown = if is_member {
            let recv = match self.receiver(source, start - 1) {
                Receiver::Value(v) => {
                    if let Some(text) = self.member_doc(&v, name) {
                        return Some(Inspection {
                            span,
                            markdown: text,
                        });
                    }
                    ruchy_runtime::value::recv_of(&v)
                }
                Receiver::Builtin(r) => Some(r),
                Receiver::Unknown => None,
            };
            let entry = match recv {
                Some(r) => catalogue::method(r, name),
                None => catalogue::methods()
                    .iter()
                    .find(|e| e.name == name || e.aliases.contains(&name)),
            }?;
            entry_doc(entry)
        } else if let Some(v) = self.global(name).filter(|_| {
            self.globals
                .get(name)
                .is_some_and(|s| s as usize >= self.builtin_globals)
        }) {
            match v {
                Value::Func(_) => {
                    let sig = self
                        .signatures
                        .get(name)
                        .map_or_else(|| format!("fun {name}(...)"), |s| s.to_string());
                    format!("```ruchy\n{sig}\n```\nA function defined in this session.")
                }
                Value::Type(_) => format!("```ruchy\n{}\n```", type_definition(v, types)),
                _ => variable_doc(name, v, types),
            }
        } else if let Some(e) = catalogue::function(name) {
            entry_doc(e)
        } else if KEYWORDS.contains(&name) {
            format!("`{name}`: a keyword of Ruchy.")
        } else if TYPE_NAMES.contains(&name) {
            format!("`{name}`: a built-in type.")
        } else {
            return None;
        };
        Some(Inspection { span, markdown })
    }

    /// A field or user method of a session value.
    fn member_doc(&self, v: &Value, name: &str) -> Option<String> {
        let types = &self.vm.types;
        match v {
            Value::Object(m) => {
                if let Some(x) = m.get(name) {
                    return Some(variable_doc(name, x, types));
                }
            }
            Value::Struct(st) => {
                let d = types.get(st.ty)?;
                if let Some(x) = d.field_index(name).and_then(|i| st.fields.get(i)) {
                    return Some(format!(
                        "field of `{}`\n\n{}",
                        d.name,
                        variable_doc(name, x, types)
                    ));
                }
            }
            _ => {}
        }
        let d = types.get(user_type(v)?)?;
        d.methods.get(name)?;
        let sig = self
            .signatures
            .get(&format!("{}.{name}", d.name) as &str)
            .map_or_else(|| format!("fun {name}(...)"), |s| s.to_string());
        Some(format!("```ruchy\n{sig}\n```\nA method of `{}`.", d.name))
    }

    /// The session's bindings, in the order they were first bound (the built-ins excluded).
    pub fn variables(&self) -> Vec<Variable> {
        self.variables_since(0).1
    }

    /// The generation of the session (how many cells succeeded) and the bindings bound or
    /// changed by the cells after `generation`: what a variables panel needs after a cell,
    /// without listing every binding again (generation 0: all of them).
    pub fn variables_since(&self, generation: u32) -> (u32, Vec<Variable>) {
        let types = &self.vm.types;
        let mut out = Vec::new();
        for (slot, name) in self
            .globals
            .names
            .iter()
            .enumerate()
            .skip(self.builtin_globals)
        {
            if generation > 0 && self.changed.get(slot).is_none_or(|&c| c <= generation) {
                continue;
            }
            match self.vm.globals.get(slot) {
                None | Some(Value::Undef) => {}
                Some(v) => out.push(Variable {
                    name: name.to_string(),
                    type_name: match v {
                        Value::Func(_) => self
                            .signatures
                            .get(&**name)
                            .map_or_else(|| "fun".to_string(), |s| s.to_string()),
                        _ => type_label(v, types),
                    },
                    display: short_display(v, types),
                }),
            }
        }
        (self.cells, out)
    }
}

/// Whether `source` is a complete cell (a console's Enter runs it) or could still become one.
pub fn is_complete(source: &str) -> Completeness {
    if source.trim().is_empty() {
        return Completeness::Complete;
    }
    let Err(d) = ruchy_syntax::parser::parse(source) else {
        return Completeness::Complete;
    };
    let at_end =
        d.message.starts_with("Unexpected end of input") || d.message.starts_with("unterminated");
    if !at_end {
        return Completeness::Invalid;
    }
    // indent by the brackets still open (lexing stops at an unterminated string: no indent)
    let depth = match ruchy_syntax::lexer::lex(source, 0) {
        Ok(tokens) => {
            use ruchy_syntax::lexer::Tok;
            let mut depth: i64 = 0;
            for t in &tokens {
                match t.tok {
                    Tok::LBrace | Tok::LParen | Tok::LBracket => depth += 1,
                    Tok::RBrace | Tok::RParen | Tok::RBracket => depth -= 1,
                    _ => {}
                }
            }
            depth.clamp(0, 32) as usize
        }
        Err(_) => 0,
    };
    Completeness::Incomplete("    ".repeat(depth))
}

fn candidate(label: &str, kind: CompletionKind, detail: String) -> Completion {
    Completion {
        label: label.to_string(),
        kind,
        detail,
    }
}

fn user_type(v: &Value) -> Option<ruchy_runtime::value::TypeId> {
    match v {
        Value::Struct(s) => Some(s.ty),
        Value::Variant(var) => Some(var.ty),
        Value::Unit(t, _) => Some(*t),
        _ => None,
    }
}

fn entry_doc(e: &Entry) -> String {
    let mut s = format!("```ruchy\n{}\n```\n{}", e.signature(), e.doc);
    if !e.aliases.is_empty() {
        let _ = write!(s, "\n\nAlso: {}.", e.aliases.join(", "));
    }
    if e.mutates {
        s.push_str("\n\nChanges its receiver.");
    }
    s
}

fn variable_doc(name: &str, v: &Value, types: &Types) -> String {
    format!(
        "`{name}`: `{}`\n\n```\n{}\n```",
        type_label(v, types),
        shorten(&display(v, types), 500)
    )
}

/// The display of `v`, cut to [`SHORT`] characters, without building more of it than that for
/// big arrays and objects.
pub fn short_display(v: &Value, types: &Types) -> String {
    let text = match v {
        Value::Array(a) if a.len() > SHORT => {
            let head = ruchy_runtime::value::Value::array(a[..SHORT].to_vec());
            display(&head, types)
        }
        Value::Object(m) if m.len() > SHORT => {
            let mut head = ruchy_runtime::value::ObjMap::default();
            for (k, x) in m.iter().take(SHORT) {
                head.insert(k.clone(), x.clone());
            }
            display(&Value::Object(std::rc::Rc::new(head)), types)
        }
        _ => display(v, types),
    };
    shorten(&text, SHORT)
}

/// A value's type as a user writes it: `Int`, `[Int]`, `(Int, String)`, `Point`, `Option`.
pub fn type_label(v: &Value, types: &Types) -> String {
    type_label_at(v, types, 0)
}

fn type_label_at(v: &Value, types: &Types, depth: u32) -> String {
    if depth > 3 {
        return "..".into();
    }
    match v {
        Value::Nil | Value::Undef => "nil".into(),
        Value::Bool(_) => "Bool".into(),
        Value::Int(_) => "Int".into(),
        Value::Float(_) => "Float".into(),
        Value::Str(_) => "String".into(),
        Value::Array(a) => {
            // the elements' type when the first 100 agree
            let mut label: Option<String> = None;
            for x in a.iter().take(100) {
                let l = type_label_at(x, types, depth + 1);
                match &label {
                    None => label = Some(l),
                    Some(prev) if *prev == l => {}
                    Some(_) => return "[Any]".into(),
                }
            }
            format!("[{}]", label.as_deref().unwrap_or("Any"))
        }
        Value::Tuple(t) => {
            let parts: Vec<String> = t
                .iter()
                .take(8)
                .map(|x| type_label_at(x, types, depth + 1))
                .collect();
            format!("({})", parts.join(", "))
        }
        Value::Object(_) => "Object".into(),
        Value::Coll(c) => c.kind().name().into(),
        Value::Range(_) => "Range".into(),
        Value::Func(_) | Value::Builtin(_) | Value::Ctor(..) => "fun".into(),
        Value::Type(t) => match types.get(*t).map(|d| &d.kind) {
            Some(TypeKind::Enum { .. }) => format!("enum {}", types.name(*t)),
            _ => format!("struct {}", types.name(*t)),
        },
        Value::Struct(s) => types.name(s.ty).to_string(),
        Value::Variant(var) => types.name(var.ty).to_string(),
        Value::Unit(t, _) => types.name(*t).to_string(),
        Value::Rich(r) => {
            let n = r.type_name();
            let mut c = n.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        }
        Value::Cell(c) => match c.value.try_borrow() {
            Ok(inner) => type_label_at(&inner, types, depth),
            Err(_) => "Any".into(),
        },
    }
}

/// `struct Point { x, y }` / `enum Color { Red, Green }`.
fn type_definition(v: &Value, types: &Types) -> String {
    let Value::Type(t) = v else {
        return String::new();
    };
    let Some(d) = types.get(*t) else {
        return String::new();
    };
    match &d.kind {
        TypeKind::Struct { fields, tuple } => {
            if *tuple {
                format!("struct {}({})", d.name, fields.len())
            } else {
                let f: Vec<&str> = fields.iter().map(|f| &**f).collect();
                format!("struct {} {{ {} }}", d.name, f.join(", "))
            }
        }
        TypeKind::Enum { variants } => {
            let v: Vec<&str> = variants.iter().map(|v| &*v.name).collect();
            format!("enum {} {{ {} }}", d.name, v.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(cells: &[&str]) -> Session {
        let mut s = Session::new();
        for c in cells {
            let out = s.execute_cell(c);
            assert!(out.diagnostic.is_none(), "{c}: {:?}", out.diagnostic);
        }
        s
    }

    /// Completion with the cursor at `|`.
    fn complete(s: &Session, text: &str) -> Completions {
        let at = text.find('|').expect("a cursor");
        s.complete(&text.replace('|', ""), at)
    }

    fn labels(c: &Completions) -> Vec<&str> {
        c.items.iter().map(|i| i.label.as_str()).collect()
    }

    #[test]
    fn after_a_dot_the_methods_of_the_values_type() {
        let s = session(&["let xs = [1, 2, 3]", "let name = \"ab\""]);
        let c = complete(&s, "xs.pu|");
        assert_eq!(labels(&c), ["push"]);
        assert_eq!(c.replace, Span::new(3, 5));
        assert_eq!(c.items[0].kind, CompletionKind::Method);
        let c = complete(&s, "name.|");
        assert!(labels(&c).contains(&"split"), "{:?}", labels(&c));
        assert!(!labels(&c).contains(&"sort"));
        assert_eq!(c.replace, Span::new(5, 5));
    }

    #[test]
    fn fields_and_user_methods_of_structs_and_objects() {
        let s = session(&[
            "struct P { x: Int, y: Int }",
            "impl P { fun norm(self) -> Int { self.x + self.y } }",
            "let p = P { x: 1, y: 2 }",
            "let o = {inner: p, n: 1}",
        ]);
        let c = complete(&s, "p.|");
        let l = labels(&c);
        assert_eq!(&l[..3], ["x", "y", "norm"], "{l:?}");
        assert_eq!(c.items[2].detail, "fun norm(self) -> Int");
        assert_eq!(labels(&complete(&s, "o.inner.|"))[..2], ["x", "y"]);
        let c = complete(&s, "o.i|");
        assert_eq!(labels(&c)[0], "inner");
        assert_eq!(c.items[0].kind, CompletionKind::Field);
        assert!(labels(&c).contains(&"insert"), "{:?}", labels(&c));
    }

    #[test]
    fn a_name_completes_from_the_index_as_the_session_changes() {
        let mut s = session(&["let alpha1 = 1", "let alpha2 = 2", "let beta = 3"]);
        assert_eq!(labels(&complete(&s, "alp|")), ["alpha1", "alpha2"]);
        // a failed cell's new name is forgotten, and so not offered
        assert!(s
            .execute_cell("let alpha3 = 3\nalpha3 + nope")
            .diagnostic
            .is_some());
        assert_eq!(labels(&complete(&s, "alp|")), ["alpha1", "alpha2"]);
        // names made after the index was built are sorted in
        s.execute_cell("let alpha0 = 0");
        s.execute_cell("fun alphabet() { 1 }");
        let c = complete(&s, "alp|");
        assert_eq!(labels(&c), ["alpha0", "alpha1", "alpha2", "alphabet"]);
        assert_eq!(c.items[3].kind, CompletionKind::Function);
        // a prefix past every name, and one that matches nothing
        assert!(complete(&s, "zzz|").items.is_empty());
        assert_eq!(labels(&complete(&s, "beta|")), ["beta"]);
        // the index is rebuilt when names were forgotten under it
        let before = s.globals.truncations;
        let n = s.globals.names.len();
        s.globals.truncate(n - 1);
        assert_eq!(s.globals.truncations, before + 1);
        assert_eq!(
            labels(&complete(&s, "alp|")),
            ["alpha0", "alpha1", "alpha2"]
        );
    }

    #[test]
    fn names_builtins_and_keywords_by_prefix() {
        let s = session(&["let total = 1", "fun twice(n: Int) -> Int { n * 2 }"]);
        let c = complete(&s, "let y = t|");
        let l = labels(&c);
        assert_eq!(l[0], "total");
        assert_eq!(l[1], "twice");
        assert_eq!(c.items[1].detail, "fun twice(n: Int) -> Int");
        assert!(l.contains(&"true"), "{l:?}");
        let c = complete(&s, "le|");
        assert!(labels(&c).contains(&"len") && labels(&c).contains(&"let"));
    }

    #[test]
    fn nothing_inside_strings_and_comments() {
        let s = session(&["let xs = [1]"]);
        assert!(complete(&s, "\"xs.|").items.is_empty());
        assert!(complete(&s, "// xs.|").items.is_empty());
        assert_eq!(labels(&complete(&s, "f\"{xs.pu|")), ["push"]);
    }

    #[test]
    fn any_text_is_answered_and_nothing_changes() {
        let mut s = session(&["let a = 1"]);
        let big = "x.".repeat(500_000);
        for text in ["", ".", "..", "(((", "\"", "é.", "a.b.c.d.", &big] {
            for at in [0, 1, 2, text.len() / 2, text.len(), text.len() + 10] {
                let _ = s.complete(text, at);
                let _ = s.inspect(text, at);
            }
        }
        assert_eq!(s.variables().len(), 1);
        assert_eq!(s.execute_cell("a").display.as_deref(), Some("1"));
    }

    #[test]
    fn inspect_builtins_functions_and_variables() {
        let s = session(&["fun double(n: Int) -> Int { n * 2 }", "let xs = [1, 2]"]);
        let i = s.inspect("double(2)", 2).expect("a function");
        assert_eq!(i.span, Span::new(0, 6));
        assert!(
            i.markdown.contains("fun double(n: Int) -> Int"),
            "{}",
            i.markdown
        );
        let i = s.inspect("xs", 1).expect("a variable");
        assert!(i.markdown.contains("`[Int]`") && i.markdown.contains("[1, 2]"));
        let i = s.inspect("len(xs)", 0).expect("a built-in");
        assert!(i.markdown.contains("len("), "{}", i.markdown);
        let i = s.inspect("xs.push(3)", 4).expect("a method");
        assert!(i.markdown.contains("push("), "{}", i.markdown);
        assert_eq!(s.inspect("nothing_here", 3), None);
        assert_eq!(s.inspect("  ", 1), None);
    }

    #[test]
    fn completeness() {
        assert_eq!(is_complete("let x = 1"), Completeness::Complete);
        assert_eq!(is_complete(""), Completeness::Complete);
        assert_eq!(
            is_complete("fun f() {"),
            Completeness::Incomplete("    ".into())
        );
        assert_eq!(
            is_complete("if a {\n  [1,"),
            Completeness::Incomplete("        ".into())
        );
        assert_eq!(
            is_complete("let x ="),
            Completeness::Incomplete(String::new())
        );
        assert_eq!(
            is_complete("\"abc"),
            Completeness::Incomplete(String::new())
        );
        assert_eq!(is_complete("let = 5"), Completeness::Invalid);
        assert_eq!(is_complete(")"), Completeness::Invalid);
    }

    #[test]
    fn variables_in_binding_order() {
        let s = session(&[
            "let b = 1",
            "let a = [1.5, 2.5]",
            "fun f(x) { x }",
            "let long = range(0, 1000)",
            "let b = \"now a string\"",
        ]);
        let v = s.variables();
        let names: Vec<&str> = v.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "f", "long"]);
        assert_eq!(v[0].type_name, "String");
        assert_eq!(v[1].type_name, "[Float]");
        assert_eq!(v[2].type_name, "fun f(x)");
        assert!(v[3].display.ends_with('…') && v[3].display.chars().count() <= 101);
    }

    #[test]
    fn variables_since_a_generation_are_what_changed() {
        let mut s = session(&["let a = 1", "let b = [1]", "fun f() { a }"]);
        let (g, all) = s.variables_since(0);
        assert_eq!((g, all.len()), (3, 3));
        s.execute_cell("b.push(2)");
        s.execute_cell("let c = a + 1");
        // a failed cell changes nothing
        assert!(s.execute_cell("a = 5; undefined").diagnostic.is_some());
        let (g2, changed) = s.variables_since(g);
        let names: Vec<&str> = changed.iter().map(|v| v.name.as_str()).collect();
        assert_eq!((g2, names), (5, vec!["b", "c"]));
        assert_eq!(changed[0].display, "[1, 2]");
        assert!(s.variables_since(g2).1.is_empty());
    }
}
