//! The memory a cell may use: a probe of the bytes allocated, supplied by whoever embeds the
//! engine (the component counts its allocator's bytes; natively there is none), and the limit
//! of the running cell. The VM checks both every few thousand steps, and every operation that
//! makes a big value checks before it allocates ([`crate::arith::check_size`]).

use std::cell::Cell;
use std::sync::OnceLock;

static PROBE: OnceLock<fn() -> usize> = OnceLock::new();

thread_local! {
    static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Sets the probe of allocated bytes (once per process; later calls are ignored).
pub fn set_memory_probe(probe: fn() -> usize) {
    let _ = PROBE.set(probe);
}

/// Bytes allocated now, if a probe was set.
pub fn memory_used() -> Option<usize> {
    PROBE.get().map(|f| f())
}

/// The running cell's memory limit, in bytes.
pub fn limit() -> usize {
    LIMIT.with(|l| l.get())
}

pub fn set_limit(bytes: usize) {
    LIMIT.with(|l| l.set(bytes));
}

/// Whether allocating `more` bytes would take the process over the limit (`None` when it would
/// not, or when there is no probe).
pub fn over(more: usize) -> Option<usize> {
    let used = memory_used()?;
    let limit = limit();
    (used.saturating_add(more) > limit).then_some(limit)
}
