//! Writes each transition of a group as one atomic batch, and loads a
//! group back. Each batch holds only what the transition changed: a
//! message its sender's ratchets, a commit the tree nodes on its path and
//! the new epoch's secrets.

use std::collections::VecDeque;

use crate::crypto::{Secret, Suite};
use crate::group::authorization::Authority;
use crate::group::commit_stage::{StagedCommit, StagedFrom};
use crate::group::proposal_cache::ProposalCache;
use crate::group::state::GroupState;
use crate::group::state::{EpochState, PastEpoch, Retention};
use crate::schedule::{GroupContext, SecretTree};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

use super::group_records::{
    GroupKeys, LocalFlags, Meta, apply_diff, decode_cached_proposal, decode_core, decode_diff,
    decode_proposals, decode_retained, decode_secret_tree, decode_summary, encode_cached_proposal,
    encode_core, encode_diff, encode_proposals, encode_retained, encode_secret_tree,
    encode_summary, stored_width, tree_diff, tree_from_nodes,
};
use super::records::{Kind, corrupt, get, group_index_key, open, seal};
use crate::persist::secret_tree_records as st;
use crate::storage::{SharedStorage, Value, WriteBatch, read, read_prefix, with};

/// A group's handle on its storage.
#[derive(Clone)]
pub(crate) struct GroupStore {
    storage: SharedStorage,
    keys: GroupKeys,
    /// A settings record not yet written: it goes with the next batch
    /// (settings only shape what we send, so a crash before then loses
    /// nothing the group depends on).
    unsaved_meta: Option<Vec<u8>>,
    /// Whether the retained resumption PSKs were loaded from an epoch
    /// record of the earlier layout, which held them all: the next merge
    /// writes each as a record of its own.
    inline_psks: bool,
    /// What of the proposal cache is stored.
    proposals: StoredProposals,
}

/// How much of a group's proposal cache its records hold: each cached
/// proposal is a record written once, so caching the k-th costs O(1)
/// writes, not O(k).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StoredProposals {
    /// Cached proposals stored as `prop/<index>` records (the first ones).
    cached: usize,
    /// Own Update keys in the `proposals` record.
    own_updates: usize,
    /// Whether the `proposals` record holds the cached proposals (its
    /// earlier layout): the next write moves them into records.
    inline: bool,
}

impl std::fmt::Debug for GroupStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupStore").finish_non_exhaustive()
    }
}

fn meta_record(state: &GroupState) -> Result<Vec<u8>> {
    let meta = Meta {
        suite: state.suite.id().0,
        config: state.config,
        removed: state.removed,
        reinit: state.reinit.clone(),
    };
    seal(Kind::Meta, |w| meta.encode(w))
}

impl GroupStore {
    pub(crate) fn new(storage: SharedStorage, group_id: &[u8]) -> Self {
        Self {
            storage,
            keys: GroupKeys::new(group_id),
            unsaved_meta: None,
            inline_psks: false,
            proposals: StoredProposals::default(),
        }
    }

    /// The handle of a group loaded as `loaded`.
    pub(crate) fn for_loaded(storage: SharedStorage, group_id: &[u8], loaded: &Loaded) -> Self {
        Self {
            inline_psks: loaded.inline_psks,
            proposals: loaded.proposals,
            ..Self::new(storage, group_id)
        }
    }

    /// The batch of a [`MergeBatch`] was written: what it stored.
    pub(crate) fn merge_written(&mut self, written: MergeWritten) {
        if written.stores_psks {
            self.inline_psks = false;
        }
        if written.clears_proposals {
            self.proposals = StoredProposals::default();
        }
    }

    /// The record of one retained resumption PSK.
    fn put_psk(&self, batch: &mut WriteBatch, epoch: u64, psk: &Secret) -> Result<()> {
        batch.put(
            self.keys.psk(epoch),
            seal(Kind::ResumptionPsk, |w| {
                crate::codec::Encode::encode(psk, w)
            })?,
        );
        Ok(())
    }

    /// Applies `batch` atomically, with unsaved settings.
    pub(crate) fn write(&mut self, batch: WriteBatch) -> Result<()> {
        self.write_then(batch, true)
    }

    /// Applies `batch` atomically like [`Self::write`], durable only once
    /// [`Self::flush`] returns ([`crate::storage::Storage::write_unflushed`]).
    pub(crate) fn write_unflushed(&mut self, batch: WriteBatch) -> Result<()> {
        self.write_then(batch, false)
    }

    /// Makes the batches written so far durable.
    pub(crate) fn flush(&self) -> Result<()> {
        with(&self.storage, |s| s.flush())
    }

    fn write_then(&mut self, mut batch: WriteBatch, flush: bool) -> Result<()> {
        let meta = self.unsaved_meta.take();
        if let Some(meta) = &meta {
            // Earlier in the batch, so a meta record the batch writes wins.
            batch.ops.insert(0, (self.keys.meta(), Some(meta.clone())));
        }
        if batch.is_empty() {
            return Ok(());
        }
        let result = with(&self.storage, |s| {
            if flush {
                s.write(batch)
            } else {
                s.write_unflushed(batch)
            }
        });
        if result.is_err() {
            // Nothing was written: the settings go with the next batch.
            self.unsaved_meta = meta;
        }
        result
    }

    /// Puts a secret tree's changed records (all of them when `whole`).
    fn put_secret_tree(
        &self,
        batch: &mut WriteBatch,
        epoch: u64,
        tree: &mut SecretTree,
        whole: bool,
    ) -> Result<()> {
        let changes = tree.take_changes();
        if whole || changes.nodes {
            let tree_ref = &*tree;
            batch.put(
                self.keys.secret_tree_nodes(epoch),
                seal(Kind::SecretTreeNodes, |w| st::encode_nodes(tree_ref, w))?,
            );
        }
        let leaves = if whole {
            st::used_leaves(tree)
        } else {
            changes.leaves.into_iter().collect()
        };
        for leaf in leaves {
            let mut body = None;
            let record = seal(Kind::Ratchets, |w| body = st::encode_leaf(tree, leaf, w))?;
            if body.is_some() {
                batch.put(self.keys.ratchets(epoch, leaf), record);
            }
        }
        Ok(())
    }

    fn epoch_record(&self, state: &GroupState) -> Result<Vec<u8>> {
        let (_, past_epochs) = retained_of(state);
        seal(Kind::Epoch, |w| {
            encode_core(&state.epoch, w);
            encode_retained(&[], &past_epochs, w);
        })
    }

    /// Every record of the group, replacing whatever was stored under its
    /// id, plus `extra` (a key package consumed by the join).
    pub(crate) fn save_new(
        &mut self,
        state: &mut GroupState,
        local: &LocalFlags,
        mut extra: WriteBatch,
    ) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.delete_prefix(self.keys.all());
        self.put_local(&mut batch, local)?;
        batch.put(
            group_index_key(&state.context().group_id),
            seal(Kind::GroupIndex, |_| {})?,
        );
        batch.put(self.keys.meta(), meta_record(state)?);
        batch.put(self.keys.epoch(), self.epoch_record(state)?);
        for (epoch, psk) in &state.retention.resumption {
            self.put_psk(&mut batch, *epoch, psk)?;
        }
        let tree = &state.epoch.tree;
        for x in 0..tree.node_width() {
            if let Some(node) = tree.node(NodeIndex(x)) {
                batch.put(
                    self.keys.node(NodeIndex(x)),
                    seal(Kind::TreeNode, |w| crate::codec::Encode::encode(node, w))?,
                );
            }
        }
        let epoch = state.epoch();
        self.put_secret_tree(&mut batch, epoch, &mut state.epoch.secret_tree, true)?;
        self.put_new_proposals(&mut batch, state, StoredProposals::default())?;
        // Retained past epochs (a group saved again after loading).
        let mut newer = state.epoch.tree.clone();
        let mut past: Vec<&mut PastEpoch> = state.retention.epochs.iter_mut().collect();
        past.reverse();
        for p in past {
            batch.put(self.keys.past(p.context.epoch), past_record(p, &newer)?);
            self.put_secret_tree(&mut batch, p.context.epoch, &mut p.secret_tree, true)?;
            newer = p.tree.clone();
        }
        batch.ops.append(&mut extra.ops);
        batch.delete_prefixes.append(&mut extra.delete_prefixes);
        self.write(batch)?;
        self.inline_psks = false;
        self.proposals_written(state);
        Ok(())
    }

    /// Puts the member's own flags into `batch` (deletes the record when
    /// they are all default).
    pub(crate) fn put_local(&self, batch: &mut WriteBatch, local: &LocalFlags) -> Result<()> {
        if local.is_default() {
            batch.delete(self.keys.local());
        } else {
            batch.put(self.keys.local(), seal(Kind::Local, |w| local.encode(w))?);
        }
        Ok(())
    }

    /// Writes the member's own flags alone.
    pub(crate) fn save_local(&mut self, local: &LocalFlags) -> Result<()> {
        let mut batch = WriteBatch::default();
        self.put_local(&mut batch, local)?;
        self.write(batch)
    }

    /// Deletes every record of the group, and its index entry.
    pub(crate) fn delete_group(&self, group_id: &[u8]) -> Result<()> {
        super::client_store::delete_group(&self.storage, group_id).map(|_| ())
    }

    /// The group-wide settings changed: written with the next batch.
    pub(crate) fn settings_changed(&mut self, state: &GroupState) {
        self.unsaved_meta = meta_record(state).ok();
    }

    /// The ratchets changed by messages sent or received (any retained
    /// epoch), and the proposal cache when `proposals` is set.
    pub(crate) fn message_batch(
        &self,
        state: &mut GroupState,
        proposals: bool,
    ) -> Result<WriteBatch> {
        let mut batch = WriteBatch::default();
        let epoch = state.epoch();
        self.put_secret_tree(&mut batch, epoch, &mut state.epoch.secret_tree, false)?;
        for p in &mut state.retention.epochs {
            self.put_secret_tree(&mut batch, p.context.epoch, &mut p.secret_tree, false)?;
        }
        if proposals {
            self.put_new_proposals(&mut batch, state, self.proposals)?;
        }
        Ok(batch)
    }

    /// Puts the proposals cached since `stored`, and the `proposals` record
    /// if our own Update keys changed.
    fn put_new_proposals(
        &self,
        batch: &mut WriteBatch,
        state: &GroupState,
        stored: StoredProposals,
    ) -> Result<()> {
        // Loaded from the earlier layout, none is a record yet (loading
        // refuses both at once): `cached` is 0, and all are written.
        for (i, p) in state.proposals.iter().enumerate().skip(stored.cached) {
            batch.put(
                self.keys.cached_proposal(i),
                seal(Kind::CachedProposal, |w| encode_cached_proposal(p, w))?,
            );
        }
        if stored.inline || stored.own_updates != state.own_updates.len() {
            batch.put(
                self.keys.proposals(),
                seal(Kind::Proposals, |w| encode_proposals(state, w))?,
            );
        }
        Ok(())
    }

    /// What [`Self::put_new_proposals`] stored, once written.
    fn proposals_written(&mut self, state: &GroupState) {
        self.proposals = StoredProposals {
            cached: state.proposals.len(),
            own_updates: state.own_updates.len(),
            inline: false,
        };
    }

    /// Writes [`Self::message_batch`], with the member's flags when they
    /// changed with the message.
    pub(crate) fn save_messages(
        &mut self,
        state: &mut GroupState,
        proposals: bool,
        local: Option<&LocalFlags>,
    ) -> Result<()> {
        let mut batch = self.message_batch(state, proposals)?;
        if let Some(local) = local {
            self.put_local(&mut batch, local)?;
        }
        self.write(batch)?;
        if proposals {
            self.proposals_written(state);
        }
        Ok(())
    }

    /// Writes [`Self::message_batch`] (without proposals) like
    /// [`Self::write_unflushed`]: durable once [`Self::flush`] returns.
    pub(crate) fn write_messages_unflushed(&mut self, state: &mut GroupState) -> Result<()> {
        let batch = self.message_batch(state, false)?;
        self.write_unflushed(batch)
    }

    /// Our new pending commit, with the ratchet steps creating it took.
    pub(crate) fn save_pending(
        &mut self,
        state: &mut GroupState,
        message: &[u8],
        staged: &StagedCommit,
        local: Option<&LocalFlags>,
    ) -> Result<()> {
        let mut batch = self.message_batch(state, false)?;
        if let Some(local) = local {
            self.put_local(&mut batch, local)?;
        }
        let base = &state.epoch.tree;
        let record = seal(Kind::Pending, |w| {
            crate::codec::Encode::encode(&message.to_vec(), w);
            staged.base.group_id.encode_to(w);
            crate::codec::Encode::encode(&staged.base.epoch, w);
            staged.base.epoch_authenticator.encode_to(w);
            encode_summary(&staged.summary, w);
            match &staged.next {
                None => w.put(&[0]),
                Some(next) => {
                    w.put(&[1]);
                    encode_core(next, w);
                    encode_diff(next.tree.node_width(), &tree_diff(&next.tree, base), w);
                    encode_secret_tree(&next.secret_tree, w);
                }
            }
        })?;
        batch.put(self.keys.pending(), record);
        self.write(batch)
    }

    /// Our pending commit was discarded.
    pub(crate) fn delete_pending(&mut self) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.delete(self.keys.pending());
        self.write(batch)
    }

    /// The batch that takes the stored group from `state` into the epoch
    /// `staged` starts: the changed tree nodes, the new epoch's records,
    /// the left epoch's retained parts, evicted epochs deleted. Refuses a
    /// commit staged in another epoch, as the merge would.
    pub(crate) fn merge_batch(
        &self,
        state: &mut GroupState,
        staged: &StagedCommit,
    ) -> Result<MergeBatch> {
        if staged.base != StagedFrom::of(state) {
            // The engine's merge reports this with its explanation.
            return Ok(MergeBatch {
                batch: WriteBatch::default(),
                written: MergeWritten::default(),
            });
        }
        let mut batch = self.message_batch(state, false)?;
        // The new epoch starts with no cached proposals.
        batch.delete(self.keys.proposals());
        if self.proposals.cached > 0 {
            batch.delete_prefix(self.keys.cached_proposals());
        }
        let written = MergeWritten {
            stores_psks: false,
            clears_proposals: true,
        };
        batch.delete(self.keys.pending());
        let Some(next) = &staged.next else {
            let removed = Meta {
                suite: state.suite.id().0,
                config: state.config,
                removed: true,
                reinit: state.reinit.clone(),
            };
            batch.put(self.keys.meta(), seal(Kind::Meta, |w| removed.encode(w))?);
            return Ok(MergeBatch { batch, written });
        };
        let config = state.config;
        let old = &state.epoch;
        let old_epoch = old.context.epoch;
        let new_epoch = next.context.epoch;

        // What Retention::retire will keep.
        let (mut resumption, before) = retained_of(state);
        resumption.push((old_epoch, &old.keys.resumption_psk));
        let evicted = resumption.len().saturating_sub(config.resumption_epochs);
        for (e, _) in resumption.drain(..evicted) {
            batch.delete(self.keys.psk(e));
        }
        // Only the left epoch's PSK (the last, if kept) is new, unless the
        // others were loaded from an epoch record of the earlier layout.
        let new_psks = if self.inline_psks {
            &resumption[..]
        } else {
            &resumption[resumption.len().saturating_sub(1)..]
        };
        for (e, psk) in new_psks {
            self.put_psk(&mut batch, *e, psk)?;
        }
        let mut after = before.clone();
        if config.past_epochs > 0 {
            after.push(old_epoch);
        }
        while after.len() > config.past_epochs {
            after.remove(0);
        }
        for e in before.iter().chain(std::iter::once(&old_epoch)) {
            if !after.contains(e) {
                batch.delete(self.keys.past(*e));
                batch.delete_prefix(self.keys.secret_tree(*e));
            }
        }

        let diff = tree_diff(&next.tree, &old.tree);
        // The nodes, an undo record, the epoch's records, meta.
        batch.ops.reserve(diff.len() + 8);
        if after.contains(&old_epoch) {
            // The old tree is kept as its difference from the new one.
            let undo: Vec<_> = diff.iter().map(|(x, _)| (*x, old.tree.node(*x))).collect();
            let record = seal(Kind::PastEpoch, |w| {
                crate::codec::Encode::encode(&old.context, w);
                crate::codec::Encode::encode(&old.keys.sender_data_secret, w);
                encode_diff(old.tree.node_width(), &undo, w);
            })?;
            batch.put(self.keys.past(old_epoch), record);
        }
        for (x, node) in &diff {
            match node {
                Some(node) => batch.put(
                    self.keys.node(*x),
                    seal(Kind::TreeNode, |w| crate::codec::Encode::encode(node, w))?,
                ),
                None => batch.delete(self.keys.node(*x)),
            }
        }
        batch.put(
            self.keys.epoch(),
            seal(Kind::Epoch, |w| {
                encode_core(next, w);
                encode_retained(&[], &after, w);
            })?,
        );
        batch.delete_prefix(self.keys.secret_tree(new_epoch));
        batch.put(
            self.keys.secret_tree_nodes(new_epoch),
            seal(Kind::SecretTreeNodes, |w| {
                st::encode_nodes(&next.secret_tree, w)
            })?,
        );
        for leaf in st::used_leaves(&next.secret_tree) {
            let record = seal(Kind::Ratchets, |w| {
                let _ = st::encode_leaf(&next.secret_tree, leaf, w);
            })?;
            batch.put(self.keys.ratchets(new_epoch, leaf), record);
        }
        let meta = Meta {
            suite: state.suite.id().0,
            config,
            removed: false,
            reinit: staged.summary.reinit.clone(),
        };
        batch.put(self.keys.meta(), seal(Kind::Meta, |w| meta.encode(w))?);
        Ok(MergeBatch {
            batch,
            written: MergeWritten {
                stores_psks: self.inline_psks,
                ..written
            },
        })
    }
}

/// What [`GroupStore::merge_batch`] writes.
pub(crate) struct MergeBatch {
    pub(crate) batch: WriteBatch,
    /// What the batch stores (pass it to [`GroupStore::merge_written`]
    /// once the batch is written).
    pub(crate) written: MergeWritten,
}

/// What a [`MergeBatch`] stores, for [`GroupStore::merge_written`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MergeWritten {
    /// Every retained resumption PSK as a record of its own.
    stores_psks: bool,
    /// The new epoch's empty proposal cache.
    clears_proposals: bool,
}

/// What the epoch record keeps of `state`'s retention, oldest first: the
/// resumption PSKs (by reference) and the past epochs' numbers.
fn retained_of(state: &GroupState) -> (Vec<(u64, &Secret)>, Vec<u64>) {
    let retention = &state.retention;
    (
        retention.resumption.iter().map(|(e, s)| (*e, s)).collect(),
        retention.epochs.iter().map(|e| e.context.epoch).collect(),
    )
}

/// A past epoch record: its context, sender-data secret and how its tree
/// differs from the next epoch's.
fn past_record(p: &PastEpoch, newer: &RatchetTree) -> Result<Vec<u8>> {
    let undo: Vec<_> = p
        .tree
        .changed_nodes(newer)
        .into_iter()
        .map(|x| (x, p.tree.node(x)))
        .collect();
    seal(Kind::PastEpoch, |w| {
        crate::codec::Encode::encode(&p.context, w);
        crate::codec::Encode::encode(&p.sender_data_secret, w);
        encode_diff(p.tree.node_width(), &undo, w);
    })
}

trait EncodeTo {
    fn encode_to(&self, w: &mut crate::codec::Writer);
}

impl EncodeTo for Vec<u8> {
    fn encode_to(&self, w: &mut crate::codec::Writer) {
        w.opaque(self);
    }
}

/// A group as loaded: its state, settings and pending commit.
pub(crate) struct Loaded {
    pub(crate) state: GroupState,
    pub(crate) pending: Option<(Vec<u8>, StagedCommit)>,
    pub(crate) local: LocalFlags,
    /// Whether the epoch record held the resumption PSKs (the earlier
    /// layout; see [`GroupStore::for_loaded`]).
    pub(crate) inline_psks: bool,
    /// What of the proposal cache was loaded from where.
    pub(crate) proposals: StoredProposals,
}

fn required(storage: &SharedStorage, key: &[u8]) -> Result<Value> {
    read(storage, key)?.ok_or_else(|| {
        Error::Storage(format!(
            "record {:?} is missing: the database is incomplete or corrupt",
            String::from_utf8_lossy(key)
        ))
    })
}

fn load_secret_tree(
    storage: &SharedStorage,
    keys: &GroupKeys,
    suite: &Suite,
    epoch: u64,
) -> Result<SecretTree> {
    let nodes_key = keys.secret_tree_nodes(epoch);
    let nodes = required(storage, &nodes_key)?;
    let prefix = keys.ratchets_prefix(epoch);
    let mut leaves = Vec::new();
    for (key, value) in read_prefix(storage, &prefix)? {
        let leaf = GroupKeys::parse_index(&key, &prefix).ok_or_else(|| {
            Error::Storage(format!(
                "unexpected record {:?} among ratchets",
                String::from_utf8_lossy(&key)
            ))
        })?;
        let body = open(&key, Kind::Ratchets, &value, |r| {
            Ok(Value::new(r.take_rest().to_vec()))
        })?;
        leaves.push((LeafIndex(leaf), body));
    }
    let st_err = |leaf: Option<LeafIndex>, e: crate::codec::DecodeError| {
        let key = match leaf {
            Some(leaf) => keys.ratchets(epoch, leaf),
            None => nodes_key.clone(),
        };
        Error::Storage(format!(
            "record {:?} is unreadable ({e}): the database is corrupt",
            String::from_utf8_lossy(&key)
        ))
    };
    let body = open(&nodes_key, Kind::SecretTreeNodes, &nodes, |r| {
        Ok(Value::new(r.take_rest().to_vec()))
    })?;
    let mut r = crate::codec::Reader::new(&body);
    let tree = st::decode(suite, &mut r, leaves).map_err(|(leaf, e)| st_err(leaf, e))?;
    r.finish().map_err(|e| st_err(None, e))?;
    Ok(tree)
}

/// Refuses the record `key` of group `group_id` when what it holds belongs
/// to group `holds`.
fn stored_under(key: &[u8], group_id: &[u8], holds: &[u8]) -> Result<()> {
    if holds == group_id {
        return Ok(());
    }
    Err(corrupt(
        key,
        format_args!(
            "holds the state of group {}, not of the group it is stored under",
            crate::persist::records::hex(holds)
        ),
    ))
}

/// Loads group `group_id`, or `None` if it is not stored.
pub(crate) fn load(
    storage: &SharedStorage,
    group_id: &[u8],
    suite: &Suite,
    authority: Authority,
) -> Result<Option<Loaded>> {
    let keys = GroupKeys::new(group_id);
    let Some(meta) = read(storage, &keys.meta())? else {
        return Ok(None);
    };
    let meta = open(&keys.meta(), Kind::Meta, &meta, Meta::decode)?;
    if meta.suite != suite.id().0 {
        return Err(Error::Misuse(format!(
            "the stored group uses cipher suite {:#06x}, this client {:#06x}: load it with a \
             client of that suite",
            meta.suite,
            suite.id().0
        )));
    }
    let epoch_bytes = required(storage, &keys.epoch())?;
    let (core, retained) = open(&keys.epoch(), Kind::Epoch, &epoch_bytes, |r| {
        Ok((decode_core(r)?, decode_retained(r)?))
    })?;
    // A record is bound to the key it was stored under: another group's
    // epoch copied here is refused, not loaded as this group.
    stored_under(&keys.epoch(), group_id, &core.context.group_id)?;
    let inline_psks = !retained.resumption.is_empty();
    let mut resumption: std::collections::BTreeMap<u64, Secret> =
        retained.resumption.into_iter().collect();
    let psk_prefix = keys.psks();
    for (key, value) in read_prefix(storage, &psk_prefix)? {
        let epoch = GroupKeys::parse_epoch(&key, &psk_prefix)
            .ok_or_else(|| corrupt(&key, "is not a resumption PSK record"))?;
        if epoch >= core.context.epoch {
            return Err(corrupt(
                &key,
                format_args!(
                    "holds the resumption PSK of epoch {epoch}, which the stored group \
                     (epoch {}) has not left",
                    core.context.epoch
                ),
            ));
        }
        let psk = open(&key, Kind::ResumptionPsk, &value, |r| get(r, "psk"))?;
        resumption.insert(epoch, psk);
    }
    // Merges delete the evicted ones; more can only come from outside.
    while resumption.len() > meta.config.resumption_epochs {
        resumption.pop_first();
    }
    let max_leaves = meta.config.max_leaves;
    let width = stored_width(&keys.epoch(), core.width, max_leaves)?;
    let mut nodes = vec![None; width];
    let prefix = keys.nodes();
    for (key, value) in read_prefix(storage, &prefix)? {
        let slot = GroupKeys::parse_index(&key, &prefix)
            .and_then(|x| usize::try_from(x).ok())
            .and_then(|x| nodes.get_mut(x))
            .ok_or_else(|| {
                corrupt(
                    &key,
                    format_args!("is not a node of the stored tree (width {width})"),
                )
            })?;
        *slot = Some(open(&key, Kind::TreeNode, &value, |r| get(r, "node"))?);
    }
    let tree = tree_from_nodes(&prefix, nodes)?;
    let epoch_number = core.context.epoch;
    let epoch = EpochState {
        context: core.context,
        tree,
        private: core.private,
        keys: core.keys,
        secret_tree: load_secret_tree(storage, &keys, suite, epoch_number)?,
        interim_transcript_hash: core.interim_transcript_hash,
        confirmation_tag: core.confirmation_tag,
        // Never stored (see EpochState::safe_exporter).
        safe_exporter: None,
    };

    let mut past = VecDeque::new();
    let mut newer = epoch.tree.clone();
    for e in retained.past_epochs.iter().rev() {
        let key = keys.past(*e);
        let bytes = required(storage, &key)?;
        let (context, sender_data_secret, (width, diff)): (GroupContext, _, _) =
            open(&key, Kind::PastEpoch, &bytes, |r| {
                Ok((
                    get(r, "context")?,
                    get(r, "sender_data_secret")?,
                    decode_diff(r)?,
                ))
            })?;
        stored_under(&key, group_id, &context.group_id)?;
        if context.epoch != *e {
            return Err(corrupt(
                &key,
                format_args!("holds epoch {} under the name of epoch {e}", context.epoch),
            ));
        }
        let tree = apply_diff(&key, &newer, (width, max_leaves), diff)?;
        newer = tree.clone();
        past.push_front(PastEpoch {
            context,
            tree,
            sender_data_secret,
            secret_tree: load_secret_tree(storage, &keys, suite, *e)?,
        });
    }

    let mut state = GroupState {
        suite: suite.clone(),
        config: meta.config,
        epoch,
        proposals: ProposalCache::default(),
        retention: Retention {
            epochs: past,
            resumption: resumption.into_iter().collect(),
        },
        removed: meta.removed,
        own_updates: Vec::new(),
        reinit: meta.reinit,
        authority,
    };
    let proposals = load_proposals(storage, &keys, &mut state)?;

    let pending = match read(storage, &keys.pending())? {
        None => None,
        Some(bytes) => {
            let base_tree = &state.epoch.tree;
            let (message, base, summary, next) =
                open(&keys.pending(), Kind::Pending, &bytes, |r| {
                    let message: Vec<u8> = get(r, "message")?;
                    let base = StagedFrom {
                        group_id: get(r, "group_id")?,
                        epoch: get(r, "epoch")?,
                        epoch_authenticator: get(r, "epoch_authenticator")?,
                    };
                    let summary = decode_summary(r)?;
                    let next = match r.take(1)?[0] {
                        0 => None,
                        1 => {
                            let core = decode_core(r)?;
                            let diff = decode_diff(r)?;
                            let secret_tree = decode_secret_tree(suite, r)?;
                            Some((core, diff, secret_tree))
                        }
                        v => return Err(super::records::invalid(r, v.into(), "next")),
                    };
                    Ok((message, base, summary, next))
                })?;
            let next = match next {
                None => None,
                Some((core, (width, diff), secret_tree)) => Some(EpochState {
                    context: core.context,
                    tree: apply_diff(&keys.pending(), base_tree, (width, max_leaves), diff)?,
                    private: core.private,
                    keys: core.keys,
                    secret_tree,
                    interim_transcript_hash: core.interim_transcript_hash,
                    confirmation_tag: core.confirmation_tag,
                    safe_exporter: None,
                }),
            };
            Some((
                message,
                StagedCommit {
                    summary,
                    next,
                    base,
                },
            ))
        }
    };
    let local = match read(storage, &keys.local())? {
        None => LocalFlags::default(),
        Some(bytes) => open(&keys.local(), Kind::Local, &bytes, LocalFlags::decode)?,
    };
    Ok(Some(Loaded {
        state,
        pending,
        local,
        inline_psks,
        proposals,
    }))
}

/// Fills `state`'s proposal cache and own Update keys from the `proposals`
/// record (which held every cached proposal in its earlier layout) and the `prop/<index>` records, which must be numbered from 0
/// without gaps, distinct, and at most `max_cached_proposals`.
fn load_proposals(
    storage: &SharedStorage,
    keys: &GroupKeys,
    state: &mut GroupState,
) -> Result<StoredProposals> {
    let mut stored = StoredProposals::default();
    let mut cache = |key: &[u8], p| {
        let before = state.proposals.len();
        state.cache_own_proposal(p);
        if state.proposals.len() == before {
            return Err(corrupt(key, "repeats a cached proposal"));
        }
        if state.proposals.len() > state.config.max_cached_proposals {
            return Err(corrupt(
                key,
                format_args!(
                    "is cached proposal {}, more than max_cached_proposals ({})",
                    state.proposals.len(),
                    state.config.max_cached_proposals
                ),
            ));
        }
        Ok(())
    };
    let record = keys.proposals();
    let mut own = Vec::new();
    if let Some(bytes) = read(storage, &record)? {
        let (inline, own_updates) = open(&record, Kind::Proposals, &bytes, decode_proposals)?;
        stored.inline = !inline.is_empty();
        for p in inline {
            cache(&record, p)?;
        }
        own = own_updates;
    }
    let prefix = keys.cached_proposals();
    for (i, (key, value)) in read_prefix(storage, &prefix)?.into_iter().enumerate() {
        if stored.inline {
            return Err(corrupt(
                &key,
                "is a cached proposal record beside a proposals record that holds them",
            ));
        }
        let index = GroupKeys::parse_index(&key, &prefix).and_then(|x| usize::try_from(x).ok());
        if index != Some(i) {
            return Err(corrupt(&key, format_args!("is not cached proposal {i}")));
        }
        cache(
            &key,
            open(&key, Kind::CachedProposal, &value, decode_cached_proposal)?,
        )?;
        stored.cached += 1;
    }
    stored.own_updates = own.len();
    state.own_updates = own;
    Ok(stored)
}

#[cfg(test)]
#[path = "stored_state_tests.rs"]
mod stored_state_tests;
#[cfg(test)]
#[path = "group_store_tests.rs"]
mod tests;
