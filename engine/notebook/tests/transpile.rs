//! `compile` output builds with rustc and prints what the interpreter prints.

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruchy-transpile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Transpiles `source`, builds it with rustc, runs it; returns its stdout.
fn compiled_output(name: &str, source: &str) -> String {
    let rust =
        ruchy_notebook::compile(source).unwrap_or_else(|d| panic!("{name}: compile failed: {d:?}"));
    let dir = scratch(name);
    let src = dir.join("main.rs");
    let bin = dir.join("main");
    std::fs::write(&src, &rust).expect("writing the Rust program");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--edition", "2021", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("running rustc");
    assert!(
        out.status.success(),
        "{name}: rustc rejected the transpiled program:\n{}\n{rust}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&bin).output().expect("running the program");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(run.stdout).expect("utf-8 output")
}

fn interpreted_output(source: &str) -> String {
    let out = ruchy_notebook::Session::new().run_script(source);
    assert!(out.diagnostic.is_none(), "{:?}", out.diagnostic);
    out.stdout
}

#[test]
fn the_five_seed_cells_as_one_program() {
    let cells = [
        "let x = 42",
        "let y = x * 2 + 1",
        "fun double(n: Int) -> Int { n * 2 }",
        "let result = double(21)",
        "if x > 0 { x } else { 0 }",
    ];
    let program = cells.join("\n");
    // as a script the five cells print nothing: the Rust must print nothing too
    assert_eq!(
        compiled_output("seed", &program),
        interpreted_output(&program)
    );
    // and with their values printed, the same values
    let printing =
        format!("{program}\nprintln(x, y, result)\nprintln(if x > 0 {{ x }} else {{ 0 }})");
    let expected = interpreted_output(&printing);
    assert_eq!(expected, "42 85 42\n42\n");
    assert_eq!(compiled_output("seed-printing", &printing), expected);
}

#[test]
fn floats_strings_loops_and_main() {
    let program = r#"
fun area(w: f64, h: f64) -> f64 { w * h }
fun main() {
    let mut total = 0
    for i in 1..=10 { total += i }
    println(f"total = {total}, area = {area(2.0, 3.0)}, half = {total / 2}")
    let mut s = "ab"
    s = s + "c" + 1
    println(s, 0.1 + 0.2, 7 % 3, -7 / 2)
    println("{} and {:.2}", s, 2.0 / 3.0)
}
"#;
    let expected = interpreted_output(program);
    assert_eq!(compiled_output("floats", program), expected);
}

/// Programs the Rust cannot express are refused with a diagnostic at the right place, never
/// turned into Rust that does not build (spec section 16).
#[test]
fn what_rust_cannot_express_is_a_diagnostic_with_its_span() {
    let cases = [
        // a method in an `impl` inside a function that uses the function's local (the Rust
        // writes the impl at the top level, where no local is seen)
        (
            "fun main() {\n    let k = 2\n    struct P { x: Int }\n    impl P { fun get(self) { self.x * k } }\n    println(P { x: 1 }.get())\n}",
            "fun get",
        ),
        // a call before the function's `fun` (Rust hoists `fn` items; Ruchy does not)
        ("println(f(1))\nfun f(x) { x + 1 }", "f(1)"),
        // rich notebook output has no form in a Rust program
        ("let c = line_chart([1, 2], [3, 4])", "line_chart([1, 2], [3, 4])"),
        ("println(1)\ndisplay(html(\"<b>x</b>\"))", "html(\"<b>x</b>\")"),
        ("markdown(\"*x*\")", "markdown(\"*x*\")"),
    ];
    for (source, at) in cases {
        let ds = ruchy_notebook::compile(source).expect_err(source);
        let start = source.find(at).expect("the marked text");
        assert!(
            ds.iter().any(|d| d.span.start as usize == start),
            "{source}: {ds:?}"
        );
    }
}
