//! The runtime's `collection` as sessions meet it (moved from engine/runtime/src/collection.rs: these
//! tests drive a notebook session, the layer above).

use ruchy_notebook::Session;

/// The display of each cell's value, or its error message.
fn run(cells: &[&str]) -> Vec<String> {
    let mut s = Session::new();
    cells
        .iter()
        .map(|c| {
            let out = s.execute_cell(c);
            match out.diagnostic {
                Some(d) => format!("error: {}", d.message),
                None => out.display.unwrap_or_default(),
            }
        })
        .collect()
}

#[test]
fn maps_keep_keys_in_order_and_print_as_rust_debug() {
    let r = run(&[
        "let mut m = HashMap::new(); m.insert(\"b\", 2); m.insert(\"a\", 1); m",
        "m.get(\"a\")",
        "m.get(\"z\")",
        "m[\"c\"] = 3; m[\"a\"] += 10; m",
        "let mut b = BTreeMap::new(); b.insert((2, \"x\"), [1]); b.insert((1, \"y\"), []); b",
        "typeof(b)",
        "m.keys()",
        "m.remove(\"a\")",
        "m.len()",
    ]);
    assert_eq!(
        r,
        [
            "{\"a\": 1, \"b\": 2}",
            "Some(1)",
            "None",
            "{\"a\": 11, \"b\": 2, \"c\": 3}",
            "{(1, \"y\"): [], (2, \"x\"): [1]}",
            "\"BTreeMap\"",
            "[\"a\", \"b\", \"c\"]",
            "Some(11)",
            "2"
        ]
    );
}

#[test]
fn entry_or_insert_counts() {
    let r = run(&[
        "let mut c = HashMap::new()\nfor w in \"a b a c a\".split(\" \") { *c.entry(w).or_insert(0) += 1 }\nc",
        "let mut d = HashMap::new(); d.entry(1).or_insert(5)",
        "d",
    ]);
    assert_eq!(r, ["{\"a\": 3, \"b\": 1, \"c\": 1}", "5", "{1: 5}"]);
}

#[test]
fn sets_and_deques() {
    let r = run(&[
        "let mut s = HashSet::new(); s.insert(3); s.insert(1); s.insert(3)",
        "s",
        "let t = HashSet::from([1, 2, 5]); [s.union(&t), s.intersection(&t), s.difference(&t), s.symmetric_difference(&t)]",
        "s.contains(1) && !s.contains(2) && s.is_subset(&HashSet::from([1, 3, 4]))",
        "let xs: BTreeSet<i32> = [5, 1, 5].into_iter().collect(); xs",
        "[1, 2, 2].iter().collect::<HashSet<_>>().len()",
        "let mut q = VecDeque::new(); q.push_back(1); q.push_back(2); q.push_front(0); q",
        "(q.pop_front(), q.pop_back(), q, q.front())",
        "for x in HashSet::from([\"b\", \"a\"]) { print(x) }",
    ]);
    assert_eq!(
        r,
        [
            "false",
            "{1, 3}",
            "[{1, 2, 3, 5}, {1}, {3}, {2, 3, 5}]",
            "true",
            "{1, 5}",
            "2",
            "[0, 1, 2]",
            "(Some(0), Some(2), [1], Some(1))",
            ""
        ]
    );
}

#[test]
fn bad_keys_and_missing_keys_are_errors_that_keep_the_session() {
    let r = run(&[
        "let mut m = HashMap::new(); m.insert(1, \"one\"); m.len()",
        "m.insert(1.5, \"x\")",
        "m[2]",
        "m.insert(2, \"two\"); panic(\"stop\")",
        "m",
        "HashSet::from([1])[0]",
        "HashMap::from([1, 2])",
    ]);
    assert_eq!(r[0], "1");
    assert!(
        r[1].starts_with("error: A float cannot be a key"),
        "{}",
        r[1]
    );
    assert_eq!(r[2], "error: Key not found: 2");
    assert!(r[3].starts_with("error: "), "{}", r[3]);
    // the failing cell's insert is rolled back with it
    assert_eq!(r[4], "{1: \"one\"}");
    assert!(r[5].starts_with("error: Cannot index a set"), "{}", r[5]);
    assert!(
        r[6].starts_with("error: A HashMap is made of (key, value) pairs"),
        "{}",
        r[6]
    );
}
