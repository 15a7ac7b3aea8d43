//! Serving partial clients (draft-ietf-mls-partial) from a holder of the
//! ratchet tree: a full member ([`Group`]) or the delivery service's
//! [`Observer`](crate::Observer). [`CommitAnnotations`] prepares one commit
//! once, then gives each recipient its AnnotatedCommit and each joiner its
//! AnnotatedWelcome in O(log n); [`Group::sender_authenticated`] wraps a
//! member's own message with its membership proof.

use std::collections::HashMap;

use crate::api::group::Group;
use crate::codec::encode;
use crate::crypto::Suite;
use crate::framing::{MlsMessage, MlsMessageBody, Sender};
use crate::group::commit_stage::{CommitSummary, StagedCommit, StagedFrom};
use crate::group::partial_annotate::{
    CommitAnnotator, CommitFacts, added_key_packages, message_epoch, sender_authenticated,
};
use crate::group::proposal_cache::ProposalCache;
use crate::messages::key_package::KeyPackageData;
use crate::schedule::GroupContext;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;
use crate::{Error, Result, decode_exact};

/// One commit prepared for annotation: built by
/// [`Group::annotate_pending_commit`], [`Group::annotate_commit`] or
/// [`Observer::annotate_commit`](crate::Observer::annotate_commit) from the
/// trees before and after the commit. Preparing costs one pass over the
/// UpdatePath's encryption targets; each annotation then costs O(log n).
#[derive(Debug, Clone)]
pub struct CommitAnnotations {
    inner: CommitAnnotator,
    /// The key packages the commit adds, when it could be read (a
    /// PublicMessage).
    added: Vec<KeyPackageData>,
}

/// Refuses a message that is not of the group's current epoch.
pub(crate) fn check_current(message: &MlsMessage, context: &GroupContext) -> Result<()> {
    match message_epoch(message) {
        Some((group_id, epoch)) if group_id == context.group_id && epoch == context.epoch => Ok(()),
        Some((_, epoch)) => Err(Error::Misuse(format!(
            "a message of epoch {epoch} (or of another group): the tree held is epoch {}'s",
            context.epoch
        ))),
        None => Err(Error::Misuse(
            "expected a PublicMessage or PrivateMessage".into(),
        )),
    }
}

impl CommitAnnotations {
    /// Prepares `commit` (an encoded MLSMessage of the epoch of `context`,
    /// whose tree is `before`) staged into `after` with `summary`.
    pub(crate) fn prepare(
        suite: &Suite,
        context: &GroupContext,
        before: &RatchetTree,
        after: &RatchetTree,
        commit: &[u8],
        summary: &CommitSummary,
        cache: &ProposalCache,
    ) -> Result<Self> {
        let message: MlsMessage = decode_exact("MLSMessage", commit)?;
        check_current(&message, context)?;
        if let MlsMessageBody::PublicMessage(m) = &message.body
            && m.content.sender != summary.committer
        {
            return Err(Error::Misuse(
                "this commit is not the one staged: their senders differ".into(),
            ));
        }
        let member_sender = match summary.committer {
            Sender::Member(leaf) => Some(leaf),
            _ => None,
        };
        let facts = CommitFacts {
            member_sender,
            external_joiner: summary.external_joiner,
            has_path: summary.path_updated,
            added: summary.added.clone(),
            removed: summary.removed.clone(),
        };
        let added = added_key_packages(&message, cache);
        let inner = CommitAnnotator::new(suite, before, after, message, &facts)?;
        Ok(Self { inner, added })
    }

    /// The tree hash of the epoch the commit starts.
    pub fn tree_hash_after(&self) -> &[u8] {
        self.inner.tree_hash_after()
    }

    /// The committer's leaf.
    pub fn committer(&self) -> LeafIndex {
        self.inner.committer()
    }

    /// The members an AnnotatedCommit is for, in leaf order: every member
    /// after the commit but the committer and the joiners, and every
    /// member the commit removes. O(n); a delivery service that knows its
    /// partial clients annotates for those only.
    pub fn recipients(&self) -> Vec<LeafIndex> {
        self.inner.recipients()
    }

    /// The encoded AnnotatedCommit for the member at `recipient`: a member
    /// after the commit, neither the committer nor a joiner, or a member
    /// the commit removes (refused with [`Error::Misuse`] otherwise: a
    /// leaf blank before the commit or outside the tree). A removed
    /// member's AnnotatedCommit carries the committer's proof after the
    /// commit as `receiver_membership_proof_after` and, with a path,
    /// `resolution_index` 0: no proof of its blank leaf exists and nothing
    /// is encrypted to it; the partial client then ends with
    /// [`PartialCommitEvent::Removed`](crate::PartialCommitEvent::Removed).
    /// O(log n).
    pub fn annotate(&self, recipient: LeafIndex) -> Result<Vec<u8>> {
        self.inner.annotate_encoded(recipient)
    }

    /// The encoded commit: the first part of every AnnotatedCommit of this
    /// commit. A server that sends [`Self::commit_bytes`] then
    /// [`Self::annotation_tail`] (e.g. with vectored writes) shares one
    /// copy of the commit between recipients.
    pub fn commit_bytes(&self) -> &[u8] {
        self.inner.commit_bytes()
    }

    /// The rest of `recipient`'s AnnotatedCommit after the commit:
    /// `annotate(recipient)` is `commit_bytes()` followed by this. O(log n)
    /// and a few hundred bytes per tree level, whatever the commit's size.
    pub fn annotation_tail(&self, recipient: LeafIndex) -> Result<Vec<u8>> {
        Ok(encode(&self.inner.annotate_tail(recipient)?)?)
    }

    /// The encoded AnnotatedWelcome of each joiner of `welcome` (an
    /// MLSMessage: the Welcome of this commit), with its leaf. Each keeps
    /// only the joiner's own entry of the Welcome. The joiners are known
    /// from the commit's Add proposals when it is a PublicMessage; for a
    /// PrivateMessage commit pass their `key_packages` (encoded
    /// MLSMessages, as given to [`Group::add`]). A Welcome entry for a
    /// joiner not known either way is refused.
    pub fn annotate_welcome(
        &self,
        welcome: &[u8],
        key_packages: &[&[u8]],
    ) -> Result<Vec<(LeafIndex, Vec<u8>)>> {
        let message: MlsMessage = decode_exact("MLSMessage", welcome)?;
        let MlsMessageBody::Welcome(welcome) = message.body else {
            return Err(Error::Misuse("expected a Welcome message".into()));
        };
        let mut kps = self.added.clone();
        for bytes in key_packages {
            let message: MlsMessage = decode_exact("MLSMessage", bytes)?;
            let MlsMessageBody::KeyPackage(kp) = message.body else {
                return Err(Error::Misuse("expected a KeyPackage message".into()));
            };
            kps.push(*kp);
        }
        let joiners: HashMap<Vec<u8>, LeafIndex> = self.inner.joiner_refs(&kps)?;
        self.inner
            .annotate_welcome(&welcome, &joiners)?
            .into_iter()
            .map(|(leaf, a)| Ok((leaf, encode(&a)?)))
            .collect()
    }
}

impl Group {
    /// Prepares our pending commit (from [`Self::commit`] or the other
    /// commit-making calls, before it is merged) for partial members.
    pub fn annotate_pending_commit(&self) -> Result<CommitAnnotations> {
        let pending = self
            .pending_commit()
            .ok_or_else(|| Error::Misuse("no pending commit to annotate".into()))?;
        self.annotate_commit(pending.0, pending.1)
    }

    /// Prepares `commit` (an encoded MLSMessage), staged by
    /// [`Self::process`] into `staged` in the current epoch, for partial
    /// members. A commit staged in another epoch, or one that removes us
    /// (we do not know the tree after it), is refused.
    pub fn annotate_commit(
        &self,
        commit: &[u8],
        staged: &StagedCommit,
    ) -> Result<CommitAnnotations> {
        if staged.base != StagedFrom::of(&self.state) {
            return Err(Error::Misuse(
                "the commit was staged in another epoch than the group's current one".into(),
            ));
        }
        let after = staged.next.as_ref().map(|n| &n.tree).ok_or_else(|| {
            Error::Misuse(
                "the commit removes this member: it does not know the tree after it".into(),
            )
        })?;
        CommitAnnotations::prepare(
            &self.state.suite,
            self.state.context(),
            &self.state.epoch.tree,
            after,
            commit,
            &staged.summary,
            &self.state.proposals,
        )
    }

    /// Wraps `message`, an encoded MLSMessage we sent in the current epoch
    /// (e.g. from [`Self::encrypt`]), with our membership proof: the
    /// encoded `SenderAuthenticatedMessage<MLSMessage>` partial members
    /// read ([`PartialGroup::process_message`](crate::PartialGroup::process_message)).
    pub fn sender_authenticated(&self, message: &[u8]) -> Result<Vec<u8>> {
        let message: MlsMessage = decode_exact("MLSMessage", message)?;
        check_current(&message, self.state.context())?;
        let me = self.own_leaf();
        if let MlsMessageBody::PublicMessage(m) = &message.body
            && m.content.sender != Sender::Member(me)
        {
            return Err(Error::Misuse(format!(
                "a PublicMessage from {:?}, not from this member (leaf {me})",
                m.content.sender
            )));
        }
        Ok(encode(&sender_authenticated(
            &self.state.suite,
            &self.state.epoch.tree,
            message,
            me,
        )?)?)
    }
}
