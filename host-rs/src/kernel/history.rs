//! This kernel session's cells, for `history_request` (tail, range, search with a glob
//! pattern, as IPython answers them). Session number 1: the kernel keeps no history between
//! processes, and a restart is a new process.

use jupyter_protocol::{HistoryEntry, HistoryRequest};

/// The session number history entries carry.
pub const SESSION: usize = 1;

#[derive(Default)]
pub struct History {
    /// (execution count, input, output as text/plain)
    cells: Vec<(usize, String, String)>,
}

impl History {
    pub fn push(&mut self, count: usize, input: &str, output: &str) {
        self.cells
            .push((count, input.to_string(), output.to_string()));
    }

    pub fn answer(&self, request: &HistoryRequest) -> Vec<HistoryEntry> {
        let (picked, output): (Vec<&(usize, String, String)>, bool) = match request {
            HistoryRequest::Tail { n, output, .. } => {
                let n = (*n).max(0) as usize;
                let skip = self.cells.len().saturating_sub(n);
                (self.cells.iter().skip(skip).collect(), *output)
            }
            HistoryRequest::Range {
                session,
                start,
                stop,
                output,
                ..
            } => {
                let ours = session.is_none_or(|s| s <= 0 || s as usize == SESSION);
                let (start, stop) = (*start as i64, *stop as i64);
                let picked = self
                    .cells
                    .iter()
                    .filter(|(c, ..)| {
                        ours && (*c as i64) >= start && (stop <= 0 || (*c as i64) < stop)
                    })
                    .collect();
                (picked, *output)
            }
            HistoryRequest::Search {
                pattern,
                unique,
                output,
                n,
                ..
            } => {
                let mut picked: Vec<_> = self
                    .cells
                    .iter()
                    .filter(|(_, input, _)| glob(pattern, input))
                    .collect();
                if *unique {
                    // keep the latest of each input
                    let mut seen = std::collections::HashSet::new();
                    picked.reverse();
                    picked.retain(|(_, input, _)| seen.insert(input.as_str()));
                    picked.reverse();
                }
                if *n > 0 {
                    let skip = picked.len().saturating_sub(*n as usize);
                    picked.drain(..skip);
                }
                (picked, *output)
            }
        };
        picked
            .into_iter()
            .map(|(c, input, out)| {
                if output {
                    HistoryEntry::InputOutput(SESSION, *c, (input.clone(), out.clone()))
                } else {
                    HistoryEntry::Input(SESSION, *c, input.clone())
                }
            })
            .collect()
    }
}

/// A glob as IPython's history search takes it (SQLite GLOB): `*` any run, `?` one character,
/// the rest literal, the whole input matched.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // iterative matcher with one backtrack point (the last `*`)
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("1*2*", "1 + 2 * 3"));
        assert!(glob("6 ?*", "6 * 7"));
        assert!(glob("*", ""));
        assert!(glob("*x*", "let x = 1"));
        assert!(!glob("x", "let x = 1"));
        assert!(!glob("?", ""));
    }

    #[test]
    fn search_unique_and_n() {
        let mut h = History::default();
        for (i, c) in ["1 + 2", "3", "1 + 2", "1 + 2"].iter().enumerate() {
            h.push(i + 1, c, "");
        }
        let search = |unique, n| HistoryRequest::Search {
            pattern: "1*".into(),
            unique,
            output: false,
            raw: true,
            n,
        };
        assert_eq!(h.answer(&search(false, 0)).len(), 3);
        assert_eq!(h.answer(&search(true, 0)).len(), 1);
        assert_eq!(h.answer(&search(false, 2)).len(), 2);
    }
}
