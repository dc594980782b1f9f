//! `host-rs`: the command-line host of the `ruchy:notebook` component.
//!
//! ```text
//! host-rs bench [--iterations N] [--json]   time the seed cells (host round trip and inside)
//! host-rs run FILE.ruchy                    run a program as a script (calls main if defined)
//! host-rs eval 'SOURCE'                     one notebook cell in a fresh session
//! host-rs compile FILE.ruchy                the Rust program on stdout
//! host-rs disasm 'SOURCE'                   the bytecode a cell compiles to
//! host-rs build-component                   (re)build target/ruchy_notebook.wasm
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use host_rs::bench;
use host_rs::build::{build_component, ensure_component, workspace_root};
use host_rs::host::{Instance, Runtime};
use host_rs::render::{self, Row};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "host-rs",
    about = "wasmtime host for the ruchy:notebook component"
)]
struct Cli {
    /// Use this component instead of building/finding target/ruchy_notebook.wasm.
    #[arg(long, global = true)]
    component: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the seed's five cells from the host and inside the component; print both tables.
    Bench {
        /// How many times to run each cell.
        #[arg(long, default_value_t = 1000)]
        iterations: u32,
        /// Print the results as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Run a Ruchy program as a script: only what it prints goes to stdout.
    Run { file: PathBuf },
    /// Run one notebook cell in a fresh session: its output, then its value.
    Eval { source: String },
    /// Transpile a Ruchy program to Rust (on stdout).
    Compile { file: PathBuf },
    /// Show the bytecode a cell compiles to.
    Disasm { source: String },
    /// Build the component and copy it to target/ruchy_notebook.wasm.
    BuildComponent,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("host-rs: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn component(cli_path: &Option<PathBuf>) -> Result<PathBuf> {
    match cli_path {
        Some(p) => Ok(p.clone()),
        None => ensure_component(&workspace_root()),
    }
}

fn instance(cli_path: &Option<PathBuf>) -> Result<Instance> {
    Runtime::load(&component(cli_path)?)?.instantiate()
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Cmd::BuildComponent => {
            build_component(&workspace_root())?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run { file } => {
            let source = read(file)?;
            let mut inst = instance(&cli.component)?;
            let s = inst.new_session()?;
            let r = inst.run_script(s, &source)?;
            print!("{}", r.stdout);
            Ok(report_error(
                &r.diagnostic,
                &source,
                &file.display().to_string(),
            ))
        }
        Cmd::Eval { source } => {
            let mut inst = instance(&cli.component)?;
            let s = inst.new_session()?;
            let r = inst.execute_cell(s, source)?;
            print!("{}", r.stdout);
            if let Some(d) = &r.display {
                println!("{d}");
            }
            Ok(report_error(&r.diagnostic, source, "cell"))
        }
        Cmd::Compile { file } => {
            let source = read(file)?;
            let mut inst = instance(&cli.component)?;
            match inst.compile(&source)? {
                Ok(rust) => {
                    print!("{rust}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(diags) => {
                    for d in &diags {
                        eprint!(
                            "{}",
                            render::diagnostic(d, &source, &file.display().to_string())
                        );
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Disasm { source } => {
            let mut inst = instance(&cli.component)?;
            let s = inst.new_session()?;
            match inst.disassemble(s, source)? {
                Ok(text) => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(d) => {
                    eprint!("{}", render::diagnostic(&d, source, "cell"));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Bench { iterations, json } => bench(&cli.component, *iterations, *json),
    }
}

fn report_error(d: &Option<host_rs::host::Diagnostic>, source: &str, origin: &str) -> ExitCode {
    match d {
        Some(d) => {
            eprint!("{}", render::diagnostic(d, source, origin));
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

fn bench(cli_path: &Option<PathBuf>, iterations: u32, json: bool) -> Result<ExitCode> {
    let path = component(cli_path)?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let t = Instant::now();
    let rt = Runtime::load(&path)?;
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let mut inst = rt.instantiate()?;
    let instantiate_ms = t.elapsed().as_secs_f64() * 1000.0;

    let inside = inst.benchmark(iterations)?;
    let host = bench::round_trips(&mut inst, &inside, iterations)?;
    let state = bench::session_state(&mut inst)?;
    let inside_met = inside.criteria_met && inside.categories.iter().all(|c| c.target_met);
    let ok = host.criteria_met && inside_met && state.memory_met && state.bindings_met;

    if json {
        let cat_json = |r: &Row| {
            serde_json::json!({
                "category": r.category, "compute": r.compute, "cell": r.cell, "result": r.result,
                "target_us": r.target_us, "samples": r.stats.samples, "mean_us": r.stats.mean,
                "p50_us": r.stats.p50, "p95_us": r.stats.p95, "p99_us": r.stats.p99,
                "max_us": r.stats.max, "met": r.met,
            })
        };
        let out = serde_json::json!({
            "component": { "path": path.display().to_string(), "bytes": size },
            "host": "wasmtime",
            "load_ms": load_ms,
            "instantiate_ms": instantiate_ms,
            "iterations": iterations,
            "round_trip": {
                "categories": host.rows.iter().map(cat_json).collect::<Vec<_>>(),
                "overall_mean_us": host.overall_mean,
                "share_under_cell_target": host.share_under_cell_target,
                "simple_share_under_cell_target": host.simple_share_under_cell_target,
                "criteria_met": host.criteria_met,
            },
            "inside_component": {
                "categories": bench::inside_rows(&inside).iter().map(cat_json).collect::<Vec<_>>(),
                "overall_mean_us": inside.overall_mean_us,
                "share_under_cell_target": inside.share_under_cell_target,
                "simple_share_under_cell_target": inside.simple_share_under_cell_target,
                "criteria_met": inside.criteria_met,
            },
            "session_state": state.json(),
            "ok": ok,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "ruchy notebook bench (wasmtime): {} ({size} bytes)\nload {load_ms:.1} ms, instantiate {instantiate_ms:.3} ms, {iterations} iterations\n",
            path.display()
        );
        let summary = |mean: f64, share: f64, simple: f64, met: bool| {
            format!(
                "seed cells: overall mean {mean:.2} us; {:.1}% under 10 ms; simple cells under 10 ms: {:.1}%; criteria {}\n",
                share * 100.0,
                simple * 100.0,
                if met { "met" } else { "NOT met" }
            )
        };
        print!(
            "{}",
            render::table(
                "Round trip of execute-cell from the host, microseconds",
                &host.rows
            )
        );
        println!(
            "{}",
            summary(
                host.overall_mean,
                host.share_under_cell_target,
                host.simple_share_under_cell_target,
                host.criteria_met
            )
        );
        print!(
            "{}",
            render::table(
                "Inside the component (WASI monotonic clock), microseconds",
                &bench::inside_rows(&inside)
            )
        );
        println!(
            "{}",
            summary(
                inside.overall_mean_us,
                inside.share_under_cell_target,
                inside.simple_share_under_cell_target,
                inside_met
            )
        );
        print!("{}", state.lines());
        println!(
            "\nsuccess criteria (95% of simple cells under 10 ms, overall mean under 8 ms, every seed category under its target, session state flat): {}",
            if ok { "met" } else { "NOT met" }
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
