//! What the engine tells the application's credential validator (§5.3.1),
//! and what the validator answers: shared by the engine and [`crate::Error`].

use crate::crypto::CipherSuite;
use crate::types::math::LeafIndex;

/// Why the engine asks the validator about a credential (§5.3.1 lists the
/// events at which a new credential must be validated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialUse {
    /// A key package this member is about to add or propose to add.
    KeyPackage,
    /// A member added by a received Add proposal or by a commit.
    Add,
    /// A member's new leaf in an Update proposal.
    Update,
    /// The committer's new leaf in a commit's UpdatePath.
    CommitPath,
    /// The leaf of a joiner's external commit.
    ExternalJoin,
    /// An entry of the `external_senders` extension, when it is introduced
    /// or changed, and when that sender proposes.
    ExternalSender,
    /// A member of a tree this member imports to join (Welcome or external
    /// commit).
    TreeImport,
}

/// Where and why the validator is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationContext<'a> {
    /// Why the credential is being checked.
    pub purpose: CredentialUse,
    /// The group id.
    pub group_id: &'a [u8],
    /// The epoch the message or tree belongs to.
    pub epoch: u64,
    /// The leaf concerned (the member's current or future leaf), or the
    /// index of the external sender for [`CredentialUse::ExternalSender`].
    pub leaf: Option<LeafIndex>,
    /// Set when the credential shown is one binding of a multi-credential
    /// (draft-ietf-mls-extensions, Multi-Credentials): the validator is
    /// shown each bound credential, with its `credential_key`, instead of
    /// the multi-credential itself.
    pub binding: Option<BindingPosition>,
}

/// Which binding of a multi-credential the validator is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BindingPosition {
    /// Its index among the credential's bindings.
    pub index: usize,
    /// The binding's cipher suite (not necessarily the group's).
    pub cipher_suite: CipherSuite,
    /// Whether the credential is `weak-multi`. The draft requires only the
    /// bindings "that this client supports" of a weak-multi credential to
    /// be valid: a validator that does not support this binding's
    /// credential type may accept it unexamined; one that supports it must
    /// check it as a leaf's credential.
    pub weak: bool,
}

/// The application's refusal, carried unchanged to the caller in
/// [`Error::Rejected`](crate::Error::Rejected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Why the credential (or the change of credential) was refused.
    pub reason: String,
}

impl Rejection {
    /// A refusal with `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}
