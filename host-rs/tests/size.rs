//! Both components stay within their guards (`host_rs::bench::SIZE_GUARD` for the full
//! component, `KERNEL_SIZE_GUARD` for the kernel): a change that makes one grow past its guard
//! fails here, and must move the guard on purpose.

use host_rs::bench::{KERNEL_SIZE_GUARD, SIZE_GUARD};
use host_rs::build::{ensure_component, ensure_kernel, workspace_root};

fn size_of(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).expect("its size").len()
}

#[test]
fn component_within_its_size_guard() {
    let path = ensure_component(&workspace_root()).expect("the component");
    let bytes = size_of(&path);
    assert!(
        bytes <= SIZE_GUARD,
        "{} is {bytes} bytes, over its guard of {SIZE_GUARD} bytes",
        path.display()
    );
}

#[test]
fn kernel_within_its_size_guard_and_smaller_than_the_full_component() {
    let kernel = ensure_kernel(&workspace_root()).expect("the kernel");
    let bytes = size_of(&kernel);
    assert!(
        bytes <= KERNEL_SIZE_GUARD,
        "{} is {bytes} bytes, over its guard of {KERNEL_SIZE_GUARD} bytes",
        kernel.display()
    );
    let full = size_of(&ensure_component(&workspace_root()).expect("the component"));
    assert!(
        bytes < full,
        "the kernel ({bytes} bytes) is not smaller than the full component ({full} bytes)"
    );
}
