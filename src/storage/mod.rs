//! Persistent state: a small key-value interface that applications can
//! implement over any store (IndexedDB, Postgres, a keychain), and an
//! in-memory and a SQLite implementation. The versioned records the library
//! writes into it are encoded above the engine (see `docs/persistence.md`).
//!
//! The library writes each state transition (a merge, a pending commit, a
//! key package created or used, a message sent or received) as one
//! [`WriteBatch`], before the transition's result leaves the library: after
//! a crash the stored state is the one before or the one after it.

use std::ops::Bound;
use std::sync::{Arc, Mutex};

use zeroize::Zeroize;

use crate::{Error, Result};

mod async_storage;
mod encrypted;
mod memory;
mod rollback;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_log;
#[cfg(feature = "sqlite")]
mod sqlite_logfile;
#[cfg(feature = "sqlite")]
mod sqlite_registry;
pub(crate) mod write_queue;

pub use async_storage::{AsyncStorage, MaybeSend, MaybeSync, StorageFuture};
pub use encrypted::{EncryptedStorage, StorageKey};
pub use memory::MemoryStorage;
pub use rollback::{RollbackCounter, RollbackGuard};
#[cfg(feature = "sqlite")]
pub use sqlite::{LogLimits, SqliteStorage};

/// How hard a backend works to make a written batch survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Each batch is on stable storage when [`Storage::write`] returns
    /// (`SqliteStorage`: one `fdatasync` of its log file per batch, folds
    /// committed with `synchronous=FULL`). A process crash or a power loss
    /// keeps every returned transition.
    #[default]
    Durable,
    /// Batches are atomic and survive a process crash, but the last few may
    /// be lost on a power loss or OS crash (`SqliteStorage`: the log file
    /// is not synced, folds still are, so at most a fold cycle of batches
    /// is lost). A lost batch can be
    /// a sent message's ratchet step: after such a loss the group MUST be
    /// treated as compromised and rejoined, because a generation may be
    /// reused. Use only where the OS is trusted not to crash.
    Fast,
}

/// One atomic group of changes: all of them are applied, or none. Values
/// hold secrets: they are zeroized when the batch is dropped and shown in
/// `Debug` by length only.
#[derive(Default)]
pub struct WriteBatch {
    /// Puts (`Some`) and deletes (`None`), applied in order.
    pub ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Prefixes whose records are all deleted, before `ops` are applied.
    pub delete_prefixes: Vec<Vec<u8>>,
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ops: Vec<String> = self
            .ops
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("put {} ({} bytes)", String::from_utf8_lossy(k), v.len()),
                None => format!("delete {}", String::from_utf8_lossy(k)),
            })
            .collect();
        f.debug_struct("WriteBatch")
            .field("delete_prefixes", &self.delete_prefixes.len())
            .field("ops", &ops)
            .finish()
    }
}

impl Drop for WriteBatch {
    fn drop(&mut self) {
        for (_, value) in &mut self.ops {
            if let Some(v) = value {
                v.zeroize();
            }
        }
    }
}

impl WriteBatch {
    /// Stores `value` under `key`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Deletes `key` (no error if absent).
    pub fn delete(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// Deletes every record whose key starts with `prefix`.
    pub fn delete_prefix(&mut self, prefix: Vec<u8>) {
        self.delete_prefixes.push(prefix);
    }

    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.delete_prefixes.is_empty()
    }

    /// Bytes of keys and values the batch puts (for measurements).
    pub fn bytes_written(&self) -> usize {
        self.ops
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// A key-value store of byte records. Keys sort bytewise.
///
/// Implementations must apply a [`WriteBatch`] atomically: a crash during
/// [`Self::write`] leaves either none or all of it. Deleted values should
/// not stay readable on disk (the library deletes consumed keys for forward
/// secrecy).
pub trait Storage: Send {
    /// The record under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every record whose key starts with `prefix`, by ascending key.
    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Applies `batch` atomically (prefix deletes first, then the ops in
    /// order), durably as the backend's [`Durability`] says.
    fn write(&mut self, batch: WriteBatch) -> Result<()>;

    /// Applies `batch` atomically like [`Self::write`], but may return
    /// before it is durable: it is once [`Self::flush`] returns. The library
    /// calls `flush` before the transition's result leaves it, and meanwhile
    /// does work that needs no storage (a merge's part in memory, signing
    /// and sealing a message being sent), so a backend can overlap its sync
    /// with that work.
    ///
    /// A crash before `flush` may keep or lose the batch, never part of it,
    /// and never a later batch without it. Reads see the batch at once. The
    /// default is [`Self::write`]; a wrapper around another backend should
    /// forward both methods (and [`Self::compact`]).
    fn write_unflushed(&mut self, batch: WriteBatch) -> Result<()> {
        self.write(batch)
    }

    /// Makes every batch written so far durable, as [`Self::write`] would
    /// have. If it fails, the backend must refuse later writes until it is
    /// reopened, with [`Error::StorageUncertain`] (whose action is
    /// [`Action::Reopen`](crate::Action::Reopen)): the batches since the
    /// last successful flush may or may not be stored. The default does
    /// nothing.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    /// Removes from the disk the values that written batches overwrote or
    /// deleted but the backend still keeps, such as keys consumed by
    /// decrypting (forward secrecy on disk): `SqliteStorage` folds its
    /// log of batches into its records and erases the log. The library
    /// never calls it; an app may, e.g. when idle
    /// ([`Client::compact_storage`](crate::Client::compact_storage)). The
    /// default does nothing (a backend that overwrites in place has nothing
    /// to remove).
    fn compact(&mut self) -> Result<()> {
        Ok(())
    }

    /// Applies `batch` like [`Self::write`], but only if the record under
    /// `key` is `expected` (`None`: absent) when the batch is applied; the
    /// check and the batch are one atomic step, also against other
    /// processes writing the same store. If the record differs, nothing is
    /// written and the error is [`Error::Conflict`]. Several servers
    /// sharing one database use it to accept one change per version of a
    /// record (an observer with
    /// [`ObserverOptions::shared`](crate::ObserverOptions::shared)).
    ///
    /// The default refuses with [`Error::Unsupported`]: a backend that
    /// cannot check the condition atomically must not pretend to. A wrapper
    /// around another backend should forward it.
    fn write_if(&mut self, key: &[u8], expected: Option<&[u8]>, batch: WriteBatch) -> Result<()> {
        let _ = (key, expected, batch);
        Err(Error::Unsupported(
            "this storage backend has no conditional write (Storage::write_if)".into(),
        ))
    }
}

/// [`Error::Conflict`] unless the record under `key`, `found`, is
/// `expected`: the check of [`Storage::write_if`], for backends to share.
pub fn check_expected(key: &[u8], found: Option<&[u8]>, expected: Option<&[u8]>) -> Result<()> {
    if found == expected {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "record {:?} was changed by another writer",
        String::from_utf8_lossy(key)
    )))
}

/// A storage shared by a client and its groups.
pub type SharedStorage = Arc<Mutex<dyn Storage>>;

/// Wraps a storage for sharing between a client and its groups.
pub fn shared(storage: impl Storage + 'static) -> SharedStorage {
    Arc::new(Mutex::new(storage))
}

/// Runs `f` on the locked storage. A poisoned lock (a panic elsewhere while
/// writing) is reported, not propagated as a panic.
pub(crate) fn with<T>(
    store: &SharedStorage,
    f: impl FnOnce(&mut dyn Storage) -> Result<T>,
) -> Result<T> {
    let mut guard = store.lock().map_err(|_| {
        Error::StorageUncertain(
            "the storage lock is poisoned (a thread panicked while using it): reopen the client"
                .into(),
        )
    })?;
    f(&mut *guard)
}

/// A value read back from storage: records hold secrets, so the bytes are
/// zeroized once decoded and dropped.
pub(crate) type Value = zeroize::Zeroizing<Vec<u8>>;

/// The record under `key`, zeroized on drop.
pub(crate) fn read(store: &SharedStorage, key: &[u8]) -> Result<Option<Value>> {
    Ok(with(store, |s| s.get(key))?.map(Value::new))
}

/// The records under `prefix`, values zeroized on drop.
pub(crate) fn read_prefix(store: &SharedStorage, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Value)>> {
    Ok(with(store, |s| s.scan(prefix))?
        .into_iter()
        .map(|(k, v)| (k, Value::new(v)))
        .collect())
}

/// The key range of a sorted map holding exactly the keys under `prefix`.
pub(crate) fn prefix_range(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let end = match prefix_end(prefix) {
        Some(e) => Bound::Excluded(e),
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix.to_vec()), end)
}

/// The smallest key greater than every key starting with `prefix`, if any.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
