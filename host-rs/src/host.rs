//! The wasmtime embedding: `bindgen!` from the WIT file, a `Linker` with WASI, a `Store` with
//! its state. Everything the CLI, the tests and the benches do goes through [`Instance`].

use crate::cache::{self, Load};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wasmtime::component::{InstancePre, Linker, ResourceAny, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "notebook",
});

use exports::ruchy::notebook::{compiler, engine};

pub use exports::ruchy::notebook::engine::{
    BenchmarkCategory, BenchmarkGroup, BenchmarkReport, CellError, CellResult, Completeness,
    Completion, CompletionKind, Completions, Diagnostic, DiagnosticKind, DisplayOutput, Inspection,
    Limits, MimeData, Performance, Span, Variable, VariablesUpdate,
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

/// Instances that may be alive at once (the pooling allocator keeps a slot for each).
pub const POOL_SLOTS: u32 = 4;
/// Largest linear memory an instance may grow to: all a 32-bit instance can address. The
/// engine stops a cell at its memory limit (at most 1 GB) before it allocates, and a value
/// copied or grown at that size needs room twice; this leaves room for that and for the
/// allocator's fragmentation, so the instance never traps for want of memory.
pub const MAX_MEMORY_BYTES: usize = 4 << 30;

/// The wasmtime settings this host uses: the component model and nothing else of the
/// optional features (no `component-model-async`: it makes every call slower), and the pooling
/// allocator, which instantiates from pre-reserved slots.
pub fn config() -> Config {
    config_with_slots(POOL_SLOTS)
}

/// [`config`] with room for `slots` live instances (the service keeps one per shard, and
/// one more while a trapped shard is rebuilt).
pub fn config_with_slots(slots: u32) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // the backstop of the engine's own time limit: a call that runs past its deadline traps
    config.epoch_interruption(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 4)
        .total_memories(slots * 2)
        .total_tables(slots * 4)
        // fiber stacks (wasmtime-wasi turns on wasmtime's `async`): the default 1,000 cost
        // 1,000 `mprotect` calls, 4 ms of every process start
        .total_stacks(slots)
        .max_memory_size(MAX_MEMORY_BYTES);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// How often the epoch advances.
pub const EPOCH_TICK_MS: u64 = 10;
/// How long after a cell's own time limit wasmtime interrupts it. The engine looks at its
/// clock every few thousand units of work and stops within milliseconds, but a cell that ends
/// then frees what it built, and freeing a memory limit's worth of small values takes longer
/// than 50 ms in WebAssembly; the backstop is for a bug in the engine, not for that.
pub const BACKSTOP_MS: u64 = 1000;
/// The engine's default time limit per cell (WIT `limits`), until a session sets another.
pub const DEFAULT_TIME_MS: u64 = 10_000;

/// Advances `engine`'s epoch every [`EPOCH_TICK_MS`] for as long as the engine lives.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(EPOCH_TICK_MS));
        match weak.upgrade() {
            Some(e) => e.increment_epoch(),
            None => break,
        }
    });
}

/// Where precompiled components are kept: `target/cwasm` of the workspace.
pub fn default_cache_dir() -> PathBuf {
    crate::build::workspace_root().join("target").join("cwasm")
}

/// How loading went: from the cache or compiled, and how long it took.
#[derive(Debug, Clone)]
pub struct LoadInfo {
    pub how: Load,
    pub ms: f64,
}

/// A loaded (compiled) component, ready to instantiate many times.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<State>,
    engine_api: engine::GuestIndices,
    /// `None` for the kernel component (world `kernel`), which has no Rust export.
    compiler_api: Option<compiler::GuestIndices>,
    pub load: LoadInfo,
}

impl Runtime {
    /// Loads the component at `path` through the precompiled cache in `target/cwasm`.
    pub fn load(path: &Path) -> Result<Runtime> {
        Runtime::load_with(path, &default_cache_dir())
    }

    /// Loads the component at `path` through the precompiled cache in `cache_dir`.
    pub fn load_with(path: &Path, cache_dir: &Path) -> Result<Runtime> {
        Runtime::load_configured(path, cache_dir, &config())
    }

    /// Loads the component with room for `slots` live instances.
    pub fn load_with_slots(path: &Path, slots: u32) -> Result<Runtime> {
        Runtime::load_configured(path, &default_cache_dir(), &config_with_slots(slots))
    }

    fn load_configured(path: &Path, cache_dir: &Path, config: &Config) -> Result<Runtime> {
        let t = Instant::now();
        let engine = Engine::new(config)?;
        let (component, how) = cache::load(&engine, path, cache_dir)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let pre = linker.instantiate_pre(&component)?;
        // either world: the engine interface always, the compiler only in the full component
        let engine_api = engine::GuestIndices::new(&pre)?;
        let compiler_api = compiler::GuestIndices::new(&pre).ok();
        start_ticker(&engine);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        Ok(Runtime {
            engine,
            pre,
            engine_api,
            compiler_api,
            load: LoadInfo { how, ms },
        })
    }

    /// What stops a running call from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter {
            engine: self.engine.clone(),
        }
    }

    /// A fresh instance of the component, with its own memory.
    pub fn instantiate(&self) -> Result<Instance> {
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = self.pre.instantiate(&mut store)?;
        let api = self.engine_api.load(&mut store, &instance)?;
        let compiler = match &self.compiler_api {
            Some(c) => Some(c.load(&mut store, &instance)?),
            None => None,
        };
        Ok(Instance {
            store,
            api,
            compiler,
            time_ms: DEFAULT_TIME_MS,
            backstop_override_ms: None,
        })
    }
}

/// Stops the call running in an instance of a [`Runtime`] from another thread: it advances
/// the engine's epoch past the running call's deadline, so the call traps at its next epoch
/// check (loop headers and function entries: microseconds). The instance is then unusable;
/// [`crate::notebook::Notebook`] rebuilds its session by replay.
#[derive(Clone)]
pub struct Interrupter {
    engine: Engine,
}

impl Interrupter {
    /// Reaches the deadline of a call armed with a time limit of at most `time_ms`.
    pub fn interrupt(&self, time_ms: u64) {
        let ticks = time_ms.saturating_add(BACKSTOP_MS).div_ceil(EPOCH_TICK_MS) + 1;
        for _ in 0..ticks.min(1 << 24) {
            self.engine.increment_epoch();
        }
    }
}

/// One instance of the component.
pub struct Instance {
    store: Store<State>,
    api: engine::Guest,
    /// The Rust export interface; `None` in the kernel component.
    compiler: Option<compiler::Guest>,
    /// The time limit set last on a session of this instance: every call gets this plus
    /// [`BACKSTOP_MS`] before wasmtime interrupts it (the benchmark excepted).
    time_ms: u64,
    /// Test hook: a backstop of this many milliseconds regardless of the time limit, to make
    /// wasmtime interrupt a call before the engine's own limit does.
    backstop_override_ms: Option<u64>,
}

/// A session living in an [`Instance`].
#[derive(Clone, Copy)]
pub struct SessionHandle(ResourceAny);

impl Instance {
    /// Arms the epoch backstop for a call that runs cells.
    fn arm(&mut self) {
        let ms = self
            .backstop_override_ms
            .unwrap_or(self.time_ms.saturating_add(BACKSTOP_MS));
        self.store
            .set_epoch_deadline(ms.div_ceil(EPOCH_TICK_MS).max(1));
    }

    /// Test hook: interrupt calls after `ms` milliseconds whatever the time limit (`None`:
    /// the time limit plus [`BACKSTOP_MS`]). This is how the tests force a trap.
    pub fn set_backstop_override(&mut self, ms: Option<u64>) {
        self.backstop_override_ms = ms;
    }

    /// The time limit the next calls' backstop follows (an instance holding many sessions
    /// sets it to the calling session's before each call).
    pub fn set_time_ms(&mut self, ms: u64) {
        self.time_ms = ms;
    }

    /// No backstop for calls that are bounded by their arguments (the benchmark).
    fn disarm(&mut self) {
        self.store.set_epoch_deadline(u64::MAX / 2);
    }

    pub fn get_limits(&mut self, s: SessionHandle) -> Result<Limits> {
        self.arm();
        let api = &self.api;
        Ok(api.session().call_get_limits(&mut self.store, s.0)?)
    }

    /// Sets a session's limits; the instance's backstop follows the time limit set last.
    pub fn set_limits(&mut self, s: SessionHandle, limits: Limits) -> Result<()> {
        self.time_ms = limits.time_ms;
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_set_limits(&mut self.store, s.0, limits)?)
    }

    pub fn new_session(&mut self) -> Result<SessionHandle> {
        self.arm();
        let api = &self.api;
        Ok(SessionHandle(
            api.session().call_constructor(&mut self.store)?,
        ))
    }

    pub fn drop_session(&mut self, s: SessionHandle) -> Result<()> {
        s.0.resource_drop(&mut self.store)?;
        Ok(())
    }

    pub fn execute_cell(&mut self, s: SessionHandle, source: &str) -> Result<CellResult> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_execute_cell(&mut self.store, s.0, source)?)
    }

    pub fn run_script(&mut self, s: SessionHandle, source: &str) -> Result<CellResult> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_run_script(&mut self.store, s.0, source)?)
    }

    pub fn complete(&mut self, s: SessionHandle, source: &str, cursor: u32) -> Result<Completions> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_complete(&mut self.store, s.0, source, cursor)?)
    }

    pub fn inspect(
        &mut self,
        s: SessionHandle,
        source: &str,
        cursor: u32,
    ) -> Result<Option<Inspection>> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_inspect(&mut self.store, s.0, source, cursor)?)
    }

    pub fn is_complete(&mut self, s: SessionHandle, source: &str) -> Result<Completeness> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_is_complete(&mut self.store, s.0, source)?)
    }

    pub fn variables(&mut self, s: SessionHandle) -> Result<Vec<Variable>> {
        self.arm();
        let api = &self.api;
        Ok(api.session().call_variables(&mut self.store, s.0)?)
    }

    pub fn variables_since(
        &mut self,
        s: SessionHandle,
        generation: u64,
    ) -> Result<VariablesUpdate> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_variables_since(&mut self.store, s.0, generation)?)
    }

    pub fn disassemble(
        &mut self,
        s: SessionHandle,
        source: &str,
    ) -> Result<Result<String, Diagnostic>> {
        self.arm();
        let api = &self.api;
        Ok(api
            .session()
            .call_disassemble(&mut self.store, s.0, source)?)
    }

    /// Whether this is the full component (Rust export), not the kernel.
    pub fn has_compiler(&self) -> bool {
        self.compiler.is_some()
    }

    pub fn compile(&mut self, source: &str) -> Result<Result<String, Vec<Diagnostic>>> {
        self.arm();
        let api = compiler_of(&self.compiler)?;
        Ok(api.call_compile(&mut self.store, source)?)
    }

    pub fn compile_cells(&mut self, cells: &[String]) -> Result<Result<String, Vec<CellError>>> {
        self.arm();
        let api = compiler_of(&self.compiler)?;
        Ok(api.call_compile_cells(&mut self.store, cells)?)
    }

    pub fn export_rust(&mut self, s: SessionHandle) -> Result<Result<String, Vec<CellError>>> {
        self.arm();
        let api = compiler_of(&self.compiler)?;
        Ok(api.call_export_rust(&mut self.store, s.0)?)
    }

    pub fn memory_bytes(&mut self) -> Result<u64> {
        self.arm();
        let api = &self.api;
        Ok(api.call_memory_bytes(&mut self.store)?)
    }

    pub fn benchmark(&mut self, iterations: u32) -> Result<BenchmarkReport> {
        self.disarm();
        let api = &self.api;
        Ok(api.call_benchmark(&mut self.store, iterations)?)
    }
}

/// The Rust export interface, or why there is none.
fn compiler_of(c: &Option<compiler::Guest>) -> Result<&compiler::Guest> {
    c.as_ref().context(
        "this component is the kernel (world `kernel`): it has no Rust export; use the full component, target/ruchy_notebook.wasm",
    )
}
