//! Errors as the foreign languages see them: one exception class per kind of
//! fault ([`arbor_mls::ErrorCategory`]), each carrying what the application
//! should do about it ([`arbor_mls::Action`]) and the library's message.

use std::sync::{Mutex, MutexGuard};

/// What the application does about an error: [`arbor_mls::Action`]
/// (`docs/errors.md` lists which error leads to which action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorAction {
    /// Discard the input: harmless, and it cannot become useful.
    Drop,
    /// Keep the message and process it again after the next commit.
    Buffer,
    /// This member can no longer follow the group: rejoin by external
    /// commit.
    Resync,
    /// The input broke the protocol or the policy: drop it and report the
    /// sender.
    Report,
    /// The call itself was wrong: change it, as the message says.
    FixCall,
    /// The storage failed: retry when it is back; nothing changed.
    Retry,
    /// The storage may or may not hold the last write: drop the client and
    /// its groups, and open the storage again.
    Reopen,
    /// An action added to the library after these bindings were written:
    /// read the message.
    Other,
}

impl From<arbor_mls::Action> for ErrorAction {
    fn from(action: arbor_mls::Action) -> Self {
        use arbor_mls::Action;
        match action {
            Action::Drop => Self::Drop,
            Action::Buffer => Self::Buffer,
            Action::Resync => Self::Resync,
            Action::Report => Self::Report,
            Action::FixCall => Self::FixCall,
            Action::Retry => Self::Retry,
            Action::Reopen => Self::Reopen,
            _ => Self::Other,
        }
    }
}

/// An error of the library: the variant is its kind
/// ([`arbor_mls::ErrorCategory`]), `action` what to do, `reason` the
/// library's message. (`reason`, not `message`: Kotlin exceptions already
/// have a `message` property, which the generated code fills with both
/// fields.)
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MlsError {
    /// Input bytes did not decode.
    #[error("{reason}")]
    MalformedInput {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// Input decoded but broke a rule of RFC 9420.
    #[error("{reason}")]
    ProtocolViolation {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A message of another epoch than the group's (`Buffer` for a future
    /// one, `Drop` for a past one).
    #[error("{reason}")]
    WrongEpoch {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A message meant for another group or client.
    #[error("{reason}")]
    NotForUs {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A message already processed, received again.
    #[error("{reason}")]
    Replay {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A key package or leaf outside its lifetime.
    #[error("{reason}")]
    Expired {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// Valid MLS that the library does not support.
    #[error("{reason}")]
    Unsupported {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// The API was used in a way it does not allow (also: a wrong storage
    /// encryption key).
    #[error("{reason}")]
    ApiMisuse {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A cryptographic check failed (bad signature, tag, key).
    #[error("{reason}")]
    Crypto {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// The credential validator refused a credential.
    #[error("{reason}")]
    Rejected {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// The storage (the application's callbacks) failed.
    #[error("{reason}")]
    Storage {
        /// What to do: `Retry`, or `Reopen` when the last write may or may
        /// not be stored.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
    /// A broken invariant: a bug in the library or these bindings.
    #[error("{reason}")]
    Internal {
        /// What to do.
        action: ErrorAction,
        /// The library's message.
        reason: String,
    },
}

impl From<arbor_mls::Error> for MlsError {
    fn from(error: arbor_mls::Error) -> Self {
        use arbor_mls::ErrorCategory as C;
        let action = error.action().into();
        let reason = error.to_string();
        match error.category() {
            C::MalformedInput => Self::MalformedInput { action, reason },
            C::ProtocolViolation => Self::ProtocolViolation { action, reason },
            C::WrongEpoch => Self::WrongEpoch { action, reason },
            C::NotForUs => Self::NotForUs { action, reason },
            C::Replay => Self::Replay { action, reason },
            C::Expired => Self::Expired { action, reason },
            C::Unsupported => Self::Unsupported { action, reason },
            C::ApiMisuse => Self::ApiMisuse { action, reason },
            C::Crypto => Self::Crypto { action, reason },
            C::Rejected => Self::Rejected { action, reason },
            C::Storage => Self::Storage { action, reason },
            // An observer's category; the bindings expose no observer. A
            // category added later lands here with its action intact.
            _ => Self::Internal { action, reason },
        }
    }
}

impl MlsError {
    /// A call the bindings refuse before reaching the library.
    pub(crate) fn misuse(reason: impl Into<String>) -> Self {
        Self::ApiMisuse {
            action: ErrorAction::FixCall,
            reason: reason.into(),
        }
    }
}

/// Locks a client's or group's state. A poisoned lock (a panic while it
/// was held, which UniFFI turned into an exception) leaves the state in
/// doubt: the application reopens the client, which reloads from storage.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>, MlsError> {
    mutex.lock().map_err(|_| MlsError::Internal {
        action: ErrorAction::Reopen,
        reason: "an earlier call panicked while holding this object: drop the client and its \
                 groups, and open the storage again"
            .into(),
    })
}
