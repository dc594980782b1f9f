//! Charts drawn as self-contained SVG: the values of the built-ins `line_chart`,
//! `scatter_chart`, `bar_chart` and `histogram`.
//!
//! # Design
//!
//! [`build`] checks the arguments of a call and keeps the data as plain numbers (and bar
//! labels as strings) in a [`Chart`], with its options. Nothing is drawn then:
//! [`Chart::svg`] draws on demand (when the notebook shows the value) and
//! [`Chart::describe`] is the one-line text/plain form.
//!
//! Drawing is the same few steps for every kind:
//! - [`nice_ticks`] picks round tick values (1, 2 or 5 times a power of ten) enclosing the
//!   data; an axis runs from its first tick to its last. `fit_ticks` takes as many ticks (at
//!   most 8) as the axis has room for, and [`Ticks::labels`] writes them without float noise.
//! - The frame (the plot area inside the margins) is measured from the tick labels, titles and
//!   bar labels. There are no font metrics, so a character counts as 0.6 em.
//! - A `Scale` maps data to pixels. Grid, marks, axes, labels and titles are then written as
//!   SVG elements with presentation attributes only (no CSS, no script, no external font or
//!   image), so the picture is the same in a browser, JupyterLab and GitHub's notebook viewer.
//!
//! # The SVG
//!
//! The root is `<svg xmlns="http://www.w3.org/2000/svg" width=W height=H viewBox="0 0 W H"
//! role="img" aria-label=.. font-family="sans-serif" data-kind=.. data-count=N>`, where
//! `data-kind` is `line`, `scatter`, `bar` or `histogram` and `data-count` the number of points
//! (bars for a bar chart, values for a histogram). Its first child is a `<title>` (the chart's
//! title, or its description), then a white background.
//!
//! Marks carry `class="mark"`: a line chart has one `<path class="mark" d=.. fill="none">`
//! through the points in the order given (and a `<circle class="point">` if there is only one
//! point); a scatter chart one `<circle class="mark">` per point; a bar chart one
//! `<rect class="mark">` per bar; a histogram one `<rect class="mark">` per bin. Bars, bins
//! and the points of a scatter chart of at most 1,000 points hold a `<title>` with their
//! value (a tooltip). Coordinates have at most 2 decimals; every text is XML-escaped.
//!
//! # Options
//!
//! The last argument may be an object with these keys (each optional; `nil` means the default):
//!
//! | key | type | default |
//! | --- | --- | --- |
//! | `title` | string | none |
//! | `x_label` | string | none |
//! | `y_label` | string | none (`"count"` for a histogram; `""` removes it) |
//! | `width`, `height` | number of pixels, 100 to 4000 | 640 and 400 |
//! | `color` | CSS color of the marks: letters, digits, spaces and `# ( ) , . %` only | `#4e79a7` |
//!
//! `histogram(values, bins)` takes 1 to 1000 bins, 10 by default (as numpy and matplotlib):
//! equal widths from the smallest value to the largest, the largest counted in the last bin.
//!
//! # Limits
//!
//! A sequence holds at most [`MAX_POINTS`] numbers (a range is refused before it is
//! expanded); numbers must be finite and at most 1e300 in size, so that every difference and
//! pixel position stays finite. Data that does not spread (one point, equal values) gets an
//! axis around its value: `v ± 1` for `1 <= |v| < 10`, `v ± |v|/10` above, `0..2v` below, `-1..1` for 0.

use std::fmt::{self, Write};

/// The most numbers one sequence may hold.
pub const MAX_POINTS: usize = 1_000_000;
/// Histogram bins when none are given.
pub const DEFAULT_BINS: usize = 10;
pub const MAX_BINS: usize = 1000;
pub const DEFAULT_WIDTH: u32 = 640;
pub const DEFAULT_HEIGHT: u32 = 400;
pub const MIN_SIZE: u32 = 100;
pub const MAX_SIZE: u32 = 4000;
pub const DEFAULT_COLOR: &str = "#4e79a7";

/// The largest magnitude a data value may have.
pub(crate) const MAX_MAGNITUDE: f64 = 1e300;
pub(crate) const OPTION_KEYS: &str = "title, x_label, y_label, width, height, color";
pub(crate) const MAX_COLOR_LEN: usize = 64;
/// Scatter points above this many get no tooltip (it would double the size of the SVG).
const MAX_TOOLTIPS: usize = 1000;
/// Titles longer than this are shortened in [`Chart::describe`].
const DESCRIBE_TITLE: usize = 40;

const TITLE_FONT: f64 = 16.0;
const LABEL_FONT: f64 = 13.0;
const TICK_FONT: f64 = 11.0;
const TEXT: &str = "#333";
const TICK_TEXT: &str = "#555";
const AXIS: &str = "#444";
const GRID: &str = "#e6e6e6";
const SIN45: f64 = std::f64::consts::FRAC_1_SQRT_2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    Line,
    Scatter,
    Bar,
    Histogram,
}

impl ChartKind {
    fn word(self) -> &'static str {
        match self {
            ChartKind::Line => "line",
            ChartKind::Scatter => "scatter",
            ChartKind::Bar => "bar",
            ChartKind::Histogram => "histogram",
        }
    }
}

/// A chart: the data it was made from and its options, checked. Drawn on demand.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub(crate) kind: ChartKind,
    /// Empty when not given; so are the axis titles.
    pub(crate) title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) color: String,
    pub(crate) data: Data,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Data {
    /// Line and scatter charts: finite, same length, not empty.
    Points {
        xs: Vec<f64>,
        ys: Vec<f64>,
    },
    Bars {
        labels: Vec<String>,
        values: Vec<f64>,
    },
    Histogram {
        values: Vec<f64>,
        bins: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// Describing and drawing

impl Chart {
    pub fn kind(&self) -> ChartKind {
        self.kind
    }

    /// One line for text/plain: `<line chart "Sales": 12 points, x 0..11, y 3.5..42>`,
    /// `<bar chart: 4 bars, values -2..10>`, `<histogram "Ages": 120 values in 10 bins, 18..77>`.
    pub fn describe(&self) -> String {
        let title = if self.title.is_empty() {
            String::new()
        } else {
            format!(" \"{}\"", shorten(&self.title, DESCRIBE_TITLE))
        };
        let kind = self.kind.word();
        match &self.data {
            Data::Points { xs, ys } => {
                let ((x0, x1), (y0, y1)) = (extent(xs), extent(ys));
                format!(
                    "<{kind} chart{title}: {}, x {}..{}, y {}..{}>",
                    plural(xs.len(), "point"),
                    short(x0),
                    short(x1),
                    short(y0),
                    short(y1)
                )
            }
            Data::Bars { values, .. } => {
                let (lo, hi) = extent(values);
                format!(
                    "<{kind} chart{title}: {}, values {}..{}>",
                    plural(values.len(), "bar"),
                    short(lo),
                    short(hi)
                )
            }
            Data::Histogram { values, bins } => {
                let (lo, hi) = extent(values);
                format!(
                    "<{kind}{title}: {} in {}, {}..{}>",
                    plural(values.len(), "value"),
                    plural(*bins, "bin"),
                    short(lo),
                    short(hi)
                )
            }
        }
    }

    /// The drawing: a complete SVG document.
    pub fn svg(&self) -> String {
        let mut svg = Svg::begin(self);
        match &self.data {
            Data::Points { xs, ys } => self.draw_points(&mut svg, xs, ys),
            Data::Bars { labels, values } => self.draw_bars(&mut svg, labels, values),
            Data::Histogram { values, bins } => self.draw_histogram(&mut svg, values, *bins),
        }
        svg.finish()
    }

    fn count(&self) -> usize {
        match &self.data {
            Data::Points { xs, .. } => xs.len(),
            Data::Bars { values, .. } | Data::Histogram { values, .. } => values.len(),
        }
    }

    fn top_margin(&self) -> f64 {
        if self.title.is_empty() {
            20.0
        } else {
            44.0
        }
    }

    /// Room under the x tick labels for the x axis title.
    fn x_title_room(&self) -> f64 {
        if self.x_label.is_empty() {
            0.0
        } else {
            26.0
        }
    }

    /// The bottom of the plot area when the x axis has one row of tick labels.
    fn numeric_bottom(&self) -> f64 {
        f64::from(self.height) - 30.0 - self.x_title_room()
    }

    /// Room left of the plot area: the y axis title, the widest tick label, the ticks.
    fn left_margin(&self, y_labels: &[String]) -> f64 {
        let title = if self.y_label.is_empty() { 10.0 } else { 32.0 };
        title + widest(y_labels, TICK_FONT) + 10.0
    }

    fn draw_points(&self, svg: &mut Svg, xs: &[f64], ys: &[f64]) {
        let (top, bottom) = (self.top_margin(), self.numeric_bottom());
        let (y_ticks, y_labels) = fit_ticks(extent(ys), bottom - top, false, false);
        let left = self.left_margin(&y_labels);
        let (x_ticks, x_labels) = fit_ticks(extent(xs), svg.width - left - 20.0, false, true);
        let right = svg.width - right_margin(&x_labels);
        let frame = Frame::new(left, top, right, bottom);
        let x = Scale::new(&x_ticks, frame.left, frame.right);
        let y = Scale::new(&y_ticks, frame.bottom, frame.top);

        svg.grid(&frame, Some((&x_ticks, x)), (&y_ticks, y));
        match self.kind {
            ChartKind::Scatter => self.scatter_marks(svg, xs, ys, x, y),
            _ => self.line_mark(svg, xs, ys, x, y),
        }
        svg.axes(&frame);
        svg.x_ticks(&frame, &x_ticks, &x_labels, x);
        svg.y_ticks(&frame, &y_ticks, &y_labels, y);
        self.titles(svg, &frame);
    }

    fn line_mark(&self, svg: &mut Svg, xs: &[f64], ys: &[f64], x: Scale, y: Scale) {
        let mut d = String::with_capacity(xs.len() * 14);
        for (i, (&px, &py)) in xs.iter().zip(ys).enumerate() {
            let cmd = match i {
                0 => "M",
                1 => "L",
                _ => " ",
            };
            let _ = write!(d, "{cmd}{} {}", Px(x.map(px)), Px(y.map(py)));
        }
        let color = &self.color;
        let _ = writeln!(
            svg.out,
            r#"<path class="mark" d="{d}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#
        );
        if let ([px], [py]) = (xs, ys) {
            let _ = writeln!(
                svg.out,
                r#"<circle class="point" cx="{}" cy="{}" r="3" fill="{color}"/>"#,
                Px(x.map(*px)),
                Px(y.map(*py))
            );
        }
    }

    fn scatter_marks(&self, svg: &mut Svg, xs: &[f64], ys: &[f64], x: Scale, y: Scale) {
        let n = xs.len();
        let r = match n {
            0..=1000 => 3.5,
            1001..=10_000 => 2.5,
            _ => 1.5,
        };
        let _ = writeln!(svg.out, r#"<g fill="{}" fill-opacity="0.75">"#, self.color);
        for (&px, &py) in xs.iter().zip(ys) {
            let _ = write!(
                svg.out,
                r#"<circle class="mark" cx="{}" cy="{}" r="{r}""#,
                Px(x.map(px)),
                Px(y.map(py))
            );
            if n <= MAX_TOOLTIPS {
                let tip = format!("({}, {})", short(px), short(py));
                svg.tooltip_and_close("circle", &tip);
            } else {
                svg.out.push_str("/>\n");
            }
        }
        svg.out.push_str("</g>\n");
    }

    fn draw_bars(&self, svg: &mut Svg, labels: &[String], values: &[f64]) {
        let (lo, hi) = extent(values);
        let (lo, hi) = if lo == 0.0 && hi == 0.0 {
            (0.0, 1.0)
        } else {
            (lo.min(0.0), hi.max(0.0))
        };
        let top = self.top_margin();
        let (y_ticks, y_labels) = fit_ticks((lo, hi), self.numeric_bottom() - top, false, false);
        let right = svg.width - 20.0;
        let n = values.len() as f64;
        // Slanted labels reach left of their bar: widen the left margin until the first fits.
        let mut left = self.left_margin(&y_labels);
        let mut layout = BarLabels::new(labels, (right - left) / n, f64::from(self.height));
        for _ in 0..2 {
            let reach = layout.left_reach((right - left) / n);
            if reach <= left {
                break;
            }
            left = reach.min(svg.width / 3.0);
            layout = BarLabels::new(labels, (right - left) / n, f64::from(self.height));
        }
        let bottom = f64::from(self.height) - layout.room - self.x_title_room();
        let frame = Frame::new(left, top, right, bottom);
        let y = Scale::new(&y_ticks, frame.bottom, frame.top);
        let band = frame.width() / n;

        svg.grid(&frame, None, (&y_ticks, y));
        let bar = if band >= 4.0 { band * 0.8 } else { band };
        let zero = y.map(0.0);
        let _ = writeln!(svg.out, r#"<g fill="{}">"#, self.color);
        for (i, (label, &v)) in labels.iter().zip(values).enumerate() {
            let x0 = frame.left + i as f64 * band + (band - bar) / 2.0;
            svg.rect(x0, zero, x0 + bar, y.map(v));
            svg.tooltip_and_close("rect", &format!("{label}: {}", short(v)));
        }
        svg.out.push_str("</g>\n");
        svg.axes(&frame);
        if y_ticks.lo() < 0.0 {
            svg.hline(frame.left, frame.right, zero, AXIS);
        }
        svg.y_ticks(&frame, &y_ticks, &y_labels, y);
        layout.draw(svg, &frame, band);
        self.titles(svg, &frame);
    }

    fn draw_histogram(&self, svg: &mut Svg, values: &[f64], bins: usize) {
        let (lo, hi) = widen(extent(values));
        let counts = bin_counts(values, lo, hi, bins);
        let most = counts.iter().copied().max().unwrap_or(0) as f64;
        let (top, bottom) = (self.top_margin(), self.numeric_bottom());
        let (y_ticks, y_labels) = fit_ticks((0.0, most), bottom - top, true, false);
        let left = self.left_margin(&y_labels);
        let (x_ticks, x_labels) = fit_ticks((lo, hi), svg.width - left - 20.0, false, true);
        let right = svg.width - right_margin(&x_labels);
        let frame = Frame::new(left, top, right, bottom);
        let x = Scale::new(&x_ticks, frame.left, frame.right);
        let y = Scale::new(&y_ticks, frame.bottom, frame.top);

        svg.grid(&frame, None, (&y_ticks, y));
        let edge = |i: usize| lo + (hi - lo) * i as f64 / bins as f64;
        let _ = writeln!(svg.out, r#"<g fill="{}">"#, self.color);
        for (i, &count) in counts.iter().enumerate() {
            let (x0, x1) = (x.map(edge(i)), x.map(edge(i + 1)));
            let gap = if x1 - x0 >= 6.0 { 0.5 } else { 0.0 };
            svg.rect(x0 + gap, y.map(0.0), x1 - gap, y.map(count as f64));
            let close = if i + 1 == bins { ']' } else { ')' };
            let tip = format!(
                "[{}, {}{close}: {count}",
                short(edge(i)),
                short(edge(i + 1))
            );
            svg.tooltip_and_close("rect", &tip);
        }
        svg.out.push_str("</g>\n");
        svg.axes(&frame);
        svg.x_ticks(&frame, &x_ticks, &x_labels, x);
        svg.y_ticks(&frame, &y_ticks, &y_labels, y);
        self.titles(svg, &frame);
    }

    /// The chart title centred on top, the x axis title under the axis, the y axis title
    /// turned along the y axis.
    fn titles(&self, svg: &mut Svg, frame: &Frame) {
        if !self.title.is_empty() {
            let x = svg.width / 2.0;
            let attrs = format!(
                r#"font-size="{TITLE_FONT}" font-weight="bold" text-anchor="middle" fill="{TEXT}""#
            );
            svg.text(x, 28.0, &attrs, &self.title);
        }
        let attrs = format!(r#"font-size="{LABEL_FONT}" text-anchor="middle" fill="{TEXT}""#);
        if !self.x_label.is_empty() {
            let x = (frame.left + frame.right) / 2.0;
            svg.text(x, svg.height - 10.0, &attrs, &self.x_label);
        }
        if !self.y_label.is_empty() {
            let y = (frame.top + frame.bottom) / 2.0;
            let turned = format!(r#"{attrs} transform="rotate(-90 20 {})""#, Px(y));
            svg.text(20.0, y, &turned, &self.y_label);
        }
    }
}

/// How the labels of a bar chart are set under the bars: level when every label fits its
/// bar, else slanted at 45 degrees, shortened with "…" to fit in at most 40% of the chart's
/// height, and only every `every`-th one when the bars are too narrow for all.
struct BarLabels {
    texts: Vec<String>,
    slanted: bool,
    every: usize,
    /// The height they take under the plot area (with the gap to it).
    room: f64,
}

impl BarLabels {
    fn new(labels: &[String], band: f64, height: f64) -> BarLabels {
        if widest(labels, TICK_FONT) + 6.0 <= band {
            return BarLabels {
                texts: labels.to_vec(),
                slanted: false,
                every: 1,
                room: 30.0,
            };
        }
        let longest = (height * 0.4 - 24.0).max(0.0) / SIN45;
        let max_chars = ((longest / char_width(TICK_FONT)) as usize).max(3);
        let texts: Vec<String> = labels.iter().map(|l| shorten(l, max_chars)).collect();
        let every = (1.3 * TICK_FONT / (band * SIN45)).ceil().max(1.0) as usize;
        let room = 22.0 + widest(&texts, TICK_FONT) * SIN45;
        BarLabels {
            texts,
            slanted: true,
            every,
            room,
        }
    }

    /// The left margin the first label needs (slanted labels run left-down from their bar).
    fn left_reach(&self, band: f64) -> f64 {
        match self.texts.first() {
            Some(first) if self.slanted => text_width(first, TICK_FONT) * SIN45 - band / 2.0 + 8.0,
            _ => 0.0,
        }
    }

    fn draw(&self, svg: &mut Svg, frame: &Frame, band: f64) {
        let _ = writeln!(
            svg.out,
            r#"<g font-size="{TICK_FONT}" fill="{TICK_TEXT}" text-anchor="{}">"#,
            if self.slanted { "end" } else { "middle" }
        );
        for (i, text) in self.texts.iter().enumerate().step_by(self.every) {
            let x = frame.left + (i as f64 + 0.5) * band;
            if self.slanted {
                let (x, y) = (x + 3.0, frame.bottom + 12.0);
                let attrs = format!(r#"transform="rotate(-45 {} {})""#, Px(x), Px(y));
                svg.text(x, y, &attrs, text);
            } else {
                svg.text(x, frame.bottom + 18.0, "", text);
            }
        }
        svg.out.push_str("</g>\n");
    }
}

/// How many of `values` fall in each of `bins` equal bins from `lo` to `hi` (the last bin
/// includes `hi`).
fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    for &v in values {
        let at = ((v - lo) / (hi - lo) * bins as f64).floor();
        let i = if at > 0.0 { at as usize } else { 0 };
        counts[i.min(bins - 1)] += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Ticks and scales

/// Round tick values: `count` multiples of `mantissa * 10^exp` (mantissa 1, 2 or 5), from
/// `first` times the step. Kept as integers so every tick value is computed once, exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub first: i64,
    pub count: usize,
    pub mantissa: i64,
    pub exp: i32,
}

impl Ticks {
    pub fn step(&self) -> f64 {
        pow10(self.mantissa as f64, self.exp)
    }

    pub fn value(&self, i: usize) -> f64 {
        // +0.0 turns -0 into 0.
        pow10(((self.first + i as i64) * self.mantissa) as f64, self.exp) + 0.0
    }

    pub fn values(&self) -> Vec<f64> {
        (0..self.count).map(|i| self.value(i)).collect()
    }

    pub fn lo(&self) -> f64 {
        self.value(0)
    }

    pub fn hi(&self) -> f64 {
        self.value(self.count - 1)
    }

    /// The tick labels: as many decimals as the step has, trailing zeros dropped (`0.3`,
    /// `0.15`, `20`); in scientific form (`1.5e7`, `5e-7`) when a label would have more than 7
    /// digits and that form is shorter.
    pub fn labels(&self) -> Vec<String> {
        let fixed: Vec<String> = self
            .values()
            .iter()
            .map(|&v| fixed_label(v, self.exp))
            .collect();
        let longest = |labels: &[String]| {
            labels
                .iter()
                .map(|l| l.trim_start_matches('-').len())
                .max()
                .unwrap_or(0)
        };
        if longest(&fixed) <= 7 {
            return fixed;
        }
        let sci: Vec<String> = self
            .values()
            .iter()
            .map(|&v| sci_label(v, self.exp))
            .collect();
        if longest(&sci) < longest(&fixed) {
            sci
        } else {
            fixed
        }
    }
}

/// `x * 10^exp`, dividing for negative powers so that `3 * 10^-1` is the float nearest 0.3.
fn pow10(x: f64, exp: i32) -> f64 {
    if exp >= 0 {
        x * 10f64.powi(exp)
    } else {
        x / 10f64.powi(-exp)
    }
}

/// `(lo, hi)` with room: an empty or too narrow span (one value, equal values) becomes an
/// interval around its middle `m`: `m ± max(1, |m|/10)` for `|m| >= 1`, `0..2m` for a small
/// `m`, `-1..1` for 0.
pub fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    let magnitude = lo.abs().max(hi.abs());
    if hi - lo > (magnitude * 1e-9).max(1e-200) {
        return (lo, hi);
    }
    let mid = lo / 2.0 + hi / 2.0;
    let half = if mid.abs() < 1e-100 {
        1.0
    } else if mid.abs() >= 1.0 {
        (mid.abs() / 10.0).max(1.0)
    } else {
        mid.abs()
    };
    (mid - half, mid + half)
}

/// Round ticks enclosing `lo..=hi`: the smallest step of 1, 2 or 5 times a power of ten
/// (at least 1 if `integer`) that needs at most `max_ticks` ticks (at least 3). The axis then
/// runs from the first tick to the last.
pub fn nice_ticks(lo: f64, hi: f64, max_ticks: usize, integer: bool) -> Ticks {
    let (lo, hi) = widen((lo, hi));
    let max_ticks = max_ticks.max(3) as f64;
    let mut exp = ((hi - lo) / max_ticks).log10().floor() as i32 - 1;
    if integer {
        exp = exp.max(0);
    }
    loop {
        for mantissa in [1, 2, 5] {
            let step = pow10(mantissa as f64, exp);
            // The slack keeps 0.35 / 0.05 = 6.999.. from adding a tick.
            let first = (lo / step + 1e-9).floor();
            let last = (hi / step - 1e-9).ceil().max(first + 1.0);
            if last - first < max_ticks {
                return Ticks {
                    first: first as i64,
                    count: (last - first) as usize + 1,
                    mantissa,
                    exp,
                };
            }
        }
        exp += 1;
    }
}

/// The most ticks (at most 8) whose labels have room on an axis `length` pixels long:
/// side by side on a horizontal axis, 2.5 lines apart on a vertical one.
fn fit_ticks(
    (lo, hi): (f64, f64),
    length: f64,
    integer: bool,
    horizontal: bool,
) -> (Ticks, Vec<String>) {
    let mut max_ticks = 8;
    loop {
        let ticks = nice_ticks(lo, hi, max_ticks, integer);
        let labels = ticks.labels();
        let needed = if horizontal {
            widest(&labels, TICK_FONT) + 10.0
        } else {
            TICK_FONT * 2.5
        };
        if length / (ticks.count - 1) as f64 >= needed || max_ticks <= 3 {
            return (ticks, labels);
        }
        max_ticks -= 1;
    }
}

fn fixed_label(v: f64, exp: i32) -> String {
    let decimals = (-exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn sci_label(v: f64, exp: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (v.abs().log10().floor() as i32 - exp).max(0) as usize;
    let s = format!("{v:.decimals$e}");
    let (mantissa, power) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{}e{power}", trim_zeros(mantissa))
}

/// `1.50` -> `1.5`, `2.00` -> `2`, `-0.0` -> `0`.
fn trim_zeros(s: &str) -> String {
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// A number for people (descriptions, tooltips): 6 significant digits, no trailing zeros,
/// scientific below 1e-4 and from 1e15.
fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let e = v.abs().log10().floor() as i32;
    if (-4..15).contains(&e) {
        let decimals = (5 - e).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}"))
    } else {
        let s = format!("{v:.5e}");
        let (mantissa, power) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{power}", trim_zeros(mantissa))
    }
}

/// Maps the range of `ticks` (data) onto `r0..r1` (pixels).
#[derive(Clone, Copy, Debug)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    fn new(ticks: &Ticks, r0: f64, r1: f64) -> Scale {
        Scale {
            d0: ticks.lo(),
            d1: ticks.hi(),
            r0,
            r1,
        }
    }

    fn map(self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// The plot area, in pixels.
#[derive(Clone, Copy, Debug)]
struct Frame {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Frame {
    /// At least 10 pixels each way, however small the chart.
    fn new(left: f64, top: f64, right: f64, bottom: f64) -> Frame {
        Frame {
            left,
            top,
            right: right.max(left + 10.0),
            bottom: bottom.max(top + 10.0),
        }
    }

    fn width(&self) -> f64 {
        self.right - self.left
    }
}

fn extent(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

fn char_width(font: f64) -> f64 {
    font * 0.6
}

/// An estimate: there are no font metrics here.
fn text_width(text: &str, font: f64) -> f64 {
    text.chars().count() as f64 * char_width(font)
}

fn widest(texts: &[String], font: f64) -> f64 {
    texts
        .iter()
        .map(|t| text_width(t, font))
        .fold(0.0, f64::max)
}

/// Room right of the plot area for half the last x tick label.
fn right_margin(x_labels: &[String]) -> f64 {
    let last = x_labels.last().map_or(0.0, |l| text_width(l, TICK_FONT));
    (last / 2.0 + 6.0).max(20.0)
}

/// `text` cut to `max` characters, the last one "…".
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

// ---------------------------------------------------------------------------------------------
// Writing SVG

/// A coordinate as written: at most 2 decimals, no trailing zeros, never NaN or infinite.
struct Px(f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let v = if self.0.is_finite() {
            (self.0 * 100.0).round() / 100.0 + 0.0
        } else {
            0.0
        };
        if v == v.trunc() && v.abs() < 1e15 {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v}")
        }
    }
}

/// Appends `text` with `& < > " '` escaped and characters XML 1.0 does not allow replaced.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// The document being written.
struct Svg {
    out: String,
    width: f64,
    height: f64,
}

impl Svg {
    /// The root element, the accessible title and a white background (so a dark notebook
    /// theme does not swallow the dark text).
    fn begin(chart: &Chart) -> Svg {
        let (w, h) = (chart.width, chart.height);
        let label = if chart.title.is_empty() {
            escape(&chart.describe())
        } else {
            escape(&chart.title)
        };
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" font-family="sans-serif" data-kind="{}" data-count="{}">"#,
            chart.kind.word(),
            chart.count()
        );
        let _ = writeln!(out, "<title>{label}</title>");
        let _ = writeln!(out, r##"<rect width="{w}" height="{h}" fill="#fff"/>"##);
        Svg {
            out,
            width: f64::from(w),
            height: f64::from(h),
        }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    /// `<text x y attrs>text</text>`; `attrs` is trusted, `text` is escaped.
    fn text(&mut self, x: f64, y: f64, attrs: &str, text: &str) {
        let sep = if attrs.is_empty() { "" } else { " " };
        let _ = write!(
            self.out,
            r#"<text x="{}" y="{}"{sep}{attrs}>"#,
            Px(x),
            Px(y)
        );
        escape_into(&mut self.out, text);
        self.out.push_str("</text>\n");
    }

    /// Opens a mark `<rect class="mark" ...` between two corners, in any order; closed by
    /// [`Svg::tooltip_and_close`].
    fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        let _ = write!(
            self.out,
            r#"<rect class="mark" x="{}" y="{}" width="{}" height="{}""#,
            Px(x0.min(x1)),
            Px(y0.min(y1)),
            Px((x1 - x0).abs()),
            Px((y1 - y0).abs())
        );
    }

    fn tooltip_and_close(&mut self, tag: &str, tip: &str) {
        self.out.push_str("><title>");
        escape_into(&mut self.out, tip);
        let _ = writeln!(self.out, "</title></{tag}>");
    }

    fn hline(&mut self, x0: f64, x1: f64, y: f64, stroke: &str) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" shape-rendering="crispEdges"/>"#,
            Px(x0),
            Px(y),
            Px(x1),
            Px(y)
        );
    }

    /// Light lines at the ticks of the y axis and, if given, of the x axis.
    fn grid(&mut self, frame: &Frame, x: Option<(&Ticks, Scale)>, (y_ticks, y): (&Ticks, Scale)) {
        let _ = writeln!(
            self.out,
            r#"<g stroke="{GRID}" stroke-width="1" shape-rendering="crispEdges">"#
        );
        for v in y_ticks.values() {
            let py = Px(y.map(v));
            let _ = writeln!(
                self.out,
                r#"<line x1="{}" y1="{py}" x2="{}" y2="{py}"/>"#,
                Px(frame.left),
                Px(frame.right)
            );
        }
        if let Some((x_ticks, x)) = x {
            for v in x_ticks.values() {
                let px = Px(x.map(v));
                let _ = writeln!(
                    self.out,
                    r#"<line x1="{px}" y1="{}" x2="{px}" y2="{}"/>"#,
                    Px(frame.top),
                    Px(frame.bottom)
                );
            }
        }
        self.out.push_str("</g>\n");
    }

    /// The two axis lines, left and bottom.
    fn axes(&mut self, frame: &Frame) {
        let _ = writeln!(
            self.out,
            r#"<path d="M{} {}V{}H{}" fill="none" stroke="{AXIS}" stroke-width="1" shape-rendering="crispEdges"/>"#,
            Px(frame.left),
            Px(frame.top),
            Px(frame.bottom),
            Px(frame.right)
        );
    }

    /// Tick marks under the x axis with their labels.
    fn x_ticks(&mut self, frame: &Frame, ticks: &Ticks, labels: &[String], x: Scale) {
        let mut d = String::new();
        for v in ticks.values() {
            let _ = write!(d, "M{} {}v5", Px(x.map(v)), Px(frame.bottom));
        }
        let _ = writeln!(
            self.out,
            r#"<path d="{d}" stroke="{AXIS}" shape-rendering="crispEdges"/>"#
        );
        let _ = writeln!(
            self.out,
            r#"<g font-size="{TICK_FONT}" fill="{TICK_TEXT}" text-anchor="middle">"#
        );
        for (v, label) in ticks.values().into_iter().zip(labels) {
            self.text(x.map(v), frame.bottom + 19.0, "", label);
        }
        self.out.push_str("</g>\n");
    }

    /// Tick marks left of the y axis with their labels.
    fn y_ticks(&mut self, frame: &Frame, ticks: &Ticks, labels: &[String], y: Scale) {
        let mut d = String::new();
        for v in ticks.values() {
            let _ = write!(d, "M{} {}h5", Px(frame.left - 5.0), Px(y.map(v)));
        }
        let _ = writeln!(
            self.out,
            r#"<path d="{d}" stroke="{AXIS}" shape-rendering="crispEdges"/>"#
        );
        let _ = writeln!(
            self.out,
            r#"<g font-size="{TICK_FONT}" fill="{TICK_TEXT}" text-anchor="end">"#
        );
        for (v, label) in ticks.values().into_iter().zip(labels) {
            self.text(frame.left - 8.0, y.map(v) + 4.0, "", label);
        }
        self.out.push_str("</g>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::charts::build;
    use crate::error::VmError;
    use crate::value::{RangeValue, Types, Value};
    use ruchy_syntax::diagnostic::DiagnosticKind;
    use std::rc::Rc;

    fn ints(v: &[i64]) -> Value {
        Value::array(v.iter().map(|&n| Value::Int(n)).collect())
    }

    fn floats(v: &[f64]) -> Value {
        Value::array(v.iter().map(|&f| Value::Float(f)).collect())
    }

    fn strs(v: &[&str]) -> Value {
        Value::array(v.iter().map(|&s| Value::str(s)).collect())
    }

    fn range(start: Option<i64>, end: Option<i64>, inclusive: bool) -> Value {
        Value::Range(Rc::new(RangeValue {
            start,
            end,
            inclusive,
        }))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let map: crate::object::ObjMap = pairs
            .iter()
            .map(|(k, v)| (Rc::from(*k), v.clone()))
            .collect();
        Value::object(map)
    }

    fn name(kind: ChartKind) -> &'static str {
        match kind {
            ChartKind::Line => "line_chart",
            ChartKind::Scatter => "scatter_chart",
            ChartKind::Bar => "bar_chart",
            ChartKind::Histogram => "histogram",
        }
    }

    fn chart(kind: ChartKind, args: &[Value]) -> Chart {
        build(kind, name(kind), args, &Types::default()).expect("chart builds")
    }

    fn error(kind: ChartKind, args: &[Value]) -> VmError {
        match build(kind, name(kind), args, &Types::default()) {
            Ok(c) => panic!("expected an error, got {}", c.describe()),
            Err(e) => e,
        }
    }

    fn message(kind: ChartKind, args: &[Value]) -> String {
        error(kind, args).message
    }

    /// The SVG of `chart`, checked to be well-formed XML with no forbidden content.
    fn svg_of(chart: &Chart) -> String {
        let svg = chart.svg();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        for bad in [
            "NaN", "inf", "<style", "<script", "<image", "href", "style=",
        ] {
            assert!(!svg.contains(bad), "{bad} in\n{svg}");
        }
        svg
    }

    fn count(svg: &str, tag: &str, class: &str) -> usize {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.tag_name().name() == tag && n.attribute("class") == Some(class))
            .count()
    }

    fn root_attr(svg: &str, attr: &str) -> String {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.root_element().attribute(attr).unwrap_or("").to_string()
    }

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.tag_name().name() == "text")
            .map(|n| n.text().unwrap_or("").to_string())
            .collect()
    }

    fn tick_values(lo: f64, hi: f64) -> Vec<f64> {
        nice_ticks(lo, hi, 8, false).values()
    }

    // --- ticks ------------------------------------------------------------------------------

    #[test]
    fn ticks_are_round_and_enclose_the_data() {
        assert_eq!(tick_values(0.0, 97.0), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(tick_values(0.1, 0.35), [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
        assert_eq!(nice_ticks(0.1, 0.35, 8, false).step(), 0.05);
        assert_eq!(tick_values(0.0, 10.0), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            tick_values(-3.0, 7.0),
            [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]
        );
        assert_eq!(tick_values(1.5e6, 9.2e6), [0.0, 2e6, 4e6, 6e6, 8e6, 1e7]);
        assert_eq!(nice_ticks(0.0, 3.0, 8, true).values(), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 8, true).values(), [0.0, 1.0]);
    }

    #[test]
    fn ticks_for_many_ranges_are_1_2_5_steps_covering_the_data() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..2000 {
            let scale = 10f64.powi((next() * 24.0) as i32 - 12);
            let (a, b) = ((next() - 0.5) * scale, (next() - 0.5) * scale);
            let (lo, hi) = (a.min(b), a.max(b));
            for max in 3..=8 {
                let t = nice_ticks(lo, hi, max, false);
                assert!([1, 2, 5].contains(&t.mantissa));
                assert!((2..=max).contains(&t.count), "{lo} {hi} {max}: {t:?}");
                let step = t.step();
                assert!(t.lo() <= lo + step * 1e-6 && t.hi() >= hi - step * 1e-6);
                assert!(t.lo() > lo - step && t.hi() < hi + step, "{lo} {hi}: {t:?}");
                assert!(t.values().iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn degenerate_ranges_get_an_axis_around_the_value() {
        assert_eq!(widen((5.0, 5.0)), (4.0, 6.0));
        assert_eq!(widen((0.0, 0.0)), (-1.0, 1.0));
        assert_eq!(widen((0.5, 0.5)), (0.0, 1.0));
        assert_eq!(widen((-200.0, -200.0)), (-220.0, -180.0));
        assert_eq!(widen((1.0, 2.0)), (1.0, 2.0));
        assert_eq!(tick_values(5.0, 5.0), [4.0, 4.5, 5.0, 5.5, 6.0]);
        for (lo, hi) in [
            (1e300, 1e300),
            (-1e300, 1e300),
            (1e-300, 1e-300),
            (3.0, 3.0 + 1e-14),
        ] {
            let t = nice_ticks(lo, hi, 8, false);
            assert!(
                t.lo() <= lo && t.hi() >= hi && t.lo() < t.hi(),
                "{lo} {hi} {t:?}"
            );
            assert!(t.values().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn tick_labels_have_no_float_noise() {
        assert_eq!(fixed_label(0.1 + 0.2, -1), "0.3");
        assert_eq!(fixed_label(3.0, 0), "3");
        assert_eq!(fixed_label(-0.0, -1), "0");
        let labels = |lo, hi| nice_ticks(lo, hi, 8, false).labels();
        assert_eq!(labels(0.0, 97.0), ["0", "20", "40", "60", "80", "100"]);
        assert_eq!(
            labels(0.1, 0.35),
            ["0.1", "0.15", "0.2", "0.25", "0.3", "0.35"]
        );
        assert_eq!(
            labels(0.0, 0.3 + 1e-12),
            ["0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3"]
        );
        assert_eq!(labels(-1.0, 1.0), ["-1", "-0.5", "0", "0.5", "1"]);
        assert_eq!(labels(0.0, 1.5e6), ["0", "500000", "1000000", "1500000"]);
        assert_eq!(labels(0.0, 1.5e7), ["0", "5e6", "1e7", "1.5e7"]);
        assert_eq!(labels(0.0, 4e-7), ["0", "1e-7", "2e-7", "3e-7", "4e-7"]);
        assert_eq!(
            labels(1.0, 1.00002),
            ["1", "1.000005", "1.00001", "1.000015", "1.00002"]
        );
    }

    // --- building and drawing each kind ----------------------------------------------------

    #[test]
    fn line_chart_from_arrays_is_one_path_through_the_points_in_order() {
        let c = chart(
            ChartKind::Line,
            &[ints(&[3, 1, 2]), floats(&[1.5, -2.0, 4.25])],
        );
        assert_eq!(c.kind(), ChartKind::Line);
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "path", "mark"), 1);
        assert_eq!(root_attr(&svg, "data-count"), "3");
        assert_eq!(root_attr(&svg, "data-kind"), "line");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let path = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("mark"))
            .unwrap();
        assert_eq!(path.attribute("fill"), Some("none"));
        assert_eq!(path.attribute("stroke"), Some(DEFAULT_COLOR));
        let d = path.attribute("d").unwrap();
        let nums: Vec<f64> = d
            .split(['M', 'L', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(nums.len(), 6, "{d}");
        // x order as given: 3, 1, 2; y: the highest value (4.25) is nearest the top.
        assert!(nums[0] > nums[4] && nums[4] > nums[2], "{d}");
        assert!(nums[5] < nums[1] && nums[1] < nums[3], "{d}");
    }

    #[test]
    fn line_chart_from_ranges() {
        let c = chart(
            ChartKind::Line,
            &[
                range(Some(0), Some(12), false),
                range(Some(5), Some(16), true),
            ],
        );
        assert_eq!(c.describe(), "<line chart: 12 points, x 0..11, y 5..16>");
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "path", "mark"), 1);
        assert_eq!(root_attr(&svg, "data-count"), "12");
    }

    #[test]
    fn scatter_chart_has_one_circle_per_point() {
        let xs: Vec<f64> = (0..50).map(|i| i as f64 * 0.37).collect();
        let ys: Vec<f64> = xs.iter().map(|x| x.sin()).collect();
        let c = chart(ChartKind::Scatter, &[floats(&xs), floats(&ys)]);
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "circle", "mark"), 50);
        assert_eq!(root_attr(&svg, "data-count"), "50");
        let c = chart(
            ChartKind::Scatter,
            &[
                range(Some(1), Some(3), true),
                Value::tuple(vec![Value::Int(4), Value::Float(0.5), Value::Int(-2)]),
            ],
        );
        assert_eq!(count(&svg_of(&c), "circle", "mark"), 3);
    }

    #[test]
    fn bar_chart_has_one_rect_per_bar_and_labels_under_them() {
        let c = chart(
            ChartKind::Bar,
            &[
                strs(&["north", "south", "east", "west"]),
                ints(&[3, 7, 1, 12]),
            ],
        );
        assert_eq!(c.describe(), "<bar chart: 4 bars, values 1..12>");
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "rect", "mark"), 4);
        assert_eq!(root_attr(&svg, "data-count"), "4");
        let texts = texts(&svg);
        for label in ["north", "south", "east", "west"] {
            assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
        }
        // Labels that are not strings are shown as println shows them.
        let c = chart(
            ChartKind::Bar,
            &[
                Value::array(vec![Value::Int(2024), Value::Float(1.5), Value::Bool(true)]),
                ints(&[1, 2, 3]),
            ],
        );
        let texts = super::tests::texts(&svg_of(&c));
        for label in ["2024", "1.5", "true"] {
            assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
        }
        let c = chart(
            ChartKind::Bar,
            &[
                range(Some(1), Some(5), true),
                range(Some(10), Some(15), false),
            ],
        );
        assert_eq!(count(&svg_of(&c), "rect", "mark"), 5);
    }

    /// (y, height) of each mark rect.
    fn rects(svg: &str) -> Vec<(f64, f64)> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.tag_name().name() == "rect" && n.attribute("class") == Some("mark"))
            .map(|n| {
                let get = |a| n.attribute(a).unwrap().parse::<f64>().unwrap();
                (get("y"), get("height"))
            })
            .collect()
    }

    #[test]
    fn negative_bars_go_down_from_zero() {
        let c = chart(
            ChartKind::Bar,
            &[strs(&["a", "b", "c"]), floats(&[5.0, -2.5, 0.0])],
        );
        let svg = svg_of(&c);
        let r = rects(&svg);
        let zero = r[0].0 + r[0].1; // the bottom of the positive bar
        assert!(r[0].1 > 0.0 && r[1].1 > 0.0);
        assert_eq!(r[1].0, zero, "the negative bar starts at 0");
        assert_eq!(r[2], (zero, 0.0));
        assert!(r[0].1 > r[1].1, "5 is taller than 2.5");
        // The value axis includes 0 even when every value is far from it.
        let c = chart(ChartKind::Bar, &[strs(&["a", "b"]), ints(&[1000, 1010])]);
        assert!(texts(&svg_of(&c)).iter().any(|t| t == "0"));
    }

    #[test]
    fn many_bars_and_long_labels_stay_readable() {
        let labels: Vec<String> = (0..300)
            .map(|i| format!("category number {i} with a long name"))
            .collect();
        let label_values: Vec<Value> = labels.iter().map(|l| Value::str(l.as_str())).collect();
        let values: Vec<i64> = (0..300).map(|i| (i * 7) % 23).collect();
        let c = chart(ChartKind::Bar, &[Value::array(label_values), ints(&values)]);
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "rect", "mark"), 300);
        let texts = texts(&svg);
        let shown: Vec<&String> = texts.iter().filter(|t| t.starts_with("category")).collect();
        assert!(
            !shown.is_empty() && shown.len() < 60,
            "{} labels shown",
            shown.len()
        );
        assert!(shown
            .iter()
            .all(|t| t.ends_with('…') && t.chars().count() < 40));
        assert!(svg.contains("rotate(-45"));
        // The full label is kept in the tooltip.
        assert!(svg.contains("<title>category number 5 with a long name: 12</title>"));
    }

    #[test]
    fn histogram_has_one_rect_per_bin_and_counts_every_value() {
        let values: Vec<i64> = (0..120).map(|i| 18 + (i * 37) % 60).collect();
        let c = chart(
            ChartKind::Histogram,
            &[ints(&values), obj(&[("title", Value::str("Ages"))])],
        );
        assert_eq!(
            c.describe(),
            "<histogram \"Ages\": 120 values in 10 bins, 18..77>"
        );
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "rect", "mark"), 10);
        assert_eq!(root_attr(&svg, "data-count"), "120");
        let c = chart(ChartKind::Histogram, &[ints(&values), Value::Int(7)]);
        assert_eq!(count(&svg_of(&c), "rect", "mark"), 7);
        let c = chart(
            ChartKind::Histogram,
            &[
                range(Some(0), Some(100), false),
                Value::Int(4),
                obj(&[("color", Value::str("teal"))]),
            ],
        );
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "rect", "mark"), 4);
        assert!(svg.contains(r#"fill="teal""#));
        // Bins hold 0..25, 25..50, 50..75, 75..99 (the largest value in the last bin).
        assert_eq!(
            bin_counts(&[0.0, 1.0, 2.0, 3.0, 4.0], 0.0, 4.0, 4),
            [1, 1, 1, 2]
        );
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(bin_counts(&values, 0.0, 99.0, 4), [25, 25, 25, 25]);
        assert_eq!(bin_counts(&values, 0.0, 99.0, 7).iter().sum::<usize>(), 100);
        // The y axis counts in whole numbers, the x axis is numeric.
        let c = chart(ChartKind::Histogram, &[floats(&[0.5, 1.5]), Value::Int(2)]);
        let texts = texts(&svg_of(&c));
        assert!(texts.iter().any(|t| t == "1"), "{texts:?}");
        assert!(!texts.iter().any(|t| t == "0.5" || t == "0.2"), "{texts:?}");
    }

    #[test]
    fn degenerate_data_draws_sensible_axes() {
        let cases = [
            chart(ChartKind::Line, &[ints(&[4]), ints(&[7])]),
            chart(ChartKind::Scatter, &[ints(&[1]), floats(&[0.0])]),
            chart(ChartKind::Scatter, &[ints(&[2, 2, 2]), ints(&[1, 2, 3])]),
            chart(ChartKind::Line, &[ints(&[1, 2, 3]), ints(&[5, 5, 5])]),
            chart(ChartKind::Bar, &[strs(&["only"]), ints(&[3])]),
            chart(ChartKind::Bar, &[strs(&["a", "b"]), ints(&[0, 0])]),
            chart(ChartKind::Histogram, &[ints(&[9, 9, 9, 9])]),
            chart(ChartKind::Histogram, &[floats(&[1e300, -1e300, 0.0])]),
            chart(
                ChartKind::Scatter,
                &[floats(&[1e-300, 2e-300]), floats(&[1e300, 1e300])],
            ),
            chart(
                ChartKind::Line,
                &[floats(&[1e15, 1e15 + 1.0]), floats(&[-1e-9, 1e-9])],
            ),
        ];
        for c in &cases {
            let svg = svg_of(c);
            assert!(texts(&svg).len() >= 4, "{}", c.describe());
        }
        // A one-point line shows its point.
        assert_eq!(count(&svg_of(&cases[0]), "circle", "point"), 1);
        // All values equal: one full bin in the middle.
        let r = rects(&svg_of(&cases[6]));
        assert_eq!(r.iter().filter(|(_, h)| *h > 0.0).count(), 1);
        assert_eq!(
            cases[6].describe(),
            "<histogram: 4 values in 10 bins, 9..9>"
        );
    }

    #[test]
    fn coordinates_have_at_most_two_decimals_and_big_scatters_stay_small() {
        let n = 10_000;
        let xs: Vec<f64> = (0..n)
            .map(|i| (i as f64 * 0.618_033_988_7).fract() * 1e3)
            .collect();
        let ys: Vec<f64> = (0..n)
            .map(|i| (i as f64 * 0.414_213_562_3).fract() - 0.5)
            .collect();
        let c = chart(ChartKind::Scatter, &[floats(&xs), floats(&ys)]);
        let svg = svg_of(&c);
        assert_eq!(count(&svg, "circle", "mark"), n);
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
        let doc = roxmltree::Document::parse(&svg).unwrap();
        for node in doc.descendants().filter(|n| n.is_element()) {
            for a in [
                "x", "y", "cx", "cy", "width", "height", "x1", "y1", "x2", "y2",
            ] {
                if let Some(v) = node.attribute(a) {
                    let decimals = v.split_once('.').map_or(0, |(_, d)| d.len());
                    assert!(decimals <= 2 && v.parse::<f64>().is_ok(), "{a}={v}");
                }
            }
        }
        assert_eq!(Px(1.0 / 3.0).to_string(), "0.33");
        assert_eq!(Px(2.0).to_string(), "2");
        assert_eq!(Px(-0.001).to_string(), "0");
        assert_eq!(Px(f64::NAN).to_string(), "0");
    }

    // --- options, titles, escaping ----------------------------------------------------------

    #[test]
    fn options_set_title_labels_size_and_color() {
        let options = obj(&[
            ("title", Value::str("Sales")),
            ("x_label", Value::str("month")),
            ("y_label", Value::str("units")),
            ("width", Value::Int(800)),
            ("height", Value::Float(300.0)),
            ("color", Value::str("rgb(200, 50, 50)")),
        ]);
        let c = chart(
            ChartKind::Scatter,
            &[ints(&[1, 2, 3]), ints(&[4, 5, 6]), options],
        );
        let svg = svg_of(&c);
        assert_eq!(root_attr(&svg, "width"), "800");
        assert_eq!(root_attr(&svg, "height"), "300");
        assert_eq!(root_attr(&svg, "viewBox"), "0 0 800 300");
        assert_eq!(root_attr(&svg, "role"), "img");
        assert_eq!(root_attr(&svg, "font-family"), "sans-serif");
        let texts = texts(&svg);
        for t in ["Sales", "month", "units"] {
            assert!(texts.iter().any(|x| x == t), "{t}: {texts:?}");
        }
        assert!(svg.contains("<title>Sales</title>"));
        assert!(svg.contains(r#"fill="rgb(200, 50, 50)""#));
        assert!(svg.contains("rotate(-90"), "the y label is turned");
        assert!(c
            .describe()
            .starts_with("<scatter chart \"Sales\": 3 points"));
        // Defaults; nil means the default.
        let c = chart(
            ChartKind::Line,
            &[ints(&[1, 2]), ints(&[1, 2]), obj(&[("title", Value::Nil)])],
        );
        let svg = svg_of(&c);
        assert_eq!(root_attr(&svg, "width"), "640");
        assert_eq!(root_attr(&svg, "height"), "400");
        assert!(svg.contains(&format!("<title>{}</title>", escape(&c.describe()))));
        // The smallest and largest sizes draw.
        for size in [100, 4000] {
            let o = obj(&[
                ("width", Value::Int(size)),
                ("height", Value::Int(size)),
                ("title", Value::str("t")),
                ("x_label", Value::str("x")),
                ("y_label", Value::str("y")),
            ]);
            svg_of(&chart(
                ChartKind::Bar,
                &[strs(&["a long label", "b"]), ints(&[1, -1]), o.clone()],
            ));
            svg_of(&chart(ChartKind::Histogram, &[ints(&[1, 5, 9]), o]));
        }
    }

    #[test]
    fn histogram_labels_its_counts_unless_told_otherwise() {
        let c = chart(ChartKind::Histogram, &[ints(&[1, 2, 3])]);
        assert!(texts(&svg_of(&c)).iter().any(|t| t == "count"));
        let c = chart(
            ChartKind::Histogram,
            &[ints(&[1, 2, 3]), obj(&[("y_label", Value::str(""))])],
        );
        assert!(!texts(&svg_of(&c)).iter().any(|t| t == "count"));
    }

    #[test]
    fn text_is_escaped() {
        let title = r#"<b>&"x"'"#;
        let c = chart(
            ChartKind::Bar,
            &[
                strs(&["<i>", "a&b"]),
                ints(&[1, 2]),
                obj(&[
                    ("title", Value::str(title)),
                    ("x_label", Value::str("\u{1}ctl")),
                ]),
            ],
        );
        let svg = svg_of(&c);
        assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;&apos;"));
        assert!(!svg.contains("<b>") && !svg.contains("<i>"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let t = doc
            .descendants()
            .find(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "title")))
            .unwrap();
        assert_eq!(t.text(), Some(title));
        assert_eq!(doc.root_element().attribute("aria-label"), Some(title));
        let texts = texts(&svg);
        assert!(texts.iter().any(|t| t == "<i>") && texts.iter().any(|t| t == "a&b"));
        assert!(texts.iter().any(|t| t == "\u{FFFD}ctl"));
    }

    // --- errors -----------------------------------------------------------------------------

    #[test]
    fn wrong_argument_counts() {
        use ChartKind::*;
        assert_eq!(
            message(Line, &[ints(&[1])]),
            "line_chart() expects 2 or 3 arguments (xs, ys, options), got 1"
        );
        assert_eq!(
            message(Scatter, &[ints(&[1]), ints(&[1]), obj(&[]), Value::Nil]),
            "scatter_chart() expects 2 or 3 arguments (xs, ys, options), got 4"
        );
        assert_eq!(
            message(Bar, &[]),
            "bar_chart() expects 2 or 3 arguments (labels, values, options), got 0"
        );
        assert_eq!(
            message(Histogram, &[]),
            "histogram() expects 1 to 3 arguments (values, bins, options), got 0"
        );
        assert_eq!(error(Line, &[]).kind, DiagnosticKind::Runtime);
    }

    #[test]
    fn wrong_data() {
        use ChartKind::*;
        assert_eq!(
            message(Line, &[ints(&[1, 2, 3]), ints(&[1, 2, 3, 4])]),
            "line_chart(): xs has 3 numbers and ys has 4; they must be the same length"
        );
        assert_eq!(
            message(Bar, &[strs(&["a"]), ints(&[1, 2])]),
            "bar_chart(): labels has 1 items and values has 2; they must be the same length"
        );
        let e = error(
            Scatter,
            &[
                ints(&[1, 2, 3]),
                Value::array(vec![Value::Int(1), Value::Int(2), Value::str("x")]),
            ],
        );
        assert_eq!(
            e.message,
            "scatter_chart(): ys[2] is a string, not a number"
        );
        assert_eq!(e.kind, DiagnosticKind::Type);
        assert_eq!(
            message(Histogram, &[Value::array(vec![Value::Nil])]),
            "histogram(): values[0] is nil, not a number"
        );
        assert_eq!(
            message(Line, &[Value::array(vec![obj(&[])]), ints(&[1])]),
            "line_chart(): xs[0] is an object, not a number"
        );
        let e = error(
            Line,
            &[
                ints(&[0, 1, 2, 3, 4, 5]),
                floats(&[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]),
            ],
        );
        assert_eq!(e.message, "line_chart(): ys[5] is NaN");
        assert_eq!(e.kind, DiagnosticKind::Runtime);
        assert_eq!(
            message(Line, &[floats(&[f64::INFINITY]), ints(&[1])]),
            "line_chart(): xs[0] is not finite (inf)"
        );
        assert_eq!(
            message(Histogram, &[floats(&[1.0, f64::NEG_INFINITY])]),
            "histogram(): values[1] is not finite (-inf)"
        );
        assert_eq!(
            message(Line, &[floats(&[1e308]), ints(&[1])]),
            "line_chart(): xs[0] is 1e308, too large to draw (at most 1e300 in size)"
        );
        let e = error(Line, &[obj(&[]), ints(&[1])]);
        assert_eq!(
            e.message,
            "line_chart(): xs must be an array or a range of numbers, found object"
        );
        assert_eq!(e.kind, DiagnosticKind::Type);
        assert_eq!(
            message(Histogram, &[Value::str("1 2 3")]),
            "histogram(): values must be an array or a range of numbers, found string"
        );
        assert_eq!(
            message(Bar, &[Value::Int(3), ints(&[1])]),
            "bar_chart(): labels must be an array or a range, found integer"
        );
        assert_eq!(
            message(Bar, &[strs(&[]), ints(&[])]),
            "bar_chart(): no data (labels and values are empty)"
        );
        assert_eq!(
            message(Line, &[ints(&[]), ints(&[])]),
            "line_chart(): no data (xs and ys are empty)"
        );
        assert_eq!(message(Histogram, &[ints(&[])]), "histogram(): no values");
        assert_eq!(
            message(Histogram, &[range(Some(5), Some(5), false)]),
            "histogram(): no values"
        );
    }

    #[test]
    fn ranges_must_be_closed_and_not_too_long() {
        use ChartKind::*;
        assert_eq!(
            message(Line, &[range(Some(0), None, false), ints(&[1])]),
            "line_chart(): xs is an open range; a chart needs both ends, e.g. 0..10"
        );
        assert_eq!(
            message(Histogram, &[range(Some(0), Some(5_000_000), false)]),
            "histogram(): values is a range of 5000000 numbers; at most 1000000 can be drawn"
        );
        assert_eq!(
            message(Histogram, &[range(Some(i64::MIN), Some(i64::MAX), true)]),
            "histogram(): values is a range of 18446744073709551616 numbers; at most 1000000 can be drawn"
        );
        let c = chart(
            Histogram,
            &[range(Some(i64::MAX - 1), Some(i64::MAX), true)],
        );
        assert_eq!(c.count(), 2);
    }

    #[test]
    fn wrong_bins() {
        use ChartKind::*;
        let v = ints(&[1, 2, 3]);
        assert_eq!(
            message(Histogram, &[v.clone(), Value::Int(0)]),
            "histogram(): bins must be between 1 and 1000, got 0"
        );
        assert_eq!(
            message(Histogram, &[v.clone(), Value::Int(1001)]),
            "histogram(): bins must be between 1 and 1000, got 1001"
        );
        let e = error(Histogram, &[v.clone(), Value::str("10")]);
        assert_eq!(e.message, "histogram(): the second argument must be bins (an integer) or options (an object), found string");
        assert_eq!(e.kind, DiagnosticKind::Type);
        assert_eq!(
            message(Histogram, &[v.clone(), Value::Float(10.0), obj(&[])]),
            "histogram(): bins must be an integer, found float"
        );
        assert_eq!(
            message(Histogram, &[v.clone(), obj(&[]), obj(&[])]),
            "histogram(): bins must be an integer, found object"
        );
        let c = chart(Histogram, &[v.clone(), Value::Int(1000)]);
        assert_eq!(count(&svg_of(&c), "rect", "mark"), 1000);
        let c = chart(Histogram, &[v, obj(&[("title", Value::str("t"))])]);
        assert_eq!(c.describe(), "<histogram \"t\": 3 values in 10 bins, 1..3>");
    }

    #[test]
    fn wrong_options() {
        use ChartKind::*;
        let with = |o: Value| message(Line, &[ints(&[1]), ints(&[1]), o]);
        assert_eq!(
            with(obj(&[("colour", Value::str("red"))])),
            "line_chart(): unknown option 'colour'; the options are title, x_label, y_label, width, height, color"
        );
        let e = error(Line, &[ints(&[1]), ints(&[1]), Value::str("Sales")]);
        assert_eq!(
            e.message,
            "line_chart(): options must be an object such as {title: \"Sales\"}, found string"
        );
        assert_eq!(e.kind, DiagnosticKind::Type);
        assert_eq!(
            with(obj(&[("title", Value::Int(3))])),
            "line_chart(): option title must be a string, found integer"
        );
        assert_eq!(
            with(obj(&[("y_label", Value::Bool(true))])),
            "line_chart(): option y_label must be a string, found boolean"
        );
        assert_eq!(
            with(obj(&[("width", Value::str("640"))])),
            "line_chart(): option width must be a number (pixels), found string"
        );
        assert_eq!(
            with(obj(&[("width", Value::Int(50))])),
            "line_chart(): option width must be between 100 and 4000 pixels, got 50"
        );
        assert_eq!(
            with(obj(&[("height", Value::Float(f64::NAN))])),
            "line_chart(): option height must be between 100 and 4000 pixels, got NaN"
        );
        assert_eq!(
            with(obj(&[("height", Value::Float(4000.7))])),
            "line_chart(): option height must be between 100 and 4000 pixels, got 4000.7"
        );
        assert_eq!(
            with(obj(&[("color", Value::Int(1))])),
            "line_chart(): option color must be a string, found integer"
        );
        for bad in ["red\" onload=\"x", "red;", "<red>", "", "url(#x)'", "a\nb"] {
            assert_eq!(
                with(obj(&[("color", Value::str(bad))])),
                format!(
                    "line_chart(): option color must be a CSS color such as \"steelblue\", \"#4e79a7\" or \
                     \"rgb(78, 121, 167)\" (letters, digits, spaces and # ( ) , . % only), got {:?}",
                    bad.trim()
                )
            );
        }
        for good in [
            "red",
            "#abc",
            "#4E79A7",
            "rgb(1, 2, 3)",
            "hsl(120, 50%, 40%)",
            "rgba(0,0,0,.5)",
        ] {
            let c = chart(
                Line,
                &[ints(&[1]), ints(&[1]), obj(&[("color", Value::str(good))])],
            );
            assert!(svg_of(&c).contains(&format!("stroke=\"{good}\"")));
        }
    }
}
