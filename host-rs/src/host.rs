//! The wasmtime embedding: `bindgen!` from the WIT file, a `Linker` with WASI, a `Store` with
//! its state. Everything the CLI, the tests and the benches do goes through [`Instance`].

use anyhow::Result;
use std::path::Path;
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "notebook",
});

pub use exports::ruchy::notebook::engine::{
    BenchmarkCategory, BenchmarkGroup, BenchmarkReport, CellError, CellResult, Diagnostic,
    DiagnosticKind, Performance, Span,
};

/// Per-instance host state: the WASI context and its resource table.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A loaded (compiled) component, ready to instantiate many times.
pub struct Runtime {
    engine: Engine,
    pre: NotebookPre<State>,
}

impl Runtime {
    /// Compiles the component at `path` with wasmtime's Cranelift.
    pub fn load(path: &Path) -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        let component = Component::from_file(&engine, path)
            .map_err(|e| anyhow::anyhow!("loading the component {}: {e:?}", path.display()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let pre = NotebookPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Runtime { engine, pre })
    }

    /// A fresh instance of the component, with its own memory.
    pub fn instantiate(&self) -> Result<Instance> {
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance { store, bindings })
    }
}

/// One instance of the component.
pub struct Instance {
    store: Store<State>,
    bindings: Notebook,
}

/// A session living in an [`Instance`].
#[derive(Clone, Copy)]
pub struct SessionHandle(ResourceAny);

impl Instance {
    pub fn new_session(&mut self) -> Result<SessionHandle> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(SessionHandle(
            api.session().call_constructor(&mut self.store)?,
        ))
    }

    pub fn drop_session(&mut self, s: SessionHandle) -> Result<()> {
        s.0.resource_drop(&mut self.store)?;
        Ok(())
    }

    pub fn execute_cell(&mut self, s: SessionHandle, source: &str) -> Result<CellResult> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api
            .session()
            .call_execute_cell(&mut self.store, s.0, source)?)
    }

    pub fn run_script(&mut self, s: SessionHandle, source: &str) -> Result<CellResult> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api
            .session()
            .call_run_script(&mut self.store, s.0, source)?)
    }

    pub fn disassemble(
        &mut self,
        s: SessionHandle,
        source: &str,
    ) -> Result<Result<String, Diagnostic>> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api
            .session()
            .call_disassemble(&mut self.store, s.0, source)?)
    }

    pub fn compile(&mut self, source: &str) -> Result<Result<String, Vec<Diagnostic>>> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api.call_compile(&mut self.store, source)?)
    }

    pub fn compile_cells(&mut self, cells: &[String]) -> Result<Result<String, Vec<CellError>>> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api.call_compile_cells(&mut self.store, cells)?)
    }

    pub fn export_rust(&mut self, s: SessionHandle) -> Result<Result<String, Vec<CellError>>> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api.session().call_export_rust(&mut self.store, s.0)?)
    }

    pub fn memory_bytes(&mut self) -> Result<u64> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api.call_memory_bytes(&mut self.store)?)
    }

    pub fn benchmark(&mut self, iterations: u32) -> Result<BenchmarkReport> {
        let api = self.bindings.ruchy_notebook_engine();
        Ok(api.call_benchmark(&mut self.store, iterations)?)
    }
}
