//! `compile`, `compile-cells` and `export-rust` through the component in wasmtime, and the
//! `host-rs compile --check` command on the examples.

use host_rs::build::{ensure_component, workspace_root};
use host_rs::host::{Instance, Runtime};
use std::process::Command;

fn instance() -> Instance {
    let path = ensure_component(&workspace_root()).expect("the component");
    Runtime::load(&path)
        .expect("loading the component")
        .instantiate()
        .expect("an instance")
}

const SEED: [&str; 5] = [
    "let x = 42",
    "let y = x * 2 + 1",
    "fun double(n: Int) -> Int { n * 2 }",
    "let result = double(21)",
    "if x > 0 { x } else { 0 }",
];

#[test]
fn export_is_the_successful_cells_compiled() {
    let mut inst = instance();
    let s = inst.new_session().unwrap();
    for (i, cell) in SEED.iter().enumerate() {
        inst.execute_cell(s, cell).unwrap();
        if i == 2 {
            // a failing cell in between is left out
            let r = inst.execute_cell(s, "missing + 1").unwrap();
            assert!(r.diagnostic.is_some());
        }
    }
    let exported = inst.export_rust(s).unwrap().expect("the seed cells export");
    let cells: Vec<String> = SEED.iter().map(|c| c.to_string()).collect();
    let compiled = inst
        .compile_cells(&cells)
        .unwrap()
        .expect("the seed cells compile");
    assert_eq!(exported, compiled);
    assert!(
        exported.contains("fn double(n: i64) -> i64 {"),
        "{exported}"
    );
    assert!(!exported.contains("missing"), "{exported}");
}

#[test]
fn cell_errors_point_into_their_cell() {
    let mut inst = instance();
    let cells = vec!["let a = 1".to_string(), "let b = [a, \"two\"]".to_string()];
    let errors = inst
        .compile_cells(&cells)
        .unwrap()
        .expect_err("a mixed array");
    assert_eq!(errors[0].cell, 2);
    assert_eq!(errors[0].source, cells[1]);
    let span = &errors[0].diagnostic.span;
    assert_eq!((span.start, span.line, span.column), (12, 1, 13));
    assert!(
        errors[0].diagnostic.message.starts_with("cell 2: "),
        "{}",
        errors[0].diagnostic.message
    );
}

fn host_rs(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_host-rs"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("running host-rs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn compile_check_agrees_on_the_examples() {
    for example in ["examples/seed-notebook.ruchy", "examples/word-count.ruchy"] {
        let (ok, out) = host_rs(&["compile", "--check", example]);
        assert!(ok && out.contains("verdict: agree"), "{example}:\n{out}");
    }
}

#[test]
fn compile_writes_the_rust_to_a_file_and_refuses_with_a_diagnostic() {
    let dir = std::env::temp_dir().join(format!("ruchy-compile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("seed.rs");
    let (ok, _) = host_rs(&[
        "compile",
        "examples/seed-notebook.ruchy",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok);
    let rust = std::fs::read_to_string(&out).unwrap();
    assert!(rust.contains("fn main() {"), "{rust}");
    let bad = dir.join("bad.ruchy");
    std::fs::write(&bad, "let a = [1, \"x\"]\n").unwrap();
    let (ok, _) = host_rs(&["compile", "--check", bad.to_str().unwrap()]);
    assert!(!ok);
    let _ = std::fs::remove_dir_all(&dir);
}
