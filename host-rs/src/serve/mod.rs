//! `host-rs serve`: notebook sessions as an HTTP/JSON service, many per process, each cell
//! journaled durably before it is acknowledged.
//!
//! * [`http`]: routes, JSON, the bearer token, body limits.
//! * [`sessions`]: which sessions exist, one cell at a time per session, the journal.
//! * [`shards`]: where sessions live in memory (shared instances, LRU), rebuild by replay.
//! * [`store`]: the journal in an embedded redb file, group commit.
//! * [`metrics`]: `GET /metrics`.
//! * [`restate`]: `serve --restate`, the sessions as a Restate Virtual Object (journal in its
//!   state), for a cluster.
//! * [`load`]: `host-rs load`, the load generator the README's figures come from;
//!   [`cluster_load`]: its `--restate` mode, through Restate's ingress.

pub mod cluster_load;
pub mod http;
pub mod load;
pub mod metrics;
pub mod restate;
pub mod sessions;
pub mod shards;
pub mod store;

use crate::host::Runtime;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `host-rs serve` was asked for.
pub struct Options {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub token: Option<String>,
    pub shards: usize,
    pub resident_cap: usize,
    pub max_sessions: usize,
    pub backstop_ms: Option<u64>,
    /// Serve the sessions as a Restate service instead (no data dir, no token: Restate
    /// holds the journals and fronts the clients).
    pub restate: bool,
    /// Test hook: every N-th journal append is refused.
    pub fail_every: u64,
}

/// Runs the service until SIGINT or SIGTERM. Prints `listening on http://ADDR` (the bound
/// address: `--addr 127.0.0.1:0` picks a free port) once it accepts requests.
pub fn serve(component: &Path, opts: Options) -> Result<()> {
    // an instance per shard, and room for one being rebuilt after a trap
    let rt = Runtime::load_with_slots(component, opts.shards as u32 + 1)?;
    if opts.restate {
        return restate::serve(rt, opts.addr, opts.shards, opts.resident_cap);
    }
    let store = store::Store::open_with(&opts.data_dir, opts.fail_every)?;
    let service = Arc::new(sessions::Service::new(
        rt,
        store,
        sessions::Config {
            shards: opts.shards,
            resident_cap: opts.resident_cap,
            max_sessions: opts.max_sessions,
            backstop_ms: opts.backstop_ms,
        },
    )?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.addr)
            .await
            .with_context(|| format!("listening on {}", opts.addr))?;
        let bound = listener.local_addr()?;
        println!("listening on http://{bound}");
        use std::io::Write;
        std::io::stdout().flush()?;
        axum::serve(listener, http::router(service, opts.token))
            .with_graceful_shutdown(stopped())
            .await?;
        Ok(())
    })
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
