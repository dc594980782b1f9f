//! MIME bundles: a value as a notebook shows it. The engine decides every form; hosts show the
//! richest one they can render (Jupyter's display data, the page's outputs, `.ipynb` files).
//!
//! A bundle always starts with `text/plain` (the value's display, spec section 9). Then:
//! * a rich value ([`crate::rich`]) adds its form: `text/html`, `text/markdown` or
//!   `image/svg+xml` (charts);
//! * tabular data adds an HTML table (`text/html`): a non-empty array whose elements are all
//!   objects (columns: every key, in key order) or all structs of one type (columns: the
//!   fields, in declaration order), and an object whose values are arrays of one length
//!   (columns: the keys). At most [`MAX_ROWS`] rows are drawn, then a note of how many more.

use crate::display::{display, display_plain};
use crate::value::{TypeKind, Types, Value};
use std::fmt::Write;
use std::rc::Rc;

/// Rows an HTML table shows before its "more rows" note.
pub const MAX_ROWS: usize = 50;

/// One form of a value.
#[derive(Clone, Debug, PartialEq)]
pub struct MimeData {
    pub mime: &'static str,
    pub data: String,
}

/// A value's forms, `text/plain` first.
pub type Bundle = Vec<MimeData>;

/// An output a cell made with `display(v)` while it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct DisplayOutput {
    pub bundle: Bundle,
    /// Bytes of the cell's output printed before it.
    pub stdout_offset: usize,
}

/// The bundle of `v`, whose display (`text/plain`) is `plain`.
pub fn bundle_with(v: &Value, plain: String, types: &Types) -> Bundle {
    let mut b = vec![MimeData {
        mime: "text/plain",
        data: plain,
    }];
    if let Value::Rich(r) = v {
        let (mime, data) = r.form();
        b.push(MimeData { mime, data });
    } else if let Some(html) = table(v, types) {
        b.push(MimeData {
            mime: "text/html",
            data: html,
        });
    }
    b
}

/// The bundle of `v` (as `display(v)` shows it).
pub fn bundle(v: &Value, types: &Types) -> Bundle {
    let plain = match v {
        Value::Rich(r) => r.plain(),
        _ => display(v, types),
    };
    bundle_with(v, plain, types)
}

/// A table's columns and rows, cells as values.
struct Grid<'a> {
    columns: Vec<Rc<str>>,
    rows: usize,
    cell: Box<dyn Fn(usize, usize) -> Option<&'a Value> + 'a>,
}

fn grid<'a>(v: &'a Value, types: &'a Types) -> Option<Grid<'a>> {
    match v {
        Value::Array(items) if !items.is_empty() => {
            if items.iter().all(|x| matches!(x, Value::Object(_))) {
                let mut columns: Vec<Rc<str>> = Vec::new();
                for x in items.iter() {
                    if let Value::Object(m) = x {
                        for k in m.keys() {
                            if let Err(at) = columns.binary_search(k) {
                                columns.insert(at, k.clone());
                            }
                        }
                    }
                }
                if columns.is_empty() {
                    return None;
                }
                let cols = columns.clone();
                return Some(Grid {
                    columns,
                    rows: items.len(),
                    cell: Box::new(move |r, c| match &items[r] {
                        Value::Object(m) => m.get(&cols[c]),
                        _ => None,
                    }),
                });
            }
            let Value::Struct(first) = &items[0] else {
                return None;
            };
            let ty = first.ty;
            if !items
                .iter()
                .all(|x| matches!(x, Value::Struct(s) if s.ty == ty))
            {
                return None;
            }
            let Some(TypeKind::Struct {
                fields,
                tuple: false,
            }) = types.get(ty).map(|d| &d.kind)
            else {
                return None;
            };
            if fields.is_empty() {
                return None;
            }
            Some(Grid {
                columns: fields.clone(),
                rows: items.len(),
                cell: Box::new(move |r, c| match &items[r] {
                    Value::Struct(s) => s.fields.get(c),
                    _ => None,
                }),
            })
        }
        Value::Object(m) if !m.is_empty() => {
            let mut len = None;
            for x in m.values() {
                let Value::Array(a) = x else { return None };
                if *len.get_or_insert(a.len()) != a.len() {
                    return None;
                }
            }
            let rows = len.unwrap_or(0);
            if rows == 0 {
                return None;
            }
            let cols: Vec<&'a Value> = m.values().collect();
            Some(Grid {
                columns: m.keys().cloned().collect(),
                rows,
                cell: Box::new(move |r, c| match cols[c] {
                    Value::Array(a) => a.get(r),
                    _ => None,
                }),
            })
        }
        _ => None,
    }
}

/// The HTML table of tabular data; `None` for other values.
pub fn table(v: &Value, types: &Types) -> Option<String> {
    let g = grid(v, types)?;
    let mut out = String::from("<table class=\"ruchy-table\">\n<thead><tr>");
    for c in &g.columns {
        out.push_str("<th>");
        escape_into(&mut out, c);
        out.push_str("</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let shown = g.rows.min(MAX_ROWS);
    for r in 0..shown {
        out.push_str("<tr>");
        for c in 0..g.columns.len() {
            match (g.cell)(r, c) {
                Some(x @ (Value::Int(_) | Value::Float(_))) => {
                    out.push_str("<td style=\"text-align: right\">");
                    escape_into(&mut out, &display_plain(x, types));
                }
                Some(x) => {
                    out.push_str("<td>");
                    escape_into(&mut out, &shorten(&display_plain(x, types), 200));
                }
                None => out.push_str("<td>"),
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>");
    if g.rows > shown {
        let _ = write!(
            out,
            "\n<p class=\"ruchy-table-more\">{} more rows ({} in all)</p>",
            g.rows - shown,
            g.rows
        );
    }
    Some(out)
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => {
            let cut = s[..at].char_indices().last().map_or(0, |(i, _)| i);
            format!("{}…", &s[..cut])
        }
    }
}

/// HTML-escapes `s` onto `out`.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
