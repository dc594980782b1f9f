//! Rich values: what `html(s)`, `markdown(s)`, `svg(s)` and the chart functions make. A rich
//! value is an ordinary value (it can be stored, passed, compared, printed); what makes it rich
//! is its MIME form, which [`crate::bundle`] puts into the value's bundle beside its text.
//!
//! Text forms (`text/plain`, what `println` prints and plain-text hosts show): a Markdown value
//! is its text (Markdown is written to be read as it is); HTML and SVG values are a one-line
//! description with their size, since their source is not meant to be read; a chart describes
//! itself (`<line chart "Sales": 12 points, ...>`).

use crate::chart::Chart;

/// A value with a rich MIME form.
#[derive(Clone, Debug, PartialEq)]
pub enum Rich {
    /// `html(s)`: shown as `text/html` (hosts sandbox it: no script runs).
    Html(String),
    /// `markdown(s)`: shown as `text/markdown`.
    Markdown(String),
    /// `svg(s)`: shown as `image/svg+xml`.
    Svg(String),
    /// `line_chart(..)`, `scatter_chart(..)`, `bar_chart(..)`, `histogram(..)`: an SVG drawn
    /// by the engine ([`crate::chart`]).
    Chart(Box<Chart>),
}

impl Rich {
    /// The name `typeof` gives and messages use.
    pub fn type_name(&self) -> &'static str {
        match self {
            Rich::Html(_) => "html",
            Rich::Markdown(_) => "markdown",
            Rich::Svg(_) => "svg",
            Rich::Chart(_) => "chart",
        }
    }

    /// The `text/plain` form.
    pub fn plain(&self) -> String {
        match self {
            Rich::Html(s) => format!("<html: {} bytes>", s.len()),
            Rich::Markdown(s) => s.clone(),
            Rich::Svg(s) => format!("<svg image: {} bytes>", s.len()),
            Rich::Chart(c) => c.describe(),
        }
    }

    /// The rich form: its MIME type and data.
    pub fn form(&self) -> (&'static str, String) {
        match self {
            Rich::Html(s) => ("text/html", s.clone()),
            Rich::Markdown(s) => ("text/markdown", s.clone()),
            Rich::Svg(s) => ("image/svg+xml", s.clone()),
            Rich::Chart(c) => ("image/svg+xml", c.svg()),
        }
    }

    /// Bytes the value holds (for the memory and output limits).
    pub fn size(&self) -> usize {
        match self {
            Rich::Html(s) | Rich::Markdown(s) | Rich::Svg(s) => s.len(),
            Rich::Chart(_) => std::mem::size_of::<Chart>(),
        }
    }
}

/// `svg(s)` takes SVG markup: text whose first tag (after an optional XML declaration,
/// comments and whitespace) is `<svg`. Anything else would be shown as a broken image.
pub fn looks_like_svg(s: &str) -> bool {
    let mut rest = s.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            match r.find("?>") {
                Some(i) => rest = r[i + 2..].trim_start(),
                None => return false,
            }
        } else if let Some(r) = rest.strip_prefix("<!--") {
            match r.find("-->") {
                Some(i) => rest = r[i + 3..].trim_start(),
                None => return false,
            }
        } else if let Some(r) = rest.strip_prefix("<!DOCTYPE") {
            match r.find('>') {
                Some(i) => rest = r[i + 1..].trim_start(),
                None => return false,
            }
        } else {
            return rest.starts_with("<svg")
                && rest[4..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Rich::Html("<b>hi</b>".into()).plain(), "<html: 9 bytes>");
        assert_eq!(Rich::Markdown("# Title".into()).plain(), "# Title");
        assert_eq!(
            Rich::Svg("<svg></svg>".into()).form(),
            ("image/svg+xml", "<svg></svg>".to_string())
        );
    }

    #[test]
    fn svg_markup_is_recognised() {
        assert!(looks_like_svg(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
        ));
        assert!(looks_like_svg(
            "<?xml version=\"1.0\"?>\n<!-- drawn -->\n<svg width=\"10\"></svg>"
        ));
        assert!(!looks_like_svg("<svgx>"));
        assert!(!looks_like_svg("<div></div>"));
        assert!(!looks_like_svg("circle"));
        assert!(!looks_like_svg("<!-- unclosed"));
    }
}
