//! The default provider: pure Rust (RustCrypto, dalek, hpke-rs).
//!
//! Suites 0x0001-0x0003 all use SHA-256 for hashing, HMAC and HKDF, so the
//! suites differ only in their KEM, AEAD and signature scheme; one
//! [`SuiteCrypto`] implementation covers all three, parameterised by those
//! three choices.
//!
//! Every entry point validates lengths and encodings itself before handing
//! bytes to a library, so malformed input from the wire yields a
//! [`CryptoError`] and never reaches a library function that could panic.

mod aead;
mod hpke;
mod signature;

use std::sync::Arc;

use hkdf::{
    Hkdf, HmacImpl,
    hmac::{Hmac, digest::array::Array},
};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::{
    CipherSuite, CryptoError, CryptoProvider, HpkePrivateKey, HpkePublicKey, RandomSource, Secret,
    SignaturePrivateKey, SignaturePublicKey, SuiteCrypto,
};
use aead::AeadAlgorithm;
use hpke::HpkeSuite;
use signature::SignatureScheme;

/// `KDF.Nh` of HKDF-SHA256, the KDF of every suite this provider supports.
const SHA256_LEN: usize = 32;

/// The suites this provider implements, in order of preference.
const SUPPORTED: [CipherSuite; 3] = [
    CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
    CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
];

/// Pure-Rust provider for suites 0x0001-0x0003.
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

/// One of the SHA-256 suites: the KEM, AEAD and signature scheme that
/// distinguish it.
#[derive(Debug, Clone, Copy)]
struct RustSuite {
    id: CipherSuite,
    hpke: HpkeSuite,
    aead: AeadAlgorithm,
    signature: SignatureScheme,
}

impl RustSuite {
    fn new(id: CipherSuite) -> Option<Self> {
        let (hpke, aead, signature) = match id {
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 => (
                HpkeSuite::X25519_AES128GCM,
                AeadAlgorithm::Aes128Gcm,
                SignatureScheme::Ed25519,
            ),
            CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256 => (
                HpkeSuite::P256_AES128GCM,
                AeadAlgorithm::Aes128Gcm,
                SignatureScheme::EcdsaP256,
            ),
            CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 => (
                HpkeSuite::X25519_CHACHA20POLY1305,
                AeadAlgorithm::ChaCha20Poly1305,
                SignatureScheme::Ed25519,
            ),
            _ => return None,
        };
        Some(Self {
            id,
            hpke,
            aead,
            signature,
        })
    }
}

impl SuiteCrypto for RustSuite {
    fn cipher_suite(&self) -> CipherSuite {
        self.id
    }

    fn hash_len(&self) -> usize {
        SHA256_LEN
    }

    fn aead_key_len(&self) -> usize {
        self.aead.key_len()
    }

    fn aead_nonce_len(&self) -> usize {
        self.aead.nonce_len()
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        Sha256::digest(data).to_vec()
    }

    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so this constructor is infallible
        // (unlike the generic `KeyInit::new_from_slice`).
        let mut mac = <Hmac<Sha256> as HmacImpl>::new_from_slice(key);
        HmacImpl::update(&mut mac, data);
        HmacImpl::finalize(mac).to_vec()
    }

    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        let (mut prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
        let out = Secret::from_slice(&prk);
        wipe(&mut prk);
        out
    }

    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError> {
        // RFC 5869 requires a PRK of at least Nh bytes; every MLS secret fed
        // to Expand is exactly Nh, so a shorter one is a malformed input.
        let hkdf = Hkdf::<Sha256>::from_prk(prk).map_err(|_| CryptoError::InvalidKey)?;
        if len > 255 * SHA256_LEN {
            return Err(CryptoError::KdfLength(len));
        }
        let mut okm = vec![0; len];
        hkdf.expand(info, &mut okm)
            .map_err(|_| CryptoError::KdfLength(len))?;
        Ok(Secret::new(okm))
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
        self.signature.sign(private_key, message)
    }

    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.signature.verify(public_key, message, signature)
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

/// Overwrites a fixed-size secret buffer (an HKDF PRK on the stack).
fn wipe<N: hkdf::hmac::digest::array::ArraySize>(bytes: &mut Array<u8, N>) {
    bytes.as_mut_slice().zeroize();
}
