//! The component's size stays within its guard (`host_rs::bench::SIZE_GUARD`): a change that
//! makes it grow by more than 5% fails here, and must move the guard on purpose.

use host_rs::bench::SIZE_GUARD;
use host_rs::build::{ensure_component, workspace_root};

#[test]
fn component_within_its_size_guard() {
    let path = ensure_component(&workspace_root()).expect("the component");
    let bytes = std::fs::metadata(&path).expect("its size").len();
    assert!(
        bytes <= SIZE_GUARD,
        "{} is {bytes} bytes, over its guard of {SIZE_GUARD} bytes",
        path.display()
    );
}
