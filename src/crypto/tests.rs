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

#[test]
fn aead_roundtrip_and_tampering() {
    for s in suites() {
        let key = vec![0x01; s.aead_key_len()];
        let nonce = vec![0x02; s.aead_nonce_len()];
        let ct = s.aead_seal(&key, &nonce, b"aad", b"plaintext").unwrap();
        assert_eq!(ct.len(), 9 + 16);
        assert_eq!(
            s.aead_open(&key, &nonce, b"aad", &ct).unwrap().as_bytes(),
            b"plaintext"
        );
        let fail = Err(CryptoError::DecryptionFailed);
        for bit in [0, 8 * ct.len() - 1, 8 * (ct.len() - 8)] {
            assert_eq!(s.aead_open(&key, &nonce, b"aad", &flipped(&ct, bit)), fail);
        }
        assert_eq!(s.aead_open(&key, &nonce, b"aaD", &ct), fail);
        assert_eq!(s.aead_open(&key, &flipped(&nonce, 0), b"aad", &ct), fail);
        assert_eq!(s.aead_open(&flipped(&key, 0), &nonce, b"aad", &ct), fail);
        assert_eq!(s.aead_open(&key, &nonce, b"aad", &ct[..15]), fail);
        assert_eq!(s.aead_open(&key, &nonce, b"aad", &[]), fail);

        let empty = s.aead_seal(&key, &nonce, b"", b"").unwrap();
        assert_eq!(empty.len(), 16);
        assert!(s.aead_open(&key, &nonce, b"", &empty).unwrap().is_empty());
    }
}

#[test]
fn aead_rejects_wrong_lengths() {
    for s in suites() {
        let nonce = vec![0; s.aead_nonce_len()];
        let good_key = vec![0; s.aead_key_len()];
        let ct = s.aead_seal(&good_key, &nonce, b"", b"x").unwrap();
        for len in [0, s.aead_key_len() - 1, s.aead_key_len() + 1] {
            let key = vec![0; len];
            assert_eq!(
                s.aead_seal(&key, &nonce, b"", b"x"),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                s.aead_open(&key, &nonce, b"", &ct),
                Err(CryptoError::InvalidKey)
            );
        }
        for len in [0, 11, 13, 24] {
            let nonce = vec![0; len];
            assert_eq!(
                s.aead_seal(&good_key, &nonce, b"", b"x"),
                Err(CryptoError::EncryptionFailed)
            );
            assert_eq!(
                s.aead_open(&good_key, &nonce, b"", &ct),
                Err(CryptoError::DecryptionFailed)
            );
        }
    }
}

/// Random lengths and contents for every byte-string argument: nothing may
/// panic, whatever it returns.
#[test]
fn garbage_inputs_never_panic() {
    let mut rng = TestRng(99);
    let bytes = |rng: &mut TestRng| {
        let mut len = [0u8; 1];
        rng.fill(&mut len).unwrap();
        let mut v = vec![0u8; usize::from(len[0] % 80)];
        rng.fill(&mut v).unwrap();
        v
    };
    for s in suites() {
        for _ in 0..200 {
            let (a, b, c) = (bytes(&mut rng), bytes(&mut rng), bytes(&mut rng));
            let _ = s.kdf_expand(&a, &b, c.len() * 100);
            let _ = s.aead_seal(&a, &b, &c, &a);
            let _ = s.aead_open(&a, &b, &c, &a);
            let _ = s.hpke_seal(&a, &b, &c, &a, &mut rng);
            let _ = s.hpke_open(&a, &b, &c, &a, &b);
            let _ = s.hpke_public_key(&a);
            let _ = s.hpke_derive_key_pair(&a);
            let _ = s.signature_public_key(&a);
            let _ = s.sign(&a, &b);
            let _ = s.verify(&a, &b, &c);
        }
    }
}

#[test]
fn secret_debug_is_redacted() {
    let secret = Secret::new(vec![0xab, 0xcd, 0xef, 0x12]);
    let printed = format!("{secret:?}");
    assert!(printed.contains("REDACTED"), "{printed}");
    for leak in ["ab", "cd", "ef", "171", "205"] {
        assert!(!printed.to_lowercase().contains(leak), "{printed}");
    }
    let hpke = HpkePrivateKey(secret.clone());
    let sig = SignaturePrivateKey(secret);
    for printed in [
        format!("{hpke:?}"),
        format!("{sig:?}"),
        format!("{hpke:#?}"),
    ] {
        assert!(printed.contains("REDACTED"), "{printed}");
        assert!(
            !printed.contains("171") && !printed.contains("ab"),
            "{printed}"
        );
    }
}
