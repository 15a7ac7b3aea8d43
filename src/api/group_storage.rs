//! How a group writes its transitions to its storage: the helpers every
//! sending, receiving and merging path calls before its result leaves the
//! library.

use crate::Result;
use crate::api::group::Group;
use crate::group::commit_stage::StagedCommit;
use crate::persist::group_records::LocalFlags;
use crate::persist::group_store::GroupStore;

impl Group {
    /// Runs `f` as one transition of the group's memory: if it fails (its
    /// write included), the group is put back as it was before, ratchet
    /// steps, consumed keys and cached proposals included, so the call can
    /// be retried as if it had never been made (docs/errors.md, `Retry`).
    /// `f` must change the group only through `GroupState` and the
    /// persisting helpers below, which change `Group`'s own fields only
    /// once their write succeeded.
    pub(crate) fn transition<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let checkpoint = self.state.begin();
        let result = f(self);
        match &result {
            Ok(_) => self.state.settle(),
            Err(_) => self.state.rollback(checkpoint),
        }
        result
    }

    /// Persists the ratchet steps (and, with `proposals`, the proposal
    /// cache) of the message just sent or received.
    pub(crate) fn persist_messages(&mut self, proposals: bool) -> Result<()> {
        match &mut self.store {
            Some(store) => store.save_messages(&mut self.state, proposals, None),
            None => Ok(()),
        }
    }

    /// Hands the ratchet step of a message being sent to storage, durable
    /// only after [`Self::flush_messages`].
    pub(crate) fn persist_messages_unflushed(&mut self) -> Result<()> {
        match &mut self.store {
            Some(store) => store.write_messages_unflushed(&mut self.state),
            None => Ok(()),
        }
    }

    /// Makes the ratchet step of the message of `generation` durable
    /// before its ciphertext is returned. If this fails, the ciphertext is
    /// dropped, and the storage (which may or may not hold the step)
    /// refuses further writes: the error says to reopen the client.
    pub(crate) fn flush_messages(&self, generation: u32) -> Result<()> {
        match &self.store {
            Some(store) => store.flush().map_err(|e| {
                crate::Error::StorageUncertain(format!(
                    "the message of generation {generation} was not sent: its ratchet step \
                     may not be stored ({e}); reopen the client, then send it again"
                ))
            }),
            None => Ok(()),
        }
    }

    /// The group's storage handle, if it is persisted.
    pub(crate) fn store_handle(&self) -> Option<&GroupStore> {
        self.store.as_ref()
    }

    /// The member's own flags, as stored beside the protocol state.
    pub(crate) fn local_flags(&self) -> LocalFlags {
        LocalFlags {
            authenticated_data: self.next_aad.clone(),
            leaving: self.leaving,
            joined_with: self.joined_with.clone(),
        }
    }

    /// Persists a proposal we just sent (its ratchet step and the proposal
    /// cache), with the flags it changes: its authenticated data is used
    /// up, and `leaving` is set by [`Self::leave`]. Memory changes only
    /// once the write succeeded.
    pub(crate) fn persist_sent_proposal(&mut self, leaving: bool) -> Result<()> {
        let changed = !self.next_aad.is_empty() || leaving != self.leaving;
        if let Some(store) = &mut self.store {
            let after = changed.then(|| LocalFlags {
                authenticated_data: Vec::new(),
                leaving,
                joined_with: self.joined_with.clone(),
            });
            store.save_messages(&mut self.state, true, after.as_ref())?;
        }
        self.next_aad.clear();
        self.leaving = leaving;
        Ok(())
    }

    /// Writes the member's flags alone (e.g. new authenticated data).
    pub(crate) fn persist_local(&mut self, local: &LocalFlags) -> Result<()> {
        match &mut self.store {
            Some(store) => store.save_local(local),
            None => Ok(()),
        }
    }

    /// Writes the epoch `staged` starts before the merge happens in memory,
    /// with the flags the merge clears (the external join is settled, and
    /// unless `leaving` a leave request died with its epoch). The write is
    /// durable only after [`Self::flush_merge`]: the merge in memory runs
    /// while the disk writes.
    pub(crate) fn persist_merge(&mut self, staged: &StagedCommit, leaving: bool) -> Result<()> {
        let changed = self.joined_with.is_some() || leaving != self.leaving;
        if let Some(store) = &mut self.store {
            let merge = store.merge_batch(&mut self.state, staged)?;
            let mut batch = merge.batch;
            if changed && !batch.is_empty() {
                let after = LocalFlags {
                    authenticated_data: self.next_aad.clone(),
                    leaving,
                    joined_with: None,
                };
                store.put_local(&mut batch, &after)?;
            }
            store.write_unflushed(batch)?;
            store.merge_written(merge.written);
        }
        Ok(())
    }

    /// Makes the merge written by [`Self::persist_merge`] durable, after
    /// the merge in memory and before it is reported.
    ///
    /// If this fails, the group has entered the new epoch in memory, but
    /// the storage may hold either epoch and refuses further writes; the
    /// error says to reopen the client, which loads whichever is stored.
    pub(crate) fn flush_merge(&self) -> Result<()> {
        match &self.store {
            Some(store) => store.flush().map_err(|e| {
                crate::Error::StorageUncertain(format!(
                    "the merge into epoch {} is applied in memory but may not be stored \
                     ({e}): reopen the client, which loads the epoch that is stored",
                    self.state.epoch()
                ))
            }),
            None => Ok(()),
        }
    }
}
