//! The authentication service hook (§5.3.1): the library asks the
//! application whether a credential is acceptable wherever the RFC requires
//! credentials to be validated.

use crate::crypto::SignaturePublicKey;
use crate::crypto::credential::Credential;

/// Validates credentials for the application's authentication service.
///
/// Called for every member of a group being joined, for each new member
/// (Add), each replaced leaf (Update and commit paths) and each external
/// joiner. Return `Err` with a reason to reject.
pub trait CredentialValidator: Send + Sync {
    /// Whether `credential` with `signature_key` is acceptable.
    fn validate(
        &self,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), String>;
}

/// The default: basic credentials are accepted as they are (the
/// application binds identities elsewhere); other types are rejected.
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptBasic;

impl CredentialValidator for AcceptBasic {
    fn validate(
        &self,
        credential: &Credential,
        _signature_key: &SignaturePublicKey,
    ) -> Result<(), String> {
        match credential {
            Credential::Basic { .. } => Ok(()),
            other => Err(format!(
                "credential type {:?} needs an application validator",
                other.credential_type()
            )),
        }
    }
}
