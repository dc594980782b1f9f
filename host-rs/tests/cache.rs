//! The precompiled-component cache: a second load is a cache hit, and a damaged or foreign
//! file under the right name is refused, compiled afresh and replaced.

use host_rs::build::{ensure_component, workspace_root};
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
