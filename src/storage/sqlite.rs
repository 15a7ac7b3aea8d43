//! [`SqliteStorage`]: the embedded default, SQLite (bundled, no system
//! library) in WAL mode with `secure_delete`, one transaction per batch.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Durability, Storage, WriteBatch, prefix_end};
use crate::{Error, Result};

/// Records in one SQLite table `records(key, value)`.
pub struct SqliteStorage {
    conn: Connection,
    durability: Durability,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("durability", &self.durability)
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

    fn configure(conn: Connection, durability: Durability) -> Result<Self> {
        let synchronous = match durability {
            Durability::Durable => "FULL",
            Durability::Fast => "NORMAL",
        };
        // secure_delete overwrites deleted content, so a consumed message
        // key does not linger in free pages (forward secrecy on disk).
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous={synchronous};
             PRAGMA secure_delete=ON;
             CREATE TABLE IF NOT EXISTS records (
                 key BLOB PRIMARY KEY NOT NULL,
                 value BLOB NOT NULL
             ) WITHOUT ROWID;"
        ))
        .map_err(|e| sql_error("configure the database", e))?;
        Ok(Self { conn, durability })
    }

    /// The durability mode the database was opened with.
    pub fn durability(&self) -> Durability {
        self.durability
    }
}

impl Storage for SqliteStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT value FROM records WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| sql_error("read a record", e))
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let read = |e| sql_error("scan records", e);
        let rows = match prefix_end(prefix) {
            Some(end) => {
                let mut stmt = self
                    .conn
                    .prepare_cached(
                        "SELECT key, value FROM records WHERE key >= ?1 AND key < ?2 ORDER BY key",
                    )
                    .map_err(read)?;
                stmt.query_map(params![prefix, end], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached("SELECT key, value FROM records WHERE key >= ?1 ORDER BY key")
                    .map_err(read)?;
                stmt.query_map(params![prefix], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(read)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }
        };
        rows.map_err(read)
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        let fail = |e| sql_error("write a batch (nothing of it was applied)", e);
        let tx = self.conn.transaction().map_err(fail)?;
        for prefix in &batch.delete_prefixes {
            match prefix_end(prefix) {
                Some(end) => tx.execute(
                    "DELETE FROM records WHERE key >= ?1 AND key < ?2",
                    params![prefix, end],
                ),
                None => tx.execute("DELETE FROM records WHERE key >= ?1", params![prefix]),
            }
            .map_err(fail)?;
        }
        {
            let mut put = tx
                .prepare_cached("INSERT OR REPLACE INTO records (key, value) VALUES (?1, ?2)")
                .map_err(fail)?;
            let mut delete = tx
                .prepare_cached("DELETE FROM records WHERE key = ?1")
                .map_err(fail)?;
            for (key, value) in &batch.ops {
                match value {
                    Some(v) => put.execute(params![key, v]),
                    None => delete.execute(params![key]),
                }
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }
}
