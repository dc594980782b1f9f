//! What a running cell may spend, and the meter every loop of the engine charges.
//!
//! * **Memory**: a probe of the bytes allocated, supplied by whoever embeds the engine (the
//!   component and the native test binaries count their allocator's bytes, see the
//!   `counting-alloc` crate), and the running cell's limit. Every operation that makes or grows
//!   a value asks first ([`values`], [`bytes`], [`grow`], [`push`]) with the bytes it will
//!   take, and grows with `try_reserve`, so a value past the limit is a `limit` error and a
//!   value past what the instance can hold is one too, never an allocation failure (which in
//!   WebAssembly is a trap).
//! * **Work**: the VM counts loop iterations and calls itself; built-ins that loop (a method
//!   over an array, a sort, a display, a deep comparison) [`burn`] one unit per element they
//!   visit. Every [`CHUNK`] units the meter looks at the clock and the memory probe, so the
//!   time and memory limits hold inside one long built-in as well as between instructions, and
//!   the units count as steps of the cell (the VM adds [`take_burned`] to its own count).
//!
//! Code that cannot return an error (equality, ordering, display) stops early when the meter
//! has tripped; the VM then finds the [`tripped`] limit after the operation and ends the cell
//! with it, so a result cut short is never seen.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::OnceLock;

/// Where a session reads the time. The engine does no I/O of its own; the default reads
/// `std::time::Instant`, which in a `wasm32-wasip2` component is the WASI monotonic clock.
pub trait Clock {
    /// Nanoseconds since an arbitrary fixed point.
    fn now_ns(&self) -> u64;
}

/// The default clock: `std::time::Instant`.
pub struct InstantClock {
    origin: std::time::Instant,
}

impl Default for InstantClock {
    fn default() -> Self {
        InstantClock {
            origin: std::time::Instant::now(),
        }
    }
}

impl Clock for InstantClock {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

/// A limit the cell went past: the message of its `limit` diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub struct Exceeded(pub String);

/// The most elements (or bytes) one value may have, whatever the memory limit; more is a
/// `limit` error instead of an allocation that could take the whole memory.
pub const MAX_ELEMENTS: usize = 64 * 1024 * 1024;

/// The highest memory limit a session takes: 1 GB where addresses are 32 bits (a WebAssembly
/// instance holds 4 GB in all, and a value being copied or grown needs room for both copies
/// for a moment), no bound otherwise.
pub const MAX_LIMIT: usize = if usize::BITS <= 32 {
    1 << 30
} else {
    usize::MAX
};

/// Units of work between two looks at the clock and the memory probe.
pub const CHUNK: u32 = 4096;

static PROBE: OnceLock<fn() -> usize> = OnceLock::new();

thread_local! {
    static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
    static FUEL: Cell<u32> = const { Cell::new(CHUNK) };
    static BURNED: Cell<u64> = const { Cell::new(0) };
    static TOTAL: Cell<u64> = const { Cell::new(0) };
    static MAX_STEPS: Cell<u64> = const { Cell::new(u64::MAX) };
    static DEADLINE: Cell<(u64, u64)> = const { Cell::new((u64::MAX, 0)) };
    static CLOCK: RefCell<Option<Rc<dyn Clock>>> = const { RefCell::new(None) };
    static TRIPPED: RefCell<Option<Exceeded>> = const { RefCell::new(None) };
    /// What the limits are on, for their messages: "the cell", or "compile".
    static WHAT: Cell<&'static str> = const { Cell::new("the cell") };
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

/// Starts a cell: its memory limit, its step limit, the clock and the deadline on it (with
/// the limit in ms, for the message), a full chunk of work and no tripped limit.
pub fn start_cell(
    memory_limit: usize,
    max_steps: u64,
    clock: Option<Rc<dyn Clock>>,
    deadline_ns: u64,
    time_ms: u64,
) {
    WHAT.with(|w| w.set("the cell"));
    LIMIT.with(|l| l.set(memory_limit));
    MAX_STEPS.with(|m| m.set(max_steps));
    TOTAL.with(|t| t.set(0));
    CLOCK.with(|c| *c.borrow_mut() = clock);
    DEADLINE.with(|d| d.set((deadline_ns, time_ms)));
    FUEL.with(|f| f.set(CHUNK));
    BURNED.with(|b| b.set(0));
    TRIPPED.with(|t| *t.borrow_mut() = None);
}

/// A meter for work outside a cell (`compile`): a time limit on the default clock and no
/// memory or step limit, for as long as the value lives; then the meter is as it was.
pub struct Task {
    saved: Saved,
}

/// Everything [`start_cell`] sets.
struct Saved {
    limit: usize,
    max_steps: u64,
    total: u64,
    clock: Option<Rc<dyn Clock>>,
    deadline: (u64, u64),
    fuel: u32,
    burned: u64,
    tripped: Option<Exceeded>,
    what: &'static str,
}

impl Task {
    /// Starts metering `what` (named in the limit's message) with a time limit of `time_ms`.
    pub fn start(what: &'static str, time_ms: u64) -> Task {
        let saved = Saved {
            limit: LIMIT.with(|l| l.get()),
            max_steps: MAX_STEPS.with(|m| m.get()),
            total: TOTAL.with(|t| t.get()),
            clock: CLOCK.with(|c| c.borrow_mut().take()),
            deadline: DEADLINE.with(|d| d.get()),
            fuel: FUEL.with(|f| f.get()),
            burned: BURNED.with(|b| b.get()),
            tripped: TRIPPED.with(|t| t.borrow_mut().take()),
            what: WHAT.with(|w| w.get()),
        };
        let clock: Rc<dyn Clock> = Rc::new(InstantClock::default());
        let deadline = clock
            .now_ns()
            .saturating_add(time_ms.saturating_mul(1_000_000));
        start_cell(usize::MAX, u64::MAX, Some(clock), deadline, time_ms);
        WHAT.with(|w| w.set(what));
        Task { saved }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let s = &mut self.saved;
        LIMIT.with(|l| l.set(s.limit));
        MAX_STEPS.with(|m| m.set(s.max_steps));
        TOTAL.with(|t| t.set(s.total));
        CLOCK.with(|c| *c.borrow_mut() = s.clock.take());
        DEADLINE.with(|d| d.set(s.deadline));
        FUEL.with(|f| f.set(s.fuel));
        BURNED.with(|b| b.set(s.burned));
        TRIPPED.with(|t| *t.borrow_mut() = s.tripped.take());
        WHAT.with(|w| w.set(s.what));
    }
}

/// The time limit's message if the deadline has passed.
fn past_deadline() -> Option<Exceeded> {
    let (deadline, ms) = DEADLINE.with(|d| d.get());
    if deadline == u64::MAX {
        return None;
    }
    let now = CLOCK.with(|c| c.borrow().as_ref().map(|c| c.now_ns()))?;
    (now > deadline).then(|| {
        Exceeded(format!(
            "Time limit exceeded: {} ran longer than {ms} ms",
            WHAT.with(|w| w.get())
        ))
    })
}

/// The memory limit's message if the cell already uses more than its limit.
fn over_limit() -> Option<Exceeded> {
    over(0).map(|limit| {
        Exceeded(format!(
            "Memory limit exceeded: the cell uses more than {} MB",
            limit >> 20
        ))
    })
}

/// Looks at the clock and the memory probe now (the VM does at the end of each chunk of its
/// own steps).
pub fn check() -> Result<(), Exceeded> {
    if let Some(e) = tripped() {
        return Err(e);
    }
    match past_deadline().or_else(over_limit) {
        Some(e) => Err(trip(e)),
        None => Ok(()),
    }
}

fn trip(e: Exceeded) -> Exceeded {
    FUEL.with(|f| f.set(0));
    TRIPPED.with(|t| t.borrow_mut().get_or_insert(e).clone())
}

/// The limit the meter tripped on during this cell, if any.
pub fn tripped() -> Option<Exceeded> {
    TRIPPED.with(|t| t.borrow().clone())
}

/// Charges `n` units of work; every [`CHUNK`] units, looks at the clock and the memory.
#[inline]
pub fn burn(n: usize) -> Result<(), Exceeded> {
    let fuel = FUEL.with(|f| f.get());
    if (n as u64) < fuel as u64 {
        FUEL.with(|f| f.set(fuel - n as u32));
        return Ok(());
    }
    refuel(n)
}

#[cold]
#[inline(never)]
fn refuel(n: usize) -> Result<(), Exceeded> {
    let fuel = FUEL.with(|f| f.get());
    let spent = (CHUNK - fuel) as u64 + n as u64;
    BURNED.with(|b| b.set(b.get().saturating_add(spent)));
    FUEL.with(|f| f.set(0));
    // the units alone past the step limit end the cell (the VM adds its own steps to them
    // at the end of each of its chunks)
    let total = TOTAL.with(|t| t.get()).saturating_add(spent);
    TOTAL.with(|t| t.set(total));
    let max = MAX_STEPS.with(|m| m.get());
    if total >= max {
        return Err(trip(Exceeded(format!(
            "Step limit exceeded: the cell ran more than {max} loop iterations and calls"
        ))));
    }
    check()?;
    FUEL.with(|f| f.set(CHUNK));
    Ok(())
}

/// `r`, unless the meter tripped while it was computed: then the limit it tripped on.
#[inline]
pub fn settle<T, E: From<Exceeded>>(r: Result<T, E>) -> Result<T, E> {
    if FUEL.with(|f| f.get()) == 0 {
        if let Some(e) = tripped() {
            return Err(e.into());
        }
    }
    r
}

/// The limit the meter tripped on, as an error.
#[inline]
pub fn settled() -> Result<(), Exceeded> {
    settle(Ok(()))
}

/// [`burn`] for code that cannot return an error: whether to go on. Once it says no, the
/// caller stops early and the VM ends the cell with [`tripped`].
#[inline]
pub fn go_on(n: usize) -> bool {
    burn(n).is_ok()
}

/// The units burnt since the last call, for the VM's step count.
pub fn take_burned() -> u64 {
    let spent = CHUNK - FUEL.with(|f| f.get());
    if tripped().is_none() {
        FUEL.with(|f| f.set(CHUNK));
    }
    BURNED.with(|b| b.replace(0)).saturating_add(spent as u64)
}

/// Whether allocating `more` bytes would take the process over the limit (`None` when it would
/// not, or when there is no probe).
pub fn over(more: usize) -> Option<usize> {
    let used = memory_used()?;
    let limit = limit();
    (used.saturating_add(more) > limit).then_some(limit)
}

/// Refuses a value of `n` elements of `size` bytes each that is over [`MAX_ELEMENTS`] or
/// would take the cell over its memory limit (`n` in 64 bits, so the message names the size
/// asked for in every host).
pub fn elements(n: u64, size: usize) -> Result<(), Exceeded> {
    if n > MAX_ELEMENTS as u64 {
        return Err(Exceeded(format!(
            "Memory limit exceeded: a value of {n} elements is more than the {MAX_ELEMENTS} allowed"
        )));
    }
    let bytes = (n as usize).saturating_mul(size.max(1));
    if let Some(limit) = over(bytes) {
        return Err(Exceeded(format!(
            "Memory limit exceeded: a value of {n} elements ({} MB) would take the cell over its limit of {} MB",
            bytes >> 20,
            limit >> 20
        )));
    }
    Ok(())
}

/// [`elements`] for a string of `n` bytes.
pub fn bytes(n: usize) -> Result<(), Exceeded> {
    elements(n as u64, 1)
}

fn cannot_grow() -> Exceeded {
    Exceeded("Memory limit exceeded: the instance could not grow its memory".into())
}

/// Makes room for `more` elements in `v` (growing at least twofold, as `Vec` would), asking
/// the limit first and growing with `try_reserve`.
pub fn grow<T>(v: &mut Vec<T>, more: usize) -> Result<(), Exceeded> {
    let need = v.len().saturating_add(more);
    if need <= v.capacity() {
        return Ok(());
    }
    let cap = need.max(v.capacity().saturating_mul(2)).max(4);
    elements(cap as u64, std::mem::size_of::<T>())?;
    v.try_reserve_exact(cap - v.len())
        .map_err(|_| cannot_grow())
}

/// `v.push(x)`, growing as [`grow`] does.
#[inline]
pub fn push<T>(v: &mut Vec<T>, x: T) -> Result<(), Exceeded> {
    if v.len() == v.capacity() {
        grow(v, 1)?;
    }
    v.push(x);
    Ok(())
}

/// An empty vector with room for `n` elements, asked for first.
pub fn vec_with<T>(n: usize) -> Result<Vec<T>, Exceeded> {
    elements(n as u64, std::mem::size_of::<T>())?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| cannot_grow())?;
    Ok(v)
}

/// Makes room for `more` bytes in `s`, as [`grow`] does for vectors.
pub fn grow_str(s: &mut String, more: usize) -> Result<(), Exceeded> {
    let need = s.len().saturating_add(more);
    if need <= s.capacity() {
        return Ok(());
    }
    let cap = need.max(s.capacity().saturating_mul(2)).max(8);
    elements(cap as u64, 1)?;
    s.try_reserve_exact(cap - s.len())
        .map_err(|_| cannot_grow())
}

/// [`grow_str`] for code that cannot return an error: whether there is room; when there is
/// not, the meter has tripped on the memory limit.
pub fn room(s: &mut String, more: usize) -> bool {
    if s.capacity() - s.len() >= more {
        return true;
    }
    match grow_str(s, more) {
        Ok(()) => true,
        Err(e) => {
            trip(e);
            false
        }
    }
}

/// Collects an iterator of values into a vector, asking before each growth and burning a unit
/// per element.
pub fn collect<T>(items: impl IntoIterator<Item = T>) -> Result<Vec<T>, Exceeded> {
    let it = items.into_iter();
    let mut out = vec_with(it.size_hint().0)?;
    for x in it {
        burn(1)?;
        push(&mut out, x)?;
    }
    Ok(out)
}

/// Elements of an int array sorted by the standard library's sort in one go (a few
/// milliseconds at most); longer runs are merged in steps the meter can stop.
const SORT_RUN: usize = 1 << 14;

/// Elements sorted by insertion before the merge passes when the comparator is the user's.
const SMALL_RUN: usize = 32;

/// A stable sort that the meter or the comparator can stop: runs of [`SMALL_RUN`] elements
/// sorted by binary insertion, then merged pass by pass, burning a unit per element moved.
/// At the first error (the comparator's, or a limit the meter tripped on) the sort stops
/// comparing and leaves the same elements in `v` in some order (none is lost). The
/// comparator may be anything a user wrote, even one that is not an order (`|a, b| 1`): the
/// standard library's sort may panic on such a comparator (it checks), this sort never does.
pub fn sort_by<T: Default, E: From<Exceeded>>(
    v: &mut Vec<T>,
    cmp: impl FnMut(&T, &T) -> Result<std::cmp::Ordering, E>,
) -> Result<(), E> {
    merge_sort(v, cmp, SMALL_RUN, insertion_sort)
}

/// [`sort_by`] for a true total order that cannot fail (an `Ord` such as `i64`): runs of
/// [`SORT_RUN`] sorted by the standard library, which is much faster, then the same merges.
pub fn sort_total<T: Ord + Default>(v: &mut Vec<T>) -> Result<(), Exceeded> {
    merge_sort(
        v,
        |x: &T, y: &T| Ok::<_, Exceeded>(x.cmp(y)),
        SORT_RUN,
        |run, _| run.sort(),
    )
}

fn merge_sort<T: Default, E: From<Exceeded>>(
    v: &mut Vec<T>,
    mut cmp: impl FnMut(&T, &T) -> Result<std::cmp::Ordering, E>,
    run_len: usize,
    mut sort_run: impl FnMut(&mut [T], &mut dyn FnMut(&T, &T) -> std::cmp::Ordering),
) -> Result<(), E> {
    let n = v.len();
    let mut failed: Option<E> = None;
    let has_failed = Cell::new(false);
    // after an error the comparisons answer "equal" until the sort stops
    let mut compare = |x: &T, y: &T| -> std::cmp::Ordering {
        if failed.is_some() {
            return std::cmp::Ordering::Equal;
        }
        cmp(x, y).unwrap_or_else(|e| {
            failed = Some(e);
            has_failed.set(true);
            std::cmp::Ordering::Equal
        })
    };
    for run in v.chunks_mut(run_len) {
        burn(run.len())?;
        sort_run(run, &mut compare);
        if has_failed.get() {
            break;
        }
    }
    settled()?;
    let mut buf: Vec<T> = if n > run_len && !has_failed.get() {
        vec_with(n)?
    } else {
        Vec::new()
    };
    let mut width = run_len;
    let mut stopped = has_failed.get();
    while width < n && !stopped {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (left, right) = v[start..end].split_at_mut(mid - start);
            if !stopped {
                stopped = !merge(left, right, &mut buf, &mut compare, &has_failed);
            } else {
                buf.extend(left.iter_mut().chain(right.iter_mut()).map(std::mem::take));
            }
        }
        std::mem::swap(v, &mut buf);
        buf.clear();
        if has_failed.get() {
            stopped = true;
        }
        width *= 2;
    }
    drop(compare);
    settled()?;
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Sorts a short run by binary insertion (stable: an element goes after the equal ones);
/// stops at the comparator's first error. Whatever the comparator answers, every element
/// stays in the run.
fn insertion_sort<T>(run: &mut [T], compare: &mut dyn FnMut(&T, &T) -> std::cmp::Ordering) {
    for i in 1..run.len() {
        let (mut lo, mut hi) = (0, i);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if compare(&run[i], &run[mid]) == std::cmp::Ordering::Less {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        run[lo..=i].rotate_right(1);
    }
}

/// Moves `left` and `right`, each sorted, into `out` in order (from `left` first when equal);
/// stopped by the meter or the comparator's error, moves the rest as it stands and says so.
fn merge<T: Default>(
    left: &mut [T],
    right: &mut [T],
    out: &mut Vec<T>,
    cmp: &mut impl FnMut(&T, &T) -> std::cmp::Ordering,
    failed: &Cell<bool>,
) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut whole = true;
    while i < left.len() && j < right.len() {
        if failed.get() || (i + j) % CHUNK as usize == 0 && !go_on(CHUNK as usize) {
            whole = false;
            break;
        }
        if cmp(&right[j], &left[i]) == std::cmp::Ordering::Less {
            out.push(std::mem::take(&mut right[j]));
            j += 1;
        } else {
            out.push(std::mem::take(&mut left[i]));
            i += 1;
        }
    }
    out.extend(left[i..].iter_mut().map(std::mem::take));
    out.extend(right[j..].iter_mut().map(std::mem::take));
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_is_a_stable_sort() {
        // pairs (key, index) with many equal keys, over several runs and merge passes
        let n = SORT_RUN * 5 + 123;
        let mut v: Vec<(i64, usize)> = (0..n).map(|i| (((i * 7919) % 1000) as i64, i)).collect();
        let mut want = v.clone();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        sort_by(&mut v, |a, b| Ok::<_, Exceeded>(a.0.cmp(&b.0))).unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn a_sort_stopped_by_its_comparator_keeps_every_element() {
        let n = SORT_RUN * 3;
        let mut v: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % n as i64).collect();
        let mut calls = 0;
        let r = sort_by(&mut v, |a, b| {
            calls += 1;
            if calls == n * 4 {
                return Err(Exceeded("stop".into()));
            }
            Ok(a.cmp(b))
        });
        assert_eq!(r, Err(Exceeded("stop".into())));
        let mut all = v.clone();
        all.sort();
        assert_eq!(
            all,
            (0..n as i64).collect::<Vec<_>>(),
            "a permutation of the input"
        );
    }

    /// A comparator that is not an order (the standard library's sort may panic on one,
    /// which in the component is a trap) leaves a permutation of the input.
    #[test]
    fn a_comparator_that_is_not_an_order_leaves_every_element() {
        let n = 5_000;
        let mut state = 12345u64;
        let mut answers = [
            std::cmp::Ordering::Less,
            std::cmp::Ordering::Equal,
            std::cmp::Ordering::Greater,
        ]
        .into_iter()
        .cycle();
        for constant in [
            None,
            Some(std::cmp::Ordering::Less),
            Some(std::cmp::Ordering::Greater),
        ] {
            let mut v: Vec<i64> = (0..n).map(|i| (i * 7919) % n).collect();
            sort_by(&mut v, |_, _| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                Ok::<_, Exceeded>(match constant {
                    Some(o) => o,
                    None if state >> 63 == 1 => answers.next().unwrap_or(std::cmp::Ordering::Less),
                    None => std::cmp::Ordering::Greater,
                })
            })
            .unwrap();
            v.sort();
            assert_eq!(v, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn growth_past_the_element_cap_is_refused_before_allocating() {
        let mut v: Vec<u8> = Vec::new();
        let e = grow(&mut v, MAX_ELEMENTS + 1).unwrap_err();
        assert!(e.0.contains("more than the 67108864 allowed"), "{}", e.0);
        assert_eq!(v.capacity(), 0);
        assert!(vec_with::<u64>(usize::MAX / 2).is_err());
    }
}
