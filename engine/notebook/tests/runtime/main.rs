//! Tests of the runtime's parts that drive a whole session (the notebook layer above the
//! runtime), one module per runtime file; the runtime's own unit tests stay beside its code.

mod budget;
mod bundle;
mod catalogue;
mod collection;
mod disasm;
mod methods;
