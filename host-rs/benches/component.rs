//! Criterion benches of the component through wasmtime, next to the same work on the native
//! engine, so that the WebAssembly-to-native ratio is on record:
//!
//! * `seed/wasm/<cell>` and `seed/native/<cell>`: each seed cell in a session where the seed
//!   cells before it have run (one `execute-cell` round trip per iteration);
//! * `compile/wasm/<program>` and `compile/native/<program>`: `compile` of each compile
//!   category's program;
//! * `compute/wasm/<row>` and `compute/native/<row>` for every compute row of the bench;
//! * `start/instantiate` (a fresh instance and session from the `InstancePre`) and
//!   `start/load` (an engine and the component from the precompiled cache).
//!
//! `cargo bench -p host-rs --bench component` runs them and ends with a table of the ratios;
//! `cargo test --release --benches` runs each once (what the test command does).

use criterion::{criterion_group, BenchmarkId, Criterion};
use host_rs::build::{ensure_component, workspace_root};
use host_rs::host::{Instance, Runtime, SessionHandle};
use ruchy_notebook::bench::{compile_categories, compile_program, COMPUTE_CELLS, SEED_CELLS};
use ruchy_notebook::session::Session;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn component() -> PathBuf {
    ensure_component(&workspace_root()).expect("the component")
}

fn wasm_session(rt: &Runtime, before: &[&str]) -> (Instance, SessionHandle) {
    let mut inst = rt.instantiate().expect("an instance");
    let s = inst.new_session().expect("a session");
    for cell in before {
        inst.execute_cell(s, cell).expect("a setup cell");
    }
    (inst, s)
}

fn native_session(before: &[&str]) -> Session {
    let mut s = Session::new();
    for cell in before {
        s.execute_cell(cell);
    }
    s
}

fn seed(c: &mut Criterion) {
    let rt = Runtime::load(&component()).expect("loading the component");
    let mut g = c.benchmark_group("seed");
    for (i, (name, cell, _)) in SEED_CELLS.iter().enumerate() {
        let before: Vec<&str> = SEED_CELLS[..i].iter().map(|c| c.1).collect();
        let (mut inst, s) = wasm_session(&rt, &before);
        g.bench_with_input(BenchmarkId::new("wasm", name), cell, |b, cell| {
            b.iter(|| inst.execute_cell(s, black_box(cell)).expect("a cell"))
        });
        let mut native = native_session(&before);
        g.bench_with_input(BenchmarkId::new("native", name), cell, |b, cell| {
            b.iter(|| native.execute_cell(black_box(cell)))
        });
    }
    g.finish();
}

fn compile(c: &mut Criterion) {
    let rt = Runtime::load(&component()).expect("loading the component");
    let mut inst = rt.instantiate().expect("an instance");
    let mut g = c.benchmark_group("compile");
    for (name, setup, cell, _) in compile_categories() {
        let name = name.trim_start_matches("compile: ").to_string();
        let program = compile_program(&setup, &cell);
        g.bench_with_input(BenchmarkId::new("wasm", &name), &program, |b, p| {
            b.iter(|| inst.compile(black_box(p)).expect("compile"))
        });
        g.bench_with_input(BenchmarkId::new("native", &name), &program, |b, p| {
            b.iter(|| ruchy_notebook::transpiler::compile(black_box(p)))
        });
    }
    g.finish();
}

fn compute(c: &mut Criterion) {
    let rt = Runtime::load(&component()).expect("loading the component");
    let mut g = c.benchmark_group("compute");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (name, setup, cell) in COMPUTE_CELLS {
        let (mut inst, s) = wasm_session(&rt, &[setup]);
        g.bench_with_input(BenchmarkId::new("wasm", name), &cell, |b, cell| {
            b.iter(|| inst.execute_cell(s, black_box(cell)).expect("a cell"))
        });
        let mut native = native_session(&[setup]);
        g.bench_with_input(BenchmarkId::new("native", name), &cell, |b, cell| {
            b.iter(|| native.execute_cell(black_box(cell)))
        });
    }
    g.finish();
}

fn start(c: &mut Criterion) {
    let path = component();
    let rt = Runtime::load(&path).expect("loading the component");
    let mut g = c.benchmark_group("start");
    g.bench_function("instantiate", |b| {
        b.iter(|| {
            let mut inst = rt.instantiate().expect("an instance");
            inst.new_session().expect("a session");
            inst
        })
    });
    g.bench_function("load", |b| {
        b.iter(|| Runtime::load(black_box(&path)).expect("loading"))
    });
    g.finish();
}

/// The mean of one bench from criterion's saved estimates, in nanoseconds.
fn mean_ns(group: &str, function: &str, input: &str) -> Option<f64> {
    let dir = workspace_root()
        .join("target")
        .join("criterion")
        .join(group)
        .join(function)
        .join(input.replace(['/', '\\', ':', '?', '*', '"', '<', '>', '|'], "_"))
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(dir).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("mean")?.get("point_estimate")?.as_f64()
}

/// The WebAssembly-to-native table from the estimates this run saved.
fn ratios() {
    let mut rows = Vec::new();
    let compile: Vec<String> = compile_categories()
        .into_iter()
        .map(|c| c.0.trim_start_matches("compile: ").to_string())
        .collect();
    let groups: [(&str, Vec<String>); 3] = [
        ("seed", SEED_CELLS.iter().map(|c| c.0.to_string()).collect()),
        ("compile", compile),
        (
            "compute",
            COMPUTE_CELLS.iter().map(|c| c.0.to_string()).collect(),
        ),
    ];
    for (group, names) in groups {
        for name in names {
            if let (Some(w), Some(n)) = (
                mean_ns(group, "wasm", &name),
                mean_ns(group, "native", &name),
            ) {
                rows.push(format!(
                    "{:<8} {:<24} {:>12.2} {:>12.2} {:>7.2}x",
                    group,
                    name,
                    w / 1000.0,
                    n / 1000.0,
                    w / n
                ));
            }
        }
    }
    if !rows.is_empty() {
        println!(
            "\nWebAssembly (wasmtime, round trip) against the native engine, mean in microseconds"
        );
        println!(
            "{:<8} {:<24} {:>12} {:>12} {:>8}",
            "group", "bench", "wasm", "native", "ratio"
        );
        for r in rows {
            println!("{r}");
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = seed, compile, compute, start
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` runs each bench once and saves nothing
    if std::env::args().any(|a| a == "--bench") {
        ratios();
    }
}
