//! Detecting a storage that was rolled back: a restored backup, a disk
//! snapshot put back, a log truncated to an earlier batch. The files alone
//! cannot show it (an older copy is a consistent state), so the
//! application keeps a monotonic counter where a rollback of the files
//! does not reach it, and the guard compares the two when it opens.

use super::{Storage, WriteBatch};
use crate::{Error, Result};

/// The key of the write counter. Outside the library's prefixes (`c/`,
/// `g/`, `i/`), so no scan of the library sees it.
const SEQ_KEY: &[u8] = b"r/seq";

/// A monotonic counter the application keeps out of reach of whatever
/// could roll the storage back: a platform keystore (Android Keystore,
/// Apple Keychain), a hardware monotonic counter, or a server.
pub trait RollbackCounter: Send {
    /// The last value [`Self::advance`] recorded (0 if never).
    fn current(&self) -> Result<u64>;
    /// Records that the storage durably holds write `value`, which is
    /// greater than every value recorded before.
    fn advance(&mut self, value: u64) -> Result<()>;
}

/// A [`Storage`] that numbers its writes and keeps the application's
/// [`RollbackCounter`] at the last one made durable. Opening it on a
/// storage that holds fewer writes than the counter recorded fails with
/// [`Error::RolledBack`] (whose action is [`crate::Action::Resync`]),
/// before the client or any group is loaded from it: without the guard a
/// rolled-back store loads silently and sends again at generations it
/// already used, which peers drop as replays.
///
/// A write lands in the storage before the counter advances: a crash in
/// between leaves the storage one write ahead, which the next open
/// accepts and records. If advancing the counter fails, the write stands
/// and the next write tries again (a rollback to before that write is then
/// not detected).
pub struct RollbackGuard<S> {
    inner: S,
    counter: Box<dyn RollbackCounter>,
    /// The last write the storage holds.
    stored: u64,
    /// The last write the counter recorded.
    recorded: u64,
}

impl<S: Storage> RollbackGuard<S> {
    /// Opens `inner` under `counter`, checking that it holds at least the
    /// writes the counter recorded.
    pub fn new(inner: S, mut counter: Box<dyn RollbackCounter>) -> Result<Self> {
        let stored = match inner.get(SEQ_KEY)? {
            None => 0,
            Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    Error::Storage(format!(
                        "record {:?} is unreadable ({} bytes, not 8): the database is corrupt \
                         or was changed outside arbor-mls",
                        String::from_utf8_lossy(SEQ_KEY),
                        bytes.len()
                    ))
                })?,
        };
        let expected = counter.current()?;
        if stored < expected {
            return Err(Error::RolledBack { stored, expected });
        }
        if stored > expected {
            counter.advance(stored)?;
        }
        Ok(Self {
            inner,
            counter,
            stored,
            recorded: stored,
        })
    }

    /// The guarded storage.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The number of the next write, put into `batch`.
    fn number(&self, batch: &mut WriteBatch) -> Result<u64> {
        let next = self
            .stored
            .checked_add(1)
            .ok_or_else(|| Error::Storage("the write counter is exhausted".into()))?;
        batch.put(SEQ_KEY.to_vec(), next.to_be_bytes().to_vec());
        Ok(next)
    }

    /// Advances the counter to the last durable write, if behind.
    fn record(&mut self) {
        if self.recorded < self.stored && self.counter.advance(self.stored).is_ok() {
            self.recorded = self.stored;
        }
    }
}

impl<S: Storage> Storage for RollbackGuard<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut found = self.inner.scan(prefix)?;
        found.retain(|(k, _)| k != SEQ_KEY);
        Ok(found)
    }

    fn write(&mut self, mut batch: WriteBatch) -> Result<()> {
        let next = self.number(&mut batch)?;
        self.inner.write(batch)?;
        self.stored = next;
        self.record();
        Ok(())
    }

    fn write_unflushed(&mut self, mut batch: WriteBatch) -> Result<()> {
        let next = self.number(&mut batch)?;
        self.inner.write_unflushed(batch)?;
        self.stored = next;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()?;
        self.record();
        Ok(())
    }

    fn compact(&mut self) -> Result<()> {
        self.inner.compact()
    }

    fn write_if(
        &mut self,
        key: &[u8],
        expected: Option<&[u8]>,
        mut batch: WriteBatch,
    ) -> Result<()> {
        let next = self.number(&mut batch)?;
        self.inner.write_if(key, expected, batch)?;
        self.stored = next;
        self.record();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;

    struct Counter(u64);

    impl RollbackCounter for Counter {
        fn current(&self) -> Result<u64> {
            Ok(self.0)
        }
        fn advance(&mut self, value: u64) -> Result<()> {
            self.0 = value;
            Ok(())
        }
    }

    #[test]
    fn a_guarded_storage_conforms_and_hides_its_counter() {
        let mut guarded =
            RollbackGuard::new(MemoryStorage::new(), Box::new(Counter(0))).expect("open");
        crate::storage::conformance::run(&mut guarded);
        assert!(guarded.stored > 0);
        assert_eq!(guarded.recorded, guarded.stored);
    }

    #[test]
    fn a_guarded_storage_forwards_conditional_writes() {
        let mut guarded =
            RollbackGuard::new(MemoryStorage::new(), Box::new(Counter(0))).expect("open");
        crate::storage::conformance::run_conditional(&mut guarded);
        // Four accepted conditional writes, each numbered; refused ones not.
        assert_eq!(guarded.stored, 4);
        assert_eq!(guarded.recorded, 4);
    }

    #[test]
    fn a_counter_ahead_of_the_storage_refuses_it() {
        match RollbackGuard::new(MemoryStorage::new(), Box::new(Counter(3))) {
            Err(Error::RolledBack {
                stored: 0,
                expected: 3,
            }) => {}
            other => panic!("expected RolledBack, got {:?}", other.map(|_| ())),
        }
    }
}
