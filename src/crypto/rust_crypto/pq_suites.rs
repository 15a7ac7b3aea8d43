//! The eleven cipher suites of draft-ietf-mls-pq-ciphersuites (feature
//! `pq`), their codepoints, and the provider that offers them next to the
//! seven of RFC 9420.
//!
//! IANA has assigned no codepoints yet (the draft says TBD1..TBD11), and
//! implementations that ship these suites use numbers of their own. So the
//! codepoints are data, not constants: a [`PqCodepoints`] maps each
//! [`PqSuite`] to the `CipherSuite` value used on the wire. The default puts
//! TBDn at `0xF000 + n` (0xF001..0xF00B), in the range RFC 9420 §17.1
//! reserves for private use; [`PqCodepoints::with`] installs another
//! implementation's numbers. The mapping lives in the provider
//! ([`PqRustCryptoProvider`]), which the group reaches through `dyn
//! CryptoProvider` like any other, so the group type stays non-generic.

use std::sync::Arc;

use super::aead::AeadAlgorithm;
use super::hash::HashAlgorithm;
use super::kem::Kem;
use super::pq_kem::PqKem;
use super::signature::SignatureScheme;
use super::{RustSuite, SUPPORTED};
use crate::crypto::{CipherSuite, CryptoProvider, SuiteCrypto};

/// A cipher suite of draft-ietf-mls-pq-ciphersuites, by its place in the
/// draft's table (TBD1..TBD11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PqSuite {
    /// TBD1: MLKEM768-X25519, AES-128-GCM, SHA-256, Ed25519.
    Mlkem768X25519Aes128GcmSha256Ed25519,
    /// TBD2: MLKEM768-X25519, AES-256-GCM, SHA-384, Ed25519.
    Mlkem768X25519Aes256GcmSha384Ed25519,
    /// TBD3: MLKEM768-P256, AES-128-GCM, SHA-256, ECDSA P-256.
    Mlkem768P256Aes128GcmSha256P256,
    /// TBD4: MLKEM768-P256, AES-256-GCM, SHA-384, ECDSA P-256.
    Mlkem768P256Aes256GcmSha384P256,
    /// TBD5: MLKEM1024-P384, AES-256-GCM, SHA-384, ECDSA P-384.
    Mlkem1024P384Aes256GcmSha384P384,
    /// TBD6: ML-KEM-768, AES-256-GCM, SHA-384, Ed25519.
    Mlkem768Aes256GcmSha384Ed25519,
    /// TBD7: ML-KEM-768, AES-256-GCM, SHA-384, ECDSA P-256.
    Mlkem768Aes256GcmSha384P256,
    /// TBD8: ML-KEM-1024, AES-256-GCM, SHA-384, ECDSA P-384.
    Mlkem1024Aes256GcmSha384P384,
    /// TBD9: MLKEM768-X25519, ChaCha20-Poly1305, SHA-384, ML-DSA-44.
    Mlkem768X25519Chacha20Poly1305Sha384Mldsa44,
    /// TBD10: ML-KEM-768, AES-256-GCM, SHA-384, ML-DSA-65.
    Mlkem768Aes256GcmSha384Mldsa65,
    /// TBD11: ML-KEM-1024, AES-256-GCM, SHA-384, ML-DSA-87.
    Mlkem1024Aes256GcmSha384Mldsa87,
}

impl PqSuite {
    /// All eleven, in the draft's order (TBD1 first).
    pub const ALL: [PqSuite; 11] = [
        Self::Mlkem768X25519Aes128GcmSha256Ed25519,
        Self::Mlkem768X25519Aes256GcmSha384Ed25519,
        Self::Mlkem768P256Aes128GcmSha256P256,
        Self::Mlkem768P256Aes256GcmSha384P256,
        Self::Mlkem1024P384Aes256GcmSha384P384,
        Self::Mlkem768Aes256GcmSha384Ed25519,
        Self::Mlkem768Aes256GcmSha384P256,
        Self::Mlkem1024Aes256GcmSha384P384,
        Self::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44,
        Self::Mlkem768Aes256GcmSha384Mldsa65,
        Self::Mlkem1024Aes256GcmSha384Mldsa87,
    ];

    /// The `n` of the draft's placeholder `TBDn` (1..=11).
    pub fn tbd(self) -> u16 {
        match self {
            Self::Mlkem768X25519Aes128GcmSha256Ed25519 => 1,
            Self::Mlkem768X25519Aes256GcmSha384Ed25519 => 2,
            Self::Mlkem768P256Aes128GcmSha256P256 => 3,
            Self::Mlkem768P256Aes256GcmSha384P256 => 4,
            Self::Mlkem1024P384Aes256GcmSha384P384 => 5,
            Self::Mlkem768Aes256GcmSha384Ed25519 => 6,
            Self::Mlkem768Aes256GcmSha384P256 => 7,
            Self::Mlkem1024Aes256GcmSha384P384 => 8,
            Self::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44 => 9,
            Self::Mlkem768Aes256GcmSha384Mldsa65 => 10,
            Self::Mlkem1024Aes256GcmSha384Mldsa87 => 11,
        }
    }

    /// The name the draft registers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlkem768X25519Aes128GcmSha256Ed25519 => {
                "MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519"
            }
            Self::Mlkem768X25519Aes256GcmSha384Ed25519 => {
                "MLS_128_MLKEM768X25519_AES256GCM_SHA384_Ed25519"
            }
            Self::Mlkem768P256Aes128GcmSha256P256 => "MLS_128_MLKEM768P256_AES128GCM_SHA256_P256",
            Self::Mlkem768P256Aes256GcmSha384P256 => "MLS_128_MLKEM768P256_AES256GCM_SHA384_P256",
            Self::Mlkem1024P384Aes256GcmSha384P384 => "MLS_192_MLKEM1024P384_AES256GCM_SHA384_P384",
            Self::Mlkem768Aes256GcmSha384Ed25519 => "MLS_128_MLKEM768_AES256GCM_SHA384_Ed25519",
            Self::Mlkem768Aes256GcmSha384P256 => "MLS_128_MLKEM768_AES256GCM_SHA384_P256",
            Self::Mlkem1024Aes256GcmSha384P384 => "MLS_192_MLKEM1024_AES256GCM_SHA384_P384",
            Self::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44 => {
                "MLS_128_MLKEM768X25519_CHACHA20POLY1305_SHA384_MLDSA44"
            }
            Self::Mlkem768Aes256GcmSha384Mldsa65 => "MLS_192_MLKEM768_AES256GCM_SHA384_MLDSA65",
            Self::Mlkem1024Aes256GcmSha384Mldsa87 => "MLS_256_MLKEM1024_AES256GCM_SHA384_MLDSA87",
        }
    }

    /// The default codepoint: `0xF000 + n` for TBDn (private use).
    pub fn default_codepoint(self) -> CipherSuite {
        CipherSuite(0xF000 + self.tbd())
    }

    /// The primitives, as the draft's second table lists them. The HPKE
    /// KDF is HKDF with the suite's hash in every row (0x0001 with SHA256,
    /// 0x0002 with SHA384).
    pub(super) fn primitives(self) -> (Kem, HashAlgorithm, AeadAlgorithm, SignatureScheme) {
        use AeadAlgorithm::{Aes128Gcm, Aes256Gcm, ChaCha20Poly1305};
        use HashAlgorithm::{Sha256, Sha384};
        use PqKem::{MlKem768, MlKem768P256, MlKem768X25519, MlKem1024, MlKem1024P384};
        use SignatureScheme::{EcdsaP256, EcdsaP384, Ed25519, MlDsa44, MlDsa65, MlDsa87};
        let (kem, hash, aead, signature) = match self {
            Self::Mlkem768X25519Aes128GcmSha256Ed25519 => {
                (MlKem768X25519, Sha256, Aes128Gcm, Ed25519)
            }
            Self::Mlkem768X25519Aes256GcmSha384Ed25519 => {
                (MlKem768X25519, Sha384, Aes256Gcm, Ed25519)
            }
            Self::Mlkem768P256Aes128GcmSha256P256 => (MlKem768P256, Sha256, Aes128Gcm, EcdsaP256),
            Self::Mlkem768P256Aes256GcmSha384P256 => (MlKem768P256, Sha384, Aes256Gcm, EcdsaP256),
            Self::Mlkem1024P384Aes256GcmSha384P384 => (MlKem1024P384, Sha384, Aes256Gcm, EcdsaP384),
            Self::Mlkem768Aes256GcmSha384Ed25519 => (MlKem768, Sha384, Aes256Gcm, Ed25519),
            Self::Mlkem768Aes256GcmSha384P256 => (MlKem768, Sha384, Aes256Gcm, EcdsaP256),
            Self::Mlkem1024Aes256GcmSha384P384 => (MlKem1024, Sha384, Aes256Gcm, EcdsaP384),
            Self::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44 => {
                (MlKem768X25519, Sha384, ChaCha20Poly1305, MlDsa44)
            }
            Self::Mlkem768Aes256GcmSha384Mldsa65 => (MlKem768, Sha384, Aes256Gcm, MlDsa65),
            Self::Mlkem1024Aes256GcmSha384Mldsa87 => (MlKem1024, Sha384, Aes256Gcm, MlDsa87),
        };
        (Kem::Pq(kem), hash, aead, signature)
    }

    fn index(self) -> usize {
        usize::from(self.tbd()) - 1
    }
}

/// Why a codepoint cannot be installed for a PQ suite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PqCodepointError {
    /// The value is reserved (0x0000) or one of RFC 9420's seven suites.
    #[error("codepoint {0:?} is reserved or an RFC 9420 suite")]
    Reserved(CipherSuite),
    /// The value is already mapped to another PQ suite.
    #[error("codepoint {0:?} is already used by {1:?}")]
    Duplicate(CipherSuite, PqSuite),
}

/// The wire codepoint of each PQ suite. Every suite has exactly one, no two
/// share one, and none is reserved or an RFC 9420 suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqCodepoints([CipherSuite; 11]);

impl Default for PqCodepoints {
    /// TBDn at `0xF000 + n` ([`PqSuite::default_codepoint`]).
    fn default() -> Self {
        Self(PqSuite::ALL.map(PqSuite::default_codepoint))
    }
}

impl PqCodepoints {
    /// The mapping with `suite` at `codepoint` and every other suite as
    /// before, e.g. to talk to an implementation that numbers it otherwise.
    pub fn with(
        mut self,
        suite: PqSuite,
        codepoint: CipherSuite,
    ) -> Result<Self, PqCodepointError> {
        if codepoint.0 == 0 || SUPPORTED.contains(&codepoint) {
            return Err(PqCodepointError::Reserved(codepoint));
        }
        if let Some(other) = self.suite(codepoint).filter(|other| *other != suite) {
            return Err(PqCodepointError::Duplicate(codepoint, other));
        }
        self.0[suite.index()] = codepoint;
        Ok(self)
    }

    /// The codepoint of `suite`.
    pub fn codepoint(&self, suite: PqSuite) -> CipherSuite {
        self.0[suite.index()]
    }

    /// The PQ suite at `codepoint`, if any.
    pub fn suite(&self, codepoint: CipherSuite) -> Option<PqSuite> {
        PqSuite::ALL
            .into_iter()
            .find(|suite| self.codepoint(*suite) == codepoint)
    }
}

/// The default provider's primitives for RFC 9420's seven suites and the
/// eleven of draft-ietf-mls-pq-ciphersuites, the latter at the codepoints
/// of its [`PqCodepoints`].
///
/// ```ignore
/// let provider = PqRustCryptoProvider::default(); // 0xF001..0xF00B
/// let client = Client::builder("alice")
///     .provider(Arc::new(provider.clone()))
///     .suite(provider.codepoints().codepoint(PqSuite::Mlkem768X25519Aes128GcmSha256Ed25519))
///     .build()?;
/// ```
#[derive(Debug, Clone, Default)]
pub struct PqRustCryptoProvider {
    codepoints: PqCodepoints,
}

impl PqRustCryptoProvider {
    /// A provider with the PQ suites at `codepoints`.
    pub fn new(codepoints: PqCodepoints) -> Self {
        Self { codepoints }
    }

    /// The codepoints in use.
    pub fn codepoints(&self) -> &PqCodepoints {
        &self.codepoints
    }
}

impl CryptoProvider for PqRustCryptoProvider {
    fn suite(&self, suite: CipherSuite) -> Option<Arc<dyn SuiteCrypto>> {
        let primitives = RustSuite::rfc9420(suite)
            .or_else(|| self.codepoints.suite(suite).map(PqSuite::primitives))?;
        Some(Arc::new(RustSuite::from_primitives(suite, primitives)))
    }

    /// RFC 9420's seven in [`RustCryptoProvider`](super::RustCryptoProvider)'s
    /// order, then the PQ suites in the draft's order.
    fn supported_suites(&self) -> Vec<CipherSuite> {
        SUPPORTED
            .into_iter()
            .chain(PqSuite::ALL.map(|suite| self.codepoints.codepoint(suite)))
            .collect()
    }
}
