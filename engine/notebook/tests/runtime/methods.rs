//! The runtime's `methods` as sessions meet it (moved from engine/runtime/src/methods.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::Session;

fn show(s: &mut Session, cell: &str) -> String {
    let r = s.execute_cell(cell);
    assert!(r.diagnostic.is_none(), "{cell}: {:?}", r.diagnostic);
    r.display.unwrap_or_default()
}

#[test]
fn an_array_of_ints_sorts_as_rust_sorts_i64s() {
    // more than a run of the metered sort, with negatives, duplicates and the extremes
    let mut seed: i64 = 3;
    let mut xs: Vec<i64> = (0..40_000)
        .map(|_| {
            seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
            seed % 2001 - 1000
        })
        .collect();
    xs.extend([i64::MAX, i64::MIN + 1, 0]); // (i64::MIN has no literal)
    let literal: Vec<String> = xs.iter().map(i64::to_string).collect();
    let mut s = Session::new();
    show(&mut s, &format!("let mut xs = [{}]", literal.join(", ")));
    let got = show(&mut s, "xs.sort()");
    xs.sort();
    let want: Vec<String> = xs.iter().map(i64::to_string).collect();
    assert_eq!(got, format!("[{}]", want.join(", ")));
    // sorted in place, as before
    assert_eq!(show(&mut s, "xs[0] == xs.min()"), "true");
}

#[test]
fn a_mixed_array_still_sorts_as_values() {
    let mut s = Session::new();
    assert_eq!(show(&mut s, "[3, 1.5, 2, -1].sort()"), "[-1, 1.5, 2, 3]");
    let r = s.execute_cell("[3, \"a\", 1].sort()");
    assert!(r
        .diagnostic
        .is_some_and(|d| d.message.contains("Cannot sort")));
}
