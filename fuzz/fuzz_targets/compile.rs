//! The transpiler on arbitrary UTF-8: `compile` returns Rust or diagnostics, never panics.
//! Input containing a 0xFF byte (never in UTF-8) is split into notebook cells for
//! `compile_cells` instead.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.contains(&0xFF) {
        let cells: Vec<String> = data
            .split(|&b| b == 0xFF)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        if let Err(errs) = ruchy_notebook::compile_cells(&refs) {
            for e in &errs {
                assert!(e.cell >= 1 && e.cell as usize <= refs.len(), "{e:?}");
            }
        }
        return;
    }
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(ds) = ruchy_notebook::compile(source) {
        assert!(!ds.is_empty(), "compile failed without a diagnostic");
        for d in &ds {
            let _ = d.render(source);
        }
    }
});
