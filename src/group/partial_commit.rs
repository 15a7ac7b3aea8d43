//! Processing an AnnotatedCommit as a partial client
//! (draft-ietf-mls-partial, "Annotated Commit"): §12.4.2 without the
//! ratchet tree. The committer's key comes from its membership proof in the
//! current tree, the new tree hash from the annotation (the confirmation
//! tag binds it), and the path secret from the ciphertext the annotation's
//! `resolution_index` names.
//!
//! The steps are split so each can be checked on its own:
//! [`check_annotated_commit`] does everything that needs no secret of the
//! receiver (proofs, signature, proposals, the next GroupContext);
//! [`CheckedCommit::decrypt_path`] gives the commit secret;
//! [`CheckedCommit::finish`] runs the key schedule and verifies the
//! confirmation tag. Nothing is changed until the caller keeps the result.

use crate::crypto::{HpkePrivateKey, Secret, Suite};
use crate::framing::{
    AnnotatedCommit, AuthenticatedContent, Content, ContentEncoding, Sender, TranscriptHashes,
};
use crate::group::proposal_cache::ProposalCache;
use crate::group::state::next_epoch;
use crate::messages::commit::Commit;
use crate::messages::proposals::{Proposal, ProposalOrRef, ReInit};
use crate::schedule::{EpochSecrets, GroupContext, InitSecret, PreSharedKeyId, PskSecret};
use crate::tree::membership_proof::MembershipProof;
use crate::tree::partial_path::{PartialPathSecrets, decrypt_partial_path};
use crate::types::Extension;
use crate::types::math::{LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "§12.4.2 via draft-ietf-mls-partial AnnotatedCommit";

/// Verifies the membership proof of a message's sender against the tree
/// hash of the message's epoch and the message's signature with the key of
/// the proven leaf (draft-ietf-mls-partial, "Sender-Authenticated
/// Messages"). `context` is the GroupContext of the message's epoch; the
/// content is already opened (membership tag checked or decrypted).
pub fn verify_sender_authenticated(
    suite: &Suite,
    context: &GroupContext,
    content: &AuthenticatedContent,
    proof: &MembershipProof,
) -> Result<()> {
    const SAM: &str = "draft-ietf-mls-partial Sender-Authenticated Messages";
    if content.content.group_id != context.group_id || content.content.epoch != context.epoch {
        return Err(Error::protocol(
            SAM,
            format!(
                "a message of epoch {} checked against epoch {}, or of another group",
                content.content.epoch, context.epoch
            ),
        ));
    }
    let Sender::Member(leaf) = content.content.sender else {
        return Err(Error::protocol(
            SAM,
            format!(
                "a membership proof for a {:?} sender",
                content.content.sender
            ),
        ));
    };
    // The proof MUST be valid relative to the epoch's tree hash before its
    // leaf is used.
    proof.verify(suite, &context.tree_hash)?;
    if proof.leaf_index != leaf {
        return Err(Error::protocol(
            SAM,
            format!(
                "sender is leaf {leaf}, the membership proof is for leaf {}",
                proof.leaf_index
            ),
        ));
    }
    crate::framing::verify_content(suite, content, context, &proof.leaf_node()?.signature_key)
}

/// What a partial client learns from an AnnotatedCommit before any secret
/// of its own is used: the commit is authenticated and the next epoch's
/// GroupContext is known.
#[derive(Debug)]
pub struct CheckedCommit {
    /// The committer's leaf: the proven sender, or for a
    /// `new_member_commit` the leaf of its proof in the new tree.
    pub committer: LeafIndex,
    /// The GroupContext under which the UpdatePath was encrypted: next
    /// epoch, `tree_hash_after`, new extensions, the old confirmed
    /// transcript hash (§12.4.2).
    pub provisional: GroupContext,
    /// The next epoch's GroupContext.
    pub next_context: GroupContext,
    /// The next epoch's interim transcript hash.
    pub interim_transcript_hash: Vec<u8>,
    /// The PSKs the commit injects.
    pub psks: Vec<PreSharedKeyId>,
    /// The `kem_output` of an ExternalInit proposal, for an external commit.
    pub external_init: Option<Vec<u8>>,
    /// A ReInit the commit carries.
    pub reinit: Option<ReInit>,
    /// Whether the commit removes this client's leaf.
    pub self_removed: bool,
    /// The commit's confirmation tag, verified by [`Self::finish`].
    pub confirmation_tag: Vec<u8>,
}

fn commit_of(content: &AuthenticatedContent) -> Result<&Commit> {
    match &content.content.content {
        Content::Commit(c) => Ok(c),
        _ => Err(Error::protocol(
            RULE,
            "an AnnotatedCommit whose message is not a commit",
        )),
    }
}

/// Every check of an AnnotatedCommit that needs no secret of the receiver
/// (draft steps 1-3 up to the path): the sender proof against the current
/// tree hash, the post-commit proofs against `tree_hash_after`, the
/// signature with the proven key (or the UpdatePath's leaf for a
/// `new_member_commit`), and the proposals that do not touch the tree.
///
/// `content` is the commit opened from `annotated.commit` (membership tag
/// checked or decrypted); `proposals` holds the proposals received in this
/// epoch, for those the commit covers by reference.
pub fn check_annotated_commit(
    suite: &Suite,
    context: &GroupContext,
    interim_transcript_hash: &[u8],
    own_leaf: LeafIndex,
    annotated: &AnnotatedCommit,
    content: &AuthenticatedContent,
    proposals: &ProposalCache,
) -> Result<CheckedCommit> {
    let commit = commit_of(content)?;
    if content.content.group_id != context.group_id || content.content.epoch != context.epoch {
        return Err(Error::protocol(
            RULE,
            format!(
                "a commit of epoch {} for a client in epoch {}, or of another group",
                content.content.epoch, context.epoch
            ),
        ));
    }
    let sender_after = &annotated.sender_membership_proof_after;
    let encoding = ContentEncoding::new(content, Some(context))?;
    // Steps 1 and 3: who signed, with which key.
    let committer = match (content.content.sender, &annotated.sender_membership_proof) {
        (Sender::Member(leaf), Some(proof)) => {
            proof.verify(suite, &context.tree_hash)?;
            if proof.leaf_index != leaf {
                return Err(Error::protocol(
                    RULE,
                    format!(
                        "commit from leaf {leaf}, sender proof for leaf {}",
                        proof.leaf_index
                    ),
                ));
            }
            encoding.verify_signature(suite, content, &proof.leaf_node()?.signature_key)?;
            leaf
        }
        (Sender::Member(_), None) => {
            return Err(Error::protocol(
                RULE,
                "a member commit without sender_membership_proof",
            ));
        }
        (Sender::NewMemberCommit, None) => {
            // §12.4.3.2: an external joiner signs with its new leaf's key.
            let path = commit
                .path
                .as_ref()
                .ok_or_else(|| Error::protocol("§12.4.3.2", "an external commit without a path"))?;
            encoding.verify_signature(suite, content, &path.leaf_node.signature_key)?;
            sender_after.leaf_index
        }
        (Sender::NewMemberCommit, Some(_)) => {
            return Err(Error::protocol(
                RULE,
                "a new_member_commit with a sender_membership_proof",
            ));
        }
        (other, _) => {
            return Err(Error::protocol(
                "§12.4.2",
                format!("a commit from {other:?}"),
            ));
        }
    };
    if committer == own_leaf {
        return Err(Error::protocol(
            RULE,
            "a commit from this client's own leaf: a partial client never commits",
        ));
    }
    if let Some(path) = &commit.path {
        if sender_after.leaf_index != committer {
            return Err(Error::protocol(
                RULE,
                format!(
                    "committer is leaf {committer}, sender_membership_proof_after is for leaf {}",
                    sender_after.leaf_index
                ),
            ));
        }
        if sender_after.leaf_node()? != &path.leaf_node {
            return Err(Error::protocol(
                RULE,
                "the committer's proven new leaf is not the UpdatePath's leaf node",
            ));
        }
    }
    if commit.path.is_some() != annotated.resolution_index.is_some() {
        return Err(Error::protocol(
            RULE,
            "resolution_index must be present exactly when the commit has a path",
        ));
    }

    // Only proposals that leave the tree alone are applied; the list rules
    // need the tree and are skipped, as the draft says.
    let mut psks = Vec::new();
    let mut extensions: Option<Vec<Extension>> = None;
    let mut external_init = None;
    let mut reinit = None;
    let mut self_removed = false;
    for p in &commit.proposals {
        let (proposal, sender) = match p {
            ProposalOrRef::Proposal(p) => (&**p, content.content.sender),
            ProposalOrRef::Reference(r) => {
                let cached = proposals.find(r).ok_or_else(|| {
                    Error::protocol(
                        "§12.4.2",
                        "the commit references a proposal not received in this epoch",
                    )
                })?;
                (&cached.proposal, cached.sender)
            }
        };
        match proposal {
            Proposal::PreSharedKey(p) => psks.push(p.psk.clone()),
            Proposal::GroupContextExtensions(e) => extensions = Some(e.extensions.clone()),
            Proposal::ExternalInit(e) => external_init = Some(e.kem_output.clone()),
            Proposal::ReInit(r) => reinit = Some(r.clone()),
            Proposal::Remove(r) if r.removed == own_leaf => self_removed = true,
            // draft-ietf-mls-extensions SelfRemove: its sender leaves.
            Proposal::SelfRemove(_) if sender == Sender::Member(own_leaf) => self_removed = true,
            _ => {}
        }
    }
    // Step 2: both post-commit proofs reference one tree and lead to
    // `tree_hash_after`, for every receiver. A commit that removes this
    // client leaves its leaf blank, so no proof of it after the commit can
    // exist: the draft is silent on that case, and the receiver proof of a
    // removed client may be any leaf's (our annotator puts the committer's)
    // and is not required to be its own. The removal rests on what the
    // draft's steps 1 and 3 authenticate (the proven sender's signature
    // over the commit, its membership tag or encryption), as a removed
    // full member cannot verify the new epoch either (RFC 9420 §12.4.2: it
    // is left out of the path's encryption).
    let receiver_after = &annotated.receiver_membership_proof_after;
    sender_after.verify(suite, &annotated.tree_hash_after)?;
    sender_after.same_tree(receiver_after, suite)?;
    receiver_after.verify(suite, &annotated.tree_hash_after)?;
    if !self_removed && receiver_after.leaf_index != own_leaf {
        return Err(Error::protocol(
            RULE,
            format!(
                "the receiver proof is for leaf {}, this client is leaf {own_leaf}",
                receiver_after.leaf_index
            ),
        ));
    }
    if content.content.sender == Sender::NewMemberCommit && external_init.is_none() {
        return Err(Error::protocol(
            "§12.4.3.2",
            "an external commit without an ExternalInit proposal",
        ));
    }

    let mut provisional = context.clone();
    provisional.epoch = next_epoch(context.epoch)?;
    provisional.tree_hash = annotated.tree_hash_after.clone();
    if let Some(e) = extensions {
        crate::types::extensions::check_unique_types(&e, "GroupContext extensions")?;
        provisional.extensions = e;
    }
    let confirmed = encoding.confirmed_transcript_hash(
        suite,
        interim_transcript_hash,
        &content.auth.signature,
    )?;
    let transcript = TranscriptHashes::from_confirmed(suite, confirmed, content)?;
    let mut next_context = provisional.clone();
    next_context.confirmed_transcript_hash = transcript.confirmed;
    let confirmation_tag = content
        .auth
        .confirmation_tag
        .clone()
        .ok_or(Error::Internal("commit without confirmation tag"))?;
    Ok(CheckedCommit {
        committer,
        provisional,
        next_context,
        interim_transcript_hash: transcript.interim,
        psks,
        external_init,
        reinit,
        self_removed,
        confirmation_tag,
    })
}

impl CheckedCommit {
    /// The commit secret and the path secrets of the receiver's new direct
    /// path, from the UpdatePath ciphertext `resolution_index` names,
    /// decrypted under the provisional GroupContext; `None` without a path.
    pub fn decrypt_path(
        &self,
        suite: &Suite,
        annotated: &AnnotatedCommit,
        content: &AuthenticatedContent,
        private_key: &dyn Fn(NodeIndex) -> Option<HpkePrivateKey>,
    ) -> Result<Option<PartialPathSecrets>> {
        let Some(path) = &commit_of(content)?.path else {
            return Ok(None);
        };
        let index = annotated
            .resolution_index
            .ok_or_else(|| Error::protocol(RULE, "a path without resolution_index"))?;
        let context = crate::codec::encode(&self.provisional)?;
        decrypt_partial_path(
            suite,
            path,
            &annotated.sender_membership_proof_after,
            &annotated.receiver_membership_proof_after,
            index,
            &context,
            private_key,
        )
        .map(Some)
    }

    /// Runs the key schedule into the next epoch (§8) from `init` (the
    /// current `init_secret`, or an external commit's), the commit secret
    /// (`None`: no path, the zero vector) and the PSKs, and verifies the
    /// commit's confirmation tag (§12.4.2).
    pub fn finish(
        &self,
        suite: &Suite,
        init: InitSecret,
        commit_secret: Option<Secret>,
        psk_secret: &PskSecret,
    ) -> Result<EpochSecrets> {
        let context = &self.next_context;
        let secrets = init
            .into_joiner_secret(suite, commit_secret, context)?
            .into_epoch_secret(suite, psk_secret, context)?
            .into_epoch_secrets(suite)?;
        secrets
            .verify_confirmation_tag(
                suite,
                &context.confirmed_transcript_hash,
                &self.confirmation_tag,
            )
            .map_err(|_| {
                Error::protocol(
                    "§12.4.2",
                    format!(
                        "confirmation tag of the commit for epoch {} does not verify",
                        context.epoch
                    ),
                )
            })?;
        Ok(secrets)
    }
}
