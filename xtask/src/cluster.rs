//! `cargo xtask cluster`: the service beyond one machine, on localhost. Starts a 3-node
//! Restate cluster (the server from `cluster/`'s npm lockfile; replicated metadata and log,
//! replication 2) and 2 workers (`host-rs serve --restate`) behind a round-robin TCP proxy,
//! registers them, runs `host-rs load --restate` through all three ingresses, kills one
//! worker and one Restate node with SIGKILL when half the cells are answered, and ends with
//! the load's line: `cluster: S sessions, C cells, lost L, wrong W, p50 .. ms, p99 .. ms`.
//! Fails unless nothing was lost, wrong or unanswered. Stops everything it started.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SESSIONS: &str = "200";
const CELLS: &str = "20";
/// The run after the build, start-up included, must end within this.
const BUDGET: Duration = Duration::from_secs(300);

/// Children killed (SIGKILL) when dropped.
struct Procs(Vec<(String, Child)>);

impl Procs {
    fn kill(&mut self, name: &str) {
        for (n, c) in &mut self.0 {
            if n == name {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// One HTTP/1.1 request on localhost; the status and body.
fn http(method: &str, port: u16, path: &str, body: &str) -> Result<(u16, String), String> {
    let addr = ("127.0.0.1", port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not HTTP: {out:.80}"))?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn wait_for(what: &str, deadline: Instant, mut ok: impl FnMut() -> bool) -> Result<(), String> {
    while Instant::now() < deadline {
        if ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("cluster: timed out waiting for {what}"))
}

struct Node {
    name: String,
    node_port: u16,
    admin: u16,
    ingress: u16,
}

fn node_config(n: &Node, all: &[Node], dir: &Path, first: bool) -> String {
    let addresses: Vec<String> = all
        .iter()
        .map(|m| format!("\"http://127.0.0.1:{}\"", m.node_port))
        .collect();
    format!(
        r#"node-name = "{name}"
cluster-name = "ruchy-cluster"
base-dir = "{dir}"
auto-provision = {first}
default-replication = 2
listen-mode = "tcp"
bind-address = "127.0.0.1:{node}"
advertised-address = "http://127.0.0.1:{node}"

[metadata-client]
addresses = [{addresses}]

[admin]
bind-address = "127.0.0.1:{admin}"

[ingress]
bind-address = "127.0.0.1:{ingress}"

[bifrost]
default-provider = "replicated"
"#,
        name = n.name,
        dir = dir.display(),
        node = n.node_port,
        admin = n.admin,
        ingress = n.ingress,
        addresses = addresses.join(", "),
    )
}

/// A round-robin TCP proxy in front of the workers: each connection goes to the next worker
/// that accepts one (a killed worker refuses, and the next is tried).
fn proxy(
    listener: TcpListener,
    backends: Vec<u16>,
    stop: Arc<AtomicBool>,
    used: Arc<Vec<AtomicUsize>>,
) {
    let next = AtomicUsize::new(0);
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = conn else { continue };
        let start = next.fetch_add(1, Ordering::SeqCst);
        let upstream = (0..backends.len()).find_map(|i| {
            let b = (start + i) % backends.len();
            let s = TcpStream::connect(("127.0.0.1", backends[b])).ok()?;
            used[b].fetch_add(1, Ordering::SeqCst);
            Some(s)
        });
        let Some(upstream) = upstream else { continue };
        let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
            continue;
        };
        let pump = |mut from: TcpStream, mut to: TcpStream| {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
                let _ = from.shutdown(Shutdown::Read);
            })
        };
        pump(client, upstream);
        pump(u2, c2);
    }
}

pub fn cluster() -> Result<(), String> {
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let server =
        root.join("cluster/node_modules/@restatedev/restate-server-linux-x64/bin/restate-server");
    if !server.exists() {
        crate::step(
            "Restate server from cluster/package-lock.json",
            "npm",
            &["ci", "--prefix", "cluster", "--no-audit", "--no-fund"],
        )?;
    }
    // the workers build the component if it is missing or stale (the first one, before the
    // second starts)
    crate::step(
        "host-rs",
        &cargo,
        &["build", "--quiet", "--release", "-p", "host-rs"],
    )?;
    let t0 = Instant::now();
    let deadline = t0 + BUDGET;
    let host = root.join("target/release/host-rs");
    let work = root.join("target/cluster");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let log = |name: &str| -> Result<std::fs::File, String> {
        std::fs::File::create(work.join(format!("{name}.log"))).map_err(|e| e.to_string())
    };

    // three Restate nodes
    let mut nodes = Vec::new();
    for i in 1..=3 {
        nodes.push(Node {
            name: format!("n{i}"),
            node_port: free_port()?,
            admin: free_port()?,
            ingress: free_port()?,
        });
    }
    let mut procs = Procs(Vec::new());
    for (i, n) in nodes.iter().enumerate() {
        let dir: PathBuf = work.join(&n.name);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let config = work.join(format!("{}.toml", n.name));
        std::fs::write(&config, node_config(n, &nodes, &dir, i == 0)).map_err(|e| e.to_string())?;
        let child = Command::new(&server)
            .args(["--no-logo", "-c"])
            .arg(&config)
            .stdout(log(&n.name)?)
            .stderr(log(&format!("{}.err", n.name))?)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", server.display()))?;
        procs.0.push((n.name.clone(), child));
    }
    eprintln!("==> 3 Restate nodes (logs in {})", work.display());
    for n in &nodes {
        wait_for(
            &format!("{} admin and ingress health", n.name),
            deadline,
            || {
                http("GET", n.admin, "/health", "").is_ok_and(|(s, _)| s == 200)
                    && http("GET", n.ingress, "/restate/health", "").is_ok_and(|(s, _)| s == 200)
            },
        )?;
    }
    eprintln!("    healthy after {:.1} s", t0.elapsed().as_secs_f64());

    // two workers behind the proxy
    let mut workers = Vec::new();
    for w in 1..=2 {
        let port = free_port()?;
        let mut child = Command::new(&host)
            .args(["serve", "--restate", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(log(&format!("worker{w}.err"))?)
            .spawn()
            .map_err(|e| format!("starting a worker: {e}"))?;
        // its first line, within the time left (the first worker may build the component)
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = out {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_default();
        if !line.starts_with("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("worker {w} did not start in time: {line:?}"));
        }
        procs.0.push((format!("worker{w}"), child));
        workers.push(port);
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let proxy_port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let stop = Arc::new(AtomicBool::new(false));
    let used: Arc<Vec<AtomicUsize>> =
        Arc::new(workers.iter().map(|_| AtomicUsize::new(0)).collect());
    {
        let (stop, workers, used) = (stop.clone(), workers.clone(), used.clone());
        std::thread::spawn(move || proxy(listener, workers, stop, used));
    }
    let register = format!("{{\"uri\": \"http://127.0.0.1:{proxy_port}\"}}");
    wait_for("the deployment's registration", deadline, || {
        http("POST", nodes[0].admin, "/deployments", &register)
            .is_ok_and(|(s, _)| (200..300).contains(&s))
    })?;
    eprintln!("==> 2 workers on ports {workers:?} behind 127.0.0.1:{proxy_port}, registered");

    // the load, and the kills halfway
    let ingress: Vec<String> = nodes
        .iter()
        .map(|n| format!("http://127.0.0.1:{}", n.ingress))
        .collect();
    let mut load = Command::new(&host)
        .args([
            "load",
            "--restate",
            &ingress.join(","),
            "--sessions",
            SESSIONS,
            "--cells",
            CELLS,
            "--clients",
            "64",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the load: {e}"))?;
    let out = load.stdout.take().ok_or("the load's stdout")?;
    // a load that stops answering is killed at the deadline (its output then ends)
    let finished = Arc::new(AtomicBool::new(false));
    {
        let (finished, pid) = (finished.clone(), load.id().to_string());
        std::thread::spawn(move || {
            while Instant::now() < deadline {
                if finished.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if !finished.load(Ordering::SeqCst) {
                eprintln!("    the load passed the time budget: killed");
                let _ = Command::new("kill").args(["-9", &pid]).status();
            }
        });
    }
    let mut summary = String::new();
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        if line.starts_with("half") {
            eprintln!("    {line}: SIGKILL to worker1 and to Restate node n3");
            procs.kill("worker1");
            procs.kill("n3");
        } else if line.starts_with("cluster:") {
            summary = line;
        }
    }
    let status = load.wait().map_err(|e| e.to_string())?;
    finished.store(true, Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(("127.0.0.1", proxy_port));
    drop(procs);
    let used: Vec<usize> = used.iter().map(|u| u.load(Ordering::SeqCst)).collect();
    eprintln!("    connections from Restate to worker1, worker2: {used:?}");
    println!("{summary}");
    eprintln!("    ({:.1} s in all)", t0.elapsed().as_secs_f64());
    if status.success() && !summary.is_empty() {
        let _ = std::fs::remove_dir_all(&work);
        Ok(())
    } else {
        Err(format!(
            "cluster: the load failed ({status}); logs kept in {}",
            work.display()
        ))
    }
}
