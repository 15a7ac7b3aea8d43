//! The signature schemes of suites 0x0001-0x0003: Ed25519 (RFC 8032) and
//! ECDSA over P-256 with SHA-256.
//!
//! Key formats are those of RFC 9420 §5.1.1 and the test vectors: an Ed25519
//! private key is its 32-byte seed and its public key the 32-byte encoding;
//! an ECDSA private key is the 32-byte big-endian scalar and its public key
//! the 65-byte uncompressed SEC1 point. ECDSA signatures are DER-encoded
//! (RFC 9420 §5.1.2 follows the TLS 1.3 convention).

// Ed25519 and ECDSA share the `signature` crate's Signer/Verifier traits.
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use zeroize::Zeroizing;

use crate::crypto::{CryptoError, RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey};

/// Length of an Ed25519 seed or public key, and of a P-256 scalar.
const KEY_LEN: usize = 32;
/// Length of an uncompressed SEC1 P-256 point.
const P256_POINT_LEN: usize = 65;
/// How many 32-byte candidates key generation tries before blaming the
/// random source. A uniformly random candidate is an invalid P-256 scalar
/// with probability below 2^-32, so failing this often means the source is
/// broken (e.g. returns constant bytes).
const KEYGEN_ATTEMPTS: usize = 8;

/// A signature scheme of a supported suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SignatureScheme {
    /// Ed25519 (suites 0x0001, 0x0003).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (suite 0x0002).
    EcdsaP256,
}

impl SignatureScheme {
    /// A fresh key pair from `rng`'s output.
    pub(super) fn key_pair(
        self,
        rng: &mut dyn RandomSource,
    ) -> Result<(SignaturePrivateKey, SignaturePublicKey), CryptoError> {
        for _ in 0..KEYGEN_ATTEMPTS {
            let mut candidate = Zeroizing::new([0u8; KEY_LEN]);
            rng.fill(&mut *candidate)?;
            // Every 32-byte string is an Ed25519 seed; for ECDSA a candidate
            // outside [1, n) is rejected and redrawn (rejection sampling
            // keeps the scalar uniform).
            if let Ok(public) = self.public_key(&*candidate) {
                return Ok((SignaturePrivateKey(Secret::from_slice(&*candidate)), public));
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
            Self::EcdsaP256 => ecdsa_signing_key(private_key)?
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec(),
        };
        Ok(SignaturePublicKey(public))
    }

    /// `Signature.Sign(sk, message)`. Both schemes are deterministic (ECDSA
    /// nonces per RFC 6979), so no randomness is needed.
    pub(super) fn sign(self, private_key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Ed25519 => ed25519_signing_key(private_key)?
                .try_sign(message)
                .map(|s| s.to_bytes().to_vec())
                .map_err(|_| CryptoError::InvalidKey),
            Self::EcdsaP256 => {
                let signature: p256::ecdsa::DerSignature = ecdsa_signing_key(private_key)?
                    .try_sign(message)
                    .map_err(|_| CryptoError::InvalidKey)?;
                Ok(signature.as_bytes().to_vec())
            }
        }
    }

    /// `Signature.Verify(pk, message, signature)`.
    pub(super) fn verify(
        self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            Self::Ed25519 => {
                let public: &[u8; KEY_LEN] =
                    public_key.try_into().map_err(|_| CryptoError::InvalidKey)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(public)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                // Strict verification rejects small-order keys and R values
                // and non-canonical S, so a signature cannot be mauled into a
                // second valid one for the same message.
                key.verify_strict(message, &signature)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
            Self::EcdsaP256 => {
                if public_key.len() != P256_POINT_LEN || public_key[0] != 0x04 {
                    return Err(CryptoError::InvalidKey);
                }
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                    .map_err(|_| CryptoError::InvalidKey)?;
                let signature = p256::ecdsa::DerSignature::from_bytes(signature)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                // High-S signatures are accepted (P-256 does not normalize
                // S), as other implementations may produce them.
                key.verify(message, &signature)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
        }
    }
}

fn ed25519_signing_key(private_key: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
        private_key
            .try_into()
            .map_err(|_| CryptoError::InvalidKey)?,
    );
    // SigningKey zeroizes itself on drop.
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

fn ecdsa_signing_key(private_key: &[u8]) -> Result<p256::ecdsa::SigningKey, CryptoError> {
    // `from_slice` would left-pad shorter input; the format is exactly 32
    // bytes.
    if private_key.len() != KEY_LEN {
        return Err(CryptoError::InvalidKey);
    }
    p256::ecdsa::SigningKey::from_slice(private_key).map_err(|_| CryptoError::InvalidKey)
}
