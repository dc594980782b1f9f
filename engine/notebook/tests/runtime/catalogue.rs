//! The runtime's `catalogue` as sessions meet it (moved from engine/runtime/src/catalogue.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::runtime::catalogue::*;
use ruchy_notebook::Session;

/// A value of each receiver kind, as source text.
const SAMPLES: &[(Recv, &str)] = &[
    (Recv::Str, "\"abc\""),
    (Recv::Array, "[3, 1, 2]"),
    (Recv::Range, "(0..3)"),
    (Recv::Tuple, "(1, 2)"),
    (Recv::Object, "{a: 1}"),
    (Recv::Map, "HashMap::from([(1, 2)])"),
    (Recv::Set, "HashSet::from([1])"),
    (Recv::Deque, "VecDeque::from([1])"),
    (Recv::Int, "(3)"),
    (Recv::Float, "(2.5)"),
    (Recv::Bool, "(true)"),
    (Recv::Option, "Some(1)"),
    (Recv::Result, "Ok(1)"),
];

fn unknown_method(src: &str) -> bool {
    let out = Session::new().execute_cell(src);
    out.diagnostic
        .is_some_and(|d| d.message.starts_with("Unknown method"))
}

#[test]
fn every_catalogue_method_is_dispatched() {
    for (&(r, v), ty) in SAMPLES.iter().zip([
        "string",
        "array",
        "array", // (a range's unknown method is looked for among the array's)
        "tuple",
        "object",
        "HashMap",
        "HashSet",
        "VecDeque",
        "integer",
        "float",
        "boolean",
        "enum_variant",
        "enum_variant",
    ]) {
        let out = Session::new().execute_cell(&format!("{v}.no_such_method()"));
        assert_eq!(
            out.diagnostic.map(|d| d.message),
            Some(format!("Unknown method: {ty}.no_such_method()"))
        );
        let mut n = 0;
        for e in methods_of(r) {
            for name in std::iter::once(&e.name).chain(e.aliases) {
                n += 1;
                let src = format!("{v}.{name}()");
                assert!(!unknown_method(&src), "{src}: Unknown method");
            }
        }
        assert!(n > 0, "{r:?}");
    }
}

#[test]
fn every_dispatched_method_is_in_the_catalogue() {
    for &(r, v) in SAMPLES {
        for &id in MethodId::ALL {
            for name in std::iter::once(id.name()).chain(id.aliases().iter().copied()) {
                let src = format!("{v}.{name}()");
                if unknown_method(&src) {
                    continue;
                }
                // Option and Result share their methods at run time
                let found = match r {
                    Recv::Option | Recv::Result => {
                        method(Recv::Option, name).or(method(Recv::Result, name))
                    }
                    _ => method(r, name),
                };
                assert!(
                    found.is_some(),
                    "{src} is dispatched but not in the catalogue"
                );
            }
        }
    }
}
