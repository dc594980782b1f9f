//! The cells of the input (split on 0xFF) run natively with the limits the component uses:
//! its allocator counting the bytes (256 MB), 10,000 nested calls, 1 MB of output, and a
//! time limit of 1 s instead of 10. Every cell must end within its time limit plus a margin
//! ([`MARGIN_MS`]), whatever it does: a built-in that loops or allocates outside the meter
//! (`engine::budget`) is a finding.
#![no_main]

use engine::vm::Limits;
use engine::Session;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

const TIME_MS: u64 = 1000;
/// What a cell may take past its time limit: the check is every few thousand steps or units
/// of work, and dropping a value of the memory limit's size takes a moment.
const MARGIN_MS: u64 = 500;
/// Cells after this much time in one input are not run (libFuzzer's timeout is 10 s).
const INPUT_MS: u64 = 5000;

fuzz_target!(|data: &[u8]| {
    engine::budget::set_memory_probe(counting_alloc::allocated);
    let mut s = Session::new();
    s.set_limits(Limits {
        max_time_ms: TIME_MS,
        ..Limits::default()
    });
    let start = Instant::now();
    for part in data.split(|&b| b == 0xFF) {
        if start.elapsed() > Duration::from_millis(INPUT_MS) {
            break;
        }
        let cell = String::from_utf8_lossy(part);
        let t0 = Instant::now();
        let out = s.execute_cell(&cell);
        let took = t0.elapsed();
        assert!(
            took <= Duration::from_millis(TIME_MS + MARGIN_MS),
            "a cell took {took:?} with a {TIME_MS} ms limit: {cell:?} ({:?})",
            out.diagnostic.map(|d| d.message)
        );
    }
});
