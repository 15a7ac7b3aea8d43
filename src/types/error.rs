//! The one error type of the crate.

use crate::codec::{DecodeError, EncodeError};
use crate::crypto::CryptoError;

/// Broad class of an [`Error`], for callers that react per kind of fault.
/// [`Error::action`] says what to do about one error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Input bytes did not decode.
    MalformedInput,
    /// Input decoded but broke a rule of RFC 9420.
    ProtocolViolation,
    /// A message of another epoch than the group's ([`Error::WrongEpoch`]).
    WrongEpoch,
    /// A message meant for another group or client ([`Error::NotForUs`]).
    NotForUs,
    /// A message already processed, received again ([`Error::Replay`]).
    Replay,
    /// A key package or leaf outside its lifetime ([`Error::Expired`]).
    Expired,
    /// Valid MLS that this library or its provider does not support.
    Unsupported,
    /// The caller used the API in a way it does not allow.
    ApiMisuse,
    /// A cryptographic operation failed (bad signature, tag, key).
    Crypto,
    /// The application's credential validator refused a credential: the
    /// message or join was dropped, nothing changed.
    Rejected,
    /// An observer cannot apply the message yet: it is for a branch of the
    /// group no member has confirmed ([`Error::Unconfirmed`]).
    Unconfirmed,
    /// The storage backend failed.
    Storage,
    /// An internal invariant was broken: a bug in this library.
    Internal,
}

/// What the application does about an [`Error`] ([`Error::action`]).
///
/// Every error leaves the group as it was, so each action concerns only
/// the input that failed (the message, Welcome or argument) and, for
/// [`Action::Resync`], the member's place in the group. `docs/errors.md`
/// lists which error leads to which action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Discard the input: it is harmless and cannot become useful (a
    /// replay, a message of a past epoch, one meant for someone else).
    Drop,
    /// Keep the message and process it again after the next commit is
    /// merged: it belongs to a future epoch. If commits stop arriving and
    /// the message stays in the future, this member missed a commit the
    /// others merged: [`Action::Resync`].
    Buffer,
    /// This member can no longer follow the group: rejoin by external
    /// commit from a current GroupInfo, removing the old leaf
    /// ([`Client::rejoin_device`](crate::Client::rejoin_device), or
    /// [`Client::join_by_external_commit`](crate::Client::join_by_external_commit)
    /// with the leaf found by hand).
    Resync,
    /// The input broke the protocol or the application's policy: drop it
    /// and report the sender (named in the error where known) to the
    /// operator or user. Retrying the same input fails the same way.
    Report,
    /// The call itself was wrong (wrong kind of message, a removed or
    /// closed group, a value too large to encode): change the call; the
    /// message says what to change.
    FixCall,
    /// The storage backend failed: retry the operation when it is back;
    /// nothing was changed in memory.
    Retry,
    /// The storage may or may not hold the last write, and refuses further
    /// writes: drop the `Client` and its `Group`s and open the storage
    /// again ([`Error::StorageUncertain`]). The groups load as they were
    /// last stored; retrying without reopening fails the same way.
    Reopen,
}

/// Whether a message of the wrong epoch is from the past or the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EpochTiming {
    /// Sent in an epoch the group has left: it can never be processed.
    Past,
    /// Sent in an epoch the group has not reached: it may become
    /// processable once the commits before it are merged.
    Future,
}

/// Why a message is [`Error::NotForUs`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotForUs {
    /// A group message whose `group_id` is another group's (§6).
    OtherGroup {
        /// The group id the message carries.
        group_id: Vec<u8>,
    },
    /// A Welcome whose secrets are for none of this client's key packages
    /// (§12.4.3.1): it adds other people, or a key package already used.
    Welcome {
        /// The `KeyPackageRef`s the Welcome has secrets for.
        key_package_refs: Vec<Vec<u8>>,
    },
}

impl std::fmt::Display for NotForUs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OtherGroup { group_id } => write!(
                f,
                "the message is for group {} (RFC 9420 §6: group_id differs)",
                short_hex(group_id)
            ),
            Self::Welcome { key_package_refs } => write!(
                f,
                "the Welcome has secrets for {} key package(s), none of them this client's \
                 (RFC 9420 §12.4.3.1): it adds someone else, or a key package already used",
                key_package_refs.len()
            ),
        }
    }
}

/// The first bytes of `bytes` in hex, enough to tell ids apart in a message.
fn short_hex(bytes: &[u8]) -> String {
    let mut s: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 8 {
        s.push('…');
    }
    s
}

/// Everything that can go wrong in arbor-mls.
///
/// Variants name the culprit: the field path for malformed input, the RFC
/// section and offending leaf or epoch for protocol violations. Whatever
/// the variant, the group is as it was before the failed call.
/// [`Error::action`] says what the application does next:
///
/// | Variant | Action |
/// |---|---|
/// | [`WrongEpoch`](Error::WrongEpoch) from the past | [`Action::Drop`] |
/// | [`WrongEpoch`](Error::WrongEpoch) from the future, [`Unconfirmed`](Error::Unconfirmed) | [`Action::Buffer`] |
/// | [`NotForUs`](Error::NotForUs), [`Replay`](Error::Replay), [`Expired`](Error::Expired) | [`Action::Drop`] |
/// | [`Malformed`](Error::Malformed), [`Protocol`](Error::Protocol), [`Crypto`](Error::Crypto), [`Rejected`](Error::Rejected), [`Unsupported`](Error::Unsupported), [`Limit`](Error::Limit), [`Internal`](Error::Internal) | [`Action::Report`] |
/// | [`Misuse`](Error::Misuse), [`Encode`](Error::Encode) | [`Action::FixCall`] |
/// | [`Storage`](Error::Storage), [`Conflict`](Error::Conflict) | [`Action::Retry`] |
/// | [`StorageUncertain`](Error::StorageUncertain) | [`Action::Reopen`] |
/// | [`RolledBack`](Error::RolledBack) | [`Action::Resync`] |
///
/// Our own messages echoed by the delivery service are not errors:
/// [`Group::process`](crate::Group::process) reports them as
/// [`Event::OwnCommitMerged`](crate::Event::OwnCommitMerged) and
/// [`Event::OwnMessageEcho`](crate::Event::OwnMessageEcho).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes that do not decode as the expected structure.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// The structure being decoded.
        what: &'static str,
        /// Where and why decoding failed.
        #[source]
        source: DecodeError,
    },
    /// A well-formed message that breaks a MUST of RFC 9420.
    #[error("protocol violation (RFC 9420 {rule}): {detail}")]
    Protocol {
        /// The RFC section whose rule was broken, e.g. `"§6.3.1"`.
        rule: &'static str,
        /// What exactly was wrong, naming leaf, epoch or field.
        detail: String,
    },
    /// A message of another epoch than the group's current one: a
    /// handshake message must be for the current epoch (§12.4.2), and an
    /// application message for the current epoch or a past one whose keys
    /// are still kept (§6.3). Nothing changed. `timing` says whether to
    /// drop it (past) or keep it until the group gets there (future).
    #[error(
        "{kind} message for epoch {message_epoch}, the group is in epoch {group_epoch} \
         (RFC 9420 {rule}{}): {}",
        if *keys_kept { "" } else { ", no keys kept for it" },
        match timing {
            EpochTiming::Past => "from the past, drop it",
            EpochTiming::Future => "from the future, process it again after the next commit",
        }
    )]
    WrongEpoch {
        /// The group's current epoch.
        group_epoch: u64,
        /// The epoch the message was sent in.
        message_epoch: u64,
        /// Past or future.
        timing: EpochTiming,
        /// Application, proposal or commit (visible even when encrypted).
        kind: crate::types::MessageKind,
        /// The rule: `"§12.4.2"` for handshake messages, `"§6.3"` for
        /// application messages.
        rule: &'static str,
        /// For a past application message: whether the epoch's keys were
        /// still kept (false: it came too late; see `GroupConfig::past_epochs`).
        /// True otherwise.
        keys_kept: bool,
    },
    /// The message or Welcome is meant for another group or client; it was
    /// not processed and nothing changed. Drop it (a delivery service that
    /// keeps doing this routes wrongly).
    #[error("not for us: {0}")]
    NotForUs(NotForUs),
    /// A key package or leaf node whose lifetime does not include the
    /// current time (§7.3). Nothing changed: drop the message, or, for a
    /// key package the application passed in, fetch a fresh one.
    #[error(
        "expired (RFC 9420 §7.3): {subject} is valid from {not_before} to {not_after}, \
         and the time is {now}"
    )]
    Expired {
        /// What expired: `"key package leaf"` or `"leaf N"`.
        subject: String,
        /// The leaf concerned, if it is in the group.
        leaf: Option<crate::types::math::LeafIndex>,
        /// Start of the lifetime (seconds since the Unix epoch).
        not_before: u64,
        /// End of the lifetime (seconds since the Unix epoch).
        not_after: u64,
        /// The time it was checked at.
        now: u64,
    },
    /// The application's [`CredentialValidator`](crate::group::authorization::CredentialValidator)
    /// refused a credential, or a change of credential. The message or
    /// join was dropped and the group is unchanged.
    #[error("credential rejected (RFC 9420 {rule}, {purpose:?}{}): {rejection}", leaf.map(|l| format!(", leaf {}", l.0)).unwrap_or_default())]
    Rejected {
        /// The RFC section that requires the decision (`"§5.3.1"` or
        /// `"§12.4.3.2"`).
        rule: &'static str,
        /// Why the validator was asked.
        purpose: crate::types::credential_validation::CredentialUse,
        /// The leaf concerned, if any.
        leaf: Option<crate::types::math::LeafIndex>,
        /// The validator's reason.
        rejection: crate::types::credential_validation::Rejection,
    },
    /// A configured resource limit would be exceeded (see `GroupConfig`);
    /// nothing changed. The limit, its value and what to do are named.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// An observer (`Observer`, the delivery service's view of a group)
    /// refused a message for a branch of the group that no member has
    /// confirmed and that the message would not confirm either: while a
    /// member's commit and an unconfirmed external commit compete for one
    /// epoch, only a message from a member who was in the group before
    /// them is accepted for the branch the observer does not follow (see
    /// `docs/observer.md`). Nothing changed; process it again once a
    /// member's message has settled the branch.
    #[error("unconfirmed branch: {0}")]
    Unconfirmed(String),
    /// A message already processed, received again: a replayed
    /// PublicMessage proposal of another member, or a PrivateMessage whose
    /// key was already used (§9.2). Nothing changed; drop it. (Our own
    /// messages echoed back are not errors: see
    /// [`Event::OwnMessageEcho`](crate::Event::OwnMessageEcho).)
    #[error("replayed message: {0}")]
    Replay(String),
    /// Something valid that is not supported here (e.g. a cipher suite).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The API was used incorrectly.
    #[error("API misuse: {0}")]
    Misuse(String),
    /// A value too large for the wire format.
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
    /// A cryptographic failure.
    #[error("crypto: {0}")]
    Crypto(CryptoError),
    /// A storage backend failure.
    #[error("storage: {0}")]
    Storage(String),
    /// A write or flush failed in a way that leaves unknown what the
    /// storage holds (the batch may or may not be stored), or the storage
    /// lock was poisoned. The storage refuses further writes until it is
    /// reopened ([`Storage::flush`](crate::storage::Storage::flush)), so
    /// retrying cannot help: reopen the client ([`Action::Reopen`]).
    #[error("storage must be reopened: {0}")]
    StorageUncertain(String),
    /// A conditional write ([`Storage::write_if`](crate::storage::Storage::write_if))
    /// found the record changed by another writer (another server sharing
    /// the database): nothing was written. An observer that gets it has
    /// reloaded its state from the storage; processing the message again
    /// decides it against the state the other writer stored
    /// ([`Action::Retry`]).
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// The stored state is older than the application's rollback counter
    /// says it must be (a restored backup, a rolled-back disk, a truncated
    /// log): loading it would send with keys already used. Nothing was
    /// loaded. See [`crate::storage::RollbackGuard`].
    #[error(
        "the storage was rolled back: it holds write {stored}, the rollback counter says \
         write {expected} was made; its groups must not be used (rejoin them by external \
         commit) and the store should be replaced"
    )]
    RolledBack {
        /// The last write the storage holds.
        stored: u64,
        /// The last write the counter recorded.
        expected: u64,
    },
    /// An internal invariant was broken.
    #[error("internal error (a bug in arbor-mls): {0}")]
    Internal(&'static str),
}

impl From<CryptoError> for Error {
    /// A suite the provider lacks is [`Error::Unsupported`] (the input is
    /// fine; this build cannot serve it); every other failure is
    /// [`Error::Crypto`].
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::UnsupportedSuite(suite) => Error::Unsupported(format!(
                "cipher suite {suite:?} is not supported by the provider"
            )),
            e => Error::Crypto(e),
        }
    }
}

impl Error {
    /// The broad class of this error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Malformed { .. } => ErrorCategory::MalformedInput,
            Self::Protocol { .. } => ErrorCategory::ProtocolViolation,
            Self::WrongEpoch { .. } => ErrorCategory::WrongEpoch,
            Self::NotForUs(_) => ErrorCategory::NotForUs,
            Self::Replay(_) => ErrorCategory::Replay,
            Self::Unconfirmed(_) => ErrorCategory::Unconfirmed,
            Self::Expired { .. } => ErrorCategory::Expired,
            Self::Limit(_) => ErrorCategory::Unsupported,
            Self::Unsupported(_) => ErrorCategory::Unsupported,
            Self::Misuse(_) | Self::Encode(_) => ErrorCategory::ApiMisuse,
            Self::Crypto(_) => ErrorCategory::Crypto,
            Self::Rejected { .. } => ErrorCategory::Rejected,
            Self::Storage(_)
            | Self::StorageUncertain(_)
            | Self::RolledBack { .. }
            | Self::Conflict(_) => ErrorCategory::Storage,
            Self::Internal(_) => ErrorCategory::Internal,
        }
    }

    /// What the application does about this error (see [`Action`]).
    pub fn action(&self) -> Action {
        match self {
            Self::WrongEpoch {
                timing: EpochTiming::Future,
                ..
            }
            | Self::Unconfirmed(_) => Action::Buffer,
            Self::WrongEpoch { .. }
            | Self::NotForUs(_)
            | Self::Replay(_)
            | Self::Expired { .. } => Action::Drop,
            Self::Malformed { .. }
            | Self::Protocol { .. }
            | Self::Crypto(_)
            | Self::Rejected { .. }
            | Self::Unsupported(_)
            | Self::Limit(_)
            | Self::Internal(_) => Action::Report,
            Self::Misuse(_) | Self::Encode(_) => Action::FixCall,
            Self::Storage(_) | Self::Conflict(_) => Action::Retry,
            Self::StorageUncertain(_) => Action::Reopen,
            Self::RolledBack { .. } => Action::Resync,
        }
    }

    /// For [`Error::WrongEpoch`]: whether the message is from the past or
    /// the future.
    pub fn epoch_timing(&self) -> Option<EpochTiming> {
        match self {
            Self::WrongEpoch { timing, .. } => Some(*timing),
            _ => None,
        }
    }

    /// A message of `message_epoch` reached a group in `group_epoch`.
    pub(crate) fn wrong_epoch(
        group_epoch: u64,
        message_epoch: u64,
        kind: crate::types::MessageKind,
        keys_kept: bool,
    ) -> Self {
        Self::WrongEpoch {
            group_epoch,
            message_epoch,
            timing: if message_epoch < group_epoch {
                EpochTiming::Past
            } else {
                EpochTiming::Future
            },
            kind,
            rule: if kind == crate::types::MessageKind::Application {
                "§6.3"
            } else {
                "§12.4.2"
            },
            keys_kept,
        }
    }

    /// A protocol violation of the rule in RFC 9420 section `rule`.
    pub fn protocol(rule: &'static str, detail: impl Into<String>) -> Self {
        Self::Protocol {
            rule,
            detail: detail.into(),
        }
    }

    /// The validator refused a credential asked about in `cx`.
    pub fn rejected(
        rule: &'static str,
        cx: &crate::types::credential_validation::ValidationContext<'_>,
        rejection: crate::types::credential_validation::Rejection,
    ) -> Self {
        Self::Rejected {
            rule,
            purpose: cx.purpose,
            leaf: cx.leaf,
            rejection,
        }
    }

    /// Wraps a decode failure of structure `what`.
    pub fn malformed(what: &'static str, source: DecodeError) -> Self {
        Self::Malformed { what, source }
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Decodes exactly one `T` (no trailing bytes), naming `what` on failure.
#[cfg_attr(not(feature = "unstable-internals"), allow(unreachable_pub))]
pub fn decode_exact<T: crate::codec::Decode>(what: &'static str, bytes: &[u8]) -> Result<T> {
    crate::codec::decode_exact(bytes).map_err(|e| Error::malformed(what, e))
}
