//! A Jupyter kernel for Ruchy (`host-rs kernel`), one file per concept: the kernelspec
//! ([`install`]), the message loops on the Jupyter sockets ([`server`]), reading requests
//! forgivingly ([`wire`]), the component on its own thread ([`engine`]), the component's
//! records as Jupyter messages ([`convert`]), this session's cells for `history_request`
//! ([`history`]), a client timing the kernel for `bench` ([`roundtrip`]). No language logic:
//! completion, inspection, is-complete and every MIME bundle come from the component.

pub mod convert;
pub mod engine;
pub mod history;
pub mod install;
pub mod roundtrip;
pub mod server;
pub mod wire;
