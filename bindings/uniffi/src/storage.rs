//! Storage implemented in the foreign language: the three operations of
//! [`arbor_mls::storage::Storage`] as a callback interface, optionally
//! sealed at rest by [`arbor_mls::storage::EncryptedStorage`].

use arbor_mls::storage::{self, EncryptedStorage, SharedStorage, Storage, StorageKey, WriteBatch};
use zeroize::Zeroize;

use crate::error::MlsError;

/// One stored record.
#[derive(uniffi::Record)]
pub struct StoredRecord {
    /// The record's key.
    pub key: Vec<u8>,
    /// Its value.
    pub value: Vec<u8>,
}

/// One change of a [`StorageBatch`]: a put (`value` set) or a delete
/// (`value` null).
#[derive(uniffi::Record)]
pub struct StorageOp {
    /// The record's key.
    pub key: Vec<u8>,
    /// The new value, or null to delete the record (no error if absent).
    pub value: Option<Vec<u8>>,
}

/// One atomic group of changes ([`arbor_mls::storage::WriteBatch`]): first
/// delete every record under each of `delete_prefixes`, then apply `ops`
/// in order. All of it is stored, or none.
#[derive(uniffi::Record)]
pub struct StorageBatch {
    /// Prefixes whose records are all deleted, before `ops`.
    pub delete_prefixes: Vec<Vec<u8>>,
    /// Puts and deletes, applied in order.
    pub ops: Vec<StorageOp>,
}

/// A failure the storage callbacks report, by raising (Python), throwing
/// (Kotlin, Swift) this error.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum StorageFailure {
    /// Nothing was stored (e.g. the store is unavailable): the operation
    /// fails with action `Retry`, and the group is unchanged.
    #[error("{reason}")]
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// The batch may or may not have been stored (e.g. a timeout after
    /// sending it): the operation fails with action `Reopen`, and the
    /// storage refuses further writes until the client is opened again.
    #[error("{reason}")]
    Uncertain {
        /// What went wrong.
        reason: String,
    },
}

/// Any other exception a callback raises: its outcome is unknown, so it
/// counts as [`StorageFailure::Uncertain`].
impl From<uniffi::UnexpectedUniFFICallbackError> for StorageFailure {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Uncertain {
            reason: format!("the storage callback raised an unexpected error: {error}"),
        }
    }
}

/// A key-value store of byte records, implemented by the application (a
/// dictionary, a file, a platform database). Keys sort bytewise.
///
/// `write` must apply a batch atomically: after a crash, all of it is
/// stored or none. The library calls `write` before a transition's result
/// (a ciphertext, a commit, an event) leaves it, so that result is never
/// seen unless its state is stored. Values hold secrets: keep the store
/// private to the application, or pass an [`EncryptionKey`] to seal them.
#[uniffi::export(callback_interface)]
pub trait StorageCallback: Send + Sync {
    /// The value under `key`, or null.
    fn get(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, StorageFailure>;
    /// Every record whose key starts with `prefix`, by ascending key
    /// (bytewise).
    fn scan(&self, prefix: Vec<u8>) -> Result<Vec<StoredRecord>, StorageFailure>;
    /// Applies `batch` atomically and durably.
    fn write(&self, batch: StorageBatch) -> Result<(), StorageFailure>;
}

/// A 32-byte key (from a platform keystore) that seals every stored value
/// with XChaCha20-Poly1305, bound to its record key
/// ([`arbor_mls::storage::EncryptedStorage`]). `id` is stored beside each
/// value, so keys can be rotated.
#[derive(uniffi::Record)]
pub struct EncryptionKey {
    /// The key's id.
    pub id: u32,
    /// The key: 32 uniformly random bytes, not a password.
    pub key: Vec<u8>,
}

/// The application's callbacks as a [`Storage`].
struct ForeignStorage {
    callback: Box<dyn StorageCallback>,
    /// Set when a write's outcome became unknown: later writes are refused
    /// until the storage is opened again, as [`Storage::flush`] requires.
    uncertain: bool,
}

impl ForeignStorage {
    fn failure(&mut self, failure: StorageFailure, during_write: bool) -> arbor_mls::Error {
        match failure {
            StorageFailure::Failed { reason } => {
                arbor_mls::Error::Storage(format!("the storage callback failed: {reason}"))
            }
            StorageFailure::Uncertain { reason } => {
                if during_write {
                    self.uncertain = true;
                }
                arbor_mls::Error::StorageUncertain(format!(
                    "the storage callback may or may not have stored the write: {reason}"
                ))
            }
        }
    }
}

impl Storage for ForeignStorage {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.callback.get(key.to_vec()).map_err(|f| match f {
            StorageFailure::Failed { reason } | StorageFailure::Uncertain { reason } => {
                arbor_mls::Error::Storage(format!("the storage callback failed to read: {reason}"))
            }
        })
    }

    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let records = self.callback.scan(prefix.to_vec()).map_err(|f| match f {
            StorageFailure::Failed { reason } | StorageFailure::Uncertain { reason } => {
                arbor_mls::Error::Storage(format!("the storage callback failed to scan: {reason}"))
            }
        })?;
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = records
            .into_iter()
            .filter(|r| r.key.starts_with(prefix))
            .map(|r| (r.key, r.value))
            .collect();
        // The library relies on the order; a callback that forgot to sort
        // costs a sort, not a wrong result.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn write(&mut self, mut batch: WriteBatch) -> arbor_mls::Result<()> {
        if self.uncertain {
            return Err(arbor_mls::Error::StorageUncertain(
                "an earlier write through the storage callback has an unknown outcome: drop the \
                 client and its groups, and open the storage again"
                    .into(),
            ));
        }
        // The values are copied into the foreign language's buffers, which
        // the library cannot wipe; its own copies are zeroized when
        // `batch` drops.
        let foreign = StorageBatch {
            delete_prefixes: std::mem::take(&mut batch.delete_prefixes),
            ops: batch
                .ops
                .iter()
                .map(|(key, value)| StorageOp {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        };
        self.callback
            .write(foreign)
            .map_err(|f| self.failure(f, true))
    }
}

/// The shared storage for a client: the callbacks, sealed under `key` if
/// one is given. A wrong key fails here, with the library's message.
pub(crate) fn open(
    callback: Box<dyn StorageCallback>,
    key: Option<EncryptionKey>,
) -> Result<SharedStorage, MlsError> {
    let foreign = ForeignStorage {
        callback,
        uncertain: false,
    };
    let Some(mut key) = key else {
        return Ok(storage::shared(foreign));
    };
    let parsed = StorageKey::from_slice(key.id, &key.key);
    key.key.zeroize();
    let sealed = EncryptedStorage::open(foreign, parsed?)?;
    Ok(storage::shared(sealed))
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
