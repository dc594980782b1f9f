//! The kernel's message loops on the five Jupyter sockets (`jupyter-zmq-client`: ZeroMQ in
//! pure Rust; `jupyter-protocol`: typed messages). Shell requests are handled one at a time,
//! each between a `busy` and an `idle` status on IOPub; control (kernel_info, interrupt,
//! shutdown) and the heartbeat run beside it, so they answer while a cell runs. A message that
//! does not parse or whose signature is wrong is dropped with a line on stderr: nothing a
//! client sends stops the kernel but `shutdown_request`.

use super::convert::{self, Output};
use super::engine::Engine;
use super::history::History;
use super::wire::{self, Incoming};
use anyhow::{Context, Result};
use jupyter_protocol::{
    CodeMirrorMode, CommInfoReply, ConnectionInfo, ExecuteInput, ExecuteReply, ExecuteRequest,
    ExecuteResult, ExecutionCount, HistoryReply, InspectReply, InterruptReply, IsCompleteReply,
    JupyterMessage, JupyterMessageContent, KernelInfoReply, LanguageInfo, ReplyError, ReplyStatus,
    ShutdownReply, Status, Transient,
};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection,
    create_kernel_iopub_connection, create_kernel_shell_connection, create_kernel_stdin_connection,
    Connection, KernelIoPubConnection,
};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// The Jupyter messaging protocol version this kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// Runs the kernel described by a connection file until a `shutdown_request`.
pub fn run(connection_file: &Path, component: PathBuf) -> Result<()> {
    let text = std::fs::read_to_string(connection_file)
        .with_context(|| format!("reading {}", connection_file.display()))?;
    let info: ConnectionInfo = serde_json::from_str(&text)
        .with_context(|| format!("parsing the connection file {}", connection_file.display()))?;
    let engine = Engine::start(component)?;
    exit_with_parent();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(serve(info, engine))
}

/// The reply to `kernel_info_request`.
pub fn kernel_info() -> KernelInfoReply {
    let version = env!("CARGO_PKG_VERSION").to_string();
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: PROTOCOL_VERSION.into(),
        implementation: "ruchy-host-rs".into(),
        implementation_version: version.clone(),
        language_info: LanguageInfo {
            name: "ruchy".into(),
            version: version.clone(),
            mimetype: Some("text/x-ruchy".into()),
            file_extension: Some(".ruchy".into()),
            pygments_lexer: Some("rust".into()),
            codemirror_mode: Some(CodeMirrorMode::Simple("rust".into())),
            nbconvert_exporter: None,
        },
        banner: format!(
            "Ruchy {version}: the ruchy:notebook component in wasmtime (host-rs kernel)"
        ),
        help_links: Vec::new(),
        debugger: false,
        error: None,
    }
}

/// What the shell loop keeps between requests.
struct Kernel {
    engine: Engine,
    iopub: Arc<Mutex<KernelIoPubConnection>>,
    /// The execution count of the last cell run with `store_history`.
    count: usize,
    history: History,
    /// Set when a cell failed with `stop_on_error` (the default): the shell loop then reads
    /// the requests already waiting and answers the execute requests among them "aborted".
    stopped: bool,
}

async fn publish(
    iopub: &Mutex<KernelIoPubConnection>,
    content: JupyterMessageContent,
    parent: &JupyterMessage,
) {
    let msg = JupyterMessage::new(content, Some(parent)).with_zmq_identities(Vec::new());
    if let Err(e) = iopub.lock().await.send(msg).await {
        eprintln!("ruchy kernel: cannot publish on iopub: {e}");
    }
}

async fn serve(info: ConnectionInfo, engine: Engine) -> Result<()> {
    let session_id = format!("ruchy-{}-{}", std::process::id(), now_nanos());
    let iopub = Arc::new(Mutex::new(
        create_kernel_iopub_connection(&info, &session_id).await?,
    ));
    let mut shell = create_kernel_shell_connection(&info, &session_id).await?;
    let mut control = create_kernel_control_connection(&info, &session_id).await?;
    let _stdin = create_kernel_stdin_connection(&info, &session_id).await?;
    let mut heartbeat = create_kernel_heartbeat_connection(&info).await?;
    let (quit, mut quitting) = mpsc::channel::<()>(4);

    tokio::spawn(async move {
        loop {
            if let Err(e) = heartbeat.single_heartbeat().await {
                eprintln!("ruchy kernel: heartbeat: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });

    let control_quit = quit.clone();
    let control_engine = engine.clone();
    let control_iopub = iopub.clone();
    tokio::spawn(async move {
        let mut failures = Failures::default();
        loop {
            let msg = next_request(&mut control, "control", &mut failures).await;
            let reply: Option<JupyterMessageContent> = match &msg.content {
                JupyterMessageContent::KernelInfoRequest(_) => Some(kernel_info().into()),
                JupyterMessageContent::InterruptRequest(_) => {
                    control_engine.interrupt();
                    Some(InterruptReply::new().into())
                }
                JupyterMessageContent::ShutdownRequest(r) => Some(
                    ShutdownReply {
                        restart: r.restart,
                        ..Default::default()
                    }
                    .into(),
                ),
                other => {
                    eprintln!("ruchy kernel: control: ignored {}", other.message_type());
                    None
                }
            };
            publish(&control_iopub, Status::busy().into(), &msg).await;
            if let Some(reply) = reply {
                if let Err(e) = control.send(JupyterMessage::new(reply, Some(&msg))).await {
                    eprintln!("ruchy kernel: control: cannot reply: {e}");
                }
            }
            publish(&control_iopub, Status::idle().into(), &msg).await;
            if matches!(msg.content, JupyterMessageContent::ShutdownRequest(_)) {
                let _ = control_quit.send(()).await;
            }
        }
    });

    let mut kernel = Kernel {
        engine,
        iopub: iopub.clone(),
        count: 0,
        history: History::default(),
        stopped: false,
    };
    tokio::spawn(async move {
        let mut failures = Failures::default();
        // requests read early, after a cell failed with `stop_on_error`; `true`: an execute
        // request among them is answered "aborted" instead of run, as ipykernel does
        let mut waiting: VecDeque<(JupyterMessage, bool)> = VecDeque::new();
        loop {
            let (msg, abort) = match waiting.pop_front() {
                Some(queued) => queued,
                None => (
                    next_request(&mut shell, "shell", &mut failures).await,
                    false,
                ),
            };
            publish(&kernel.iopub, Status::busy().into(), &msg).await;
            let reply = match &msg.content {
                JupyterMessageContent::ExecuteRequest(_) if abort => Some(aborted()),
                _ => kernel.handle(&msg).await,
            };
            if let Some(reply) = reply {
                if let Err(e) = shell.send(JupyterMessage::new(reply, Some(&msg))).await {
                    eprintln!("ruchy kernel: shell: cannot reply: {e}");
                }
            }
            if std::mem::take(&mut kernel.stopped) {
                // the requests already waiting, read before `idle` (a client sends its next
                // request once it has seen it): the first poll of each read finds one or
                // gives up; the socket's read is cancel-safe (a message not yet read stays
                // queued), so giving up loses nothing
                while let Ok(queued) = tokio::time::timeout(
                    Duration::ZERO,
                    next_request(&mut shell, "shell", &mut failures),
                )
                .await
                {
                    waiting.push_back((queued, true));
                }
            }
            publish(&kernel.iopub, Status::idle().into(), &msg).await;
            if matches!(msg.content, JupyterMessageContent::ShutdownRequest(_)) {
                let _ = quit.send(()).await;
            }
        }
    });

    quitting.recv().await;
    // let the last replies leave the sockets
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

/// The reply to an execute request aborted after an earlier cell failed: `status: aborted`
/// and execution count 0 (the cell did not run; ipykernel sends none).
fn aborted() -> JupyterMessageContent {
    ExecuteReply {
        status: ReplyStatus::Aborted,
        ..Default::default()
    }
    .into()
}

impl Kernel {
    /// The reply to a shell request (`None`: the request gets none).
    async fn handle(&mut self, msg: &JupyterMessage) -> Option<JupyterMessageContent> {
        use JupyterMessageContent as C;
        Some(match &msg.content {
            C::KernelInfoRequest(_) => kernel_info().into(),
            C::ExecuteRequest(req) => {
                let reply = self.execute(req, msg).await;
                self.stopped =
                    req.stop_on_error && !req.silent && matches!(reply.status, ReplyStatus::Error);
                reply.into()
            }
            C::CompleteRequest(req) => {
                match self.engine.complete(req.code.clone(), req.cursor_pos).await {
                    Ok(r) => r.into(),
                    Err(e) => {
                        eprintln!("ruchy kernel: complete: {e:#}");
                        jupyter_protocol::CompleteReply {
                            cursor_start: req.cursor_pos,
                            cursor_end: req.cursor_pos,
                            ..Default::default()
                        }
                        .into()
                    }
                }
            }
            C::InspectRequest(req) => {
                match self.engine.inspect(req.code.clone(), req.cursor_pos).await {
                    Ok(r) => r.into(),
                    Err(e) => {
                        eprintln!("ruchy kernel: inspect: {e:#}");
                        InspectReply::default().into()
                    }
                }
            }
            C::IsCompleteRequest(req) => match self.engine.is_complete(req.code.clone()).await {
                Ok(r) => r.into(),
                Err(e) => {
                    eprintln!("ruchy kernel: is_complete: {e:#}");
                    IsCompleteReply::unknown().into()
                }
            },
            C::HistoryRequest(req) => HistoryReply::new(self.history.answer(req)).into(),
            C::CommInfoRequest(_) => CommInfoReply::default().into(),
            C::ShutdownRequest(r) => ShutdownReply {
                restart: r.restart,
                ..Default::default()
            }
            .into(),
            C::CommOpen(_) | C::CommMsg(_) | C::CommClose(_) => return None,
            other => {
                eprintln!("ruchy kernel: shell: ignored {}", other.message_type());
                return None;
            }
        })
    }

    /// Runs a cell: `execute_input`, then what it printed and displayed in order, its value
    /// (`execute_result`) or its error; none of them when `silent`.
    async fn execute(&mut self, req: &ExecuteRequest, parent: &JupyterMessage) -> ExecuteReply {
        let store = req.store_history && !req.silent;
        if store {
            self.count += 1;
        }
        let count = ExecutionCount::new(self.count.max(1));
        let iopub = self.iopub.clone();
        if !req.silent {
            let input = ExecuteInput {
                code: req.code.clone(),
                execution_count: count,
            };
            publish(&iopub, input.into(), parent).await;
        }
        let (result, error) = match self.engine.execute(req.code.clone()).await {
            Ok(r) => {
                let error = r
                    .diagnostic
                    .as_ref()
                    .map(|d| convert::error(d, &req.code, count.0));
                (Some(r), error)
            }
            Err(e) => {
                let error = jupyter_protocol::ErrorOutput {
                    ename: "kernel".into(),
                    evalue: format!("{e:#}"),
                    traceback: vec![format!("The engine could not run the cell: {e:#}")],
                };
                (None, Some(error))
            }
        };
        if !req.silent {
            if let Some(r) = &result {
                for out in convert::outputs(r) {
                    let content: JupyterMessageContent = match out {
                        Output::Stream(s) => s.into(),
                        Output::Display(d) => d.into(),
                    };
                    publish(&iopub, content, parent).await;
                }
                if let Some(b) = &r.bundle {
                    let mut res = ExecuteResult::new(count, convert::media(b));
                    // `{}` rather than `null`: the message spec wants an object
                    res.transient = Some(Transient::default());
                    publish(&iopub, res.into(), parent).await;
                }
            }
            if let Some(e) = &error {
                publish(&iopub, e.clone().into(), parent).await;
            }
        }
        if store {
            let shown = result
                .as_ref()
                .and_then(|r| r.display.clone())
                .unwrap_or_default();
            self.history.push(self.count, &req.code, &shown);
        }
        ExecuteReply {
            status: if error.is_some() {
                ReplyStatus::Error
            } else {
                ReplyStatus::Ok
            },
            execution_count: count,
            payload: Vec::new(),
            user_expressions: Some(HashMap::new()),
            error: error.map(|e| {
                Box::new(ReplyError {
                    ename: e.ename,
                    evalue: e.evalue,
                    traceback: e.traceback,
                })
            }),
        }
    }
}

/// The next request on the shell or control socket (`name`, for the log). A request whose
/// header is readable but whose content is not is answered with its error reply; one that
/// cannot be answered is dropped and counted in `failures`; both are skipped.
async fn next_request(
    conn: &mut Connection<zeromq::RouterSocket>,
    name: &str,
    failures: &mut Failures,
) -> JupyterMessage {
    loop {
        match wire::read(conn).await {
            Incoming::Request(msg) => {
                failures.ok();
                return msg;
            }
            Incoming::Unreadable(reply) => {
                eprintln!(
                    "ruchy kernel: {name}: cannot read a {}",
                    reply.header.msg_type
                );
                if let Err(e) = conn.send(reply).await {
                    eprintln!("ruchy kernel: {name}: cannot reply: {e}");
                }
            }
            Incoming::Dropped(why) => failures.dropped(name, &why).await,
        }
    }
}

/// Counts the messages a loop could not read in a row; a socket that keeps failing is read
/// again after a pause instead of in a busy loop.
#[derive(Default)]
struct Failures(u32);

impl Failures {
    async fn dropped(&mut self, socket: &str, e: &str) {
        self.0 += 1;
        eprintln!("ruchy kernel: {socket}: dropped a message: {e}");
        if self.0 >= 10 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn ok(&mut self) {
        self.0 = 0;
    }
}

/// Jupyter clients name their process in `JPY_PARENT_PID`: should it die without shutting the
/// kernel down (killed, crashed), the kernel exits too rather than linger.
fn exit_with_parent() {
    #[cfg(unix)]
    if std::env::var_os("JPY_PARENT_PID").is_some() {
        let parent = std::os::unix::process::parent_id();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                eprintln!("ruchy kernel: the client process is gone; exiting");
                std::process::exit(1);
            }
        });
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
