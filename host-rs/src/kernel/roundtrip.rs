//! A Jupyter client on localhost timing the kernel (`bench`'s kernel rows): it starts
//! `host-rs kernel` on a fresh connection file, subscribes to IOPub (drained, as a frontend
//! would), and times `execute_request` -> `execute_reply` on the shell socket for each cell.

use crate::render::Stats;
use anyhow::{bail, Context, Result};
use jupyter_protocol::{
    ConnectionInfo, ExecuteRequest, JupyterMessage, JupyterMessageContent, KernelInfoRequest,
    ShutdownRequest, Transport,
};
use jupyter_zmq_client::{
    create_client_control_connection, create_client_iopub_connection,
    create_client_shell_connection_with_identity, peek_ports_with_listeners,
    peer_identity_for_session, ClientShellConnection,
};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the kernel may take to answer its first `kernel_info_request`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one request may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// Kills the kernel process if it is still there.
struct Kernel(Child);

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs each cell once untimed in one kernel session, in order, then `iterations` timed
/// times; returns each cell's round-trip statistics in microseconds.
pub fn measure(
    exe: &Path,
    component: &Path,
    cells: &[String],
    iterations: u32,
) -> Result<Vec<Stats>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(measure_async(exe, component, cells, iterations))
}

async fn measure_async(
    exe: &Path,
    component: &Path,
    cells: &[String],
    iterations: u32,
) -> Result<Vec<Stats>> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (ports, listeners) = peek_ports_with_listeners(ip, 5).await?;
    let key = format!("{:x}{:x}", std::process::id(), nanos());
    let info = ConnectionInfo {
        ip: ip.to_string(),
        transport: Transport::TCP,
        shell_port: ports[0],
        iopub_port: ports[1],
        stdin_port: ports[2],
        control_port: ports[3],
        hb_port: ports[4],
        key,
        signature_scheme: "hmac-sha256".into(),
        kernel_name: Some("ruchy".into()),
    };
    let file = std::env::temp_dir().join(format!("ruchy-bench-kernel-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(&info)?)?;
    let child = Command::new(exe)
        .arg("--component")
        .arg(component)
        .args(["kernel", "--connection-file"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting host-rs kernel")?;
    let _kernel = Kernel(child);
    drop(listeners);
    let result = session(&info, cells, iterations).await;
    let _ = std::fs::remove_file(&file);
    result
}

async fn session(info: &ConnectionInfo, cells: &[String], iterations: u32) -> Result<Vec<Stats>> {
    let session_id = format!("bench-{}", nanos());
    let start = Instant::now();
    // the kernel binds its sockets once it has loaded the component: retry until it answers
    let mut shell = loop {
        match connect_shell(info, &session_id).await {
            Ok(shell) => break shell,
            Err(e) if start.elapsed() > START_TIMEOUT => {
                bail!("the kernel did not answer in {START_TIMEOUT:?}: {e:#}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let mut iopub = create_client_iopub_connection(info, "", &session_id).await?;
    let drain = tokio::spawn(async move { while iopub.read().await.is_ok() {} });
    let mut out = Vec::with_capacity(cells.len());
    for cell in cells {
        round_trip(&mut shell, cell).await?;
        let mut us = Vec::with_capacity(iterations as usize);
        for _ in 0..iterations {
            let t = Instant::now();
            round_trip(&mut shell, cell).await?;
            us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        out.push(Stats::of(&us));
    }
    let mut control = create_client_control_connection(info, &session_id).await?;
    let shutdown: JupyterMessage = ShutdownRequest { restart: false }.into();
    let _ = control.send(shutdown).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), control.read()).await;
    drain.abort();
    Ok(out)
}

async fn connect_shell(info: &ConnectionInfo, session_id: &str) -> Result<ClientShellConnection> {
    let identity = peer_identity_for_session(session_id)?;
    let mut shell =
        create_client_shell_connection_with_identity(info, session_id, identity).await?;
    let request: JupyterMessage = KernelInfoRequest {}.into();
    let id = request.header.msg_id.clone();
    shell.send(request).await?;
    reply_to(&mut shell, &id, Duration::from_secs(1)).await?;
    Ok(shell)
}

/// Sends one `execute_request` and waits for its `execute_reply`.
async fn round_trip(shell: &mut ClientShellConnection, cell: &str) -> Result<()> {
    let request: JupyterMessage = ExecuteRequest::new(cell.to_string()).into();
    let id = request.header.msg_id.clone();
    shell.send(request).await?;
    match reply_to(shell, &id, REPLY_TIMEOUT).await?.content {
        JupyterMessageContent::ExecuteReply(r) if r.error.is_none() => Ok(()),
        other => bail!("{cell:?}: the kernel answered {other:?}"),
    }
}

async fn reply_to(
    shell: &mut ClientShellConnection,
    id: &str,
    timeout: Duration,
) -> Result<JupyterMessage> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, shell.read())
            .await
            .context("no reply in time")??;
        if msg.parent_header.as_ref().is_some_and(|p| p.msg_id == id) {
            return Ok(msg);
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
