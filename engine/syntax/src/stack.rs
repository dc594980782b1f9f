//! Stack budget: the recursive stages (parser, resolver, compiler, transpiler, display and
//! native re-entry of the VM) check how much stack they have used since the engine was
//! entered, and stop with a `limit` error instead of overflowing.
//!
//! Counting nesting levels is not enough: a level costs a few hundred bytes in a release build
//! and several kilobytes in a debug build. So the engine notes the address of a local at its
//! entry point and compares it with the address of a local where it recurses (the stack grows
//! down, natively and in WebAssembly's shadow stack alike).

use std::cell::Cell;

/// Stack the engine may use below its entry point. A `wasm32-wasip2` component has a 1 MiB
/// stack; native test threads have 2 MiB.
pub const BUDGET: usize = 480 * 1024;

thread_local! {
    static BASE: Cell<usize> = const { Cell::new(0) };
}

#[inline(never)]
fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Marks the engine's entry; nested entries keep the outermost mark. The mark is removed when
/// the returned guard is dropped.
pub fn enter() -> Guard {
    let outer = BASE.with(|b| b.get());
    if outer == 0 {
        BASE.with(|b| b.set(here()));
    }
    Guard {
        outermost: outer == 0,
    }
}

pub struct Guard {
    outermost: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.outermost {
            BASE.with(|b| b.set(0));
        }
    }
}

/// Whether there is room to recurse further.
#[inline]
pub fn ok() -> bool {
    let base = BASE.with(|b| b.get());
    base == 0 || base.saturating_sub(here()) < BUDGET
}

/// The diagnostic for a program nested deeper than the stack budget allows.
pub fn too_deep(span: crate::diagnostic::Span) -> crate::diagnostic::Diagnostic {
    crate::diagnostic::Diagnostic::new(
        crate::diagnostic::DiagnosticKind::Limit,
        "Nesting too deep: the program nests expressions deeper than the engine allows",
        span,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(n: u32) -> u32 {
        if !ok() {
            return n;
        }
        let pad = [n as u8; 512];
        std::hint::black_box(&pad);
        depth(n + 1)
    }

    #[test]
    fn recursion_stops_inside_the_budget() {
        let _g = enter();
        let reached = depth(0);
        assert!(reached > 100 && reached < 10_000, "{reached}");
    }
}
