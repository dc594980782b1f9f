use engine::Session;
use std::time::Instant;
fn main() {
    let cells: Vec<String> = std::env::args().skip(1).collect();
    for round in 0..3 {
        let mut s = Session::new();
        for c in &cells {
            let t0 = Instant::now();
            let out = s.execute_cell(c);
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if round == 2 {
                println!(
                    "{ms:>9.2} ms  {}  => {}",
                    c.replace('\n', " ").chars().take(70).collect::<String>(),
                    out.diagnostic.map(|d| d.message).unwrap_or_else(|| out
                        .display
                        .unwrap_or_default()
                        .chars()
                        .take(40)
                        .collect())
                );
            }
        }
    }
}
