//! The wasmtime host of the `ruchy:notebook` component: building/finding the component
//! ([`build`]), running it ([`host`]) and rendering its results ([`render`]). No language
//! logic lives here: everything about Ruchy happens inside the component.

pub mod bench;
pub mod build;
pub mod host;
pub mod render;
