//! Property tests.
//!
//! * Cells made of Ruchy fragments and random bytes never make `execute_cell` panic, and a
//!   cell that fails leaves the session as it was: `x` and `y` show what they showed before
//!   and the session has as many globals as before (ARCHITECTURE.md invariants 6 and 7).
//! * Random well-typed programs (integers, arithmetic that cannot overflow, `let`, `if`,
//!   bounded `while` and `for` loops, functions, `println` of f-strings) print the same when
//!   the interpreter runs them as scripts and when `compile` turns them into Rust that `rustc`
//!   builds and runs. They are made from a fixed seed and built as modules of one crate in one
//!   `rustc` run, as `transpile_corpus.rs` builds the corpus.

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng};
use ruchy_notebook::runtime::vm::Limits;
use ruchy_notebook::Session;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

mod support;
use support::{build, scratch};

// ---------------------------------------------------------------------------------------------
// (a) arbitrary cells

/// Pieces of Ruchy, valid and not, that random cells are glued from.
const FRAGMENTS: &[&str] = &[
    "let x = ",
    "let y = ",
    "let mut z = ",
    "x",
    "y",
    "z",
    "x = ",
    "y = ",
    "x += 1",
    "y.push(x)",
    "1",
    "0",
    "-3",
    "2.5",
    "9223372036854775807",
    "\"s\"",
    "f\"{x} and {y}\"",
    "'c'",
    "true",
    "nil",
    " + ",
    " - ",
    " * ",
    " / ",
    " % ",
    " ** ",
    " == ",
    " < ",
    " && ",
    " ?? ",
    " |> ",
    "..",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "\n",
    " ",
    ":",
    ".",
    "=>",
    "fun f(a) { a + 1 }",
    "fun g(n) { if n < 1 { 0 } else { g(n - 1) } }",
    "f(x)",
    "g(100000)",
    "if x > 0 { x } else { 0 }",
    "while true { }",
    "loop { x += 1 }",
    "for i in 0..3 { y = y + [i] }",
    "match x { 1 => 2, _ => 3 }",
    "|a| a * 2",
    "struct P { a: Int }",
    "P { a: 1 }",
    "enum E { A, B(Int) }",
    "E::B(2)",
    "try { throw 1 } catch e { e }",
    "throw \"e\"",
    "1 / 0",
    "[1, 2][5]",
    "len(x)",
    "range(0, 5)",
    "println(x)",
    "print(y)",
    "x.len()",
    "y.map(|v| v * 2)",
    "{a: 1}",
    "(1, 2)",
    "return",
    "break",
    "undefined_name",
    "Some(1)",
    "Err(\"no\")",
    "?",
    "x as f64",
    "\"abc\"[1..]",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => prop::sample::select(FRAGMENTS).prop_map(String::from),
        1 => prop::collection::vec(any::<u8>(), 0..6)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Fragments, each followed by nothing, a space, a newline or a `;`.
fn cell() -> impl Strategy<Value = String> {
    let glue = prop::sample::select(&["", " ", "\n", "; "][..]);
    prop::collection::vec((fragment(), glue), 0..10)
        .prop_map(|parts| parts.into_iter().map(|(f, g)| f + g).collect())
}

/// What a cell that only names `name` shows: its display, or its error.
fn probe(s: &mut Session, name: &str) -> String {
    let out = s.execute_cell(name);
    match out.diagnostic {
        Some(d) => format!("error: {}", d.message),
        None => format!("{:?} {:?}", out.display, out.stdout),
    }
}

fn state(s: &mut Session) -> (String, String, usize) {
    (probe(s, "x"), probe(s, "y"), s.global_count())
}

proptest! {
    // 256 cases; `PROPTEST_CASES=N` for more
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn cells_never_panic_and_failures_change_nothing(
        x in -1000i64..1000,
        cells in prop::collection::vec(cell(), 1..8),
    ) {
        let mut s = Session::new();
        s.set_limits(Limits { max_depth: 100, max_output: 4096, max_steps: 10_000, ..Limits::default() });
        let first = s.execute_cell(&format!("let x = {x}\nlet y = [x, \"a\"]"));
        prop_assert!(first.diagnostic.is_none(), "{:?}", first.diagnostic);
        let mut known = state(&mut s);
        prop_assert_eq!(&known.0, &format!("Some({:?}) \"\"", x.to_string()));
        for c in &cells {
            // what a frontend asks while the user types never changes the session
            for at in (0..=c.len() + 1).step_by(3) {
                let _ = s.complete(c, at);
                let _ = s.inspect(c, at);
            }
            let _ = ruchy_notebook::assist::is_complete(c);
            let _ = s.variables_since(1);
            let asked = state(&mut s);
            prop_assert_eq!(&known, &asked, "asking about {:?} changed the session", c);
            let out = s.execute_cell(c);
            match out.diagnostic {
                Some(d) => {
                    let now = state(&mut s);
                    prop_assert_eq!(&known, &now, "the failing cell {:?} ({:?}) changed the session", c, d);
                }
                None => known = state(&mut s),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any text, any cursor (past the end, inside a character): the session's questions answer
    /// without panicking, their spans lie inside the text on character boundaries, and the
    /// session is unchanged.
    #[test]
    fn questions_about_any_text_answer_inside_it(
        text in "(\\PC|[.(){}\\[\\]\"'/\n]|xs|p\\.|f\"\\{){0,40}",
        cursor in 0usize..200,
    ) {
        let mut s = Session::new();
        let set = s.execute_cell("let xs = [1, 2]\nstruct P { x: Int }\nlet p = P { x: 1 }\nlet o = {k: p}");
        prop_assert!(set.diagnostic.is_none());
        let before = state(&mut s);
        let c = s.complete(&text, cursor);
        let (a, b) = (c.replace.start as usize, c.replace.end as usize);
        prop_assert!(a <= b && b <= text.len() && text.is_char_boundary(a) && text.is_char_boundary(b));
        if let Some(i) = s.inspect(&text, cursor) {
            let (a, b) = (i.span.start as usize, i.span.end as usize);
            prop_assert!(a < b && b <= text.len() && text.is_char_boundary(a) && text.is_char_boundary(b));
        }
        let _ = ruchy_notebook::assist::is_complete(&text);
        prop_assert_eq!(s.variables().len(), 4);
        prop_assert_eq!(before, state(&mut s));
    }
}

// ---------------------------------------------------------------------------------------------
// (b) generated programs: interpreter and transpiled Rust agree

/// Every integer variable holds a value of magnitude below `M`, and every expression is at
/// most a product of two products of such values, so no arithmetic overflows.
const M: i64 = 10007;

/// A generator of well-typed programs, driven by proptest's deterministic RNG.
struct Gen {
    rng: TestRng,
    out: String,
    indent: usize,
    /// Integer names in scope, each `(name, assignable)`.
    vars: Vec<(String, bool)>,
    /// Functions defined so far, with their number of parameters.
    funs: Vec<(String, usize)>,
    fresh: usize,
    /// Statements left to write (keeps programs small).
    budget: usize,
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u32() as usize) % n
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}{text}", "    ".repeat(self.indent));
    }

    fn literal(&mut self) -> String {
        let v = self.below(120) as i64 - 20;
        v.to_string()
    }

    /// A value below `M` in magnitude: a literal, a variable, or a call with such arguments.
    fn atom(&mut self) -> String {
        match self.below(10) {
            0..=3 if !self.vars.is_empty() => {
                let i = self.below(self.vars.len());
                self.vars[i].0.clone()
            }
            4 if !self.funs.is_empty() => {
                let i = self.below(self.funs.len());
                let (f, arity) = self.funs[i].clone();
                let args: Vec<String> = (0..arity).map(|_| self.atom_no_call()).collect();
                format!("{f}({})", args.join(", "))
            }
            5 if !self.vars.is_empty() => {
                let i = self.below(self.vars.len());
                format!("-{}", self.vars[i].0)
            }
            _ => self.literal(),
        }
    }

    fn atom_no_call(&mut self) -> String {
        if !self.vars.is_empty() && self.chance(60) {
            let i = self.below(self.vars.len());
            self.vars[i].0.clone()
        } else {
            self.literal()
        }
    }

    /// At most a product of two atoms (below M*M), or an atom divided by a positive literal.
    fn term(&mut self) -> String {
        match self.below(6) {
            0 => self.atom(),
            1 => format!("{} + {}", self.atom(), self.atom()),
            2 => format!("{} - {}", self.atom(), self.atom()),
            3 => format!("{} * {}", self.atom(), self.atom()),
            4 => format!("{} / {}", self.atom(), 1 + self.below(9)),
            _ => format!("{} % {}", self.atom(), 1 + self.below(9)),
        }
    }

    /// Below M^4 in magnitude: fits an i64 with room to spare.
    fn expr(&mut self) -> String {
        match self.below(5) {
            0 | 1 => self.term(),
            2 => format!("({}) + ({})", self.term(), self.term()),
            3 => format!("({}) * ({})", self.term(), self.term()),
            _ => format!(
                "if {} {{ {} }} else {{ {} }}",
                self.cond(),
                self.term(),
                self.term()
            ),
        }
    }

    /// An expression brought back below M.
    fn small(&mut self) -> String {
        format!("({}) % {M}", self.expr())
    }

    fn cond(&mut self) -> String {
        let ops = ["<", "<=", ">", ">=", "==", "!="];
        let one = |g: &mut Gen| {
            let op = ops[g.below(ops.len())];
            format!("{} {op} {}", g.term(), g.atom())
        };
        match self.below(5) {
            0 => format!("{} && {}", one(self), one(self)),
            1 => format!("{} || {}", one(self), one(self)),
            2 => format!("!({})", one(self)),
            _ => one(self),
        }
    }

    fn println(&mut self) {
        match self.below(3) {
            0 => {
                let (a, b) = (self.expr(), self.atom());
                let label = self.name("v");
                self.line(&format!("println(f\"{label}: {{{a}}} and {{{b}}}\")"));
            }
            1 => {
                let (a, b) = (self.atom(), self.term());
                self.line(&format!("println({a}, {b})"));
            }
            _ => {
                let (a, b) = (self.atom(), self.atom());
                self.line(&format!("println(\"{{}} / {{}}\", {a}, {b})"));
            }
        }
    }

    /// Statements in a nested block; names bound inside go out of scope after it.
    fn block(&mut self, n: usize) {
        let scope = self.vars.len();
        self.indent += 1;
        for _ in 0..n {
            self.statement();
        }
        self.indent -= 1;
        self.vars.truncate(scope);
    }

    fn statement(&mut self) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let assignable: Vec<String> = self
            .vars
            .iter()
            .filter(|(_, a)| *a)
            .map(|(n, _)| n.clone())
            .collect();
        match self.below(10) {
            0 | 1 => {
                let e = self.small();
                let v = self.name("v");
                self.line(&format!("let mut {v} = {e}"));
                self.vars.push((v, true));
            }
            2 | 3 if !assignable.is_empty() => {
                let v = assignable[self.below(assignable.len())].clone();
                let e = self.small();
                self.line(&format!("{v} = {e}"));
            }
            4 => {
                let c = self.cond();
                self.line(&format!("if {c} {{"));
                let n = 1 + self.below(3);
                self.block(n);
                if self.chance(50) {
                    self.line("} else {");
                    let n = 1 + self.below(2);
                    self.block(n);
                }
                self.line("}");
            }
            5 => {
                let i = self.name("i");
                let count = 1 + self.below(5);
                self.line(&format!("let mut {i} = 0"));
                self.line(&format!("while {i} < {count} {{"));
                self.vars.push((i.clone(), false));
                let n = 1 + self.below(3);
                self.block(n);
                self.line(&format!("    {i} += 1"));
                self.line("}");
            }
            6 => {
                let j = self.name("j");
                let lo = self.below(3);
                let hi = lo + 1 + self.below(4);
                self.line(&format!("for {j} in {lo}..{hi} {{"));
                let scope = self.vars.len();
                self.vars.push((j, false));
                let n = 1 + self.below(3);
                self.block(n);
                self.vars.truncate(scope);
                self.line("}");
            }
            _ => self.println(),
        }
    }

    fn function(&mut self) {
        let f = self.name("f");
        let arity = 1 + self.below(3);
        let params: Vec<String> = (0..arity).map(|k| format!("p{k}")).collect();
        let sig: Vec<String> = params.iter().map(|p| format!("{p}: Int")).collect();
        self.line(&format!("fun {f}({}) -> Int {{", sig.join(", ")));
        let outer = std::mem::take(&mut self.vars);
        self.vars = params.into_iter().map(|p| (p, false)).collect();
        self.indent += 1;
        self.budget = 3;
        let n = self.below(3);
        for _ in 0..n {
            self.statement();
        }
        let e = self.small();
        self.line(&e);
        self.indent -= 1;
        self.vars = outer;
        self.line("}");
        self.funs.push((f, arity));
    }

    fn program(&mut self) -> String {
        self.out.clear();
        self.vars.clear();
        self.funs.clear();
        self.fresh = 0;
        for _ in 0..self.below(4) {
            self.function();
        }
        self.budget = 14;
        let first = self.literal();
        self.line(&format!("let mut v0 = {first}"));
        self.vars.push(("v0".into(), true));
        while self.budget > 0 {
            self.statement();
        }
        self.line("println(f\"end {v0}\")");
        std::mem::take(&mut self.out)
    }
}

#[test]
fn generated_programs_print_the_same_interpreted_and_compiled() {
    // `PROPERTY_PROGRAMS=1000 PROPERTY_SEED=3` for a longer run with other programs
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let programs = env("PROPERTY_PROGRAMS", 64);
    let seed = env("PROPERTY_SEED", 7) as u8;
    let mut g = Gen {
        rng: TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
        out: String::new(),
        indent: 0,
        vars: Vec::new(),
        funs: Vec::new(),
        fresh: 0,
        budget: 0,
    };
    let mut sources = Vec::new();
    let mut expected = Vec::new();
    let mut compiled: Vec<(usize, String)> = Vec::new();
    let mut problems = String::new();
    for i in 0..programs {
        let src = g.program();
        let out = Session::new().run_script(&src);
        if let Some(d) = &out.diagnostic {
            let _ = writeln!(
                problems,
                "program {i} fails in the interpreter: {}\n{src}",
                d.render(&src)
            );
        }
        match ruchy_notebook::compile(&src) {
            Ok(rust) => compiled.push((i, rust)),
            Err(ds) => {
                let _ = writeln!(
                    problems,
                    "program {i} is refused by compile: {}\n{src}",
                    ds[0].render(&src)
                );
            }
        }
        sources.push(src);
        expected.push(out.stdout);
    }
    let dir = scratch("properties");
    let mut broken = BTreeMap::new();
    let bin = build(&dir, &mut compiled, &mut broken);
    for (i, why) in &broken {
        let _ = writeln!(
            problems,
            "program {i} does not build: {why}\n{}",
            sources[*i]
        );
    }
    for (i, _) in &compiled {
        let run = Command::new(&bin)
            .arg(i.to_string())
            .output()
            .expect("running a compiled program");
        let got = String::from_utf8_lossy(&run.stdout);
        if got != expected[*i] {
            let _ = writeln!(
                problems,
                "program {i} differs:\n{}\n  interpreted {:?}\n  compiled    {:?}",
                sources[*i], expected[*i], got
            );
        }
    }
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        let _ = writeln!(problems, "(the batch is kept in {})", dir.display());
    }
    assert!(problems.is_empty(), "{problems}");
    eprintln!(
        "{programs} generated programs agree ({} lines of Ruchy); the first:\n{}",
        sources.iter().map(|s| s.lines().count()).sum::<usize>(),
        sources[0]
    );
}

// ---------------------------------------------------------------------------------------------
// (c) shapes Rust reads differently: blocks, `if`, `match`, loops and assignments as operands,
// in statement position and as a block's value, and or-patterns

/// A generator of programs made of operand shapes, driven by proptest's deterministic RNG.
struct Shapes {
    rng: TestRng,
    fresh: usize,
}

impl Shapes {
    fn below(&mut self, n: usize) -> usize {
        (self.rng.next_u32() as usize) % n
    }

    fn lit(&mut self) -> String {
        (self.below(9) + 1).to_string()
    }

    /// An integer operand of one of the shapes; `var` is an assignable integer.
    fn operand(&mut self, var: &str, depth: usize) -> String {
        let inner = |g: &mut Shapes| {
            if depth == 0 {
                g.lit()
            } else {
                g.operand(var, depth - 1)
            }
        };
        match self.below(11) {
            0 => {
                self.fresh += 1;
                let t = format!("t{}", self.fresh);
                let (a, b) = (self.lit(), inner(self));
                format!("{{ let mut {t} = {a}; ({t} = {b}) + {} }}", self.lit())
            }
            1 => format!("{{ {} }}", inner(self)),
            2 => format!(
                "if {var} > {} {{ {} }} else {{ {} }}",
                self.lit(),
                inner(self),
                inner(self)
            ),
            3 => format!(
                "match {var} {{ 1 | 2 => {}, 3..=5 => {}, _ => {} }}",
                inner(self),
                inner(self),
                inner(self)
            ),
            4 => format!(
                "match ({var}, {}) {{ (1, y) | (y, 1) => y, _ => {} }}",
                self.lit(),
                inner(self)
            ),
            5 => format!("({var} = {})", inner(self)),
            6 => format!("loop {{ break {} }}", inner(self)),
            7 => format!("({})", inner(self)),
            8 => var.to_string(),
            _ => self.lit(),
        }
    }

    fn binary(&mut self, var: &str) -> String {
        let op = ["+", "-", "*"][self.below(3)];
        let (a, b) = (self.operand(var, 1), self.operand(var, 1));
        format!("{a} {op} {b}")
    }

    fn program(&mut self) -> String {
        let mut out = String::from("let mut a = 3\nlet mut total = 0\n");
        for n in 0..6 {
            let e = self.binary("a");
            match self.below(6) {
                // statement position: the value is dropped
                0 => {
                    let _ = writeln!(out, "{e}");
                }
                1 => {
                    let _ = writeln!(out, "let v{n} = {e}\ntotal = total + v{n} % 1000");
                }
                // a block's value
                2 => {
                    let _ = writeln!(
                        out,
                        "let w{n} = {{ a = a % 7; {e} }}\ntotal = total + w{n} % 1000"
                    );
                }
                // a function's value
                3 => {
                    let e = self.binary("p");
                    let _ = writeln!(
                        out,
                        "fun f{n}(p: Int) -> Int {{\n    let mut p = p\n    {e}\n}}\ntotal = total + f{n}(a) % 1000"
                    );
                }
                4 => {
                    let _ = writeln!(out, "println({e})");
                }
                // an or-pattern whose alternatives bind different names: Rust that binds
                // nothing, or refused when the arm uses the name
                _ => {
                    let body = if self.below(2) == 0 {
                        "\"handled\""
                    } else {
                        "x"
                    };
                    let _ = writeln!(
                        out,
                        "let o{n} = if a > 2 {{ Some(a) }} else {{ None }}\nmatch o{n} {{ Some(x) | None => println({body}) }}"
                    );
                }
            }
            let _ = writeln!(out, "a = a % 5 + 1");
        }
        out.push_str("println(f\"end {a} {total}\")\n");
        out
    }
}

#[test]
fn operand_shapes_build_or_are_refused_with_a_diagnostic() {
    // `PROPERTY_PROGRAMS=1000 PROPERTY_SEED=3` for a longer run with other programs
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let programs = env("PROPERTY_PROGRAMS", 64);
    let seed = env("PROPERTY_SEED", 7) as u8;
    let mut g = Shapes {
        rng: TestRng::from_seed(RngAlgorithm::ChaCha, &[seed.wrapping_add(100); 32]),
        fresh: 0,
    };
    let mut sources = Vec::new();
    let mut expected = Vec::new();
    let mut compiled: Vec<(usize, String)> = Vec::new();
    let mut refused = 0;
    let mut problems = String::new();
    for i in 0..programs {
        let src = g.program();
        let out = Session::new().run_script(&src);
        if let Some(d) = &out.diagnostic {
            let _ = writeln!(
                problems,
                "program {i} fails in the interpreter: {}\n{src}",
                d.render(&src)
            );
        }
        match ruchy_notebook::compile(&src) {
            Ok(rust) => compiled.push((i, rust)),
            Err(ds)
                if ds[0]
                    .message
                    .contains("an or-pattern whose alternatives bind different names") =>
            {
                refused += 1;
            }
            Err(ds) => {
                let _ = writeln!(
                    problems,
                    "program {i} is refused by compile: {}\n{src}",
                    ds[0].render(&src)
                );
            }
        }
        sources.push(src);
        expected.push(out.stdout);
    }
    let dir = scratch("shapes");
    let mut broken = BTreeMap::new();
    let bin = build(&dir, &mut compiled, &mut broken);
    for (i, why) in &broken {
        let _ = writeln!(
            problems,
            "program {i} does not build: {why}\n{}",
            sources[*i]
        );
    }
    for (i, _) in &compiled {
        let run = Command::new(&bin)
            .arg(i.to_string())
            .output()
            .expect("running a compiled program");
        let got = String::from_utf8_lossy(&run.stdout);
        if got != expected[*i] {
            let _ = writeln!(
                problems,
                "program {i} differs:\n{}\n  interpreted {:?}\n  compiled    {:?}",
                sources[*i], expected[*i], got
            );
        }
    }
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        let _ = writeln!(problems, "(the batch is kept in {})", dir.display());
    }
    assert!(problems.is_empty(), "{problems}");
    assert!(
        !compiled.is_empty() && refused > 0,
        "both kinds of program occur ({} compiled, {refused} refused)",
        compiled.len()
    );
    eprintln!(
        "{} shape programs built and agree, {refused} refused; the first:\n{}",
        compiled.len(),
        sources[0]
    );
}
