//! [`SqliteStorage`]: the embedded default, SQLite (bundled, no system
//! library) in WAL mode with `secure_delete`, and a log file beside it.
//!
//! A batch is appended to the log file (`<database>-log`,
//! [`super::sqlite_logfile`]), not spread over the `records` table: SQLite
//! logs whole B-tree pages, and a merge's ~20 records sit on ~30 different
//! pages, so writing them in place made each durable merge fsync ~130 KB
//! for ~4 KB of records. The log file takes the batch's own bytes, in space
//! it already has. Every [`LogLimits::batches`] batches (or
//! [`LogLimits::bytes`] bytes) the log is folded into `records` in one
//! transaction that also advances the log's generation, then the log file
//! is erased and starts over.
//!
//! Crash safety: the stored state is always `records` with the log's
//! records of the database's generation applied in order. A record is
//! checksummed and chained to the one before it, so a record cut short by
//! a crash ends the log. The fold is committed durably before the log file
//! is erased or rewritten; a crash between the two leaves records of an
//! older generation, which are ignored.
//!
//! Databases written before the log file existed have a `log` table of
//! batches; opening one folds those into `records`.

use std::cell::{Ref, RefCell};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::sqlite_log::{self, Lookup, Overlay};
use super::sqlite_logfile::{self, CHECKSUM, HEADER, LogFile, OVERHEAD};
use super::sqlite_registry;
use super::{Durability, Storage, WriteBatch, check_expected, prefix_end};
use crate::{Error, Result};

/// When [`SqliteStorage`] folds its log of batches into its records.
///
/// Until a batch is folded, the values it overwrote or deleted (e.g. a
/// consumed message key's ratchet state) are still in the log on disk, and
/// its records are also held in memory; a smaller limit shortens that
/// window, a larger one spreads the fold's cost over more batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Fold once this many batches are logged (at least 1).
    pub batches: usize,
    /// Fold once the logged batches hold this many bytes.
    pub bytes: usize,
}

impl LogLimits {
    /// The defaults: 32 batches or 256 KiB, whichever comes first.
    pub const DEFAULT: Self = Self {
        batches: 32,
        bytes: 256 * 1024,
    };
}

impl Default for LogLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Batches logged since the last fold.
#[derive(Default)]
struct Logged {
    /// Those a read has needed, applied.
    overlay: Overlay,
    /// The rest, as written to the log, oldest first: each row after
    /// [`HEADER`] bytes of its log record's header.
    unapplied: Vec<Zeroizing<Vec<u8>>>,
}

impl Logged {
    /// Applies the unapplied batches to the overlay (their values move into
    /// it; what they replace is zeroized as it drops).
    fn apply_all(&mut self) -> Result<()> {
        for record in self.unapplied.drain(..) {
            let ops = sqlite_log::decode_row(&record[HEADER..]).ok_or_else(|| {
                Error::Storage("a batch this storage logged does not decode (a bug)".into())
            })?;
            for op in ops {
                self.overlay.apply(op);
            }
        }
        Ok(())
    }
}

/// Records in the SQLite table `records(key, value)`, and the batches
/// written since the last fold in a log file beside the database (see the
/// module docs).
pub struct SqliteStorage {
    conn: Connection,
    durability: Durability,
    limits: LogLimits,
    /// `None` for a database in memory: batches go straight to `records`.
    log: Option<LogFile>,
    /// The logged batches: applied to the overlay when a read needs them,
    /// so that a write costs no map updates (reads are rare between
    /// writes: a group's state lives in memory once loaded).
    logged: RefCell<Logged>,
    logged_batches: usize,
    logged_bytes: usize,
    /// Set when appending to the log failed: the batch may or may not be
    /// on disk, so nothing more is written until the storage is reopened.
    failed: bool,
    /// This process's claim on the database file (`None` in memory).
    _held: Option<sqlite_registry::Held>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("durability", &self.durability)
            .field("limits", &self.limits)
            .field("logged_batches", &self.logged_batches)
            .finish_non_exhaustive()
    }
}

/// A failed append or sync of the log: the batch may or may not be on
/// disk, which only reopening tells.
fn uncertain(e: Error) -> Error {
    match e {
        Error::Storage(msg) => Error::StorageUncertain(format!(
            "{msg}; the batch may or may not be stored, so the storage refuses writes until \
             it is reopened"
        )),
        e => e,
    }
}

fn sql_error(doing: &str, e: rusqlite::Error) -> Error {
    Error::Storage(format!("SQLite failed to {doing}: {e}"))
}

impl SqliteStorage {
    /// Opens (creating if needed) the database at `path`, and its log file
    /// `<path>-log`. Both are held by this storage alone until it is
    /// dropped: another open of the same database fails.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| sql_error(&format!("open {}", path.display()), e))?;
        let held = sqlite_registry::hold(path)?;
        // Another process holding the database is not waited for: the
        // lock is kept for that storage's whole life.
        conn.busy_timeout(std::time::Duration::ZERO)
            .map_err(|e| sql_error("set the busy timeout", e))?;
        let mut storage = Self::configure(conn, durability).map_err(|e| match e {
            Error::Storage(msg) if msg.contains("locked") => Error::Storage(format!(
                "the database {} is held by another process (an arbor-mls storage holds \
                 its database for as long as it lives): {msg}",
                path.display()
            )),
            e => e,
        })?;
        storage._held = Some(held);
        let opened = LogFile::open(
            sqlite_logfile::path_of(path),
            storage.generation()?,
            durability == Durability::Durable,
            durability == Durability::Durable,
        )?;
        let mut log = opened.log;
        log.capacity = log_capacity(&storage.limits);
        storage.log = Some(log);
        for (seq, batch) in opened.batches.iter().enumerate() {
            if let Some(&version) = batch.first().filter(|v| **v > sqlite_log::LOG_VERSION) {
                return Err(Error::Storage(format!(
                    "batch {seq} of the log file of {} has row format {version}, newer than \
                     this library's {}: open the database with a newer arbor-mls",
                    path.display(),
                    sqlite_log::LOG_VERSION
                )));
            }
            let ops = sqlite_log::decode_row(batch).ok_or_else(|| {
                Error::Storage(format!(
                    "batch {seq} of the log file of {} is malformed (its checksum is valid): \
                     restore the database and its log from a backup",
                    path.display()
                ))
            })?;
            storage.apply_logged(ops, batch.len());
        }
        Ok(storage)
    }

    /// A private database in memory (tests). It has no log file: each batch
    /// is one transaction on `records`.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(|e| sql_error("open in memory", e))?;
        Self::configure(conn, Durability::Durable)
    }

    /// Sets when the log is folded (default [`LogLimits::DEFAULT`]). A
    /// `batches` of 0 is taken as 1.
    pub fn with_log_limits(mut self, limits: LogLimits) -> Self {
        self.limits = LogLimits {
            batches: limits.batches.max(1),
            bytes: limits.bytes,
        };
        if let Some(log) = &mut self.log {
            log.capacity = log_capacity(&self.limits);
        }
        self
    }

    fn configure(conn: Connection, durability: Durability) -> Result<Self> {
        // secure_delete overwrites deleted content, so a consumed message
        // key does not linger in free pages (forward secrecy on disk).
        // `BEGIN EXCLUSIVE` takes the lock that locking_mode=EXCLUSIVE then
        // keeps: the log file is ours alone from here on.
        conn.execute_batch(&format!(
            "PRAGMA locking_mode=EXCLUSIVE;
             PRAGMA journal_mode=WAL;
             PRAGMA synchronous={};
             PRAGMA secure_delete=ON;
             BEGIN EXCLUSIVE;
             CREATE TABLE IF NOT EXISTS records (
                 key BLOB PRIMARY KEY NOT NULL,
                 value BLOB NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS log (
                 seq INTEGER PRIMARY KEY,
                 batch BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS log_file (
                 id INTEGER PRIMARY KEY CHECK (id = 0),
                 generation INTEGER NOT NULL
             );
             INSERT OR IGNORE INTO log_file (id, generation) VALUES (0, 0);
             COMMIT;",
            synchronous(durability)
        ))
        .map_err(|e| sql_error("configure the database", e))?;
        let mut storage = Self {
            conn,
            durability,
            limits: LogLimits::DEFAULT,
            log: None,
            logged: RefCell::default(),
            logged_batches: 0,
            logged_bytes: 0,
            failed: false,
            _held: None,
        };
        storage.fold_log_table()?;
        Ok(storage)
    }

    fn generation(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT generation FROM log_file WHERE id = 0", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|g| g as u64)
            .map_err(|e| sql_error("read the log generation", e))
    }

    /// The durability mode the database was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How many batches are logged and not yet folded.
    pub fn logged_batches(&self) -> usize {
        self.logged_batches
    }

    fn apply_logged(&mut self, ops: Vec<sqlite_log::Op>, len: usize) {
        let overlay = &mut self.logged.get_mut().overlay;
        for op in ops {
            overlay.apply(op);
        }
        self.logged_batches += 1;
        self.logged_bytes += len;
    }

    /// The overlay with every logged batch applied.
    fn overlay(&self) -> Result<Ref<'_, Overlay>> {
        let pending = !self.logged.borrow().unapplied.is_empty();
        if pending {
            self.logged.borrow_mut().apply_all()?;
        }
        Ok(Ref::map(self.logged.borrow(), |l| &l.overlay))
    }

    /// Folds the log into the records now, e.g. when the app is idle: the
    /// log file is then erased, so values that logged batches overwrote or
    /// deleted leave the disk.
    pub fn fold(&mut self) -> Result<()> {
        if self.logged_batches == 0 {
            return Ok(());
        }
        self.logged.get_mut().apply_all()?;
        let fail = |e| sql_error("fold the log into the records (nothing was lost)", e);
        // Committed with synchronous=FULL in both modes: the log file is
        // erased next, so the fold must be on disk first.
        if self.durability == Durability::Fast {
            self.conn
                .execute_batch("PRAGMA synchronous=FULL")
                .map_err(fail)?;
        }
        let result = self.fold_transaction();
        if self.durability == Durability::Fast {
            self.conn
                .execute_batch("PRAGMA synchronous=NORMAL")
                .map_err(fail)?;
        }
        let generation = result.map_err(fail)?;
        self.logged.get_mut().overlay.clear();
        self.logged_batches = 0;
        self.logged_bytes = 0;
        if let Some(log) = &mut self.log {
            log.restart(generation)?;
        }
        // Checkpointing keeps the WAL small and rewritten in place, and old
        // page images are overwritten within about one fold cycle.
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|e| sql_error("checkpoint the WAL after a fold", e))
    }

    /// Applies the overlay to `records`, empties the `log` table and
    /// advances the generation, in one transaction: the new generation.
    fn fold_transaction(&mut self) -> rusqlite::Result<u64> {
        let overlay = &self.logged.get_mut().overlay;
        let tx = self.conn.transaction()?;
        for prefix in overlay.hidden() {
            delete_prefix(&tx, prefix)?;
        }
        write_records(&tx, overlay.entries())?;
        tx.execute("DELETE FROM log", [])?;
        let generation: i64 = tx.query_row(
            "UPDATE log_file SET generation = generation + 1 WHERE id = 0 RETURNING generation",
            [],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(generation as u64)
    }

    /// Folds the `log` table of a database written before the log file
    /// existed (empty otherwise).
    fn fold_log_table(&mut self) -> Result<()> {
        let read = |e| sql_error("read the log", e);
        let mut stmt = self
            .conn
            .prepare("SELECT seq, batch FROM log ORDER BY seq")
            .map_err(read)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, Zeroizing::new(r.get::<_, Vec<u8>>(1)?)))
            })
            .map_err(read)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(read)?;
        drop(stmt);
        if rows.is_empty() {
            return Ok(());
        }
        for (seq, row) in rows {
            let ops = sqlite_log::decode_row(&row).ok_or_else(|| {
                Error::Storage(format!(
                    "log row {seq} is corrupt, truncated or of an unknown version: \
                     restore the database from a backup"
                ))
            })?;
            self.apply_logged(ops, row.len());
        }
        self.fold()
    }

    /// Applies `batch` to `records` in one transaction.
    fn write_direct(&mut self, batch: &WriteBatch) -> Result<()> {
        let fail = |e| sql_error("write a batch (nothing of it was applied)", e);
        let tx = self.conn.transaction().map_err(fail)?;
        for prefix in &batch.delete_prefixes {
            delete_prefix(&tx, prefix).map_err(fail)?;
        }
        write_records(&tx, batch.ops.iter().map(|(k, v)| (k, v.as_deref()))).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    fn stored_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached("SELECT value FROM records WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |row| row.get(0)).optional())
            .map_err(|e| sql_error("read a record", e))
    }

    fn stored_scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let read = |e| sql_error("scan records", e);
        let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?));
        match prefix_end(prefix) {
            Some(end) => self
                .conn
                .prepare_cached(
                    "SELECT key, value FROM records WHERE key >= ?1 AND key < ?2 ORDER BY key",
                )
                .and_then(|mut s| s.query_map(params![prefix, end], row)?.collect()),
            None => self
                .conn
                .prepare_cached("SELECT key, value FROM records WHERE key >= ?1 ORDER BY key")
                .and_then(|mut s| s.query_map(params![prefix], row)?.collect()),
        }
        .map_err(read)
    }
}

/// Applies puts (`Some`) and deletes to the `records` table (inside a
/// transaction).
fn write_records<'a>(
    tx: &rusqlite::Transaction<'_>,
    ops: impl IntoIterator<Item = (&'a Vec<u8>, Option<&'a [u8]>)>,
) -> rusqlite::Result<()> {
    let mut put =
        tx.prepare_cached("INSERT OR REPLACE INTO records (key, value) VALUES (?1, ?2)")?;
    let mut delete = tx.prepare_cached("DELETE FROM records WHERE key = ?1")?;
    for (key, value) in ops {
        match value {
            Some(v) => put.execute(params![key, v])?,
            None => delete.execute(params![key])?,
        };
    }
    Ok(())
}

/// Deletes the records under `prefix` (inside a transaction).
fn delete_prefix(tx: &rusqlite::Transaction<'_>, prefix: &[u8]) -> rusqlite::Result<usize> {
    match prefix_end(prefix) {
        Some(end) => tx.execute(
            "DELETE FROM records WHERE key >= ?1 AND key < ?2",
            params![prefix, end],
        ),
        None => tx.execute("DELETE FROM records WHERE key >= ?1", params![prefix]),
    }
}

fn synchronous(durability: Durability) -> &'static str {
    match durability {
        Durability::Durable => "FULL",
        Durability::Fast => "NORMAL",
    }
}

impl Storage for SqliteStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay()?.lookup(key) {
            Lookup::Value(v) => return Ok(Some(v.to_vec())),
            Lookup::Deleted => return Ok(None),
            Lookup::Stored => {}
        }
        self.stored_get(key)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let stored = self.stored_scan(prefix)?;
        Ok(self.overlay()?.scan(prefix, stored))
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        self.log_batch(batch, true)
    }

    /// Appends to the log file and, in durable mode, starts writing its
    /// pages to disk without waiting for them; [`Self::flush`] waits.
    fn write_unflushed(&mut self, batch: WriteBatch) -> Result<()> {
        self.log_batch(batch, false)
    }

    fn flush(&mut self) -> Result<()> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        log.sync().map_err(|e| {
            // Linux may have dropped the unwritten pages (a later fsync
            // would then succeed): only reopening tells what is stored.
            self.failed = true;
            uncertain(e)
        })
    }

    /// Folds the log now ([`SqliteStorage::fold`]): the values the logged
    /// batches overwrote or deleted leave the disk. Refused, like writes,
    /// after a failed write or flush.
    fn compact(&mut self) -> Result<()> {
        self.refuse_if_failed()?;
        self.fold()
    }

    /// The database is locked exclusively by this storage for its whole
    /// life and `&mut self` excludes other writers of it, so the check
    /// and the write are one step.
    fn write_if(&mut self, key: &[u8], expected: Option<&[u8]>, batch: WriteBatch) -> Result<()> {
        check_expected(key, self.get(key)?.as_deref(), expected)?;
        self.write(batch)
    }
}

impl SqliteStorage {
    /// Refuses to write once a write or flush of the log failed: which
    /// batches are stored is known only after reopening.
    fn refuse_if_failed(&self) -> Result<()> {
        if self.failed {
            return Err(Error::StorageUncertain(
                "an earlier write to the batch log failed (that batch may or may not be \
                 stored): reopen the storage"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Writes `batch` into the log (or, when it is as large as the log,
    /// into the records), synced now with `now` or by the next
    /// [`Storage::flush`].
    fn log_batch(&mut self, batch: WriteBatch, now: bool) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.refuse_if_failed()?;
        let Some(capacity) = self.log.as_ref().map(|l| l.capacity) else {
            return self.write_direct(&batch);
        };
        // The row is framed as a log record in place: `record[HEADER..]`.
        let mut record = sqlite_log::encode_row_within(&batch, HEADER, CHECKSUM);
        let row_len = record.len() - HEADER;
        if row_len >= self.limits.bytes || (row_len + OVERHEAD) as u64 > capacity {
            // A batch as large as the whole log (a join of a large group)
            // goes straight to the records: logging it would write it twice.
            self.fold()?;
            return self.write_direct(&batch);
        }
        let full = self.logged_batches >= self.limits.batches
            || self.logged_bytes >= self.limits.bytes
            || self.log.as_ref().is_some_and(|l| !l.fits(row_len));
        if full {
            self.fold()?;
        }
        if let Some(log) = &mut self.log
            && let Err(e) = if now {
                log.append(&mut record)
            } else {
                log.append_unsynced(&mut record)
            }
        {
            self.failed = true;
            return Err(uncertain(e));
        }
        self.logged_batches += 1;
        self.logged_bytes += row_len;
        self.logged.get_mut().unapplied.push(record);
        Ok(())
    }
}

/// The log file's size for `limits`: room for a full log plus one batch
/// just under the byte limit, at most [`sqlite_logfile::MAX_CAPACITY`].
fn log_capacity(limits: &LogLimits) -> u64 {
    let records = limits.bytes.saturating_mul(2) as u64;
    // Framing, and the gap before a record moved to the next page.
    let overhead = limits
        .batches
        .saturating_add(1)
        .saturating_mul(OVERHEAD + sqlite_logfile::PAGE as usize) as u64;
    records
        .saturating_add(overhead)
        .min(sqlite_logfile::MAX_CAPACITY)
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
