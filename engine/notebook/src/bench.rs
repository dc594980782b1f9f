//! The benchmark: the seed's five notebook cells, each with a latency target; `compile` of
//! each of them (with the earlier cells it needs; a 50 us target) and of the whole seed
//! notebook (50 us per cell); and heavy "compute" cells reported outside the 10 ms rule. Timed inside the engine (and so inside the component) with the
//! session's clock.

use crate::session::{CellOutput, Clock, InstantClock, Session};

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

/// Heavy cells, reported outside the 10 ms rule: name, untimed setup, timed cell.
///
/// Each has the same algorithm written idiomatically for CPython in `bench/python/`, in the
/// file named by the row's slug (`fib(27)` -> `fib-27.py`), which the hosts run for a ratio.
pub const COMPUTE_CELLS: [(&str, &str, &str); 12] = [
    (
        "fib(27)",
        "fun fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }",
        "fib(27)",
    ),
    (
        "sum 1..=1,000,000",
        "",
        "let mut sum = 0\nfor i in 1..=1000000 { sum += i }\nsum",
    ),
    (
        "counting loop",
        "",
        "let mut n = 0\nlet mut i = 0\nwhile i < 3000000 {\n    if i % 3 == 0 { n += 1 }\n    i += 1\n}\nn",
    ),
    (
        "float loop",
        "",
        "let mut x = 0.0\nlet mut y = 1.5\nfor i in 0..1000000 {\n    x = x * 0.5 + y\n    y = y + 0.25\n}\nx",
    ),
    (
        "sort 200,000 ints",
        "",
        "let mut seed = 42\nlet mut xs = []\nfor i in 0..200000 {\n    seed = (seed * 1103515245 + 12345) % 2147483648\n    xs.push(seed % 1000000)\n}\nlet s = xs.sort()\ns[0] + s[199999]",
    ),
    (
        "word counts of 200,000 words",
        "",
        "let mut words = []\nfor i in 0..200000 { words.push(f\"w{(i * 7919) % 5000}\") }\nlet mut counts = {}\nfor w in words {\n    if counts.contains_key(w) { counts[w] = counts[w] + 1 } else { counts[w] = 1 }\n}\ncounts.len()",
    ),
    (
        "map/filter/reduce over 300,000 ints",
        "",
        "range(0, 300000).map(|x| x * 3).filter(|x| x % 2 == 0).reduce(|a, b| a + b, 0)",
    ),
    (
        "string of 10,000 pieces",
        "",
        "let mut s = \"\"\nfor i in 0..10000 { s += \"x\" }\ns.len()",
    ),
    (
        "strings: format, join, split, upper, replace over 100,000",
        "",
        "let items = range(0, 100000).map(|i| f\"item {i}\")\nlet line = items.join(\",\")\nlet upper = line.split(\",\").map(|s| s.to_uppercase().replace(\"ITEM\", \"n\"))\nupper.len() + upper[99999].len()",
    ),
    (
        "structs in an array, updated in place",
        "struct P { x: Int, v: Int }",
        "let mut ps = range(0, 1000).map(|i| P { x: i, v: i % 7 })\nfor round in 0..100 {\n    for i in 0..1000 {\n        let p = ps[i]\n        ps[i] = P { x: p.x + p.v, v: p.v }\n    }\n}\nps[999].x",
    ),
    (
        "a recursive sort that builds arrays (20,000 ints)",
        "fun qs(xs) {\n    if xs.len() <= 1 { return xs }\n    let p = xs[0]\n    let rest = xs.slice(1, xs.len())\n    qs(rest.filter(|x| x < p)) + [p] + qs(rest.filter(|x| x >= p))\n}",
        "let mut seed = 7\nlet mut xs = []\nfor i in 0..20000 {\n    seed = (seed * 1103515245 + 12345) % 2147483648\n    xs.push(seed % 100000)\n}\nlet s = qs(xs)\ns[0] + s[19999]",
    ),
    (
        "matrix product 200x200",
        "",
        "let n = 200\nlet a = range(0, n).map(|i| range(0, n).map(|j| (i + j) % 7))\nlet b = range(0, n).map(|i| range(0, n).map(|j| (i * j) % 5))\nlet mut c = []\nfor i in 0..n {\n    let ai = a[i]\n    let mut row = []\n    for j in 0..n {\n        let mut s = 0\n        for k in 0..n { s += ai[k] * b[k][j] }\n        row.push(s)\n    }\n    c.push(row)\n}\nc[199][199]",
    ),
];

/// The notebook protocol's questions, asked of a session with [`PROTOCOL_BINDINGS`] bindings:
/// name and query, written as the corpus writes them (`complete SOURCE` with `<|>` at the
/// cursor, `inspect SOURCE`, `is-complete SOURCE`, `variables`, and `variables-changed CELL`:
/// after an untimed CELL, the bindings it changed) and target: p99 under
/// [`PROTOCOL_TARGET_US`], or none for the full list of variables, a one-time cost when a
/// variables panel opens (reported, not a goal).
pub const PROTOCOL_QUERIES: [(&str, &str, Option<f64>); 6] = [
    (
        "complete after a dot",
        "complete xs.pu<|>",
        Some(PROTOCOL_TARGET_US),
    ),
    (
        "complete a name",
        "complete let y = v99<|>",
        Some(PROTOCOL_TARGET_US),
    ),
    (
        "inspect a function",
        "inspect dou<|>ble(21)",
        Some(PROTOCOL_TARGET_US),
    ),
    (
        "is-complete",
        "is-complete fun f(n) {\n    if n > 0 {",
        Some(PROTOCOL_TARGET_US),
    ),
    (
        "variables changed by a cell",
        "variables-changed v7 += 1",
        Some(PROTOCOL_TARGET_US),
    ),
    ("variables: all of them", "variables", None),
];

/// Bindings of the session the protocol's questions are asked of.
pub const PROTOCOL_BINDINGS: usize = 1000;
/// The protocol's target: p99 under 50 us.
pub const PROTOCOL_TARGET_US: f64 = 50.0;

/// The cell that makes the protocol's session: [`PROTOCOL_BINDINGS`] bindings (ints, a
/// string, an array, a function, a struct type and value).
pub fn protocol_setup() -> String {
    let mut s = String::from(
        "let xs = [3, 1, 2]\nlet name = \"Ruchy\"\nfun double(n: Int) -> Int { n * 2 }\nstruct Point { x: Int, y: Int }\nlet p = Point { x: 1, y: 2 }\n",
    );
    for i in 0..PROTOCOL_BINDINGS - 5 {
        s.push_str(&format!("let v{i} = {i}\n"));
    }
    s
}

/// A protocol query: `complete`/`inspect` with source and cursor, `is-complete` with source,
/// `variables`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    Complete(String, usize),
    Inspect(String, usize),
    IsComplete(String),
    Variables,
    /// The variables an untimed cell changed.
    VariablesChanged(String),
}

/// Reads a query as [`PROTOCOL_QUERIES`] writes it (`\n` is a newline, `<|>` the cursor).
pub fn parse_query(text: &str) -> Option<Query> {
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let source = rest.replace("\\n", "\n");
    let at = source.find("<|>");
    let without = source.replacen("<|>", "", 1);
    Some(match verb {
        "complete" => Query::Complete(without, at?),
        "inspect" => Query::Inspect(without, at?),
        "is-complete" => Query::IsComplete(source),
        "variables" => Query::Variables,
        "variables-changed" => Query::VariablesChanged(source),
        _ => return None,
    })
}

/// What a query needs done untimed before it: for `variables-changed`, runs its cell and
/// returns the generation before it (0 otherwise).
pub fn prepare(session: &mut Session, q: &Query) -> Result<u32, String> {
    match q {
        Query::VariablesChanged(cell) => {
            let before = session.variables_since(u32::MAX).0;
            match session.execute_cell(cell).diagnostic {
                Some(d) => Err(d.message),
                None => Ok(before),
            }
        }
        _ => Ok(0),
    }
}

/// Asks `session` the query (`since`: what [`prepare`] returned); a short description of
/// the answer.
pub fn ask(session: &Session, q: &Query, since: u32) -> String {
    match q {
        Query::Complete(s, at) => {
            let c = session.complete(s, *at);
            let first: Vec<&str> = c.items.iter().take(3).map(|i| i.label.as_str()).collect();
            format!("{} candidates: {}", c.items.len(), first.join(", "))
        }
        Query::Inspect(s, at) => session.inspect(s, *at).map_or("none".into(), |i| {
            i.markdown.lines().nth(1).unwrap_or("").to_string()
        }),
        Query::IsComplete(s) => format!("{:?}", crate::assist::is_complete(s)),
        Query::Variables => format!("{} variables", session.variables().len()),
        Query::VariablesChanged(_) => {
            let (_, changed) = session.variables_since(since);
            let names: Vec<&str> = changed.iter().map(|v| v.name.as_str()).collect();
            format!("{} changed: {}", changed.len(), names.join(", "))
        }
    }
}

/// How often each compute cell runs when the seed cells run `iterations` times.
pub fn compute_iterations(iterations: u32) -> u32 {
    (iterations / 100).max(3)
}

/// The target for `compile` of one seed cell, in microseconds; the whole seed notebook has
/// this much per cell.
pub const COMPILE_TARGET_US: f64 = 50.0;

/// The seed cells each seed cell needs before it to be a program (`double(21)` needs
/// `double`): indices into [`SEED_CELLS`].
const COMPILE_NEEDS: [&[usize]; 5] = [&[], &[0], &[], &[2], &[0]];

/// The compile categories: name, setup (the cells the cell needs, one per line), cell,
/// target. One per seed cell, then the whole seed notebook as one program.
pub fn compile_categories() -> Vec<(String, String, String, f64)> {
    let mut out: Vec<(String, String, String, f64)> = SEED_CELLS
        .iter()
        .zip(COMPILE_NEEDS)
        .map(|((name, cell, _), needs)| {
            let setup: Vec<&str> = needs.iter().map(|&i| SEED_CELLS[i].1).collect();
            (
                format!("compile: {name}"),
                setup.join("\n"),
                cell.to_string(),
                COMPILE_TARGET_US,
            )
        })
        .collect();
    let (last, earlier) = SEED_CELLS
        .split_last()
        .map(|(l, e)| (l.1, e))
        .unwrap_or(("", &[]));
    out.push((
        "compile: the seed notebook".to_string(),
        earlier
            .iter()
            .map(|(_, c, _)| *c)
            .collect::<Vec<_>>()
            .join("\n"),
        last.to_string(),
        COMPILE_TARGET_US * SEED_CELLS.len() as f64,
    ));
    out
}

/// The program a compile category compiles: its setup, a newline, its cell.
pub fn compile_program(setup: &str, cell: &str) -> String {
    if setup.is_empty() {
        cell.to_string()
    } else {
        format!("{setup}\n{cell}")
    }
}

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
        ruchy_runtime::sort::sort_by(&mut s, |a, b| a.total_cmp(b).is_lt());
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Seed,
    /// `compile` (Ruchy to Rust) of the seed program up to a seed cell.
    Compile,
    Compute,
    /// The notebook protocol's questions (completion, inspection, is-complete, variables) on a
    /// session with 1,000 bindings.
    Protocol,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Category {
    pub name: String,
    pub group: Group,
    pub setup: String,
    pub cell: String,
    /// Display of the cell's value on its last run.
    pub result: String,
    pub target_us: Option<f64>,
    pub stats: Stats,
    /// Every run succeeded and the p95 is under the target (if any).
    pub target_met: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub categories: Vec<Category>,
    /// Over the seed categories only, like the two shares.
    pub overall_mean_us: f64,
    pub share_under_cell_target: f64,
    pub simple_share_under_cell_target: f64,
    pub criteria_met: bool,
}

/// The timings of one category's runs.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    pub samples: Vec<f64>,
    pub failed: bool,
    pub result: String,
}

impl Runs {
    fn record(&mut self, out: &CellOutput) {
        self.failed |= out.diagnostic.is_some();
        self.samples.push(out.timing.total_ns as f64 / 1000.0);
        self.result = match (&out.display, &out.diagnostic) {
            (_, Some(d)) => format!("error: {}", d.message),
            (Some(d), None) => d.clone(),
            (None, None) => String::new(),
        };
    }
}

/// After [`warm_up`], runs the five seed cells `iterations` times, each iteration in a fresh
/// session; compiles each compile category's program `iterations` times; then runs the
/// compute cells [`compute_iterations`] times, each in a fresh session after its setup.
pub fn run(iterations: u32) -> Report {
    let iterations = iterations.max(1);
    let clock = InstantClock::default();
    warm_up(&clock);
    let mut seed: Vec<Runs> = vec![Runs::default(); SEED_CELLS.len()];
    for _ in 0..iterations {
        let mut session = Session::new();
        for (runs, (_, cell, _)) in seed.iter_mut().zip(SEED_CELLS.iter()) {
            runs.record(&session.execute_cell(cell));
        }
    }
    let compile_cats = compile_rows();
    let mut compile: Vec<Runs> = vec![Runs::default(); compile_cats.len()];
    for _ in 0..iterations {
        for (runs, (_, setup, cell, _)) in compile.iter_mut().zip(&compile_cats) {
            let program = compile_program(setup, cell);
            let t0 = clock.now_ns();
            let out = transpile(&program);
            let t1 = clock.now_ns();
            runs.samples.push(t1.saturating_sub(t0) as f64 / 1000.0);
            match out {
                Ok(rust) => runs.result = format!("{} lines of Rust", rust.lines().count()),
                Err(ds) => {
                    runs.failed = true;
                    runs.result =
                        format!("error: {}", ds.first().map_or("", |d| d.message.as_str()));
                }
            }
        }
    }
    let mut compute: Vec<Runs> = vec![Runs::default(); COMPUTE_CELLS.len()];
    for _ in 0..compute_iterations(iterations) {
        for (runs, (_, setup, cell)) in compute.iter_mut().zip(COMPUTE_CELLS.iter()) {
            let mut session = Session::new();
            if !setup.is_empty() {
                runs.failed |= session.execute_cell(setup).diagnostic.is_some();
            }
            runs.record(&session.execute_cell(cell));
        }
    }
    let mut session = Session::new();
    let setup = protocol_setup();
    let setup_failed = session.execute_cell(&setup).diagnostic.is_some();
    let mut protocol: Vec<Runs> = vec![Runs::default(); PROTOCOL_QUERIES.len()];
    for (runs, (_, text, _)) in protocol.iter_mut().zip(PROTOCOL_QUERIES.iter()) {
        runs.failed = setup_failed;
        let Some(q) = parse_query(text) else {
            runs.failed = true;
            continue;
        };
        for _ in 0..iterations {
            let since = match prepare(&mut session, &q) {
                Ok(g) => g,
                Err(e) => {
                    runs.failed = true;
                    runs.result = format!("error: {e}");
                    break;
                }
            };
            let t0 = clock.now_ns();
            let answer = std::hint::black_box(ask(&session, &q, since));
            let t1 = clock.now_ns();
            runs.samples.push(t1.saturating_sub(t0) as f64 / 1000.0);
            runs.result = answer;
        }
    }
    let mut r = report(&seed, &compile, &compute);
    r.categories.extend(protocol_categories(&protocol));
    r
}

/// The compile rows this build measures: [`compile_categories`] with the `compile` feature,
/// none without it (the kernel component has no transpiler).
pub fn compile_rows() -> Vec<(String, String, String, f64)> {
    if cfg!(feature = "compile") {
        compile_categories()
    } else {
        Vec::new()
    }
}

#[cfg(feature = "compile")]
fn transpile(program: &str) -> Result<String, Vec<ruchy_syntax::Diagnostic>> {
    ruchy_transpiler::compile(program)
}

/// Never called: without the transpiler, [`compile_rows`] is empty.
#[cfg(not(feature = "compile"))]
fn transpile(_: &str) -> Result<String, Vec<ruchy_syntax::Diagnostic>> {
    Err(Vec::new())
}

/// The protocol rows: met when every question was answered and the p99 is under the target.
pub fn protocol_categories(runs: &[Runs]) -> Vec<Category> {
    let setup = protocol_setup();
    PROTOCOL_QUERIES
        .iter()
        .zip(runs)
        .map(|((name, query, target), r)| {
            let stats = Stats::of(&r.samples);
            Category {
                name: name.to_string(),
                group: Group::Protocol,
                setup: setup.clone(),
                cell: query.to_string(),
                result: r.result.clone(),
                target_us: *target,
                target_met: !r.failed && target.is_none_or(|t| stats.p99 < t),
                stats,
            }
        })
        .collect()
}

/// The warm-up before the timed runs: rounds of every seed cell and compile program, for at
/// least this many rounds and at least [`WARM_UP_MS`], as benchmark harnesses do (criterion
/// warms up for 3 s). A JIT (V8's, a browser's) compiles the engine's hot functions in the
/// background during the first few hundred milliseconds of calls; the targets are about the
/// steady state (the hosts measure a fresh instance's first cell on its own).
pub const WARM_UP_ROUNDS: u32 = 100;
/// See [`WARM_UP_ROUNDS`].
pub const WARM_UP_MS: u64 = 1000;

fn warm_up(clock: &dyn Clock) {
    let start = clock.now_ns();
    let mut rounds = 0u32;
    while rounds < WARM_UP_ROUNDS || clock.now_ns().saturating_sub(start) < WARM_UP_MS * 1_000_000 {
        let mut session = Session::new();
        for (_, cell, _) in SEED_CELLS.iter() {
            std::hint::black_box(session.execute_cell(cell));
        }
        for (_, setup, cell, _) in compile_rows() {
            let _ = std::hint::black_box(transpile(&compile_program(&setup, &cell)));
        }
        // the protocol's questions, on this small session (a JIT compiles their code too)
        for (_, text, _) in PROTOCOL_QUERIES.iter() {
            if let Some(q) = parse_query(text) {
                if let Ok(since) = prepare(&mut session, &q) {
                    std::hint::black_box(ask(&session, &q, since));
                }
            }
        }
        rounds += 1;
    }
}

/// Builds the report from the runs of each seed, compile and compute category (microseconds).
pub fn report(seed: &[Runs], compile: &[Runs], compute: &[Runs]) -> Report {
    let mut categories: Vec<Category> = SEED_CELLS
        .iter()
        .zip(seed)
        .map(|((name, cell, target), r)| {
            let stats = Stats::of(&r.samples);
            Category {
                name: name.to_string(),
                group: Group::Seed,
                setup: String::new(),
                cell: cell.to_string(),
                result: r.result.clone(),
                target_us: Some(*target),
                target_met: !r.failed && stats.p95 < *target,
                stats,
            }
        })
        .collect();
    categories.extend(compile_rows().into_iter().zip(compile).map(
        |((name, setup, cell, target), r)| {
            let stats = Stats::of(&r.samples);
            Category {
                name,
                group: Group::Compile,
                setup,
                cell,
                result: r.result.clone(),
                target_us: Some(target),
                target_met: !r.failed && stats.p95 < target,
                stats,
            }
        },
    ));
    categories.extend(
        COMPUTE_CELLS
            .iter()
            .zip(compute)
            .map(|((name, setup, cell), r)| Category {
                name: name.to_string(),
                group: Group::Compute,
                setup: setup.to_string(),
                cell: cell.to_string(),
                result: r.result.clone(),
                target_us: None,
                target_met: !r.failed,
                stats: Stats::of(&r.samples),
            }),
    );
    let under = |s: &[f64]| {
        if s.is_empty() {
            0.0
        } else {
            s.iter().filter(|&&x| x < CELL_TARGET_US).count() as f64 / s.len() as f64
        }
    };
    let all: Vec<f64> = seed
        .iter()
        .flat_map(|r| r.samples.iter())
        .copied()
        .collect();
    let overall_mean_us = Stats::of(&all).mean;
    let simple = seed.first().map_or(0.0, |r| under(&r.samples));
    Report {
        overall_mean_us,
        share_under_cell_target: under(&all),
        simple_share_under_cell_target: simple,
        criteria_met: simple >= SIMPLE_SHARE_TARGET
            && overall_mean_us < MEAN_TARGET_US
            && categories
                .iter()
                .all(|c| c.target_met || c.group != Group::Seed),
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
        let ok = Runs {
            samples: vec![1.0],
            ..Runs::default()
        };
        let mut seed = vec![ok.clone(); 5];
        seed[1].failed = true;
        let compile = vec![ok.clone(); 6];
        let compute = vec![ok.clone(); COMPUTE_CELLS.len()];
        let r = report(&seed, &compile, &compute);
        assert!(!r.categories[1].target_met);
        assert!(!r.criteria_met);
    }

    #[test]
    fn the_benchmark_runs_every_cell_and_computes_real_results() {
        let r = run(3);
        let n = 11 + COMPUTE_CELLS.len();
        assert_eq!(r.categories.len(), n + 6);
        let protocol: Vec<&str> = r.categories[n..]
            .iter()
            .map(|c| c.result.as_str())
            .collect();
        assert_eq!(
            protocol,
            [
                "1 candidates: push",
                "6 candidates: v99, v990, v991",
                "fun double(n: Int) -> Int",
                "Incomplete(\"        \")",
                "1 changed: v7",
                "1000 variables"
            ]
        );
        assert!(r.categories[..11].iter().all(|c| c.stats.samples == 3));
        assert!(
            r.categories[5..11]
                .iter()
                .all(|c| c.group == Group::Compile && c.result.ends_with("lines of Rust")),
            "{:?}",
            r.categories
        );
        let results: Vec<&str> = r.categories[11..n]
            .iter()
            .map(|c| c.result.as_str())
            .collect();
        assert_eq!(
            results,
            [
                "196418",
                "500000500000",
                "1000000",
                "500002.0",
                "999995",
                "5000",
                "67499550000",
                "10000",
                "100007",
                "1499",
                "99998",
                "1212"
            ]
        );
        // (speed is the bench commands' business: here, only that every run succeeded)
        assert!(
            r.categories.iter().all(|c| !c.result.starts_with("error")),
            "{:?}",
            r.categories
        );
    }
}
