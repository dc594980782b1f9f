//! `host-rs serve` over real HTTP on localhost: the API and its errors, the bearer token,
//! sessions evicted and rebuilt by replay, a trap that takes an instance down, concurrent
//! clients, and `kill -9` while clients are sending cells.

use host_rs::build::{ensure_component, workspace_root};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A `host-rs serve` process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Dir, extra: &[&str]) -> Server {
        let component = ensure_component(&workspace_root()).expect("the component");
        let mut child = Command::new(env!("CARGO_BIN_EXE_host-rs"))
            .arg("--component")
            .arg(&component)
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&data.0)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting host-rs serve");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("expected `listening on URL`, got {line:?}"))
            .to_string();
        Server { child, url }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A data directory under `target/serve-tests`, removed when dropped (after the servers
/// using it, which are declared after it).
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_dir(name: &str) -> Dir {
    let d = workspace_root()
        .join("target")
        .join("serve-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    Dir(d)
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

fn create(c: &Client, url: &str, body: Value) -> String {
    let r = c
        .post(format!("{url}/sessions"))
        .json(&body)
        .send()
        .expect("POST /sessions");
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().expect("JSON");
    let id = v["id"].as_str().expect("an id").to_string();
    assert_eq!(id.len(), 32, "128 bits as hex: {id}");
    id
}

fn cell(c: &Client, url: &str, id: &str, source: &str) -> Value {
    let r = c
        .post(format!("{url}/sessions/{id}/cells"))
        .json(&json!({ "source": source }))
        .send()
        .expect("POST cells");
    assert_eq!(r.status().as_u16(), 200, "{source}");
    r.json().expect("JSON")
}

fn display(c: &Client, url: &str, id: &str, source: &str) -> String {
    let v = cell(c, url, id, source);
    assert!(v["diagnostic"].is_null(), "{source}: {v}");
    v["display"].as_str().unwrap_or("nil").to_string()
}

fn metric(c: &Client, url: &str, name: &str) -> f64 {
    let text = c
        .get(format!("{url}/metrics"))
        .send()
        .expect("GET /metrics")
        .text()
        .expect("text");
    text.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[test]
fn the_api_and_its_errors() {
    let dir = data_dir("api");
    let server = Server::start(&dir, &[]);
    let (c, url) = (client(), server.url.as_str());
    let a = create(&c, url, json!({}));
    let b = create(&c, url, json!({}));
    assert_ne!(a, b);
    assert_eq!(display(&c, url, &a, "let x = 41 + 1"), "42");
    // a failing cell is a 200 with its diagnostic, and the session keeps its bindings
    let v = cell(&c, url, &a, "x = 5; x / 0");
    assert_eq!(v["diagnostic"]["kind"], "runtime");
    assert_eq!(v["diagnostic"]["span"]["line"], 1);
    assert_eq!(display(&c, url, &a, "x"), "42");
    // rich output crosses as bundles
    let v = cell(&c, url, &a, "[{a: 1}]");
    let mimes: Vec<&str> = v["bundle"]
        .as_array()
        .expect("a bundle")
        .iter()
        .filter_map(|m| m["mime"].as_str())
        .collect();
    assert!(mimes.contains(&"text/html"), "{mimes:?}");
    // sessions never see each other's bindings
    let v = cell(&c, url, &b, "x");
    assert!(v["diagnostic"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("Undefined variable: x"));
    let vars: Value = c
        .get(format!("{url}/sessions/{a}/variables"))
        .send()
        .expect("GET variables")
        .json()
        .expect("JSON");
    assert_eq!(vars["variables"][0]["name"], "x");
    assert_eq!(vars["variables"][0]["display"], "42");
    // errors: bad JSON, no source, unknown session, a body over 1 MiB, unknown path
    let status = |r: reqwest::blocking::Response| r.status().as_u16();
    let cells = format!("{url}/sessions/{a}/cells");
    assert_eq!(status(c.post(&cells).body("{bad").send().unwrap()), 400);
    assert_eq!(
        status(c.post(&cells).body("{\"src\": 1}").send().unwrap()),
        400
    );
    assert_eq!(status(c.post(&cells).body("[1]").send().unwrap()), 400);
    let unknown = format!("{url}/sessions/{}/cells", "0".repeat(32));
    let r = c
        .post(&unknown)
        .json(&json!({"source": "1"}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.json::<Value>().unwrap()["error"].is_string());
    let big = json!({ "source": "x".repeat(1 << 20) }).to_string();
    assert_eq!(status(c.post(&cells).body(big).send().unwrap()), 413);
    assert_eq!(status(c.get(format!("{url}/nowhere")).send().unwrap()), 404);
    assert_eq!(
        status(
            c.post(format!("{url}/sessions"))
                .json(&json!({"limits": {"time_ms": "soon"}}))
                .send()
                .unwrap()
        ),
        400
    );
    // the session's own limits apply: a runaway cell ends with a limit diagnostic
    let quick = create(&c, url, json!({"limits": {"time_ms": 100}}));
    display(&c, url, &quick, "let kept = 7");
    let v = cell(&c, url, &quick, "loop { }");
    assert_eq!(v["diagnostic"]["kind"], "limit");
    assert_eq!(display(&c, url, &quick, "kept"), "7");
    // delete
    assert_eq!(
        status(c.delete(format!("{url}/sessions/{b}")).send().unwrap()),
        204
    );
    assert_eq!(
        status(
            c.post(format!("{url}/sessions/{b}/cells"))
                .json(&json!({"source": "1"}))
                .send()
                .unwrap()
        ),
        404
    );
    assert_eq!(metric(&c, url, "ruchy_sessions_open"), 2.0);
    assert!(metric(&c, url, "ruchy_cells_total") >= 8.0);
    assert!(metric(&c, url, "ruchy_cell_seconds_count") >= 8.0);
}

#[test]
fn a_token_is_required_when_set() {
    let dir = data_dir("token");
    let server = Server::start(&dir, &["--token", "s3cret"]);
    let (c, url) = (client(), server.url.as_str());
    for auth in [None, Some("Bearer wrong"), Some("s3cret")] {
        let mut r = c.post(format!("{url}/sessions"));
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        assert_eq!(r.send().unwrap().status().as_u16(), 401, "{auth:?}");
    }
    assert_eq!(
        c.get(format!("{url}/metrics"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let r = c
        .post(format!("{url}/sessions"))
        .bearer_auth("s3cret")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

#[test]
fn evicted_and_trapped_sessions_come_back_by_replay() {
    // one instance holding at most two sessions; wasmtime stops any call after 300 ms
    let dir = data_dir("replay");
    let server = Server::start(
        &dir,
        &[
            "--shards",
            "1",
            "--resident-cap",
            "2",
            "--test-backstop-ms",
            "300",
        ],
    );
    let (c, url) = (client(), server.url.as_str());
    let ids: Vec<String> = (0..5).map(|_| create(&c, url, json!({}))).collect();
    for (i, id) in ids.iter().enumerate() {
        display(&c, url, id, &format!("let v = {i}"));
        display(&c, url, id, "fun twice(n) { n * 2 }");
    }
    for _ in 0..2 {
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(display(&c, url, id, "twice(v)"), (2 * i).to_string());
        }
    }
    assert!(metric(&c, url, "ruchy_evictions_total") >= 3.0);
    assert!(metric(&c, url, "ruchy_replays_total") >= 3.0);
    // replay is deterministic: the generator draws the same numbers, a failed cell's included
    let plain = create(&c, url, json!({}));
    let moved = create(&c, url, json!({}));
    for id in [&plain, &moved] {
        display(&c, url, id, "let r1 = random()");
        assert!(!cell(&c, url, id, "let lost = random(); 1 / 0")["diagnostic"].is_null());
    }
    for id in &ids {
        display(&c, url, id, "v"); // pushes `moved` out of memory
    }
    assert_eq!(
        display(&c, url, &plain, "random()"),
        display(&c, url, &moved, "random()")
    );
    // a call that traps takes the instance down: the cell gets a limit diagnostic, every
    // session of that instance (its own included) keeps its bindings
    let v = cell(&c, url, &ids[4], "let mut i = 0\nwhile true { i += 1 }");
    assert_eq!(v["diagnostic"]["kind"], "limit", "{v}");
    assert!(
        v["diagnostic"]["message"]
            .as_str()
            .unwrap()
            .contains("rebuilt"),
        "{v}"
    );
    assert_eq!(metric(&c, url, "ruchy_traps_total"), 1.0);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(display(&c, url, id, "twice(v)"), (2 * i).to_string());
    }
}

#[test]
fn a_cell_the_store_refuses_is_not_acknowledged_and_leaves_nothing() {
    // the store refuses every third journal append, as a full disk would
    let dir = data_dir("refused");
    let server = Server::start(&dir, &["--test-fail-every", "3"]);
    let (c, url) = (client(), server.url.as_str());
    let id = create(&c, url, json!({}));
    display(&c, url, &id, "let mut n = 0"); // append 1
    assert_eq!(display(&c, url, &id, "n += 1"), "1"); // append 2
    let r = c
        .post(format!("{url}/sessions/{id}/cells"))
        .json(&json!({ "source": "n += 1" })) // append 3: refused
        .send()
        .expect("POST cells");
    assert_eq!(r.status().as_u16(), 503);
    let v: Value = r.json().expect("JSON");
    assert!(v["error"].as_str().unwrap().contains("not recorded"), "{v}");
    // the refused cell left nothing behind: n is what the journal says
    assert_eq!(display(&c, url, &id, "n"), "1"); // append 4
    assert_eq!(display(&c, url, &id, "n += 10"), "11"); // append 5
    assert!(metric(&c, url, "ruchy_store_errors_total") >= 1.0);
    assert!(metric(&c, url, "ruchy_replays_total") >= 1.0);
}

#[test]
fn concurrent_clients_each_get_their_own_results() {
    let dir = data_dir("concurrent");
    let server = Server::start(&dir, &["--shards", "3", "--resident-cap", "8"]);
    let url = server.url.clone();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let c = client();
                let id = create(&c, &url, json!({}));
                display(&c, &url, &id, &format!("let mut acc = [{t}]"));
                for i in 0..30 {
                    display(&c, &url, &id, &format!("acc.push({i})"));
                }
                display(&c, &url, &id, "acc.len() * 1000 + acc[0]")
            })
        })
        .collect();
    for (t, th) in threads.into_iter().enumerate() {
        assert_eq!(th.join().expect("a client"), (31_000 + t).to_string());
    }
}

#[test]
fn every_acknowledged_cell_survives_kill_9() {
    let dir = data_dir("kill");
    let mut server = Server::start(&dir, &[]);
    let url = server.url.clone();
    let c = client();
    let ids: Vec<String> = (0..8).map(|_| create(&c, &url, json!({}))).collect();
    for id in &ids {
        display(&c, &url, id, "let mut n = 0");
    }
    // each client adds one per cell and remembers the last value it was told
    let acked: Vec<Arc<AtomicU64>> = ids.iter().map(|_| Arc::new(AtomicU64::new(0))).collect();
    let threads: Vec<_> = ids
        .iter()
        .zip(&acked)
        .map(|(id, seen)| {
            let (url, id, seen) = (url.clone(), id.clone(), seen.clone());
            std::thread::spawn(move || {
                let c = client();
                loop {
                    let r = c
                        .post(format!("{url}/sessions/{id}/cells"))
                        .json(&json!({ "source": "n += 1" }))
                        .send();
                    let Ok(r) = r else { break };
                    let Ok(v) = r.json::<Value>() else { break };
                    let n: u64 = v["display"]
                        .as_str()
                        .and_then(|d| d.parse().ok())
                        .expect("a count");
                    seen.store(n, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let t = Instant::now();
    while acked.iter().map(|a| a.load(Ordering::SeqCst)).sum::<u64>() < 400
        && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    for th in threads {
        th.join().expect("a client");
    }
    let server = Server::start(&dir, &[]);
    let mut total = 0;
    for (id, seen) in ids.iter().zip(&acked) {
        let seen = seen.load(Ordering::SeqCst);
        let n: u64 = display(&c, &server.url, id, "n").parse().expect("a count");
        // every acknowledged cell is there; one more may be, whose reply was lost in the kill
        assert!(n == seen || n == seen + 1, "acknowledged {seen}, found {n}");
        total += seen;
        assert_eq!(display(&c, &server.url, id, "n += 1"), (n + 1).to_string());
    }
    assert!(
        total >= 400,
        "the clients got {total} replies before the kill"
    );
}
