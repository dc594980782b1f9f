//! Many sessions in one process: where each session lives, when it runs, how it comes back.
//!
//! Layout (chosen by measurement, README "Service"): sessions are `session` resources in a
//! few shared instances (shards), not an instance each: an idle session costs kilobytes of a
//! shard's linear memory where an instance costs over a megabyte. A session belongs to the
//! shard its id hashes to; the shard's instance runs one call at a time, so sessions of
//! different shards run in parallel on all cores.
//!
//! Invariants:
//! * One cell at a time per session: a session's [`Meta`] lock is held from the start of its
//!   cell until the cell is journaled (or refused), so the next cell always builds on a
//!   journaled state.
//! * A cell is acknowledged only after the store made it durable ([`super::store`]); a cell the
//!   store refused is taken back by dropping the session from memory, so its next cell is
//!   rebuilt from the journal.
//! * Memory is a cache of the journal: a session out of memory (evicted by the LRU, or lost
//!   with its instance to a trap) is rebuilt by replaying its journal in a fresh session
//!   with the same limits; the engine's generator is seeded per session and a failed cell
//!   gives back what it drew, so replay gives the same state.

use super::metrics::Metrics;
use super::store::Store;
use crate::host::{CellResult, Diagnostic, DiagnosticKind, Instance, Limits, Performance};
use crate::host::{Runtime, SessionHandle, Variable};
use crate::notebook::{first_line, whole};
use anyhow::{anyhow, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What can go wrong with a request, as the HTTP layer reports it.
#[derive(Debug)]
pub enum Failure {
    /// No such session (404).
    NotFound,
    /// The request is wrong (400), with why.
    Bad(String),
    /// The service is at its session cap (503).
    Full,
    /// The store refused or failed a write: nothing was acknowledged (503).
    Store(String),
    /// Anything else (500).
    Internal(String),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Internal(format!("{e:#}"))
    }
}

/// What the service knows of a session outside any instance.
pub struct Meta {
    /// Cells in its journal.
    cells: u64,
    /// The limits it was created with (JSON object; missing fields take the defaults).
    limits: String,
    deleted: bool,
}

/// A session held in a shard's instance.
struct Resident {
    handle: SessionHandle,
    /// Its place in the shard's LRU order.
    tick: u64,
    time_ms: u64,
}

/// One instance and the sessions it holds.
struct Shard {
    inst: Option<Instance>,
    resident: HashMap<String, Resident>,
    /// tick -> session, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
}

/// Settings of [`Service::new`].
pub struct Config {
    /// Instances (each runs one call at a time).
    pub shards: usize,
    /// Sessions held in memory at most, across all shards; more are evicted, oldest use first.
    pub resident_cap: usize,
    /// Sessions that may exist at most (in memory or in the store).
    pub max_sessions: usize,
    /// Test hook: wasmtime interrupts any call after this many milliseconds (forces a trap).
    pub backstop_ms: Option<u64>,
}

pub struct Service {
    rt: Runtime,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    max_sessions: usize,
    backstop_ms: Option<u64>,
    store: Store,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Meta>>>>,
    pub metrics: Metrics,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding a lock would poison it; the data is still consistent enough to
    // go on (a shard is rebuilt from the journal if anything is off)
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// 128 random bits from the OS, as 32 hex digits.
fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness for a session id: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads a limits object (`time_ms`, `memory_bytes`, `call_depth`, `output_bytes`, each
/// optional) over `base`.
fn apply_limits(base: Limits, json: &Value) -> Result<Limits, String> {
    let mut l = base;
    let Some(obj) = json.as_object() else {
        return Err("limits must be an object".into());
    };
    for (k, v) in obj {
        let n = v
            .as_u64()
            .ok_or_else(|| format!("limits.{k} must be a non-negative integer"))?;
        match k.as_str() {
            "time_ms" => l.time_ms = n,
            "memory_bytes" => l.memory_bytes = n,
            "call_depth" => {
                l.call_depth = u32::try_from(n).map_err(|_| format!("limits.{k} is too large"))?
            }
            "output_bytes" => {
                l.output_bytes = u32::try_from(n).map_err(|_| format!("limits.{k} is too large"))?
            }
            _ => {
                return Err(format!(
                    "unknown limit `{k}` (time_ms, memory_bytes, call_depth, output_bytes)"
                ))
            }
        }
    }
    Ok(l)
}

impl Service {
    /// Opens the service over `store`, knowing every session the store holds.
    pub fn new(rt: Runtime, store: Store, config: Config) -> Result<Service> {
        let shards = config.shards.max(1);
        let metrics = Metrics::new();
        let mut sessions = HashMap::new();
        for s in store.sessions()? {
            sessions.insert(
                s.id,
                Arc::new(tokio::sync::Mutex::new(Meta {
                    cells: s.cells,
                    limits: s.limits,
                    deleted: false,
                })),
            );
        }
        metrics.sessions_open.set(sessions.len() as i64);
        Ok(Service {
            rt,
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        inst: None,
                        resident: HashMap::new(),
                        order: BTreeMap::new(),
                        tick: 0,
                    })
                })
                .collect(),
            per_shard: config.resident_cap.div_ceil(shards).max(1),
            max_sessions: config.max_sessions,
            backstop_ms: config.backstop_ms,
            store,
            sessions: Mutex::new(sessions),
            metrics,
        })
    }

    fn meta(&self, id: &str) -> Result<Arc<tokio::sync::Mutex<Meta>>, Failure> {
        lock(&self.sessions)
            .get(id)
            .cloned()
            .ok_or(Failure::NotFound)
    }

    fn shard_of(&self, id: &str) -> usize {
        let h = u64::from_str_radix(id.get(..16).unwrap_or("0"), 16).unwrap_or(0);
        (h % self.shards.len() as u64) as usize
    }

    /// A new session with `limits` (a JSON object, `{}` for the defaults); returns its id.
    pub async fn create(self: &Arc<Self>, limits: &Value) -> Result<String, Failure> {
        // check the limits now, against the defaults, so a bad one is a 400 and not a
        // session that can never be built
        apply_limits(
            Limits {
                time_ms: 0,
                memory_bytes: 0,
                call_depth: 0,
                output_bytes: 0,
            },
            limits,
        )
        .map_err(Failure::Bad)?;
        if lock(&self.sessions).len() >= self.max_sessions {
            return Err(Failure::Full);
        }
        let id = new_id()?;
        let limits = limits.to_string();
        self.store.create(&id, &limits).await.map_err(|e| {
            self.metrics.store_errors.inc();
            Failure::Store(e)
        })?;
        let meta = Meta {
            cells: 0,
            limits,
            deleted: false,
        };
        let mut all = lock(&self.sessions);
        all.insert(id.clone(), Arc::new(tokio::sync::Mutex::new(meta)));
        self.metrics.sessions_open.set(all.len() as i64);
        Ok(id)
    }

    /// Runs a cell; the reply is sent only after a successful cell is in the journal.
    pub async fn execute(
        self: &Arc<Self>,
        id: &str,
        source: String,
    ) -> Result<CellResult, Failure> {
        let t = Instant::now();
        let meta = self.meta(id)?;
        let mut meta = meta.lock().await;
        if meta.deleted {
            return Err(Failure::NotFound);
        }
        let (this, sid, limits, cells) = (
            self.clone(),
            id.to_string(),
            meta.limits.clone(),
            meta.cells,
        );
        let src = source.clone();
        // a cell may run for its whole time limit: off the async workers
        let result = tokio::task::spawn_blocking(move || this.run(&sid, &limits, cells, &src))
            .await
            .map_err(|e| Failure::Internal(format!("the cell's worker failed: {e}")))??;
        self.metrics.cells.inc();
        if result.diagnostic.is_none() {
            if let Err(e) = self.store.append(id, meta.cells, &source).await {
                self.metrics.store_errors.inc();
                // the instance holds a cell the journal does not: drop it from memory
                let (this, sid) = (self.clone(), id.to_string());
                let _ = tokio::task::spawn_blocking(move || this.evict(&sid)).await;
                return Err(Failure::Store(e));
            }
            meta.cells += 1;
        } else {
            self.metrics.cells_failed.inc();
        }
        self.metrics.cell_seconds.observe(t.elapsed().as_secs_f64());
        Ok(result)
    }

    /// The session's bindings.
    pub async fn variables(self: &Arc<Self>, id: &str) -> Result<Vec<Variable>, Failure> {
        let meta = self.meta(id)?;
        let meta = meta.lock().await;
        if meta.deleted {
            return Err(Failure::NotFound);
        }
        let (this, sid, limits, cells) = (
            self.clone(),
            id.to_string(),
            meta.limits.clone(),
            meta.cells,
        );
        tokio::task::spawn_blocking(move || this.query_variables(&sid, &limits, cells))
            .await
            .map_err(|e| Failure::Internal(format!("the worker failed: {e}")))?
    }

    /// Forgets a session: out of the store first, then out of memory.
    pub async fn delete(self: &Arc<Self>, id: &str) -> Result<(), Failure> {
        let meta = self.meta(id)?;
        let mut meta = meta.lock().await;
        if meta.deleted {
            return Err(Failure::NotFound);
        }
        self.store.delete(id).await.map_err(|e| {
            self.metrics.store_errors.inc();
            Failure::Store(e)
        })?;
        meta.deleted = true;
        {
            let mut all = lock(&self.sessions);
            all.remove(id);
            self.metrics.sessions_open.set(all.len() as i64);
        }
        let (this, sid) = (self.clone(), id.to_string());
        let _ = tokio::task::spawn_blocking(move || this.evict(&sid)).await;
        Ok(())
    }

    // ---- inside a shard (blocking) -------------------------------------------------------

    fn run(&self, id: &str, limits: &str, cells: u64, source: &str) -> Result<CellResult, Failure> {
        let mut shard = lock(&self.shards[self.shard_of(id)]);
        let (handle, time_ms) = self.resident(&mut shard, id, limits, cells)?;
        let inst = shard
            .inst
            .as_mut()
            .ok_or_else(|| Failure::Internal("no instance".into()))?;
        inst.set_time_ms(time_ms);
        match inst.execute_cell(handle, source) {
            Ok(r) => Ok(r),
            Err(trap) => {
                self.lose_instance(&mut shard);
                // rebuild this session now; the shard's other sessions come back on their
                // next request
                self.resident(&mut shard, id, limits, cells)?;
                Ok(trapped(source, &trap, cells))
            }
        }
    }

    fn query_variables(
        &self,
        id: &str,
        limits: &str,
        cells: u64,
    ) -> Result<Vec<Variable>, Failure> {
        let mut shard = lock(&self.shards[self.shard_of(id)]);
        let (handle, time_ms) = self.resident(&mut shard, id, limits, cells)?;
        let inst = shard
            .inst
            .as_mut()
            .ok_or_else(|| Failure::Internal("no instance".into()))?;
        inst.set_time_ms(time_ms);
        match inst.variables(handle) {
            Ok(v) => Ok(v),
            Err(trap) => {
                self.lose_instance(&mut shard);
                Err(Failure::Internal(format!(
                    "the instance stopped: {}",
                    first_line(&trap)
                )))
            }
        }
    }

    /// Drops a session from memory (its journal stays).
    fn evict(&self, id: &str) {
        let mut shard = lock(&self.shards[self.shard_of(id)]);
        if let Some(r) = shard.resident.remove(id) {
            shard.order.remove(&r.tick);
            if let Some(inst) = shard.inst.as_mut() {
                let _ = inst.drop_session(r.handle);
            }
            self.metrics.sessions_resident.dec();
        }
    }

    /// The instance trapped: it and every session in it are gone from memory.
    fn lose_instance(&self, shard: &mut Shard) {
        self.metrics.traps.inc();
        self.metrics
            .sessions_resident
            .dec_by(shard.resident.len() as i64);
        self.metrics.instances_live.dec();
        shard.inst = None;
        shard.resident.clear();
        shard.order.clear();
    }

    /// The session in memory (rebuilt from its journal if it is not), at the front of the
    /// LRU order; with the time limit its calls are armed with.
    fn resident(
        &self,
        shard: &mut Shard,
        id: &str,
        limits: &str,
        cells: u64,
    ) -> Result<(SessionHandle, u64), Failure> {
        shard.tick += 1;
        let tick = shard.tick;
        if let Some(r) = shard.resident.get_mut(id) {
            let old = std::mem::replace(&mut r.tick, tick);
            let out = (r.handle, r.time_ms);
            shard.order.remove(&old);
            shard.order.insert(tick, id.to_string());
            return Ok(out);
        }
        while shard.resident.len() >= self.per_shard {
            let Some((_, oldest)) = shard.order.pop_first() else {
                break;
            };
            if let Some(r) = shard.resident.remove(&oldest) {
                if let Some(inst) = shard.inst.as_mut() {
                    let _ = inst.drop_session(r.handle);
                }
                self.metrics.evictions.inc();
                self.metrics.sessions_resident.dec();
            }
        }
        if shard.inst.is_none() {
            let mut inst = self.rt.instantiate()?;
            inst.set_backstop_override(self.backstop_ms);
            shard.inst = Some(inst);
            self.metrics.instances_live.inc();
        }
        let journal = if cells > 0 {
            self.store.journal(id)?
        } else {
            Vec::new()
        };
        if journal.len() as u64 != cells {
            return Err(Failure::Internal(format!(
                "the stored journal has {} cells where {cells} were acknowledged",
                journal.len()
            )));
        }
        // a failed wasmtime call (`Err` from the instance) leaves the instance unusable
        let mut trapped = false;
        let built = (|| -> Result<(SessionHandle, u64), Failure> {
            let inst = shard
                .inst
                .as_mut()
                .ok_or_else(|| Failure::Internal("no instance".into()))?;
            let handle = call(inst.new_session(), &mut trapped)?;
            let wanted: Value =
                serde_json::from_str(limits).unwrap_or(Value::Object(Default::default()));
            let defaults = call(inst.get_limits(handle), &mut trapped)?;
            let l = apply_limits(defaults, &wanted).map_err(Failure::Bad)?;
            call(inst.set_limits(handle, l), &mut trapped)?;
            inst.set_time_ms(l.time_ms);
            for (n, cell) in journal.iter().enumerate() {
                let r = call(inst.execute_cell(handle, cell), &mut trapped)?;
                if let Some(d) = r.diagnostic {
                    let _ = inst.drop_session(handle);
                    return Err(Failure::Internal(format!(
                        "replay diverged at journaled cell {}: {}",
                        n + 1,
                        d.message
                    )));
                }
            }
            Ok((handle, l.time_ms))
        })();
        let (handle, time_ms) = match built {
            Ok(b) => b,
            Err(e) => {
                if trapped {
                    self.lose_instance(shard);
                }
                return Err(e);
            }
        };
        if cells > 0 {
            self.metrics.replays.inc();
            self.metrics.replayed_cells.inc_by(cells);
        }
        shard.resident.insert(
            id.to_string(),
            Resident {
                handle,
                tick,
                time_ms,
            },
        );
        shard.order.insert(tick, id.to_string());
        self.metrics.sessions_resident.inc();
        Ok((handle, time_ms))
    }
}

/// A wasmtime call's result; an `Err` (a trap) is noted in `trapped`.
fn call<T>(r: Result<T>, trapped: &mut bool) -> Result<T, Failure> {
    r.map_err(|e| {
        *trapped = true;
        Failure::from(e)
    })
}

/// The reply to a cell whose call trapped: a `limit` diagnostic saying the session was
/// rebuilt from its journal.
fn trapped(source: &str, trap: &anyhow::Error, replayed: u64) -> CellResult {
    CellResult {
        display: None,
        bundle: None,
        outputs: Vec::new(),
        stdout: String::new(),
        diagnostic: Some(Diagnostic {
            kind: DiagnosticKind::Limit,
            message: format!(
                "The engine was stopped ({}); the session was rebuilt in a fresh instance by replaying its {replayed} journaled cells",
                first_line(trap)
            ),
            span: whole(source),
        }),
        performance: Performance {
            total_us: 0.0,
            parse_us: 0.0,
            compile_us: 0.0,
            evaluate_us: 0.0,
            target_met: false,
        },
    }
}
