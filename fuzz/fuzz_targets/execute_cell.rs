//! A notebook session fed the cells of the input (split on 0xFF, a byte UTF-8 never has; each
//! part read lossily). Never a panic; small limits end runaway cells quickly; and a failing
//! cell changes nothing: the session's size and the display of `x` and `y` after a failing
//! cell are what they were after the last cell that succeeded (invariant 7).
#![no_main]

use ruchy_notebook::runtime::vm::Limits;
use ruchy_notebook::Session;
use libfuzzer_sys::fuzz_target;

/// The component's allocator, so the memory limit holds here as it does there (counted from
/// what the fuzzer itself holds when the session starts).
#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

static BASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn session_bytes() -> usize {
    counting_alloc::allocated().saturating_sub(BASE.load(std::sync::atomic::Ordering::Relaxed))
}

/// What a probe cell shows: its display, or the error it gives.
fn probe(s: &mut Session, name: &str) -> String {
    let out = s.execute_cell(name);
    match out.diagnostic {
        Some(d) => format!("error: {}", d.message),
        None => format!("{:?} {:?}", out.display, out.stdout),
    }
}

fuzz_target!(|data: &[u8]| {
    ruchy_notebook::runtime::budget::set_memory_probe(session_bytes);
    BASE.store(counting_alloc::allocated(), std::sync::atomic::Ordering::Relaxed);
    let mut s = Session::new();
    s.set_limits(Limits {
        max_depth: 200,
        max_output: 64 * 1024,
        max_steps: 100_000,
        ..Limits::default()
    });
    let mut known = (probe(&mut s, "x"), probe(&mut s, "y"), s.global_count());
    for part in data.split(|&b| b == 0xFF) {
        let cell = String::from_utf8_lossy(part);
        let _ = s.disassemble(&cell);
        let out = s.execute_cell(&cell);
        match out.diagnostic {
            Some(d) => {
                assert!(d.span.start <= d.span.end, "{d:?}");
                let _ = d.render(&cell);
                let now = (probe(&mut s, "x"), probe(&mut s, "y"), s.global_count());
                assert_eq!(
                    known, now,
                    "a failing cell changed the session: {cell:?} ({d:?})"
                );
            }
            None => known = (probe(&mut s, "x"), probe(&mut s, "y"), s.global_count()),
        }
    }
    let _ = s.export_rust();
});
