//! The precompiled-component cache: a second load is a cache hit, and a damaged or foreign
//! file under the right name is refused, compiled afresh and replaced.

use host_rs::build::{ensure_component, ensure_kernel, workspace_root};
use host_rs::cache::{cache_file, Load};
use host_rs::host::{config, Runtime};
use wasmtime::Engine;

/// Replaces a file the way the cache does (a new file renamed over it): a file a running
/// host has mapped is never truncated in place.
fn replace(file: &std::path::Path, bytes: &[u8]) {
    let tmp = file.with_extension("test-tmp");
    std::fs::write(&tmp, bytes).expect("writing");
    std::fs::rename(&tmp, file).expect("renaming");
}

fn eval(rt: &Runtime) -> Option<String> {
    let mut inst = rt.instantiate().expect("an instance");
    let s = inst.new_session().expect("a session");
    inst.execute_cell(s, "let x = 40\nx + 2")
        .expect("a cell")
        .display
}

#[test]
fn cache_hits_and_refuses_damaged_or_foreign_files() {
    let path = ensure_component(&workspace_root()).expect("the component");
    let dir = std::env::temp_dir().join(format!("ruchy-cwasm-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let first = Runtime::load_with(&path, &dir).expect("a first load");
    assert_eq!(first.load.how, Load::Compiled);
    assert_eq!(eval(&first).as_deref(), Some("42"));
    let second = Runtime::load_with(&path, &dir).expect("a second load");
    assert_eq!(second.load.how, Load::CacheHit);
    assert_eq!(eval(&second).as_deref(), Some("42"));

    // the file this engine and component use
    let bytes = std::fs::read(&path).expect("the component's bytes");
    let file = cache_file(&dir, &Engine::new(&config()).expect("an engine"), &bytes);
    assert!(file.exists(), "{} was written", file.display());

    // damaged: garbage under the right name
    replace(&file, b"not a precompiled component");
    let rt = Runtime::load_with(&path, &dir).expect("a load after damage");
    assert!(matches!(rt.load.how, Load::Rebuilt(_)), "{:?}", rt.load.how);
    assert_eq!(eval(&rt).as_deref(), Some("42"));
    assert_eq!(
        Runtime::load_with(&path, &dir).expect("reload").load.how,
        Load::CacheHit
    );

    // foreign: a real artifact, made by an engine with other settings, under the right name
    let mut other = config();
    other.consume_fuel(true);
    let foreign = Engine::new(&other)
        .expect("another engine")
        .precompile_component(&bytes)
        .expect("precompiling with it");
    replace(&file, &foreign);
    let rt = Runtime::load_with(&path, &dir).expect("a load after the foreign file");
    match &rt.load.how {
        Load::Rebuilt(why) => assert!(why.contains("wasmtime refuses"), "{why}"),
        other => panic!("a foreign file was used: {other:?}"),
    }
    assert_eq!(eval(&rt).as_deref(), Some("42"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The content hash is remembered by the component's metadata (a warm start does not read the
/// component): a different component written to the same path must not be served the old
/// one's compiled code, and a stamp that lies is not trusted either.
#[test]
fn a_changed_component_at_the_same_path_is_compiled_afresh() {
    let full = ensure_component(&workspace_root()).expect("the component");
    let kernel = ensure_kernel(&workspace_root()).expect("the kernel");
    let dir = std::env::temp_dir().join(format!("ruchy-stamp-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    let path = dir.join("component.wasm");
    let cache = dir.join("cache");

    std::fs::copy(&kernel, &path).expect("copying the kernel");
    let rt = Runtime::load_with(&path, &cache).expect("the kernel");
    assert_eq!(rt.load.how, Load::Compiled);
    assert!(
        !rt.instantiate().expect("an instance").has_compiler(),
        "the kernel has no compiler interface"
    );
    assert_eq!(
        Runtime::load_with(&path, &cache).expect("again").load.how,
        Load::CacheHit
    );

    // the full component over the same path (a new file, as a build's copy makes)
    replace(&path, &std::fs::read(&full).expect("the full component"));
    let rt = Runtime::load_with(&path, &cache).expect("the full component");
    assert_eq!(rt.load.how, Load::Compiled);
    assert!(
        rt.instantiate().expect("an instance").has_compiler(),
        "the full component was loaded, not the kernel's code"
    );
    assert_eq!(eval(&rt).as_deref(), Some("42"));

    // a stamp that names the kernel's hash for the full component's metadata is not enough to
    // load the wrong code: stamps are rewritten whole, and here one is forged
    let stamps: Vec<_> = std::fs::read_dir(&cache)
        .expect("the cache")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "stamp"))
        .collect();
    assert_eq!(stamps.len(), 1, "one stamp per component path: {stamps:?}");
    let text = std::fs::read_to_string(&stamps[0]).expect("the stamp");
    replace(
        &stamps[0],
        format!("{}garbage\n", text.lines().next().unwrap_or("")).as_bytes(),
    );
    let rt = Runtime::load_with(&path, &cache).expect("after a damaged stamp");
    assert_eq!(
        rt.load.how,
        Load::CacheHit,
        "a damaged stamp means reading and hashing"
    );
    assert!(rt.instantiate().expect("an instance").has_compiler());
    let _ = std::fs::remove_dir_all(&dir);
}
