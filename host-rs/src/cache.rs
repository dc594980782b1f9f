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
//!
//! Hashing the component itself means reading it: 1.7 MB read and hashed was measured at more
//! than half of a warm `host-rs eval`'s CPU time. So the content hash is remembered in a stamp
//! beside the cache files, keyed by the component's path and its file metadata (size,
//! modification time to the nanosecond, inode and device): a warm start stats the component
//! instead of reading it. A component rewritten in any way a build or a copy does changes its
//! time, so its stamp no longer matches and it is read and hashed again (the trust `make` and
//! cargo place in modification times, with the size and inode besides).

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

/// The cache file for a component whose content hash is `content`.
fn cache_file_of(dir: &Path, engine: &Engine, content: &[u8]) -> PathBuf {
    // `DefaultHasher::new()` has fixed keys: the same engine settings give the same name.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!(
        "ruchy_notebook-{}-{:016x}.cwasm",
        hex(&content[..16]),
        h.finish()
    ))
}

/// The cache file for `component` (its bytes) under `engine` in `dir`.
pub fn cache_file(dir: &Path, engine: &Engine, component: &[u8]) -> PathBuf {
    cache_file_of(dir, engine, &Sha256::digest(component))
}

/// One version of the file at a path, identified without reading it.
struct Version {
    /// The canonical path: one stamp file per path.
    path: PathBuf,
    /// The path, size, modification time in nanoseconds, inode and device, as the stamp keeps
    /// them.
    key: String,
}

fn version(path: &Path) -> Option<Version> {
    use std::os::unix::fs::MetadataExt;
    let path = std::fs::canonicalize(path).ok()?;
    let m = std::fs::metadata(&path).ok()?;
    let key = format!(
        "{} {} {}.{:09} {} {}",
        path.display(),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino(),
        m.dev()
    );
    Some(Version { path, key })
}

/// The stamp file that remembers the content hash of the component at `path`.
fn stamp_file(dir: &Path, path: &Path) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    dir.join(format!("ruchy_notebook-{:016x}.stamp", h.finish()))
}

/// The content hash a stamp remembers for exactly this version of the component.
fn stamped_hash(dir: &Path, v: &Version) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(stamp_file(dir, &v.path)).ok()?;
    let (stamped_key, hash) = text.trim_end().rsplit_once('\n')?;
    if stamped_key != v.key || hash.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(hash.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn write_stamp(dir: &Path, v: &Version, content: &[u8]) -> Result<()> {
    let file = stamp_file(dir, &v.path);
    write_whole(&file, format!("{}\n{}\n", v.key, hex(content)).as_bytes())?;
    prune_files(&file, ".stamp", STAMPS_KEPT);
    Ok(())
}

/// Stamps kept: one per component path a host loads (the full component, the kernel, and a
/// few a test or a user points at).
const STAMPS_KEPT: usize = 8;

/// Loads the component at `origin` through the cache in `dir`. On a hit whose stamp matches
/// the component's metadata the component is not read at all.
pub fn load(engine: &Engine, origin: &Path, dir: &Path) -> Result<(Component, Load)> {
    let version = version(origin);
    if let Some(content) = version.as_ref().and_then(|v| stamped_hash(dir, v)) {
        let file = cache_file_of(dir, engine, &content);
        if file.exists() {
            if let Ok(c) = check(engine, &file) {
                return Ok((c, Load::CacheHit));
            }
        }
    }
    let bytes = std::fs::read(origin)
        .with_context(|| format!("reading the component {}", origin.display()))?;
    let content = Sha256::digest(&bytes);
    if let Some(v) = &version {
        if let Err(e) = write_stamp(dir, v, &content) {
            eprintln!("warning: cannot write the component cache's stamp: {e:#}");
        }
    }
    load_bytes(engine, &bytes, &content, origin, dir)
}

/// Loads `component` (bytes read from `origin`, whose SHA-256 is `content`) through the cache.
fn load_bytes(
    engine: &Engine,
    component: &[u8],
    content: &[u8],
    origin: &Path,
    dir: &Path,
) -> Result<(Component, Load)> {
    let file = cache_file_of(dir, engine, content);
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
    write_whole(file, compiled)?;
    prune(file);
    Ok(())
}

/// Writes `bytes` to a temporary name and renames it to `file`, so a crash never leaves half
/// a file under a valid name (cache files and stamps alike).
fn write_whole(file: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("renaming to {}", file.display()))
}

/// Removes the older cache files in `file`'s directory (older components or settings), so the
/// cache holds the newest files, one per component the hosts load (the full one and the
/// kernel: keeping only one would make them evict each other), not one per build ever made.
fn prune(file: &Path) {
    // Files kept: `file` and the newest other (the other component).
    prune_files(file, ".cwasm", 2);
}

/// Keeps `file` and the newest others ending in `ext` in its directory, `keep` in all.
fn prune_files(file: &Path, ext: &str, keep_n: usize) {
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
            name != keep && n.starts_with("ruchy_notebook-") && n.ends_with(ext)
        })
        .map(|e| {
            let t = e.metadata().and_then(|m| m.modified());
            (t.unwrap_or(std::time::UNIX_EPOCH), e.path())
        })
        .collect();
    others.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, p) in others.into_iter().skip(keep_n.saturating_sub(1)) {
        let _ = std::fs::remove_file(p);
    }
}
