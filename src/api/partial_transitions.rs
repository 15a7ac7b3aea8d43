//! A partial group across restarts and client kinds: loading it from
//! storage, upgrading it to a full [`Group`] with the downloaded ratchet
//! tree, and downgrading a full [`Group`] to a [`PartialGroup`]
//! (draft-ietf-mls-partial, "Upgrading and Downgrading").

use crate::api::client::Client;
use crate::api::group::Group;
use crate::api::partial_group::{PartialGroup, Status};
use crate::group::partial_upgrade::{downgrade, give_back_secret_tree, verify_upgrade};
use crate::group::state::GroupConfig;
use crate::persist::group_records::GroupKeys;
use crate::persist::partial_records::{decode_partial, encode_partial, partial_key};
use crate::persist::records::{corrupt, group_index_key, hex};
use crate::storage::{SharedStorage, WriteBatch};
use crate::{Error, Result};

fn no_storage() -> Error {
    Error::Misuse("this client has no storage: build it with ClientBuilder::storage".into())
}

/// Why a group is not found where it was looked for: stored as the other
/// kind (partial or full), or not at all.
pub(super) fn not_stored(storage: &SharedStorage, group_id: &[u8], partial: bool) -> Error {
    let as_full = crate::storage::read(storage, &GroupKeys::new(group_id).meta())
        .ok()
        .flatten()
        .is_some();
    let as_partial = crate::storage::read(storage, &partial_key(group_id))
        .ok()
        .flatten()
        .is_some();
    let id = hex(group_id);
    match (partial, as_full, as_partial) {
        (true, true, _) => Error::Misuse(format!(
            "group {id} is stored as a full group: load it with Client::load_group"
        )),
        (false, _, true) => Error::Misuse(format!(
            "group {id} is stored as a partial group: load it with Client::load_partial_group"
        )),
        _ => Error::Misuse(format!(
            "no group with id {id} is stored: list them with Client::groups"
        )),
    }
}

impl Client {
    /// Loads a partial group stored by this client, as it was after its
    /// last transition. A group stored as a full one is refused with an
    /// error naming [`Client::load_group`]; a tampered or truncated record
    /// is an [`Error::Storage`].
    pub fn load_partial_group(&mut self, group_id: &[u8]) -> Result<PartialGroup> {
        let storage = self.storage.clone().ok_or_else(no_storage)?;
        let key = partial_key(group_id);
        let Some(bytes) = crate::storage::read(&storage, &key)? else {
            return Err(not_stored(&storage, group_id, true));
        };
        let (state, proposals) = decode_partial(&self.suite, &key, &bytes)?;
        if state.context.group_id != group_id {
            return Err(corrupt(&key, "holds another group"));
        }
        if state.context.cipher_suite != self.suite.id() {
            return Err(corrupt(&key, "holds a group of another cipher suite"));
        }
        // Stored records are input too: no more cached proposals than
        // `process` ever admits.
        if proposals.len() > super::partial_group::MAX_PARTIAL_PROPOSALS {
            return Err(corrupt(
                &key,
                "holds more cached proposals than MAX_PARTIAL_PROPOSALS",
            ));
        }
        let config = state.secret_tree().config;
        Ok(PartialGroup {
            suite: self.suite.clone(),
            state,
            signer: self.signer.clone(),
            rng: self.group_rng()?,
            psks: self.psks.clone(),
            config,
            status: Status::Active,
            proposals,
            storage: Some(storage),
            authority: self.authority(),
        })
    }

    /// Upgrades a partial group to a full [`Group`] in the same epoch,
    /// given the encoded ratchet tree of that epoch (as downloaded from the
    /// delivery service). The tree is verified as a joiner verifies it
    /// (RFC 9420 §12.4.3.1; draft-ietf-mls-partial: "it MUST verify the
    /// integrity of the ratchet tree in the same way it would when joining
    /// as a full client"): its tree hash must be the epoch's, its parent
    /// hashes and every leaf valid, the credentials accepted by the
    /// client's validator, and it must carry this client's leaf and path
    /// keys. The group uses the default [`GroupConfig`] with the partial
    /// group's secret tree policy; [`Self::upgrade_partial_with`] takes the
    /// application's.
    ///
    /// On success `partial` is used up ([`PartialGroup::is_active`] false)
    /// and, with storage, the full group replaces the partial record in one
    /// write. A tree that does not match, or a failed write, leaves
    /// `partial` and the storage unchanged.
    pub fn upgrade_partial(
        &mut self,
        partial: &mut PartialGroup,
        ratchet_tree: &[u8],
    ) -> Result<Group> {
        let config = GroupConfig {
            secret_tree: partial.config,
            ..GroupConfig::default()
        };
        self.upgrade_partial_with(partial, ratchet_tree, config)
    }

    /// [`Self::upgrade_partial`] with the application's [`GroupConfig`],
    /// stored with the group as one given to [`Client::create_group`] or a
    /// join. Its `max_leaves` and `strict_lifetimes` apply to the tree being
    /// verified. The current epoch keeps the secret tree (and its
    /// out-of-order policy) the partial client used, whose generations are
    /// spent; `config.secret_tree` applies from the next epoch on, as after
    /// [`Group::set_config`].
    pub fn upgrade_partial_with(
        &mut self,
        partial: &mut PartialGroup,
        ratchet_tree: &[u8],
        config: GroupConfig,
    ) -> Result<Group> {
        partial.check_active()?;
        let wire: crate::tree::nodes::RatchetTreeWire =
            crate::decode_exact("ratchet tree", ratchet_tree)?;
        let tree = crate::group::join::tree_from_wire(wire, config.max_leaves)?;
        let verified = verify_upgrade(
            &self.suite,
            &partial.state,
            tree,
            &config,
            self.clock.now(),
            &self.authority(),
        )?;
        let mut rng = self.group_rng()?;
        let grease = self.group_info_grease(&mut *rng)?;
        let state = verified.into_state(
            &self.suite,
            &mut partial.state,
            config,
            self.authority(),
            partial.proposals.clone(),
        );
        let mut group = self.adopt(state, rng, grease);
        let mut extra = WriteBatch::default();
        extra.delete(partial_key(partial.group_id()));
        if let Err(e) = self.persist_group(&mut group, extra) {
            give_back_secret_tree(group.state, &mut partial.state);
            return Err(e);
        }
        partial.status = Status::Upgraded;
        Ok(group)
    }

    /// Downgrades a full group to a partial one (draft-ietf-mls-partial,
    /// "a full client can downgrade by deleting its local copy of the
    /// ratchet tree"): the tree is dropped; the proof of this client's
    /// leaf, the epoch's secrets, its secret tree and the keys of the
    /// client's direct path are kept. A pending commit of `group` is
    /// dropped (a partial client cannot commit), as are past epochs kept
    /// for late messages. With storage, the full group's records are
    /// replaced by the partial record in one write; if that write fails,
    /// the storage is unchanged and the group can be loaded again with
    /// [`Client::load_group`]. A group this client left, or that was
    /// reinitialized, is refused.
    pub fn downgrade(&mut self, group: Group) -> Result<PartialGroup> {
        let group_id = group.group_id().to_vec();
        let signer = group.signer.clone();
        let rng = group.rng;
        let (state, proposals, config) = downgrade(group.state)?;
        let partial = PartialGroup {
            suite: self.suite.clone(),
            state,
            signer,
            rng,
            psks: self.psks.clone(),
            config: config.secret_tree,
            status: Status::Active,
            proposals,
            storage: self.storage.clone(),
            authority: self.authority(),
        };
        if let Some(storage) = &self.storage {
            let mut batch = WriteBatch::default();
            batch.delete_prefix(GroupKeys::new(&group_id).all());
            batch.delete(group_index_key(&group_id));
            batch.put(
                partial_key(&group_id),
                encode_partial(&partial.state, &partial.proposals)?,
            );
            crate::storage::with(storage, |s| s.write(batch))?;
        }
        Ok(partial)
    }
}
