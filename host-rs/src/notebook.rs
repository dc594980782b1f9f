//! A notebook session that survives its instance: should a call trap (wasmtime's epoch
//! backstop, or a bug), the session is rebuilt in a fresh instance by replaying the cells that
//! succeeded, with the same limits, and the failed cell gets a `limit` diagnostic saying so.

use crate::host::{CellResult, Diagnostic, DiagnosticKind, Instance, Limits, Performance};
use crate::host::{Runtime, SessionHandle, Span};
use anyhow::Result;

pub struct Notebook {
    rt: Runtime,
    inst: Instance,
    session: SessionHandle,
    limits: Option<Limits>,
    /// The cells that succeeded, in order: what a rebuilt session replays.
    replay: Vec<String>,
    /// How many times the session was rebuilt.
    pub rebuilds: u32,
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
        })
    }

    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        self.inst.set_limits(self.session, limits)?;
        self.limits = Some(limits);
        Ok(())
    }

    pub fn get_limits(&mut self) -> Result<Limits> {
        self.inst.get_limits(self.session)
    }

    /// Runs a cell. `Err` only when even a fresh instance cannot be made.
    pub fn execute_cell(&mut self, source: &str) -> Result<CellResult> {
        match self.inst.execute_cell(self.session, source) {
            Ok(r) => {
                if r.diagnostic.is_none() {
                    self.replay.push(source.to_string());
                }
                Ok(r)
            }
            Err(trap) => {
                let replayed = self.rebuild()?;
                Ok(CellResult {
                    display: None,
                    bundle: None,
                    outputs: Vec::new(),
                    stdout: String::new(),
                    diagnostic: Some(Diagnostic {
                        kind: DiagnosticKind::Limit,
                        message: format!(
                            "The engine was stopped ({}); the session was rebuilt in a fresh instance by replaying its {replayed} successful cells",
                            first_line(&trap)
                        ),
                        span: whole(source),
                    }),
                    performance: Performance {
                        total_us: 0.0,
                        parse_us: 0.0,
                        compile_us: 0.0,
                        evaluate_us: 0.0,
                        target_met: false,
                    },
                })
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

fn first_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    if text.contains("interrupt") {
        return "wasmtime interrupted it after the time limit".to_string();
    }
    text.lines().next().unwrap_or("a trap").to_string()
}

/// A span over the whole cell.
fn whole(source: &str) -> Span {
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
