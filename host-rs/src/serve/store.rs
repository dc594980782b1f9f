//! The service's durable store: every session's journal of successful cells, in one embedded
//! redb file (`DATA_DIR/sessions.redb`; no server to install).
//!
//! Writes go through one writer thread that commits whatever is waiting in one transaction
//! (group commit): a transaction is made durable (fsync) before any of its callers hears
//! back, so a cell is acknowledged only once it is on disk, and 200 clients share an fsync
//! instead of queueing for one each. An append names the journal position it expects, and
//! the writer refuses one that does not follow the journal on disk, so a journal never has a
//! gap, whatever failed before it.

use anyhow::{Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Session id -> its limits as JSON (`{}` for the defaults).
const SESSIONS: TableDefinition<&str, &str> = TableDefinition::new("sessions");
/// (session id, position from 0) -> the source of a successful cell.
const CELLS: TableDefinition<(&str, u64), &str> = TableDefinition::new("cells");

/// At most this many waiting writes go into one transaction.
const BATCH: usize = 512;

/// A session as the store knows it.
pub struct Stored {
    pub id: String,
    pub limits: String,
    pub cells: u64,
}

enum Op {
    Create {
        id: String,
        limits: String,
    },
    Append {
        id: String,
        position: u64,
        source: String,
    },
    Delete {
        id: String,
    },
}

type Reply = oneshot::Sender<Result<(), String>>;

/// The store: reads on the caller's thread, writes through the writer thread.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    writer: mpsc::Sender<(Op, Reply)>,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::open_with(dir, 0)
    }

    /// [`Store::open`]; with `fail_every` N > 0 (a test hook), every N-th append is refused
    /// as a failing disk would refuse it.
    pub fn open_with(dir: &Path, fail_every: u64) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        let path = dir.join("sessions.redb");
        let db = Database::create(&path)
            .with_context(|| format!("opening the store {}", path.display()))?;
        let tx = db.begin_write()?;
        tx.open_table(SESSIONS)?;
        tx.open_table(CELLS)?;
        tx.commit()?;
        let db = Arc::new(db);
        let (writer, ops) = mpsc::channel();
        let for_writer = db.clone();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(&for_writer, ops, fail_every))?;
        Ok(Store { db, writer })
    }

    async fn write(&self, op: Op) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send((op, tx))
            .map_err(|_| "the store's writer has stopped".to_string())?;
        rx.await
            .map_err(|_| "the store's writer has stopped".to_string())?
    }

    /// Records a new session with its limits (JSON).
    pub async fn create(&self, id: &str, limits: &str) -> Result<(), String> {
        self.write(Op::Create {
            id: id.to_string(),
            limits: limits.to_string(),
        })
        .await
    }

    /// Appends a successful cell at `position` (the journal's length before it).
    pub async fn append(&self, id: &str, position: u64, source: &str) -> Result<(), String> {
        self.write(Op::Append {
            id: id.to_string(),
            position,
            source: source.to_string(),
        })
        .await
    }

    /// Forgets a session and its journal.
    pub async fn delete(&self, id: &str) -> Result<(), String> {
        self.write(Op::Delete { id: id.to_string() }).await
    }

    /// Every session, with its limits and journal length (at start-up).
    pub fn sessions(&self) -> Result<Vec<Stored>> {
        let tx = self.db.begin_read()?;
        let sessions = tx.open_table(SESSIONS)?;
        let cells = tx.open_table(CELLS)?;
        let mut out = Vec::new();
        for row in sessions.iter()? {
            let (id, limits) = row?;
            let id = id.value().to_string();
            let n = cells
                .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))?
                .count() as u64;
            out.push(Stored {
                limits: limits.value().to_string(),
                cells: n,
                id,
            });
        }
        Ok(out)
    }

    /// A session's journal, in order.
    pub fn journal(&self, id: &str) -> Result<Vec<String>> {
        let tx = self.db.begin_read()?;
        let cells = tx.open_table(CELLS)?;
        let mut out = Vec::new();
        for row in cells.range((id, 0)..=(id, u64::MAX))? {
            let (_, source) = row?;
            out.push(source.value().to_string());
        }
        Ok(out)
    }
}

/// The writer thread: takes what is waiting (up to [`BATCH`]), applies it in one transaction,
/// commits (durably), then answers each caller.
fn write_loop(db: &Database, ops: mpsc::Receiver<(Op, Reply)>, fail_every: u64) {
    let mut appends = 0u64;
    while let Ok(first) = ops.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut answers: Vec<Result<(), String>> = Vec::with_capacity(batch.len());
        let committed = (|| -> Result<(), redb::Error> {
            let tx = db.begin_write()?;
            {
                let mut sessions = tx.open_table(SESSIONS)?;
                let mut cells = tx.open_table(CELLS)?;
                for (op, _) in &batch {
                    if matches!(op, Op::Append { .. }) {
                        appends += 1;
                        if fail_every > 0 && appends.is_multiple_of(fail_every) {
                            answers.push(Err("injected store failure (test hook)".into()));
                            continue;
                        }
                    }
                    answers.push(apply(&mut sessions, &mut cells, op)?);
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = committed {
            let why = format!("store error: {e}");
            answers = batch.iter().map(|_| Err(why.clone())).collect();
        }
        for ((_, reply), answer) in batch.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

/// One write inside the batch's transaction: `Ok(Err(..))` refuses that write alone.
fn apply(
    sessions: &mut redb::Table<&str, &str>,
    cells: &mut redb::Table<(&str, u64), &str>,
    op: &Op,
) -> Result<Result<(), String>, redb::Error> {
    match op {
        Op::Create { id, limits } => {
            sessions.insert(id.as_str(), limits.as_str())?;
        }
        Op::Append {
            id,
            position,
            source,
        } => {
            if sessions.get(id.as_str())?.is_none() {
                return Ok(Err("the session was deleted".to_string()));
            }
            let expected = match cells
                .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))?
                .next_back()
            {
                Some(row) => row?.0.value().1 + 1,
                None => 0,
            };
            if *position != expected {
                return Ok(Err(format!(
                    "journal position {position} does not follow the stored journal ({expected} cells)"
                )));
            }
            cells.insert((id.as_str(), *position), source.as_str())?;
        }
        Op::Delete { id } => {
            sessions.remove(id.as_str())?;
            cells.retain_in((id.as_str(), 0)..=(id.as_str(), u64::MAX), |_, _| false)?;
        }
    }
    Ok(Ok(()))
}
