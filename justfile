# Named recipes on top of the README's two commands (`just` is optional: every recipe is one
# plain command).

# Run every test (what CI runs).
test:
    cargo xtask test

# Build the component and copy it to target/ruchy_notebook.wasm.
build-component:
    cargo run --release -p host-rs -- build-component

# The seed benchmark through wasmtime.
bench:
    cargo run --release -p host-rs -- bench

# The seed benchmark through jco in Node.
bench-js:
    node host-js/run.mjs
