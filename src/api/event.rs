//! [`Event`]: what processing a message produced, for the application.

use crate::framing::Sender;
use crate::group::commit_stage::StagedCommit;
use crate::messages::proposals::Proposal;
use crate::types::math::LeafIndex;

/// The outcome of [`Group::process`](crate::Group::process).
#[non_exhaustive]
pub enum Event {
    /// Application data from a member.
    Application {
        /// Sender's leaf.
        sender: LeafIndex,
        /// The epoch it was sent in: the current one, or a retained past
        /// one for a message that arrived after a commit.
        epoch: u64,
        /// The plaintext.
        data: Vec<u8>,
        /// The sender's authenticated data.
        authenticated_data: Vec<u8>,
    },
    /// A proposal, cached for the next commit.
    Proposal {
        /// Who proposed.
        sender: Sender,
        /// The proposal.
        proposal: Box<Proposal>,
    },
    /// Another member's valid commit, staged: inspect
    /// [`StagedCommit::summary`], then [`Group::merge`](crate::Group::merge) it.
    Commit {
        /// The staged commit.
        staged: Box<StagedCommit>,
        /// We have a pending commit for this epoch: merging this one
        /// discards it (it stays pending until then, so a commit that is
        /// staged but never merged does not cost us ours).
        supersedes_own: bool,
    },
    /// The delivery service echoed our pending commit; it is merged. Also
    /// returned for the echo of our own external commit, which took effect
    /// when we joined.
    OwnCommitMerged {
        /// The epoch entered.
        epoch: u64,
    },
    /// A message we sent, delivered back to us (delivery services fan
    /// messages out to every member, the sender included). Nothing
    /// changed; ignore it. An application message or a PrivateMessage
    /// proposal of ours cannot be decrypted by us (its key was deleted as
    /// it was sent, RFC 9420 §9.2): it is recognised by the sender data
    /// naming our leaf and a generation we used, so it is not verified
    /// beyond that, which is harmless since nothing is done with it.
    OwnMessageEcho {
        /// The epoch it was sent in.
        epoch: u64,
        /// Application or proposal. (Our pending commit echoed back is
        /// merged: [`Event::OwnCommitMerged`]; any other commit of ours
        /// is refused with [`Error::Misuse`](crate::Error::Misuse).)
        kind: crate::types::MessageKind,
    },
}

/// Application data is redacted: logging an event must not leak what
/// members wrote, any more than it leaks keys.
impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Application {
                sender,
                epoch,
                data,
                authenticated_data,
            } => f
                .debug_struct("Application")
                .field("sender", sender)
                .field("epoch", epoch)
                .field("data", &Redacted(data.len()))
                .field("authenticated_data", &Redacted(authenticated_data.len()))
                .finish(),
            Self::Proposal { sender, proposal } => f
                .debug_struct("Proposal")
                .field("sender", sender)
                .field("proposal", proposal)
                .finish(),
            Self::Commit {
                staged,
                supersedes_own,
            } => f
                .debug_struct("Commit")
                .field("staged", staged)
                .field("supersedes_own", supersedes_own)
                .finish(),
            Self::OwnCommitMerged { epoch } => f
                .debug_struct("OwnCommitMerged")
                .field("epoch", epoch)
                .finish(),
            Self::OwnMessageEcho { epoch, kind } => f
                .debug_struct("OwnMessageEcho")
                .field("epoch", epoch)
                .field("kind", kind)
                .finish(),
        }
    }
}

/// The length of redacted bytes, shown instead of them.
struct Redacted(usize);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}
