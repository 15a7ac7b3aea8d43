//! Sending (§6): application messages in two phases, so that the ratchet
//! step can be stored while the message is signed and sealed, and
//! proposals of our own, framed and cached in one call.

use crate::codec::encode;
use crate::crypto::{RandomSource, SignaturePrivateKey};
use crate::framing::{
    AuthenticatedContent, Content, FramedContent, MlsMessage, MlsMessageBody, PrivateMessage,
    Sender, SendingKey, WireFormat, encrypt_private, seal_private, sign_content, to_public_message,
};
use crate::group::proposal_cache::CachedProposal;
use crate::group::state::GroupState;
use crate::messages::proposals::Proposal;
use crate::schedule::RatchetType;
use crate::{Error, Result};

/// The sending key of one application message, taken from our ratchet by
/// [`GroupState::take_application_key`]: the message of this generation
/// must be sealed with it, or never sent. Not `Clone`: one key, one
/// message (§9.1).
pub(crate) struct ApplicationKey(SendingKey);

impl std::fmt::Debug for ApplicationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationKey")
            .field("generation", &self.0.generation)
            .finish_non_exhaustive()
    }
}

impl ApplicationKey {
    /// The generation of the key, which the message's sender data names.
    pub(crate) fn generation(&self) -> u32 {
        self.0.generation
    }
}

impl GroupState {
    /// The wire format of our handshake messages under the group's policy.
    pub(crate) fn handshake_format(&self) -> WireFormat {
        if self.config.encrypt_handshakes {
            WireFormat::PRIVATE_MESSAGE
        } else {
            WireFormat::PUBLIC_MESSAGE
        }
    }

    /// Phase one of sending application data: takes the next key of our
    /// application ratchet (§9.1). The ratchet step is what must be stored
    /// before the message leaves; [`Self::seal_application`] is phase two.
    pub(crate) fn take_application_key(&mut self) -> Result<ApplicationKey> {
        if self.is_removed() {
            return Err(Error::Misuse(
                "this member was removed from the group".into(),
            ));
        }
        if self.reinitialized().is_some() {
            return Err(Error::Misuse(
                "the group was reinitialized: continue in the new group (RFC 9420 §11.2)".into(),
            ));
        }
        let leaf = self.epoch.own_leaf();
        let (generation, key) = self
            .epoch
            .secret_tree
            .next_key(leaf, RatchetType::Application)?;
        Ok(ApplicationKey(SendingKey { generation, key }))
    }

    /// Phase two: signs and seals `plaintext` as a PrivateMessage (§6.3)
    /// with the key of phase one. Changes nothing.
    pub(crate) fn seal_application(
        &self,
        key: ApplicationKey,
        plaintext: &[u8],
        authenticated_data: &[u8],
        signer: &SignaturePrivateKey,
        rng: &mut dyn RandomSource,
    ) -> Result<PrivateMessage> {
        let state = &self.epoch;
        let framed = FramedContent {
            group_id: state.context.group_id.clone(),
            epoch: state.context.epoch,
            sender: Sender::Member(state.own_leaf()),
            authenticated_data: authenticated_data.to_vec(),
            content: Content::Application(plaintext.to_vec()),
        };
        let signed = sign_content(
            &self.suite,
            WireFormat::PRIVATE_MESSAGE,
            framed,
            &state.context,
            signer,
        )?;
        seal_private(
            &self.suite,
            &signed,
            &key.0,
            &state.keys.sender_data_secret,
            self.config.padding,
            rng,
        )
    }

    /// Frames, signs and (under the group's policy) encrypts `proposal`
    /// from us, and caches it (§12.1), returning the MLSMessage and the
    /// ProposalRef. A PrivateMessage takes a handshake ratchet step.
    pub(crate) fn send_proposal(
        &mut self,
        proposal: Proposal,
        authenticated_data: &[u8],
        signer: &SignaturePrivateKey,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let format = self.handshake_format();
        self.send_proposal_as(proposal, format, authenticated_data, signer, rng)
    }

    /// [`Self::send_proposal`] in the given wire format, whatever the
    /// group's policy (a SelfRemove must be a PublicMessage).
    pub(crate) fn send_proposal_as(
        &mut self,
        proposal: Proposal,
        format: WireFormat,
        authenticated_data: &[u8],
        signer: &SignaturePrivateKey,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let own = Sender::Member(self.epoch.own_leaf());
        let framed = FramedContent {
            group_id: self.epoch.context.group_id.clone(),
            epoch: self.epoch.context.epoch,
            sender: own,
            authenticated_data: authenticated_data.to_vec(),
            content: Content::Proposal(Box::new(proposal.clone())),
        };
        let signed = sign_content(&self.suite, format, framed, &self.epoch.context, signer)?;
        let reference = self.suite.proposal_ref(&encode(&signed)?)?;
        let message = self.frame_handshake(signed, format, rng)?;
        self.cache_own_proposal(CachedProposal {
            reference: reference.clone(),
            proposal,
            sender: own,
        });
        Ok((message, reference))
    }

    /// Frames our signed handshake content as an MLSMessage in `format`: a
    /// PrivateMessage (§6.3, taking a handshake ratchet step) or a
    /// PublicMessage with its membership tag (§6.2).
    pub(crate) fn frame_handshake(
        &mut self,
        signed: AuthenticatedContent,
        format: WireFormat,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<u8>> {
        let state = &mut self.epoch;
        let body = if format == WireFormat::PRIVATE_MESSAGE {
            MlsMessageBody::PrivateMessage(Box::new(encrypt_private(
                &self.suite,
                &signed,
                &mut state.secret_tree,
                &state.keys.sender_data_secret,
                0,
                rng,
            )?))
        } else {
            MlsMessageBody::PublicMessage(Box::new(to_public_message(
                &self.suite,
                signed,
                &state.keys.membership_key,
                &state.context,
            )?))
        };
        Ok(encode(&MlsMessage::new(body))?)
    }
}
