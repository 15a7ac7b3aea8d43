//! Writes each transition of an observer as one atomic batch of what it
//! changed, and loads an observer back. Caching a proposal writes that
//! proposal; a merge writes the tree nodes the commit changed and the
//! epoch record; routing a PrivateMessage or staging a commit writes
//! nothing.

use crate::crypto::CryptoProvider;
use crate::group::authorization::Authority;
use crate::group::observer::{Branch, Change, Next, ObserverState, Which};
use crate::group::state::GroupConfig;
use crate::storage::{SharedStorage, WriteBatch, with};
use crate::{Error, Result};

use super::observer_records::{
    ObserverKeys, decode_head, epoch_record, group_info_record, legacy_key, load_records,
    node_record, other_node_record, other_record, proposal_record, put_all, put_other_nodes,
    stored_version,
};

/// An observer's handle on its storage.
pub(crate) struct ObserverStore {
    storage: SharedStorage,
    keys: ObserverKeys,
    /// The key of the version-1 record, deleted when the records are
    /// written whole.
    legacy: Vec<u8>,
    /// The proposal slot (0 or 1) of the current branch's cached
    /// proposals; the other branch's are in the other slot.
    slot: u8,
    /// Whether the storage may not hold the state in this layout (loaded
    /// from the version-1 record, restored from bytes, or a write of the
    /// whole state failed): the next write stores all of it first.
    whole: bool,
    /// Whether other servers write the same records: then every write
    /// counts up the head record, conditional on it holding `head`.
    shared: bool,
    /// The head record as this store last read or wrote it (`None`:
    /// absent).
    head: Option<u64>,
}

impl std::fmt::Debug for ObserverStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserverStore").finish_non_exhaustive()
    }
}

impl ObserverStore {
    /// The handle of an observer of `group_id` whose records are not
    /// written yet.
    /// `shared`: other servers write the same records (see
    /// [`Self::stored_head`]).
    pub(crate) fn new(storage: SharedStorage, group_id: &[u8], shared: bool) -> Self {
        Self {
            storage,
            keys: ObserverKeys::new(group_id),
            legacy: legacy_key(group_id),
            slot: 0,
            whole: true,
            shared,
            head: None,
        }
    }

    /// Whether the storage holds a change this store did not write: only
    /// known for a shared store (one read of the head record), `false`
    /// otherwise.
    pub(crate) fn behind(&self) -> Result<bool> {
        if !self.shared {
            return Ok(false);
        }
        Ok(self.stored_head()? != self.head)
    }

    /// The head record as stored now.
    fn stored_head(&self) -> Result<Option<u64>> {
        let key = self.keys.head();
        with(&self.storage, |s| s.get(&key))?
            .map(|v| decode_head(&key, &v))
            .transpose()
    }

    /// Writes `batch`. Shared: counts up the head in the same batch, on
    /// the condition that no other server wrote since this store last read
    /// or wrote it ([`Error::Conflict`] otherwise, writing nothing).
    fn put(&mut self, mut batch: WriteBatch) -> Result<()> {
        if !self.shared {
            return with(&self.storage, |s| s.write(batch));
        }
        let next = self
            .head
            .map_or(Some(1), |h| h.checked_add(1))
            .ok_or_else(|| Error::Storage("the observer's change counter is exhausted".into()))?;
        let key = self.keys.head();
        batch.put(key.clone(), next.to_be_bytes().to_vec());
        let expected = self.head.map(u64::to_be_bytes);
        with(&self.storage, |s| {
            s.write_if(&key, expected.as_ref().map(|e| e.as_slice()), batch)
        })?;
        self.head = Some(next);
        Ok(())
    }

    /// Writes every record of `state`, replacing whatever was stored for
    /// its group (records of either version).
    pub(crate) fn save_all(&mut self, state: &ObserverState) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.delete_prefix(self.keys.all());
        batch.delete(self.legacy.clone());
        put_all(&self.keys, state, 0, &mut batch)?;
        self.put(batch)?;
        self.slot = 0;
        self.whole = false;
        Ok(())
    }

    /// Writes `change`, computed from `state`, before it is applied: the
    /// records it changes, as one atomic batch (none if it changes none).
    /// `extra` (the application's records, see
    /// [`APP_KEY_PREFIX`](crate::storage::APP_KEY_PREFIX)) goes in the same
    /// batch.
    pub(crate) fn write(
        &mut self,
        state: &ObserverState,
        change: &Change,
        mut extra: WriteBatch,
    ) -> Result<()> {
        if self.whole {
            self.save_all(state)?;
        }
        let (mut batch, slot) = self.change_batch(state, change)?;
        batch
            .delete_prefixes
            .append(&mut std::mem::take(&mut extra.delete_prefixes));
        batch.ops.append(&mut std::mem::take(&mut extra.ops));
        if !batch.is_empty() {
            self.put(batch)?;
        }
        self.slot = slot;
        Ok(())
    }

    /// Writes the application's records `extra` alone, as one batch
    /// (shared: counting up the head, conditional like every change, so
    /// that it is ordered with the observer's changes).
    pub(crate) fn write_extra(&mut self, extra: WriteBatch) -> Result<()> {
        if extra.is_empty() {
            return Ok(());
        }
        self.put(extra)
    }

    /// The records `change` puts and deletes, and the proposal slot of the
    /// branch followed afterwards.
    fn change_batch(&self, state: &ObserverState, change: &Change) -> Result<(WriteBatch, u8)> {
        let keys = &self.keys;
        let mut batch = WriteBatch::default();
        let current = &state.current;
        let old_other = state.other.as_deref();
        let other_branch = || {
            old_other.map(|o| &o.branch).ok_or(Error::Internal(
                "a change names an other branch the observer lacks",
            ))
        };
        let (cur_slot, oth_slot) = (self.slot, 1 - self.slot);
        // The branch followed afterwards and its proposal slot: a new one
        // takes the slot of the branch it replaces.
        let (next, next_slot): (&Branch, u8) = match &change.current {
            Next::Keep(Which::Current) => (current, cur_slot),
            Next::Keep(Which::Other) => (other_branch()?, oth_slot),
            Next::Merged(branch) => match change.other {
                Some((Which::Current, _)) => (branch, oth_slot),
                _ => (branch, cur_slot),
            },
        };
        let kept = |which: Which| {
            matches!(change.current, Next::Keep(w) if w == which)
                || matches!(change.other, Some((w, _)) if w == which)
        };

        // Proposals of a branch no longer held go; a cached one is added.
        if !kept(Which::Current) && !current.proposals.is_empty() {
            batch.delete_prefix(keys.proposals(cur_slot));
        }
        if let Some(o) = old_other
            && !kept(Which::Other)
            && !o.branch.proposals.is_empty()
        {
            batch.delete_prefix(keys.proposals(oth_slot));
        }
        if let Some((which, proposal)) = &change.cache {
            let (branch, slot) = match which {
                Which::Current => (current, cur_slot),
                Which::Other => (other_branch()?, oth_slot),
            };
            batch.put(
                keys.proposal(slot, branch.proposals.len()),
                proposal_record(proposal)?,
            );
        }

        // The tree: the nodes where the branch followed afterwards differs.
        let moved = !matches!(change.current, Next::Keep(Which::Current));
        // (The comparison of copy-on-write chunks may name nodes blank in
        // both trees: they need no record.)
        let changed: Vec<_> = if moved {
            let (new, old) = (&next.epoch.tree, &current.epoch.tree);
            new.changed_nodes(old)
                .into_iter()
                .filter(|x| new.node(*x) != old.node(*x))
                .collect()
        } else {
            Vec::new()
        };
        for x in &changed {
            match next.epoch.tree.node(*x) {
                Some(node) => batch.put(keys.node(*x), node_record(node)?),
                None => batch.delete(keys.node(*x)),
            }
        }

        // The other branch: its record, and its nodes where they differ
        // from the current branch's.
        match (old_other, change.other) {
            (None, None) => {}
            (Some(_), None) => {
                batch.delete(keys.other());
                batch.delete_prefix(keys.other_nodes());
            }
            (Some(o), Some((Which::Other, role))) => {
                // Kept while the current branch moves: the nodes it shared
                // with the current branch until now get records.
                let tree = &o.branch.epoch.tree;
                let width = tree.node_width();
                for x in &changed {
                    if x.0 < width && tree.node(*x) == current.epoch.tree.node(*x) {
                        batch.put(keys.other_node(*x), other_node_record(tree.node(*x))?);
                    }
                }
                if role != o.role {
                    batch.put(keys.other(), other_record(role, &o.branch)?);
                }
            }
            (None, Some((Which::Other, _))) => {
                return Err(Error::Internal(
                    "a change keeps an other branch the observer lacks",
                ));
            }
            (_, Some((Which::Current, role))) => {
                if old_other.is_some() {
                    batch.delete_prefix(keys.other_nodes());
                }
                batch.put(keys.other(), other_record(role, current)?);
                put_other_nodes(keys, &current.epoch.tree, &next.epoch.tree, &mut batch)?;
            }
        }

        // The epoch record, when the branch followed, its slot or newcomers,
        // or the other branch's presence or role change.
        let same_other = match (old_other, change.other) {
            (None, None) => true,
            (Some(o), Some((Which::Other, role))) => o.role == role,
            _ => false,
        };
        if moved || !same_other {
            batch.put(
                keys.epoch(),
                epoch_record(next, next_slot, change.other.is_some())?,
            );
        }

        // The GroupInfo, which belongs to the branch followed.
        if let Some(info) = &change.group_info {
            batch.put(keys.group_info(), group_info_record(info)?);
        } else if moved && state.group_info.is_some() {
            batch.delete(keys.group_info());
        }
        Ok((batch, next_slot))
    }
}

/// Loads the observer of `group_id`, or `None` if the storage holds none:
/// from its records, or from the version-1 record (then the next write
/// replaces it with records). `shared`: as in [`ObserverStore::new`].
pub(crate) fn load(
    storage: &SharedStorage,
    group_id: &[u8],
    shared: bool,
    provider: &dyn CryptoProvider,
    config: GroupConfig,
    authority: Authority,
) -> Result<Option<(ObserverState, ObserverStore)>> {
    let mut store = ObserverStore::new(storage.clone(), group_id, shared);
    // One scan reads the state and its head together, so a shared store's
    // head is the one of the state it loads.
    let records = with(storage, |s| s.scan(&store.keys.all()))?;
    let head_key = store.keys.head();
    store.head = records
        .iter()
        .find(|(k, _)| *k == head_key)
        .map(|(k, v)| decode_head(k, v))
        .transpose()?;
    let legacy = with(storage, |s| s.get(&store.legacy))?;
    if !records.is_empty() {
        if legacy.is_some() {
            return Err(Error::Storage(format!(
                "record {:?} (an observer of the first layout) is beside the records of \
                 the same observer: the database is corrupt or was changed outside arbor-mls",
                String::from_utf8_lossy(&store.legacy)
            )));
        }
        let (state, slot) = load_records(&store.keys, records, provider, config, authority)?;
        store.slot = slot;
        store.whole = false;
        return Ok(Some((state, store)));
    }
    let Some(bytes) = legacy else {
        return Ok(None);
    };
    let name = String::from_utf8_lossy(&store.legacy).into_owned();
    let version = stored_version(&bytes)?;
    if version != 1 {
        return Err(Error::Storage(format!(
            "record {name:?} has observer state version {version}; only version 1 was \
             stored as one record"
        )));
    }
    let state = ObserverState::from_version_1(provider, &bytes, config, authority)
        .map_err(|e| Error::Storage(format!("record {name}: {e}")))?;
    Ok(Some((state, store)))
}
