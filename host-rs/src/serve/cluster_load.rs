//! `host-rs load --restate INGRESS,...`: sessions driven through Restate's ingress (the
//! `RuchySession` object of `serve --restate`), spread over every ingress given, each cell
//! sent with an idempotency key and retried on another ingress until it is answered. Prints
//! `half` once half the cells are answered (`cargo xtask cluster` kills a worker and a node
//! then), checks every reply and every session's final state, and ends with one line:
//! `cluster: S sessions, C cells, lost L, wrong W, p50 .. ms, p99 .. ms`.

use super::load::percentile;
use super::shards::session_id;
use anyhow::Result;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub struct Options {
    pub ingress: Vec<String>,
    pub sessions: usize,
    pub cells: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// How long one cell may take to be answered, retries included.
    pub deadline: Duration,
}

struct Shared {
    http: reqwest::Client,
    ingress: Vec<String>,
    deadline: Duration,
    gate: Semaphore,
    answered: AtomicUsize,
    half: usize,
}

impl Shared {
    /// POSTs `body` to `path` on the ingresses in turn (starting at `start`) until one
    /// answers 200; `None` when the deadline passes.
    async fn call(
        &self,
        start: usize,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Option<Value> {
        let t = Instant::now();
        let mut attempt = start;
        while t.elapsed() < self.deadline {
            let base = &self.ingress[attempt % self.ingress.len()];
            attempt += 1;
            let mut req = self
                .http
                .post(format!("{base}{path}"))
                .timeout(Duration::from_secs(10));
            if !body.is_null() {
                req = req.json(body);
            }
            if let Some(k) = key {
                req = req.header("idempotency-key", k);
            }
            let _permit = self.gate.acquire().await.ok()?;
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    if let Ok(v) = r.json::<Value>().await {
                        return Some(v);
                    }
                }
                _ => {}
            }
            drop(_permit);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

/// Runs the load; returns whether nothing was lost, wrong or unanswered.
pub fn run(opts: Options) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: Options) -> Result<bool> {
    let total = opts.sessions * opts.cells;
    let shared = Arc::new(Shared {
        http: reqwest::Client::builder().build()?,
        ingress: opts
            .ingress
            .iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect(),
        deadline: opts.deadline,
        gate: Semaphore::new(opts.concurrency.max(1)),
        answered: AtomicUsize::new(0),
        half: total / 2,
    });
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..opts.sessions {
        let (shared, cells, id) = (shared.clone(), opts.cells, session_id()?);
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut wrong, mut unanswered) = (Vec::new(), 0usize, 0usize);
            let mut answered = 0u64;
            for i in 0..cells {
                let source = if i == 0 { "let mut n = 1" } else { "n += 1" };
                let t = Instant::now();
                let key = format!("{id}-{i}");
                let path = format!("/RuchySession/{id}/cell");
                match shared
                    .call(s + i, &path, Some(&key), &json!({ "source": source }))
                    .await
                {
                    Some(v) => {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        answered += 1;
                        if v["display"].as_str() != Some((i + 1).to_string().as_str()) {
                            wrong += 1;
                        }
                        let n = shared.answered.fetch_add(1, Ordering::SeqCst) + 1;
                        if n == shared.half {
                            println!("half: {n} of {total} cells answered");
                            use std::io::Write;
                            let _ = std::io::stdout().flush();
                        }
                    }
                    None => {
                        unanswered += 1;
                        break;
                    }
                }
            }
            // the final state: every answered cell is in the session
            let path = format!("/RuchySession/{id}/variables");
            let lost = match shared.call(s, &path, None, &json!(null)).await {
                Some(v) => {
                    let n = v["variables"]
                        .as_array()
                        .and_then(|vars| vars.iter().find(|x| x["name"] == "n"))
                        .and_then(|x| x["display"].as_str())
                        .and_then(|d| d.parse::<u64>().ok())
                        .unwrap_or(0);
                    if n < answered {
                        (answered - n) as usize
                    } else {
                        if n > answered + 1 {
                            wrong += 1;
                        }
                        0
                    }
                }
                None => {
                    unanswered += 1;
                    answered as usize
                }
            };
            (lat, wrong, unanswered, lost)
        }));
    }
    let mut all = Vec::new();
    let (mut wrong, mut unanswered, mut lost) = (0, 0, 0);
    for task in tasks {
        match task.await {
            Ok((lat, w, u, l)) => {
                all.extend(lat);
                wrong += w;
                unanswered += u;
                lost += l;
            }
            Err(_) => unanswered += 1,
        }
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&all, p);
    println!(
        "cluster: {} sessions, {} cells, lost {lost}, wrong {wrong}, p50 {:.1} ms, p99 {:.1} ms ({unanswered} unanswered, {:.1} s)",
        opts.sessions,
        all.len(),
        pct(0.5),
        pct(0.99),
        t.elapsed().as_secs_f64()
    );
    Ok(lost == 0 && wrong == 0 && unanswered == 0)
}
