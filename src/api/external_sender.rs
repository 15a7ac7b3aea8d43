//! [`ExternalSender`]: a party outside the group, listed in its
//! `external_senders` extension (§12.1.8.1) — typically the delivery
//! service — that proposes adding or removing members, PSKs, a ReInit or new group
//! context extensions.

use crate::codec::encode;
use crate::crypto::credential::Credential;
use crate::crypto::{SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::framing::{
    AuthenticatedContent, Content, FRAMED_CONTENT_LABEL, FramedContent, FramedContentAuthData,
    MlsMessage, MlsMessageBody, PublicMessage, Sender, WireFormat, framed_content_tbs,
};
use crate::messages::proposals::{Add, Proposal, Remove};
use crate::types::extensions::{Extension, ExtensionType, ExternalSender as ExternalSenderEntry};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Signs proposals as entry `index` of a group's `external_senders`.
pub struct ExternalSender {
    suite: Suite,
    signer: SignaturePrivateKey,
    index: u32,
    /// The group uses Safe AAD: proposals carry the empty SafeAAD.
    safe_aad: bool,
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
            safe_aad: false,
        }
    }

    /// The sender for a group whose GroupContext has the `safe_aad`
    /// component (draft-ietf-mls-extensions, "Safe AAD"): its proposals
    /// then carry the SafeAAD with no items as their `authenticated_data`
    /// ("the entire `authenticated_data` field is framed as a `SafeAAD`
    /// struct"), which members require; without it they carry none. An
    /// external sender does not follow the GroupContext, so the
    /// application says whether the group uses Safe AAD
    /// ([`Self::for_context`] reads it from a GroupContext).
    pub fn with_safe_aad(mut self, uses_safe_aad: bool) -> Self {
        self.safe_aad = uses_safe_aad;
        self
    }

    /// [`Self::with_safe_aad`] as `context` says: whether its extensions
    /// have the `safe_aad` component.
    pub fn for_context(self, context: &crate::schedule::GroupContext) -> Result<Self> {
        let uses =
            crate::group::safe_aad_rules::required_components(&context.extensions)?.is_some();
        Ok(self.with_safe_aad(uses))
    }

    /// A proposal as a PublicMessage (§12.1.8: external proposals are never
    /// encrypted) for `epoch` of group `group_id`.
    pub(crate) fn propose(
        &self,
        group_id: &[u8],
        epoch: u64,
        proposal: Proposal,
    ) -> Result<Vec<u8>> {
        let content = FramedContent {
            group_id: group_id.to_vec(),
            epoch,
            sender: Sender::External(self.index),
            authenticated_data: if self.safe_aad {
                crate::types::app_data::SafeAad::default().to_bytes()?
            } else {
                Vec::new()
            },
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
    /// Proposes injecting the external PSK `psk_id` (§8.4) into the next
    /// epoch; every member must hold it. The `psk_nonce` (KDF.Nh fresh
    /// bytes) comes from `rng`.
    pub fn propose_external_psk(
        &self,
        group_id: &[u8],
        epoch: u64,
        psk_id: Vec<u8>,
        rng: &mut dyn crate::crypto::RandomSource,
    ) -> Result<Vec<u8>> {
        let mut nonce = crate::crypto::Secret::zero(self.suite.hash_len());
        nonce.fill_random(rng)?;
        let psk = crate::schedule::PreSharedKeyId {
            psk: crate::schedule::Psk::External { psk_id },
            psk_nonce: nonce.as_bytes().to_vec(),
        };
        self.propose(
            group_id,
            epoch,
            Proposal::PreSharedKey(crate::messages::proposals::PreSharedKey { psk }),
        )
    }

    /// Proposes closing the group and continuing it as `new_group_id` in
    /// `cipher_suite` with `extensions` (§11.2, §12.1.5).
    pub fn propose_reinit(
        &self,
        group_id: &[u8],
        epoch: u64,
        new_group_id: Vec<u8>,
        cipher_suite: crate::crypto::CipherSuite,
        extensions: Vec<crate::types::Extension>,
    ) -> Result<Vec<u8>> {
        self.propose(
            group_id,
            epoch,
            Proposal::ReInit(crate::messages::proposals::ReInit {
                group_id: new_group_id,
                version: crate::types::ProtocolVersion::MLS10,
                cipher_suite,
                extensions,
            }),
        )
    }

    /// Proposes replacing the group context extensions (§12.1.7).
    pub fn propose_group_context_extensions(
        &self,
        group_id: &[u8],
        epoch: u64,
        extensions: Vec<crate::types::Extension>,
    ) -> Result<Vec<u8>> {
        self.propose(
            group_id,
            epoch,
            Proposal::GroupContextExtensions(crate::messages::proposals::GroupContextExtensions {
                extensions,
            }),
        )
    }
}
