//! Rejoining a group this member can no longer follow
//! ([`Action::Resync`](crate::Action::Resync)): one call that finds the
//! member's old leaf in a current GroupInfo and replaces it by external
//! commit (§12.4.3.2).

use crate::api::client::{Client, ExternalJoinOptions};
use crate::api::group::Group;
use crate::api::group_devices::leaves_of_device;
use crate::framing::{MlsMessage, MlsMessageBody};
use crate::tree::nodes::RatchetTreeWire;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::extensions::{ExtensionType, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result, decode_exact};

/// The ratchet tree a GroupInfo (an MLSMessage) carries in its
/// `ratchet_tree` extension, or else `options.ratchet_tree`, bounded by
/// `options.config.max_leaves`.
pub(crate) fn tree_of(group_info: &[u8], options: &ExternalJoinOptions) -> Result<RatchetTree> {
    let message: MlsMessage = decode_exact("MLSMessage", group_info)?;
    let MlsMessageBody::GroupInfo(info) = &message.body else {
        return Err(Error::Misuse("expected a GroupInfo message".into()));
    };
    let wire = match decode_extension::<RatchetTreeWire>(
        &info.extensions,
        ExtensionType::RATCHET_TREE,
        "ratchet_tree extension",
    )? {
        Some(wire) => wire,
        None => {
            let bytes = options.ratchet_tree.as_deref().ok_or_else(|| {
                Error::Misuse(
                    "the GroupInfo carries no ratchet_tree extension: pass the tree".into(),
                )
            })?;
            decode_exact("ratchet tree", bytes)?
        }
    };
    crate::group::join::tree_from_wire(wire, options.config.max_leaves)
}

impl Client {
    /// Rejoins a group this member can no longer follow: the one call for
    /// [`Action::Resync`](crate::Action::Resync) (see `docs/errors.md` for
    /// when that is). An external commit (§12.4.3.2) from `group_info` (a
    /// current GroupInfo MLSMessage, from the delivery service) that
    /// removes this member's old leaf and no other:
    ///
    /// - the leaf holding this client's signature key, when the client
    ///   kept its keys (it missed a commit the delivery service no longer
    ///   has);
    /// - else the leaf of this client's device ([`Client::device`]), when
    ///   the keys are new (the state was lost or rolled back and the
    ///   client rebuilt);
    /// - else none: this member is no longer in the group (a removal it
    ///   missed), and the commit only joins, which the members' validators
    ///   and the delivery service may refuse.
    ///
    /// Returns what [`Client::join_by_external_commit_with`] returns (its
    /// `options.remove_old_leaf` is replaced); the new group replaces the
    /// stored state of the old one (same group id). Send the commit; the
    /// group is [`Group::external_join_pending`] until it is accepted.
    /// Fails with [`Error::Misuse`], changing nothing, when several leaves
    /// hold this client's key or device: removing one may remove another
    /// device, so the caller picks one (`join_by_external_commit_with`).
    /// O(n): the tree is decoded once more than a plain external join.
    pub fn resync(
        &mut self,
        group_info: &[u8],
        mut options: ExternalJoinOptions,
    ) -> Result<(Group, Vec<u8>)> {
        let tree = tree_of(group_info, &options)?;
        let key = self.signature_key();
        let by_key: Vec<LeafIndex> = tree
            .members()
            .filter(|(_, leaf)| &leaf.signature_key == key)
            .map(|(index, _)| index)
            .collect();
        let candidates = match (by_key.is_empty(), self.device()) {
            (false, _) => by_key,
            (true, Some(device)) => leaves_of_device(&tree, &device),
            (true, None) => Vec::new(),
        };
        options.remove_old_leaf = match candidates[..] {
            [] => None,
            [old] => Some(old),
            [..] => {
                return Err(Error::Misuse(format!(
                    "leaves {candidates:?} all hold this client's key or device: resync cannot \
                     tell which is its own; give each device its own DeviceIdentity, or remove \
                     the stale leaf with Client::join_by_external_commit_with"
                )));
            }
        };
        self.join_by_external_commit_with(group_info, options)
    }

    /// Rejoins a group after this device lost its state: an external
    /// commit (§12.4.3.2) that removes this device's old leaf, found by
    /// [`Client::device`] in the GroupInfo's tree (or
    /// `options.ratchet_tree`), and no other leaf, so the user's other
    /// devices stay. `options.remove_old_leaf` is replaced. When the group
    /// no longer holds this device (it was removed meanwhile), the commit
    /// only joins. Returns what [`Client::join_by_external_commit_with`]
    /// returns. Fails with [`Error::Misuse`] when the credential names no
    /// device, or when several leaves present it (devices sharing a plain
    /// identity: removing one may remove the other, so nothing is done).
    /// Cost: the tree is decoded twice, once here to find the leaf.
    pub fn rejoin_device(
        &mut self,
        group_info: &[u8],
        mut options: ExternalJoinOptions,
    ) -> Result<(Group, Vec<u8>)> {
        let device = self.device().ok_or_else(|| {
            Error::Misuse(
                "this client's credential names no device: build it with \
                 Client::builder_for_device, or find the old leaf and use \
                 Client::join_by_external_commit_with"
                    .into(),
            )
        })?;
        let tree = tree_of(group_info, &options)?;
        options.remove_old_leaf = match leaves_of_device(&tree, &device)[..] {
            [] => None,
            [old] => Some(old),
            [..] => {
                return Err(Error::Misuse(
                    "several leaves present this client's device (devices sharing one \
                     identity): give each device its own DeviceIdentity, and remove the \
                     stale leaf by index"
                        .into(),
                ));
            }
        };
        self.join_by_external_commit_with(group_info, options)
    }
}
