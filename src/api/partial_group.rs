//! [`PartialGroup`]: a group followed as a Partial MLS client
//! (draft-ietf-mls-partial), without the ratchet tree. It joins from an
//! AnnotatedWelcome, follows the group by AnnotatedCommits, reads and sends
//! sender-authenticated application messages; it cannot commit.
//!
//! Persisted like a full group when the client has storage: the state is
//! one record (`persist/partial_records.rs`), written before the result of
//! each transition leaves the library (a join with its key package's
//! deletion, a commit, a message read or sent, a proposal cached); an
//! input that is refused writes nothing. [`Client::load_partial_group`]
//! reads it back after a restart. A commit that removes the client deletes
//! the record.

use crate::api::client::Client;
use crate::codec::encode;
use crate::crypto::{RandomSource, Secret, SignaturePrivateKey, Suite};
use crate::decode_exact as decode;
use crate::framing::{
    AnnotatedCommit, AnnotatedWelcome, Content, FramedContent, MlsMessage, MlsMessageBody, Sender,
    SenderAuthenticatedMessage, WireFormat, encrypt_private, sign_content,
};
use crate::group::authorization::Authority;
use crate::group::partial_epoch::{PartialCommitOutcome, PartialEpoch};
use crate::group::partial_join::join_partial;
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::psk_store::{PskUse, SharedPsks};
use crate::persist::partial_records::{encode_partial, partial_key};
use crate::schedule::SecretTreeConfig;
use crate::storage::{SharedStorage, WriteBatch};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// Why a partial client refuses an operation that needs the tree.
const NEEDS_FULL: &str = "a partial client (draft-ietf-mls-partial) has no ratchet tree and \
                          cannot commit: only a full client can; join as one (Client::join) to \
                          commit";

/// How many proposals a partial client caches in one epoch, as a full
/// group's default `GroupConfig::max_cached_proposals`.
pub const MAX_PARTIAL_PROPOSALS: usize = 4096;

/// Whether one more proposal, of this reference, may join `proposals`: not
/// past [`MAX_PARTIAL_PROPOSALS`], and not one already received.
pub(crate) fn admit_proposal(proposals: &ProposalCache, reference: &[u8]) -> Result<()> {
    if proposals.len() >= MAX_PARTIAL_PROPOSALS {
        return Err(Error::Limit(format!(
            "{MAX_PARTIAL_PROPOSALS} proposals cached in this epoch (MAX_PARTIAL_PROPOSALS)"
        )));
    }
    if proposals.find(reference).is_some() {
        return Err(Error::Replay(
            "this proposal was already received in this epoch".into(),
        ));
    }
    Ok(())
}

/// Whether a partial group can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// A member following the group.
    Active,
    /// A commit removed this client.
    Removed,
    /// The state became a full [`crate::Group`] (`Client::upgrade_partial`).
    Upgraded,
}

/// A group followed as a partial client (module documentation).
pub struct PartialGroup {
    pub(crate) suite: Suite,
    pub(crate) state: PartialEpoch,
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) psks: SharedPsks,
    pub(crate) config: SecretTreeConfig,
    pub(crate) status: Status,
    /// Proposals of the current epoch, for commits that cover them by
    /// reference.
    pub(crate) proposals: ProposalCache,
    pub(crate) storage: Option<SharedStorage>,
    /// The client's credential validator, for external senders' proposals.
    pub(crate) authority: Authority,
}

/// Identifies the group and epoch, never a secret.
impl std::fmt::Debug for PartialGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartialGroup")
            .field("group_id_len", &self.group_id().len())
            .field("epoch", &self.epoch())
            .field("own_leaf", &self.own_leaf())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// What a sender-authenticated message held.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartialMessage {
    /// Application data from a member.
    Application {
        /// The sender's leaf.
        sender: LeafIndex,
        /// The data.
        data: Vec<u8>,
    },
    /// A proposal, cached for the commit that covers it.
    Proposal {
        /// The proposer's leaf.
        sender: LeafIndex,
        /// Its type.
        proposal_type: crate::types::ProposalType,
    },
    /// A proposal from an entry of the GroupContext's `external_senders`
    /// (RFC 9420 §12.1.8.1), cached for the commit that covers it
    /// ([`PartialGroup::process_external`]).
    ExternalProposal {
        /// The sender's index in `external_senders`.
        sender_index: u32,
        /// Its type.
        proposal_type: crate::types::ProposalType,
    },
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
        let (kp_ref, stored) = self.key_package_for(welcome)?;
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
        let group = PartialGroup {
            suite: self.suite.clone(),
            state,
            signer: self.signer.clone(),
            rng: self.group_rng()?,
            psks: self.psks.clone(),
            config,
            status: Status::Active,
            proposals: ProposalCache::default(),
            storage: self.storage.clone(),
            authority: self.authority(),
        };
        // One batch: the group's record and the key package's deletion.
        let mut batch = WriteBatch::default();
        if !last_resort {
            batch.delete(crate::persist::records::key_package_key(&kp_ref));
        }
        group.write(batch, true)?;
        if !last_resort {
            // §16.8: a key package is used once.
            self.key_packages.remove(&kp_ref);
        }
        Ok(group)
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

    /// Whether the client is still a member following the group as a
    /// partial client: false once a commit removed it or it was upgraded.
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// Whether a commit removed this client from the group.
    pub fn is_removed(&self) -> bool {
        self.status == Status::Removed
    }

    /// The proposals received in the current epoch.
    pub fn cached_proposals(&self) -> usize {
        self.proposals.len()
    }

    /// Writes `batch` and, if `with_state`, the group's record, as one
    /// atomic batch; nothing without storage.
    pub(crate) fn write(&self, mut batch: WriteBatch, with_state: bool) -> Result<()> {
        let Some(storage) = &self.storage else {
            return Ok(());
        };
        if with_state {
            batch.put(
                partial_key(self.group_id()),
                encode_partial(&self.state, &self.proposals)?,
            );
        }
        crate::storage::with(storage, |s| s.write(batch))
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

    pub(crate) fn check_active(&self) -> Result<()> {
        match self.status {
            Status::Active => Ok(()),
            Status::Removed => Err(Error::Misuse(
                "this partial client was removed from the group".into(),
            )),
            Status::Upgraded => Err(Error::Misuse(
                "this partial group was upgraded: use the full Group it became".into(),
            )),
        }
    }

    /// Processes an encoded AnnotatedCommit of the current epoch: on
    /// success the group is in the next epoch, stored; on any error
    /// nothing changed, in memory or in storage. Proposals the commit
    /// covers by reference must have been read before
    /// ([`Self::process_message`]).
    ///
    /// A commit that removes this client (a Remove of its leaf, or its own
    /// SelfRemove) ends the group: [`PartialCommitEvent::Removed`],
    /// [`Self::is_active`] false, the stored record deleted. Its leaf is
    /// blank after such a commit, so the annotation cannot prove it: its
    /// `receiver_membership_proof_after` must still reference the tree of
    /// `sender_membership_proof_after` and lead to `tree_hash_after`
    /// (step 2), but may be another leaf's (the library's annotator puts
    /// the committer's), and the removal rests on the proven committer's
    /// signature (draft "Annotated Commit", steps 1 and 3).
    pub fn process_annotated_commit(&mut self, annotated: &[u8]) -> Result<PartialCommitEvent> {
        self.check_active()?;
        let annotated: AnnotatedCommit = decode("AnnotatedCommit", annotated)?;
        match self.state.stage_commit(
            &self.suite,
            &annotated,
            &self.proposals,
            &self.psks,
            self.config,
        )? {
            PartialCommitOutcome::Next(next) => {
                if let Some(storage) = &self.storage {
                    let mut batch = WriteBatch::default();
                    batch.put(
                        partial_key(self.group_id()),
                        encode_partial(&next, &ProposalCache::default())?,
                    );
                    crate::storage::with(storage, |s| s.write(batch))?;
                }
                self.state = *next;
                self.proposals = ProposalCache::default();
                Ok(PartialCommitEvent::NewEpoch(self.state.epoch()))
            }
            PartialCommitOutcome::Removed => {
                let mut batch = WriteBatch::default();
                batch.delete(partial_key(self.group_id()));
                self.write(batch, false)?;
                self.status = Status::Removed;
                Ok(PartialCommitEvent::Removed)
            }
        }
    }

    /// Opens an encoded `SenderAuthenticatedMessage<MLSMessage>` carrying a
    /// PrivateMessage of the current epoch: the sender's proof is checked
    /// against the epoch's tree hash and the signature with the proven key.
    /// Returns the sender and the application data; a proposal is refused
    /// unread (its key kept): read it with [`Self::process`]. The used key
    /// is deleted from storage before the data is returned.
    pub fn process_message(&mut self, message: &[u8]) -> Result<(LeafIndex, Vec<u8>)> {
        let only_application = |c: &crate::framing::AuthenticatedContent| match c.content.content {
            Content::Application(_) => Ok(()),
            _ => Err(Error::Misuse(
                "process_message reads application data; read proposals with \
                 PartialGroup::process"
                    .into(),
            )),
        };
        match self.open(message, &only_application)? {
            PartialMessage::Application { sender, data } => Ok((sender, data)),
            _ => Err(Error::Internal("a proposal passed the filter")),
        }
    }

    /// Opens an encoded `SenderAuthenticatedMessage<MLSMessage>` of the
    /// current epoch: the sender's proof is checked against the epoch's
    /// tree hash and the signature with the proven key. Application data
    /// (a PrivateMessage) is returned with its sender; a proposal (Private-
    /// or PublicMessage) is cached for the commit that covers it by
    /// reference (draft "Protocol Overview": partial clients "need to be
    /// provided with access to any proposals sent in a group outside of
    /// Commits"); the proposal is not validated against the tree, which a
    /// partial client lacks: the commit's committer did that. The state is
    /// stored (the message key consumed, the proposal cached) before the
    /// result is returned; a refused message changes nothing.
    pub fn process(&mut self, message: &[u8]) -> Result<PartialMessage> {
        self.open(message, &|_| Ok(()))
    }

    fn open(
        &mut self,
        message: &[u8],
        accept: &dyn Fn(&crate::framing::AuthenticatedContent) -> Result<()>,
    ) -> Result<PartialMessage> {
        self.check_active()?;
        let message: SenderAuthenticatedMessage<MlsMessage> =
            decode("SenderAuthenticatedMessage", message)?;
        let proposals = &self.proposals;
        let suite = &self.suite;
        let admit = |c: &crate::framing::AuthenticatedContent| {
            accept(c)?;
            if matches!(c.content.content, Content::Proposal(_)) {
                admit_proposal(proposals, &suite.proposal_ref(&encode(c)?)?)?;
            }
            Ok(())
        };
        // Every check runs before the message key is used up.
        let content = self.state.open_message_if(&self.suite, &message, &admit)?;
        let Sender::Member(sender) = content.content.sender else {
            return Err(Error::Internal(
                "a sender-authenticated message from a non-member",
            ));
        };
        let result = match &content.content.content {
            Content::Application(data) => PartialMessage::Application {
                sender,
                data: data.clone(),
            },
            Content::Proposal(proposal) => {
                let reference = self.suite.proposal_ref(&encode(&content)?)?;
                self.proposals.insert(CachedProposal {
                    reference,
                    proposal: (**proposal).clone(),
                    sender: content.content.sender,
                });
                PartialMessage::Proposal {
                    sender,
                    proposal_type: proposal.proposal_type(),
                }
            }
            Content::Commit(_) => {
                return Err(Error::Internal("a commit passed open_message"));
            }
        };
        self.write(WriteBatch::default(), true)?;
        Ok(result)
    }

    /// Encrypts application data as a PrivateMessage (§6.3) and wraps it
    /// with this client's membership proof, as the encoded
    /// `SenderAuthenticatedMessage<MLSMessage>` partial members read. Full
    /// members read the inner MLSMessage ([`Self::inner_message`]).
    ///
    /// In a group that uses Safe AAD (draft-ietf-mls-extensions), an empty
    /// `authenticated_data` is sent as the SafeAAD with no items; anything
    /// else must be one valid encoded SafeAAD whose items are all for
    /// components the group requires (a partial client cannot see which
    /// others every member supports), or it is [`Error::Misuse`].
    pub fn encrypt(&mut self, plaintext: &[u8], authenticated_data: &[u8]) -> Result<Vec<u8>> {
        self.check_active()?;
        let framed = FramedContent {
            group_id: self.state.context.group_id.clone(),
            epoch: self.state.context.epoch,
            sender: Sender::Member(self.state.own_leaf),
            // Safe AAD (draft-ietf-mls-extensions): framed as a full
            // member frames it; without the tree, items only for the
            // components the group requires.
            authenticated_data: crate::group::safe_aad_rules::frame_outgoing(
                None,
                &self.state.context.extensions,
                authenticated_data,
            )?,
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
        // The generation used is stored before the message leaves: after a
        // restart it is never used again (§9.1 nonce reuse).
        self.write(WriteBatch::default(), true)?;
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
