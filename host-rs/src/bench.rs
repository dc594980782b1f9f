//! `host-rs bench`: the component's own benchmark, the same cells timed as round trips from
//! the host, and two session-state checks. The Node host (`host-js/run.mjs`) does the same.

use crate::host::{BenchmarkGroup, BenchmarkReport, Instance};
use crate::render::{Row, Stats};
use anyhow::Result;
use std::time::Instant;

pub const CELL_TARGET_US: f64 = 10_000.0;
/// Untimed runs before the timed ones (the component's benchmark does as many).
pub const WARM_UP_RUNS: u32 = 100;

/// The program a compile category compiles: its setup, a newline, its cell.
fn compile_program(c: &crate::host::BenchmarkCategory) -> String {
    if c.setup.is_empty() {
        c.cell.clone()
    } else {
        format!("{}\n{}", c.setup, c.cell)
    }
}
pub const MEAN_TARGET_US: f64 = 8_000.0;

fn share_under(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().filter(|&&s| s < CELL_TARGET_US).count() as f64 / samples.len() as f64
}

/// Host round trips of the benchmark's cells.
pub struct RoundTrips {
    pub rows: Vec<Row>,
    pub overall_mean: f64,
    pub share_under_cell_target: f64,
    pub simple_share_under_cell_target: f64,
    pub criteria_met: bool,
}

/// Times each cell's `execute-cell` round trip from the host: the seed cells in order in a
/// fresh session per iteration, each compute cell in a fresh session after its setup, as
/// often as the component ran them.
pub fn round_trips(
    inst: &mut Instance,
    report: &BenchmarkReport,
    iterations: u32,
) -> Result<RoundTrips> {
    let cats = &report.categories;
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); cats.len()];
    let mut failed = vec![false; cats.len()];
    let mut results = vec![String::new(); cats.len()];
    let seed: Vec<usize> = (0..cats.len())
        .filter(|&i| cats[i].group == BenchmarkGroup::Seed)
        .collect();
    // untimed warm-up, as the component's own benchmark does
    for _ in 0..WARM_UP_RUNS {
        let s = inst.new_session()?;
        for &i in &seed {
            inst.execute_cell(s, &cats[i].cell)?;
        }
        inst.drop_session(s)?;
        for c in cats.iter().filter(|c| c.group == BenchmarkGroup::Compile) {
            let _ = inst.compile(&compile_program(c))?;
        }
    }
    for _ in 0..iterations.max(1) {
        let s = inst.new_session()?;
        for &i in &seed {
            let t = Instant::now();
            let r = inst.execute_cell(s, &cats[i].cell)?;
            samples[i].push(t.elapsed().as_nanos() as f64 / 1000.0);
            failed[i] |= r.diagnostic.is_some();
            results[i] = r.display.unwrap_or_default();
        }
        inst.drop_session(s)?;
    }
    // compile rows: `compile` of the setup and the cell as one program
    for (i, c) in cats.iter().enumerate() {
        if c.group != BenchmarkGroup::Compile {
            continue;
        }
        let program = compile_program(c);
        for _ in 0..iterations.max(1) {
            let t = Instant::now();
            let r = inst.compile(&program)?;
            samples[i].push(t.elapsed().as_nanos() as f64 / 1000.0);
            match r {
                Ok(rust) => results[i] = format!("{} lines of Rust", rust.lines().count()),
                Err(_) => failed[i] = true,
            }
        }
    }
    for (i, c) in cats.iter().enumerate() {
        if c.group != BenchmarkGroup::Compute {
            continue;
        }
        for _ in 0..c.samples.max(1) {
            let s = inst.new_session()?;
            if !c.setup.is_empty() {
                failed[i] |= inst.execute_cell(s, &c.setup)?.diagnostic.is_some();
            }
            let t = Instant::now();
            let r = inst.execute_cell(s, &c.cell)?;
            samples[i].push(t.elapsed().as_nanos() as f64 / 1000.0);
            failed[i] |= r.diagnostic.is_some();
            results[i] = r.display.unwrap_or_default();
            inst.drop_session(s)?;
        }
    }
    let rows: Vec<Row> = cats
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let stats = Stats::of(&samples[i]);
            Row {
                category: c.name.clone(),
                compute: c.group == BenchmarkGroup::Compute,
                cell: c.cell.clone(),
                result: results[i].clone(),
                target_us: c.target_us,
                met: !failed[i] && c.target_us.is_none_or(|t| stats.p95 < t),
                stats,
            }
        })
        .collect();
    let seed_samples: Vec<f64> = seed
        .iter()
        .flat_map(|&i| samples[i].iter())
        .copied()
        .collect();
    let overall_mean = Stats::of(&seed_samples).mean;
    let simple = seed.first().map_or(0.0, |&i| share_under(&samples[i]));
    Ok(RoundTrips {
        criteria_met: simple >= 0.95 && overall_mean < MEAN_TARGET_US && rows.iter().all(|r| r.met),
        share_under_cell_target: share_under(&seed_samples),
        simple_share_under_cell_target: simple,
        overall_mean,
        rows,
    })
}

/// The component's own report as table rows.
pub fn inside_rows(r: &BenchmarkReport) -> Vec<Row> {
    r.categories
        .iter()
        .map(|c| Row {
            category: c.name.clone(),
            compute: c.group == BenchmarkGroup::Compute,
            cell: c.cell.clone(),
            result: c.display.clone(),
            target_us: c.target_us,
            stats: Stats {
                samples: c.samples as usize,
                mean: c.mean_us,
                p50: c.p50_us,
                p95: c.p95_us,
                p99: c.p99_us,
                max: c.max_us,
            },
            met: c.target_met,
        })
        .collect()
}

/// Session state that must not grow (issue: re-running a cell, many bindings).
pub struct SessionState {
    /// Linear memory after 1,000 and after 100,000 runs of `let x = 42` in one session.
    pub memory_after_1k: u64,
    pub memory_after_100k: u64,
    /// Inside-component p50 of `let x = 42` with one binding and with 10,000 bindings.
    pub p50_one_binding_us: f64,
    pub p50_10k_bindings_us: f64,
    pub memory_met: bool,
    pub bindings_met: bool,
}

pub const REPEATS: usize = 100_000;
pub const BINDINGS: usize = 10_000;
const MAX_RATIO: f64 = 2.0;

fn simple_cell_p50(inst: &mut Instance, s: crate::host::SessionHandle) -> Result<f64> {
    let mut inside = Vec::with_capacity(2000);
    for _ in 0..2000 {
        inside.push(inst.execute_cell(s, "let x = 42")?.performance.total_us);
    }
    Ok(Stats::of(&inside).p50)
}

pub fn session_state(inst: &mut Instance) -> Result<SessionState> {
    let s = inst.new_session()?;
    for _ in 0..1_000 {
        inst.execute_cell(s, "let x = 42")?;
    }
    let memory_after_1k = inst.memory_bytes()?;
    for _ in 1_000..REPEATS {
        inst.execute_cell(s, "let x = 42")?;
    }
    let memory_after_100k = inst.memory_bytes()?;
    inst.drop_session(s)?;

    let one = inst.new_session()?;
    inst.execute_cell(one, "let v0 = 0")?;
    let p50_one_binding_us = simple_cell_p50(inst, one)?;
    inst.drop_session(one)?;
    let many = inst.new_session()?;
    for i in 0..BINDINGS {
        inst.execute_cell(many, &format!("let v{i} = {i}"))?;
    }
    let p50_10k_bindings_us = simple_cell_p50(inst, many)?;
    inst.drop_session(many)?;
    Ok(SessionState {
        memory_met: memory_after_100k == memory_after_1k,
        bindings_met: p50_10k_bindings_us <= MAX_RATIO * p50_one_binding_us,
        memory_after_1k,
        memory_after_100k,
        p50_one_binding_us,
        p50_10k_bindings_us,
    })
}

impl SessionState {
    pub fn lines(&self) -> String {
        format!(
            "Session state\n\
             linear memory after 1,000 runs of `let x = 42`: {} bytes; after {REPEATS}: {} bytes ({})  {}\n\
             `let x = 42` inside the component, p50: {:.2} us with 1 binding, {:.2} us with {BINDINGS} bindings ({:.2}x, at most {MAX_RATIO}x)  {}\n",
            self.memory_after_1k,
            self.memory_after_100k,
            if self.memory_met { "no growth".to_string() } else {
                format!("grew by {} bytes", self.memory_after_100k.saturating_sub(self.memory_after_1k))
            },
            if self.memory_met { "met" } else { "NOT met" },
            self.p50_one_binding_us,
            self.p50_10k_bindings_us,
            self.p50_10k_bindings_us / self.p50_one_binding_us.max(1e-9),
            if self.bindings_met { "met" } else { "NOT met" },
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "memory_after_1k_bytes": self.memory_after_1k,
            "memory_after_100k_bytes": self.memory_after_100k,
            "memory_met": self.memory_met,
            "p50_one_binding_us": self.p50_one_binding_us,
            "p50_10k_bindings_us": self.p50_10k_bindings_us,
            "bindings_met": self.bindings_met,
        })
    }
}
