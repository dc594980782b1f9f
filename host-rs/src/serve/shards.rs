//! Where sessions live in memory: a few shared instances (shards), each holding many
//! `session` resources, with an LRU cap; a session that is not in memory, or whose memory is
//! not its journal's state, is rebuilt by replaying the journal. Used by both services: the
//! one-process service ([`super::sessions`], journal in redb) and the Restate worker
//! ([`super::restate`], journal in the Virtual Object's state).
//!
//! Layout, chosen by measurement (README "Sessions as a service"): an idle session costs
//! kilobytes of a shard's linear memory where an instance costs over a megabyte. A session
//! belongs to the shard its id hashes to; a shard runs one call at a time, shards run in
//! parallel. Everything here blocks: call it off the async workers.
//!
//! A caller names the journal state it expects with a `version` (the journal's length for the
//! redb service, a digest of its cells for Restate, where another worker may have moved the
//! session on): a resident session with another version is rebuilt from the journal.

use super::metrics::Metrics;
use crate::host::{CellResult, Instance, Limits};
use crate::host::{Runtime, SessionHandle, Variable};
use crate::notebook::{first_line, trap_result};
use anyhow::Result;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

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

/// A session held in a shard's instance.
struct Resident {
    handle: SessionHandle,
    /// Its place in the shard's LRU order.
    tick: u64,
    time_ms: u64,
    /// The journal state its memory holds.
    version: u64,
}

/// One instance and the sessions it holds.
struct Shard {
    inst: Option<Instance>,
    resident: HashMap<String, Resident>,
    /// tick -> session, oldest first.
    order: BTreeMap<u64, String>,
    tick: u64,
}

/// A session as the caller knows it: id, limits (a JSON object; missing fields take the
/// defaults) and the version of its journal.
pub struct Ask<'a> {
    pub id: &'a str,
    pub limits: &'a str,
    pub version: u64,
}

pub struct Shards {
    rt: Runtime,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    backstop_ms: Option<u64>,
    pub metrics: Arc<Metrics>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding a lock would poison it; a shard is rebuilt from the journal if
    // anything is off, so go on
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads a limits object (`time_ms`, `memory_bytes`, `call_depth`, `output_bytes`, each
/// optional) over `base`.
pub fn apply_limits(base: Limits, json: &Value) -> Result<Limits, String> {
    let mut l = base;
    let Some(obj) = json.as_object() else {
        return Err("limits must be an object".into());
    };
    for (k, v) in obj {
        let n = v
            .as_u64()
            .ok_or_else(|| format!("limits.{k} must be a non-negative integer"))?;
        let small = || u32::try_from(n).map_err(|_| format!("limits.{k} is too large"));
        match k.as_str() {
            "time_ms" => l.time_ms = n,
            "memory_bytes" => l.memory_bytes = n,
            "call_depth" => l.call_depth = small()?,
            "output_bytes" => l.output_bytes = small()?,
            _ => {
                return Err(format!(
                    "unknown limit `{k}` (time_ms, memory_bytes, call_depth, output_bytes)"
                ))
            }
        }
    }
    Ok(l)
}

/// A wasmtime call's result; an `Err` (a trap) is noted in `trapped`.
fn call<T>(r: Result<T>, trapped: &mut bool) -> Result<T, Failure> {
    r.map_err(|e| {
        *trapped = true;
        Failure::from(e)
    })
}

impl Shards {
    /// `shards` instances holding at most `resident_cap` sessions between them.
    pub fn new(
        rt: Runtime,
        shards: usize,
        resident_cap: usize,
        backstop_ms: Option<u64>,
        metrics: Arc<Metrics>,
    ) -> Shards {
        let shards = shards.max(1);
        Shards {
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
            per_shard: resident_cap.div_ceil(shards).max(1),
            backstop_ms,
            metrics,
        }
    }

    fn shard_of(&self, id: &str) -> &Mutex<Shard> {
        // ids are random: any 64 of their bits spread them evenly (FNV for other keys)
        let h = u64::from_str_radix(id.get(..16).unwrap_or(""), 16)
            .unwrap_or_else(|_| fnv(FNV_START, id.bytes()));
        &self.shards[(h % self.shards.len() as u64) as usize]
    }

    /// Runs a cell on the session at `ask.version` (rebuilt from `journal()` if needed); a
    /// successful cell moves the resident session to `next_version`.
    pub fn run(
        &self,
        ask: &Ask,
        journal: impl FnOnce() -> Result<Vec<String>, Failure>,
        source: &str,
        next_version: u64,
    ) -> Result<CellResult, Failure> {
        let mut shard = lock(self.shard_of(ask.id));
        let handle = self.resident(&mut shard, ask, journal)?;
        match instance(&mut shard)?.execute_cell(handle, source) {
            Ok(r) => {
                if r.diagnostic.is_none() {
                    if let Some(res) = shard.resident.get_mut(ask.id) {
                        res.version = next_version;
                    }
                }
                Ok(r)
            }
            Err(trap) => {
                // the instance and every session in it are gone from memory; they come back
                // from their journals on their next request
                self.lose_instance(&mut shard);
                Ok(trap_result(
                    source,
                    format!(
                        "The engine was stopped ({}); the session is rebuilt in a fresh instance from its journal of successful cells",
                        first_line(&trap)
                    ),
                ))
            }
        }
    }

    /// The session's bindings.
    pub fn variables(
        &self,
        ask: &Ask,
        journal: impl FnOnce() -> Result<Vec<String>, Failure>,
    ) -> Result<Vec<Variable>, Failure> {
        let mut shard = lock(self.shard_of(ask.id));
        let handle = self.resident(&mut shard, ask, journal)?;
        match instance(&mut shard)?.variables(handle) {
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
    pub fn evict(&self, id: &str) {
        let mut shard = lock(self.shard_of(id));
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

    /// The session in memory at `ask.version` (rebuilt from its journal if it is not), at
    /// the front of the LRU order, with the instance's calls armed with its time limit.
    fn resident(
        &self,
        shard: &mut Shard,
        ask: &Ask,
        journal: impl FnOnce() -> Result<Vec<String>, Failure>,
    ) -> Result<SessionHandle, Failure> {
        shard.tick += 1;
        let tick = shard.tick;
        if let Some(r) = shard.resident.get_mut(ask.id) {
            let old = std::mem::replace(&mut r.tick, tick);
            let (handle, time_ms, version) = (r.handle, r.time_ms, r.version);
            shard.order.remove(&old);
            if version == ask.version {
                shard.order.insert(tick, ask.id.to_string());
                instance(shard)?.set_time_ms(time_ms);
                return Ok(handle);
            }
            // its memory is not its journal's state (moved on elsewhere): rebuild
            shard.resident.remove(ask.id);
            if let Some(inst) = shard.inst.as_mut() {
                let _ = inst.drop_session(handle);
            }
            self.metrics.sessions_resident.dec();
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
        let journal = journal()?;
        // a failed wasmtime call (`Err` from the instance) leaves the instance unusable
        let mut trapped = false;
        let built = (|| -> Result<(SessionHandle, u64), Failure> {
            let inst = instance(shard)?;
            let handle = call(inst.new_session(), &mut trapped)?;
            let wanted: Value =
                serde_json::from_str(ask.limits).unwrap_or(Value::Object(Default::default()));
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
        if !journal.is_empty() {
            self.metrics.replays.inc();
            self.metrics.replayed_cells.inc_by(journal.len() as u64);
        }
        shard.resident.insert(
            ask.id.to_string(),
            Resident {
                handle,
                tick,
                time_ms,
                version: ask.version,
            },
        );
        shard.order.insert(tick, ask.id.to_string());
        self.metrics.sessions_resident.inc();
        Ok(handle)
    }
}

/// The shard's instance (there is one once a session is resident).
fn instance(shard: &mut Shard) -> Result<&mut Instance, Failure> {
    shard
        .inst
        .as_mut()
        .ok_or_else(|| Failure::Internal("no instance".into()))
}

/// Runs `f` off the async workers (a cell may run for its whole time limit).
pub async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::Internal(format!("a worker thread failed: {e}")))
}

/// Checks a limits object before it is kept: a bad one is refused now, not when the session
/// is built.
pub fn check_limits(json: &Value) -> Result<(), String> {
    let zero = Limits {
        time_ms: 0,
        memory_bytes: 0,
        call_depth: 0,
        output_bytes: 0,
    };
    apply_limits(zero, json).map(|_| ())
}

/// A session id: 128 random bits from the OS, as 32 hex digits.
pub fn session_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for a session id: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// FNV-1a of `bytes`, continuing from `h` (start from [`FNV_START`]).
pub fn fnv(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(h, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
