//! [`PartialGroup`]: a group followed as a Partial MLS client
//! (draft-ietf-mls-partial), without the ratchet tree. It joins from an
//! AnnotatedWelcome, follows the group by AnnotatedCommits, reads and sends
//! sender-authenticated application messages; it cannot commit.
//!
//! Not persisted: a `PartialGroup` lives in memory only (its state is a
//! few secrets and one membership proof, but no storage record exists for
//! it yet). Joining deletes the key package like a full join does (§16.8),
//! so after a restart the application joins again with a new key package.

use crate::api::client::Client;
use crate::codec::encode;
use crate::crypto::{RandomSource, Secret, SignaturePrivateKey, Suite};
use crate::decode_exact as decode;
use crate::framing::{
    AnnotatedCommit, AnnotatedWelcome, Content, FramedContent, MlsMessage, MlsMessageBody, Sender,
    SenderAuthenticatedMessage, WireFormat, encrypt_private, sign_content,
};
use crate::group::partial_epoch::{PartialCommitOutcome, PartialEpoch};
use crate::group::partial_join::join_partial;
use crate::group::proposal_cache::ProposalCache;
use crate::group::psk_store::{PskUse, SharedPsks};
use crate::schedule::SecretTreeConfig;
use crate::storage::WriteBatch;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Why a partial client refuses an operation that needs the tree.
const NEEDS_FULL: &str = "a partial client (draft-ietf-mls-partial) has no ratchet tree and \
                          cannot commit: only a full client can; join as one (Client::join) to \
                          commit";

/// A group followed as a partial client (module documentation).
pub struct PartialGroup {
    suite: Suite,
    state: PartialEpoch,
    signer: SignaturePrivateKey,
    rng: Box<dyn RandomSource>,
    psks: SharedPsks,
    config: SecretTreeConfig,
    active: bool,
}

/// Identifies the group and epoch, never a secret.
impl std::fmt::Debug for PartialGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartialGroup")
            .field("group_id_len", &self.group_id().len())
            .field("epoch", &self.epoch())
            .field("own_leaf", &self.own_leaf())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// What processing an AnnotatedCommit did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartialCommitEvent {
    /// The group moved to this epoch.
    NewEpoch(u64),
    /// The commit removed this client; the group is no longer usable.
    Removed,
}

impl Client {
    /// Joins a group as a partial client from an encoded AnnotatedWelcome
    /// (draft-ietf-mls-partial): no ratchet tree is downloaded or kept.
    /// The key package the Welcome names is deleted once the join succeeds.
    pub fn join_partial(&mut self, annotated_welcome: &[u8]) -> Result<PartialGroup> {
        let annotated: AnnotatedWelcome = decode("AnnotatedWelcome", annotated_welcome)?;
        let welcome = &annotated.welcome.message;
        let kp_ref = welcome
            .secrets
            .iter()
            .map(|s| &s.new_member)
            .find(|r| self.key_packages.contains_key(*r))
            .cloned()
            .ok_or_else(|| {
                Error::NotForUs(crate::types::error::NotForUs::Welcome {
                    key_package_refs: welcome
                        .secrets
                        .iter()
                        .map(|s| s.new_member.clone())
                        .collect(),
                })
            })?;
        let stored = self
            .key_packages
            .get(&kp_ref)
            .ok_or(Error::Internal("key package vanished"))?;
        let joined = join_partial(
            &self.suite,
            &annotated,
            &stored.key_package,
            &stored.private,
            &self.psks,
            PskUse::Normal,
        )?;
        let config = SecretTreeConfig::default();
        let state = PartialEpoch::from_join(
            &self.suite,
            joined,
            stored.private.encryption_key.clone(),
            &annotated.joiner_membership_proof,
            config,
        )?;
        let last_resort = stored.last_resort;
        if !last_resort {
            if let Some(storage) = &self.storage {
                let mut batch = WriteBatch::default();
                batch.delete(crate::persist::records::key_package_key(&kp_ref));
                storage
                    .lock()
                    .map_err(|_| Error::Internal("storage lock poisoned"))?
                    .write(batch)?;
            }
            // §16.8: a key package is used once.
            self.key_packages.remove(&kp_ref);
        }
        Ok(PartialGroup {
            suite: self.suite.clone(),
            state,
            signer: self.signer.clone(),
            rng: self.group_rng()?,
            psks: self.psks.clone(),
            config,
            active: true,
        })
    }
}

impl PartialGroup {
    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.state.context.group_id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.state.epoch()
    }

    /// This client's leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.state.own_leaf
    }

    /// Whether the client is still a member (no commit removed it).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The epoch authenticator (§8.7), to compare with other members.
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.state.secrets.epoch_authenticator.as_bytes()
    }

    /// `MLS-Exporter(label, context, length)` (§8.5) of the current epoch.
    pub fn export_secret(&self, label: &str, context: &[u8], length: usize) -> Result<Secret> {
        self.state
            .secrets
            .export(&self.suite, label, context, length)
    }

    fn check_active(&self) -> Result<()> {
        if self.active {
            Ok(())
        } else {
            Err(Error::Misuse(
                "this partial client was removed from the group".into(),
            ))
        }
    }

    /// Processes an encoded AnnotatedCommit of the current epoch: on
    /// success the group is in the next epoch; on any error nothing changed.
    /// Proposals covered by reference are not supported yet (the commit is
    /// refused: the reference is unknown).
    pub fn process_annotated_commit(&mut self, annotated: &[u8]) -> Result<PartialCommitEvent> {
        self.check_active()?;
        let annotated: AnnotatedCommit = decode("AnnotatedCommit", annotated)?;
        match self.state.stage_commit(
            &self.suite,
            &annotated,
            &ProposalCache::default(),
            &self.psks,
            self.config,
        )? {
            PartialCommitOutcome::Next(next) => {
                self.state = *next;
                Ok(PartialCommitEvent::NewEpoch(self.state.epoch()))
            }
            PartialCommitOutcome::Removed => {
                self.active = false;
                Ok(PartialCommitEvent::Removed)
            }
        }
    }

    /// Opens an encoded `SenderAuthenticatedMessage<MLSMessage>` carrying a
    /// PrivateMessage of the current epoch: the sender's proof is checked
    /// against the epoch's tree hash and the signature with the proven key.
    /// Returns the sender and the application data.
    pub fn process_message(&mut self, message: &[u8]) -> Result<(LeafIndex, Vec<u8>)> {
        self.check_active()?;
        let message: SenderAuthenticatedMessage<MlsMessage> =
            decode("SenderAuthenticatedMessage", message)?;
        let content = self.state.open_message(&self.suite, &message)?;
        let Sender::Member(sender) = content.content.sender else {
            return Err(Error::Internal("a PrivateMessage from a non-member"));
        };
        match content.content.content {
            Content::Application(data) => Ok((sender, data)),
            _ => Err(Error::Misuse(
                "a partial client reads application messages only; proposals reach it through \
                 the commits that cover them"
                    .into(),
            )),
        }
    }

    /// Encrypts application data as a PrivateMessage (§6.3) and wraps it
    /// with this client's membership proof, as the encoded
    /// `SenderAuthenticatedMessage<MLSMessage>` partial members read. Full
    /// members read the inner MLSMessage ([`Self::inner_message`]).
    pub fn encrypt(&mut self, plaintext: &[u8], authenticated_data: &[u8]) -> Result<Vec<u8>> {
        self.check_active()?;
        let framed = FramedContent {
            group_id: self.state.context.group_id.clone(),
            epoch: self.state.context.epoch,
            sender: Sender::Member(self.state.own_leaf),
            authenticated_data: authenticated_data.to_vec(),
            content: Content::Application(plaintext.to_vec()),
        };
        let content = sign_content(
            &self.suite,
            WireFormat::PRIVATE_MESSAGE,
            framed,
            &self.state.context,
            &self.signer,
        )?;
        let sender_data_secret = self.state.secrets.sender_data_secret.clone();
        let private = encrypt_private(
            &self.suite,
            &content,
            self.state.secret_tree_mut(),
            &sender_data_secret,
            0,
            &mut *self.rng,
        )?;
        Ok(encode(&SenderAuthenticatedMessage {
            message: MlsMessage::new(MlsMessageBody::PrivateMessage(Box::new(private))),
            sender_membership_proof: self.state.own_proof().clone(),
        })?)
    }

    /// The MLSMessage inside an encoded sender-authenticated message, for
    /// full members, which need no proof.
    pub fn inner_message(message: &[u8]) -> Result<Vec<u8>> {
        let message: SenderAuthenticatedMessage<MlsMessage> =
            decode("SenderAuthenticatedMessage", message)?;
        Ok(encode(&message.message)?)
    }

    /// Always refused: committing needs the ratchet tree, which a partial
    /// client does not have (draft-ietf-mls-partial, "Joining via External
    /// Commit" and Introduction).
    pub fn commit(&mut self) -> Result<Vec<u8>> {
        Err(Error::Misuse(NEEDS_FULL.into()))
    }
}
