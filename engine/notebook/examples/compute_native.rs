//! The bench's compute rows run natively (no WebAssembly), for the "ours (native)" column
//! beside the wasmtime figures `host-rs bench` prints:
//!
//!     cargo run --release -p ruchy-notebook --example compute_native [RUNS] [ROW]
//!
//! Each row runs RUNS times (default 5) in a fresh session, its setup untimed; the median
//! of the cell's wall time is printed. With ROW, only the rows whose name contains it (for a
//! profiler).

use ruchy_notebook::bench::COMPUTE_CELLS;
use ruchy_notebook::Session;
use std::time::Instant;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let only = std::env::args().nth(2).unwrap_or_default();
    println!("{:<60} {:>12}  result", "row", "native ms");
    for (name, setup, cell) in COMPUTE_CELLS {
        if !name.contains(&only) {
            continue;
        }
        let mut times = Vec::with_capacity(runs);
        let mut result = String::new();
        for _ in 0..runs {
            let mut s = Session::new();
            if !setup.is_empty() {
                if let Some(d) = s.execute_cell(setup).diagnostic {
                    result = format!("setup failed: {}", d.message);
                    break;
                }
            }
            let t0 = Instant::now();
            let out = s.execute_cell(cell);
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            result = match out.diagnostic {
                Some(d) => format!("error: {}", d.message),
                None => out.display.unwrap_or_default(),
            };
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        println!("{name:<60} {median:>12.2}  = {result}");
    }
}
