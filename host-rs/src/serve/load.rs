//! `host-rs load`: drives a running `host-rs serve` over real HTTP and prints what the
//! README's service figures are: memory per idle session, cells/s and latency with many
//! concurrent clients, and whether every reply was right.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub struct Options {
    /// The service's base URL, e.g. `http://127.0.0.1:8765`.
    pub url: String,
    pub token: Option<String>,
    /// Idle sessions to open first (three bindings each), measuring the service's memory.
    pub idle: usize,
    /// Concurrent clients, each with a session of its own.
    pub clients: usize,
    /// Cells each client sends, one after another.
    pub cells: usize,
    /// Each client sends a cell every this many milliseconds (a user at a notebook);
    /// 0: the next as soon as the last is answered (the most the service can do).
    pub interval_ms: u64,
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Client {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.url));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn create(&self) -> Result<String> {
        let r = self.req(reqwest::Method::POST, "/sessions").send().await?;
        if r.status().as_u16() != 201 {
            bail!("POST /sessions: {}", r.status());
        }
        let v: Value = r.json().await?;
        v["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("POST /sessions gave no id"))
    }

    async fn cell(&self, id: &str, source: &str) -> Result<Value> {
        let r = self
            .req(reqwest::Method::POST, &format!("/sessions/{id}/cells"))
            .json(&json!({ "source": source }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!(
                "POST cells: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
        }
        Ok(r.json().await?)
    }

    async fn resident_bytes(&self) -> Result<u64> {
        let text = self
            .req(reqwest::Method::GET, "/metrics")
            .send()
            .await?
            .text()
            .await?;
        text.lines()
            .find(|l| l.starts_with("ruchy_process_resident_bytes "))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow!("no ruchy_process_resident_bytes in /metrics"))
    }
}

/// A number in [0, 1) from a session id (random hex), to spread clients' start times.
fn rand_fraction(id: &str) -> f64 {
    u32::from_str_radix(id.get(..8).unwrap_or("0"), 16).unwrap_or(0) as f64
        / (u32::MAX as f64 + 1.0)
}

/// The `p` quantile (0..=1) of sorted samples, nearest rank; 0 for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the load; errors only if the service cannot be reached at all. Returns whether every
/// reply was right.
pub fn run(opts: Options) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: Options) -> Result<bool> {
    let client = Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(opts.clients.max(64))
            .timeout(Duration::from_secs(60))
            .build()?,
        url: opts.url.trim_end_matches('/').to_string(),
        token: opts.token.clone(),
    };
    let mut ok = true;
    if opts.idle > 0 {
        let before = client.resident_bytes().await?;
        let t = Instant::now();
        let gate = Arc::new(Semaphore::new(64));
        let mut tasks = Vec::with_capacity(opts.idle);
        for i in 0..opts.idle {
            let (c, gate) = (client.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                let id = c.create().await?;
                c.cell(&id, &format!("let a = {i}")).await?;
                c.cell(&id, "let b = \"two\"").await?;
                c.cell(&id, "let c = [1, 2, 3]").await?;
                anyhow::Ok(())
            }));
        }
        let mut failed = 0;
        for t in tasks {
            if !matches!(t.await, Ok(Ok(()))) {
                failed += 1;
            }
        }
        let after = client.resident_bytes().await?;
        let per = after.saturating_sub(before) as f64 / opts.idle as f64;
        println!(
            "idle: {} sessions (3 bindings each) opened in {:.1} s, {failed} failed; service resident memory {:.1} MB -> {:.1} MB, {:.1} KB per idle session",
            opts.idle,
            t.elapsed().as_secs_f64(),
            before as f64 / 1e6,
            after as f64 / 1e6,
            per / 1e3
        );
        ok &= failed == 0;
    }
    if opts.clients > 0 {
        let t = Instant::now();
        let mut tasks = Vec::with_capacity(opts.clients);
        for _ in 0..opts.clients {
            let c = client.clone();
            let cells = opts.cells;
            let interval = Duration::from_millis(opts.interval_ms);
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(cells);
                let mut errors = 0usize;
                let mut wrong = 0usize;
                let id = match c.create().await {
                    Ok(id) => id,
                    Err(_) => return (lat, cells, 0),
                };
                // every cell adds one; its value says how many came before
                let mut expected = 0;
                // clients start spread over one interval, not all at once
                let start = tokio::time::Instant::now() + interval.mul_f64(rand_fraction(&id));
                for i in 0..cells {
                    if !interval.is_zero() {
                        tokio::time::sleep_until(start + interval * i as u32).await;
                    }
                    let source = if i == 0 { "let mut n = 1" } else { "n += 1" };
                    let t = Instant::now();
                    match c.cell(&id, source).await {
                        Ok(v) => {
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                            expected += 1;
                            if v["display"].as_str() != Some(expected.to_string().as_str()) {
                                wrong += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                }
                (lat, errors, wrong)
            }));
        }
        let mut all = Vec::new();
        let (mut errors, mut wrong) = (0, 0);
        for task in tasks {
            match task.await {
                Ok((lat, e, w)) => {
                    all.extend(lat);
                    errors += e;
                    wrong += w;
                }
                Err(_) => errors += opts.cells,
            }
        }
        let wall = t.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        let pace = if opts.interval_ms == 0 {
            "back to back".to_string()
        } else {
            format!("one per {} ms each", opts.interval_ms)
        };
        println!(
            "load: {} clients x {} cells ({pace}): {} cells in {wall:.2} s, {:.0} cells/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {errors}, wrong {wrong}",
            opts.clients,
            opts.cells,
            all.len(),
            all.len() as f64 / wall,
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or(0.0),
        );
        ok &= errors == 0 && wrong == 0;
    }
    Ok(ok)
}
