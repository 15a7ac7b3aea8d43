//! [`ExternalSender`]: a party outside the group, listed in its
//! `external_senders` extension (§12.1.8.1) — typically the delivery
//! service — that proposes adding or removing members.

use crate::codec::encode;
use crate::crypto::credential::Credential;
use crate::crypto::{SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::framing::{
    AuthenticatedContent, Content, FRAMED_CONTENT_LABEL, FramedContent, FramedContentAuthData,
    MlsMessage, MlsMessageBody, PublicMessage, Sender, WireFormat, framed_content_tbs,
};
use crate::group::extensions::{Extension, ExtensionType, ExternalSender as ExternalSenderEntry};
use crate::group::proposals::{Add, Proposal, Remove};
use crate::tree::math::LeafIndex;
use crate::{Error, Result};

/// Signs proposals as entry `index` of a group's `external_senders`.
pub struct ExternalSender {
    suite: Suite,
    signer: SignaturePrivateKey,
    index: u32,
}

impl std::fmt::Debug for ExternalSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExternalSender({})", self.index)
    }
}

/// The `external_senders` extension listing `senders`, for
/// `GroupOptions::extensions` or a GroupContextExtensions proposal.
pub fn external_senders_extension(
    senders: &[(SignaturePublicKey, Credential)],
) -> Result<Extension> {
    let list: Vec<ExternalSenderEntry> = senders
        .iter()
        .map(|(signature_key, credential)| ExternalSenderEntry {
            signature_key: signature_key.clone(),
            credential: credential.clone(),
        })
        .collect();
    Ok(Extension {
        extension_type: ExtensionType::EXTERNAL_SENDERS,
        extension_data: encode(&list)?,
    })
}

impl ExternalSender {
    /// The sender at `index` of the group's `external_senders`, signing
    /// with `signer`.
    pub fn new(suite: Suite, signer: SignaturePrivateKey, index: u32) -> Self {
        Self {
            suite,
            signer,
            index,
        }
    }

    /// A proposal as a PublicMessage (§12.1.8: external proposals are never
    /// encrypted) for `epoch` of group `group_id`.
    fn propose(&self, group_id: &[u8], epoch: u64, proposal: Proposal) -> Result<Vec<u8>> {
        let content = FramedContent {
            group_id: group_id.to_vec(),
            epoch,
            sender: Sender::External(self.index),
            authenticated_data: Vec::new(),
            content: Content::Proposal(Box::new(proposal)),
        };
        // §6.1: the TBS of an external sender carries no group context.
        let tbs = framed_content_tbs(WireFormat::PUBLIC_MESSAGE, &content, None)?;
        let signature = self
            .suite
            .sign_with_label(&self.signer, FRAMED_CONTENT_LABEL, &tbs)?;
        let signed = AuthenticatedContent {
            wire_format: WireFormat::PUBLIC_MESSAGE,
            content,
            auth: FramedContentAuthData {
                signature,
                confirmation_tag: None,
            },
        };
        Ok(encode(&MlsMessage::new(MlsMessageBody::PublicMessage(
            Box::new(PublicMessage {
                content: signed.content,
                auth: signed.auth,
                membership_tag: None,
            }),
        )))?)
    }

    /// Proposes adding the member of `key_package` (an MLSMessage).
    pub fn propose_add(&self, group_id: &[u8], epoch: u64, key_package: &[u8]) -> Result<Vec<u8>> {
        let message: MlsMessage = crate::decode_exact("MLSMessage", key_package)?;
        let MlsMessageBody::KeyPackage(kp) = message.body else {
            return Err(Error::Misuse("expected a KeyPackage message".into()));
        };
        self.propose(group_id, epoch, Proposal::Add(Add { key_package: *kp }))
    }

    /// Proposes removing the member at `leaf`.
    pub fn propose_remove(&self, group_id: &[u8], epoch: u64, leaf: LeafIndex) -> Result<Vec<u8>> {
        self.propose(group_id, epoch, Proposal::Remove(Remove { removed: leaf }))
    }
}
