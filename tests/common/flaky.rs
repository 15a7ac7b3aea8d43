//! A storage whose writes (and, separately, flushes) fail on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arbor_mls::Error;
use arbor_mls::storage::{MemoryStorage, Storage, WriteBatch};

/// A memory storage whose writes fail while `failing` is set, and whose
/// flush fails while `flush_failing` is set (a disk that loses its sync:
/// the unflushed batches are applied all the same). It counts the batches
/// handed over unflushed.
pub(crate) struct Flaky {
    pub(crate) inner: MemoryStorage,
    pub(crate) failing: Arc<AtomicBool>,
    pub(crate) flush_failing: Arc<AtomicBool>,
    pub(crate) unflushed: Arc<AtomicUsize>,
}

impl Storage for Flaky {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Storage("disk full (test)".into()));
        }
        self.inner.write(batch)
    }
    fn write_unflushed(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        self.write(batch)?;
        self.unflushed.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn flush(&mut self) -> arbor_mls::Result<()> {
        if self.flush_failing.load(Ordering::SeqCst) {
            return Err(Error::Storage("fdatasync: I/O error (test)".into()));
        }
        Ok(())
    }
}

impl Flaky {
    /// A working store, and the switch that makes its writes fail.
    pub(crate) fn new() -> (Self, Arc<AtomicBool>) {
        let failing = Arc::new(AtomicBool::new(false));
        let store = Self {
            inner: MemoryStorage::new(),
            failing: failing.clone(),
            flush_failing: Arc::new(AtomicBool::new(false)),
            unflushed: Arc::new(AtomicUsize::new(0)),
        };
        (store, failing)
    }
}
