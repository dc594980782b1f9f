//! The component on a thread of its own: the kernel's message loops are async, a cell is a
//! blocking call, so every call to the session is a job sent to this thread, answered through
//! a oneshot channel. The session is a [`Notebook`]: should the instance trap, it is rebuilt by
//! replaying the cells that succeeded.

use super::convert;
use crate::host::{CellResult, Runtime};
use crate::notebook::{Interrupt, Notebook};
use anyhow::{anyhow, Result};
use jupyter_protocol::{CompleteReply, InspectReply, IsCompleteReply};
use std::path::PathBuf;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Notebook) + Send>;

/// A handle to the engine thread; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    interrupt: Interrupt,
}

/// Stack of the engine thread: wasm runs on it (wasmtime's own limit is far below this).
const STACK_BYTES: usize = 16 << 20;

impl Engine {
    /// Loads the component (through the precompiled cache) and opens a session on a new
    /// thread; returns once the session exists.
    pub fn start(component: PathBuf) -> Result<Engine> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<Result<Interrupt>>();
        std::thread::Builder::new()
            .name("ruchy-engine".into())
            .stack_size(STACK_BYTES)
            .spawn(
                move || match Runtime::load(&component).and_then(|rt| Notebook::new(&rt)) {
                    Ok(mut nb) => {
                        let _ = ready.send(Ok(nb.interrupter()));
                        for job in inbox {
                            job(&mut nb);
                        }
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                },
            )?;
        let interrupt = started
            .recv()
            .map_err(|_| anyhow!("the engine thread stopped while starting"))??;
        Ok(Engine { jobs, interrupt })
    }

    /// Stops the running cell, if any (from any thread; the cell's job then answers with an
    /// "Interrupted" error and the session is rebuilt by replay); returns whether one ran.
    pub fn interrupt(&self) -> bool {
        self.interrupt.interrupt()
    }

    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Notebook) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |nb| {
                let _ = tx.send(f(nb));
            }))
            .map_err(|_| anyhow!("the engine thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow!("the engine thread has stopped"))?
    }

    /// Runs a cell.
    pub async fn execute(&self, code: String) -> Result<CellResult> {
        self.call(move |nb| nb.execute_cell(&code)).await
    }

    /// Completion at a cursor in code points.
    pub async fn complete(&self, code: String, cursor: usize) -> Result<CompleteReply> {
        self.call(move |nb| {
            let at = convert::code_point_to_byte(&code, cursor) as u32;
            let c = nb.query(|inst, s| inst.complete(s, &code, at))?;
            Ok(convert::complete_reply(&code, &c))
        })
        .await
    }

    /// The name at a cursor in code points.
    pub async fn inspect(&self, code: String, cursor: usize) -> Result<InspectReply> {
        self.call(move |nb| {
            let at = convert::code_point_to_byte(&code, cursor) as u32;
            let i = nb.query(|inst, s| inst.inspect(s, &code, at))?;
            Ok(convert::inspect_reply(i.as_ref()))
        })
        .await
    }

    pub async fn is_complete(&self, code: String) -> Result<IsCompleteReply> {
        self.call(move |nb| {
            let c = nb.query(|inst, s| inst.is_complete(s, &code))?;
            Ok(convert::is_complete_reply(&c))
        })
        .await
    }
}
