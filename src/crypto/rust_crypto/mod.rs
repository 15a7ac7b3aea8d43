//! The default provider: pure Rust (RustCrypto and dalek), all seven
//! suites of RFC 9420 §17.1.
//!
//! One [`SuiteCrypto`] implementation covers every suite, parameterised by
//! its hash (which is also its KDF and MAC), HPKE configuration, AEAD and
//! signature scheme. HPKE is our own (module `hpke`), one code path for all
//! five KEMs.
//!
//! Every entry point validates lengths and encodings itself before handing
//! bytes to a library, so malformed input from the wire yields a
//! [`CryptoError`] and never reaches a library function that could panic.

mod aead;
mod dhkem;
mod ed25519_keys;
mod hash;
mod hpke;
#[cfg(feature = "pq")]
pub mod hpke_pq_vectors;
mod kem;
#[cfg(feature = "pq")]
mod mldsa;
#[cfg(feature = "pq")]
mod pq_kem;
#[cfg(feature = "pq")]
mod pq_suites;
mod signature;

#[cfg(all(test, feature = "pq"))]
mod pq_kem_tests;
#[cfg(all(test, feature = "pq"))]
mod pq_suites_tests;

#[cfg(feature = "pq")]
pub use pq_suites::{PqCodepointError, PqCodepoints, PqRustCryptoProvider, PqSuite};

use std::sync::Arc;

use super::{
    CipherSuite, CryptoError, CryptoProvider, HpkePrivateKey, HpkePublicKey, PreparedHpkeInfo,
    RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey, SuiteCrypto,
};
use aead::AeadAlgorithm;
use dhkem::DhKem;
use hash::HashAlgorithm;
use hpke::HpkeSuite;
use kem::Kem;
use signature::SignatureScheme;

/// The suites this provider implements, in order of preference: the
/// mandatory-to-implement suite first (§17.1), then the other 128-bit
/// suites, then the 256-bit ones.
const SUPPORTED: [CipherSuite; 7] = [
    CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
    CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
    CipherSuite::MLS_256_DHKEMX448_AES256GCM_SHA512_ED448,
    CipherSuite::MLS_256_DHKEMP521_AES256GCM_SHA512_P521,
    CipherSuite::MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448,
    CipherSuite::MLS_256_DHKEMP384_AES256GCM_SHA384_P384,
];

/// Pure-Rust provider for suites 0x0001-0x0007.
#[derive(Debug, Default, Clone, Copy)]
pub struct RustCryptoProvider;

impl CryptoProvider for RustCryptoProvider {
    fn suite(&self, suite: CipherSuite) -> Option<Arc<dyn SuiteCrypto>> {
        RustSuite::new(suite).map(|s| Arc::new(s) as Arc<dyn SuiteCrypto>)
    }

    fn supported_suites(&self) -> Vec<CipherSuite> {
        SUPPORTED.to_vec()
    }
}

/// One suite: the primitives that define it (§17.1).
#[derive(Debug, Clone)]
struct RustSuite {
    id: CipherSuite,
    hash: HashAlgorithm,
    hpke: HpkeSuite,
    aead: AeadAlgorithm,
    signature: SignatureScheme,
    /// Ed25519 keys kept decoded between operations (`ed25519_keys.rs`).
    ed25519: ed25519_keys::Ed25519Keys,
}

/// What defines a suite: its HPKE KEM, hash (also the KDF and MAC), AEAD and
/// signature scheme.
type Primitives = (Kem, HashAlgorithm, AeadAlgorithm, SignatureScheme);

impl RustSuite {
    fn new(id: CipherSuite) -> Option<Self> {
        Self::rfc9420(id).map(|primitives| Self::from_primitives(id, primitives))
    }

    /// The primitives of one of RFC 9420's seven suites.
    fn rfc9420(id: CipherSuite) -> Option<Primitives> {
        use AeadAlgorithm::{Aes128Gcm, Aes256Gcm, ChaCha20Poly1305};
        use HashAlgorithm::{Sha256, Sha384, Sha512};
        use SignatureScheme::{EcdsaP256, EcdsaP384, EcdsaP521, Ed448, Ed25519};
        let (kem, hash, aead, signature) = match id {
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 => {
                (Kem::Dh(DhKem::X25519), Sha256, Aes128Gcm, Ed25519)
            }
            CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256 => {
                (Kem::Dh(DhKem::P256), Sha256, Aes128Gcm, EcdsaP256)
            }
            CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 => {
                (Kem::Dh(DhKem::X25519), Sha256, ChaCha20Poly1305, Ed25519)
            }
            CipherSuite::MLS_256_DHKEMX448_AES256GCM_SHA512_ED448 => {
                (Kem::Dh(DhKem::X448), Sha512, Aes256Gcm, Ed448)
            }
            CipherSuite::MLS_256_DHKEMP521_AES256GCM_SHA512_P521 => {
                (Kem::Dh(DhKem::P521), Sha512, Aes256Gcm, EcdsaP521)
            }
            CipherSuite::MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448 => {
                (Kem::Dh(DhKem::X448), Sha512, ChaCha20Poly1305, Ed448)
            }
            CipherSuite::MLS_256_DHKEMP384_AES256GCM_SHA384_P384 => {
                (Kem::Dh(DhKem::P384), Sha384, Aes256Gcm, EcdsaP384)
            }
            _ => return None,
        };
        Some((kem, hash, aead, signature))
    }

    /// The suite `id` made of `primitives`.
    fn from_primitives(id: CipherSuite, primitives: Primitives) -> Self {
        let (kem, hash, aead, signature) = primitives;
        Self {
            id,
            hash,
            // In every MLS suite the HPKE KDF is HKDF with the suite's hash.
            hpke: HpkeSuite::new(kem, hash, aead),
            aead,
            signature,
            ed25519: ed25519_keys::Ed25519Keys::default(),
        }
    }
}

impl SuiteCrypto for RustSuite {
    fn cipher_suite(&self) -> CipherSuite {
        self.id
    }

    fn hash_len(&self) -> usize {
        self.hash.len()
    }

    fn aead_key_len(&self) -> usize {
        self.aead.key_len()
    }

    fn aead_nonce_len(&self) -> usize {
        self.aead.nonce_len()
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        self.hash.hash(data)
    }

    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.hash.mac(key, &[data])
    }

    fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.hash.hash_parts(parts)
    }

    fn mac_parts(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        self.hash.mac(key, parts)
    }

    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        self.hash.extract(salt, &[ikm])
    }

    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError> {
        self.hash.expand(prk, &[info], len)
    }

    fn kdf_expand_each(
        &self,
        prk: &[u8],
        outputs: &[(&[u8], usize)],
    ) -> Result<Vec<Secret>, CryptoError> {
        self.hash.expand_each(prk, outputs)
    }

    fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.aead.seal(key, nonce, aad, plaintext)
    }

    fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.aead.open(key, nonce, aad, ciphertext)
    }

    fn hpke_seal(
        &self,
        public_key: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke.seal(public_key, info, aad, plaintext, rng)
    }

    fn hpke_prepare_info(&self, info: &[u8]) -> PreparedHpkeInfo {
        PreparedHpkeInfo::new(self.hpke.key_schedule_context(info))
    }

    fn hpke_seal_prepared(
        &self,
        public_key: &[u8],
        info: &PreparedHpkeInfo,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        self.hpke
            .seal_prepared(public_key, info.as_bytes(), aad, plaintext, rng)
    }

    fn hpke_open(
        &self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.hpke
            .open(private_key, kem_output, info, aad, ciphertext)
    }

    fn hpke_export_sender(
        &self,
        public_key: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vec<u8>, Secret), CryptoError> {
        self.hpke
            .send_export(public_key, info, exporter_context, length, rng)
    }

    fn hpke_export_receiver(
        &self,
        private_key: &[u8],
        kem_output: &[u8],
        info: &[u8],
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        self.hpke
            .receiver_export(private_key, kem_output, info, exporter_context, length)
    }

    fn hpke_derive_key_pair(
        &self,
        ikm: &[u8],
    ) -> Result<(HpkePrivateKey, HpkePublicKey), CryptoError> {
        self.hpke.derive_key_pair(ikm)
    }

    fn hpke_public_key(&self, private_key: &[u8]) -> Result<HpkePublicKey, CryptoError> {
        self.hpke.public_key(private_key)
    }

    fn signature_key_pair(
        &self,
        rng: &mut dyn RandomSource,
    ) -> Result<(SignaturePrivateKey, SignaturePublicKey), CryptoError> {
        self.signature.key_pair(rng)
    }

    fn signature_public_key(&self, private_key: &[u8]) -> Result<SignaturePublicKey, CryptoError> {
        self.signature.public_key(private_key)
    }

    fn sign(&self, private_key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.signature.sign(&self.ed25519, private_key, message)
    }

    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.signature
            .verify(&self.ed25519, public_key, message, signature)
    }

    // `verify_batch` keeps the trait's default (one `verify` per item) for
    // every suite, Ed25519 included. ed25519-dalek's `verify_batch` checks a
    // random linear combination of the cofactorless equations, and random
    // coefficients cannot detect small-order (torsion) components: a signer
    // who adds an order-2 point to R gets a signature that `verify_strict`
    // always rejects but the batch accepts about half the time. And since
    // dalek derives the coefficients from the batch contents, a signer who
    // can predict the rest of a batch can compute them in advance and retry
    // until the batch accepts. A key with a
    // torsion component also makes the two checks disagree the other way.
    // Rejecting only weak (small-order) keys does not close this gap; that
    // takes a full torsion check of every R and A, and those two checks cost
    // more than verifying the signature on its own. So there is no faster
    // exact batch. The regression tests in `crypto::tests` pin this.
}
