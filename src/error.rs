//! The one error type of the crate.

use crate::codec::{DecodeError, EncodeError};
use crate::crypto::CryptoError;

/// Broad class of an [`Error`], for callers that react per kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Input bytes did not decode.
    MalformedInput,
    /// Input decoded but broke a rule of RFC 9420.
    ProtocolViolation,
    /// Valid MLS that this library or its provider does not support.
    Unsupported,
    /// The caller used the API in a way it does not allow.
    ApiMisuse,
    /// A cryptographic operation failed (bad signature, tag, key).
    Crypto,
    /// The application's credential validator refused a credential: the
    /// message or join was dropped, nothing changed.
    Rejected,
    /// The storage backend failed.
    Storage,
    /// An internal invariant was broken: a bug in this library.
    Internal,
}

/// Everything that can go wrong in arbor-mls.
///
/// Variants name the culprit: the field path for malformed input, the RFC
/// section and offending leaf or epoch for protocol violations.
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
    /// The application's [`CredentialValidator`](crate::group::authorization::CredentialValidator)
    /// refused a credential, or a change of credential. The message or
    /// join was dropped and the group is unchanged.
    #[error("credential rejected (RFC 9420 {rule}, {purpose:?}{}): {rejection}", leaf.map(|l| format!(", leaf {}", l.0)).unwrap_or_default())]
    Rejected {
        /// The RFC section that requires the decision (`"§5.3.1"` or
        /// `"§12.4.3.2"`).
        rule: &'static str,
        /// Why the validator was asked.
        purpose: crate::group::authorization::CredentialUse,
        /// The leaf concerned, if any.
        leaf: Option<crate::tree::math::LeafIndex>,
        /// The validator's reason.
        rejection: crate::group::authorization::Rejection,
    },
    /// A configured resource limit would be exceeded (see `GroupConfig`);
    /// nothing changed. The limit, its value and what to do are named.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A message already processed, received again: a replayed
    /// PublicMessage proposal, or our own proposal echoed back by the
    /// delivery service (it was cached when we sent it). Nothing changed;
    /// drop it.
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
    Crypto(#[from] CryptoError),
    /// A storage backend failure.
    #[error("storage: {0}")]
    Storage(String),
    /// An internal invariant was broken.
    #[error("internal error (a bug in arbor-mls): {0}")]
    Internal(&'static str),
}

impl Error {
    /// The broad class of this error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Malformed { .. } => ErrorCategory::MalformedInput,
            Self::Protocol { .. } | Self::Replay(_) => ErrorCategory::ProtocolViolation,
            Self::Limit(_) => ErrorCategory::Unsupported,
            Self::Unsupported(_) => ErrorCategory::Unsupported,
            Self::Misuse(_) | Self::Encode(_) => ErrorCategory::ApiMisuse,
            Self::Crypto(_) => ErrorCategory::Crypto,
            Self::Rejected { .. } => ErrorCategory::Rejected,
            Self::Storage(_) => ErrorCategory::Storage,
            Self::Internal(_) => ErrorCategory::Internal,
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
        cx: &crate::group::authorization::ValidationContext<'_>,
        rejection: crate::group::authorization::Rejection,
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
