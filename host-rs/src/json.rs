//! The component's records as JSON, for `--json` output: field names as in the WIT with `_`
//! for `-`; enum cases as strings; a variant as `{"tag": CASE, "val": PAYLOAD}` (as jco gives
//! it to JavaScript); an `option` as the value or `null`. The Node host prints the same shape.

use crate::host::VariablesUpdate;
use crate::host::{
    CellResult, Completeness, CompletionKind, Completions, Diagnostic, Inspection, MimeData, Span,
    Variable,
};
use crate::render::kind_name;
use serde_json::{json, Value};

pub fn span(s: &Span) -> Value {
    json!({
        "start": s.start, "end": s.end, "line": s.line, "column": s.column,
        "end_line": s.end_line, "end_column": s.end_column,
    })
}

pub fn diagnostic(d: &Diagnostic) -> Value {
    json!({ "kind": kind_name(d.kind), "message": d.message, "span": span(&d.span) })
}

pub fn bundle(b: &[MimeData]) -> Value {
    b.iter()
        .map(|m| json!({ "mime": m.mime, "data": m.data }))
        .collect()
}

pub fn cell_result(r: &CellResult) -> Value {
    let p = &r.performance;
    json!({
        "display": r.display,
        "bundle": r.bundle.as_deref().map(bundle),
        "outputs": r.outputs.iter().map(|o| json!({
            "bundle": bundle(&o.bundle), "stdout_offset": o.stdout_offset,
        })).collect::<Vec<_>>(),
        "stdout": r.stdout,
        "diagnostic": r.diagnostic.as_ref().map(diagnostic),
        "performance": {
            "total_us": p.total_us, "parse_us": p.parse_us, "compile_us": p.compile_us,
            "evaluate_us": p.evaluate_us, "target_met": p.target_met,
        },
    })
}

pub fn completion_kind(k: CompletionKind) -> &'static str {
    match k {
        CompletionKind::Variable => "variable",
        CompletionKind::Function => "function",
        CompletionKind::Method => "method",
        CompletionKind::Keyword => "keyword",
        CompletionKind::Type => "type",
        CompletionKind::Field => "field",
    }
}

pub fn completions(c: &Completions) -> Value {
    json!({
        "replace": span(&c.replace),
        "items": c.items.iter().map(|i| json!({
            "label": i.label, "kind": completion_kind(i.kind), "detail": i.detail,
        })).collect::<Vec<_>>(),
    })
}

pub fn inspection(i: &Option<Inspection>) -> Value {
    match i {
        None => Value::Null,
        Some(i) => json!({ "span": span(&i.span), "markdown": i.markdown }),
    }
}

pub fn completeness(c: &Completeness) -> Value {
    match c {
        Completeness::Complete => json!({ "tag": "complete" }),
        Completeness::Incomplete(indent) => json!({ "tag": "incomplete", "val": indent }),
        Completeness::Invalid => json!({ "tag": "invalid" }),
    }
}

pub fn variables_update(u: &VariablesUpdate) -> Value {
    json!({ "generation": u.generation, "changed": variables(&u.changed) })
}

pub fn variables(v: &[Variable]) -> Value {
    v.iter()
        .map(|v| json!({ "name": v.name, "type_name": v.type_name, "display": v.display }))
        .collect()
}
