//! The signature schemes of the MLS suites: Ed25519 and Ed448 (RFC 8032),
//! and ECDSA over P-256, P-384 and P-521 with SHA-256, SHA-384 and SHA-512.
//!
//! Key formats are those of RFC 9420 §5.1.1 and the test vectors: an EdDSA
//! private key is its seed (32 or 57 bytes) and its public key the point
//! encoding; an ECDSA private key is the fixed-length big-endian scalar and
//! its public key the uncompressed SEC1 point. ECDSA signatures are
//! DER-encoded (RFC 9420 §5.1.2 follows the TLS 1.3 convention). With the
//! feature `pq`, also ML-DSA-44/65/87 (module `mldsa`): seed private keys,
//! raw public keys and signatures.

// Every scheme implements the `signature` crate's Signer/Verifier traits.
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use zeroize::Zeroizing;

use super::ed25519_keys::Ed25519Keys;
use crate::crypto::{CryptoError, RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey};

/// Length of an Ed25519 seed or public key.
const ED25519_KEY_LEN: usize = 32;
/// How many candidates key generation tries before blaming the random
/// source. A uniformly random candidate (masked to the order's bit length)
/// is an invalid ECDSA scalar with probability below 2^-32 on every curve,
/// so failing this often means the source is broken (e.g. constant bytes).
const KEYGEN_ATTEMPTS: usize = 8;

/// A signature scheme of a supported suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignatureScheme {
    /// Ed25519 (suites 0x0001, 0x0003).
    Ed25519,
    /// Ed448 (suites 0x0004, 0x0006).
    Ed448,
    /// ECDSA P-256 with SHA-256 (suite 0x0002).
    EcdsaP256,
    /// ECDSA P-384 with SHA-384 (suite 0x0007).
    EcdsaP384,
    /// ECDSA P-521 with SHA-512 (suite 0x0005).
    EcdsaP521,
    /// ML-DSA-44 (FIPS 204).
    #[cfg(feature = "pq")]
    MlDsa44,
    /// ML-DSA-65 (FIPS 204).
    #[cfg(feature = "pq")]
    MlDsa65,
    /// ML-DSA-87 (FIPS 204).
    #[cfg(feature = "pq")]
    MlDsa87,
}

/// The ECDSA operations for one curve crate. The three crates share one
/// generic `ecdsa` implementation, but spelling its trait bounds generically
/// is longer than stamping out the three small instances.
macro_rules! ecdsa_curve {
    ($module:ident, $curve:ident, $scalar_len:literal) => {
        mod $module {
            use super::*;
            use $curve::ecdsa::{DerSignature, SigningKey, VerifyingKey};

            /// Scalar length (`FieldBytesSize`).
            pub(super) const SCALAR_LEN: usize = $scalar_len;
            /// Uncompressed SEC1 point length.
            const POINT_LEN: usize = 1 + 2 * SCALAR_LEN;

            fn signing_key(private_key: &[u8]) -> Result<SigningKey, CryptoError> {
                // `from_slice` would left-pad shorter input; the format is
                // exactly the scalar length.
                if private_key.len() != SCALAR_LEN {
                    return Err(CryptoError::InvalidKey);
                }
                SigningKey::from_slice(private_key).map_err(|_| CryptoError::InvalidKey)
            }

            pub(super) fn public_key(private_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
                Ok(signing_key(private_key)?
                    .verifying_key()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec())
            }

            pub(super) fn sign(private_key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
                let signature: DerSignature = signing_key(private_key)?
                    .try_sign(message)
                    .map_err(|_| CryptoError::InvalidKey)?;
                Ok(signature.as_bytes().to_vec())
            }

            pub(super) fn verify(
                public_key: &[u8],
                message: &[u8],
                signature: &[u8],
            ) -> Result<(), CryptoError> {
                if public_key.len() != POINT_LEN || public_key[0] != 0x04 {
                    return Err(CryptoError::InvalidKey);
                }
                let key = VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let signature = DerSignature::from_bytes(signature)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                // High-S signatures are accepted (ECDSA over the NIST curves
                // does not normalize S), as other implementations may
                // produce them.
                key.verify(message, &signature)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
        }
    };
}

ecdsa_curve!(ecdsa_p256, p256, 32);
ecdsa_curve!(ecdsa_p384, p384, 48);
ecdsa_curve!(ecdsa_p521, p521, 66);

impl SignatureScheme {
    /// Length of a private key in this scheme's format.
    fn private_key_len(self) -> usize {
        match self {
            Self::Ed25519 => ED25519_KEY_LEN,
            Self::Ed448 => ed448_goldilocks::SECRET_KEY_LENGTH,
            Self::EcdsaP256 => ecdsa_p256::SCALAR_LEN,
            Self::EcdsaP384 => ecdsa_p384::SCALAR_LEN,
            Self::EcdsaP521 => ecdsa_p521::SCALAR_LEN,
            #[cfg(feature = "pq")]
            Self::MlDsa44 | Self::MlDsa65 | Self::MlDsa87 => super::mldsa::SEED_LEN,
        }
    }

    /// A fresh key pair from `rng`'s output.
    pub(super) fn key_pair(
        self,
        rng: &mut dyn RandomSource,
    ) -> Result<(SignaturePrivateKey, SignaturePublicKey), CryptoError> {
        for _ in 0..KEYGEN_ATTEMPTS {
            let mut candidate = Zeroizing::new(vec![0u8; self.private_key_len()]);
            rng.fill(&mut candidate)?;
            // P-521's order has 521 bits: masking the first of 66 bytes to
            // one bit keeps the candidate uniform below 2^521, so rejection
            // is as rare as on the other curves.
            if self == Self::EcdsaP521 {
                candidate[0] &= 0x01;
            }
            // Every seed is a valid EdDSA key; for ECDSA a candidate outside
            // [1, n) is rejected and redrawn (rejection sampling keeps the
            // scalar uniform).
            if let Ok(public) = self.public_key(&candidate) {
                return Ok((SignaturePrivateKey(Secret::from_slice(&candidate)), public));
            }
        }
        Err(CryptoError::Rng)
    }

    /// The public key belonging to `private_key`.
    pub(super) fn public_key(self, private_key: &[u8]) -> Result<SignaturePublicKey, CryptoError> {
        let public = match self {
            Self::Ed25519 => ed25519_signing_key(private_key)?
                .verifying_key()
                .to_bytes()
                .to_vec(),
            Self::Ed448 => ed448_signing_key(private_key)?
                .verifying_key()
                .to_bytes()
                .to_vec(),
            Self::EcdsaP256 => ecdsa_p256::public_key(private_key)?,
            Self::EcdsaP384 => ecdsa_p384::public_key(private_key)?,
            Self::EcdsaP521 => ecdsa_p521::public_key(private_key)?,
            #[cfg(feature = "pq")]
            Self::MlDsa44 => super::mldsa::public_key::<ml_dsa::MlDsa44>(private_key)?,
            #[cfg(feature = "pq")]
            Self::MlDsa65 => super::mldsa::public_key::<ml_dsa::MlDsa65>(private_key)?,
            #[cfg(feature = "pq")]
            Self::MlDsa87 => super::mldsa::public_key::<ml_dsa::MlDsa87>(private_key)?,
        };
        Ok(SignaturePublicKey(public))
    }

    /// `Signature.Sign(sk, message)`. Every scheme is deterministic (ECDSA
    /// nonces per RFC 6979), so no randomness is needed. Ed25519 keys are
    /// decoded through `keys`, the suite object's cache.
    pub(super) fn sign(
        self,
        keys: &Ed25519Keys,
        private_key: &[u8],
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Ed25519 => {
                let seed: Zeroizing<[u8; ED25519_KEY_LEN]> = Zeroizing::new(
                    private_key
                        .try_into()
                        .map_err(|_| CryptoError::InvalidKey)?,
                );
                keys.sign(&seed, message)
                    .map(|s| s.to_bytes().to_vec())
                    .map_err(|_| CryptoError::InvalidKey)
            }
            Self::Ed448 => Ok(ed448_signing_key(private_key)?
                .sign_raw(message)
                .to_bytes()
                .to_vec()),
            Self::EcdsaP256 => ecdsa_p256::sign(private_key, message),
            Self::EcdsaP384 => ecdsa_p384::sign(private_key, message),
            Self::EcdsaP521 => ecdsa_p521::sign(private_key, message),
            #[cfg(feature = "pq")]
            Self::MlDsa44 => super::mldsa::sign::<ml_dsa::MlDsa44>(private_key, message),
            #[cfg(feature = "pq")]
            Self::MlDsa65 => super::mldsa::sign::<ml_dsa::MlDsa65>(private_key, message),
            #[cfg(feature = "pq")]
            Self::MlDsa87 => super::mldsa::sign::<ml_dsa::MlDsa87>(private_key, message),
        }
    }

    /// `Signature.Verify(pk, message, signature)`. Ed25519 keys are
    /// decompressed through `keys`, the suite object's cache.
    pub(super) fn verify(
        self,
        keys: &Ed25519Keys,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            Self::Ed25519 => {
                let public: &[u8; ED25519_KEY_LEN] =
                    public_key.try_into().map_err(|_| CryptoError::InvalidKey)?;
                let key = keys
                    .verifying_key(public)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                // Strict verification rejects small-order keys and R values
                // and non-canonical S, so a signature cannot be mauled into a
                // second valid one for the same message.
                key.verify_strict(message, &signature)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
            Self::Ed448 => {
                let public: &[u8; ed448_goldilocks::PUBLIC_KEY_LENGTH] =
                    public_key.try_into().map_err(|_| CryptoError::InvalidKey)?;
                let key = ed448_goldilocks::VerifyingKey::from_bytes(public)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let signature = ed448_goldilocks::Signature::try_from(signature)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                // Pure Ed448 with an empty context (RFC 8032 §5.2); a
                // non-canonical S is rejected when the signature is decoded.
                key.verify_raw(&signature, message)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
            Self::EcdsaP256 => ecdsa_p256::verify(public_key, message, signature),
            Self::EcdsaP384 => ecdsa_p384::verify(public_key, message, signature),
            Self::EcdsaP521 => ecdsa_p521::verify(public_key, message, signature),
            #[cfg(feature = "pq")]
            Self::MlDsa44 => {
                super::mldsa::verify::<ml_dsa::MlDsa44>(public_key, message, signature)
            }
            #[cfg(feature = "pq")]
            Self::MlDsa65 => {
                super::mldsa::verify::<ml_dsa::MlDsa65>(public_key, message, signature)
            }
            #[cfg(feature = "pq")]
            Self::MlDsa87 => {
                super::mldsa::verify::<ml_dsa::MlDsa87>(public_key, message, signature)
            }
        }
    }
}

fn ed25519_signing_key(private_key: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed: Zeroizing<[u8; ED25519_KEY_LEN]> = Zeroizing::new(
        private_key
            .try_into()
            .map_err(|_| CryptoError::InvalidKey)?,
    );
    // SigningKey zeroizes itself on drop.
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

fn ed448_signing_key(private_key: &[u8]) -> Result<ed448_goldilocks::SigningKey, CryptoError> {
    // Length-checked by `try_from`; the key zeroizes itself on drop.
    ed448_goldilocks::SigningKey::try_from(private_key).map_err(|_| CryptoError::InvalidKey)
}
