//! Limits and crash recovery through wasmtime: the session API (`set-limits`), the epoch
//! backstop forcing a trap, the session rebuilt by replay, and `host-rs eval` on runaway cells.
//! (The table of hostile cells and their diagnostics is `tests/cases/90-hostile.cases`, run
//! by every host's corpus runner.)

use host_rs::build::{ensure_component, workspace_root};
use host_rs::host::{DiagnosticKind, Runtime};
use host_rs::notebook::Notebook;
use std::process::Command;
use std::time::{Duration, Instant};

fn runtime() -> Runtime {
    Runtime::load(&ensure_component(&workspace_root()).expect("the component")).expect("loading")
}

fn display(nb: &mut Notebook, source: &str) -> Option<String> {
    let r = nb.execute_cell(source).expect("a cell");
    assert!(r.diagnostic.is_none(), "{source}: {:?}", r.diagnostic);
    r.display
}

#[test]
fn limits_round_trip_through_the_session_api() {
    let mut nb = Notebook::new(&runtime()).expect("a notebook");
    let l = nb.get_limits().expect("get-limits");
    assert_eq!(
        (l.time_ms, l.call_depth, l.output_bytes),
        (10_000, 10_000, 1 << 20)
    );
    assert_eq!(l.memory_bytes, 256 << 20);
    nb.set_limits(host_rs::host::Limits {
        call_depth: 50,
        memory_bytes: 8 << 20,
        ..l
    })
    .expect("set-limits");
    display(&mut nb, "let a = 1");
    display(&mut nb, "fun f(n) { if n == 0 { 0 } else { f(n - 1) } }");
    assert_eq!(display(&mut nb, "f(40)").as_deref(), Some("0"));
    let r = nb.execute_cell("f(60)").expect("a cell");
    let d = r.diagnostic.expect("the depth limit");
    assert_eq!(d.kind, DiagnosticKind::Limit);
    assert_eq!(
        d.message,
        "Recursion limit exceeded: more than 50 nested calls"
    );
    // the memory limit counts the component's allocator: 8 MB
    let r = nb.execute_cell("\"x\".repeat(20000000)").expect("a cell");
    let d = r.diagnostic.expect("the memory limit");
    assert_eq!(d.kind, DiagnosticKind::Limit);
    assert!(
        d.message.starts_with("Memory limit exceeded"),
        "{}",
        d.message
    );
    assert!(d.message.contains("limit of 8 MB"), "{}", d.message);
    assert_eq!(display(&mut nb, "a").as_deref(), Some("1"));
}

#[test]
fn a_trap_rebuilds_the_session_by_replaying_its_cells() {
    let mut nb = Notebook::new(&runtime()).expect("a notebook");
    display(&mut nb, "let a = 1");
    display(&mut nb, "fun f(x) { x * 2 }");
    let r = nb
        .execute_cell("let a = 100\nundefined_name")
        .expect("a cell");
    assert!(r.diagnostic.is_some());
    // the engine's own limit is 10 s: wasmtime's epoch interrupts first, and the call traps
    nb.instance().0.set_backstop_override(Some(200));
    let t = Instant::now();
    let r = nb.execute_cell("loop {}").expect("a result, not an error");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    let d = r.diagnostic.expect("a diagnostic");
    assert_eq!(d.kind, DiagnosticKind::Limit);
    assert!(
        d.message.contains(
            "the session was rebuilt in a fresh instance by replaying its 2 successful cells"
        ),
        "{}",
        d.message
    );
    assert_eq!(nb.rebuilds, 1);
    assert_eq!(display(&mut nb, "a + f(2)").as_deref(), Some("5"));
}

#[test]
fn an_interrupt_stops_the_cell_and_keeps_the_session() {
    let mut nb = Notebook::new(&runtime()).expect("a notebook");
    display(&mut nb, "let a = 1");
    let interrupt = nb.interrupter();
    assert!(!interrupt.interrupt(), "nothing runs yet");
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        while !interrupt.interrupt() {
            std::thread::sleep(Duration::from_millis(5));
        }
        t
    });
    let r = nb.execute_cell("loop {}").expect("a result, not an error");
    let asked = stopper.join().unwrap();
    let took = asked.elapsed();
    assert!(took < Duration::from_millis(100), "stopped after {took:?}");
    let d = r.diagnostic.expect("a diagnostic");
    assert_eq!(d.kind, DiagnosticKind::Limit);
    assert!(
        d.message
            .starts_with("Interrupted: the cell was stopped; the session was rebuilt"),
        "{}",
        d.message
    );
    assert_eq!(display(&mut nb, "a + 1").as_deref(), Some("2"));
    // the next cell runs its whole course: the interrupt was for the one before
    assert_eq!(
        display(
            &mut nb,
            "let mut s = 0\nfor i in 0..300000 { s = s + i }\ns"
        )
        .as_deref(),
        Some("44999850000")
    );
}

#[test]
fn eval_ends_runaway_cells_with_a_limit_error() {
    let exe = env!("CARGO_BIN_EXE_host-rs");
    let path = ensure_component(&workspace_root()).expect("the component");
    for (cell, message) in [
        (
            "loop {}",
            "Time limit exceeded: the cell ran longer than 300 ms",
        ),
        (
            "let mut i = 0\nwhile true { i += 1 }",
            "Time limit exceeded",
        ),
        ("fun f(n) { f(n + 1) }\nf(0)", "Recursion limit exceeded"),
        ("[0; 1000000000]", "Memory limit exceeded"),
    ] {
        let t = Instant::now();
        let out = Command::new(exe)
            .arg("--component")
            .arg(&path)
            .args(["eval", "--time-ms", "300", cell])
            .output()
            .expect("host-rs eval");
        // a hang guard, not a speed target (the bench and the closing note have the times)
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{cell}: {:?}",
            t.elapsed()
        );
        assert_eq!(out.status.code(), Some(1), "{cell}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Limit exceeded: "), "{cell}: {err}");
        assert!(err.contains(message), "{cell}: {err}");
    }
}

/// Asked for more than the instance can hold through several built-ins, the session answers
/// each with the memory limit's diagnostic from the same instance (no trap, no rebuild), and
/// keeps its bindings. The limit asked for (8 GB) is lowered to the 1 GB a 32-bit instance
/// takes; a 600 MB array fits under it, a second one or a copy does not.
#[test]
fn more_than_the_instance_holds_is_a_limit_error_from_the_same_instance() {
    let mut nb = Notebook::new(&runtime()).expect("a notebook");
    let l = nb.get_limits().expect("get-limits");
    nb.set_limits(host_rs::host::Limits {
        memory_bytes: 8 << 30,
        ..l
    })
    .expect("set-limits");
    assert_eq!(nb.get_limits().expect("get-limits").memory_bytes, 1 << 30);
    display(&mut nb, "let a = 1");
    assert_eq!(
        display(&mut nb, "let big = [0; 40000000]; big.len()").as_deref(),
        Some("40000000")
    );
    for cell in [
        "big.map(|x| x + 1).len()",
        "big.filter(|x| true).len()",
        "(big + big).len()",
        "big.enumerate().len()",
        "big.zip(big).len()",
        "range(0, 60000000).len()",
        "[big, big].flatten().len()",
        "let mut c = big; c.push(1); c.len()",
        "[0; 100000000].len()",
        "let s = \"x\" * 60000000; [s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s].join(\"\").len()",
    ] {
        let r = nb.execute_cell(cell).expect("a result, not a trap");
        let d = r.diagnostic.unwrap_or_else(|| panic!("{cell}: no diagnostic"));
        assert_eq!(d.kind, DiagnosticKind::Limit, "{cell}: {}", d.message);
        assert!(
            d.message.starts_with("Memory limit exceeded"),
            "{cell}: {}",
            d.message
        );
        assert!(!d.message.contains("rebuilt"), "{cell}: {}", d.message);
    }
    assert_eq!(nb.rebuilds, 0, "the instance never trapped");
    assert_eq!(
        display(&mut nb, "a + big.len()").as_deref(),
        Some("40000001")
    );
}
