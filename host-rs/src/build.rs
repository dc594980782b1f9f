//! Finding and (re)building the components at their fixed paths: the full component
//! `target/ruchy_notebook.wasm` (world `notebook`) and the kernel `target/ruchy_kernel.wasm`
//! (world `kernel`: the same sources without Rust export, built size-first).
//!
//! The hosts never guess: if a component is missing or older than any source it is built
//! from, both are rebuilt with plain cargo for `wasm32-wasip2` (installing that target with
//! rustup first if needed) in their own target directory, then copied to the fixed paths.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The workspace this host was built from.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The two components built from the same sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// World `notebook`: everything, Rust export included.
    Full,
    /// World `kernel`: no `compile`, `compile-cells` or `export-rust`; what a page loads first.
    Kernel,
}

impl Flavor {
    pub const ALL: [Flavor; 2] = [Flavor::Kernel, Flavor::Full];

    /// The file under `target/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Flavor::Full => "ruchy_notebook.wasm",
            Flavor::Kernel => "ruchy_kernel.wasm",
        }
    }

    /// What `--component` and the CLI call it.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Full => "full",
            Flavor::Kernel => "kernel",
        }
    }
}

/// Where the full component lives: `target/ruchy_notebook.wasm` under the workspace.
pub fn component_path(root: &Path) -> PathBuf {
    flavor_path(root, Flavor::Full)
}

/// Where a component lives: `target/<file name>` under the workspace.
pub fn flavor_path(root: &Path, flavor: Flavor) -> PathBuf {
    root.join("target").join(flavor.file_name())
}

/// The engine's crates, bottom layer first (engine/<name>).
const ENGINE_CRATES: [&str; 4] = ["syntax", "runtime", "transpiler", "notebook"];

/// Inputs of the component build.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["wit", "component/src", "counting-alloc/src"] {
        collect(&root.join(dir), &mut out);
    }
    for layer in ENGINE_CRATES {
        collect(&root.join("engine").join(layer).join("src"), &mut out);
        out.push(root.join("engine").join(layer).join("Cargo.toml"));
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
        "component/Cargo.toml",
        "counting-alloc/Cargo.toml",
        "host-js/opt.mjs",
    ] {
        out.push(root.join(file));
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Whether the component at `out` is missing or older than one of its sources.
pub fn is_stale(root: &Path, out: &Path) -> bool {
    let Some(built) = modified(out) else {
        return true;
    };
    sources(root)
        .iter()
        .filter_map(|p| modified(p))
        .any(|m| m > built)
}

/// Returns the component's path, building it first if it is missing or stale. Without the
/// sources (a host installed elsewhere) an existing component is used as it is.
pub fn ensure_component(root: &Path) -> Result<PathBuf> {
    ensure_flavor(root, Flavor::Full)
}

/// The kernel's path, building both components first if it is missing or stale.
pub fn ensure_kernel(root: &Path) -> Result<PathBuf> {
    ensure_flavor(root, Flavor::Kernel)
}

/// A component's path, building both first if it is missing or stale.
pub fn ensure_flavor(root: &Path, flavor: Flavor) -> Result<PathBuf> {
    let out = flavor_path(root, flavor);
    let have_sources = root.join("component").join("Cargo.toml").exists();
    if !have_sources {
        if out.exists() {
            return Ok(out);
        }
        bail!(
            "no component at {} and no sources to build it from",
            out.display()
        );
    }
    // only the asked-for file is checked (a walk of the sources costs ~1.5 ms of every
    // process start); building rebuilds both
    if is_stale(root, &out) {
        build_component(root)?;
    }
    Ok(out)
}

/// Builds both components and copies them to their fixed paths; returns the full one's path.
/// Progress goes to stderr.
pub fn build_component(root: &Path) -> Result<PathBuf> {
    ensure_wasm_target(root)?;
    for flavor in Flavor::ALL {
        build_flavor(root, flavor)?;
    }
    Ok(component_path(root))
}

fn build_flavor(root: &Path, flavor: Flavor) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // one profile for both (ARCHITECTURE.md, "Builds": no size-first setting keeps the kernel
    // within 1.1x of the full component's speed), so the layers below the notebook are built
    // once and only the notebook crate, the adapter and the link differ
    let profile = "component";
    let features: &[&str] = match flavor {
        Flavor::Full => &[],
        Flavor::Kernel => &["--no-default-features"],
    };
    eprintln!(
        "building the {} component (cargo build --target wasm32-wasip2 --profile {profile} {})...",
        flavor.name(),
        features.join(" ")
    );
    let status = clean_env(Command::new(&cargo))
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "--package",
            "ruchy-notebook-component",
            "--target",
            "wasm32-wasip2",
            "--profile",
            profile,
        ])
        .args(features)
        .arg("--target-dir")
        .arg(root.join("target").join("wasm"))
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("building the {} component failed ({status})", flavor.name());
    }
    let built = root
        .join("target")
        .join("wasm")
        .join("wasm32-wasip2")
        .join(profile)
        .join("ruchy_notebook_component.wasm");
    let out = flavor_path(root, flavor);
    optimize(root, &built, &out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "{} component: {} ({size} bytes)",
        flavor.name(),
        out.display()
    );
    Ok(out)
}

/// wasm-opt over the component's core modules (`host-js/opt.mjs`, binaryen inside jco), written
/// to `out` through a temporary file. Without Node the component is used as cargo built it,
/// with a warning (the test command's size check then fails).
fn optimize(root: &Path, built: &Path, out: &Path) -> Result<()> {
    eprintln!("optimizing it (node host-js/opt.mjs: jco opt, wasm-opt -O1)...");
    let tmp = out.with_extension("wasm.tmp");
    let status = Command::new("node")
        .current_dir(root)
        .arg(root.join("host-js").join("opt.mjs"))
        .arg(built)
        .arg(&tmp)
        .status();
    match status {
        Ok(s) if s.success() => std::fs::rename(&tmp, out)
            .with_context(|| format!("moving {} to {}", tmp.display(), out.display())),
        other => {
            let why = match other {
                Ok(s) => format!("it failed ({s})"),
                Err(e) => format!("cannot run node: {e}"),
            };
            eprintln!("warning: jco opt skipped ({why}); the component is not optimized");
            let _ = std::fs::remove_file(&tmp);
            std::fs::copy(built, out)
                .with_context(|| format!("copying {} to {}", built.display(), out.display()))?;
            Ok(())
        }
    }
}

/// Installs the `wasm32-wasip2` target for the pinned toolchain if it is missing (a fresh
/// machine has none, and rustup does not install it on its own).
fn ensure_wasm_target(root: &Path) -> Result<()> {
    let installed = clean_env(Command::new("rustup"))
        .current_dir(root)
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-wasip2") =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)...");
            let status = clean_env(Command::new("rustup"))
                .current_dir(root)
                .args(["target", "add", "wasm32-wasip2"])
                .status()
                .context("running rustup")?;
            if !status.success() {
                bail!("rustup target add wasm32-wasip2 failed ({status})");
            }
            Ok(())
        }
        // no rustup: let cargo report what is missing
        Err(_) => Ok(()),
    }
}

/// A nested cargo must not inherit the outer build's settings.
fn clean_env(mut cmd: Command) -> Command {
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}
