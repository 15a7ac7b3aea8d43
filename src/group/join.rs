//! Joining a group from a Welcome (§12.4.3.1).

use crate::crypto::Suite;
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::state::{Confirmation, EpochState, GroupConfig, NoResumption, enter_epoch};
use crate::group::welcome_open::{
    decrypt_group_info, decrypt_group_secrets, key_package_ref, verify_group_info,
};
use crate::messages::key_package::{KeyPackageData, KeyPackagePrivate};
use crate::messages::welcome::{GroupInfo, Welcome};
use crate::schedule::{GroupContext, JoinerSecret};
use crate::tree::leaf_validation::LifetimePolicy;
use crate::tree::nodes::RatchetTreeWire;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::tree::validation::TreeValidation;
use crate::types::extensions::{ExtensionType, RequiredCapabilities, decode_extension};
use crate::{Error, Result};

/// What a new member brings to a Welcome.
pub struct JoinInputs<'a> {
    /// The Welcome.
    pub welcome: &'a Welcome,
    /// The key package it answers.
    pub key_package: &'a KeyPackageData,
    /// That key package's private keys.
    pub private: &'a KeyPackagePrivate,
    /// The ratchet tree, when not carried in the GroupInfo.
    pub ratchet_tree: Option<RatchetTree>,
    /// Source of PSKs the Welcome names.
    pub psks: &'a dyn PskStore,
    /// The current time (seconds since the Unix epoch).
    pub now: u64,
    /// Group policy.
    pub config: GroupConfig,
    /// Whether this Welcome starts a reinitialized or branched group.
    pub psk_use: PskUse,
}

/// The GroupInfo's tree (from its `ratchet_tree` extension, else `given`),
/// with the GroupInfo signature checked against the signer's leaf and the
/// whole tree validated as §12.4.3.1 requires. Shared by Welcome joins and
/// external commits.
pub(crate) fn import_tree(
    suite: &Suite,
    info: &GroupInfo,
    given: Option<RatchetTree>,
    lifetime: LifetimePolicy,
    max_leaves: u32,
) -> Result<RatchetTree> {
    let context = &info.group_context;
    let tree = match decode_extension::<RatchetTreeWire>(
        &info.extensions,
        ExtensionType::RATCHET_TREE,
        "ratchet_tree extension",
    )? {
        Some(wire) => tree_from_wire(wire, max_leaves)?,
        None => {
            let tree = given.ok_or_else(|| {
                Error::Misuse(
                    "the GroupInfo carries no ratchet_tree extension: pass the tree".into(),
                )
            })?;
            check_group_size(&tree, max_leaves)?;
            tree
        }
    };
    // §12.4.3.1: verify the GroupInfo signature with the signer's leaf.
    let signer = tree.leaf(info.signer).ok_or_else(|| {
        Error::protocol(
            "§12.4.3.1",
            format!("GroupInfo signer {} is not a member", info.signer.0),
        )
    })?;
    verify_group_info(suite, info, &signer.signature_key)?;
    // draft-ietf-mls-extensions: a GroupInfo's `app_data_dictionary` must
    // be well formed, whoever reads it (joiner or observer).
    crate::group::app_data_rules::group_info_dictionary(&info.extensions)?;
    validate_tree_for(suite, &tree, context, lifetime)?;
    Ok(tree)
}

/// §12.4.3.1: the whole tree validated against the GroupContext it is
/// joined with (its tree hash, group id and required capabilities). Shared
/// by joins and by a partial client's upgrade, whose tree must match the
/// GroupContext its epoch confirmed.
pub(crate) fn validate_tree_for(
    suite: &Suite,
    tree: &RatchetTree,
    context: &GroupContext,
    lifetime: LifetimePolicy,
) -> Result<()> {
    let required: Option<RequiredCapabilities> = decode_extension(
        &context.extensions,
        ExtensionType::REQUIRED_CAPABILITIES,
        "required_capabilities",
    )?;
    tree.validate(
        suite,
        &TreeValidation {
            group_id: &context.group_id,
            tree_hash: &context.tree_hash,
            required: required.as_ref(),
            lifetime,
        },
    )?;
    // draft-ietf-mls-extensions: what members keep true after every commit
    // holds in a tree we join too: each member supports the required wire
    // formats and lists the required components and Safe AAD components.
    crate::group::wire_format_rules::check_members(tree, &context.extensions)?;
    crate::group::required_components::check_members(tree, &context.extensions)?;
    crate::group::safe_aad_rules::check_members(tree, &context.extensions)
}

/// What a Welcome gives its joiner besides the epoch.
#[derive(Debug, Clone, Default)]
pub struct WelcomeExtras {
    /// The PSKs the Welcome named.
    pub psks: Vec<crate::schedule::PreSharedKeyId>,
    /// The GroupInfo's `app_data_dictionary` (draft-ietf-mls-extensions),
    /// GREASE entries dropped.
    pub group_info_app_data: Option<crate::types::app_data::AppDataDictionary>,
}

/// Runs every step of §12.4.3.1 and returns the state of the epoch joined
/// and what else the Welcome carried.
pub fn join_from_welcome(
    suite: &Suite,
    input: JoinInputs<'_>,
) -> Result<(EpochState, WelcomeExtras)> {
    let kp = input.key_package;
    if kp.cipher_suite != input.welcome.cipher_suite {
        return Err(Error::protocol(
            "§12.4.3.1",
            format!(
                "Welcome for cipher suite {:?}, key package for {:?}",
                input.welcome.cipher_suite, kp.cipher_suite
            ),
        ));
    }
    let kp_ref = key_package_ref(suite, kp)?;
    let secrets = decrypt_group_secrets(suite, input.welcome, &kp_ref, &input.private.init_key)?;
    let secrets_psks = secrets.psks.clone();
    let psk_secret = resolve_psks(
        suite,
        &secrets.psks,
        input.psks,
        &NoResumption,
        input.psk_use,
    )?;
    let joiner = JoinerSecret::new(secrets.joiner_secret.clone());
    let info = decrypt_group_info(suite, input.welcome, &joiner, &psk_secret)?;
    let context = &info.group_context;

    let tree = import_tree(
        suite,
        &info,
        input.ratchet_tree,
        input.config.tree_lifetime_at(input.now),
        input.config.max_leaves,
    )?;

    // §12.4.3.1 / §13.4: "A client joining a group MUST verify that it
    // supports every extension in the GroupContext".
    crate::types::extensions::check_unique_types(&context.extensions, "GroupContext extensions")?;
    if let Some(e) = context.extensions.iter().find(|e| {
        !kp.leaf_node
            .capabilities
            .supports_extension(e.extension_type)
    }) {
        return Err(Error::protocol(
            "§12.4.3.1",
            format!(
                "the group uses extension {:?}, which this client does not support",
                e.extension_type
            ),
        ));
    }
    // §12.4.3.1: "Identify a leaf whose LeafNode is identical to the one in
    // the KeyPackage."
    let own = tree
        .members()
        .find(|(_, leaf)| **leaf == kp.leaf_node)
        .map(|(i, _)| i)
        .ok_or_else(|| {
            Error::protocol(
                "§12.4.3.1",
                "no leaf of the tree holds this key package's leaf node",
            )
        })?;
    let mut private = TreePrivate::new(own, input.private.encryption_key.clone())?;
    if let Some(path_secret) = &secrets.path_secret {
        // §12.4.3.1: the path secret belongs to the lowest common ancestor
        // of our leaf and the signer's; the committer's path from there up
        // is the non-blank nodes above.
        let me = own
            .node()
            .ok_or(Error::Internal("own leaf outside the tree"))?;
        let signer_node = info
            .signer
            .node()
            .ok_or(Error::Internal("signer outside the tree"))?;
        let lca = me
            .common_ancestor(signer_node, tree.leaf_count())
            .ok_or_else(|| {
                Error::protocol(
                    "§12.4.3.1",
                    "path_secret given but the signer is our own leaf",
                )
            })?;
        let mut path = vec![lca];
        let mut x = lca;
        while let Some(p) = x.parent(tree.leaf_count()) {
            if tree.parent(p).is_some() {
                path.push(p);
            }
            x = p;
        }
        private.absorb_path_secret(suite, &tree, &path, path_secret.path_secret.clone())?;
    }

    let secrets = joiner
        .into_epoch_secret(suite, &psk_secret, context)?
        .into_epoch_secrets(suite)?;
    // §12.4.3.1: the GroupInfo's confirmation tag must verify.
    let error = || {
        Error::protocol(
            "§12.4.3.1",
            format!(
                "confirmation tag of epoch {} in the GroupInfo does not verify",
                info.group_context.epoch
            ),
        )
    };
    let epoch = enter_epoch(
        suite,
        secrets,
        Confirmation::Check {
            tag: &info.confirmation_tag,
            error: &error,
        },
        info.group_context.clone(),
        (tree, private),
        input.config.secret_tree,
    )?;
    let group_info_app_data =
        crate::group::app_data_rules::group_info_dictionary(&info.extensions)?;
    Ok((
        epoch,
        WelcomeExtras {
            psks: secrets_psks,
            group_info_app_data,
        },
    ))
}

/// Builds a tree from its wire form, refusing one wider than `max_leaves`
/// before the tree's nodes and hash caches are allocated (a blank node is
/// one byte on the wire but a full node slot in memory).
pub fn tree_from_wire(wire: RatchetTreeWire, max_leaves: u32) -> Result<RatchetTree> {
    let max_nodes = 2 * u64::from(max_leaves.max(1)) - 1;
    if wire.len() as u64 > max_nodes {
        return Err(Error::Limit(format!(
            "the ratchet tree has {} nodes; GroupConfig::max_leaves = {max_leaves} allows at most \
             {max_nodes}: refuse the group or raise the limit",
            wire.len()
        )));
    }
    RatchetTree::from_wire(wire)
}

/// Refuses a tree with more leaves than `max_leaves` (GroupConfig).
pub fn check_group_size(tree: &RatchetTree, max_leaves: u32) -> Result<()> {
    let leaves = tree.leaf_count().get();
    if leaves > max_leaves.max(1) {
        return Err(Error::Limit(format!(
            "the tree would have {leaves} leaves, more than GroupConfig::max_leaves = \
             {max_leaves}: refuse the change or raise the limit"
        )));
    }
    Ok(())
}
