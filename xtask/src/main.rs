//! Project tasks that need more than one tool: `cargo xtask test` runs every test the
//! project has (what CI runs), in order, failing on the first failure; `cargo xtask cluster`
//! runs the sessions on a 3-node Restate cluster through kills ([`cluster`]).

mod cluster;

use std::process::{Command, ExitCode};
use std::time::Instant;

pub(crate) fn step(title: &str, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("\n==> {title}\n    $ {program} {}", args.join(" "));
    let t = Instant::now();
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("{title}: cannot run {program}: {e}"))?;
    eprintln!("    ({:.1} s)", t.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{title}: failed ({status})"))
    }
}

/// A Node step run against the kernel component (`RUCHY_COMPONENT=kernel`).
fn kernel_step(title: &str, args: &[&str]) -> Result<(), String> {
    std::env::set_var("RUCHY_COMPONENT", "kernel");
    let r = step(title, "node", args);
    std::env::remove_var("RUCHY_COMPONENT");
    r
}

fn test() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    step("formatting", &cargo, &["fmt", "--all", "--", "--check"])?;
    step(
        "both components, full and kernel (wasm32-wasip2, installs the target if missing)",
        &cargo,
        &[
            "run",
            "--quiet",
            "--release",
            "-p",
            "host-rs",
            "--",
            "build-component",
        ],
    )?;
    step(
        "Rust tests: engine units, native corpus, transpiler through rustc, wasmtime corpus, component size and cache, the Jupyter kernel with real Jupyter clients (makes target/jupyter-venv once), the HTTP service with real HTTP clients and kill -9, each criterion bench once",
        &cargo,
        &["test", "--release", "--quiet", "--all-targets"],
    )?;
    step(
        "native corpus on the kernel's engine (ruchy-notebook without its `compile` feature, as the kernel component is built)",
        &cargo,
        &[
            "test",
            "--release",
            "--quiet",
            "-p",
            "ruchy-notebook",
            "--no-default-features",
            "--test",
            "conformance",
        ],
    )?;
    eprintln!("\n==> sessions on a 3-node Restate cluster with 2 workers, one of each killed (SIGKILL) halfway: nothing lost or wrong (cargo xtask cluster; installs the Restate server from cluster/package-lock.json if missing)");
    let t = Instant::now();
    cluster::cluster()?;
    eprintln!("    ({:.1} s)", t.elapsed().as_secs_f64());
    step(
        "jco corpus (installs host-js packages if missing)",
        "node",
        &["host-js/conformance.mjs"],
    )?;
    kernel_step(
        "jco corpus on the kernel component (RUCHY_COMPONENT=kernel; Rust export skipped)",
        &["host-js/conformance.mjs"],
    )?;
    step(
        "jco: more than the instance holds is a limit error from the same instance",
        "node",
        &["host-js/limits.mjs"],
    )?;
    step(
        "browser notebook in headless Chromium (installs Chromium and packages if missing)",
        "node",
        &["host-js/browser/test.mjs"],
    )?;
    step(
        "the page in Firefox ESR (SpiderMonkey, WebDriver BiDi) and WebKitGTK (JavaScriptCore, WebKitWebDriver on Xvfb): the cross-engine end-to-end tests (installs firefox-esr, webkit2gtk-driver and xvfb if missing)",
        "node",
        &[
            "host-js/browser/engines.mjs",
            "--engine",
            "firefox",
            "--engine",
            "webkit",
        ],
    )?;
    step(
        "the page and Jupyter exchange notebooks: the page's .ipynb run by nbclient with the kernel (same outputs), a Jupyter-run notebook opened in the page (same bundles)",
        "node",
        &["host-js/browser/jupyter.mjs"],
    )?;
    step(
        "wasmtime bench --check: the seed's targets and criteria, our goals, the baseline",
        &cargo,
        &[
            "run",
            "--quiet",
            "--release",
            "-p",
            "host-rs",
            "--",
            "bench",
            "--iterations",
            "1000",
            "--check",
        ],
    )?;
    step(
        "jco bench --check: the seed's targets and criteria, our goals",
        "node",
        &["host-js/run.mjs", "--iterations", "300", "--check"],
    )?;
    Ok(())
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let t = Instant::now();
    let result = match task.as_str() {
        "test" => test(),
        "cluster" => cluster::cluster(),
        _ => {
            eprintln!("usage: cargo xtask test | cargo xtask cluster");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            eprintln!("\nall tests passed in {:.0} s", t.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}
