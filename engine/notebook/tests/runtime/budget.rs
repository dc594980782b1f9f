//! The runtime's `budget` as sessions meet it (moved from engine/runtime/src/budget.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::runtime::vm::Limits;
use ruchy_notebook::Session;

/// The fuzzer's finding: comparing two values that share their parts a trillion times
/// ran past the step limit (the units a deep comparison burns count as steps).
#[test]
fn a_deep_comparison_ends_at_the_step_limit() {
    let mut s = Session::new();
    s.set_limits(Limits {
        max_steps: 100_000,
        ..Limits::default()
    });
    for cell in [
        "let mut v = [0]; for i in 0..40 { v = [v, v] }; v.len()",
        "let mut w = [0]; for i in 0..40 { w = [w, w] }; w.len()",
    ] {
        assert_eq!(s.execute_cell(cell).diagnostic, None);
    }
    for cell in ["v == w", "[v].contains(w)", "v.to_string().len()"] {
        let d = s.execute_cell(cell).diagnostic.expect("a limit");
        assert_eq!(
            d.message,
            "Step limit exceeded: the cell ran more than 100000 loop iterations and calls",
            "{cell}"
        );
    }
}
