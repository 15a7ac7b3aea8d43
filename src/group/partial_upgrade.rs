//! Upgrading a partial client to a full one and downgrading a full client
//! to a partial one (draft-ietf-mls-partial, "Upgrading and Downgrading").
//!
//! An upgrade takes the ratchet tree of the current epoch, as downloaded,
//! and "MUST verify the integrity of the ratchet tree in the same way it
//! would when joining as a full client, following the steps in Section
//! 12.4.3.1 of RFC9420": tree hash equal to the GroupContext's (the one
//! the partial client's epoch trusts), parent hashes, every leaf (§7.3,
//! lifetimes by the group policy), unmerged leaves, key uniqueness and the
//! application's credential validation. Only then does the partial state
//! (secrets, secret tree with its used generations, own leaf key and path
//! keys) become a full [`GroupState`] in the same epoch.
//!
//! A downgrade deletes the tree and keeps what the partial client needs:
//! the proof of its own leaf, the secrets, the secret tree and the private
//! keys of its direct path.

use crate::crypto::{Secret, Suite};
use crate::group::authorization::{Authority, Scope};
use crate::group::join::{check_group_size, validate_tree_for};
use crate::group::partial_epoch::{PartialEpoch, PartialEpochParts, PathKey};
use crate::group::proposal_cache::ProposalCache;
use crate::group::state::{EpochKeys, EpochState, GroupConfig, GroupState, Retention};
use crate::schedule::{EpochSecrets, InitSecret, SecretTree};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "§12.4.3.1 via draft-ietf-mls-partial Upgrading and Downgrading";

/// A tree verified for an upgrade, with the private view of the tree
/// built from the partial client's keys. Nothing of the partial state was
/// taken yet: dropping it leaves the partial client as it was.
#[derive(Debug)]
pub struct VerifiedUpgrade {
    tree: RatchetTree,
    private: TreePrivate,
}

/// Verifies `tree` for the partial client in `epoch` as a joiner would
/// (module documentation), and that the client's own leaf and path keys
/// are those the tree holds.
pub fn verify_upgrade(
    suite: &Suite,
    epoch: &PartialEpoch,
    tree: RatchetTree,
    config: &GroupConfig,
    now: u64,
    authority: &Authority,
) -> Result<VerifiedUpgrade> {
    let context = &epoch.context;
    check_group_size(&tree, config.max_leaves)?;
    // The tree hash it must match is the GroupContext's: the one the
    // partial client verified through the confirmation tag of its epoch.
    validate_tree_for(suite, &tree, context, config.tree_lifetime_at(now))?;
    Scope {
        authority,
        context,
        tree: &tree,
    }
    .tree_import()?;
    let own_leaf = epoch.own_leaf;
    if tree.leaf(own_leaf) != Some(epoch.own_proof.leaf_node()?) {
        return Err(Error::protocol(
            RULE,
            format!("leaf {own_leaf} of the tree is not this client's leaf"),
        ));
    }
    let mut private = TreePrivate::new(own_leaf, epoch.leaf_key.clone())?;
    for k in &epoch.path_keys {
        match tree.parent(k.node) {
            Some(parent) if parent.encryption_key == k.public => {
                private.set_key(k.node, k.private.clone());
            }
            _ => {
                return Err(Error::protocol(
                    RULE,
                    format!(
                        "node {} of the tree does not carry the key this client holds",
                        k.node
                    ),
                ));
            }
        }
    }
    Ok(VerifiedUpgrade { tree, private })
}

impl VerifiedUpgrade {
    /// The full state in the partial client's epoch. The secret tree is
    /// moved out of `epoch` (an empty one is left there: the partial state
    /// must not be used again, or a message key would be used twice);
    /// [`give_back_secret_tree`] puts it back if the upgrade is abandoned.
    pub fn into_state(
        self,
        suite: &Suite,
        epoch: &mut PartialEpoch,
        config: GroupConfig,
        authority: Authority,
        proposals: ProposalCache,
    ) -> GroupState {
        let empty = SecretTree::new(
            suite,
            Secret::zero(suite.hash_len()),
            epoch.leaf_count,
            config.secret_tree,
        );
        let secret_tree = std::mem::replace(&mut epoch.secret_tree, empty);
        let s = &epoch.secrets;
        let keys = EpochKeys {
            sender_data_secret: s.sender_data_secret.clone(),
            exporter_secret: s.exporter_secret.clone(),
            external_secret: s.external_secret.clone(),
            confirmation_key: s.confirmation_key.clone(),
            membership_key: s.membership_key.clone(),
            resumption_psk: s.resumption_psk.clone(),
            epoch_authenticator: s.epoch_authenticator.clone(),
            init_secret: s.init_secret.clone(),
        };
        GroupState {
            suite: suite.clone(),
            config,
            epoch: EpochState {
                context: epoch.context.clone(),
                tree: self.tree,
                private: self.private,
                keys,
                secret_tree,
                interim_transcript_hash: epoch.interim_transcript_hash.clone(),
                confirmation_tag: epoch.confirmation_tag.clone(),
                // As for an epoch loaded from storage: the safe exporter's
                // root is not kept by a partial client.
                safe_exporter: None,
            },
            proposals,
            retention: Retention::default(),
            removed: false,
            own_updates: Vec::new(),
            reinit: None,
            authority,
        }
    }
}

/// Puts the secret tree of a state built by [`VerifiedUpgrade::into_state`]
/// back into the partial epoch it came from.
pub fn give_back_secret_tree(state: GroupState, epoch: &mut PartialEpoch) {
    epoch.secret_tree = state.epoch.secret_tree;
}

/// The partial state of a full member's current epoch: the tree is
/// dropped, the proof of the member's leaf kept, with the secrets, the
/// secret tree and the keys of its direct path. Refused for a member that
/// was removed or whose group was reinitialized. Returns the state and the
/// proposals cached in the epoch.
pub fn downgrade(state: GroupState) -> Result<(PartialEpoch, ProposalCache, GroupConfig)> {
    if state.removed || state.reinit.is_some() {
        return Err(Error::Misuse(
            "this group was left or reinitialized: there is nothing to follow as a partial client"
                .into(),
        ));
    }
    let suite = state.suite;
    let epoch = state.epoch;
    let own_leaf = epoch.private.leaf();
    let own_node = own_leaf
        .node()
        .ok_or(Error::Internal("own leaf outside the tree"))?;
    let own_proof = MembershipProof::from_tree(&epoch.tree, &suite, own_leaf)?;
    let leaf_key = epoch
        .private
        .key(own_node)
        .cloned()
        .ok_or(Error::Internal("no key for the own leaf"))?;
    let mut path_keys = Vec::new();
    for x in epoch.private.nodes().filter(|x| *x != own_node) {
        // A key for a node the tree no longer carries is of no use.
        if let (Some(parent), Some(private)) = (epoch.tree.parent(x), epoch.private.key(x)) {
            path_keys.push(PathKey {
                node: x,
                private: private.clone(),
                public: parent.encryption_key.clone(),
            });
        }
    }
    let keys = epoch.keys;
    let zero = || Secret::zero(suite.hash_len());
    let secrets = EpochSecrets {
        sender_data_secret: keys.sender_data_secret,
        encryption_secret: zero(),
        exporter_secret: keys.exporter_secret,
        external_secret: keys.external_secret,
        confirmation_key: keys.confirmation_key,
        membership_key: keys.membership_key,
        resumption_psk: keys.resumption_psk,
        epoch_authenticator: keys.epoch_authenticator,
        application_export_secret: zero(),
        init_secret: InitSecret::new(keys.init_secret.as_secret().clone()),
    };
    let partial = PartialEpoch::from_parts(
        own_leaf,
        PartialEpochParts {
            context: epoch.context,
            interim_transcript_hash: epoch.interim_transcript_hash,
            confirmation_tag: epoch.confirmation_tag,
            secrets,
            leaf_key,
            path_keys,
            secret_tree: epoch.secret_tree,
            own_proof,
        },
    )?;
    Ok((partial, state.proposals, state.config))
}
