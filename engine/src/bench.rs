//! The seed's benchmark: five notebook cells, each with a latency target, timed inside the
//! engine (and so inside the component) with the session's clock.

use crate::session::Session;

/// The seed's five categories: name, cell, target in microseconds. They run in this order in
/// one session, so `double(21)` finds `double`.
pub const SEED_CELLS: [(&str, &str, f64); 5] = [
    ("simple assignment", "let x = 42", 5_000.0),
    ("expression", "let y = x * 2 + 1", 10_000.0),
    (
        "function definition",
        "fun double(n: Int) -> Int { n * 2 }",
        15_000.0,
    ),
    ("function call", "let result = double(21)", 10_000.0),
    ("control flow", "if x > 0 { x } else { 0 }", 10_000.0),
];

/// The per-cell latency target of the seed, in microseconds.
pub const CELL_TARGET_US: f64 = 10_000.0;
/// The overall mean the seed's success criteria ask for, in microseconds.
pub const MEAN_TARGET_US: f64 = 8_000.0;
/// Share of simple cells that must finish under the cell target.
pub const SIMPLE_SHARE_TARGET: f64 = 0.95;

/// Summary statistics of a list of samples (microseconds); percentiles by nearest rank.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub samples: u32,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = ((p / 100.0) * s.len() as f64).ceil() as usize;
            s[i.clamp(1, s.len()) - 1]
        };
        Stats {
            samples: s.len() as u32,
            mean: s.iter().sum::<f64>() / s.len() as f64,
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: s[s.len() - 1],
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Category {
    pub name: String,
    pub cell: String,
    pub target_us: f64,
    pub stats: Stats,
    /// p95 under the target, and every run of the cell succeeded.
    pub target_met: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub categories: Vec<Category>,
    pub overall_mean_us: f64,
    pub share_under_cell_target: f64,
    pub simple_share_under_cell_target: f64,
    pub criteria_met: bool,
}

/// Runs the five seed cells `iterations` times, each iteration in a fresh session.
pub fn run(iterations: u32) -> Report {
    let iterations = iterations.max(1);
    let mut samples: Vec<Vec<f64>> =
        vec![Vec::with_capacity(iterations as usize); SEED_CELLS.len()];
    let mut failed = [false; SEED_CELLS.len()];
    for _ in 0..iterations {
        let mut session = Session::new();
        for (i, (_, cell, _)) in SEED_CELLS.iter().enumerate() {
            let out = session.execute_cell(cell);
            failed[i] |= out.diagnostic.is_some();
            samples[i].push(out.timing.total_ns as f64 / 1000.0);
        }
    }
    report(&samples, &failed)
}

/// Builds the report from per-category samples (microseconds).
pub fn report(samples: &[Vec<f64>], failed: &[bool]) -> Report {
    let categories: Vec<Category> = SEED_CELLS
        .iter()
        .zip(samples)
        .zip(failed)
        .map(|(((name, cell, target), s), failed)| {
            let stats = Stats::of(s);
            Category {
                name: name.to_string(),
                cell: cell.to_string(),
                target_us: *target,
                target_met: !failed && stats.p95 < *target,
                stats,
            }
        })
        .collect();
    let all: Vec<f64> = samples.iter().flatten().copied().collect();
    let under = |s: &[f64]| {
        if s.is_empty() {
            0.0
        } else {
            s.iter().filter(|&&x| x < CELL_TARGET_US).count() as f64 / s.len() as f64
        }
    };
    let overall_mean_us = Stats::of(&all).mean;
    let simple = samples.first().map_or(0.0, |s| under(s));
    Report {
        overall_mean_us,
        share_under_cell_target: under(&all),
        simple_share_under_cell_target: simple,
        criteria_met: simple >= SIMPLE_SHARE_TARGET
            && overall_mean_us < MEAN_TARGET_US
            && categories.iter().all(|c| c.target_met),
        categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        let st = Stats::of(&s);
        assert_eq!((st.p50, st.p95, st.p99, st.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(st.mean, 50.5);
    }

    #[test]
    fn a_failing_cell_fails_its_target() {
        let samples = vec![vec![1.0]; 5];
        let r = report(&samples, &[false, true, false, false, false]);
        assert!(!r.categories[1].target_met);
        assert!(!r.criteria_met);
    }

    #[test]
    fn the_benchmark_runs_all_five_cells() {
        let r = run(3);
        assert_eq!(r.categories.len(), 5);
        assert!(r.categories.iter().all(|c| c.stats.samples == 3));
    }
}
