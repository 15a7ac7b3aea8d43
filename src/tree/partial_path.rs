//! Processing an UpdatePath without the ratchet tree (draft-ietf-mls-partial,
//! "Annotated Commit"): the committer's and the receiver's membership proofs
//! in the new tree stand in for the tree, and the annotation's
//! `resolution_index` names the ciphertext meant for the receiver.
//!
//! The proofs come from an unauthenticated annotator; what binds them is
//! checked here: both reference the same tree, the committer's non-blank
//! direct-path nodes are exactly the UpdatePath's nodes with the same public
//! keys, and every path secret the receiver derives must give the public
//! key its node carries. The caller checks the proofs against
//! `tree_hash_after`, which the Commit's confirmation tag authenticates.

use crate::crypto::{HpkePrivateKey, Secret, Suite};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::nodes::Node;
use crate::tree::update_path::UpdatePath;
use crate::types::math::NodeIndex;
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "§7.6 via draft-ietf-mls-partial AnnotatedCommit";

/// What a partial receiver learns from an UpdatePath.
#[derive(Debug)]
pub struct PartialPathSecrets {
    /// The path secret of each non-blank node of the receiver's new direct
    /// path from the committer's and receiver's lowest common ancestor up to
    /// the root, with its node.
    pub path_secrets: Vec<(NodeIndex, Secret)>,
    /// `commit_secret`: `DeriveSecret(root path secret, "path")` (§8).
    pub commit_secret: Secret,
}

/// The node's public encryption key, for a non-blank parent.
fn parent_key(node: Option<&Node>) -> Option<&[u8]> {
    match node {
        Some(Node::Parent(p)) => Some(p.encryption_key.as_bytes()),
        _ => None,
    }
}

/// Decrypts the receiver's path secret from `path` and derives the rest.
///
/// `context` is the encoded provisional GroupContext (with the new tree
/// hash); `resolution_index` picks the ciphertext inside the UpdatePath node
/// of the lowest common ancestor; `private_key` gives the receiver's private
/// key of a node of its direct path (its leaf included), if it has one.
pub fn decrypt_partial_path(
    suite: &Suite,
    path: &UpdatePath,
    sender_after: &MembershipProof,
    receiver_after: &MembershipProof,
    resolution_index: u32,
    context: &[u8],
    private_key: &dyn Fn(NodeIndex) -> Option<HpkePrivateKey>,
) -> Result<PartialPathSecrets> {
    sender_after.same_tree(receiver_after, suite)?;
    let n = sender_after.leaf_count()?;
    let sender_path = sender_after.path()?;
    let receiver_path = receiver_after.path()?;
    let (sender_leaf, receiver_leaf) = (sender_path[0].0, receiver_path[0].0);
    if sender_leaf == receiver_leaf {
        return Err(Error::protocol(
            RULE,
            "the committer cannot process its own UpdatePath as a receiver",
        ));
    }
    // The committer's leaf in the new tree is the UpdatePath's leaf node.
    if sender_after.leaf_node()? != &path.leaf_node {
        return Err(Error::protocol(
            RULE,
            "the committer's proven leaf is not the UpdatePath's leaf node",
        ));
    }
    // The non-blank nodes of the committer's new direct path are the
    // UpdatePath's nodes, key for key.
    let filtered: Vec<(NodeIndex, &[u8])> = sender_path
        .iter()
        .skip(1)
        .filter_map(|(x, node)| parent_key(*node).map(|k| (*x, k)))
        .collect();
    if filtered.len() != path.nodes.len() {
        return Err(Error::protocol(
            RULE,
            format!(
                "the committer's proof has {} non-blank direct-path nodes, the UpdatePath {}",
                filtered.len(),
                path.nodes.len()
            ),
        ));
    }
    for ((x, key), node) in filtered.iter().zip(&path.nodes) {
        if *key != node.encryption_key.as_bytes() {
            return Err(Error::protocol(
                RULE,
                format!("node {x}: the proof's key is not the UpdatePath's"),
            ));
        }
    }
    let ancestor = sender_leaf
        .common_ancestor(receiver_leaf, n)
        .ok_or(Error::Internal(
            "leaves of one tree without common ancestor",
        ))?;
    let index = filtered
        .iter()
        .position(|(x, _)| *x == ancestor)
        .ok_or_else(|| {
            Error::protocol(
                RULE,
                format!("the common ancestor {ancestor} is blank in the new tree"),
            )
        })?;
    let ciphertext = path.nodes[index]
        .encrypted_path_secret
        .get(resolution_index as usize)
        .ok_or_else(|| {
            Error::protocol(
                RULE,
                format!(
                    "resolution_index {resolution_index} is past the {} ciphertexts of node {ancestor}",
                    path.nodes[index].encrypted_path_secret.len()
                ),
            )
        })?;
    // The receiver decrypts with the key of the highest non-blank node
    // below the ancestor on its own path whose key it holds: a parent that
    // lists it as unmerged was set without it.
    let below: Vec<_> = receiver_path
        .iter()
        .take_while(|(x, _)| *x != ancestor)
        .collect();
    let receiver_leaf_index = receiver_after.leaf_index;
    let holder = below
        .iter()
        .rev()
        .find(|(_, node)| match node {
            Some(Node::Leaf(_)) => true,
            Some(Node::Parent(p)) => !p.unmerged_leaves.contains(&receiver_leaf_index),
            None => false,
        })
        .map(|(x, _)| *x)
        .ok_or(Error::Internal("a receiver path without its leaf"))?;
    let key = private_key(holder).ok_or_else(|| {
        Error::protocol(
            RULE,
            format!("the receiver holds no private key for node {holder}"),
        )
    })?;
    let first = suite
        .decrypt_with_label(
            &key,
            "UpdatePathNode",
            context,
            ciphertext.kem_output,
            ciphertext.ciphertext,
        )
        .map_err(|e| {
            Error::protocol(
                RULE,
                format!("the path secret for node {ancestor} does not decrypt: {e}"),
            )
        })?;
    // From the ancestor up, each non-blank node's secret derives from the
    // one below it, and must give the public key the node carries.
    let mut path_secrets = Vec::new();
    let mut secret = first;
    for (i, (x, public)) in filtered.iter().enumerate().skip(index) {
        if i > index {
            secret = suite.derive_secret(secret.as_bytes(), "path")?;
        }
        let node_secret = suite.derive_secret(secret.as_bytes(), "node")?;
        let (_, derived) = suite.derive_key_pair(node_secret.as_bytes())?;
        if derived.as_bytes() != *public {
            return Err(Error::protocol(
                RULE,
                format!("the path secret of node {x} does not give its public key"),
            ));
        }
        path_secrets.push((*x, secret.clone()));
    }
    let commit_secret = suite.derive_secret(secret.as_bytes(), "path")?;
    Ok(PartialPathSecrets {
        path_secrets,
        commit_secret,
    })
}
