//! The public half of a group: what members and observers both hold (the
//! GroupContext, the ratchet tree, the interim transcript hash, the
//! proposals of the epoch, the policy and the credential validator), and the
//! checks on received handshake content that need nothing more. A member
//! ([`GroupState`](crate::group::state::GroupState)) and an observer
//! ([`ObserverState`](crate::group::observer::ObserverState)) both run these
//! functions, so a rule fixed here is fixed for both.

use crate::codec::encode;
use crate::crypto::{Secret, SignaturePublicKey, Suite};
use crate::framing::verify_content;
use crate::framing::{
    AuthenticatedContent, Content, ContentEncoding, PublicMessage, Sender, WireFormat,
    public_message_content,
};
use crate::group::authorization::{Authority, Scope};
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::proposal_rules::is_committable;
use crate::group::proposal_rules::{SELF_REMOVE_RULE, check_sender_may_propose, validate_proposal};
use crate::group::state::{GroupConfig, check_group_id};
use crate::messages::proposals::Proposal;
use crate::schedule::GroupContext;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::extensions::{ExtensionType, ExternalSender, decode_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Content authenticated as §6 requires of a member: its signature
/// verified against its sender's key (§6.1), and either its membership tag
/// verified (a member's PublicMessage, §6.2) or it was decrypted with the
/// epoch's keys (a PrivateMessage, §6.3). Only this module makes one, so
/// the code that takes it (staging a commit, caching a proposal) cannot be
/// handed content that skipped a check.
#[derive(Debug)]
pub(crate) struct MemberVerified(AuthenticatedContent);

/// Content whose signature verified (§6.1) but whose membership tag, which
/// needs the epoch's secrets, could not be checked: what the delivery
/// service's observer sees.
#[derive(Debug)]
pub(crate) struct SignatureVerified(AuthenticatedContent);

impl std::ops::Deref for MemberVerified {
    type Target = AuthenticatedContent;
    fn deref(&self) -> &AuthenticatedContent {
        &self.0
    }
}

impl std::ops::Deref for SignatureVerified {
    type Target = AuthenticatedContent;
    fn deref(&self) -> &AuthenticatedContent {
        &self.0
    }
}

/// Checks the signature of decrypted content against the sender's leaf in
/// `tree` (§6.1) and returns that leaf: decryption with the epoch's keys
/// stands in for the membership tag (§6.3).
pub(crate) fn verify_private_sender(
    suite: &Suite,
    content: AuthenticatedContent,
    tree: &RatchetTree,
    context: &GroupContext,
) -> Result<(LeafIndex, MemberVerified)> {
    let Sender::Member(leaf) = content.content.sender else {
        return Err(Error::Internal("PrivateMessage from a non-member"));
    };
    let key = &tree
        .leaf(leaf)
        .ok_or_else(|| {
            Error::protocol(
                "§6.3.2",
                format!("PrivateMessage from blank leaf {}", leaf.0),
            )
        })?
        .signature_key;
    verify_content(suite, &content, context, key)?;
    Ok((leaf, MemberVerified(content)))
}

/// A PublicMessage whose signature verified, and its membership tag when
/// the holder has the membership key (`C` tells which).
pub(crate) struct OpenedPublic<C> {
    pub(crate) content: C,
    /// For a commit, its `confirmed_transcript_hash` (§8.2): computed with
    /// the other checks, which read the same bytes.
    pub(crate) confirmed_transcript_hash: Option<Vec<u8>>,
}

/// Borrowed public state of one epoch of a group.
#[derive(Clone, Copy)]
pub(crate) struct PublicView<'a> {
    pub(crate) suite: &'a Suite,
    pub(crate) config: &'a GroupConfig,
    pub(crate) context: &'a GroupContext,
    pub(crate) tree: &'a RatchetTree,
    /// `interim_transcript_hash` of the epoch (§8.2).
    pub(crate) interim_transcript_hash: &'a [u8],
    pub(crate) proposals: &'a ProposalCache,
    pub(crate) authority: &'a Authority,
}

impl PublicView<'_> {
    /// The current epoch number.
    pub(crate) fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// §6 / §12.1 / §12.4.2: handshake content must be for this epoch.
    pub(crate) fn check_epoch(&self, epoch: u64, kind: crate::types::MessageKind) -> Result<()> {
        if epoch == self.epoch() {
            Ok(())
        } else {
            Err(Error::wrong_epoch(self.epoch(), epoch, kind, true))
        }
    }

    /// Authenticates a PublicMessage of this epoch for a member (§6.1,
    /// §6.2): group id, epoch, no application data, the membership tag and
    /// the signature with the sender's key.
    pub(crate) fn open_public_as_member(
        &self,
        message: PublicMessage,
        membership_key: &Secret,
    ) -> Result<OpenedPublic<MemberVerified>> {
        let (content, confirmed_transcript_hash) =
            self.open_public(message, Some(membership_key))?;
        Ok(OpenedPublic {
            content: MemberVerified(content),
            confirmed_transcript_hash,
        })
    }

    /// [`Self::open_public_as_member`] without the membership tag, which an
    /// observer cannot check.
    pub(crate) fn open_public_as_observer(
        &self,
        message: PublicMessage,
    ) -> Result<OpenedPublic<SignatureVerified>> {
        let (content, confirmed_transcript_hash) = self.open_public(message, None)?;
        Ok(OpenedPublic {
            content: SignatureVerified(content),
            confirmed_transcript_hash,
        })
    }

    /// The checks of the two above: the membership tag only when
    /// `membership_key` is given.
    fn open_public(
        &self,
        message: PublicMessage,
        membership_key: Option<&Secret>,
    ) -> Result<(AuthenticatedContent, Option<Vec<u8>>)> {
        check_group_id(&self.context.group_id, &message.content.group_id)?;
        let kind = message.content.content.content_type().message_kind();
        self.check_epoch(message.content.epoch, kind)?;
        let (content, membership_tag) = public_message_content(message)?;
        // The tag, the signature and (for a commit) the transcript hash all
        // read the same encoding of the content; a large one (a commit in
        // a sparse tree) is checked on two threads: the signature (SHA-512
        // for Ed25519) on one, the tag and transcript hash on the other.
        let encoding = ContentEncoding::new(&content, Some(self.context))?;
        let key = self.signer_key(&content);
        let (tag_and_hash, signature) = crate::parallel::join(
            encoding.len() >= crate::parallel::PARALLEL_BYTES,
            || -> Result<Option<Vec<u8>>> {
                if let Some(membership_key) = membership_key {
                    encoding.check_membership_tag(
                        self.suite,
                        &content,
                        membership_tag.as_deref(),
                        membership_key,
                    )?;
                }
                match content.content.content {
                    Content::Commit(_) => Ok(Some(encoding.confirmed_transcript_hash(
                        self.suite,
                        self.interim_transcript_hash,
                        &content.auth.signature,
                    )?)),
                    _ => Ok(None),
                }
            },
            {
                let (suite, encoding, content) = (self.suite, &encoding, &content);
                move || key.and_then(|key| encoding.verify_signature(suite, content, &key))
            },
        );
        // Reported in the order the checks run serially: tag, sender,
        // signature.
        let confirmed_transcript_hash = tag_and_hash?;
        signature?;
        Ok((content, confirmed_transcript_hash))
    }

    /// The signature key of a PublicMessage's sender (§6.1).
    pub(crate) fn signer_key(&self, content: &AuthenticatedContent) -> Result<SignaturePublicKey> {
        match (content.content.sender, &content.content.content) {
            (Sender::Member(leaf), _) => Ok(self
                .tree
                .leaf(leaf)
                .ok_or_else(|| {
                    Error::protocol("§6.1", format!("message from blank leaf {}", leaf.0))
                })?
                .signature_key
                .clone()),
            (Sender::External(i), Content::Proposal(_)) => {
                let senders: Vec<ExternalSender> = decode_extension(
                    &self.context.extensions,
                    ExtensionType::EXTERNAL_SENDERS,
                    "external_senders",
                )?
                .ok_or_else(|| {
                    Error::protocol(
                        "§12.1.8.1",
                        "external proposal, but the group has no external_senders extension",
                    )
                })?;
                senders
                    .get(i as usize)
                    .map(|s| s.signature_key.clone())
                    .ok_or_else(|| {
                        Error::protocol(
                            "§12.1.8.1",
                            format!("external sender {i} is not in external_senders"),
                        )
                    })
            }
            // §12.1.8: a new member proposes only its own Add, signed with
            // the key package's leaf key.
            (Sender::NewMemberProposal, Content::Proposal(p)) => match &**p {
                Proposal::Add(add) => Ok(add.key_package.leaf_node.signature_key.clone()),
                _ => Err(Error::protocol(
                    "§12.1.8",
                    "a new_member_proposal sender sent something else than an Add",
                )),
            },
            // §12.4.3.2: signed with the key of the path's leaf node.
            (Sender::NewMemberCommit, Content::Commit(c)) => c
                .path
                .as_ref()
                .map(|p| p.leaf_node.signature_key.clone())
                .ok_or_else(|| Error::protocol("§12.4.3.2", "an external commit without a path")),
            (sender, _) => Err(Error::protocol(
                "§12.1.8",
                format!("{sender:?} may not send this content"),
            )),
        }
    }

    /// Every check of a received proposal (§12.1, §5.3.1) and of the cache
    /// it would enter (replay, limit); returns the entry to cache. Nothing
    /// is cached here: the caller inserts the entry.
    pub(crate) fn admit_proposal(
        &self,
        content: &AuthenticatedContent,
        proposal: &Proposal,
        now: u64,
    ) -> Result<CachedProposal> {
        let sender = content.content.sender;
        check_sender_may_propose(&sender, proposal)?;
        // §12.1.6: ExternalInit only inside an external commit.
        if !is_committable(proposal) {
            return Err(Error::protocol(
                "§12.1.6",
                "an ExternalInit sent as a standalone proposal",
            ));
        }
        // draft-ietf-mls-extensions: SelfRemove proposals "MUST be sent in
        // an MLS PublicMessage", so that external joiners can read them.
        if matches!(proposal, Proposal::SelfRemove(_))
            && content.wire_format != WireFormat::PUBLIC_MESSAGE
        {
            return Err(Error::protocol(
                SELF_REMOVE_RULE,
                "a SelfRemove sent as a PrivateMessage; it must be a PublicMessage",
            ));
        }
        validate_proposal(
            self.suite,
            self.tree,
            self.context,
            &sender,
            proposal,
            self.config.lifetime_at(now),
        )?;
        // draft-ietf-mls-extensions: the application knows the component
        // (and accepts an AppEphemeral's data) before it is cached.
        crate::group::app_data_rules::check_app_proposal(
            self.authority.app_components(),
            self.tree,
            self.context,
            &sender,
            proposal,
        )?;
        // §5.3.1: the application decides before anything is cached.
        Scope {
            authority: self.authority,
            context: self.context,
            tree: self.tree,
        }
        .proposal(&sender, proposal)?;
        let reference = self.suite.proposal_ref(&encode(content)?)?;
        if self.proposals.find(&reference).is_some() {
            // A PublicMessage can be replayed verbatim; the proposal is
            // already cached and reported once.
            return Err(Error::Replay(
                "this proposal was already received in this epoch".into(),
            ));
        }
        // draft-ietf-mls-extensions: "A client MUST NOT issue more than one
        // SelfRemove proposal per epoch." A second one (not a replay of the
        // first, caught above) is refused before it is cached.
        if matches!(proposal, Proposal::SelfRemove(_))
            && self
                .proposals
                .iter()
                .any(|c| c.sender == sender && matches!(c.proposal, Proposal::SelfRemove(_)))
        {
            return Err(Error::protocol(
                SELF_REMOVE_RULE,
                format!(
                    "a second SelfRemove from {sender:?} in epoch {}: one per epoch",
                    self.epoch()
                ),
            ));
        }
        if self.proposals.len() >= self.config.max_cached_proposals {
            return Err(Error::Limit(format!(
                "the proposal cache holds its maximum of {} proposals for epoch {} \
                 (GroupConfig::max_cached_proposals): commit the cached ones, or raise \
                 the limit",
                self.config.max_cached_proposals,
                self.epoch()
            )));
        }
        Ok(CachedProposal {
            reference,
            proposal: proposal.clone(),
            sender,
        })
    }
}
