//! `host-rs serve --restate`: the same sessions as a Restate service, for more than one
//! machine. Restate keeps each session's journal of successful cells in the durable state of
//! a Virtual Object keyed by the session id, runs one exclusive call per key at a time, and
//! retries a call on another worker when one dies; the workers (this process, several of
//! them) keep sessions in memory as a cache ([`super::shards`]) and rebuild them from the
//! journal Restate hands them.
//!
//! Object `RuchySession`, called through Restate's ingress:
//! * `POST /RuchySession/{id}/cell` `{"source": ...}` -> the cell result (as `eval --json`)
//! * `POST /RuchySession/{id}/variables` -> `{"variables": [...]}`
//! * `POST /RuchySession/{id}/limits` `{"time_ms": ..}` -> `{}` (before the first cell)
//!
//! Ids are the caller's (128 random bits, as `host-rs load --restate` makes them); send
//! cells with an `idempotency-key` so a retried request is answered once.

use super::metrics::Metrics;
use super::shards::{blocking, check_limits, fnv, Ask, Failure, Shards, FNV_START};
use crate::host::Runtime;
use crate::json;
use anyhow::{Context, Result};
use restate_sdk::prelude::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

const JOURNAL: &str = "journal";
const LIMITS: &str = "limits";

/// The journal's identity: a digest of its cells in order (and so of its length). A worker
/// whose resident session has another digest rebuilds it: another worker moved it on.
fn digest(journal: &[String]) -> u64 {
    journal.iter().fold(FNV_START, |h, c| chain(h, c))
}

/// The digest of a journal one cell longer: FNV over the cell's bytes and a separator.
fn chain(h: u64, cell: &str) -> u64 {
    fnv(h, cell.bytes().chain(std::iter::once(0xff)))
}

fn handler_error(f: Failure) -> HandlerError {
    match f {
        // a request that can never succeed: answer it
        Failure::Bad(m) => TerminalError::new_with_code(400, m).into(),
        Failure::NotFound => TerminalError::new_with_code(404, "no such session").into(),
        // anything else (a trap while replaying, ...): Restate retries, maybe elsewhere
        Failure::Full | Failure::Store(_) | Failure::Internal(_) => {
            HandlerError::from(format!("{f:?}"))
        }
    }
}

pub struct RuchySession {
    shards: Arc<Shards>,
}

impl RuchySession {
    async fn state(ctx: &ObjectContext<'_>) -> Result<(Vec<String>, String), HandlerError> {
        let journal = ctx
            .get::<Json<Vec<String>>>(JOURNAL)
            .await?
            .map(Json::into_inner)
            .unwrap_or_default();
        let limits = ctx
            .get::<String>(LIMITS)
            .await?
            .unwrap_or_else(|| "{}".into());
        Ok((journal, limits))
    }
}

#[restate_sdk::object]
impl RuchySession {
    /// Runs a cell; a successful one is appended to the journal, which Restate makes durable
    /// with the call's completion before the caller hears back.
    #[handler]
    async fn cell(
        &self,
        ctx: ObjectContext<'_>,
        req: Json<Value>,
    ) -> Result<Json<Value>, HandlerError> {
        let Some(source) = req.into_inner()["source"].as_str().map(str::to_string) else {
            return Err(
                TerminalError::new_with_code(400, "the body needs \"source\": a string").into(),
            );
        };
        let (mut journal, limits) = Self::state(&ctx).await?;
        let version = digest(&journal);
        let next = chain(version, &source);
        let (shards, id, cells, src) = (
            self.shards.clone(),
            ctx.key().to_string(),
            journal.clone(),
            source.clone(),
        );
        // the cell runs as a journaled step: should this call be retried (its worker killed
        // after the cell ran), the retry gets this result back instead of running the cell
        // again, so the journal Restate keeps never depends on timing (a cell's reply carries
        // its timings, and a cell near its time limit could end either way)
        let reply = ctx
            .run(|| async move {
                let metrics = shards.metrics.clone();
                let result = blocking(move || {
                    let ask = Ask {
                        id: &id,
                        limits: &limits,
                        version,
                    };
                    shards.run(&ask, || Ok(cells), &src, next)
                })
                .await
                .and_then(|r| r)
                .map_err(handler_error)?;
                metrics.cells.inc();
                if result.diagnostic.is_some() {
                    metrics.cells_failed.inc();
                }
                Ok(Json(json::cell_result(&result)))
            })
            .await?
            .into_inner();
        if reply["diagnostic"].is_null() {
            journal.push(source);
            ctx.set(JOURNAL, Json(journal));
        }
        Ok(Json(reply))
    }

    /// The session's bindings.
    #[handler]
    async fn variables(&self, ctx: ObjectContext<'_>) -> Result<Json<Value>, HandlerError> {
        let (journal, limits) = Self::state(&ctx).await?;
        let (shards, id) = (self.shards.clone(), ctx.key().to_string());
        let vars = blocking(move || {
            let ask = Ask {
                id: &id,
                limits: &limits,
                version: digest(&journal),
            };
            shards.variables(&ask, || Ok(journal))
        })
        .await
        .and_then(|r| r)
        .map_err(handler_error)?;
        Ok(Json(json!({ "variables": json::variables(&vars) })))
    }

    /// Sets the session's limits; only before its first cell (a journal replays under the
    /// limits it ran with).
    #[handler]
    async fn limits(
        &self,
        ctx: ObjectContext<'_>,
        limits: Json<Value>,
    ) -> Result<Json<Value>, HandlerError> {
        let limits = limits.into_inner();
        check_limits(&limits).map_err(|m| TerminalError::new_with_code(400, m))?;
        let (journal, _) = Self::state(&ctx).await?;
        if !journal.is_empty() {
            return Err(
                TerminalError::new_with_code(409, "limits are set before the first cell").into(),
            );
        }
        ctx.set(LIMITS, limits.to_string());
        Ok(Json(json!({})))
    }
}

/// Serves the `RuchySession` object on `addr` until SIGINT or SIGTERM (prints `listening on
/// http://ADDR` first); register it with Restate's admin API.
pub fn serve(rt: Runtime, addr: SocketAddr, shards: usize, resident_cap: usize) -> Result<()> {
    let metrics = Arc::new(Metrics::new());
    let shards = Arc::new(Shards::new(rt, shards, resident_cap, None, metrics));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        println!("listening on http://{}", listener.local_addr()?);
        use std::io::Write;
        std::io::stdout().flush()?;
        let endpoint = Endpoint::builder().bind(RuchySession { shards }).build();
        HttpServer::new(endpoint)
            .serve_with_cancel(listener, super::stopped())
            .await;
        Ok(())
    })
}
