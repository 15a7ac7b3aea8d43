//! Ed25519 keys kept decoded between the operations of one suite object.
//!
//! An Ed25519 private key is a seed, and signing needs the public key too:
//! decoding the seed costs a base-point multiplication and a point
//! compression, as much again as the signature itself. Verifying needs the
//! public key decompressed (a field square root). A member signs every
//! message with the same key and reads the same few senders, so each suite
//! object keeps the last signing key it was given and the last
//! [`VERIFYING_KEYS_KEPT`] public keys it decompressed.
//!
//! What is kept is exactly what decoding the same bytes again would give,
//! found by comparing the full bytes, so signatures and verification
//! results are those of the uncached path. The signing key is found by a
//! constant-time comparison of the seed, and never paired with a public key
//! the caller supplies (signing one message under two public keys would
//! reveal the private key). Each cache sits behind a mutex that is only
//! tried: a thread that finds it busy decodes the key itself.

use std::sync::Mutex;

use ed25519_dalek::Signer as _;
use ed25519_dalek::{Signature, SignatureError, SigningKey, VerifyingKey};
use subtle::ConstantTimeEq as _;

/// How many decompressed Ed25519 public keys a suite object keeps: the
/// senders a member hears from most. Each takes about 200 bytes; the
/// oldest is replaced first.
pub(super) const VERIFYING_KEYS_KEPT: usize = 8;

/// The decoded Ed25519 keys of one suite object.
#[derive(Default)]
pub(super) struct Ed25519Keys {
    /// The last signing key used. It holds a copy of the seed until another
    /// key replaces it or the suite object is dropped; `SigningKey`
    /// zeroizes its seed on drop.
    signing: Mutex<Option<SigningKey>>,
    /// The last public keys decompressed, at most [`VERIFYING_KEYS_KEPT`].
    verifying: Mutex<VerifyingKeys>,
}

#[derive(Default)]
struct VerifyingKeys {
    keys: Vec<VerifyingKey>,
    /// The slot the next key replaces once `keys` is full.
    next: usize,
}

impl std::fmt::Debug for Ed25519Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing key is secret; the rest says nothing worth printing.
        f.debug_struct("Ed25519Keys").finish_non_exhaustive()
    }
}

impl Clone for Ed25519Keys {
    /// A clone starts empty: each suite object keeps its own keys.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Ed25519Keys {
    /// `Signature.Sign` with the seed `seed`.
    pub(super) fn sign(
        &self,
        seed: &[u8; ed25519_dalek::SECRET_KEY_LENGTH],
        message: &[u8],
    ) -> Result<Signature, SignatureError> {
        self.signing_key(seed).try_sign(message)
    }

    /// The signing key of `seed`: the kept one if it is the same seed, else
    /// decoded (and kept, if the cache is free).
    fn signing_key(&self, seed: &[u8; ed25519_dalek::SECRET_KEY_LENGTH]) -> SigningKey {
        let Ok(mut kept) = self.signing.try_lock() else {
            return SigningKey::from_bytes(seed);
        };
        if let Some(key) = kept.as_ref()
            && bool::from(key.as_bytes().ct_eq(seed))
        {
            return key.clone();
        }
        let key = SigningKey::from_bytes(seed);
        *kept = Some(key.clone());
        key
    }

    /// The public key `bytes`, decompressed: kept from an earlier call or
    /// decoded now. Bytes that are not a point are an error every time
    /// (nothing invalid is kept).
    pub(super) fn verifying_key(
        &self,
        bytes: &[u8; ed25519_dalek::PUBLIC_KEY_LENGTH],
    ) -> Result<VerifyingKey, SignatureError> {
        let Ok(mut kept) = self.verifying.try_lock() else {
            return VerifyingKey::from_bytes(bytes);
        };
        if let Some(key) = kept.keys.iter().find(|k| k.as_bytes() == bytes) {
            return Ok(*key);
        }
        let key = VerifyingKey::from_bytes(bytes)?;
        kept.insert(key);
        Ok(key)
    }

    /// How many public keys are kept (for the bound's test).
    #[cfg(test)]
    fn verifying_kept(&self) -> usize {
        self.verifying.lock().map_or(0, |k| k.keys.len())
    }
}

impl VerifyingKeys {
    fn insert(&mut self, key: VerifyingKey) {
        if self.keys.len() < VERIFYING_KEYS_KEPT {
            self.keys.push(key);
        } else if let Some(slot) = self.keys.get_mut(self.next) {
            *slot = key;
        }
        self.next = (self.next + 1) % VERIFYING_KEYS_KEPT;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier as _;

    fn seed(i: u8) -> [u8; 32] {
        [i; 32]
    }

    /// Alternating keys through one cache gives, every time, the signature
    /// of the right key: the kept key is never used for another seed.
    #[test]
    fn kept_signing_key_signs_only_for_its_seed() {
        let keys = Ed25519Keys::default();
        for round in 0..3u8 {
            for i in 1..4u8 {
                let message = [round, i];
                let fresh = SigningKey::from_bytes(&seed(i)).sign(&message);
                let kept = keys.sign(&seed(i), &message).expect("sign");
                assert_eq!(kept, fresh, "key {i}, round {round}");
                let public = SigningKey::from_bytes(&seed(i)).verifying_key();
                public.verify(&message, &kept).expect("verifies");
            }
        }
    }

    /// A kept public key verifies only its own signatures, and keys beyond
    /// the bound replace the oldest without losing correctness.
    #[test]
    fn kept_verifying_keys_are_bounded_and_exact() {
        let keys = Ed25519Keys::default();
        let signers: Vec<SigningKey> = (1..=(VERIFYING_KEYS_KEPT as u8 + 3))
            .map(|i| SigningKey::from_bytes(&seed(i)))
            .collect();
        for round in 0..2 {
            for (i, signer) in signers.iter().enumerate() {
                let message = [round, i as u8];
                let signature = signer.sign(&message);
                let public = signer.verifying_key().to_bytes();
                let key = keys.verifying_key(&public).expect("a point");
                assert_eq!(key.to_bytes(), public);
                key.verify_strict(&message, &signature).expect("own");
                let other = signers[(i + 1) % signers.len()].sign(&message);
                assert!(key.verify_strict(&message, &other).is_err(), "other's");
                assert!(keys.verifying_kept() <= VERIFYING_KEYS_KEPT);
            }
        }
        assert_eq!(keys.verifying_kept(), VERIFYING_KEYS_KEPT);
    }

    /// Bytes that do not decompress are refused each time and never kept.
    #[test]
    fn invalid_public_key_is_refused_and_not_kept() {
        let keys = Ed25519Keys::default();
        // y = 2 is not the y-coordinate of a curve point.
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        assert!(VerifyingKey::from_bytes(&bytes).is_err(), "not a point");
        for _ in 0..2 {
            assert!(keys.verifying_key(&bytes).is_err());
        }
        assert_eq!(keys.verifying_kept(), 0);
    }

    /// Debug shows neither the seed nor the keys.
    #[test]
    fn debug_is_redacted() {
        let keys = Ed25519Keys::default();
        keys.sign(&seed(0xab), b"m").expect("sign");
        let printed = format!("{keys:?}");
        assert_eq!(printed, "Ed25519Keys { .. }");
    }
}
