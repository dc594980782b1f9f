//! `GET /metrics`: the service's counters in Prometheus' text format (prometheus-client).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub struct Metrics {
    registry: Registry,
    /// Sessions that exist (in memory or only in the store).
    pub sessions_open: Gauge,
    /// Sessions whose state is in an instance's memory now.
    pub sessions_resident: Gauge,
    /// Instances of the component alive.
    pub instances_live: Gauge,
    /// Cells run, and those of them that failed (a diagnostic).
    pub cells: Counter,
    pub cells_failed: Counter,
    /// Time from a cell request's arrival to its reply being ready (journal write included).
    pub cell_seconds: Histogram,
    /// Sessions rebuilt by replaying their journal, and the cells those replays ran.
    pub replays: Counter,
    pub replayed_cells: Counter,
    /// Instances lost to a trap (each takes its resident sessions' memory with it; they are
    /// rebuilt by replay on their next request).
    pub traps: Counter,
    /// Sessions sent out of memory to make room (LRU).
    pub evictions: Counter,
    /// Writes the store refused or failed.
    pub store_errors: Counter,
    /// This process's resident memory, read when scraped.
    pub resident_bytes: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ruchy");
        let m = Metrics {
            sessions_open: Gauge::default(),
            sessions_resident: Gauge::default(),
            instances_live: Gauge::default(),
            cells: Counter::default(),
            cells_failed: Counter::default(),
            // 50 us .. ~1.6 s
            cell_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            replays: Counter::default(),
            replayed_cells: Counter::default(),
            traps: Counter::default(),
            evictions: Counter::default(),
            store_errors: Counter::default(),
            resident_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "sessions_open",
            "Sessions that exist",
            m.sessions_open.clone(),
        );
        registry.register(
            "sessions_resident",
            "Sessions held in an instance's memory",
            m.sessions_resident.clone(),
        );
        registry.register(
            "instances_live",
            "Live instances of the component",
            m.instances_live.clone(),
        );
        registry.register("cells", "Cells run", m.cells.clone());
        registry.register(
            "cells_failed",
            "Cells that ended with a diagnostic",
            m.cells_failed.clone(),
        );
        registry.register(
            "cell_seconds",
            "Cell request latency in the service, journal write included",
            m.cell_seconds.clone(),
        );
        registry.register(
            "replays",
            "Sessions rebuilt by replaying their journal",
            m.replays.clone(),
        );
        registry.register(
            "replayed_cells",
            "Cells run by replays",
            m.replayed_cells.clone(),
        );
        registry.register("traps", "Instances lost to a trap", m.traps.clone());
        registry.register(
            "evictions",
            "Sessions sent out of memory (LRU)",
            m.evictions.clone(),
        );
        registry.register(
            "store_errors",
            "Journal writes refused or failed",
            m.store_errors.clone(),
        );
        registry.register(
            "process_resident_bytes",
            "Resident memory of the service process",
            m.resident_bytes.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The text a Prometheus scrape gets.
    pub fn render(&self) -> String {
        self.resident_bytes.set(resident_bytes() as i64);
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// VmRSS of this process in bytes (0 where /proc is not there).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
