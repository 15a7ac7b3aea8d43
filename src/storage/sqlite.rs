//! [`SqliteStorage`]: the embedded default, SQLite (bundled, no system
//! library) in WAL mode with `secure_delete`.
//!
//! A batch is written as one row appended to a `log` table, not spread over
//! the `records` table: SQLite logs whole B-tree pages, and a merge's ~20
//! records sit on ~30 different pages, so writing them in place made each
//! durable merge fsync ~130 KB for ~4 KB of records. The appended row dirties
//! the log's last page and its overflow pages only. Every
//! [`LogLimits::batches`] batches (or [`LogLimits::bytes`] bytes) the log is
//! folded into `records` in one transaction that also empties it.
//!
//! Crash safety: the stored state is always `records` with the log's batches
//! applied in order, and each row insert and each fold is one SQLite
//! transaction. The fold is committed without its own fsync (in durable
//! mode too): WAL transactions become durable in order, so the next batch's
//! fsync covers the fold, and a fold lost to a power cut leaves its batches
//! in the log, which describes the same state.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

use super::sqlite_log::{self, Lookup, Overlay};
use super::{Durability, Storage, WriteBatch, prefix_end};
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

/// Records in two SQLite tables: `records(key, value)`, and `log(seq,
/// batch)`, the batches written since the last fold (see the module docs).
pub struct SqliteStorage {
    conn: Connection,
    durability: Durability,
    limits: LogLimits,
    overlay: Overlay,
    logged_batches: usize,
    logged_bytes: usize,
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

fn sql_error(doing: &str, e: rusqlite::Error) -> Error {
    Error::Storage(format!("SQLite failed to {doing}: {e}"))
}

impl SqliteStorage {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| sql_error(&format!("open {}", path.display()), e))?;
        Self::configure(conn, durability)
    }

    /// A private database in memory (tests).
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
        self
    }

    fn configure(conn: Connection, durability: Durability) -> Result<Self> {
        // secure_delete overwrites deleted content, so a consumed message
        // key does not linger in free pages (forward secrecy on disk).
        conn.execute_batch(&format!(
            "PRAGMA locking_mode=EXCLUSIVE;
             PRAGMA journal_mode=WAL;
             PRAGMA synchronous={};
             PRAGMA secure_delete=ON;
             CREATE TABLE IF NOT EXISTS records (
                 key BLOB PRIMARY KEY NOT NULL,
                 value BLOB NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS log (
                 seq INTEGER PRIMARY KEY,
                 batch BLOB NOT NULL
             );",
            synchronous(durability)
        ))
        .map_err(|e| sql_error("configure the database", e))?;
        let mut storage = Self {
            conn,
            durability,
            limits: LogLimits::DEFAULT,
            overlay: Overlay::default(),
            logged_batches: 0,
            logged_bytes: 0,
        };
        storage.load_log()?;
        Ok(storage)
    }

    /// The durability mode the database was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How many batches are logged and not yet folded.
    pub fn logged_batches(&self) -> usize {
        self.logged_batches
    }

    /// Folds the log into the records now, e.g. when the app is idle, so
    /// that values overwritten or deleted by logged batches leave the log.
    pub fn fold(&mut self) -> Result<()> {
        if self.logged_batches == 0 {
            return Ok(());
        }
        let fail = |e| sql_error("fold the log into the records (nothing was lost)", e);
        // The fold needs no fsync of its own: see the module docs.
        if self.durability == Durability::Durable {
            self.conn
                .execute_batch("PRAGMA synchronous=NORMAL")
                .map_err(fail)?;
        }
        let result = self.fold_transaction();
        if self.durability == Durability::Durable {
            self.conn
                .execute_batch("PRAGMA synchronous=FULL")
                .map_err(fail)?;
        }
        result.map_err(fail)?;
        self.overlay.clear();
        self.logged_batches = 0;
        self.logged_bytes = 0;
        // Checkpointing now lets the next batch restart the WAL at its
        // start: frames are then rewritten in place, whose fsync cost less
        // than half of one that grows the file (261 against 635 µs here, on
        // ext4), and old page images are overwritten within about one fold
        // cycle.
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|e| sql_error("checkpoint the WAL after a fold", e))
    }

    fn fold_transaction(&mut self) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for prefix in self.overlay.hidden() {
            delete_prefix(&tx, prefix)?;
        }
        write_records(&tx, self.overlay.entries())?;
        tx.execute("DELETE FROM log", [])?;
        tx.commit()
    }

    /// Reads the batches logged before the database was last closed.
    fn load_log(&mut self) -> Result<()> {
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
        for (seq, row) in rows {
            let ops = sqlite_log::decode_row(&row).ok_or_else(|| {
                Error::Storage(format!(
                    "log row {seq} is corrupt, truncated or of an unknown version: \
                     restore the database from a backup"
                ))
            })?;
            for op in ops {
                self.overlay.apply(op);
            }
            self.logged_batches += 1;
            self.logged_bytes += row.len();
        }
        Ok(())
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
        match self.overlay.lookup(key) {
            Lookup::Value(v) => Ok(Some(v.to_vec())),
            Lookup::Deleted => Ok(None),
            Lookup::Stored => self.stored_get(key),
        }
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self.overlay.scan(prefix, self.stored_scan(prefix)?))
    }

    fn write(&mut self, mut batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.logged_batches >= self.limits.batches || self.logged_bytes >= self.limits.bytes {
            self.fold()?;
        }
        let fail = |e| sql_error("write a batch (nothing of it was applied)", e);
        let row = sqlite_log::encode_row(&batch);
        if row.len() >= self.limits.bytes {
            // A batch as large as the whole log (a join of a large group)
            // goes straight to the records: logging it would write it twice.
            self.fold()?;
            let tx = self.conn.transaction().map_err(fail)?;
            for prefix in &batch.delete_prefixes {
                delete_prefix(&tx, prefix).map_err(fail)?;
            }
            write_records(&tx, batch.ops.iter().map(|(k, v)| (k, v.as_deref()))).map_err(fail)?;
            return tx.commit().map_err(fail);
        }
        self.conn
            .prepare_cached("INSERT INTO log (batch) VALUES (?1)")
            .and_then(|mut s| s.execute(params![row.as_slice()]))
            .map_err(fail)?;
        self.logged_batches += 1;
        self.logged_bytes += row.len();
        // Values move into the overlay; what they replace is zeroized as it
        // drops.
        for op in sqlite_log::take_ops(&mut batch) {
            self.overlay.apply(op);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
