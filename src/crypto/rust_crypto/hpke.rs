//! HPKE (RFC 9180) in base mode: single-shot seal and open, and single-shot
//! secret export, for every KEM, KDF and AEAD of the seven MLS suites. One
//! code path serves all of them; only the DHKEM and the primitives differ.
//!
//! The key schedule's context (RFC 9180 §5.1) depends only on the suite and
//! on `info`, so it can be computed once and reused for many recipients:
//! [`HpkeSuite::key_schedule_context`] returns it and the `*_prepared`
//! functions take it. A Welcome seals one `info` (which contains the whole
//! encrypted GroupInfo) to every new member; hashing it once makes the
//! sealing O(n) instead of O(n²).
//!
//! Randomness comes only from the caller's [`RandomSource`]: the ephemeral
//! key of `Encap` is `DeriveKeyPair` of bytes drawn from it.

use super::aead::AeadAlgorithm;
use super::hash::HashAlgorithm;
use super::kem::Kem;
use crate::crypto::{CryptoError, HpkePrivateKey, HpkePublicKey, RandomSource, Secret};

/// `mode_base` (RFC 9180 §5).
const MODE_BASE: u8 = 0x00;

/// The HPKE configuration of one suite (mode Base).
#[derive(Debug, Clone, Copy)]
pub(super) struct HpkeSuite {
    kem: Kem,
    kdf: HashAlgorithm,
    aead: AeadAlgorithm,
}

/// The secrets of a single-shot context: one AEAD key and nonce (sequence
/// number 0) and the exporter secret.
pub(super) struct Context {
    pub(super) key: Secret,
    pub(super) base_nonce: Secret,
    pub(super) exporter_secret: Secret,
}

impl HpkeSuite {
    /// The suite with this KEM, HKDF with this hash, and this AEAD.
    pub(super) fn new(kem: Kem, kdf: HashAlgorithm, aead: AeadAlgorithm) -> Self {
        Self { kem, kdf, aead }
    }

    /// `suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2),
    /// I2OSP(aead_id, 2))`.
    fn suite_id(self) -> [u8; 10] {
        let [k0, k1] = self.kem.id().to_be_bytes();
        let [d0, d1] = self.kdf.hpke_kdf_id().to_be_bytes();
        let [a0, a1] = self.aead.hpke_id().to_be_bytes();
        [b'H', b'P', b'K', b'E', k0, k1, d0, d1, a0, a1]
    }

    fn labeled_extract(self, salt: &[u8], label: &[u8], ikm: &[u8]) -> Secret {
        self.kdf.labeled_extract(&self.suite_id(), salt, label, ikm)
    }

    fn labeled_expand(
        self,
        prk: &[u8],
        label: &[u8],
        info: &[u8],
        len: usize,
    ) -> Result<Secret, CryptoError> {
        self.kdf
            .labeled_expand(&self.suite_id(), prk, label, &[info], len)
    }

    /// `key_schedule_context = concat(mode, psk_id_hash, info_hash)` for mode
    /// Base with no PSK (RFC 9180 §5.1). Costs one pass over `info`.
    pub(super) fn key_schedule_context(self, info: &[u8]) -> Vec<u8> {
        let psk_id_hash = self.labeled_extract(&[], b"psk_id_hash", &[]);
        let info_hash = self.labeled_extract(&[], b"info_hash", info);
        let mut context = Vec::with_capacity(1 + 2 * self.kdf.len());
        context.push(MODE_BASE);
        context.extend_from_slice(psk_id_hash.as_bytes());
        context.extend_from_slice(info_hash.as_bytes());
        context
    }

    /// `KeySchedule` for mode Base (RFC 9180 §5.1), given the context from
    /// [`key_schedule_context`](Self::key_schedule_context).
    pub(super) fn key_schedule(
        self,
        shared_secret: &Secret,
        context: &[u8],
    ) -> Result<Context, CryptoError> {
        // A context prepared for another suite (or forged by a foreign
        // provider's caller) is refused rather than silently used.
        if context.len() != 1 + 2 * self.kdf.len() || context[0] != MODE_BASE {
            return Err(CryptoError::InvalidKey);
        }
        // psk = default_psk = "" in base mode.
        let secret = self.labeled_extract(shared_secret.as_bytes(), b"secret", &[]);
        Ok(Context {
            key: self.labeled_expand(secret.as_bytes(), b"key", context, self.aead.key_len())?,
            base_nonce: self.labeled_expand(
                secret.as_bytes(),
                b"base_nonce",
                context,
                self.aead.nonce_len(),
            )?,
            exporter_secret: self.labeled_expand(
                secret.as_bytes(),
                b"exp",
                context,
                self.kdf.len(),
            )?,
        })
    }

    /// `Context.Export(exporter_context, L)` (RFC 9180 §5.3), at most
    /// `255 * Nh` bytes.
    pub(super) fn export(
        self,
        context: &Context,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        if length > 255 * self.kdf.len() {
            return Err(CryptoError::KdfLength(length));
        }
        self.labeled_expand(
            context.exporter_secret.as_bytes(),
            b"sec",
            exporter_context,
            length,
        )
    }

    /// `SealBase(pk, info, aad, pt)` with the key schedule context prepared
    /// from `info`: `(enc, ct)`.
    pub(super) fn seal_prepared(
        self,
        public_key: &[u8],
        key_schedule_context: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let (shared, enc) = self.kem.encap(public_key, rng)?;
        let context = self.key_schedule(&shared, key_schedule_context)?;
        // Sequence number 0: the nonce is the base nonce itself.
        let ciphertext = self.aead.seal(
            context.key.as_bytes(),
            context.base_nonce.as_bytes(),
            aad,
            plaintext,
        )?;
        Ok((enc, ciphertext))
    }

    /// `SealBase(pk, info, aad, pt)`: `(enc, ct)`.
    pub(super) fn seal(
        self,
        public_key: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        // Check the key before hashing a possibly large `info`.
        self.kem.check_public_key(public_key)?;
        let context = self.key_schedule_context(info);
        self.seal_prepared(public_key, &context, aad, plaintext, rng)
    }

    /// `OpenBase(enc, sk, info, aad, ct)`.
    pub(super) fn open(
        self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        let shared = self.kem.decap(kem_output, private_key)?;
        let context = self.key_schedule(&shared, &self.key_schedule_context(info))?;
        self.aead.open(
            context.key.as_bytes(),
            context.base_nonce.as_bytes(),
            aad,
            ciphertext,
        )
    }

    /// Single-shot secret export in base mode (RFC 9180 §6.2), sender side:
    /// `enc, ctx = SetupBaseS(pk, info)`, then `ctx.Export(exporter_context,
    /// length)`. Returns `(enc, exported_secret)`.
    pub(super) fn send_export(
        self,
        public_key: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Secret), CryptoError> {
        if length > 255 * self.kdf.len() {
            return Err(CryptoError::KdfLength(length));
        }
        let (shared, enc) = self.kem.encap(public_key, rng)?;
        let context = self.key_schedule(&shared, &self.key_schedule_context(info))?;
        Ok((enc, self.export(&context, exporter_context, length)?))
    }

    /// Single-shot secret export in base mode (RFC 9180 §6.2), receiver
    /// side: `ctx = SetupBaseR(enc, sk, info)`, then
    /// `ctx.Export(exporter_context, length)`.
    pub(super) fn receiver_export(
        self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        if length > 255 * self.kdf.len() {
            return Err(CryptoError::KdfLength(length));
        }
        let shared = self.kem.decap(kem_output, private_key)?;
        let context = self.key_schedule(&shared, &self.key_schedule_context(info))?;
        self.export(&context, exporter_context, length)
    }

    /// `DeriveKeyPair(ikm)` (RFC 9180 §7.1.3).
    pub(super) fn derive_key_pair(
        self,
        ikm: &[u8],
    ) -> Result<(HpkePrivateKey, HpkePublicKey), CryptoError> {
        let (sk, pk) = self.kem.derive_key_pair(ikm)?;
        Ok((HpkePrivateKey(sk), HpkePublicKey(pk)))
    }

    /// The public key of `private_key` (`SerializePublicKey(pk(sk))`).
    pub(super) fn public_key(self, private_key: &[u8]) -> Result<HpkePublicKey, CryptoError> {
        self.kem.public_key(private_key).map(HpkePublicKey)
    }
}
