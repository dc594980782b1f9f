//! The component's records as Jupyter message contents: bundles as `Media`, a cell result as
//! the IOPub messages a frontend shows (stdout split around displays, displays, the value, the
//! error), completions, inspections, completeness. Jupyter counts cursors in Unicode code
//! points, the WIT in UTF-8 bytes: [`code_point_to_byte`] and [`byte_to_code_point`] convert.

use crate::host::{
    CellResult, Completeness, CompletionKind, Completions, Diagnostic, Inspection, MimeData,
};
use crate::json::completion_kind;
use crate::render;
use jupyter_protocol::{
    CompleteReply, DisplayData, ErrorOutput, InspectReply, IsCompleteReply, Media, MediaType,
    StreamContent,
};
use serde_json::{json, Value};

/// The byte offset of code point `cp` in `s` (its length when `cp` is past the end).
pub fn code_point_to_byte(s: &str, cp: usize) -> usize {
    s.char_indices().nth(cp).map_or(s.len(), |(i, _)| i)
}

/// How many code points come before byte offset `b` of `s` (a `b` inside a character counts
/// that character as not yet reached; past the end: all of them).
pub fn byte_to_code_point(s: &str, b: usize) -> usize {
    s.char_indices().take_while(|(i, _)| *i < b).count()
}

/// A bundle as Jupyter's MIME bundle: each form under its MIME type (`application/json` as
/// JSON when it parses).
pub fn media(bundle: &[MimeData]) -> Media {
    Media::new(
        bundle
            .iter()
            .map(|m| {
                let d = m.data.clone();
                match m.mime.as_str() {
                    "text/plain" => MediaType::Plain(d),
                    "text/html" => MediaType::Html(d),
                    "text/markdown" => MediaType::Markdown(d),
                    "text/latex" => MediaType::Latex(d),
                    "image/svg+xml" => MediaType::Svg(d),
                    "application/json" => {
                        MediaType::Json(serde_json::from_str(&d).unwrap_or(Value::String(d)))
                    }
                    other => MediaType::Other((other.to_string(), Value::String(d))),
                }
            })
            .collect(),
    )
}

/// One thing a cell showed while it ran, in order.
#[derive(Debug)]
pub enum Output {
    Stream(StreamContent),
    Display(DisplayData),
}

/// What a cell printed and displayed, in the order it happened: stdout split at each
/// display's `stdout-offset` (empty pieces left out), each display between.
pub fn outputs(r: &CellResult) -> Vec<Output> {
    let mut out = Vec::new();
    let mut at = 0;
    let text = |from: usize, to: usize, out: &mut Vec<Output>| {
        if let Some(t) = r.stdout.get(from..to).filter(|t| !t.is_empty()) {
            out.push(Output::Stream(StreamContent::stdout(t)));
        }
    };
    for o in &r.outputs {
        let mut to = (o.stdout_offset as usize).clamp(at, r.stdout.len());
        while !r.stdout.is_char_boundary(to) {
            to += 1;
        }
        text(at, to, &mut out);
        at = to;
        out.push(Output::Display(DisplayData::new(media(&o.bundle))));
    }
    text(at, r.stdout.len(), &mut out);
    out
}

/// A failed cell as Jupyter's `error`: ename named after the diagnostic's kind
/// (`RuntimeError`, ...), evalue its message, the traceback the rendered diagnostic (the cell
/// as `In[count]`, source line and caret), its title in red. The page writes the same error
/// into its .ipynb files, without the colour.
pub fn error(d: &Diagnostic, source: &str, count: usize) -> ErrorOutput {
    let rendered = render::diagnostic(d, source, &format!("In[{count}]"));
    let mut traceback: Vec<String> = rendered.lines().map(str::to_string).collect();
    if let Some(first) = traceback.first_mut() {
        *first = format!("\x1b[1;31m{first}\x1b[0m");
    }
    ErrorOutput {
        ename: render::error_name(d.kind).to_string(),
        evalue: d.message.clone(),
        traceback,
    }
}

/// The answer to `complete_request`: the component's candidates, the range they replace (in
/// code points), and their kinds in `metadata._jupyter_types_experimental`.
pub fn complete_reply(code: &str, c: &Completions) -> CompleteReply {
    let start = byte_to_code_point(code, c.replace.start as usize);
    let end = byte_to_code_point(code, c.replace.end as usize);
    let types: Vec<Value> = c
        .items
        .iter()
        .map(|i| {
            json!({
                "start": start, "end": end, "text": i.label,
                "type": jupyter_type(i.kind), "signature": i.detail,
            })
        })
        .collect();
    let mut metadata = serde_json::Map::new();
    metadata.insert("_jupyter_types_experimental".into(), Value::Array(types));
    CompleteReply {
        matches: c.items.iter().map(|i| i.label.clone()).collect(),
        cursor_start: start,
        cursor_end: end,
        metadata,
        ..Default::default()
    }
}

/// The kind names JupyterLab knows for its completion icons.
fn jupyter_type(k: CompletionKind) -> &'static str {
    match k {
        CompletionKind::Type => "class",
        other => completion_kind(other),
    }
}

/// The answer to `inspect_request`: found, and the Markdown as `text/markdown` and
/// `text/plain`.
pub fn inspect_reply(i: Option<&Inspection>) -> InspectReply {
    match i {
        None => InspectReply::default(),
        Some(i) => InspectReply {
            found: true,
            data: Media::new(vec![
                MediaType::Plain(i.markdown.clone()),
                MediaType::Markdown(i.markdown.clone()),
            ]),
            ..Default::default()
        },
    }
}

pub fn is_complete_reply(c: &Completeness) -> IsCompleteReply {
    match c {
        Completeness::Complete => IsCompleteReply::complete(),
        Completeness::Incomplete(indent) => IsCompleteReply::incomplete(indent.clone()),
        Completeness::Invalid => IsCompleteReply::invalid(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{DisplayOutput, Performance};

    fn cell(stdout: &str, outputs: Vec<(u32, &str)>) -> CellResult {
        CellResult {
            display: None,
            bundle: None,
            outputs: outputs
                .into_iter()
                .map(|(at, text)| DisplayOutput {
                    bundle: vec![MimeData {
                        mime: "text/plain".into(),
                        data: text.into(),
                    }],
                    stdout_offset: at,
                })
                .collect(),
            stdout: stdout.into(),
            diagnostic: None,
            performance: Performance {
                total_us: 0.0,
                parse_us: 0.0,
                compile_us: 0.0,
                evaluate_us: 0.0,
                target_met: true,
            },
        }
    }

    fn shape(outs: &[Output]) -> Vec<String> {
        outs.iter()
            .map(|o| match o {
                Output::Stream(s) => format!("stream {:?}", s.text),
                Output::Display(d) => match &d.data.content[0] {
                    MediaType::Plain(t) => format!("display {t}"),
                    _ => "display ?".into(),
                },
            })
            .collect()
    }

    #[test]
    fn stdout_is_split_around_displays() {
        let r = cell("a\nb\n", vec![(0, "first"), (2, "second"), (4, "third")]);
        assert_eq!(
            shape(&outputs(&r)),
            [
                "display first",
                "stream \"a\\n\"",
                "display second",
                "stream \"b\\n\"",
                "display third"
            ]
        );
    }

    #[test]
    fn cursors_convert_between_code_points_and_bytes() {
        let s = "let é = \"ü\"; é";
        let b = code_point_to_byte(s, 13);
        assert_eq!(&s[b..], "é");
        assert_eq!(byte_to_code_point(s, b), 13);
        assert_eq!(code_point_to_byte(s, 1000), s.len());
        assert_eq!(byte_to_code_point(s, s.len()), s.chars().count());
    }
}
