//! The proposals a partial client sends. The draft defines none of its
//! own and forbids none, but a partial client "cannot create Commit
//! messages" and has no tree to validate a proposal against (§12.1 rules
//! such as "every member supports the proposal type" read the tree). So it
//! sends only the proposal whose validity needs no tree: leaving the
//! group. Every other proposal (Add, Update, Remove of another member,
//! PreSharedKey, GroupContextExtensions, ReInit) needs a full client:
//! upgrade first ([`Client::upgrade_partial`](crate::Client::upgrade_partial)).
//!
//! It also reads the proposals of the group's external senders
//! ([`PartialGroup::process_external`]), which need no membership proof.

use crate::api::partial_group::{PartialGroup, PartialMessage, admit_proposal};
use crate::codec::encode;
use crate::framing::{
    Content, FramedContent, MlsMessage, MlsMessageBody, Sender, SenderAuthenticatedMessage,
    WireFormat, sign_content, to_public_message,
};
use crate::group::partial_external::open_external_proposal;
use crate::group::proposal_cache::CachedProposal;
use crate::messages::proposals::{Proposal, Remove, SelfRemove};
use crate::storage::WriteBatch;
use crate::types::ProposalType;
use crate::types::extensions::{ExtensionType, RequiredCapabilities, decode_extension};
use crate::{Error, Result};

impl PartialGroup {
    /// Asks to leave the group: a proposal removing this client, signed,
    /// as a PublicMessage wrapped with this client's membership proof (the
    /// encoded `SenderAuthenticatedMessage<MLSMessage>`; full members read
    /// [`PartialGroup::inner_message`]). A member must commit it; the
    /// AnnotatedCommit that does ends this client
    /// ([`PartialCommitEvent::Removed`](crate::api::partial_group::PartialCommitEvent)).
    ///
    /// The proposal is a SelfRemove (draft-ietf-mls-extensions) when the
    /// group's `required_capabilities` list it, since then every member
    /// supports it (§11.1, §12.1.7); otherwise a Remove of this client's
    /// own leaf, which every member supports (a full client checks every
    /// leaf's capabilities instead; a partial client cannot). The proposal
    /// is cached and stored before the message is returned. One per epoch:
    /// a second call in the same epoch is [`Error::Misuse`].
    pub fn leave(&mut self) -> Result<Vec<u8>> {
        self.check_active()?;
        let own = Sender::Member(self.state.own_leaf);
        let removes_self = |p: &CachedProposal| {
            p.sender == own
                && match &p.proposal {
                    Proposal::SelfRemove(_) => true,
                    Proposal::Remove(r) => r.removed == self.state.own_leaf,
                    _ => false,
                }
        };
        if self.proposals.iter().any(removes_self) {
            return Err(Error::Misuse(
                "this client already asked to leave in this epoch: resend that message, or call \
                 leave again in the next epoch"
                    .into(),
            ));
        }
        let required: Option<RequiredCapabilities> = decode_extension(
            &self.state.context.extensions,
            ExtensionType::REQUIRED_CAPABILITIES,
            "required_capabilities",
        )?;
        let self_remove =
            required.is_some_and(|r| r.proposal_types.contains(&ProposalType::SELF_REMOVE));
        let proposal = if self_remove {
            Proposal::SelfRemove(SelfRemove {})
        } else {
            Proposal::Remove(Remove {
                removed: self.state.own_leaf,
            })
        };
        let framed = FramedContent {
            group_id: self.state.context.group_id.clone(),
            epoch: self.state.context.epoch,
            sender: own,
            // The empty SafeAAD in a group that uses Safe AAD.
            authenticated_data: crate::group::safe_aad_rules::frame_outgoing(
                None,
                &self.state.context.extensions,
                &[],
            )?,
            content: Content::Proposal(Box::new(proposal.clone())),
        };
        let signed = sign_content(
            &self.suite,
            WireFormat::PUBLIC_MESSAGE,
            framed,
            &self.state.context,
            &self.signer,
        )?;
        let reference = self.suite.proposal_ref(&encode(&signed)?)?;
        let public = to_public_message(
            &self.suite,
            signed,
            &self.state.secrets.membership_key,
            &self.state.context,
        )?;
        let message = encode(&SenderAuthenticatedMessage {
            message: MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(public))),
            sender_membership_proof: self.state.own_proof().clone(),
        })?;
        let before = self.proposals.len();
        self.proposals.insert(CachedProposal {
            reference,
            proposal,
            sender: own,
        });
        if let Err(e) = self.write(WriteBatch::default(), true) {
            self.proposals.truncate(before);
            return Err(e);
        }
        Ok(message)
    }
}

impl PartialGroup {
    /// Reads a proposal from one of the group's external senders (RFC 9420
    /// §12.1.8.1): an encoded MLSMessage, not a SenderAuthenticatedMessage
    /// (draft-ietf-mls-partial proves leaves, and an external sender has
    /// none; its signature key is in the GroupContext's `external_senders`,
    /// which this client holds). It must be a PublicMessage of the current
    /// epoch from an entry of `external_senders` whose credential the
    /// client's validator accepts, of a type external senders may send
    /// (add, remove, psk, reinit, group_context_extensions), signed with
    /// that entry's key. It is then cached, as a member's proposal read by
    /// [`Self::process`], for the commit that covers it by reference, and
    /// stored before the result is returned; a refused message, a replay
    /// ([`Error::Replay`]) or one beyond
    /// [`MAX_PARTIAL_PROPOSALS`](crate::api::partial_group::MAX_PARTIAL_PROPOSALS)
    /// changes nothing. As for a member's proposal, its validity against
    /// the tree (§12.1) is the committer's to check.
    pub fn process_external(&mut self, message: &[u8]) -> Result<PartialMessage> {
        self.check_active()?;
        let message: MlsMessage = crate::decode_exact("MLSMessage", message)?;
        let content = open_external_proposal(
            &self.suite,
            &self.state.context,
            &self.state.secrets.membership_key,
            &message,
            &self.authority,
        )?;
        let (Sender::External(sender_index), Content::Proposal(proposal)) =
            (content.content.sender, &content.content.content)
        else {
            return Err(Error::Internal(
                "open_external_proposal returned another message",
            ));
        };
        let reference = self.suite.proposal_ref(&encode(&content)?)?;
        admit_proposal(&self.proposals, &reference)?;
        let result = PartialMessage::ExternalProposal {
            sender_index,
            proposal_type: proposal.proposal_type(),
        };
        let before = self.proposals.len();
        self.proposals.insert(CachedProposal {
            reference,
            proposal: (**proposal).clone(),
            sender: content.content.sender,
        });
        if let Err(e) = self.write(WriteBatch::default(), true) {
            self.proposals.truncate(before);
            return Err(e);
        }
        Ok(result)
    }
}
