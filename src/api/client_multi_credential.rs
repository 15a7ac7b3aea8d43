//! A client whose leaves present a multi-credential
//! (draft-ietf-mls-extensions, Multi-Credentials): the builder signs one
//! binding per credential once the leaf signature key is known, and the
//! leaves advertise what the bindings need.

use super::ClientBuilder;
use crate::crypto::credential::{Credential, CredentialType};
use crate::crypto::multi_credential::{CredentialBinding, MULTI_CREDENTIAL_RULE};
use crate::crypto::{CipherSuite, CryptoProvider, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::tree::leaf_node::Capabilities;
use crate::{Error, Result};

/// A credential the client holds in some cipher suite, with its key pair,
/// to be bound to the client's leaf signature key.
pub struct BoundCredential {
    /// The suite of the key pair (the group's or any other the provider
    /// has).
    pub cipher_suite: CipherSuite,
    /// The credential.
    pub credential: Credential,
    /// Its public key.
    pub public: SignaturePublicKey,
    /// Its private key, used once to sign the binding.
    pub private: SignaturePrivateKey,
}

impl std::fmt::Debug for BoundCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundCredential")
            .field("cipher_suite", &self.cipher_suite)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// What [`ClientBuilder::multi_credential`] was given.
pub(super) struct MultiSpec {
    weak: bool,
    bound: Vec<BoundCredential>,
}

impl MultiSpec {
    /// Whether `stored` (a restored client's credential) is the
    /// multi-credential this spec describes: same type, and the same
    /// credentials and keys in the same order (the signatures differ when
    /// the scheme is randomized).
    pub(super) fn matches(&self, stored: &Credential) -> bool {
        let t = if self.weak {
            CredentialType::WEAK_MULTI
        } else {
            CredentialType::MULTI
        };
        let Some(Ok(bindings)) = stored.bindings() else {
            return false;
        };
        stored.credential_type() == t
            && bindings.len() == self.bound.len()
            && bindings.iter().zip(&self.bound).all(|(b, c)| {
                b.cipher_suite == c.cipher_suite
                    && b.credential == c.credential
                    && b.credential_key == c.public
            })
    }

    /// The multi-credential for the leaf signature key `signature_key`.
    pub(super) fn sign(
        self,
        provider: &dyn CryptoProvider,
        signature_key: &SignaturePublicKey,
    ) -> Result<Credential> {
        let mut bindings = Vec::with_capacity(self.bound.len());
        for c in self.bound {
            let suite = Suite::from_provider(provider, c.cipher_suite)?;
            bindings.push(CredentialBinding::sign(
                &suite,
                c.credential,
                c.public,
                &c.private,
                signature_key,
            )?);
        }
        let made = if self.weak {
            Credential::weak_multi(&bindings)
        } else {
            Credential::multi(&bindings)
        };
        made.map_err(|e| Error::Misuse(format!("{MULTI_CREDENTIAL_RULE}: {e}")))
    }
}

/// Lists in `capabilities` the suites and credential types of the
/// bindings of `credential`, if it is a multi-credential: the leaf is a
/// member too, and every member must support them (all of them for
/// `multi`, at least one for `weak-multi`; listing all is simplest).
pub(super) fn advertise_bindings(credential: &Credential, capabilities: &mut Capabilities) {
    let Some(Ok(bindings)) = credential.bindings() else {
        return;
    };
    for b in bindings {
        if !capabilities.cipher_suites.contains(&b.cipher_suite) {
            capabilities.cipher_suites.push(b.cipher_suite);
        }
        let t = b.credential.credential_type();
        if !capabilities.credentials.contains(&t) {
            capabilities.credentials.push(t);
        }
    }
}

impl ClientBuilder {
    /// Present a multi-credential (draft-ietf-mls-extensions,
    /// Multi-Credentials) instead of a basic one: one binding for each of
    /// `bound`, signed by its key over the client's leaf signature key when
    /// the client is built; `weak` chooses `weak-multi` (every member
    /// supports at least one binding) over `multi` (every member supports
    /// every binding). Our leaves then list `multi` or `weak-multi` and
    /// each binding's suite and credential type in their capabilities.
    /// The [`CredentialValidator`](crate::api::CredentialValidator) is
    /// shown each bound credential, not the multi-credential. At most
    /// [`MAX_BINDINGS`](crate::crypto::multi_credential::MAX_BINDINGS);
    /// none, too many, or a suite the provider lacks make `build` fail.
    /// With a storage that already holds a client, that client is
    /// restored if its credential binds the same credentials and keys.
    pub fn multi_credential(mut self, weak: bool, bound: Vec<BoundCredential>) -> Self {
        self.multi = Some(MultiSpec { weak, bound });
        self
    }
}
