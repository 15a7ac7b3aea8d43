//! Differential tests of our post-quantum HPKE KEMs (feature `pq`) against
//! hpke-rs 0.8 with its RustCrypto backend (feature `experimental`), an
//! independent HPKE that implements draft-ietf-hpke-pq's ML-KEM-768,
//! ML-KEM-1024 and MLKEM768-X25519 (its backend has no P-256/P-384
//! hybrids, which the official vectors cover). On random inputs, both
//! directions: `DeriveKeyPair` (the labelled SHAKE256 derivation), seal and
//! open, and secret export.

use hpke::rand_core::{Rng as _, SeedableRng as _};
use hpke_rs::hpke_types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use hpke_rs::{Hpke, Mode};
use hpke_rs_rust_crypto::HpkeRustCrypto;
use rand_chacha::ChaCha20Rng;

use super::rust_crypto::{PqRustCryptoProvider, PqSuite};
use super::*;

/// Random cases per suite.
const CASES: usize = 8;

#[test]
fn hpke_rs_and_ours_agree_on_the_pq_kems() {
    let provider = PqRustCryptoProvider::default();
    let configs = [
        (
            PqSuite::Mlkem768X25519Aes128GcmSha256Ed25519,
            KemAlgorithm::XWingDraft06,
            KdfAlgorithm::HkdfSha256,
            AeadAlgorithm::Aes128Gcm,
        ),
        (
            PqSuite::Mlkem768X25519Chacha20Poly1305Sha384Mldsa44,
            KemAlgorithm::XWingDraft06,
            KdfAlgorithm::HkdfSha384,
            AeadAlgorithm::ChaCha20Poly1305,
        ),
        (
            PqSuite::Mlkem768Aes256GcmSha384Ed25519,
            KemAlgorithm::MlKem768,
            KdfAlgorithm::HkdfSha384,
            AeadAlgorithm::Aes256Gcm,
        ),
        (
            PqSuite::Mlkem1024Aes256GcmSha384P384,
            KemAlgorithm::MlKem1024,
            KdfAlgorithm::HkdfSha384,
            AeadAlgorithm::Aes256Gcm,
        ),
    ];
    for (pq, kem, kdf, aead) in configs {
        let s = provider.suite(pq.default_codepoint()).unwrap();
        let mut theirs = Hpke::<HpkeRustCrypto>::new(Mode::Base, kem, kdf, aead);
        let mut rng = ChaCha20Rng::from_seed([pq.tbd() as u8; 32]);
        for case in 0..CASES {
            let mut bytes = |len: usize| {
                let mut out = vec![0u8; len];
                rng.fill_bytes(&mut out);
                out
            };
            let (ikm, info, aad, pt, ctx) = (bytes(32), bytes(100), bytes(20), bytes(77), bytes(9));
            let name = format!("{pq:?} case {case}");

            let (sk, pk) = s.hpke_derive_key_pair(&ikm).unwrap();
            let (their_sk, their_pk) = theirs.derive_key_pair(&ikm).unwrap().into_keys();
            assert_eq!(their_sk.as_slice(), sk.as_bytes(), "{name}: sk");
            assert_eq!(their_pk.as_slice(), pk.as_bytes(), "{name}: pk");

            let mut seed = TestRng(case as u64);
            let (enc, ct) = s
                .hpke_seal(pk.as_bytes(), &info, &aad, &pt, &mut seed)
                .unwrap();
            let opened = theirs
                .open(&enc, &their_sk, &info, &aad, &ct, None, None, None)
                .unwrap();
            assert_eq!(opened, pt, "{name}: hpke-rs opens ours");

            let (enc, ct) = theirs
                .seal(&their_pk, &info, &aad, &pt, None, None, None)
                .unwrap();
            let opened = s.hpke_open(sk.as_bytes(), &enc, &info, &aad, &ct).unwrap();
            assert_eq!(opened.as_bytes(), pt, "{name}: ours opens hpke-rs");

            let (enc, secret) = s
                .hpke_export_sender(pk.as_bytes(), &info, &ctx, 32, &mut seed)
                .unwrap();
            let their_secret = theirs
                .receiver_export(&enc, &their_sk, &info, None, None, None, &ctx, 32)
                .unwrap();
            assert_eq!(their_secret, secret.as_bytes(), "{name}: export to hpke-rs");
            let (enc, their_secret) = theirs
                .send_export(&their_pk, &info, None, None, None, &ctx, 32)
                .unwrap();
            let secret = s
                .hpke_export_receiver(sk.as_bytes(), &enc, &info, &ctx, 32)
                .unwrap();
            assert_eq!(
                secret.as_bytes(),
                their_secret,
                "{name}: export from hpke-rs"
            );
        }
    }
}
