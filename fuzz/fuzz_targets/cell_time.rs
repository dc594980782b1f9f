//! The cells of the input (split on 0xFF) run natively with the limits the component uses:
//! its allocator counting the bytes (256 MB, counted from what the fuzzer itself holds when
//! the session starts), 10,000 nested calls, 1 MB of output, and a time limit of 1 s instead
//! of 10. Every cell must end within its time limit plus a margin ([`MARGIN_MS`]), whatever
//! it does: a built-in that loops or allocates outside the meter (`ruchy_notebook::runtime::budget`) is a
//! finding. Time is this thread's CPU time, for the limit and for the check alike, so a
//! machine busy with other work does not make findings.
#![no_main]

use ruchy_notebook::runtime::vm::Limits;
use ruchy_notebook::{Clock, Session};
use libfuzzer_sys::fuzz_target;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

const TIME_MS: u64 = 1000;
/// What a cell may take past its time limit: the meter looks at the clock every few thousand
/// units of work, and a cell that stops frees what it built.
const MARGIN_MS: u64 = 500;
/// Cells after this much time in one input are not run (libFuzzer's timeout is 10 s).
const INPUT_MS: u64 = 5000;

static BASE: AtomicUsize = AtomicUsize::new(0);

fn session_bytes() -> usize {
    counting_alloc::allocated().saturating_sub(BASE.load(Ordering::Relaxed))
}

/// This thread's CPU time.
struct CpuClock;

impl Clock for CpuClock {
    fn now_ns(&self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec for clock_gettime to write.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

fuzz_target!(|data: &[u8]| {
    ruchy_notebook::runtime::budget::set_memory_probe(session_bytes);
    BASE.store(counting_alloc::allocated(), Ordering::Relaxed);
    let clock = Rc::new(CpuClock);
    let mut s = Session::with_clock(clock.clone());
    s.set_limits(Limits {
        max_time_ms: TIME_MS,
        ..Limits::default()
    });
    let start = clock.now_ns();
    for part in data.split(|&b| b == 0xFF) {
        if clock.now_ns() - start > INPUT_MS * 1_000_000 {
            break;
        }
        let cell = String::from_utf8_lossy(part);
        let t0 = clock.now_ns();
        let out = s.execute_cell(&cell);
        let took_ms = (clock.now_ns() - t0) / 1_000_000;
        assert!(
            took_ms <= TIME_MS + MARGIN_MS,
            "a cell took {took_ms} ms of CPU time with a {TIME_MS} ms limit: {cell:?} ({:?})",
            out.diagnostic.map(|d| d.message)
        );
    }
});
