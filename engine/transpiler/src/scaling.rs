//! Programs of many shapes and any size, deep and long, for the tests and the measurement of
//! `compile`'s time (`cargo run --release -p ruchy-notebook --example compile_scaling`).

/// `(name, program)` for each shape at size `n`.
pub fn shapes(n: usize) -> Vec<(&'static str, String)> {
    let rep = |s: &str, k: usize| s.repeat(k);
    let lines = |f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<String>();
    vec![
        // deep
        ("nested closures", format!("{}1", rep("|| ", n))),
        (
            "nested closures and calls (the fuzz finding)",
            format!(
                "{}dddddddddddddddddddd|xz|dddddddddddddddddddd|xzs",
                rep("||", n)
            ),
        ),
        (
            "nested blocks",
            format!("{}1{}", rep("{ ", n), rep(" }", n)),
        ),
        ("nested arrays", format!("{}1{}", rep("[", n), rep("]", n))),
        (
            "nested parentheses",
            format!("{}1{}", rep("(", n), rep(")", n)),
        ),
        (
            "nested ifs",
            format!("{}1{}", rep("if true { ", n), rep(" } else { 2 }", n)),
        ),
        (
            "nested matches",
            format!(
                "let x = 1\n{}1{}",
                rep("match x { 0 => 0, _ => ", n),
                rep(" }", n)
            ),
        ),
        (
            "nested try",
            format!("{}1{}", rep("try { ", n), rep(" } catch e { 0 }", n)),
        ),
        (
            "a long pipeline",
            format!(
                "let xs = [1, 2, 3]\nlet ys = xs{}\nprintln(ys)",
                rep(".map(|x| x + 1)", n)
            ),
        ),
        (
            "a long sum",
            format!("let s = 1{}\nprintln(s)", rep(" + 1", n)),
        ),
        // long
        (
            "many lets",
            format!(
                "let x0 = 1\n{}",
                lines(&|i| format!("let x{} = x{i} + 1\n", i + 1))
            ),
        ),
        (
            "many annotated lets",
            lines(&|i| format!("let x{i}: Int = {i}\n")),
        ),
        (
            "many functions",
            lines(&|i| format!("fun f{i}(a: Int) -> Int {{ a + {i} }}\n")),
        ),
        (
            "many pushes",
            format!(
                "let mut v = []\n{}println(v)",
                lines(&|i| format!("v.push({i})\n"))
            ),
        ),
        (
            "a wide object",
            format!(
                "let o = {{{}}}\nprintln(o)",
                (0..n).map(|i| format!("k{i}: {i}, ")).collect::<String>()
            ),
        ),
        (
            "a wide tuple",
            format!("({})", (0..n).map(|i| format!("{i}, ")).collect::<String>()),
        ),
        ("many closures", format!("[{}]", rep("|x| x + 1, ", n))),
        (
            "many f-strings",
            lines(&|i| format!("let s{i} = f\"{{{i}}} and {{{i} + 1}}\"\n")),
        ),
    ]
}
