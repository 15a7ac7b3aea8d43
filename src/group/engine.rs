//! A member's group state and the receive pipeline (§6, §12): decode,
//! unprotect, authenticate, then hand out application data, cache a
//! proposal, or stage a commit.

use crate::crypto::Suite;
use crate::framing::{
    Content, MlsMessage, MlsMessageBody, PrivateMessage, PublicMessage, Sender, open_private,
    open_sender_data,
};
use crate::group::authorization::{Authority, Scope};
use crate::group::commit_stage::{StagedCommit, StagedFrom, stage_commit};
use crate::group::join::{JoinInputs, WelcomeExtras, join_from_welcome};
use crate::group::proposal_cache::{CachedProposal, ProposalCache};
use crate::group::psk_store::PskStore;
use crate::group::public_view::{MemberVerified, PublicView, verify_private_sender};
use crate::group::state::GroupState;
use crate::group::state::{Retention, check_group_id};
use crate::schedule::{GroupContext, RatchetType, SecretTree};
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::MessageKind;
use crate::types::math::LeafIndex;
use crate::{Error, Result, decode_exact};

/// `Received::OwnEcho` if `message`, which did not open, names our leaf
/// and a generation of ours already used: we sent it, and deleted its key
/// (§9.2). Anything else is left to the caller's error.
fn own_echo(
    suite: &Suite,
    message: &PrivateMessage,
    secret_tree: &SecretTree,
    sender_data_secret: &crate::crypto::Secret,
    own_leaf: LeafIndex,
) -> Option<Result<Received>> {
    let sender = open_sender_data(suite, message, sender_data_secret).ok()?;
    let ratchet = match message.content_type {
        crate::framing::ContentType::Application => RatchetType::Application,
        _ => RatchetType::Handshake,
    };
    if sender.leaf_index != own_leaf
        || !secret_tree.generation_used(own_leaf, ratchet, sender.generation)
    {
        return None;
    }
    let kind = message.content_type.message_kind();
    Some(if kind == MessageKind::Commit {
        Err(crate::group::commit_stage::own_commit_not_pending())
    } else {
        Ok(Received::OwnEcho {
            epoch: message.epoch,
            kind,
        })
    })
}

/// What processing a message produced.
pub enum Received {
    /// Application data from a member.
    Application {
        /// Sender's leaf.
        sender: LeafIndex,
        /// Epoch the message was sent in.
        epoch: u64,
        /// The plaintext.
        data: Vec<u8>,
        /// The sender's authenticated data.
        authenticated_data: Vec<u8>,
        /// The message's `generation` in the sender's application ratchet
        /// (draft-ietf-mls-extensions: an AppAck names messages by it).
        generation: u32,
    },
    /// A valid proposal, now cached for later commits.
    Proposal(Box<CachedProposal>),
    /// A valid commit, staged: merge it to enter the next epoch.
    Commit(Box<StagedCommit>),
    /// A message this member sent, delivered back: nothing changed. A
    /// PrivateMessage of ours cannot be decrypted (its key was deleted when
    /// it was sent, §9.2), so it is recognised by its sender data: our leaf
    /// and a generation we used. A PublicMessage proposal of ours is
    /// recognised by its reference, already cached.
    OwnEcho {
        /// The epoch it was sent in.
        epoch: u64,
        /// Application or proposal (a commit of ours is merged or refused).
        kind: MessageKind,
    },
}

/// Application data is shown by length only (as secrets are).
impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Application {
                sender,
                epoch,
                data,
                authenticated_data,
                ..
            } => crate::types::redacted::debug_application(
                f,
                "Application",
                sender,
                *epoch,
                data,
                authenticated_data,
            ),
            Self::Proposal(p) => f.debug_tuple("Proposal").field(p).finish(),
            Self::Commit(c) => f.debug_tuple("Commit").field(c).finish(),
            Self::OwnEcho { epoch, kind } => f
                .debug_struct("OwnEcho")
                .field("epoch", epoch)
                .field("kind", kind)
                .finish(),
        }
    }
}

impl GroupState {
    /// Joins from a Welcome (§12.4.3.1).
    pub fn join(suite: &Suite, input: JoinInputs<'_>) -> Result<Self> {
        Self::join_reporting_psks(suite, input).map(|(state, _)| state)
    }

    /// [`Self::join`], also returning the PSKs the Welcome named (to check a
    /// reinitialization or branch, §11.2-§11.3).
    pub fn join_reporting_psks(
        suite: &Suite,
        input: JoinInputs<'_>,
    ) -> Result<(Self, Vec<crate::schedule::PreSharedKeyId>)> {
        Self::join_authorized(suite, input, Authority::default())
    }

    /// [`Self::join_reporting_psks`] with the application's validator: every
    /// member of the group's tree is validated (§5.3.1) before the state
    /// exists, and the validator stays with the state for later messages.
    pub fn join_authorized(
        suite: &Suite,
        input: JoinInputs<'_>,
        authority: Authority,
    ) -> Result<(Self, Vec<crate::schedule::PreSharedKeyId>)> {
        Self::join_with_extras(suite, input, authority).map(|(state, extras)| (state, extras.psks))
    }

    /// [`Self::join_authorized`], also returning the GroupInfo's
    /// application data.
    pub fn join_with_extras(
        suite: &Suite,
        input: JoinInputs<'_>,
        authority: Authority,
    ) -> Result<(Self, WelcomeExtras)> {
        let config = input.config;
        let (epoch, extras) = join_from_welcome(suite, input)?;
        Scope {
            authority: &authority,
            context: &epoch.context,
            tree: &epoch.tree,
        }
        .tree_import()?;
        let state = Self {
            suite: suite.clone(),
            config,
            epoch,
            proposals: ProposalCache::default(),
            retention: Retention::default(),
            removed: false,
            own_updates: Vec::new(),
            reinit: None,
            authority,
        };
        Ok((state, extras))
    }

    /// The current GroupContext.
    pub fn context(&self) -> &GroupContext {
        &self.epoch.context
    }

    /// The current epoch number.
    pub fn epoch(&self) -> u64 {
        self.epoch.context.epoch
    }

    internal_pub! {
        /// The ratchet tree.
        pub fn tree(&self) -> &RatchetTree {
            &self.epoch.tree
        }
    }

    /// Our leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.epoch.own_leaf()
    }

    /// The epoch authenticator (§8.7).
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.epoch.keys.epoch_authenticator.as_bytes()
    }

    /// Proposals received in this epoch.
    pub fn proposals(&self) -> &ProposalCache {
        &self.proposals
    }

    /// Replaces the credential validator. Set it when the state is made
    /// (a joined tree was validated by the validator given to the join).
    pub fn with_authority(mut self, authority: Authority) -> Self {
        self.authority = authority;
        self
    }

    /// The credential validator.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// Caches a proposal this member sent itself.
    pub fn cache_own_proposal(&mut self, proposal: CachedProposal) {
        self.proposals.insert(proposal);
    }

    /// Keeps the private key of our own Update proposal `reference`.
    pub fn remember_own_update(&mut self, reference: Vec<u8>, key: crate::crypto::HpkePrivateKey) {
        self.own_updates.push((reference, key));
    }

    /// The ReInit a merged commit carried, if any: the group is closed.
    pub fn reinitialized(&self) -> Option<&crate::messages::proposals::ReInit> {
        self.reinit.as_ref()
    }

    /// The resumption PSK of the current epoch (§8.6).
    pub fn resumption_psk(&self) -> &crate::crypto::Secret {
        &self.epoch.keys.resumption_psk
    }

    /// True once a merged commit removed this member.
    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// Processes one MLSMessage. A message that fails any check leaves the
    /// state as it was. Success consumes the message key (application and
    /// PrivateMessage handshakes), caches a proposal, or stages a commit —
    /// the epoch itself only changes in [`Self::merge`].
    pub fn process(&mut self, message: &[u8], psks: &dyn PskStore, now: u64) -> Result<Received> {
        self.check_not_removed()?;
        let message: MlsMessage = decode_exact("MLSMessage", message)?;
        self.process_message(message, psks, now)
    }

    fn check_not_removed(&self) -> Result<()> {
        if self.removed {
            return Err(Error::Misuse(
                "this member was removed from the group".into(),
            ));
        }
        Ok(())
    }

    /// [`Self::process`] for a message already decoded.
    pub fn process_message(
        &mut self,
        message: MlsMessage,
        psks: &dyn PskStore,
        now: u64,
    ) -> Result<Received> {
        self.check_not_removed()?;
        // draft-ietf-mls-extensions, Safe AAD: in a group that uses it, a
        // message of this epoch whose authenticated_data is not one valid
        // SafeAAD is refused before anything is decrypted or consumed.
        // Messages of retained past epochs are not held to it: the rule of
        // their epoch's GroupContext is no longer at hand.
        let (epoch, aad): (u64, &[u8]) = match &message.body {
            MlsMessageBody::PublicMessage(m) => (m.content.epoch, &m.content.authenticated_data),
            MlsMessageBody::PrivateMessage(m) => (m.epoch, &m.authenticated_data),
            _ => (u64::MAX, &[]),
        };
        if epoch == self.epoch.context.epoch {
            crate::group::safe_aad_rules::check_received(&self.epoch.context.extensions, aad)?;
        }
        match message.body {
            MlsMessageBody::PublicMessage(m) => self.process_public(*m, psks, now),
            MlsMessageBody::PrivateMessage(m) => self.process_private(&m, psks, now),
            _ => Err(Error::Misuse(
                "not a group message: Welcome, GroupInfo and KeyPackage are handled elsewhere"
                    .into(),
            )),
        }
    }

    /// The public half of the state, which observers share (§12 rules
    /// that need no secrets run on it).
    pub(crate) fn public_view(&self) -> PublicView<'_> {
        PublicView {
            suite: &self.suite,
            config: &self.config,
            context: &self.epoch.context,
            tree: &self.epoch.tree,
            interim_transcript_hash: &self.epoch.interim_transcript_hash,
            proposals: &self.proposals,
            authority: &self.authority,
        }
    }

    fn process_public(
        &mut self,
        message: PublicMessage,
        psks: &dyn PskStore,
        now: u64,
    ) -> Result<Received> {
        let opened = self
            .public_view()
            .open_public_as_member(message, &self.epoch.keys.membership_key)?;
        self.handle_handshake(opened.content, opened.confirmed_transcript_hash, psks, now)
    }

    fn process_private(
        &mut self,
        message: &PrivateMessage,
        psks: &dyn PskStore,
        now: u64,
    ) -> Result<Received> {
        check_group_id(&self.epoch.context.group_id, &message.group_id)?;
        let kind = message.content_type.message_kind();
        if message.epoch > self.epoch() {
            return Err(Error::wrong_epoch(self.epoch(), message.epoch, kind, true));
        }
        if message.epoch < self.epoch() {
            return self.process_late_private(message);
        }
        let state = &self.epoch;
        let (content, staged) = match open_private(
            &self.suite,
            message,
            &state.secret_tree,
            &state.keys.sender_data_secret,
        ) {
            Ok(opened) => opened,
            Err(e) => {
                return own_echo(
                    &self.suite,
                    message,
                    &state.secret_tree,
                    &state.keys.sender_data_secret,
                    state.own_leaf(),
                )
                .unwrap_or(Err(e));
            }
        };
        let (leaf, content) =
            verify_private_sender(&self.suite, content, &state.tree, &state.context)?;
        if let Content::Application(data) = &content.content.content {
            let received = Received::Application {
                sender: leaf,
                epoch: content.content.epoch,
                data: data.clone(),
                authenticated_data: content.content.authenticated_data.clone(),
                generation: staged.generation(),
            };
            self.epoch.secret_tree.commit_key(staged)?;
            return Ok(received);
        }
        let received = self.handle_handshake(content, None, psks, now)?;
        self.epoch.secret_tree.commit_key(staged)?;
        Ok(received)
    }

    /// Application messages of a retained past epoch.
    fn process_late_private(&mut self, message: &PrivateMessage) -> Result<Received> {
        let suite = self.suite.clone();
        let current = self.epoch();
        let kind = message.content_type.message_kind();
        let own_leaf = self.own_leaf();
        let Some(past) = self.retention.epoch_mut(message.epoch) else {
            return Err(Error::wrong_epoch(current, message.epoch, kind, false));
        };
        let (content, staged) =
            match open_private(&suite, message, &past.secret_tree, &past.sender_data_secret) {
                Ok(opened) => opened,
                Err(e) => {
                    // Our leaf index then was our leaf index now: a member
                    // never moves, and a removed one processes nothing.
                    return own_echo(
                        &suite,
                        message,
                        &past.secret_tree,
                        &past.sender_data_secret,
                        own_leaf,
                    )
                    .unwrap_or(Err(e));
                }
            };
        if !matches!(content.content.content, Content::Application(_)) {
            return Err(Error::wrong_epoch(current, message.epoch, kind, true));
        }
        let (leaf, content) = verify_private_sender(&suite, content, &past.tree, &past.context)?;
        let Content::Application(data) = &content.content.content else {
            return Err(Error::Internal("application content changed kind"));
        };
        let received = Received::Application {
            sender: leaf,
            epoch: message.epoch,
            data: data.clone(),
            authenticated_data: content.content.authenticated_data.clone(),
            generation: staged.generation(),
        };
        past.secret_tree.commit_key(staged)?;
        Ok(received)
    }

    /// `confirmed_transcript_hash`: a commit's, if already computed.
    fn handle_handshake(
        &mut self,
        content: MemberVerified,
        confirmed_transcript_hash: Option<Vec<u8>>,
        psks: &dyn PskStore,
        now: u64,
    ) -> Result<Received> {
        match &content.content.content {
            Content::Application(_) => Err(Error::Internal("application content as handshake")),
            Content::Proposal(proposal) => {
                let cached = match self.public_view().admit_proposal(&content, proposal, now) {
                    // Ours was cached when we sent it; the delivery service
                    // echoing it back is normal, not an attack.
                    Err(Error::Replay(_))
                        if content.content.sender == Sender::Member(self.own_leaf()) =>
                    {
                        return Ok(Received::OwnEcho {
                            epoch: content.content.epoch,
                            kind: MessageKind::Proposal,
                        });
                    }
                    other => other?,
                };
                self.proposals.insert(cached.clone());
                Ok(Received::Proposal(Box::new(cached)))
            }
            Content::Commit(_) => {
                let staged = stage_commit(self, &content, confirmed_transcript_hash, psks, now)?;
                Ok(Received::Commit(Box::new(staged)))
            }
        }
    }

    /// Enters the epoch a staged commit computed, as one state transition.
    /// A commit that removed us ends our membership.
    /// A commit staged in another group or epoch is refused and changes
    /// nothing.
    pub fn merge(&mut self, staged: StagedCommit) -> Result<()> {
        let here = StagedFrom::of(self);
        if staged.base != here {
            return Err(Error::Misuse(format!(
                "the staged commit was made in epoch {} of {}; this group is in epoch {}: \
                 stage the commit again with this group's process",
                staged.base.epoch,
                if staged.base.group_id == here.group_id {
                    "another state of this group (a fork or an older copy)"
                } else {
                    "another group"
                },
                here.epoch
            )));
        }
        let Some(next) = staged.next else {
            self.removed = true;
            self.proposals = ProposalCache::default();
            self.own_updates.clear();
            return Ok(());
        };
        self.reinit = staged.summary.reinit.clone();
        let old = std::mem::replace(&mut self.epoch, next);
        self.retention.retire(&self.config, old);
        self.proposals = ProposalCache::default();
        self.own_updates.clear();
        Ok(())
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
