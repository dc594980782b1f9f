//! `host-rs`: the command-line host of the `ruchy:notebook` component.
//!
//! ```text
//! host-rs bench [--iterations N] [--json] [--check]   startup, seed cells, memory; --check: goals, baseline
//! host-rs run FILE.ruchy                    run a program as a script (calls main if defined)
//! host-rs eval [--time-ms N] [--json] 'SOURCE'   one notebook cell in a fresh session
//! host-rs complete [--cell C].. 'SOURCE' CURSOR   completion at a byte offset (--json)
//! host-rs inspect [--cell C].. 'SOURCE' CURSOR    the name at a byte offset, as Markdown
//! host-rs is-complete 'SOURCE'               complete, incomplete (indent) or invalid
//! host-rs variables [--cell C].. [--since N] the session's bindings (changed since N)
//! host-rs compile FILE [-o OUT.rs]           a program or notebook to Rust (stdout or OUT.rs)
//! host-rs compile --check FILE              ... then build it, run it, compare with the interpreter
//! host-rs disasm 'SOURCE'                   the bytecode a cell compiles to
//! host-rs build-component                   (re)build target/ruchy_notebook.wasm and ruchy_kernel.wasm
//! host-rs kernel install [--user | --sys-prefix | --prefix DIR]   the Jupyter kernelspec
//! host-rs kernel --connection-file FILE     the Jupyter kernel (what the kernelspec runs)
//! host-rs serve [--addr A] [--data-dir DIR] [--token T]   sessions as an HTTP/JSON service
//! host-rs load [--url U] [--clients N] [--cells N] [--idle N]   drive a running service
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use host_rs::bench;
use host_rs::build::{build_component, ensure_component, ensure_kernel, workspace_root};
use host_rs::check;
use host_rs::host::{Instance, Runtime};
use host_rs::render;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "host-rs",
    about = "wasmtime host for the ruchy:notebook component"
)]
struct Cli {
    /// The component to use: a path, or `kernel` (target/ruchy_kernel.wasm, no Rust export) or
    /// `full` (target/ruchy_notebook.wasm, the default), built first if missing or stale.
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
        /// Print the results as JSON instead of tables (the baseline file's format).
        #[arg(long)]
        json: bool,
        /// Also fail when our goals are missed (process start, seed p99, memory), and compare
        /// each row with the baseline.
        #[arg(long)]
        check: bool,
        /// The baseline `--check` compares with: the `--json` output of an earlier run.
        #[arg(long, default_value = "host-rs/bench-baseline.json")]
        baseline: PathBuf,
    },
    /// Run a Ruchy program as a script: only what it prints goes to stdout.
    Run { file: PathBuf },
    /// Run one notebook cell in a fresh session: its output, then its value.
    Eval {
        source: String,
        /// The cell's time limit in milliseconds (default 10,000).
        #[arg(long)]
        time_ms: Option<u64>,
        /// Print the cell result as JSON (WIT field names, `_` for `-`): bundles, outputs,
        /// diagnostic, timing.
        #[arg(long)]
        json: bool,
    },
    /// Completion at CURSOR (a byte offset into SOURCE), after running the --cell cells.
    Complete {
        source: String,
        cursor: u32,
        /// A cell to run first (repeatable), so that completion sees its bindings.
        #[arg(long = "cell")]
        cells: Vec<String>,
        /// Print JSON instead of one candidate per line.
        #[arg(long)]
        json: bool,
    },
    /// What the name at CURSOR is (Markdown), after running the --cell cells.
    Inspect {
        source: String,
        cursor: u32,
        #[arg(long = "cell")]
        cells: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Whether SOURCE is a complete cell: complete, incomplete (and the indent), invalid.
    IsComplete {
        source: String,
        #[arg(long)]
        json: bool,
    },
    /// The session's variables after running the --cell cells (with --since N: only those
    /// the cells after the N-th successful one bound or changed, and the generation now).
    Variables {
        #[arg(long = "cell")]
        cells: Vec<String>,
        #[arg(long)]
        since: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Transpile a Ruchy program, or a notebook (`.ipynb`, or cells separated by `// %%`
    /// lines), to one Rust program.
    Compile {
        file: PathBuf,
        /// Write the Rust here instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Build the Rust with rustc, run it, and compare its output with the interpreter's.
        #[arg(long)]
        check: bool,
        /// With --check: how long the compiled program may run, in seconds.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Show the bytecode a cell compiles to.
    Disasm { source: String },
    /// Build both components: target/ruchy_notebook.wasm (full) and target/ruchy_kernel.wasm.
    BuildComponent,
    /// Serve notebook sessions over HTTP/JSON: many per process, every successful cell
    /// journaled durably before its reply.
    Serve(ServeArgs),
    /// Drive a running service: idle sessions (memory), then concurrent clients (cells/s,
    /// latency); exits non-zero if any reply was wrong.
    Load {
        #[arg(long, default_value = "http://127.0.0.1:8765")]
        url: String,
        #[arg(long, env = "RUCHY_SERVE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Idle sessions to open first, three bindings each.
        #[arg(long, default_value_t = 0)]
        idle: usize,
        /// Concurrent clients, a session each.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Cells per client.
        #[arg(long, default_value_t = 50)]
        cells: usize,
        /// Each client sends a cell every N ms (0: back to back, the saturation figure).
        #[arg(long, default_value_t = 0)]
        interval_ms: u64,
        /// Drive `serve --restate` workers through these Restate ingress URLs (comma
        /// separated) instead: --sessions sessions of --cells cells, every reply and final
        /// state checked, retried across ingresses (what `cargo xtask cluster` runs).
        #[arg(long, value_delimiter = ',')]
        restate: Vec<String>,
        /// With --restate: sessions.
        #[arg(long, default_value_t = 200)]
        sessions: usize,
    },
    /// The Jupyter kernel: `kernel --connection-file FILE` runs it, `kernel install` writes
    /// its kernelspec.
    Kernel {
        /// The connection file a Jupyter client wrote (ports, key).
        #[arg(long)]
        connection_file: Option<PathBuf>,
        #[command(subcommand)]
        action: Option<KernelCmd>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where to listen (loopback unless told otherwise; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8765")]
    addr: std::net::SocketAddr,
    /// Where the journal store lives (created if missing).
    #[arg(long, default_value = "ruchy-data")]
    data_dir: PathBuf,
    /// Every request must carry `Authorization: Bearer TOKEN`.
    #[arg(long, env = "RUCHY_SERVE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Instances sessions are spread over (each runs one call at a time; default: twice the
    /// cores).
    #[arg(long)]
    shards: Option<usize>,
    /// Sessions kept in memory at most; the least recently used beyond it are rebuilt from
    /// their journal when next used.
    #[arg(long, default_value_t = 20_000)]
    resident_cap: usize,
    /// Sessions that may exist at most.
    #[arg(long, default_value_t = 100_000)]
    max_sessions: usize,
    /// Test hook: wasmtime interrupts any call after this many milliseconds.
    #[arg(long, hide = true)]
    test_backstop_ms: Option<u64>,
    /// Test hook: the store refuses every N-th journal append.
    #[arg(long, hide = true, default_value_t = 0)]
    test_fail_every: u64,
    /// Serve the sessions as a Restate service (object `RuchySession`, journals in Restate's
    /// state) for Restate to call; register this address with Restate's admin API.
    #[arg(long, conflicts_with_all = ["token", "test_backstop_ms"])]
    restate: bool,
}

#[derive(Subcommand)]
enum KernelCmd {
    /// Write the kernelspec `ruchy` (kernel.json and logos) where Jupyter finds it, pointing
    /// at this host-rs binary. Default: --user.
    Install {
        /// The user's Jupyter data directory (~/.local/share/jupyter on Linux).
        #[arg(long, conflicts_with_all = ["sys_prefix", "prefix"])]
        user: bool,
        /// The current Python environment's share/jupyter ($VIRTUAL_ENV, else python3's
        /// sys.prefix).
        #[arg(long, conflicts_with = "prefix")]
        sys_prefix: bool,
        /// DIR/share/jupyter.
        #[arg(long, value_name = "DIR")]
        prefix: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("host-rs: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `host-rs compile f.ruchy | head` closes our stdout early: end quietly, as Unix tools do
/// when SIGPIPE kills them (exit status 141), instead of a panic from `println!`.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info)
    }));
}

fn component(cli_path: &Option<PathBuf>) -> Result<PathBuf> {
    match cli_path {
        Some(p) if p.as_os_str() == "kernel" => ensure_kernel(&workspace_root()),
        Some(p) if p.as_os_str() == "full" => ensure_component(&workspace_root()),
        Some(p) => Ok(p.clone()),
        None => ensure_component(&workspace_root()),
    }
}

fn instance(cli_path: &Option<PathBuf>) -> Result<Instance> {
    Runtime::load(&component(cli_path)?)?.instantiate()
}

/// Prints a value as indented JSON (the `--json` outputs).
fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// A fresh session in which `cells` ran (a failing one is reported on stderr and skipped).
fn session_after(
    cli_path: &Option<PathBuf>,
    cells: &[String],
) -> Result<(Instance, host_rs::host::SessionHandle)> {
    let mut inst = instance(cli_path)?;
    let s = inst.new_session()?;
    for cell in cells {
        let r = inst.execute_cell(s, cell)?;
        if let Some(d) = &r.diagnostic {
            eprint!("{}", render::diagnostic(d, cell, "cell"));
        }
    }
    Ok((inst, s))
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
        Cmd::Serve(a) => {
            let shards = a
                .shards
                .unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(2, |n| n.get()));
            host_rs::serve::serve(
                &component(&cli.component)?,
                host_rs::serve::Options {
                    addr: a.addr,
                    data_dir: a.data_dir.clone(),
                    token: a.token.clone(),
                    shards,
                    resident_cap: a.resident_cap,
                    max_sessions: a.max_sessions,
                    backstop_ms: a.test_backstop_ms,
                    restate: a.restate,
                    fail_every: a.test_fail_every,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Load {
            url,
            token,
            idle,
            clients,
            cells,
            interval_ms,
            restate,
            sessions,
        } => {
            if !restate.is_empty() {
                let ok =
                    host_rs::serve::cluster_load::run(host_rs::serve::cluster_load::Options {
                        ingress: restate.clone(),
                        sessions: *sessions,
                        cells: *cells,
                        concurrency: *clients,
                        deadline: std::time::Duration::from_secs(120),
                    })?;
                return Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            let ok = host_rs::serve::load::run(host_rs::serve::load::Options {
                url: url.clone(),
                token: token.clone(),
                idle: *idle,
                clients: *clients,
                cells: *cells,
                interval_ms: *interval_ms,
            })?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::Kernel {
            connection_file,
            action,
        } => kernel(&cli.component, connection_file.as_deref(), action.as_ref()),
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
        Cmd::Complete {
            source,
            cursor,
            cells,
            json,
        } => {
            let (mut inst, s) = session_after(&cli.component, cells)?;
            let c = inst.complete(s, source, *cursor)?;
            if *json {
                print_json(&host_rs::json::completions(&c))?;
            } else {
                for i in &c.items {
                    let kind = host_rs::json::completion_kind(i.kind);
                    println!("{}\t{kind}\t{}", i.label, i.detail);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Inspect {
            source,
            cursor,
            cells,
            json,
        } => {
            let (mut inst, s) = session_after(&cli.component, cells)?;
            let i = inst.inspect(s, source, *cursor)?;
            if *json {
                print_json(&host_rs::json::inspection(&i))?;
            } else if let Some(i) = &i {
                println!("{}", i.markdown);
            }
            Ok(if i.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Cmd::IsComplete { source, json } => {
            let (mut inst, s) = session_after(&cli.component, &[])?;
            let c = inst.is_complete(s, source)?;
            if *json {
                println!("{}", host_rs::json::completeness(&c));
            } else {
                match c {
                    host_rs::host::Completeness::Complete => println!("complete"),
                    host_rs::host::Completeness::Incomplete(indent) => {
                        println!("incomplete {:?}", indent)
                    }
                    host_rs::host::Completeness::Invalid => println!("invalid"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Variables { cells, since, json } => {
            let (mut inst, s) = session_after(&cli.component, cells)?;
            let vars = match since {
                Some(g) => {
                    let u = inst.variables_since(s, *g)?;
                    if *json {
                        let u = host_rs::json::variables_update(&u);
                        print_json(&u)?;
                        return Ok(ExitCode::SUCCESS);
                    }
                    println!("generation {}", u.generation);
                    u.changed
                }
                None => inst.variables(s)?,
            };
            if *json {
                print_json(&host_rs::json::variables(&vars))?;
            } else {
                for v in &vars {
                    println!("{}\t{}\t{}", v.name, v.type_name, v.display);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Eval {
            source,
            time_ms,
            json,
        } => {
            let rt = Runtime::load(&component(&cli.component)?)?;
            let mut nb = host_rs::notebook::Notebook::new(&rt)?;
            if let Some(ms) = time_ms {
                let limits = nb.get_limits()?;
                nb.set_limits(host_rs::host::Limits {
                    time_ms: *ms,
                    ..limits
                })?;
            }
            let r = nb.execute_cell(source)?;
            if *json {
                print_json(&host_rs::json::cell_result(&r))?;
                return Ok(if r.diagnostic.is_some() {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            print!("{}", render::cell_text(&r));
            Ok(report_error(&r.diagnostic, source, "cell"))
        }
        Cmd::Compile {
            file,
            output,
            check,
            timeout,
        } => compile(&cli.component, file, output.as_deref(), *check, *timeout),
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
        Cmd::Bench {
            iterations,
            json,
            check,
            baseline,
        } => bench(&cli.component, *iterations, *json, *check, baseline),
    }
}

/// `compile FILE [-o OUT] [--check]`. A notebook is transpiled cell by cell in order; with
/// `--check`, the cells run in the interpreter first, and what is checked is the session's
/// `export-rust` (the cells that succeeded), against what those cells printed and showed.
fn compile(
    cli_path: &Option<PathBuf>,
    file: &Path,
    output: Option<&Path>,
    check: bool,
    timeout: u64,
) -> Result<ExitCode> {
    let input = check::read_input(file)?;
    let origin = file.display().to_string();
    let mut inst = instance(cli_path)?;
    let interpreted = if check {
        Some(check::interpret(&mut inst, &input, &origin)?)
    } else {
        None
    };
    let transpiled = match interpreted.as_ref().and_then(|i| i.export.clone()) {
        Some(export) => export,
        None => check::transpile(&mut inst, &input, &origin)?,
    };
    let rust = match transpiled {
        Ok(rust) => rust,
        Err(rendered) => {
            eprint!("{rendered}");
            if check {
                println!("verdict: refused (compile gave the diagnostics above)");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(out) = output {
        std::fs::write(out, &rust).with_context(|| format!("writing {}", out.display()))?;
    } else if !check {
        print!("{rust}");
    }
    let Some(interpreted) = interpreted else {
        return Ok(ExitCode::SUCCESS);
    };
    let kind = match &input {
        check::Input::Script(_) => "a script".to_string(),
        check::Input::Cells(c) => format!("a notebook of {} cells", c.len()),
    };
    println!("{origin}: {kind}, {} lines of Rust", rust.lines().count());
    for e in &interpreted.errors {
        eprint!("{e}");
    }
    let script = matches!(input, check::Input::Script(_));
    if !script && !interpreted.errors.is_empty() {
        println!(
            "{} cell(s) failed in the interpreter: the check compiles the cells that succeeded, as export-rust does",
            interpreted.errors.len()
        );
    }
    let ran = match check::build_and_run(&rust, std::time::Duration::from_secs(timeout))? {
        Ok(ran) => ran,
        Err(errors) => {
            eprint!("{errors}");
            println!("verdict: DOES NOT BUILD (a bug in compile: please report it)");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!(
        "built with rustc in {:.2} s; the interpreter printed {} lines, the compiled program {}",
        ran.build_time.as_secs_f64(),
        interpreted.stdout.lines().count(),
        ran.stdout.lines().count()
    );
    let interpreter_failed = script && !interpreted.errors.is_empty();
    let verdict = match (
        ran.success,
        check::first_difference(&interpreted.stdout, &ran.stdout),
    ) {
        (None, _) => format!("DIFFERENT: the compiled program ran longer than {timeout} s"),
        (Some(ok), None) if ok != interpreter_failed => {
            "agree: the compiled program prints what the interpreter prints".to_string()
        }
        (Some(ok), None) => format!(
            "DIFFERENT: the same output, but the {} failed and the {} did not",
            if ok {
                "interpreter"
            } else {
                "compiled program"
            },
            if ok {
                "compiled program"
            } else {
                "interpreter"
            }
        ),
        (Some(_), Some((line, want, got))) => format!(
            "DIFFERENT at output line {line}: the interpreter printed {}, the compiled program {}",
            want.map_or("nothing more".to_string(), |l| format!("{l:?}")),
            got.map_or("nothing more".to_string(), |l| format!("{l:?}"))
        ),
    };
    println!("verdict: {verdict}");
    Ok(if verdict.starts_with("agree") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `kernel install ...` or `kernel --connection-file FILE`.
fn kernel(
    cli_path: &Option<PathBuf>,
    connection_file: Option<&Path>,
    action: Option<&KernelCmd>,
) -> Result<ExitCode> {
    use host_rs::kernel::install::{install, Location};
    match (action, connection_file) {
        (
            Some(KernelCmd::Install {
                user: _,
                sys_prefix,
                prefix,
            }),
            None,
        ) => {
            let location = match (prefix, sys_prefix) {
                (Some(dir), _) => Location::Prefix(dir.clone()),
                (None, true) => Location::SysPrefix,
                (None, false) => Location::User,
            };
            let dir = install(&location, cli_path.as_deref())?;
            println!("Installed the Ruchy kernelspec in {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(file)) => {
            host_rs::kernel::server::run(file, component(cli_path)?)?;
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!(
            "usage: host-rs kernel --connection-file FILE, or host-rs kernel install [--user | --sys-prefix | --prefix DIR]"
        ),
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

fn bench(
    cli_path: &Option<PathBuf>,
    iterations: u32,
    json: bool,
    check: bool,
    baseline: &Path,
) -> Result<ExitCode> {
    let path = component(cli_path)?;
    let report = bench::run(&path, iterations)?;
    let now = report.json();
    if json {
        print_json(&now)?;
    } else {
        print!("{}", report.text());
    }
    let mut ok = report.seed_met();
    if check {
        ok &= report.goals_met();
        let base = std::fs::read_to_string(baseline)
            .with_context(|| format!("reading the baseline {}", baseline.display()))?;
        let base: serde_json::Value = serde_json::from_str(&base)
            .with_context(|| format!("parsing the baseline {}", baseline.display()))?;
        let text = bench::compare(&now, &base);
        if json {
            eprint!("\n{text}");
        } else {
            print!("\n{text}");
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
