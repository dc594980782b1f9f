//! A notebook session that survives its instance: should a call trap (wasmtime's epoch
//! backstop, or a bug), the session is rebuilt in a fresh instance by replaying the cells that
//! succeeded, with the same limits, and the failed cell gets a `limit` diagnostic saying so.

use crate::host::{CellResult, Diagnostic, DiagnosticKind, Instance, Limits, Performance};
use crate::host::{Interrupter, Runtime, SessionHandle, Span, DEFAULT_TIME_MS};
use anyhow::Result;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Stops the cell a [`Notebook`] is running, from another thread (a Jupyter
/// `interrupt_request`): wasmtime's epoch makes the call trap, and the notebook rebuilds the
/// session by replay, so every binding from before the cell is kept; the cell ends with a
/// `limit` diagnostic that says it was interrupted.
#[derive(Clone)]
pub struct Interrupt {
    interrupter: Interrupter,
    /// Set by [`Interrupt::interrupt`], read when the call traps.
    requested: Arc<AtomicBool>,
    /// Whether a cell is running, and which (a count of cells started).
    running: Arc<AtomicBool>,
    started: Arc<AtomicU64>,
    /// The session's time limit: how far the epoch must advance.
    time_ms: Arc<AtomicU64>,
}

impl Interrupt {
    /// Interrupts the running cell, if any; returns whether one was running. The epoch is
    /// advanced again every 10 ms until that cell has ended (at most 1 s), in case the call
    /// armed its deadline just after the first advance.
    pub fn interrupt(&self) -> bool {
        if !self.running.load(Ordering::SeqCst) {
            return false;
        }
        let cell = self.started.load(Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
        let this = self.clone();
        std::thread::spawn(move || {
            for _ in 0..100 {
                this.interrupter
                    .interrupt(this.time_ms.load(Ordering::SeqCst));
                std::thread::sleep(Duration::from_millis(10));
                let same = this.started.load(Ordering::SeqCst) == cell;
                if !same || !this.running.load(Ordering::SeqCst) {
                    break;
                }
            }
        });
        true
    }
}

pub struct Notebook {
    rt: Runtime,
    inst: Instance,
    session: SessionHandle,
    limits: Option<Limits>,
    /// The cells that succeeded, in order: what a rebuilt session replays.
    replay: Vec<String>,
    /// How many times the session was rebuilt.
    pub rebuilds: u32,
    interrupt: Interrupt,
}

impl Notebook {
    pub fn new(rt: &Runtime) -> Result<Notebook> {
        let mut inst = rt.instantiate()?;
        let session = inst.new_session()?;
        Ok(Notebook {
            rt: rt.clone(),
            inst,
            session,
            limits: None,
            replay: Vec::new(),
            rebuilds: 0,
            interrupt: Interrupt {
                interrupter: rt.interrupter(),
                requested: Arc::new(AtomicBool::new(false)),
                running: Arc::new(AtomicBool::new(false)),
                started: Arc::new(AtomicU64::new(0)),
                time_ms: Arc::new(AtomicU64::new(DEFAULT_TIME_MS)),
            },
        })
    }

    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        self.inst.set_limits(self.session, limits)?;
        self.limits = Some(limits);
        self.interrupt
            .time_ms
            .store(limits.time_ms, Ordering::SeqCst);
        Ok(())
    }

    /// What stops the running cell from another thread.
    pub fn interrupter(&self) -> Interrupt {
        self.interrupt.clone()
    }

    pub fn get_limits(&mut self) -> Result<Limits> {
        self.inst.get_limits(self.session)
    }

    /// Runs a cell. `Err` only when even a fresh instance cannot be made.
    pub fn execute_cell(&mut self, source: &str) -> Result<CellResult> {
        let flags = &self.interrupt;
        flags.requested.store(false, Ordering::SeqCst);
        flags.started.fetch_add(1, Ordering::SeqCst);
        flags.running.store(true, Ordering::SeqCst);
        let result = self.inst.execute_cell(self.session, source);
        flags.running.store(false, Ordering::SeqCst);
        let interrupted = flags.requested.swap(false, Ordering::SeqCst);
        match result {
            Ok(r) => {
                if r.diagnostic.is_none() {
                    self.replay.push(source.to_string());
                }
                Ok(r)
            }
            Err(trap) => {
                let replayed = self.rebuild()?;
                let why = if interrupted {
                    "Interrupted: the cell was stopped".to_string()
                } else {
                    format!("The engine was stopped ({})", first_line(&trap))
                };
                Ok(trap_result(
                    source,
                    format!(
                        "{why}; the session was rebuilt in a fresh instance by replaying its {replayed} successful cells"
                    ),
                ))
            }
        }
    }

    /// A fresh instance and session with the same limits, after replaying the cells that
    /// succeeded; returns how many were replayed.
    fn rebuild(&mut self) -> Result<usize> {
        self.rebuilds += 1;
        self.inst = self.rt.instantiate()?;
        self.session = self.inst.new_session()?;
        if let Some(l) = self.limits {
            self.inst.set_limits(self.session, l)?;
        }
        for cell in &self.replay {
            self.inst.execute_cell(self.session, cell)?;
        }
        Ok(self.replay.len())
    }

    /// A call that runs no cell (completion, inspection, is-complete, variables). Should it
    /// trap, the session is rebuilt by replay before the error is returned, so the next call
    /// finds it whole.
    pub fn query<R>(
        &mut self,
        f: impl FnOnce(&mut Instance, SessionHandle) -> Result<R>,
    ) -> Result<R> {
        match f(&mut self.inst, self.session) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.rebuild()?;
                Err(e)
            }
        }
    }

    /// The instance, for calls this wrapper does not cover.
    pub fn instance(&mut self) -> (&mut Instance, SessionHandle) {
        (&mut self.inst, self.session)
    }
}

pub fn first_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    if text.contains("interrupt") {
        return "wasmtime interrupted it after the time limit".to_string();
    }
    text.lines().next().unwrap_or("a trap").to_string()
}

/// The reply to a cell whose call trapped: a `limit` diagnostic over the whole cell saying
/// what became of the session.
pub fn trap_result(source: &str, message: String) -> CellResult {
    CellResult {
        display: None,
        bundle: None,
        outputs: Vec::new(),
        stdout: String::new(),
        diagnostic: Some(Diagnostic {
            kind: DiagnosticKind::Limit,
            message,
            span: whole(source),
        }),
        performance: Performance {
            total_us: 0.0,
            parse_us: 0.0,
            compile_us: 0.0,
            evaluate_us: 0.0,
            target_met: false,
        },
    }
}

/// A span over the whole cell.
pub fn whole(source: &str) -> Span {
    let lines = source.split('\n').count() as u32;
    let last = source.rsplit('\n').next().unwrap_or("");
    Span {
        start: 0,
        end: source.len() as u32,
        line: 1,
        column: 1,
        end_line: lines.max(1),
        end_column: last.chars().count() as u32 + 1,
    }
}
