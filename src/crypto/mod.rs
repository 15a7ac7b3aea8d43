//! Cryptographic dependencies of MLS (RFC 9420 §5).
//!
//! A [`CryptoProvider`] hands out one [`SuiteCrypto`] per cipher suite it
//! supports; both are object-safe, so the suite is chosen at run time from the
//! group's suite id and no type parameter reaches the group. [`Suite`] wraps a
//! `SuiteCrypto` and is the single home of the MLS labelled operations
//! (§5.1-§5.2, §8).

pub mod component;
#[cfg(any(test, feature = "test-support"))]
pub mod conformance;
pub mod credential;
mod labels;
pub mod multi_credential;
pub mod rust_crypto;
mod secret;
mod seeded;
mod suite;
pub(crate) mod x509;

pub use labels::{KdfLabel, Suite};
pub use secret::{HpkePrivateKey, HpkePublicKey, Secret, SignaturePrivateKey, SignaturePublicKey};
pub use seeded::SeededRandom;
pub use suite::CipherSuite;

use std::fmt::Debug;
use std::sync::Arc;

/// Why a cryptographic operation failed. Deliberately coarse: a peer learns
/// nothing from which step of a decryption failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The provider does not implement this cipher suite.
    #[error("unsupported cipher suite {0:?}")]
    UnsupportedSuite(CipherSuite),
    /// A key had the wrong length or was not a valid point/scalar.
    #[error("invalid key")]
    InvalidKey,
    /// A signature did not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// AEAD or HPKE decryption failed (wrong key, nonce, AAD or tag).
    #[error("decryption failed")]
    DecryptionFailed,
    /// Encryption failed (e.g. invalid public key, plaintext too long).
    #[error("encryption failed")]
    EncryptionFailed,
    /// A MAC did not match.
    #[error("MAC mismatch")]
    InvalidMac,
    /// A KDF was asked for more output than it can produce.
    #[error("requested KDF output length {0} is too large")]
    KdfLength(usize),
    /// The random source failed.
    #[error("random source failure")]
    Rng,
    /// An input was longer than the 2^30 - 1 bytes a labelled operation can
    /// encode (§2.1.2).
    #[error("input of {0} bytes is too long for a labelled operation")]
    InputTooLong(usize),
}

/// An HPKE `info` prepared once for sealing to many recipients (see
/// [`SuiteCrypto::hpke_prepare_info`]). Its bytes are provider-defined: the
/// default provider keeps RFC 9180's `key_schedule_context`, whose
/// `info_hash` is the only part of HPKE's key schedule that reads `info`.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedHpkeInfo(Vec<u8>);

impl PreparedHpkeInfo {
    /// Wraps a provider's representation of a prepared `info`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The provider's representation.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Debug for PreparedHpkeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PreparedHpkeInfo({} bytes)", self.0.len())
    }
}

/// A source of randomness, injected so that tests can be deterministic.
pub trait RandomSource: Send {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's random number generator.
///
/// wasm32-unknown-unknown has no operating system: there it reads the
/// JavaScript host's `crypto.getRandomValues` with the feature `wasm-js`,
/// and without it every `fill` fails with [`CryptoError::Rng`] (supply the
/// host's randomness as a [`RandomSource`] instead).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    #[cfg(any(
        not(all(target_family = "wasm", target_os = "unknown")),
        feature = "wasm-js"
    ))]
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::fill(dest).map_err(|_| CryptoError::Rng)
    }

    #[cfg(all(
        target_family = "wasm",
        target_os = "unknown",
        not(feature = "wasm-js")
    ))]
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Rng)
    }
}

/// Supplies per-suite cryptography.
pub trait CryptoProvider: Send + Sync + Debug {
    /// The implementation of `suite`, if supported.
    fn suite(&self, suite: CipherSuite) -> Option<Arc<dyn SuiteCrypto>>;

    /// All suites this provider supports, in order of preference.
    fn supported_suites(&self) -> Vec<CipherSuite>;
}

/// The primitives of one cipher suite (§5.1): hash, MAC, KDF, AEAD, HPKE and
/// signature scheme. All byte-string keys are in the formats of the test
/// vectors (raw public keys, `SerializePrivateKey` for HPKE, field element for
/// ECDSA, seed for EdDSA).
pub trait SuiteCrypto: Send + Sync + Debug {
    /// The suite this implements.
    fn cipher_suite(&self) -> CipherSuite;

    /// Output length of the hash function, `KDF.Nh`.
    fn hash_len(&self) -> usize;
    /// AEAD key length `AEAD.Nk`.
    fn aead_key_len(&self) -> usize;
    /// AEAD nonce length `AEAD.Nn`.
    fn aead_nonce_len(&self) -> usize;

    /// `Hash(data)`.
    fn hash(&self, data: &[u8]) -> Vec<u8>;
    /// `MAC(key, data)`: HMAC with the suite's hash.
    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8>;
    /// `Hash` of the concatenation of `parts`. A received commit's
    /// transcript hash covers O(n) bytes that are already in memory in
    /// pieces; a streaming hash reads them where they are.
    ///
    /// The default concatenates and calls [`hash`](Self::hash).
    fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.hash(&parts.concat())
    }
    /// `MAC(key, data)` of the concatenation of `parts` (see
    /// [`hash_parts`](Self::hash_parts)).
    ///
    /// The default concatenates and calls [`mac`](Self::mac).
    fn mac_parts(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        self.mac(key, &parts.concat())
    }
    /// `KDF.Extract(salt, ikm)`.
    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret;
    /// `KDF.Expand(prk, info, len)`.
    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError>;
    /// [`kdf_expand`](Self::kdf_expand) for each `(info, len)` of
    /// `outputs`, all from one `prk`, in order. Every message derives
    /// several secrets from one (a ratchet step its key, nonce and next
    /// secret; the sender data its key and nonce), so a provider may key
    /// its HMAC once for all of them. The results must equal one
    /// `kdf_expand` per output, which the default runs.
    fn kdf_expand_each(
        &self,
        prk: &[u8],
        outputs: &[(&[u8], usize)],
    ) -> Result<Vec<Secret>, CryptoError> {
        outputs
            .iter()
            .map(|&(info, len)| self.kdf_expand(prk, info, len))
            .collect()
    }

    /// AEAD encryption.
    fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;
    /// AEAD decryption.
    fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError>;

    /// HPKE `SealBase(pk, info, aad, pt)`; returns `(kem_output, ciphertext)`.
    fn hpke_seal(
        &self,
        public_key: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError>;
    /// Prepares `info` for [`hpke_seal_prepared`](Self::hpke_seal_prepared),
    /// so that sealing one `info` to n recipients reads it once, not n times
    /// (a Welcome's `info` holds the encrypted GroupInfo, O(n) bytes).
    ///
    /// The default keeps `info` as it is, for providers without a cheaper
    /// form; override it together with `hpke_seal_prepared`.
    fn hpke_prepare_info(&self, info: &[u8]) -> PreparedHpkeInfo {
        PreparedHpkeInfo::new(info.to_vec())
    }

    /// `SealBase(pk, info, aad, pt)` with `info` prepared by this provider's
    /// [`hpke_prepare_info`](Self::hpke_prepare_info); the same result as
    /// [`hpke_seal`](Self::hpke_seal) with the original `info`.
    fn hpke_seal_prepared(
        &self,
        public_key: &[u8],
        info: &PreparedHpkeInfo,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke_seal(public_key, info.as_bytes(), aad, plaintext, rng)
    }

    /// HPKE `OpenBase(kem_output, sk, info, aad, ct)`.
    fn hpke_open(
        &self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError>;
    /// HPKE single-shot secret export in base mode, sender side (RFC 9180
    /// §6.2): `enc, ctx = SetupBaseS(pk, info)` with randomness from `rng`,
    /// then `ctx.Export(exporter_context, length)`. Returns `(enc, secret)`.
    ///
    /// Used by external commits (RFC 9420 §8.3). Errors: `InvalidKey` for a
    /// malformed public key, `EncryptionFailed` for one the KEM rejects
    /// (e.g. a low-order X25519 key), `KdfLength` for `length > 255 * Nh`,
    /// `Rng` if the random source fails.
    fn hpke_export_sender(
        &self,
        public_key: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Secret), CryptoError>;
    /// HPKE single-shot secret export in base mode, receiver side (RFC 9180
    /// §6.2): `ctx = SetupBaseR(enc, sk, info)`, then
    /// `ctx.Export(exporter_context, length)`.
    ///
    /// Errors: `InvalidKey` for a malformed private key, `KdfLength` for
    /// `length > 255 * Nh`, `DecryptionFailed` for a malformed or rejected
    /// `kem_output`. A well-formed but wrong `kem_output` or key yields a
    /// different secret, not an error (export has no authentication tag).
    fn hpke_export_receiver(
        &self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError>;
    /// `KEM.DeriveKeyPair(ikm)`.
    fn hpke_derive_key_pair(
        &self,
        ikm: &[u8],
    ) -> Result<(HpkePrivateKey, HpkePublicKey), CryptoError>;
    /// The public key belonging to an HPKE private key.
    fn hpke_public_key(&self, private_key: &[u8]) -> Result<HpkePublicKey, CryptoError>;

    /// A fresh signature key pair.
    fn signature_key_pair(
        &self,
        rng: &mut dyn RandomSource,
    ) -> Result<(SignaturePrivateKey, SignaturePublicKey), CryptoError>;
    /// The public key belonging to a signature private key.
    fn signature_public_key(&self, private_key: &[u8]) -> Result<SignaturePublicKey, CryptoError>;
    /// `Signature.Sign(sk, msg)`.
    fn sign(&self, private_key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// `Signature.Verify(pk, msg, sig)`.
    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Verifies every `(public_key, message, signature)` triple; `Ok` only if
    /// each one would pass [`verify`](Self::verify).
    ///
    /// An implementation may check the batch faster than one by one, but must
    /// accept exactly what individual verification accepts. On failure it
    /// need not say which item failed; callers that need the index verify
    /// the items individually. An empty batch is valid.
    fn verify_batch(&self, items: &[(&[u8], &[u8], &[u8])]) -> Result<(), CryptoError> {
        items
            .iter()
            .try_for_each(|(pk, m, s)| self.verify(pk, m, s))
    }
}

#[cfg(test)]
mod tests;
