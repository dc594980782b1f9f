//! Native latency of the seed's cells and of `compile`, for profiling (`perf record`):
//! `cargo run --release -p ruchy-notebook --example cell_probe [cells|compile|complete] [N]`.
use ruchy_notebook::session::Session;
use std::hint::black_box;
use std::time::Instant;

const CELLS: [&str; 5] = [
    "let x = 42",
    "let y = x * 2 + 1",
    "fun double(n: Int) -> Int { n * 2 }",
    "let result = double(21)",
    "if x > 0 { x } else { 0 }",
];

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "cells".into());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    if what == "complete" {
        let mut s = Session::new();
        s.execute_cell(&ruchy_notebook::bench::protocol_setup());
        let src = "let y = v99";
        let t = Instant::now();
        for _ in 0..n {
            black_box(s.complete(black_box(src), src.len()));
        }
        eprintln!(
            "{:.2} us  complete {src}",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
        return;
    }
    if what == "compile" {
        let program = "fun double(n: Int) -> Int { n * 2 }\nlet result = double(21)";
        let t = Instant::now();
        for _ in 0..n {
            let _ = black_box(ruchy_notebook::compile(black_box(program)));
        }
        eprintln!(
            "{:.2} us  compile",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
        return;
    }
    let mut s = Session::new();
    for c in CELLS {
        let t = Instant::now();
        for _ in 0..n {
            black_box(s.execute_cell(c));
        }
        eprintln!("{:.2} us  {c}", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
}
