//! Provider conformance tests: every check runs against every suite the
//! default provider supports, so a new suite is covered by adding it to
//! `supported_suites()`. The interop vectors check the outputs against other
//! implementations; these check the failure behaviour the vectors do not
//! exercise (tampering, malformed keys, injected randomness).

use std::sync::Arc;

use super::rust_crypto::RustCryptoProvider;
use super::*;

// A deterministic source (SplitMix64), and one that always fails.
use super::conformance::{Counter as TestRng, Failing as FailingRng};

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

/// What RFC 9420 §17.1, RFC 9180 §7 and RFC 8032 / SEC 1 fix for a suite:
/// output and key sizes, and the curve families that decide which
/// malformed-key checks apply.
struct Expected {
    hash_len: usize,
    aead_key_len: usize,
    signature_private_len: usize,
    signature_public_len: usize,
    /// `Nsk` and `Npk` (= `Nenc`) of the DHKEM.
    hpke_private_len: usize,
    hpke_public_len: usize,
    /// X25519 or X448: any string of the right length is a key, and a
    /// low-order share gives an all-zero DH output.
    montgomery_kem: bool,
    /// Ed25519 or Ed448 rather than ECDSA.
    eddsa: bool,
}

fn expected(s: &dyn SuiteCrypto) -> Expected {
    let (hash_len, aead_key_len) = match s.cipher_suite().0 {
        1 | 2 => (32, 16),
        3 => (32, 32),
        4..=6 => (64, 32),
        7 => (48, 32),
        other => panic!("unexpected suite {other}"),
    };
    let (signature_private_len, signature_public_len, hpke_private_len, hpke_public_len) =
        match s.cipher_suite().0 {
            1 | 3 => (32, 32, 32, 32),
            2 => (32, 65, 32, 65),
            4 | 6 => (57, 57, 56, 56),
            5 => (66, 133, 66, 133),
            7 => (48, 97, 48, 97),
            other => panic!("unexpected suite {other}"),
        };
    let montgomery = matches!(s.cipher_suite().0, 1 | 3 | 4 | 6);
    Expected {
        hash_len,
        aead_key_len,
        signature_private_len,
        signature_public_len,
        hpke_private_len,
        hpke_public_len,
        montgomery_kem: montgomery,
        eddsa: montgomery,
    }
}

fn is_ed25519(s: &dyn SuiteCrypto) -> bool {
    matches!(s.cipher_suite().0, 1 | 3)
}

/// The NIST-curve suites (P-256, P-521, P-384): the suites whose keys have
/// invalid scalars and invalid points to test.
fn nist_suites() -> Vec<Arc<dyn SuiteCrypto>> {
    suites()
        .into_iter()
        .filter(|s| !expected(&**s).montgomery_kem)
        .collect()
}

/// An uncompressed SEC1 point that is not on the curve, and the compressed
/// encoding of `pk` (RFC 9180 §7.1.1 and RFC 9420 §5.1.1 allow only the
/// uncompressed form).
fn bad_nist_points(pk: &[u8]) -> [Vec<u8>; 2] {
    let coordinate_len = (pk.len() - 1) / 2;
    let mut off_curve = vec![0x04];
    off_curve.extend(std::iter::repeat_n(0x01, 2 * coordinate_len));
    let mut compressed = vec![0x02 | (pk[pk.len() - 1] & 1)];
    compressed.extend_from_slice(&pk[1..=coordinate_len]);
    [off_curve, compressed]
}

#[test]
fn provider_supports_all_seven_suites() {
    let provider = RustCryptoProvider;
    let ids = provider.supported_suites();
    assert_eq!(ids, (1..=7).map(CipherSuite).collect::<Vec<_>>());
    for id in ids {
        assert_eq!(provider.suite(id).unwrap().cipher_suite(), id);
    }
    for id in [0, 8, 0x0a0a, 0xffff] {
        assert!(provider.suite(CipherSuite(id)).is_none(), "suite {id}");
    }
    for s in suites() {
        let want = expected(&*s);
        assert_eq!(s.hash_len(), want.hash_len);
        assert_eq!(s.hash(b"").len(), want.hash_len);
        assert_eq!(s.aead_nonce_len(), 12);
        assert_eq!(s.aead_key_len(), want.aead_key_len);
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
    // Per hash: FIPS 180-2 "abc"; RFC 4231 test case 2; the inputs of RFC
    // 5869 test case 1 (its outputs for SHA-256; for SHA-384 and SHA-512,
    // which RFC 5869 does not cover, computed with Python's hmac module).
    struct Answers {
        abc: &'static str,
        hmac: &'static str,
        prk: &'static str,
        okm: &'static str,
    }
    let answers = |hash_len| match hash_len {
        32 => Answers {
            abc: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            hmac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            prk: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
                  34007208d5b887185865",
        },
        48 => Answers {
            abc: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
                  8086072ba1e7cc2358baeca134c825a7",
            hmac: "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                   8e2240ca5e69e2c78b3239ecfab21649",
            prk: "704b39990779ce1dc548052c7dc39f303570dd13fb39f7acc564680bef80e8de\
                  c70ee9a7e1f3e293ef68eceb072a5ade",
            okm: "9b5097a86038b805309076a44b3a9f38063e25b516dcbf369f394cfab43685f7\
                  48b6457763e4f0204fc5",
        },
        64 => Answers {
            abc: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                  2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            hmac: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                   9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            prk: "665799823737ded04a88e47e54a5890bb2c3d247c7a4254a8e61350723590a26\
                  c36238127d8661b88cf80ef802d57e2f7cebcf1e00e083848be19929c61b4237",
            okm: "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c14815793\
                  38da362cb8d9f925d7cb",
        },
        other => panic!("unexpected hash length {other}"),
    };
    let strip = |s: &str| hex(&s.split_whitespace().collect::<String>());
    for s in suites() {
        let want = answers(s.hash_len());
        assert_eq!(s.hash(b"abc"), strip(want.abc));
        assert_eq!(
            s.mac(b"Jefe", b"what do ya want for nothing?"),
            strip(want.hmac)
        );
        let prk = s.kdf_extract(&hex("000102030405060708090a0b0c"), &[0x0b; 22]);
        assert_eq!(prk.as_bytes(), strip(want.prk));
        let okm = s
            .kdf_expand(prk.as_bytes(), &hex("f0f1f2f3f4f5f6f7f8f9"), 42)
            .unwrap();
        assert_eq!(okm.as_bytes(), strip(want.okm));
    }
}

#[test]
fn kdf_rejects_bad_lengths() {
    for s in suites() {
        let nh = s.hash_len();
        let prk = s.kdf_extract(&[], b"ikm");
        assert_eq!(prk.len(), nh);
        assert_eq!(s.kdf_expand(prk.as_bytes(), b"", 0).unwrap().len(), 0);
        assert_eq!(
            s.kdf_expand(prk.as_bytes(), b"", 255 * nh).unwrap().len(),
            255 * nh
        );
        assert_eq!(
            s.kdf_expand(prk.as_bytes(), b"", 255 * nh + 1),
            Err(CryptoError::KdfLength(255 * nh + 1))
        );
        assert_eq!(
            s.kdf_expand(&prk.as_bytes()[..nh - 1], b"", nh),
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

/// The exported suite (`crypto::conformance`) passes on the default
/// provider, so an outside provider is held to what this one does.
#[test]
fn the_default_provider_passes_the_exported_conformance_suite() {
    super::conformance::run(&RustCryptoProvider);
}

#[test]
fn sign_verify_roundtrip_and_tampering() {
    for s in suites() {
        let mut rng = TestRng(1);
        let (sk, pk) = s.signature_key_pair(&mut rng).unwrap();
        assert_eq!(s.signature_public_key(sk.as_bytes()).unwrap(), pk);
        assert_eq!(pk.as_bytes().len(), expected(&*s).signature_public_len);
        assert_eq!(sk.as_bytes().len(), expected(&*s).signature_private_len);

        let msg = b"the message to sign".to_vec();
        let sig = s.sign(sk.as_bytes(), &msg).unwrap();
        s.verify(pk.as_bytes(), &msg, &sig).unwrap();
        // Every scheme is deterministic.
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
    // EdDSA accepts any seed; 0xff.. is not a scalar below the order of any
    // NIST curve (P-521 candidates are masked to 0x01ff.., still above n),
    // so a source stuck on it is reported rather than looping forever.
    for s in suites() {
        let result = s.signature_key_pair(&mut ConstantRng(0xff));
        if expected(&*s).eddsa {
            assert!(result.is_ok());
        } else {
            assert_eq!(result, Err(CryptoError::Rng));
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
    for s in suites().iter().filter(|s| is_ed25519(&***s)) {
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
    // ECDSA: scalars 0 and >= n; a point off the curve; a compressed point.
    for s in nist_suites() {
        let (sk, pk) = s.signature_key_pair(&mut TestRng(4)).unwrap();
        let len = sk.as_bytes().len();
        for bad in [vec![0u8; len], vec![0xff; len]] {
            assert_eq!(s.sign(&bad, b"m"), Err(CryptoError::InvalidKey));
        }
        let sig = s.sign(sk.as_bytes(), b"m").unwrap();
        for key in bad_nist_points(pk.as_bytes()) {
            assert_eq!(s.verify(&key, b"m", &sig), Err(CryptoError::InvalidKey));
        }
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
        // An all-zero X25519/X448 share gives an all-zero DH output, which
        // RFC 9180 §7.1.4 requires rejecting.
        if expected(&*s).montgomery_kem {
            assert_eq!(open(&vec![0; enc.len()], info, aad, &ct), fail);
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
        assert_eq!(sk.as_bytes().len(), expected(&*s).hpke_private_len);
        assert_eq!(pk.as_bytes().len(), expected(&*s).hpke_public_len);
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
    for s in nist_suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"k").unwrap();
        let len = sk.as_bytes().len();
        for bad in [vec![0u8; len], vec![0xff; len]] {
            assert_eq!(s.hpke_public_key(&bad), Err(CryptoError::InvalidKey));
        }
        for key in bad_nist_points(pk.as_bytes()) {
            assert_eq!(
                s.hpke_seal(&key, b"", b"", b"x", &mut TestRng(1)),
                Err(CryptoError::InvalidKey)
            );
        }
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
            for length in [0, 1, 32, 64, 255 * s.hash_len()] {
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
        assert_eq!(kem_output.len(), expected(&*s).hpke_public_len);
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
        // (e.g. not a point on a NIST curve) or yields an unrelated secret.
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
        if expected(&*s).montgomery_kem {
            // Every string of the right length is an X25519/X448 share
            // except those giving an all-zero DH output.
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
        if expected(&*s).montgomery_kem {
            // All-zero share: all-zero DH output, rejected by RFC 9180.
            assert_eq!(suite.external_init_receiver(&sk, &vec![0; enc.len()]), fail);
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
        if expected(&*s).montgomery_kem {
            // The all-zero key gives an all-zero DH output.
            assert_eq!(
                suite.external_init_sender(&HpkePublicKey(vec![0; pk_len]), &mut TestRng(1)),
                Err(CryptoError::EncryptionFailed)
            );
        }
        // Context.Export is limited to 255 * Nh bytes (RFC 9180 §5.3).
        let too_long = 255 * s.hash_len() + 1;
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
    for s in nist_suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"k").unwrap();
        let (enc, _) = s
            .hpke_export_sender(pk.as_bytes(), b"", b"", 32, &mut TestRng(61))
            .unwrap();
        // Scalars 0 and >= n.
        let len = sk.as_bytes().len();
        for bad in [vec![0u8; len], vec![0xff; len]] {
            assert_eq!(
                s.hpke_export_receiver(&bad, &enc, b"", b"", 32),
                Err(CryptoError::InvalidKey)
            );
        }
        // A point off the curve and a compressed point, as key and as enc.
        for key in bad_nist_points(pk.as_bytes()) {
            assert_eq!(
                s.hpke_export_sender(&key, b"", b"", 32, &mut TestRng(1)),
                Err(CryptoError::InvalidKey)
            );
            assert_eq!(
                s.hpke_export_receiver(sk.as_bytes(), &key, b"", b"", 32),
                Err(CryptoError::DecryptionFailed)
            );
        }
    }
}

mod batch;
mod hpke_differential;
#[cfg(feature = "pq")]
mod hpke_pq_differential;
mod hpke_prepared;

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

/// Expanding several outputs from one PRK gives, in order, what one
/// `kdf_expand` per output gives, in every suite; an output longer than
/// HKDF allows fails the whole call.
#[test]
fn kdf_expand_each_equals_one_expand_per_output() {
    for suite in suites() {
        let prk = suite.kdf_extract(b"salt", b"ikm");
        let prk = prk.as_bytes();
        let outputs: [(&[u8], usize); 4] = [
            (b"key", suite.aead_key_len()),
            (b"nonce", suite.aead_nonce_len()),
            (b"", suite.hash_len()),
            (&[7; 300], 3 * suite.hash_len() + 1),
        ];
        let each = suite.kdf_expand_each(prk, &outputs).unwrap();
        assert_eq!(each.len(), outputs.len());
        for (got, &(info, len)) in each.iter().zip(&outputs) {
            let one = suite.kdf_expand(prk, info, len).unwrap();
            assert_eq!(got.as_bytes(), one.as_bytes(), "{:?}", suite.cipher_suite());
        }
        let too_long = 255 * suite.hash_len() + 1;
        assert!(matches!(
            suite.kdf_expand_each(prk, &[(b"a", 1), (b"b", too_long)]),
            Err(CryptoError::KdfLength(n)) if n == too_long
        ));
    }
}
