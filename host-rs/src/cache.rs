//! The precompiled-component cache: Cranelift's output for a component, kept on disk so that
//! the next process loads it without compiling (a `.cwasm` file).
//!
//! A cache file's name is its key: the SHA-256 of the component's bytes and wasmtime's
//! compatibility hash of the engine (its version and every setting that changes the code).
//! A component that changed or an engine configured differently therefore never finds a stale
//! file. A file under the right name is still checked by wasmtime (a precompiled artifact of
//! this wasmtime version, target and settings) before it is mapped; one that fails is compiled
//! afresh and replaced, never trusted. Files are written to a temporary name and renamed, so a
//! crash never leaves half a file under a valid name. (A checksum of the whole file on every
//! load was measured at 5 ms, doubling the start time, since it means reading the file instead
//! of mapping it; the atomic write is what keeps files whole.)

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// How a component was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// Compiled with Cranelift (no cache directory, or no file for this key yet); the cache
    /// file was written.
    Compiled,
    /// Deserialized from a valid cache file.
    CacheHit,
    /// A cache file for this key existed but was refused (the reason); compiled and replaced.
    Rebuilt(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file for `component` (its bytes) under `engine` in `dir`.
pub fn cache_file(dir: &Path, engine: &Engine, component: &[u8]) -> PathBuf {
    let content = Sha256::digest(component);
    // `DefaultHasher::new()` has fixed keys: the same engine settings give the same name.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!(
        "ruchy_notebook-{}-{:016x}.cwasm",
        hex(&content[..16]),
        h.finish()
    ))
}

/// Loads `component` (bytes read from `origin`) through the cache in `dir`.
pub fn load(
    engine: &Engine,
    component: &[u8],
    origin: &Path,
    dir: &Path,
) -> Result<(Component, Load)> {
    let file = cache_file(dir, engine, component);
    let mut how = Load::Compiled;
    if file.exists() {
        match check(engine, &file) {
            Ok(c) => return Ok((c, Load::CacheHit)),
            Err(why) => how = Load::Rebuilt(why),
        }
    }
    let compiled = engine
        .precompile_component(component)
        .map_err(|e| anyhow::anyhow!("compiling the component {}: {e:?}", origin.display()))?;
    // SAFETY: these bytes were produced by `precompile_component` of this very engine.
    let c = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| anyhow::anyhow!("loading the compiled component: {e:?}"))?;
    if let Err(e) = store(&file, &compiled) {
        eprintln!(
            "warning: cannot write the component cache {}: {e:#}",
            file.display()
        );
    }
    Ok((c, how))
}

/// Lets wasmtime check a cache file's header (a precompiled artifact, of this wasmtime
/// version, target and settings) and map it.
fn check(engine: &Engine, file: &Path) -> std::result::Result<Component, String> {
    match Engine::detect_precompiled_file(file) {
        Ok(Some(_)) => {}
        Ok(None) => return Err("it is not a precompiled wasmtime artifact".into()),
        Err(e) => return Err(format!("it cannot be read: {e}")),
    }
    // SAFETY: the file's name is the hash of this component and of this engine's settings,
    // files are only ever written whole (a temporary file renamed into place) from
    // `precompile_component`, and wasmtime checks that its version and settings match.
    unsafe { Component::deserialize_file(engine, file) }
        .map_err(|e| format!("wasmtime refuses it: {e}"))
}

fn store(file: &Path, compiled: &[u8]) -> Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("renaming to {}", file.display()))?;
    prune(file);
    Ok(())
}

/// Removes the older cache files in `file`'s directory (older components or settings), so the
/// cache holds the newest files, one per component the hosts load (the full one and the
/// kernel: keeping only one would make them evict each other), not one per build ever made.
fn prune(file: &Path) {
    /// Files kept: `file` and the newest other (the other component).
    const KEEP: usize = 2;
    let (Some(dir), Some(keep)) = (file.parent(), file.file_name()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut others: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let n = name.to_string_lossy();
            name != keep && n.starts_with("ruchy_notebook-") && n.ends_with(".cwasm")
        })
        .map(|e| {
            let t = e.metadata().and_then(|m| m.modified());
            (t.unwrap_or(std::time::UNIX_EPOCH), e.path())
        })
        .collect();
    others.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, p) in others.into_iter().skip(KEEP - 1) {
        let _ = std::fs::remove_file(p);
    }
}
