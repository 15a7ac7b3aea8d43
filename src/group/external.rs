//! Joining by external commit (§12.4.3.2, §8.3): from a GroupInfo with an
//! `external_pub` extension, a new member (or one resyncing after losing its
//! state) commits itself into the group.

use crate::codec::encode;
use crate::crypto::{HpkePrivateKey, RandomSource, Secret, SignaturePrivateKey, Suite};
use crate::framing::{
    AuthenticatedContent, Content, FramedContent, MlsMessage, MlsMessageBody, PublicMessage,
    Sender, WireFormat, sign_content,
};
use crate::framing::{confirmed_transcript_hash, interim_transcript_hash};
use crate::group::authorization::{Authority, Scope};
use crate::group::proposal_rules::ProposalWithSender;
use crate::group::state::GroupState;
use crate::group::state::{Confirmation, GroupConfig, enter_epoch, next_epoch};
use crate::messages::commit::Commit;
use crate::messages::proposals::{ExternalInit, Proposal, ProposalOrRef, Remove};
use crate::messages::welcome::GroupInfo;
use crate::schedule::InitSecret;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::tree::treekem::{LeafContent, NewLeaf, PathContext, generate_update_path};
use crate::types::extensions::{ExtensionType, ExternalPub, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// What an external joiner brings.
pub struct ExternalJoin<'a> {
    /// The group's GroupInfo (with `external_pub`).
    pub group_info: &'a GroupInfo,
    /// The tree, when the GroupInfo does not carry it.
    pub ratchet_tree: Option<RatchetTree>,
    /// The joiner's leaf content (credential, signature key, capabilities).
    pub leaf: LeafContent,
    /// The joiner's signature key.
    pub signer: &'a SignaturePrivateKey,
    /// A leaf to remove in the same commit: our old appearance, when
    /// resyncing after losing state (§12.4.3.2).
    pub remove: Option<LeafIndex>,
    /// The current time.
    pub now: u64,
    /// Group policy.
    pub config: GroupConfig,
    /// The application's credential validator: it sees every member of the
    /// imported tree and decides whether `remove` names our own old leaf.
    pub authority: Authority,
    /// PSKs to inject, as PreSharedKey proposals (§12.4.3.2 allows any
    /// number in an external commit), with their fresh nonces.
    pub psks: Vec<crate::schedule::PreSharedKeyId>,
    /// Where their values come from.
    pub psk_store: &'a dyn crate::group::psk_store::PskStore,
    /// The commit's `authenticated_data`.
    pub authenticated_data: Vec<u8>,
    /// Pending SelfRemove proposals (MLSMessages) to cover by reference
    /// (draft-ietf-mls-extensions: "the new joiner MUST fetch any pending
    /// SelfRemove Proposals along with the GroupInfo object, and include
    /// the SelfRemove Proposals in its external Commit by reference").
    pub self_removes: Vec<Vec<u8>>,
}

/// Validates a pending SelfRemove for an external joiner of the group of
/// `context` and `tree` ("except that it skips the validation of the
/// `membership_tag` because a non-member cannot verify membership") and
/// returns its ProposalRef and the leaf it removes.
fn pending_self_remove(
    suite: &Suite,
    context: &crate::schedule::GroupContext,
    tree: &RatchetTree,
    message: &[u8],
    lifetime: crate::tree::leaf_validation::LifetimePolicy,
) -> Result<(Vec<u8>, LeafIndex)> {
    use crate::group::proposal_rules::SELF_REMOVE_RULE;
    let message: MlsMessage = crate::decode_exact("MLSMessage", message)?;
    let MlsMessageBody::PublicMessage(public) = message.body else {
        return Err(Error::protocol(
            SELF_REMOVE_RULE,
            "a pending SelfRemove that is not a PublicMessage",
        ));
    };
    crate::group::state::check_group_id(&context.group_id, &public.content.group_id)?;
    if public.content.epoch != context.epoch {
        return Err(Error::wrong_epoch(
            context.epoch,
            public.content.epoch,
            crate::types::MessageKind::Proposal,
            true,
        ));
    }
    let (content, _) = crate::framing::public_message_content(*public)?;
    let (Sender::Member(leaf), Content::Proposal(p)) =
        (content.content.sender, &content.content.content)
    else {
        return Err(Error::protocol(
            SELF_REMOVE_RULE,
            "a pending SelfRemove that is not a proposal from a member",
        ));
    };
    if !matches!(**p, Proposal::SelfRemove(_)) {
        return Err(Error::protocol(
            SELF_REMOVE_RULE,
            format!("a pending SelfRemove that is a {:?}", p.proposal_type()),
        ));
    }
    let key = &tree
        .leaf(leaf)
        .ok_or_else(|| Error::protocol("§6.1", format!("message from blank leaf {}", leaf.0)))?
        .signature_key;
    crate::framing::verify_content(suite, &content, context, key)?;
    crate::group::proposal_rules::validate_proposal(
        suite,
        tree,
        context,
        &content.content.sender,
        p,
        lifetime,
    )?;
    Ok((suite.proposal_ref(&encode(&content)?)?, leaf))
}

impl GroupState {
    /// Builds an external commit (§12.4.3.2) and the joiner's state in the
    /// epoch it starts. Returns the state and the commit (an MLSMessage to
    /// send). If the delivery service does not accept the commit, drop the
    /// state: nothing else changed.
    pub fn external_join(
        suite: &Suite,
        join: ExternalJoin<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<(Self, Vec<u8>)> {
        let info = join.group_info;
        let context = &info.group_context;
        if context.cipher_suite != suite.id() {
            return Err(Error::Misuse(format!(
                "the group uses cipher suite {:?}",
                context.cipher_suite
            )));
        }
        let mut tree = crate::group::join::import_tree(
            suite,
            info,
            join.ratchet_tree,
            join.config.tree_lifetime_at(join.now),
            join.config.max_leaves,
        )?;
        let scope = Scope {
            authority: &join.authority,
            context,
            tree: &tree,
        };
        scope.tree_import()?;
        // draft-ietf-mls-extensions, "Negotiating Extensions and
        // Components": refused here rather than by every member.
        crate::group::required_components::check_leaf(
            &join.leaf.extensions,
            &context.extensions,
            "this joiner's leaf",
        )?;
        if let Some(old) = join.remove {
            // §12.4.3.2: only an old version of ourselves may be removed.
            scope.commit(
                None,
                &[ProposalWithSender {
                    proposal: Proposal::Remove(Remove { removed: old }),
                    sender: Sender::NewMemberCommit,
                    reference: None,
                }],
                Some((&join.leaf.credential, &join.leaf.signature_key)),
            )?;
        }
        let external_pub: ExternalPub = decode_extension(
            &info.extensions,
            ExtensionType::EXTERNAL_PUB,
            "external_pub",
        )?
        .ok_or_else(|| Error::Misuse("the GroupInfo has no external_pub extension".into()))?;

        // §8.3: the init secret comes from an HPKE export to external_pub.
        let (kem_output, init_secret) =
            suite.external_init_sender(&external_pub.external_pub, rng)?;
        let mut proposals = vec![ProposalOrRef::Proposal(Box::new(Proposal::ExternalInit(
            ExternalInit { kem_output },
        )))];
        // SelfRemoves before the Remove, in the order proposals apply.
        let mut self_removed = Vec::with_capacity(join.self_removes.len());
        for message in &join.self_removes {
            let lifetime = join.config.lifetime_at(join.now);
            let (reference, leaf) = pending_self_remove(suite, context, &tree, message, lifetime)?;
            if self_removed.contains(&leaf) || join.remove == Some(leaf) {
                return Err(Error::Misuse(format!(
                    "two pending SelfRemoves (or a SelfRemove and remove_old_leaf) for leaf {}",
                    leaf.0
                )));
            }
            self_removed.push(leaf);
            proposals.push(ProposalOrRef::Reference(reference));
        }
        for leaf in &self_removed {
            tree.remove_leaf(*leaf)?;
        }
        if let Some(old) = join.remove {
            tree.remove_leaf(old)?;
            proposals.push(ProposalOrRef::Proposal(Box::new(Proposal::Remove(
                Remove { removed: old },
            ))));
        }
        // §8.4: psk_secret combines the PSKs in the order of their proposals.
        let psk_secret = crate::group::psk_store::resolve_psks(
            suite,
            &join.psks,
            join.psk_store,
            &crate::group::state::NoResumption,
            crate::group::psk_store::PskUse::Normal,
        )?;
        for psk in &join.psks {
            proposals.push(ProposalOrRef::Proposal(Box::new(Proposal::PreSharedKey(
                crate::messages::proposals::PreSharedKey { psk: psk.clone() },
            ))));
        }
        // §12.4.3.2: the joiner takes the leftmost blank leaf.
        let own = tree.reserve_leaf()?;
        let mut private = TreePrivate::new(own, HpkePrivateKey(Secret::default()))?;
        let mut provisional = context.clone();
        provisional.epoch = next_epoch(context.epoch)?;
        let generated = generate_update_path(
            suite,
            &mut tree,
            &mut private,
            NewLeaf {
                content: &join.leaf,
                signer: join.signer,
            },
            PathContext {
                group_id: &context.group_id,
                joiners: &[],
                external: true,
            },
            |h| {
                provisional.tree_hash = h.to_vec();
                Ok(encode(&provisional)?)
            },
            rng,
        )?;

        // §12.4.3.2: sent as a PublicMessage from new_member_commit, signed
        // with the new leaf's key over the current context.
        let framed = FramedContent {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            sender: Sender::NewMemberCommit,
            authenticated_data: join.authenticated_data,
            content: Content::Commit(Box::new(Commit {
                proposals,
                path: Some(generated.update_path),
            })),
        };
        let mut signed: AuthenticatedContent = sign_content(
            suite,
            WireFormat::PUBLIC_MESSAGE,
            framed,
            context,
            join.signer,
        )?;
        let interim_before = interim_transcript_hash(
            suite,
            &context.confirmed_transcript_hash,
            &info.confirmation_tag,
        )?;
        let mut new_context = context.clone();
        new_context.epoch = next_epoch(context.epoch)?;
        new_context.tree_hash = tree.root_tree_hash(suite)?;
        new_context.confirmed_transcript_hash =
            confirmed_transcript_hash(suite, &interim_before, &signed)?;
        let secrets = InitSecret::new(init_secret)
            .into_joiner_secret(suite, Some(generated.commit_secret), &new_context)?
            .into_epoch_secret(suite, &psk_secret, &new_context)?
            .into_epoch_secrets(suite)?;
        let epoch = enter_epoch(
            suite,
            secrets,
            Confirmation::Make,
            new_context,
            (tree, private),
            join.config.secret_tree,
        )?;
        signed.auth.confirmation_tag = Some(epoch.confirmation_tag.clone());
        let message = encode(&MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(
            PublicMessage {
                content: signed.content,
                auth: signed.auth,
                membership_tag: None,
            },
        ))))?;
        let state =
            GroupState::from_epoch(suite, join.config, epoch).with_authority(join.authority);
        Ok((state, message))
    }
}
