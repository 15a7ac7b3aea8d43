//! Provider conformance tests: every check runs against every suite the
//! default provider supports, so a new suite is covered by adding it to
//! `supported_suites()`. The interop vectors check the outputs against other
//! implementations; these check the failure behaviour the vectors do not
//! exercise (tampering, malformed keys, injected randomness).

use std::sync::Arc;

use super::rust_crypto::RustCryptoProvider;
use super::*;

/// A deterministic [`RandomSource`] (SplitMix64), so runs are reproducible.
struct TestRng(u64);

impl RandomSource for TestRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in dest.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A source that always fails.
struct FailingRng;

impl RandomSource for FailingRng {
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Rng)
    }
}

/// A broken source returning the same byte forever.
struct ConstantRng(u8);

impl RandomSource for ConstantRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        dest.fill(self.0);
        Ok(())
    }
}

fn suites() -> Vec<Arc<dyn SuiteCrypto>> {
    let provider = RustCryptoProvider;
    let ids = provider.supported_suites();
    assert!(!ids.is_empty());
    ids.into_iter()
        .map(|id| provider.suite(id).unwrap())
        .collect()
}

fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[(bit / 8) % bytes.len()] ^= 1 << (bit % 8);
    out
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn is_p256(s: &dyn SuiteCrypto) -> bool {
    s.cipher_suite() == CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256
}

#[test]
fn provider_supports_exactly_suites_1_to_3() {
    let provider = RustCryptoProvider;
    let ids = provider.supported_suites();
    assert_eq!(ids, [CipherSuite(1), CipherSuite(2), CipherSuite(3)]);
    for id in ids {
        assert_eq!(provider.suite(id).unwrap().cipher_suite(), id);
    }
    for id in [0, 4, 5, 6, 7, 0xffff] {
        assert!(provider.suite(CipherSuite(id)).is_none(), "suite {id}");
    }
    for s in suites() {
        assert_eq!(s.hash_len(), 32);
        assert_eq!(s.aead_nonce_len(), 12);
        let key_len = if s.cipher_suite().0 == 3 { 32 } else { 16 };
        assert_eq!(s.aead_key_len(), key_len);
    }
}

#[test]
fn hash_mac_kdf_known_answers() {
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    for s in suites() {
        // FIPS 180-2 "abc".
        assert_eq!(
            s.hash(b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        // RFC 4231 test case 2.
        assert_eq!(
            s.mac(b"Jefe", b"what do ya want for nothing?"),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        // RFC 5869 test case 1.
        let prk = s.kdf_extract(&hex("000102030405060708090a0b0c"), &[0x0b; 22]);
        assert_eq!(
            prk.as_bytes(),
            hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        );
        let okm = s
            .kdf_expand(prk.as_bytes(), &hex("f0f1f2f3f4f5f6f7f8f9"), 42)
            .unwrap();
        assert_eq!(
            okm.as_bytes(),
            hex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
                 34007208d5b887185865"
            )
        );
    }
}

#[test]
fn kdf_rejects_bad_lengths() {
    for s in suites() {
        let prk = s.kdf_extract(&[], b"ikm");
        assert_eq!(prk.len(), 32);
        assert_eq!(s.kdf_expand(prk.as_bytes(), b"", 0).unwrap().len(), 0);
        assert_eq!(
            s.kdf_expand(prk.as_bytes(), b"", 255 * 32).unwrap().len(),
            255 * 32
        );
        assert_eq!(
            s.kdf_expand(prk.as_bytes(), b"", 255 * 32 + 1),
            Err(CryptoError::KdfLength(255 * 32 + 1))
        );
        assert_eq!(
            s.kdf_expand(&prk.as_bytes()[..31], b"", 32),
            Err(CryptoError::InvalidKey)
        );
        // ExpandWithLabel encodes the length as uint16.
        let suite = Suite::new(s.clone());
        assert_eq!(
            suite.expand_with_label(prk.as_bytes(), "l", b"", 70_000),
            Err(CryptoError::KdfLength(70_000))
        );
    }
}

#[test]
fn sign_verify_roundtrip_and_tampering() {
    for s in suites() {
        let mut rng = TestRng(1);
        let (sk, pk) = s.signature_key_pair(&mut rng).unwrap();
        assert_eq!(s.signature_public_key(sk.as_bytes()).unwrap(), pk);
        let expected_pk_len = if is_p256(&*s) { 65 } else { 32 };
        assert_eq!(pk.as_bytes().len(), expected_pk_len);

        let msg = b"the message to sign".to_vec();
        let sig = s.sign(sk.as_bytes(), &msg).unwrap();
        s.verify(pk.as_bytes(), &msg, &sig).unwrap();
        // Both schemes are deterministic.
        assert_eq!(s.sign(sk.as_bytes(), &msg).unwrap(), sig);

        for i in 0..sig.len() {
            assert_eq!(
                s.verify(pk.as_bytes(), &msg, &flipped(&sig, i * 8 + i % 8)),
                Err(CryptoError::InvalidSignature),
                "{:?}: signature byte {i}",
                s.cipher_suite()
            );
        }
        for bit in [0, 7, 8 * msg.len() - 1] {
            assert_eq!(
                s.verify(pk.as_bytes(), &flipped(&msg, bit), &sig),
                Err(CryptoError::InvalidSignature)
            );
        }
        let (_, other_pk) = s.signature_key_pair(&mut rng).unwrap();
        assert_ne!(other_pk, pk);
        assert_eq!(
            s.verify(other_pk.as_bytes(), &msg, &sig),
            Err(CryptoError::InvalidSignature)
        );

        // The label is bound into the signed content.
        let suite = Suite::new(s.clone());
        let sig = suite.sign_with_label(&sk, "Label", b"content").unwrap();
        suite
            .verify_with_label(&pk, "Label", b"content", &sig)
            .unwrap();
        assert!(
            suite
                .verify_with_label(&pk, "Other", b"content", &sig)
                .is_err()
        );
    }
}

#[test]
fn signature_keys_come_from_the_injected_rng() {
    for s in suites() {
        let a = s.signature_key_pair(&mut TestRng(7)).unwrap();
        let b = s.signature_key_pair(&mut TestRng(7)).unwrap();
        let c = s.signature_key_pair(&mut TestRng(8)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.1, c.1);
        assert_eq!(s.signature_key_pair(&mut FailingRng), Err(CryptoError::Rng));
    }
    // Ed25519 accepts any seed; 0xff.. is not a P-256 scalar, so a source
    // stuck on it is reported rather than looping forever.
    for s in suites() {
        let result = s.signature_key_pair(&mut ConstantRng(0xff));
        if is_p256(&*s) {
            assert_eq!(result, Err(CryptoError::Rng));
        } else {
            assert!(result.is_ok());
        }
    }
}

#[test]
fn ed25519_verification_is_strict() {
    // The identity point as public key and R, with S = 0, satisfies the
    // cofactorless equation for every message; strict verification must
    // reject the small-order key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut sig = identity.to_vec();
    sig.extend_from_slice(&[0; 32]);
    for s in suites().iter().filter(|s| !is_p256(&***s)) {
        assert!(s.verify(&identity, b"anything", &sig).is_err());
    }
}

#[test]
fn signature_rejects_malformed_keys_and_signatures() {
    for s in suites() {
        let (sk, pk) = s.signature_key_pair(&mut TestRng(3)).unwrap();
        let sig = s.sign(sk.as_bytes(), b"m").unwrap();
        let sk_len = sk.as_bytes().len();
        for bad in [0, 1, sk_len - 1, sk_len + 1, 64] {
            let key = vec![0x42; bad];
            assert_eq!(s.sign(&key, b"m"), Err(CryptoError::InvalidKey));
            assert_eq!(s.signature_public_key(&key), Err(CryptoError::InvalidKey));
        }
        let pk_len = pk.as_bytes().len();
        for bad in [0, 1, 31, 33, pk_len - 1, pk_len + 1] {
            assert_eq!(
                s.verify(&vec![0x04; bad], b"m", &sig),
                Err(CryptoError::InvalidKey)
            );
        }
        for garbage in [
            vec![],
            vec![0x30],
            vec![0x30; 64],
            vec![0xff; 72],
            vec![0; 200],
        ] {
            assert_eq!(
                s.verify(pk.as_bytes(), b"m", &garbage),
                Err(CryptoError::InvalidSignature)
            );
        }
    }
    let p256 = RustCryptoProvider
        .suite(CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256)
        .unwrap();
    // Scalars 0 and >= n; a point off the curve; a compressed point.
    for sk in [[0u8; 32], [0xff; 32]] {
        assert_eq!(p256.sign(&sk, b"m"), Err(CryptoError::InvalidKey));
    }
    let mut off_curve = vec![0x04];
    off_curve.extend_from_slice(&[0x01; 64]);
    let (_, pk) = p256.signature_key_pair(&mut TestRng(4)).unwrap();
    let mut compressed = vec![0x02 | (pk.as_bytes()[64] & 1)];
    compressed.extend_from_slice(&pk.as_bytes()[1..33]);
    let sig = p256.sign(&[0x11; 32], b"m").unwrap();
    for key in [off_curve, compressed] {
        assert_eq!(p256.verify(&key, b"m", &sig), Err(CryptoError::InvalidKey));
    }
}

#[test]
fn hpke_roundtrip_and_tampering() {
    for s in suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"hpke ikm").unwrap();
        let (info, aad, pt) = (
            b"info".as_slice(),
            b"aad".as_slice(),
            b"plaintext".as_slice(),
        );
        let (enc, ct) = s
            .hpke_seal(pk.as_bytes(), info, aad, pt, &mut TestRng(5))
            .unwrap();
        assert_eq!(ct.len(), pt.len() + 16);
        let opened = s.hpke_open(sk.as_bytes(), &enc, info, aad, &ct).unwrap();
        assert_eq!(opened.as_bytes(), pt);

        let open = |enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
            s.hpke_open(sk.as_bytes(), enc, info, aad, ct)
        };
        let fail = Err(CryptoError::DecryptionFailed);
        for bit in [0, 8 * enc.len() / 2 + 3, 8 * enc.len() - 2] {
            assert_eq!(open(&flipped(&enc, bit), info, aad, &ct), fail);
        }
        for bit in [0, 8 * ct.len() - 1] {
            assert_eq!(open(&enc, info, aad, &flipped(&ct, bit)), fail);
        }
        assert_eq!(open(&enc, b"infO", aad, &ct), fail);
        assert_eq!(open(&enc, info, b"aaD", &ct), fail);
        assert_eq!(open(&enc, info, aad, &ct[..15]), fail);
        assert_eq!(open(&enc, info, aad, &[]), fail);
        assert_eq!(open(&[], info, aad, &ct), fail);
        assert_eq!(open(&enc[..enc.len() - 1], info, aad, &ct), fail);
        let (other_sk, _) = s.hpke_derive_key_pair(b"other ikm").unwrap();
        assert_eq!(s.hpke_open(other_sk.as_bytes(), &enc, info, aad, &ct), fail);
        // An all-zero X25519 share gives an all-zero DH output, which RFC
        // 9180 requires rejecting.
        if !is_p256(&*s) {
            assert_eq!(open(&[0; 32], info, aad, &ct), fail);
        }

        // Empty plaintext and a fresh seal per call.
        let (enc2, ct2) = s
            .hpke_seal(pk.as_bytes(), b"", b"", b"", &mut TestRng(6))
            .unwrap();
        assert_ne!(enc2, enc);
        assert!(
            s.hpke_open(sk.as_bytes(), &enc2, b"", b"", &ct2)
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn hpke_seal_is_deterministic_given_the_rng() {
    for s in suites() {
        let (_, pk) = s.hpke_derive_key_pair(&[9; 32]).unwrap();
        let seal = |seed| {
            s.hpke_seal(pk.as_bytes(), b"i", b"a", b"p", &mut TestRng(seed))
                .unwrap()
        };
        assert_eq!(seal(10), seal(10));
        assert_ne!(seal(10).0, seal(11).0);
        assert_eq!(
            s.hpke_seal(pk.as_bytes(), b"i", b"a", b"p", &mut FailingRng),
            Err(CryptoError::Rng)
        );
    }
}

#[test]
fn hpke_derive_key_pair_is_deterministic_and_consistent() {
    for s in suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"ikm").unwrap();
        let (sk2, pk2) = s.hpke_derive_key_pair(b"ikm").unwrap();
        assert_eq!((&sk, &pk), (&sk2, &pk2));
        assert_eq!(sk.as_bytes().len(), 32);
        let expected_pk_len = if is_p256(&*s) { 65 } else { 32 };
        assert_eq!(pk.as_bytes().len(), expected_pk_len);
        assert_eq!(s.hpke_public_key(sk.as_bytes()).unwrap(), pk);
        let (sk3, pk3) = s.hpke_derive_key_pair(b"ikm2").unwrap();
        assert_ne!(sk3, sk);
        assert_ne!(pk3, pk);
        // Empty input key material is allowed by RFC 9180.
        s.hpke_derive_key_pair(b"").unwrap();
    }
}

#[test]
fn hpke_rejects_malformed_keys() {
    for s in suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"k").unwrap();
        let (enc, ct) = s
            .hpke_seal(pk.as_bytes(), b"", b"", b"x", &mut TestRng(12))
            .unwrap();
        for bad in [0, 1, 31, 33, 64] {
            let key = vec![0x42; bad];
            assert_eq!(s.hpke_public_key(&key), Err(CryptoError::InvalidKey));
            assert_eq!(
                s.hpke_open(&key, &enc, b"", b"", &ct),
                Err(CryptoError::InvalidKey)
            );
        }
        let pk_len = pk.as_bytes().len();
        for bad in [0, 1, 31, 33, pk_len + 1] {
            assert_eq!(
                s.hpke_seal(&vec![0x04; bad], b"", b"", b"x", &mut TestRng(1)),
                Err(CryptoError::InvalidKey)
            );
        }
        assert!(s.hpke_open(sk.as_bytes(), &enc, b"", b"", &ct).is_ok());
    }
    let p256 = RustCryptoProvider
        .suite(CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256)
        .unwrap();
    for sk in [[0u8; 32], [0xff; 32]] {
        assert_eq!(p256.hpke_public_key(&sk), Err(CryptoError::InvalidKey));
    }
    let mut off_curve = vec![0x04];
    off_curve.extend_from_slice(&[0x01; 64]);
    let (_, pk) = p256.hpke_derive_key_pair(b"k").unwrap();
    let mut compressed = vec![0x02 | (pk.as_bytes()[64] & 1)];
    compressed.extend_from_slice(&pk.as_bytes()[1..33]);
    for key in [off_curve, compressed] {
        assert_eq!(
            p256.hpke_seal(&key, b"", b"", b"x", &mut TestRng(1)),
            Err(CryptoError::InvalidKey)
        );
    }
}

// ---------------------------------------------------------------------------
// HPKE secret export (RFC 9180 §6.2) and External Initialization (§8.3).
// ---------------------------------------------------------------------------

/// The exporter context of §8.3.
const EXTERNAL_INIT: &[u8] = b"MLS 1.0 external init secret";

#[test]
fn hpke_export_sender_and_receiver_agree() {
    for s in suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"export ikm").unwrap();
        let mut rng = TestRng(20);
        for (info, context) in [
            (b"".as_slice(), b"".as_slice()),
            (b"info", b"context"),
            (b"", EXTERNAL_INIT),
        ] {
            for length in [0, 1, 32, 64, 255 * 32] {
                let (enc, sent) = s
                    .hpke_export_sender(pk.as_bytes(), info, context, length, &mut rng)
                    .unwrap();
                assert_eq!(sent.len(), length);
                let received = s
                    .hpke_export_receiver(sk.as_bytes(), &enc, info, context, length)
                    .unwrap();
                assert_eq!(received, sent, "{:?} length {length}", s.cipher_suite());
            }
        }
        // The exporter context and info separate the outputs of one context.
        let (enc, a) = s
            .hpke_export_sender(pk.as_bytes(), b"", b"ctx A", 32, &mut TestRng(21))
            .unwrap();
        let b = s
            .hpke_export_receiver(sk.as_bytes(), &enc, b"", b"ctx B", 32)
            .unwrap();
        let c = s
            .hpke_export_receiver(sk.as_bytes(), &enc, b"info", b"ctx A", 32)
            .unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}

/// RFC 9180 Appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// AES-128-GCM, base mode): the exported values, receiver side. That is
/// suite 0x0001's HPKE configuration.
#[test]
fn hpke_export_matches_rfc9180_vectors() {
    let s = RustCryptoProvider
        .suite(CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519)
        .unwrap();
    let sk = unhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8");
    let pk = unhex("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d");
    let enc = unhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431");
    let info = unhex("4f6465206f6e2061204772656369616e2055726e");
    assert_eq!(s.hpke_public_key(&sk).unwrap().as_bytes(), pk);
    for (context, expected) in [
        (
            "",
            "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee",
        ),
        (
            "00",
            "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5",
        ),
        (
            "54657374436f6e74657874",
            "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931",
        ),
    ] {
        let exported = s
            .hpke_export_receiver(&sk, &enc, &info, &unhex(context), 32)
            .unwrap();
        assert_eq!(exported.as_bytes(), unhex(expected), "context {context}");
    }
}

#[test]
fn external_init_follows_section_8_3() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let (external_priv, external_pub) = suite.derive_key_pair(b"external secret").unwrap();
        let (kem_output, init_secret) = suite
            .external_init_sender(&external_pub, &mut TestRng(30))
            .unwrap();
        assert_eq!(init_secret.len(), suite.hash_len());
        let expected_enc_len = if is_p256(&*s) { 65 } else { 32 };
        assert_eq!(kem_output.len(), expected_enc_len);
        assert_eq!(
            suite
                .external_init_receiver(&external_priv, &kem_output)
                .unwrap(),
            init_secret
        );
        // Exactly the §8.3 formula: info "", the exporter context, KDF.Nh.
        assert_eq!(
            s.hpke_export_receiver(
                external_priv.as_bytes(),
                &kem_output,
                b"",
                EXTERNAL_INIT,
                s.hash_len()
            )
            .unwrap(),
            init_secret
        );
        // Each joiner's init_secret is fresh.
        let (kem_output2, init_secret2) = suite
            .external_init_sender(&external_pub, &mut TestRng(31))
            .unwrap();
        assert_ne!(kem_output2, kem_output);
        assert_ne!(init_secret2, init_secret);
    }
}

#[test]
fn hpke_export_tampering_changes_or_rejects() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let (sk, pk) = suite.derive_key_pair(b"tamper").unwrap();
        let (enc, secret) = suite.external_init_sender(&pk, &mut TestRng(40)).unwrap();
        // Export has no tag: a tampered enc is either rejected as malformed
        // (e.g. not a P-256 point) or yields an unrelated secret.
        let mut rejected = 0;
        for bit in 0..8 * enc.len() {
            match suite.external_init_receiver(&sk, &flipped(&enc, bit)) {
                Ok(other) => assert_ne!(other, secret, "bit {bit}"),
                Err(e) => {
                    assert_eq!(e, CryptoError::DecryptionFailed);
                    rejected += 1;
                }
            }
        }
        if !is_p256(&*s) {
            // Every 32-byte string is an X25519 share except those giving
            // an all-zero DH output.
            assert_eq!(rejected, 0);
        }
        let fail = Err(CryptoError::DecryptionFailed);
        assert_eq!(suite.external_init_receiver(&sk, &[]), fail);
        assert_eq!(
            suite.external_init_receiver(&sk, &enc[..enc.len() - 1]),
            fail
        );
        let mut longer = enc.clone();
        longer.push(0);
        assert_eq!(suite.external_init_receiver(&sk, &longer), fail);
        if !is_p256(&*s) {
            // All-zero X25519 share: all-zero DH output, rejected by RFC 9180.
            assert_eq!(suite.external_init_receiver(&sk, &[0; 32]), fail);
        }
        // The wrong private key derives a different secret.
        let (other_sk, _) = suite.derive_key_pair(b"someone else").unwrap();
        assert_ne!(
            suite.external_init_receiver(&other_sk, &enc).unwrap(),
            secret
        );
    }
}

#[test]
fn hpke_export_is_deterministic_given_the_rng() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let (_, pk) = suite.derive_key_pair(&[7; 32]).unwrap();
        let run = |seed| suite.external_init_sender(&pk, &mut TestRng(seed)).unwrap();
        assert_eq!(run(50), run(50));
        assert_ne!(run(50).0, run(51).0);
        assert_ne!(run(50).1, run(51).1);
        assert_eq!(
            suite.external_init_sender(&pk, &mut FailingRng),
            Err(CryptoError::Rng)
        );
        // The receiver draws no randomness.
        let (sk, pk) = suite.derive_key_pair(b"r").unwrap();
        let (enc, secret) = suite.external_init_sender(&pk, &mut TestRng(52)).unwrap();
        for _ in 0..2 {
            assert_eq!(suite.external_init_receiver(&sk, &enc).unwrap(), secret);
        }
    }
}

#[test]
fn hpke_export_rejects_malformed_keys_and_lengths() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let (sk, pk) = s.hpke_derive_key_pair(b"k").unwrap();
        let (enc, _) = s
            .hpke_export_sender(pk.as_bytes(), b"", b"", 32, &mut TestRng(60))
            .unwrap();
        for bad in [0, 1, 31, 33, 64] {
            let key = vec![0x42; bad];
            assert_eq!(
                s.hpke_export_receiver(&key, &enc, b"", b"", 32),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                suite.external_init_receiver(&HpkePrivateKey(Secret::new(key)), &enc),
                Err(CryptoError::InvalidKey)
            );
        }
        let pk_len = pk.as_bytes().len();
        for bad in [0, 1, 31, 33, pk_len - 1, pk_len + 1] {
            let key = vec![0x04; bad];
            assert_eq!(
                s.hpke_export_sender(&key, b"", b"", 32, &mut TestRng(1)),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                suite.external_init_sender(&HpkePublicKey(key), &mut TestRng(1)),
                Err(CryptoError::InvalidKey)
            );
        }
        if !is_p256(&*s) {
            // The all-zero X25519 key gives an all-zero DH output.
            assert_eq!(
                suite.external_init_sender(&HpkePublicKey(vec![0; 32]), &mut TestRng(1)),
                Err(CryptoError::EncryptionFailed)
            );
        }
        // Context.Export is limited to 255 * Nh bytes (RFC 9180 §5.3).
        let too_long = 255 * 32 + 1;
        assert_eq!(
            s.hpke_export_sender(pk.as_bytes(), b"", b"", too_long, &mut TestRng(1)),
            Err(CryptoError::KdfLength(too_long))
        );
        assert_eq!(
            s.hpke_export_receiver(sk.as_bytes(), &enc, b"", b"", too_long),
            Err(CryptoError::KdfLength(too_long))
        );
        assert_eq!(
            s.hpke_export_receiver(sk.as_bytes(), &enc, b"", b"", usize::MAX),
            Err(CryptoError::KdfLength(usize::MAX))
        );
        assert!(
            s.hpke_export_receiver(sk.as_bytes(), &enc, b"", b"", 32)
                .is_ok()
        );
    }
    let p256 = RustCryptoProvider
        .suite(CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256)
        .unwrap();
    let (_, pk) = p256.hpke_derive_key_pair(b"k").unwrap();
    let (enc, _) = p256
        .hpke_export_sender(pk.as_bytes(), b"", b"", 32, &mut TestRng(61))
        .unwrap();
    // Scalars 0 and >= n.
    for sk in [[0u8; 32], [0xff; 32]] {
        assert_eq!(
            p256.hpke_export_receiver(&sk, &enc, b"", b"", 32),
            Err(CryptoError::InvalidKey)
        );
    }
    // A point off the curve and a compressed point, as key and as enc.
    let mut off_curve = vec![0x04];
    off_curve.extend_from_slice(&[0x01; 64]);
    let mut compressed = vec![0x02 | (pk.as_bytes()[64] & 1)];
    compressed.extend_from_slice(&pk.as_bytes()[1..33]);
    let (sk, _) = p256.hpke_derive_key_pair(b"k").unwrap();
    for key in [off_curve, compressed] {
        assert_eq!(
            p256.hpke_export_sender(&key, b"", b"", 32, &mut TestRng(1)),
            Err(CryptoError::InvalidKey)
        );
        assert_eq!(
            p256.hpke_export_receiver(sk.as_bytes(), &key, b"", b"", 32),
            Err(CryptoError::DecryptionFailed)
        );
    }
}

mod batch;

#[test]
fn labelled_operations_refuse_inputs_too_long_to_encode() {
    let suite = Suite::new(suites().remove(0));
    // One byte over what a length header can express (§2.1.2): signing or
    // hashing a stand-in would cover other bytes than the caller's.
    let huge = vec![0u8; crate::codec::MAX_VECTOR_LEN + 1];
    assert!(matches!(
        suite.ref_hash(b"label", &huge),
        Err(CryptoError::InputTooLong(_))
    ));
    let (sk, pk) = suite
        .primitives()
        .signature_key_pair(&mut TestRng(1))
        .unwrap();
    assert!(matches!(
        suite.sign_with_label(&sk, "L", &huge),
        Err(CryptoError::InputTooLong(_))
    ));
    assert!(suite.verify_with_label(&pk, "L", &huge, &[0; 64]).is_err());
}
