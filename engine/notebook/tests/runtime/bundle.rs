//! The runtime's `bundle` as sessions meet it (moved from engine/runtime/src/bundle.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::runtime::bundle::*;
use ruchy_notebook::Session;

fn value_bundle(cells: &[&str]) -> Bundle {
    let mut s = Session::new();
    let mut last = None;
    for c in cells {
        let out = s.execute_cell(c);
        assert!(out.diagnostic.is_none(), "{c}: {:?}", out.diagnostic);
        last = out.bundle;
    }
    last.expect("a value")
}

fn mimes(b: &Bundle) -> Vec<&'static str> {
    b.iter().map(|m| m.mime).collect()
}

#[test]
fn plain_values_have_only_text() {
    let b = value_bundle(&["[1, 2, 3]"]);
    assert_eq!(mimes(&b), ["text/plain"]);
    assert_eq!(b[0].data, "[1, 2, 3]");
}

#[test]
fn an_array_of_objects_is_a_table_with_every_key() {
    let b = value_bundle(&["[{name: \"Ann\", age: 31}, {name: \"<Bo>\", city: \"Oslo\"}]"]);
    assert_eq!(mimes(&b), ["text/plain", "text/html"]);
    let html = &b[1].data;
    assert!(
        html.contains("<th>age</th><th>city</th><th>name</th>"),
        "{html}"
    );
    assert!(html.contains("<td style=\"text-align: right\">31</td>"));
    assert!(html.contains("&lt;Bo&gt;"), "escaped: {html}");
    assert_eq!(html.matches("<tr>").count(), 3);
}

#[test]
fn structs_keep_their_field_order_and_long_tables_are_cut() {
    let b = value_bundle(&[
        "struct P { y: Int, x: Int }",
        "let ps = []; for i in 0..120 { ps.push(P { y: i, x: -i }) }; ps",
    ]);
    let html = &b[1].data;
    assert!(html.contains("<th>y</th><th>x</th>"), "{html}");
    assert_eq!(html.matches("<tr>").count(), 1 + MAX_ROWS);
    assert!(html.contains("70 more rows (120 in all)"), "{html}");
}

#[test]
fn an_object_of_equal_columns_is_a_table() {
    let b = value_bundle(&["{x: [1, 2], y: [\"a\", \"b\"]}"]);
    assert!(b[1].data.contains("<th>x</th><th>y</th>"));
    assert_eq!(
        mimes(&value_bundle(&["{x: [1, 2], y: [1]}"])),
        ["text/plain"]
    );
    assert_eq!(mimes(&value_bundle(&["[{a: 1}, 2]"])), ["text/plain"]);
}

#[test]
fn shorten_counts_characters() {
    assert_eq!(shorten("héllo", 10), "héllo");
    assert_eq!(shorten("héllo wörld", 5), "héll…");
}
