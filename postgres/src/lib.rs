//! PostgreSQL storage for arbor-mls: a [`Storage`] over one table, for the
//! observers of a delivery service run as several server processes on one
//! database, and for client state.
//!
//! Records are the library's own (the same keys and values as on SQLite),
//! each in a *space* (a client's, or a delivery service's), so many stores
//! share one database. Each batch is one transaction, writing only the
//! records it changes. [`Storage::write_if`] checks its condition inside
//! the transaction that applies the batch, under a transaction-scoped lock
//! on the checked key, so of several servers racing for one epoch of a
//! group exactly one commits (see `ObserverOptions::shared`).
//!
//! ```no_run
//! use arbor_mls::{Observer, ObserverOptions};
//! use arbor_mls_postgres::PgStorage;
//!
//! # fn main() -> arbor_mls::Result<()> {
//! let storage = PgStorage::connect("host=/run/postgresql user=ds dbname=ds", "ds")?;
//! let options = ObserverOptions {
//!     storage: Some(arbor_mls::storage::shared(storage)),
//!     shared: true,
//!     ..ObserverOptions::default()
//! };
//! let observer = Observer::load(b"group id", options)?;
//! # let _ = observer;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arbor_mls::storage::{Storage, WriteBatch, check_expected};
use arbor_mls::{Error, Result};
use postgres::{Client, NoTls, Statement, Transaction};

mod schema;

pub use schema::{SCHEMA_VERSION, migrate};

/// A [`Storage`] on PostgreSQL: the records of one space in the
/// `arbor_records` table. Every write is one transaction, durable when it
/// returns (as the server's `synchronous_commit` makes commits).
pub struct PgStorage {
    client: RefCell<Client>,
    space: String,
    statements: Statements,
    /// Test fault ([`Self::pause_in_write_if`]).
    pause: Option<(usize, Arc<AtomicBool>)>,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage")
            .field("space", &self.space)
            .finish_non_exhaustive()
    }
}

/// The statements, prepared once per connection.
struct Statements {
    get: Statement,
    get_for_update: Statement,
    scan_range: Statement,
    scan_from: Statement,
    put: Statement,
    delete: Statement,
    delete_range: Statement,
    delete_from: Statement,
    lock: Statement,
    bytes: Statement,
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Self> {
        let mut p = |sql: &str| client.prepare(sql).map_err(storage_error);
        Ok(Self {
            get: p("SELECT value FROM arbor_records WHERE space = $1 AND key = $2")?,
            get_for_update: p(
                "SELECT value FROM arbor_records WHERE space = $1 AND key = $2 FOR UPDATE",
            )?,
            scan_range: p("SELECT key, value FROM arbor_records
                 WHERE space = $1 AND key >= $2 AND key < $3 ORDER BY key")?,
            scan_from: p("SELECT key, value FROM arbor_records
                 WHERE space = $1 AND key >= $2 ORDER BY key")?,
            put: p(
                "INSERT INTO arbor_records (space, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (space, key) DO UPDATE SET value = EXCLUDED.value",
            )?,
            delete: p("DELETE FROM arbor_records WHERE space = $1 AND key = $2")?,
            delete_range: p(
                "DELETE FROM arbor_records WHERE space = $1 AND key >= $2 AND key < $3",
            )?,
            delete_from: p("DELETE FROM arbor_records WHERE space = $1 AND key >= $2")?,
            lock: p("SELECT pg_advisory_xact_lock($1)")?,
            bytes: p(
                "SELECT COALESCE(SUM(pg_column_size(key) + pg_column_size(value)), 0)::BIGINT
                 FROM arbor_records WHERE space = $1",
            )?,
        })
    }
}

impl PgStorage {
    /// Connects to `url` (a libpq connection string or URL; TLS is not
    /// supported here: use a local socket or a trusted network), brings
    /// the schema up to date ([`migrate`]) and opens space `space`.
    pub fn connect(url: &str, space: &str) -> Result<Self> {
        let client = Client::connect(url, NoTls).map_err(storage_error)?;
        Self::open(client, space)
    }

    /// Opens space `space` over a connection the caller made (e.g. with
    /// TLS), after bringing the schema up to date.
    pub fn open(mut client: Client, space: &str) -> Result<Self> {
        migrate(&mut client)?;
        let statements = Statements::prepare(&mut client)?;
        Ok(Self {
            client: RefCell::new(client),
            space: space.to_owned(),
            statements,
            pause: None,
        })
    }

    /// The space's records' size in the database (keys and values as
    /// stored, without index and page overhead), in bytes.
    pub fn stored_bytes(&self) -> Result<u64> {
        let row = self
            .client
            .borrow_mut()
            .query_one(&self.statements.bytes, &[&self.space])
            .map_err(storage_error)?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// A test fault, for tests of a server killed mid-transaction: once
    /// `armed` is set, the next conditional write of more than `after_ops`
    /// records writes that many inside its transaction, says so on
    /// standard error (`arbor-mls-postgres: paused inside a transaction`)
    /// and never returns, holding the transaction open until the process
    /// is killed.
    #[doc(hidden)]
    pub fn pause_in_write_if(&mut self, after_ops: usize, armed: Arc<AtomicBool>) {
        self.pause = Some((after_ops, armed));
    }

    /// Applies `batch` inside `tx`: prefix deletes, then the ops in order.
    fn apply(&self, tx: &mut Transaction<'_>, batch: &WriteBatch) -> Result<()> {
        let s = &self.statements;
        let space = &self.space;
        for prefix in &batch.delete_prefixes {
            match prefix_end(prefix) {
                Some(end) => tx.execute(&s.delete_range, &[space, prefix, &end]),
                None => tx.execute(&s.delete_from, &[space, prefix]),
            }
            .map_err(storage_error)?;
        }
        for (key, value) in &batch.ops {
            match value {
                Some(v) => tx.execute(&s.put, &[space, key, v]),
                None => tx.execute(&s.delete, &[space, key]),
            }
            .map_err(storage_error)?;
        }
        Ok(())
    }

    /// The advisory lock serializing conditional writes on `key` of this
    /// space: a stable 64-bit hash (FNV-1a) of both, the same in every
    /// process and build.
    fn lock_id(&self, key: &[u8]) -> i64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.space.bytes().chain([0xff]).chain(key.iter().copied()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        i64::from_be_bytes(h.to_be_bytes())
    }
}

impl Storage for PgStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(&self.statements.get, &[&self.space, &key])
            .map_err(storage_error)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let s = &self.statements;
        let mut client = self.client.borrow_mut();
        let rows = match prefix_end(prefix) {
            Some(end) => client.query(&s.scan_range, &[&self.space, &prefix, &end]),
            None => client.query(&s.scan_from, &[&self.space, &prefix]),
        }
        .map_err(storage_error)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(storage_error)?;
        self.apply(&mut tx, &batch)?;
        tx.commit().map_err(commit_error)
    }

    /// Under a transaction-scoped advisory lock on `key` (so that of two
    /// writers expecting the key absent, the second sees the first's
    /// row) and a row lock on it, reads the record as committed by then,
    /// and applies `batch` in the same transaction only if it is
    /// `expected`. Read committed isolation takes a new snapshot per
    /// statement: the read after the lock sees every earlier winner.
    fn write_if(&mut self, key: &[u8], expected: Option<&[u8]>, batch: WriteBatch) -> Result<()> {
        let s = &self.statements;
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(storage_error)?;
        tx.execute(&s.lock, &[&self.lock_id(key)])
            .map_err(storage_error)?;
        let found: Option<Vec<u8>> = tx
            .query_opt(&s.get_for_update, &[&self.space, &key])
            .map_err(storage_error)?
            .map(|r| r.get(0));
        // Dropping the transaction rolls it back.
        check_expected(key, found.as_deref(), expected)?;
        if let Some((after, armed)) = &self.pause
            && armed.load(Ordering::SeqCst)
            && batch.ops.len() > *after
        {
            let mut part = WriteBatch::default();
            part.ops.extend(batch.ops.iter().take(*after).cloned());
            self.apply(&mut tx, &part)?;
            eprintln!("arbor-mls-postgres: paused inside a transaction");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        self.apply(&mut tx, &batch)?;
        tx.commit().map_err(commit_error)
    }
}

/// The smallest key greater than every key starting with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A failure before the commit: the transaction did not happen.
fn storage_error(e: postgres::Error) -> Error {
    Error::Storage(format!("postgresql: {e}"))
}

/// A failed commit may or may not have been applied (the connection may
/// have dropped after the server committed): only reading tells.
fn commit_error(e: postgres::Error) -> Error {
    if e.code().is_some() {
        // The server answered with an error: it rolled back.
        return storage_error(e);
    }
    Error::StorageUncertain(format!(
        "postgresql: the commit's outcome is unknown ({e}): reconnect and reload"
    ))
}
