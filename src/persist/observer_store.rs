//! Writes each transition of an observer as one atomic batch of what it
//! changed, and loads an observer back. Caching a proposal writes that
//! proposal; a merge writes the tree nodes the commit changed and the
//! epoch record; routing a PrivateMessage or staging a commit writes
//! nothing.

use crate::crypto::CryptoProvider;
use crate::group::authorization::Authority;
use crate::group::observer::{Change, ObserverState};
use crate::group::state::GroupConfig;
use crate::storage::{SharedStorage, WriteBatch, with};
use crate::{Error, Result};

use super::observer_records::{
    ObserverKeys, epoch_record, group_info_record, legacy_key, load_records, node_record,
    proposal_record, put_all, stored_version,
};

/// An observer's handle on its storage.
pub(crate) struct ObserverStore {
    storage: SharedStorage,
    keys: ObserverKeys,
    /// The key of the version-1 record, deleted when the records are
    /// written whole.
    legacy: Vec<u8>,
    /// Whether the storage may not hold the state in this layout (loaded
    /// from the version-1 record, restored from bytes, or a write of the
    /// whole state failed): the next write stores all of it first.
    whole: bool,
}

impl std::fmt::Debug for ObserverStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObserverStore").finish_non_exhaustive()
    }
}

impl ObserverStore {
    /// The handle of an observer of `group_id` whose records are not
    /// written yet.
    pub(crate) fn new(storage: SharedStorage, group_id: &[u8]) -> Self {
        Self {
            storage,
            keys: ObserverKeys::new(group_id),
            legacy: legacy_key(group_id),
            whole: true,
        }
    }

    /// Writes every record of `state`, replacing whatever was stored for
    /// its group (records of either version).
    pub(crate) fn save_all(&mut self, state: &ObserverState) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.delete_prefix(self.keys.all());
        batch.delete(self.legacy.clone());
        put_all(&self.keys, state, &mut batch)?;
        with(&self.storage, |s| s.write(batch))?;
        self.whole = false;
        Ok(())
    }

    /// Writes `change`, computed from `state`, before it is applied: the
    /// records it changes, as one atomic batch (none if it changes none).
    pub(crate) fn write(&mut self, state: &ObserverState, change: &Change) -> Result<()> {
        if self.whole {
            self.save_all(state)?;
        }
        let batch = self.change_batch(state, change)?;
        if !batch.is_empty() {
            with(&self.storage, |s| s.write(batch))?;
        }
        Ok(())
    }

    /// The records `change` puts and deletes.
    fn change_batch(&self, state: &ObserverState, change: &Change) -> Result<WriteBatch> {
        let keys = &self.keys;
        let mut batch = WriteBatch::default();
        let current = &state.current;
        if let Some(next) = &change.merged {
            // The new epoch starts with no cached proposal and no GroupInfo.
            if !current.proposals.is_empty() {
                batch.delete_prefix(keys.proposals());
            }
            if state.group_info.is_some() {
                batch.delete(keys.group_info());
            }
            // The nodes the commit changed. (The comparison of
            // copy-on-write chunks may name nodes blank in both trees:
            // they need no record.)
            let (new, old) = (&next.epoch.tree, &current.epoch.tree);
            for x in new.changed_nodes(old) {
                match (new.node(x), old.node(x)) {
                    (Some(node), before) if before != Some(node) => {
                        batch.put(keys.node(x), node_record(node)?)
                    }
                    (None, Some(_)) => batch.delete(keys.node(x)),
                    _ => {}
                }
            }
            batch.put(keys.epoch(), epoch_record(next)?);
        }
        if let Some(proposal) = &change.cache {
            let index = if change.merged.is_some() {
                0
            } else {
                current.proposals.len()
            };
            batch.put(keys.proposal(index), proposal_record(proposal)?);
        }
        if let Some(info) = &change.group_info {
            batch.put(keys.group_info(), group_info_record(info)?);
        }
        Ok(batch)
    }
}

/// Loads the observer of `group_id`, or `None` if the storage holds none:
/// from its records, or from the version-1 record (then the next write
/// replaces it with records).
pub(crate) fn load(
    storage: &SharedStorage,
    group_id: &[u8],
    provider: &dyn CryptoProvider,
    config: GroupConfig,
    authority: Authority,
) -> Result<Option<(ObserverState, ObserverStore)>> {
    let mut store = ObserverStore::new(storage.clone(), group_id);
    let records = with(storage, |s| s.scan(&store.keys.all()))?;
    let legacy = with(storage, |s| s.get(&store.legacy))?;
    if !records.is_empty() {
        if legacy.is_some() {
            return Err(Error::Storage(format!(
                "record {:?} (an observer of the first layout) is beside the records of \
                 the same observer: the database is corrupt or was changed outside arbor-mls",
                String::from_utf8_lossy(&store.legacy)
            )));
        }
        let state = load_records(&store.keys, records, provider, config, authority)?;
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
