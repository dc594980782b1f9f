//! The wasmtime host of the `ruchy:notebook` component: building/finding the component
//! ([`build`]), loading it through the precompiled cache ([`cache`]), running it ([`host`]), keeping a session through traps ([`notebook`]), rendering its results ([`render`]), a Jupyter kernel ([`kernel`]), sessions as an HTTP service ([`serve`]), reading
//! programs and notebooks for `compile` and checking what it makes ([`check`]). No language
//! logic lives here: everything about Ruchy happens inside the component.

pub mod bench;
pub mod build;
pub mod cache;
pub mod check;
pub mod host;
pub mod json;
pub mod kernel;
pub mod notebook;
pub mod peers;
pub mod render;
pub mod serve;
