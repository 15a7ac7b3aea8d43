//! [`MlsGroup`]: one group seen by one client, and the events processing a
//! message produces.

use std::sync::{Arc, Mutex};

use arbor_mls::{CommitOutput, Event, Group, LeafIndex, MessageKind, Sender};

use crate::client::identity_of;
use crate::error::{MlsError, lock};

/// One group from this member's point of view ([`arbor_mls::Group`]).
/// Every change is stored through the client's storage before its result
/// is returned.
#[derive(uniffi::Object)]
pub struct MlsGroup {
    inner: Mutex<Group>,
}

/// What a commit produces for the delivery service. The commit is pending
/// until the service echoes it back (`process` returns `OwnCommitMerged`)
/// or `merge_pending` is called.
#[derive(uniffi::Record)]
pub struct CommitBundle {
    /// The commit (an MLSMessage) for the group.
    pub commit: Vec<u8>,
    /// The Welcome (an MLSMessage) for added members, if any. Deliver it
    /// only once the commit is accepted: a commit that lost a race has a
    /// Welcome to an epoch that never exists.
    pub welcome: Option<Vec<u8>>,
    /// The signed GroupInfo of the new epoch, when the group's
    /// configuration asks for it.
    pub group_info: Option<Vec<u8>>,
}

impl From<CommitOutput> for CommitBundle {
    fn from(output: CommitOutput) -> Self {
        Self {
            commit: output.commit,
            welcome: output.welcome,
            group_info: output.group_info,
        }
    }
}

/// A member of the group.
#[derive(uniffi::Record)]
pub struct GroupMember {
    /// Its leaf index: its stable address in the group.
    pub leaf: u32,
    /// The identity of its basic credential (empty for another type).
    pub identity: Vec<u8>,
}

/// Who sent a message ([`arbor_mls::Sender`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum MessageSender {
    /// A member, by leaf index.
    Member {
        /// The sender's leaf.
        leaf: u32,
    },
    /// An external sender, by index in the group's external senders.
    External {
        /// The index.
        index: u32,
    },
    /// A new member proposing its own addition.
    NewMemberProposal,
    /// A new member joining by external commit.
    NewMemberCommit,
}

impl From<Sender> for MessageSender {
    fn from(sender: Sender) -> Self {
        match sender {
            Sender::Member(leaf) => Self::Member { leaf: leaf.0 },
            Sender::External(index) => Self::External { index },
            Sender::NewMemberProposal => Self::NewMemberProposal,
            Sender::NewMemberCommit => Self::NewMemberCommit,
        }
    }
}

/// The kind of one of our own messages echoed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EchoKind {
    /// An application message.
    Application,
    /// A proposal.
    Proposal,
    /// Any other kind.
    Other,
}

/// What a commit does ([`arbor_mls::CommitSummary`], in part).
#[derive(uniffi::Record)]
pub struct CommitInfo {
    /// Who committed.
    pub committer: MessageSender,
    /// The epoch the commit starts (null when it removes us).
    pub epoch: Option<u64>,
    /// Leaves of the members it brings in (added, or joining externally).
    pub joined: Vec<u32>,
    /// Leaves it removes.
    pub removed: Vec<u32>,
    /// Leaves whose Update proposals it covers.
    pub updated: Vec<u32>,
    /// Whether it removes us: after merging it the group is inactive.
    pub self_removed: bool,
    /// Whether the committer's leaf has new keys.
    pub path_updated: bool,
}

/// A commit from another member, staged by `process`: inspect its
/// `CommitInfo`, then pass it to `MlsGroup.merge`. It can be merged once.
#[derive(uniffi::Object)]
pub struct StagedCommit {
    inner: Mutex<Option<arbor_mls::StagedCommit>>,
}

/// What processing a message produced ([`arbor_mls::Event`]).
#[derive(uniffi::Enum)]
pub enum MlsEvent {
    /// Application data from a member.
    Application {
        /// The sender's leaf.
        sender: u32,
        /// The epoch it was sent in.
        epoch: u64,
        /// The plaintext.
        data: Vec<u8>,
        /// The sender's authenticated data.
        authenticated_data: Vec<u8>,
    },
    /// A proposal, cached for the next commit (`MlsGroup.commit`).
    Proposal {
        /// Who proposed.
        sender: MessageSender,
        /// Its type (RFC 9420 §17.4: 1 add, 2 update, 3 remove, ...).
        proposal_type: u16,
    },
    /// Another member's valid commit, staged: merge it with
    /// `MlsGroup.merge(staged)`.
    Commit {
        /// The staged commit.
        staged: Arc<StagedCommit>,
        /// What it does.
        info: CommitInfo,
        /// We have a pending commit for this epoch: merging this one
        /// discards ours (we lost the race; commit again if still needed).
        supersedes_own: bool,
    },
    /// The delivery service echoed our pending commit: it is merged.
    OwnCommitMerged {
        /// The epoch entered.
        epoch: u64,
    },
    /// A message we sent, delivered back to us: nothing changed.
    OwnMessageEcho {
        /// The epoch it was sent in.
        epoch: u64,
        /// What it was.
        kind: EchoKind,
    },
}

impl MlsEvent {
    fn from_event(event: Event) -> Result<Self, MlsError> {
        Ok(match event {
            Event::Application {
                sender,
                epoch,
                data,
                authenticated_data,
            } => Self::Application {
                sender: sender.0,
                epoch,
                data,
                authenticated_data,
            },
            Event::Proposal { sender, proposal } => Self::Proposal {
                sender: sender.into(),
                proposal_type: proposal.proposal_type().0,
            },
            Event::Commit {
                staged,
                supersedes_own,
            } => {
                let summary = &staged.summary;
                let info = CommitInfo {
                    committer: summary.committer.into(),
                    epoch: staged.epoch(),
                    joined: leaves(&summary.joined()),
                    removed: leaves(&summary.removed),
                    updated: leaves(&summary.updated),
                    self_removed: summary.self_removed,
                    path_updated: summary.path_updated,
                };
                Self::Commit {
                    staged: Arc::new(StagedCommit {
                        inner: Mutex::new(Some(*staged)),
                    }),
                    info,
                    supersedes_own,
                }
            }
            Event::OwnCommitMerged { epoch } => Self::OwnCommitMerged { epoch },
            Event::OwnMessageEcho { epoch, kind } => Self::OwnMessageEcho {
                epoch,
                kind: match kind {
                    MessageKind::Application => EchoKind::Application,
                    MessageKind::Proposal => EchoKind::Proposal,
                    _ => EchoKind::Other,
                },
            },
            // An event added to the library after these bindings: nothing
            // here can represent it, so say so rather than drop it.
            other => {
                return Err(MlsError::Internal {
                    action: crate::error::ErrorAction::Report,
                    reason: format!("an event these bindings do not know: {other:?}"),
                });
            }
        })
    }
}

fn leaves(list: &[LeafIndex]) -> Vec<u32> {
    list.iter().map(|l| l.0).collect()
}

#[uniffi::export]
impl MlsGroup {
    /// The group id.
    pub fn group_id(&self) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.group_id().to_vec())
    }

    /// The current epoch.
    pub fn epoch(&self) -> Result<u64, MlsError> {
        Ok(lock(&self.inner)?.epoch())
    }

    /// Our own leaf index.
    pub fn own_leaf(&self) -> Result<u32, MlsError> {
        Ok(lock(&self.inner)?.own_leaf().0)
    }

    /// False once we were removed (or left).
    pub fn is_active(&self) -> Result<bool, MlsError> {
        Ok(lock(&self.inner)?.is_active())
    }

    /// The members, by leaf index.
    pub fn members(&self) -> Result<Vec<GroupMember>, MlsError> {
        Ok(lock(&self.inner)?
            .members()
            .iter()
            .map(|m| GroupMember {
                leaf: m.index.0,
                identity: identity_of(&m.credential),
            })
            .collect())
    }

    /// The epoch authenticator (RFC 9420 §8.7): equal for every member in
    /// the same epoch of the same group.
    pub fn epoch_authenticator(&self) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.epoch_authenticator().to_vec())
    }

    /// A secret exported from the epoch (RFC 9420 §8.5).
    pub fn export_secret(
        &self,
        label: String,
        context: Vec<u8>,
        length: u32,
    ) -> Result<Vec<u8>, MlsError> {
        let secret = lock(&self.inner)?.export_secret(&label, &context, length as usize)?;
        Ok(secret.as_bytes().to_vec())
    }

    /// The ratchet tree, for joiners whose Welcome does not carry it.
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.ratchet_tree()?)
    }

    /// A signed GroupInfo (an MLSMessage) for external joiners, with the
    /// ratchet tree in it if `with_tree`.
    pub fn group_info(&self, with_tree: bool) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.group_info(with_tree)?)
    }

    /// Adds the members of `key_packages` (MLSMessages) in one commit.
    pub fn add(&self, key_packages: Vec<Vec<u8>>) -> Result<CommitBundle, MlsError> {
        let refs: Vec<&[u8]> = key_packages.iter().map(Vec::as_slice).collect();
        Ok(lock(&self.inner)?.add(&refs)?.into())
    }

    /// Removes the member at `leaf` (not ourselves: see `leave`).
    pub fn remove(&self, leaf: u32) -> Result<CommitBundle, MlsError> {
        Ok(lock(&self.inner)?.remove(LeafIndex(leaf))?.into())
    }

    /// Refreshes our own keys: a commit with a fresh path.
    pub fn update(&self) -> Result<CommitBundle, MlsError> {
        Ok(lock(&self.inner)?.update()?.into())
    }

    /// Commits the proposals received this epoch (e.g. another member's
    /// request to leave).
    pub fn commit(&self) -> Result<CommitBundle, MlsError> {
        Ok(lock(&self.inner)?.commit()?.into())
    }

    /// Merges our pending commit (the delivery service accepted it without
    /// echoing it); returns the new epoch.
    pub fn merge_pending(&self) -> Result<u64, MlsError> {
        let mut group = lock(&self.inner)?;
        group.merge_pending()?;
        Ok(group.epoch())
    }

    /// Drops our pending commit (the delivery service refused it); whether
    /// there was one.
    pub fn discard_pending(&self) -> Result<bool, MlsError> {
        Ok(lock(&self.inner)?.discard_pending())
    }

    /// Whether a commit of ours awaits merging.
    pub fn has_pending_commit(&self) -> Result<bool, MlsError> {
        Ok(lock(&self.inner)?.has_pending_commit())
    }

    /// Merges a commit `process` staged in the current epoch; our pending
    /// commit, if any, is discarded. A staged commit merges once: a second
    /// merge fails with `ApiMisuse`.
    pub fn merge(&self, staged: Arc<StagedCommit>) -> Result<(), MlsError> {
        let mut group = lock(&self.inner)?;
        let commit = lock(&staged.inner)?
            .take()
            .ok_or_else(|| MlsError::misuse("this staged commit was already merged"))?;
        Ok(group.merge(commit)?)
    }

    /// Encrypts application data as a PrivateMessage (an MLSMessage). The
    /// ratchet step is stored before the ciphertext is returned.
    pub fn encrypt(
        &self,
        plaintext: Vec<u8>,
        authenticated_data: Vec<u8>,
    ) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.encrypt(&plaintext, &authenticated_data)?)
    }

    /// Processes a message from the delivery service. The error's action
    /// says what to do with a message that fails (`Buffer` one from a
    /// future epoch, `Drop` a replay, ...).
    pub fn process(&self, message: Vec<u8>) -> Result<MlsEvent, MlsError> {
        let event = lock(&self.inner)?.process(&message)?;
        MlsEvent::from_event(event)
    }

    /// Asks to leave: a proposal for another member to commit. Until then
    /// we stay a member and refuse to commit; send the message to the
    /// group.
    pub fn leave(&self) -> Result<Vec<u8>, MlsError> {
        Ok(lock(&self.inner)?.leave()?)
    }

    /// Whether we asked to leave and no commit has covered it yet.
    pub fn is_leaving(&self) -> Result<bool, MlsError> {
        Ok(lock(&self.inner)?.is_leaving())
    }
}

impl MlsGroup {
    pub(crate) fn wrap(group: Group) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(group),
        })
    }
}
