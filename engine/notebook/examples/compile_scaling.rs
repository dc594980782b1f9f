//! How `compile`'s time grows with its input: each shape of `transpiler::scaling` at sizes
//! that double, with the time of the best of three runs and the ratio to the size before (2
//! is linear). `cargo run --release -p ruchy-notebook --example compile_scaling [SIZES]`
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1000,2000,4000,8000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let names: Vec<&str> = ruchy_notebook::transpiler::scaling::shapes(1)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for (k, name) in names.iter().enumerate() {
        let mut line = format!("{name:<46}");
        let mut before: Option<f64> = None;
        for &n in &sizes {
            let (_, src) = ruchy_notebook::transpiler::scaling::shapes(n).swap_remove(k);
            let mut best = f64::MAX;
            let mut what = "";
            for _ in 0..3 {
                let t = Instant::now();
                let r = ruchy_notebook::compile(&src);
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
                what = match r {
                    Ok(_) => "rust",
                    Err(ds) if ds[0].kind == ruchy_notebook::DiagnosticKind::Limit => "limit",
                    Err(_) => "refused",
                };
            }
            let ratio = before.map_or(String::new(), |b| format!(" x{:.1}", best / b.max(1e-3)));
            line += &format!(" | {:>7}B {best:>8.2} ms {what}{ratio}", src.len());
            before = Some(best);
        }
        println!("{line}");
    }
}
