//! A [`Storage`] wrapper that announces every batch before it reaches the
//! backend: the child prints `BATCH <digest>`, the digest of the whole
//! stored state once the batch is applied, and only then writes. After a
//! SIGKILL the parent thus knows both states a crash may leave (the one
//! before the batch and the announced one after it) and compares them with
//! what the restarted child reads back.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use arbor_mls::Result;
use arbor_mls::storage::{Storage, WriteBatch};
use sha2::{Digest, Sha256};

/// Every stored record, as key and SHA-256 of the value: enough to tell
/// two stored states apart without keeping their secrets around.
#[derive(Default)]
pub(crate) struct Mirror(BTreeMap<Vec<u8>, [u8; 32]>);

impl Mirror {
    /// The records `storage` holds now.
    pub(crate) fn of(storage: &dyn Storage) -> Self {
        let records = storage.scan(b"").expect("scan the stored records");
        Self(
            records
                .into_iter()
                .map(|(k, v)| (k, Sha256::digest(&v).into()))
                .collect(),
        )
    }

    /// Applies `batch` as the [`Storage`] contract says: prefix deletes
    /// first, then the operations in order.
    fn apply(&mut self, batch: &WriteBatch) {
        for prefix in &batch.delete_prefixes {
            self.0.retain(|k, _| !k.starts_with(prefix));
        }
        for (key, value) in &batch.ops {
            match value {
                Some(v) => self.0.insert(key.clone(), Sha256::digest(v).into()),
                None => self.0.remove(key),
            };
        }
    }

    /// SHA-256 over every key and value hash in key order, in hex.
    pub(crate) fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in &self.0 {
            h.update((k.len() as u64).to_be_bytes());
            h.update(k);
            h.update(v);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Forwards to `inner`, announcing each batch on stdout first.
pub(crate) struct RecordingStorage<S> {
    inner: S,
    mirror: Arc<Mutex<Mirror>>,
}

impl<S: Storage> RecordingStorage<S> {
    /// Wraps `inner`; `mirror` must hold what `inner` stores.
    pub(crate) fn new(inner: S, mirror: Arc<Mutex<Mirror>>) -> Self {
        Self { inner, mirror }
    }

    fn announce(&self, batch: &WriteBatch) {
        let mut mirror = self.mirror.lock().expect("mirror");
        mirror.apply(batch);
        let mut out = std::io::stdout().lock();
        writeln!(out, "BATCH {}", mirror.digest()).expect("write");
        out.flush().expect("flush");
    }
}

impl<S: Storage> Storage for RecordingStorage<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        self.announce(&batch);
        self.inner.write(batch)
    }

    fn write_unflushed(&mut self, batch: WriteBatch) -> Result<()> {
        self.announce(&batch);
        self.inner.write_unflushed(batch)
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn compact(&mut self) -> Result<()> {
        self.inner.compact()
    }
}
