//! The one-process service's sessions: which exist (in memory or only in the store), one
//! cell at a time per session, and the journal in redb ([`super::store`]); where sessions
//! live in memory is [`super::shards`].
//!
//! Invariants:
//! * One cell at a time per session: a session's [`Meta`] lock is held from the start of its
//!   cell until the cell is journaled (or refused), so the next cell always builds on a
//!   journaled state.
//! * A cell is acknowledged only after the store made it durable; a cell the store refused is
//!   taken back by dropping the session from memory, so its next cell is rebuilt from the
//!   journal.
//! * Memory is a cache of the journal (the version a shard checks is the journal's length):
//!   the engine's generator is seeded per session and a failed cell gives back what it drew,
//!   so replay gives the same state.

use super::metrics::Metrics;
use super::shards::{blocking, check_limits, lock, session_id, Ask, Failure, Shards};
use super::store::Store;
use crate::host::{CellResult, Runtime, Variable};
use anyhow::Result;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the service knows of a session outside any instance.
pub struct Meta {
    /// Cells in its journal.
    cells: u64,
    /// The limits it was created with (JSON object; missing fields take the defaults).
    limits: String,
    deleted: bool,
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
    shards: Shards,
    max_sessions: usize,
    store: Store,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Meta>>>>,
    pub metrics: Arc<Metrics>,
}

impl Service {
    /// Opens the service over `store`, knowing every session the store holds.
    pub fn new(rt: Runtime, store: Store, config: Config) -> Result<Service> {
        let metrics = Arc::new(Metrics::new());
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
            shards: Shards::new(
                rt,
                config.shards,
                config.resident_cap,
                config.backstop_ms,
                metrics.clone(),
            ),
            max_sessions: config.max_sessions,
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

    /// A new session with `limits` (a JSON object, `{}` for the defaults); returns its id.
    pub async fn create(self: &Arc<Self>, limits: &Value) -> Result<String, Failure> {
        // a bad limit is a 400 now, not a session that can never be built
        check_limits(limits).map_err(Failure::Bad)?;
        if lock(&self.sessions).len() >= self.max_sessions {
            return Err(Failure::Full);
        }
        let id = session_id()?;
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
        let src = source.clone();
        let result = self
            .in_shard(id, &meta, move |this, ask| {
                let journal = || this.journal(ask.id, ask.version);
                this.shards.run(ask, journal, &src, ask.version + 1)
            })
            .await?;
        self.metrics.cells.inc();
        if result.diagnostic.is_none() {
            if let Err(e) = self.store.append(id, meta.cells, &source).await {
                self.metrics.store_errors.inc();
                // the instance holds a cell the journal does not: drop it from memory
                self.evict(id).await;
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
        self.in_shard(id, &meta, |this, ask| {
            this.shards
                .variables(ask, || this.journal(ask.id, ask.version))
        })
        .await
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
        self.evict(id).await;
        Ok(())
    }

    /// Runs `f` on the shards, off the async workers, with the session as `meta` knows it
    /// (its journal's length is the version).
    async fn in_shard<R: Send + 'static>(
        self: &Arc<Self>,
        id: &str,
        meta: &Meta,
        f: impl FnOnce(&Service, &Ask) -> Result<R, Failure> + Send + 'static,
    ) -> Result<R, Failure> {
        let (this, id, limits, cells) = (
            self.clone(),
            id.to_string(),
            meta.limits.clone(),
            meta.cells,
        );
        blocking(move || {
            let ask = Ask {
                id: &id,
                limits: &limits,
                version: cells,
            };
            f(&this, &ask)
        })
        .await?
    }

    /// Drops a session from memory (its journal stays).
    async fn evict(self: &Arc<Self>, id: &str) {
        let (this, id) = (self.clone(), id.to_string());
        let _ = blocking(move || this.shards.evict(&id)).await;
    }

    /// A session's journal from the store, which must hold the `cells` acknowledged.
    fn journal(&self, id: &str, cells: u64) -> Result<Vec<String>, Failure> {
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
        Ok(journal)
    }
}
