//! Joining as a partial client from an AnnotatedWelcome
//! (draft-ietf-mls-partial, "Joining via Annotated Welcome"): §12.4.3.1
//! with the ratchet tree replaced by the sender's and joiner's membership
//! proofs.
//!
//! What changes against a full join: the GroupInfo signature is verified
//! with the key of the sender's proven leaf (the `signer` must be that
//! leaf); the tree's integrity check becomes "both proofs lead to the
//! GroupInfo's `tree_hash`"; the joiner's leaf index is its proof's, and the
//! proven leaf must be the key package's leaf node. The path secret, when
//! present, is checked node by node against the public keys of the joiner's
//! proven direct path. Leaves other than these two are never seen, so their
//! validation (§7.3, §12.4.3.1 tree checks) is out of reach by design.

use crate::crypto::{Secret, Suite};
use crate::framing::{AnnotatedWelcome, interim_transcript_hash};
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::state::NoResumption;
use crate::group::welcome_open::{
    decrypt_group_info, decrypt_group_secrets, key_package_ref, verify_group_info,
};
use crate::messages::key_package::{KeyPackageData, KeyPackagePrivate};
use crate::schedule::{EpochSecrets, GroupContext, JoinerSecret, PreSharedKeyId};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::nodes::Node;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "§12.4.3.1 via draft-ietf-mls-partial AnnotatedWelcome";

/// What a partial client holds after joining: the epoch's secrets and
/// context, its leaf index and the path secrets of its direct path, but no
/// ratchet tree.
#[derive(Debug)]
pub struct PartialJoin {
    /// The GroupContext of the epoch joined.
    pub group_context: GroupContext,
    /// The epoch's secrets.
    pub secrets: EpochSecrets,
    /// The interim transcript hash of the epoch (§8.2).
    pub interim_transcript_hash: Vec<u8>,
    /// This client's leaf.
    pub own_leaf: LeafIndex,
    /// The path secret of each node of the joiner's direct path it learnt
    /// from the Welcome (the lowest common ancestor with the sender and the
    /// non-blank nodes above), lowest first.
    pub path_secrets: Vec<(NodeIndex, Secret)>,
    /// The PSKs the Welcome named.
    pub psks: Vec<PreSharedKeyId>,
    /// The GroupInfo's confirmation tag (verified).
    pub confirmation_tag: Vec<u8>,
}

/// Derives the path secrets of the non-blank nodes of `proof`'s direct path
/// from `start` up, the first being `first`, and checks each against the
/// node's public key (§7.4, §12.4.3.1).
pub fn derive_proven_path(
    suite: &Suite,
    proof: &MembershipProof,
    start: NodeIndex,
    first: Secret,
    rule: &'static str,
) -> Result<Vec<(NodeIndex, Secret)>> {
    let path = proof.path()?;
    let from = path
        .iter()
        .position(|(x, _)| *x == start)
        .ok_or_else(|| Error::protocol(rule, format!("node {start} is not on the proven path")))?;
    let mut out = Vec::new();
    let mut secret = first;
    for (x, node) in &path[from..] {
        let Some(Node::Parent(parent)) = node else {
            if *x == start {
                return Err(Error::protocol(
                    rule,
                    format!("a path secret for node {x}, which is blank"),
                ));
            }
            continue;
        };
        if !out.is_empty() {
            secret = suite.derive_secret(secret.as_bytes(), "path")?;
        }
        let node_secret = suite.derive_secret(secret.as_bytes(), "node")?;
        let (_, public) = suite.derive_key_pair(node_secret.as_bytes())?;
        if public != parent.encryption_key {
            return Err(Error::protocol(
                rule,
                format!("the path secret of node {x} does not give its public key"),
            ));
        }
        out.push((*x, secret.clone()));
    }
    Ok(out)
}

/// Joins as a partial client: every step of §12.4.3.1 with the draft's
/// changes (module documentation).
pub fn join_partial(
    suite: &Suite,
    annotated: &AnnotatedWelcome,
    key_package: &KeyPackageData,
    private: &KeyPackagePrivate,
    psks: &dyn PskStore,
    psk_use: PskUse,
) -> Result<PartialJoin> {
    let welcome = &annotated.welcome.message;
    let sender = &annotated.welcome.sender_membership_proof;
    let joiner = &annotated.joiner_membership_proof;
    // Step 1 of the draft: both proofs reference the same tree.
    let root = sender.same_tree(joiner, suite)?;
    if key_package.cipher_suite != welcome.cipher_suite {
        return Err(Error::protocol(
            RULE,
            format!(
                "Welcome for cipher suite {:?}, key package for {:?}",
                welcome.cipher_suite, key_package.cipher_suite
            ),
        ));
    }
    let kp_ref = key_package_ref(suite, key_package)?;
    let secrets = decrypt_group_secrets(suite, welcome, &kp_ref, &private.init_key)?;
    let psk_secret = resolve_psks(suite, &secrets.psks, psks, &NoResumption, psk_use)?;
    let joiner_secret = JoinerSecret::new(secrets.joiner_secret.clone());
    let info = decrypt_group_info(suite, welcome, &joiner_secret, &psk_secret)?;
    let context = &info.group_context;

    // The GroupInfo is signed by the sender's proven leaf.
    if info.signer != sender.leaf_index {
        return Err(Error::protocol(
            RULE,
            format!(
                "GroupInfo signer {} but the sender proof is for leaf {}",
                info.signer, sender.leaf_index
            ),
        ));
    }
    verify_group_info(suite, &info, &sender.leaf_node()?.signature_key)?;
    // The tree's integrity check becomes: the proofs lead to its tree hash.
    if root != context.tree_hash {
        return Err(Error::protocol(
            RULE,
            "the membership proofs do not lead to the GroupInfo's tree_hash",
        ));
    }
    // The joiner's leaf is its proof's, and holds this key package's leaf.
    if joiner.leaf_node()? != &key_package.leaf_node {
        return Err(Error::protocol(
            RULE,
            "the joiner's proven leaf is not this key package's leaf node",
        ));
    }
    crate::types::extensions::check_unique_types(&context.extensions, "GroupContext extensions")?;
    if let Some(e) = context.extensions.iter().find(|e| {
        !key_package
            .leaf_node
            .capabilities
            .supports_extension(e.extension_type)
    }) {
        return Err(Error::protocol(
            RULE,
            format!(
                "the group uses extension {:?}, which this client does not support",
                e.extension_type
            ),
        ));
    }
    let own_leaf = joiner.leaf_index;
    let path_secrets = match &secrets.path_secret {
        None => Vec::new(),
        Some(path_secret) => {
            let n = joiner.leaf_count()?;
            let (me, them) = own_leaf
                .node()
                .zip(sender.leaf_index.node())
                .ok_or(Error::Internal("a leaf index without node index"))?;
            let lca = me.common_ancestor(them, n).ok_or_else(|| {
                Error::protocol(RULE, "path_secret given but the sender is the joiner")
            })?;
            derive_proven_path(suite, joiner, lca, path_secret.path_secret.clone(), RULE)?
        }
    };

    let epoch_secrets = joiner_secret
        .into_epoch_secret(suite, &psk_secret, context)?
        .into_epoch_secrets(suite)?;
    epoch_secrets
        .verify_confirmation_tag(
            suite,
            &context.confirmed_transcript_hash,
            &info.confirmation_tag,
        )
        .map_err(|_| {
            Error::protocol(
                RULE,
                format!(
                    "confirmation tag of epoch {} in the GroupInfo does not verify",
                    context.epoch
                ),
            )
        })?;
    let interim = interim_transcript_hash(
        suite,
        &context.confirmed_transcript_hash,
        &info.confirmation_tag,
    )?;
    Ok(PartialJoin {
        group_context: info.group_context.clone(),
        secrets: epoch_secrets,
        interim_transcript_hash: interim,
        own_leaf,
        path_secrets,
        psks: secrets.psks.clone(),
        confirmation_tag: info.confirmation_tag.clone(),
    })
}
