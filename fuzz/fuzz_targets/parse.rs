//! Lexer and parser on arbitrary UTF-8: never a panic, and every error is a diagnostic whose
//! span lies inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let len = source.len() as u32;
    let check = |d: &ruchy_notebook::Diagnostic| {
        assert!(
            d.span.start <= d.span.end && d.span.start <= len,
            "span {:?} outside a source of {len} bytes: {d:?}",
            d.span
        );
        let _ = d.render(source);
    };
    if let Err(d) = ruchy_notebook::syntax::lexer::lex(source, 0) {
        check(&d);
    }
    if let Err(d) = ruchy_notebook::syntax::parser::parse(source) {
        check(&d);
    }
});
