//! The KEM of an HPKE suite: a DHKEM of RFC 9180 (module `dhkem`) or, with
//! the feature `pq`, a post-quantum or hybrid KEM of draft-ietf-hpke-pq
//! (module `pq_kem`). HPKE's key schedule, seal, open and export are the
//! same for both; only these operations differ.

use super::dhkem::DhKem;
#[cfg(feature = "pq")]
use super::pq_kem::PqKem;
use crate::crypto::{CryptoError, RandomSource, Secret};

/// An HPKE KEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kem {
    /// DHKEM (RFC 9180 §4.1).
    Dh(DhKem),
    /// ML-KEM or an ML-KEM hybrid (draft-ietf-hpke-pq).
    #[cfg(feature = "pq")]
    Pq(PqKem),
}

impl Kem {
    /// The KEM identifier.
    pub(super) fn id(self) -> u16 {
        match self {
            Self::Dh(kem) => kem.id(),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.id(),
        }
    }

    /// `DeriveKeyPair(ikm)`: `(sk, pk)`, both serialized.
    pub(super) fn derive_key_pair(self, ikm: &[u8]) -> Result<(Secret, Vec<u8>), CryptoError> {
        match self {
            Self::Dh(kem) => kem.derive_key_pair(ikm),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.derive_key_pair(ikm),
        }
    }

    /// `SerializePublicKey(pk(sk))`.
    pub(super) fn public_key(self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Dh(kem) => kem.public_key(sk),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.public_key(sk),
        }
    }

    /// `DeserializePublicKey` checks.
    pub(super) fn check_public_key(self, pk: &[u8]) -> Result<(), CryptoError> {
        match self {
            Self::Dh(kem) => kem.check_public_key(pk),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.check_public_key(pk),
        }
    }

    /// `Encap(pkR)`: `(shared_secret, enc)`.
    pub(super) fn encap(
        self,
        pk_r: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        match self {
            Self::Dh(kem) => kem.encap(pk_r, rng),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.encap(pk_r, rng),
        }
    }

    /// `Decap(enc, skR)`.
    pub(super) fn decap(self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        match self {
            Self::Dh(kem) => kem.decap(enc, sk_r),
            #[cfg(feature = "pq")]
            Self::Pq(kem) => kem.decap(enc, sk_r),
        }
    }
}
