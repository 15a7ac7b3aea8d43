//! `MessageKind`: what an MLSMessage carries, as the API and errors name it.

/// What an MLSMessage carries. Visible without keys, also for an encrypted
/// PrivateMessage (its content type is sent in the clear, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// Application data (always a PrivateMessage).
    Application,
    /// A proposal.
    Proposal,
    /// A commit.
    Commit,
    /// A Welcome for new members.
    Welcome,
    /// A GroupInfo (for external joins).
    GroupInfo,
    /// A key package.
    KeyPackage,
}

impl MessageKind {
    /// Whether this kind is processed by a group ([`crate::Group::process`]):
    /// application messages, proposals and commits.
    pub fn is_group_message(self) -> bool {
        matches!(self, Self::Application | Self::Proposal | Self::Commit)
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Application => "application",
            Self::Proposal => "proposal",
            Self::Commit => "commit",
            Self::Welcome => "Welcome",
            Self::GroupInfo => "GroupInfo",
            Self::KeyPackage => "KeyPackage",
        })
    }
}
