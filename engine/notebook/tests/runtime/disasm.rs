//! The runtime's `disasm` as sessions meet it (moved from engine/runtime/src/disasm.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::Session;

#[test]
fn shows_the_compiled_form() {
    let mut s = Session::new();
    let text = s.disassemble("fun f(n) { n + 1 }\nf(2)").unwrap();
    assert!(text.contains("AddImm"), "{text}");
    assert!(text.contains("Call"), "{text}");
    assert!(text.contains("== <cell>"), "{text}");
}
