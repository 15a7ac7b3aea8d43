//! The synchronous side of an asynchronous store: [`MirrorStorage`], a
//! [`Storage`] over an in-memory copy of the store's records that queues
//! every batch it applies, and [`WriteQueue`], through which the batches
//! reach the [`AsyncStorage`] one at a time and in order.
//!
//! The engine stays synchronous: it reads and writes the mirror, and the
//! async client awaits [`WriteQueue::settle`] before it hands out the
//! operation's result.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::{AsyncStorage, MemoryStorage, Storage, WriteBatch};
use crate::{Error, Result};

/// Batches applied to the mirror and not yet confirmed by the store.
#[derive(Default)]
struct Queue {
    /// Not yet durable, oldest first; the front is the one being written.
    pending: VecDeque<WriteBatch>,
    /// How many batches were ever queued.
    queued: u64,
    /// How many of them the store confirmed (the front of `pending` is
    /// batch `durable + 1`).
    durable: u64,
    /// Whether a future is writing the front batch.
    writing: bool,
    /// Futures waiting for the writer to finish.
    waiters: Vec<Waker>,
    /// Why the store can no longer be trusted, once a write failed.
    failed: Option<String>,
}

impl Queue {
    fn uncertain(&self) -> Result<()> {
        match &self.failed {
            None => Ok(()),
            Some(why) => Err(Error::StorageUncertain(format!(
                "a write to the asynchronous store failed ({why}); the client's state may be \
                 ahead of the stored one: reopen the client from the store"
            ))),
        }
    }
}

/// The queue of batches between a [`MirrorStorage`] and its store.
#[derive(Clone, Default)]
pub(crate) struct WriteQueue(Arc<Mutex<Queue>>);

/// A copy of `batch` (the queue keeps the original until the store has it).
fn copy(batch: &WriteBatch) -> WriteBatch {
    WriteBatch {
        ops: batch.ops.clone(),
        delete_prefixes: batch.delete_prefixes.clone(),
    }
}

impl WriteQueue {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue's fields
        // consistent (every update is a single assignment or push).
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Error::StorageUncertain`] once a write failed.
    pub(crate) fn check(&self) -> Result<()> {
        self.lock().uncertain()
    }

    /// How many batches wait for the store.
    pub(crate) fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    fn push(&self, batch: WriteBatch) -> Result<()> {
        let mut q = self.lock();
        q.uncertain()?;
        q.pending.push_back(batch);
        q.queued += 1;
        Ok(())
    }

    /// Writes to `store`, in order, every batch queued so far (also those
    /// that other operations queued), and returns once the store has
    /// confirmed them all. Only one future writes at a time; the others
    /// wait for it.
    ///
    /// Dropped before it returns, it leaves the batches it did not see
    /// confirmed in the queue, the front one included (the store may or
    /// may not have applied it): the next `settle` writes them again.
    pub(crate) async fn settle(&self, store: &dyn AsyncStorage) -> Result<()> {
        let target = self.lock().queued;
        loop {
            let next = poll_fn(|cx| {
                let mut q = self.lock();
                if let Err(e) = q.uncertain() {
                    return Poll::Ready(Err(e));
                }
                if q.durable >= target {
                    return Poll::Ready(Ok(None));
                }
                if q.writing {
                    q.waiters.push(cx.waker().clone());
                    return Poll::Pending;
                }
                let Some(front) = q.pending.front() else {
                    // Unreachable while `durable < target <= queued`.
                    return Poll::Ready(Ok(None));
                };
                let batch = copy(front);
                q.writing = true;
                Poll::Ready(Ok(Some(batch)))
            })
            .await?;
            let Some(batch) = next else {
                return Ok(());
            };
            let turn = Turn(self);
            let result = store.write(batch).await;
            turn.finish(result)?;
        }
    }
}

/// The right to write the front batch; gives it back when dropped, also
/// when the writing future is cancelled.
struct Turn<'a>(&'a WriteQueue);

impl Turn<'_> {
    /// Records the store's answer (the turn ends when `self` drops).
    fn finish(self, result: Result<()>) -> Result<()> {
        let mut q = self.0.lock();
        match result {
            Ok(()) => {
                q.pending.pop_front();
                q.durable += 1;
                Ok(())
            }
            Err(e) => {
                q.failed = Some(e.to_string());
                q.uncertain()
            }
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut q = self.0.lock();
        q.writing = false;
        for w in q.waiters.drain(..) {
            w.wake();
        }
    }
}

/// A [`Storage`] over the records of an [`AsyncStorage`] held in memory:
/// reads are answered from memory, and each batch is applied in memory
/// and queued for the store.
pub(crate) struct MirrorStorage {
    records: MemoryStorage,
    queue: WriteQueue,
}

impl MirrorStorage {
    /// A mirror of `records` (every record of the store), queueing into
    /// `queue`.
    pub(crate) fn new(records: Vec<(Vec<u8>, Vec<u8>)>, queue: WriteQueue) -> Result<Self> {
        let mut memory = MemoryStorage::new();
        let mut batch = WriteBatch::default();
        for (k, v) in records {
            batch.put(k, v);
        }
        memory.write(batch)?;
        Ok(Self {
            records: memory,
            queue,
        })
    }
}

impl Storage for MirrorStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.records.get(key)
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.records.scan(prefix)
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        // Refused before the mirror changes: after a failed write the
        // mirror must not move further from the store.
        self.queue.check()?;
        self.records.write(copy(&batch))?;
        self.queue.push(batch)
    }

    // `write_unflushed` and `flush` keep their defaults: durability comes
    // from `WriteQueue::settle`, awaited before any result is released.
    // `write_if` stays unsupported: the store's write is unconditional.
}
