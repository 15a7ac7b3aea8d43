//! HPKE (RFC 9180) base mode through hpke-rs, with the RustCrypto backend
//! doing the arithmetic and the caller's [`RandomSource`] supplying the
//! randomness.
//!
//! hpke-rs-rust-crypto's own PRNG can only be seeded from the operating
//! system, which would break the rule that randomness is injected. So this
//! module wraps that backend in [`InjectedBackend`]: every primitive is
//! delegated unchanged, only the PRNG type is ours. For DH-based KEMs hpke-rs
//! draws the ephemeral key's `ikmE` from that PRNG and derives the key with
//! `DeriveKeyPair`, so a seeded PRNG makes `SealBase` (and the sender's
//! secret export) fully deterministic.

use hpke_rs::hpke_types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use hpke_rs::{Hpke, Mode};
use hpke_rs_crypto::HpkeCrypto;
use hpke_rs_crypto::error::Error as BackendError;
use hpke_rs_crypto::types::{SingleStageKdfAlgorithm, TwoStageKdfAlgorithm};
use hpke_rs_rust_crypto::HpkeRustCrypto;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng, TryCryptoRng, TryRng};
use zeroize::Zeroizing;

use crate::crypto::{CryptoError, HpkePrivateKey, HpkePublicKey, RandomSource, Secret};

/// Length of X25519 and P-256 private keys and X25519 public keys.
const SCALAR_LEN: usize = 32;
/// Length of an uncompressed SEC1 P-256 point.
const P256_POINT_LEN: usize = 65;
/// `Nh` of HKDF-SHA256, the HPKE KDF of every supported suite.
const HKDF_SHA256_NH: usize = 32;

/// The HPKE configuration of one suite (mode Base, KDF HKDF-SHA256).
#[derive(Debug, Clone, Copy)]
pub(super) struct HpkeSuite {
    kem: KemAlgorithm,
    aead: AeadAlgorithm,
}

impl HpkeSuite {
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
    pub(super) const X25519_AES128GCM: Self = Self {
        kem: KemAlgorithm::DhKem25519,
        aead: AeadAlgorithm::Aes128Gcm,
    };
    /// DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
    pub(super) const P256_AES128GCM: Self = Self {
        kem: KemAlgorithm::DhKemP256,
        aead: AeadAlgorithm::Aes128Gcm,
    };
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305.
    pub(super) const X25519_CHACHA20POLY1305: Self = Self {
        kem: KemAlgorithm::DhKem25519,
        aead: AeadAlgorithm::ChaCha20Poly1305,
    };

    fn hpke(self, prng: InjectedPrng) -> Hpke<InjectedBackend> {
        Hpke::new_with_rng(
            Mode::Base,
            self.kem,
            KdfAlgorithm::HkdfSha256,
            self.aead,
            prng,
        )
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
        self.check_public_key(public_key)?;
        let mut hpke = self.hpke(InjectedPrng::seeded(rng)?);
        let pk = hpke_rs::HpkePublicKey::new(public_key.to_vec());
        hpke.seal(&pk, info, aad, plaintext, None, None, None)
            .map_err(|_| CryptoError::EncryptionFailed)
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
        self.check_private_key(private_key)?;
        // A malformed `enc` is the sender's fault, not a bad local key.
        self.check_public_key(kem_output)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        let hpke = self.hpke(InjectedPrng::none());
        let sk = hpke_rs::HpkePrivateKey::new(private_key.to_vec());
        hpke.open(kem_output, &sk, info, aad, ciphertext, None, None, None)
            .map(Secret::new)
            .map_err(|_| CryptoError::DecryptionFailed)
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
        self.check_public_key(public_key)?;
        check_export_len(length)?;
        let mut hpke = self.hpke(InjectedPrng::seeded(rng)?);
        let pk = hpke_rs::HpkePublicKey::new(public_key.to_vec());
        // hpke-rs zeroizes the context (and its exporter secret) on drop.
        hpke.send_export(&pk, info, None, None, None, exporter_context, length)
            .map(|(enc, exported)| (enc, Secret::new(exported)))
            .map_err(|_| CryptoError::EncryptionFailed)
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
        self.check_private_key(private_key)?;
        check_export_len(length)?;
        // A malformed `enc` is the sender's fault, not a bad local key.
        self.check_public_key(kem_output)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        let hpke = self.hpke(InjectedPrng::none());
        let sk = hpke_rs::HpkePrivateKey::new(private_key.to_vec());
        hpke.receiver_export(
            kem_output,
            &sk,
            info,
            None,
            None,
            None,
            exporter_context,
            length,
        )
        .map(Secret::new)
        .map_err(|_| CryptoError::DecryptionFailed)
    }

    /// `DeriveKeyPair(ikm)` (RFC 9180 §7.1.3).
    pub(super) fn derive_key_pair(
        self,
        ikm: &[u8],
    ) -> Result<(HpkePrivateKey, HpkePublicKey), CryptoError> {
        let (sk, pk) = self
            .hpke(InjectedPrng::none())
            .derive_key_pair(ikm)
            .map_err(|_| CryptoError::InvalidKey)?
            .into_keys();
        // hpke-rs zeroizes its copy of `sk` when it is dropped here.
        Ok((
            HpkePrivateKey(Secret::from_slice(sk.as_slice())),
            HpkePublicKey(pk.as_slice().to_vec()),
        ))
    }

    /// The public key of `private_key` (`SerializePublicKey(pk(sk))`).
    pub(super) fn public_key(self, private_key: &[u8]) -> Result<HpkePublicKey, CryptoError> {
        self.check_private_key(private_key)?;
        HpkeRustCrypto::secret_to_public(self.kem, private_key)
            .map(HpkePublicKey)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// `DeserializePrivateKey` checks: exact length, and for P-256 a scalar
    /// in `[1, n)`. (The backend would accept short P-256 keys by padding.)
    fn check_private_key(self, sk: &[u8]) -> Result<(), CryptoError> {
        if sk.len() != SCALAR_LEN {
            return Err(CryptoError::InvalidKey);
        }
        if self.kem == KemAlgorithm::DhKemP256 {
            HpkeRustCrypto::dh_validate_sk(self.kem, sk).map_err(|_| CryptoError::InvalidKey)?;
        }
        Ok(())
    }

    /// `DeserializePublicKey` checks: an X25519 key is any 32 bytes; a P-256
    /// key must be an uncompressed point on the curve (RFC 9180 §7.1.1 uses
    /// the uncompressed form only).
    fn check_public_key(self, pk: &[u8]) -> Result<(), CryptoError> {
        match self.kem {
            KemAlgorithm::DhKem25519 if pk.len() == SCALAR_LEN => Ok(()),
            KemAlgorithm::DhKemP256 if pk.len() == P256_POINT_LEN && pk[0] == 0x04 => {
                p256::PublicKey::from_sec1_bytes(pk)
                    .map(|_| ())
                    .map_err(|_| CryptoError::InvalidKey)
            }
            _ => Err(CryptoError::InvalidKey),
        }
    }
}

/// `Context.Export` may produce at most `255 * Nh` bytes (RFC 9180 §5.3);
/// checked here so that an oversized request is a length error rather than
/// an opaque backend failure.
fn check_export_len(length: usize) -> Result<(), CryptoError> {
    if length > 255 * HKDF_SHA256_NH {
        return Err(CryptoError::KdfLength(length));
    }
    Ok(())
}

/// The PRNG handed to hpke-rs: ChaCha20 seeded from the caller's
/// [`RandomSource`] for `SealBase` and the sender's export, absent for the
/// operations that must not consume randomness (open, receiver's export,
/// derive), where any draw is an error.
pub(super) struct InjectedPrng(Option<ChaCha20Rng>);

impl InjectedPrng {
    fn seeded(rng: &mut dyn RandomSource) -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(&mut *seed)?;
        Ok(Self(Some(ChaCha20Rng::from_seed(*seed))))
    }

    fn none() -> Self {
        Self(None)
    }

    fn rng(&mut self) -> Result<&mut ChaCha20Rng, BackendError> {
        self.0.as_mut().ok_or(BackendError::InsufficientRandomness)
    }
}

impl TryRng for InjectedPrng {
    type Error = BackendError;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.rng()?.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.rng()?.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.rng()?.fill_bytes(dst);
        Ok(())
    }
}

impl TryCryptoRng for InjectedPrng {}

/// hpke-rs-rust-crypto with [`InjectedPrng`] as its PRNG. Everything except
/// the two PRNG-consuming KEM operations is delegated to [`HpkeRustCrypto`].
#[derive(Debug)]
pub(super) struct InjectedBackend;

impl HpkeCrypto for InjectedBackend {
    type HpkePrng = InjectedPrng;

    fn name() -> String {
        format!("{} with injected randomness", HpkeRustCrypto::name())
    }

    fn supports_kdf(alg: KdfAlgorithm) -> Result<(), BackendError> {
        HpkeRustCrypto::supports_kdf(alg)
    }

    fn supports_kem(alg: KemAlgorithm) -> Result<(), BackendError> {
        HpkeRustCrypto::supports_kem(alg)
    }

    fn supports_aead(alg: AeadAlgorithm) -> Result<(), BackendError> {
        HpkeRustCrypto::supports_aead(alg)
    }

    fn kdf_extract(
        alg: TwoStageKdfAlgorithm,
        salt: &[u8],
        ikm: &[u8],
    ) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::kdf_extract(alg, salt, ikm)
    }

    fn kdf_expand(
        alg: TwoStageKdfAlgorithm,
        prk: &[u8],
        info: &[u8],
        output_size: usize,
    ) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::kdf_expand(alg, prk, info, output_size)
    }

    fn kdf_derive(
        alg: SingleStageKdfAlgorithm,
        ikm: &[u8],
        l: usize,
    ) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::kdf_derive(alg, ikm, l)
    }

    fn dh(alg: KemAlgorithm, pk: &[u8], sk: &[u8]) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::dh(alg, pk, sk)
    }

    fn secret_to_public(alg: KemAlgorithm, sk: &[u8]) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::secret_to_public(alg, sk)
    }

    /// Never reached: MLS derives every HPKE key pair with `DeriveKeyPair`,
    /// and hpke-rs' encapsulation for DH KEMs derives the ephemeral key from
    /// PRNG output itself.
    fn kem_key_gen(
        _alg: KemAlgorithm,
        _prng: &mut Self::HpkePrng,
    ) -> Result<(Vec<u8>, Vec<u8>), BackendError> {
        Err(BackendError::UnsupportedKemOperation)
    }

    fn kem_key_gen_derand(
        alg: KemAlgorithm,
        seed: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), BackendError> {
        HpkeRustCrypto::kem_key_gen_derand(alg, seed)
    }

    /// Only used by post-quantum KEMs, which no supported suite has.
    fn kem_encaps(
        _alg: KemAlgorithm,
        _pk_r: &[u8],
        _prng: &mut Self::HpkePrng,
    ) -> Result<(Vec<u8>, Vec<u8>), BackendError> {
        Err(BackendError::UnsupportedKemOperation)
    }

    fn kem_encaps_derand(
        alg: KemAlgorithm,
        pk_r: &[u8],
        randomness: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), BackendError> {
        HpkeRustCrypto::kem_encaps_derand(alg, pk_r, randomness)
    }

    fn kem_decaps(alg: KemAlgorithm, ct: &[u8], sk_r: &[u8]) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::kem_decaps(alg, ct, sk_r)
    }

    fn dh_validate_sk(alg: KemAlgorithm, sk: &[u8]) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::dh_validate_sk(alg, sk)
    }

    fn aead_seal(
        alg: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        msg: &[u8],
    ) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::aead_seal(alg, key, nonce, aad, msg)
    }

    fn aead_open(
        alg: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        msg: &[u8],
    ) -> Result<Vec<u8>, BackendError> {
        HpkeRustCrypto::aead_open(alg, key, nonce, aad, msg)
    }
}
