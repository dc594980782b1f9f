//! The compute rows against CPython: each row's algorithm written idiomatically in Python in
//! `bench/python/<slug>.py` (the row's name in lowercase, other characters as `-`), run by
//! `python3` in the same bench run with start-up excluded (the program times its own `run()`
//! and prints `median_us result`). No language logic: the rows and their results come from
//! the component; this only runs the Python and divides.

use crate::render::Row;
use host::BenchmarkGroup;
use std::path::Path;
use std::process::Command;

use crate::host;

/// One compute row beside CPython.
pub struct Comparison {
    pub category: String,
    /// Our p50, microseconds.
    pub ours_us: f64,
    /// CPython's median, microseconds.
    pub cpython_us: f64,
    /// Whether CPython's result is the same text as our result.
    pub same_result: bool,
}

impl Comparison {
    /// Our time over CPython's (below 1: we are faster).
    pub fn ratio(&self) -> f64 {
        self.ours_us / self.cpython_us.max(1e-9)
    }
}

/// The file of a row: `fib(27)` -> `fib-27.py`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// `python3 --version`, when there is a `python3`.
pub fn version() -> Option<String> {
    let out = Command::new("python3").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs the Python program of every compute row in `rows` that has one, `runs` times each.
pub fn compare(dir: &Path, rows: &[Row], runs: u32) -> Vec<Comparison> {
    if version().is_none() {
        return Vec::new();
    }
    rows.iter()
        .filter(|r| r.group == BenchmarkGroup::Compute)
        .filter_map(|r| {
            let file = dir.join(format!("{}.py", slug(&r.category)));
            if !file.is_file() {
                return None;
            }
            let out = Command::new("python3")
                .arg(&file)
                .arg(runs.max(1).to_string())
                .current_dir(dir)
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let (us, result) = text.trim().split_once(' ')?;
            Some(Comparison {
                category: r.category.clone(),
                ours_us: r.stats.p50,
                cpython_us: us.parse().ok()?,
                same_result: result == r.result,
            })
        })
        .collect()
}

/// The comparison as a table.
pub fn table(title: &str, rows: &[Comparison]) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "{:<58} {:>14} {:>14} {:>7}  {}\n",
        "row", "ours p50 us", "CPython us", "ratio", "same result"
    ));
    for c in rows {
        out.push_str(&format!(
            "{:<58} {:>14.1} {:>14.1} {:>6.2}x  {}\n",
            c.category,
            c.ours_us,
            c.cpython_us,
            c.ratio(),
            if c.same_result { "yes" } else { "NO" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_name_the_python_files() {
        assert_eq!(slug("fib(27)"), "fib-27");
        assert_eq!(slug("sum 1..=1,000,000"), "sum-1-1-000-000");
        assert_eq!(slug("matrix product 200x200"), "matrix-product-200x200");
        let dir = crate::build::workspace_root().join("bench/python");
        for name in ["fib(27)", "word counts of 200,000 words", "float loop"] {
            assert!(dir.join(format!("{}.py", slug(name))).is_file(), "{name}");
        }
    }
}
