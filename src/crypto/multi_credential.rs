//! Multi-credentials and credential bindings (draft-ietf-mls-extensions,
//! "Multi-Credentials"): a leaf presents several credentials, each bound
//! to the leaf's signature key by a signature of the credential's own key.
//!
//! On the wire a `multi` or `weak-multi` credential is
//! `CredentialBinding bindings<V>`, which has the bytes of the `opaque<V>`
//! body that [`Credential::Other`] carries: the library keeps it there and
//! parses the bindings when it validates them, so a credential nested
//! inside a credential is never decoded recursively.

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer, wire_struct};
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::{CipherSuite, CryptoError, SignaturePrivateKey, SignaturePublicKey, Suite};

/// The section every multi-credential refusal cites.
pub const MULTI_CREDENTIAL_RULE: &str = "draft-ietf-mls-extensions §Multi-Credentials";

/// The signature label of a binding (draft-ietf-mls-extensions, IANA "MLS
/// Signature Labels"). `SignWithLabel` adds the `"MLS 1.0 "` prefix.
pub const CREDENTIAL_BINDING_LABEL: &str = "CredentialBindingTBS";

/// Most bindings one multi-credential may hold. The draft sets no limit;
/// each binding costs a signature verification at every place the leaf is
/// validated, so a leaf with more is refused.
pub const MAX_BINDINGS: usize = 16;

wire_struct! {
    /// `CredentialBinding`: `credential` with its key `credential_key`, and
    /// `SignWithLabel(credential_key, "CredentialBindingTBS",
    /// CredentialBindingTBS)` in `cipher_suite`, which binds the credential
    /// to the `signature_key` of the leaf that carries it.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct CredentialBinding {
        /// The suite of `credential_key` and of the signature. It need not
        /// be the group's, but every member must support it (`multi`).
        pub cipher_suite: CipherSuite,
        /// The bound credential (never itself a multi-credential here).
        pub credential: Credential,
        /// The key the credential is for.
        pub credential_key: SignaturePublicKey,
        /// The signature over `CredentialBindingTBS`.
        pub signature: Vec<u8>,
    }
}

/// `CredentialBindingTBS`: the binding's fields and the leaf's key.
fn binding_tbs(
    cipher_suite: CipherSuite,
    credential: &Credential,
    credential_key: &SignaturePublicKey,
    signature_key: &SignaturePublicKey,
) -> Result<Vec<u8>, CryptoError> {
    let mut w = Writer::new();
    cipher_suite.encode(&mut w);
    credential.encode(&mut w);
    credential_key.encode(&mut w);
    signature_key.encode(&mut w);
    w.finish().map_err(|e| CryptoError::InputTooLong(e.len))
}

impl CredentialBinding {
    /// Binds `credential` (whose key pair is `credential_private`,
    /// `credential_key`, in `suite`) to the leaf signature key
    /// `signature_key`.
    pub fn sign(
        suite: &Suite,
        credential: Credential,
        credential_key: SignaturePublicKey,
        credential_private: &SignaturePrivateKey,
        signature_key: &SignaturePublicKey,
    ) -> Result<Self, CryptoError> {
        let tbs = binding_tbs(suite.id(), &credential, &credential_key, signature_key)?;
        let signature =
            suite.sign_with_label(credential_private, CREDENTIAL_BINDING_LABEL, &tbs)?;
        Ok(Self {
            cipher_suite: suite.id(),
            credential,
            credential_key,
            signature,
        })
    }

    /// Verifies the binding's signature for a leaf whose signature key is
    /// `signature_key`. `suite` must be the binding's `cipher_suite`.
    pub fn verify(
        &self,
        suite: &Suite,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), CryptoError> {
        if suite.id() != self.cipher_suite {
            return Err(CryptoError::UnsupportedSuite(self.cipher_suite));
        }
        let tbs = binding_tbs(
            self.cipher_suite,
            &self.credential,
            &self.credential_key,
            signature_key,
        )?;
        suite.verify_with_label(
            &self.credential_key,
            CREDENTIAL_BINDING_LABEL,
            &tbs,
            &self.signature,
        )
    }
}

/// Whether `t` is `multi` or `weak-multi`.
pub fn is_multi(t: CredentialType) -> bool {
    t == CredentialType::MULTI || t == CredentialType::WEAK_MULTI
}

/// Why a multi-credential's body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MultiCredentialError {
    /// The bindings do not decode.
    #[error("the bindings do not decode: {0}")]
    Malformed(DecodeError),
    /// No binding at all.
    #[error("a multi-credential without bindings")]
    Empty,
    /// More than [`MAX_BINDINGS`].
    #[error("{0} bindings, more than the limit of {MAX_BINDINGS}")]
    TooMany(usize),
    /// The bindings take more than the 2^30 - 1 bytes of a vector.
    #[error("{0} bytes of bindings, more than a vector holds")]
    TooLong(usize),
    /// A bound credential is itself a multi-credential.
    #[error("binding {0} holds a multi-credential")]
    Nested(usize),
}

impl Credential {
    /// A `multi` credential: every member must support every binding.
    pub fn multi(bindings: &[CredentialBinding]) -> Result<Self, MultiCredentialError> {
        Self::with_bindings(CredentialType::MULTI, bindings)
    }

    /// A `weak-multi` credential: every member must support at least one
    /// binding.
    pub fn weak_multi(bindings: &[CredentialBinding]) -> Result<Self, MultiCredentialError> {
        Self::with_bindings(CredentialType::WEAK_MULTI, bindings)
    }

    fn with_bindings(
        credential_type: CredentialType,
        bindings: &[CredentialBinding],
    ) -> Result<Self, MultiCredentialError> {
        check_bindings(bindings)?;
        let mut w = Writer::new();
        for b in bindings {
            b.encode(&mut w);
        }
        let data = w
            .finish()
            .map_err(|e| MultiCredentialError::TooLong(e.len))?;
        Ok(Self::Other {
            credential_type,
            data,
        })
    }

    /// The bindings of a `multi` or `weak-multi` credential; `None` for
    /// any other type. Refused: a body that does not decode, no binding,
    /// more than [`MAX_BINDINGS`], or a bound multi-credential.
    pub fn bindings(&self) -> Option<Result<Vec<CredentialBinding>, MultiCredentialError>> {
        match self {
            Self::Other {
                credential_type,
                data,
            } if is_multi(*credential_type) => Some(parse_bindings(data)),
            _ => None,
        }
    }
}

fn parse_bindings(data: &[u8]) -> Result<Vec<CredentialBinding>, MultiCredentialError> {
    let mut r = Reader::new(data);
    let mut bindings = Vec::new();
    while !r.is_empty() {
        if bindings.len() == MAX_BINDINGS {
            // Count the rest only as far as needed to report it.
            return Err(MultiCredentialError::TooMany(MAX_BINDINGS + 1));
        }
        let binding = CredentialBinding::decode(&mut r)
            .map_err(|e| MultiCredentialError::Malformed(e.within("bindings")))?;
        bindings.push(binding);
    }
    check_bindings(&bindings)?;
    Ok(bindings)
}

fn check_bindings(bindings: &[CredentialBinding]) -> Result<(), MultiCredentialError> {
    if bindings.is_empty() {
        return Err(MultiCredentialError::Empty);
    }
    if bindings.len() > MAX_BINDINGS {
        return Err(MultiCredentialError::TooMany(bindings.len()));
    }
    // A binding of a binding would make validation recursive; the draft
    // gives no use for it.
    match bindings
        .iter()
        .position(|b| is_multi(b.credential.credential_type()))
    {
        Some(i) => Err(MultiCredentialError::Nested(i)),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "multi_credential_tests.rs"]
mod tests;
