//! The PQ suites through the provider interface: the conformance suite on
//! all eighteen suites, the sizes the drafts fix, and the codepoint mapping.

use super::pq_suites::{PqCodepointError, PqCodepoints, PqRustCryptoProvider, PqSuite};
use crate::crypto::conformance::{self, Counter};
use crate::crypto::{CipherSuite, CryptoError, CryptoProvider};

#[test]
fn conformance_of_every_suite() {
    let provider = PqRustCryptoProvider::default();
    assert_eq!(provider.supported_suites().len(), 18);
    conformance::run(&provider);
}

/// `(Npk, Nenc, Nsk)` of the HPKE KEM and `(public key, signature, private
/// key)` lengths of the signature scheme, from draft-ietf-hpke-pq, FIPS 204
/// and RFC 9420.
type KemSizes = (usize, usize, usize);
type SignatureSizes = (usize, Option<usize>, usize);

fn expected(suite: PqSuite) -> (KemSizes, SignatureSizes) {
    use PqSuite::*;
    let xwing = (1216, 1120, 32);
    let p256 = (1249, 1153, 32);
    let p384 = (1665, 1665, 32);
    let k768 = (1184, 1088, 64);
    let k1024 = (1568, 1568, 64);
    let ed25519 = (32, Some(64), 32);
    // ECDSA signatures are DER, of varying length.
    let ecdsa256 = (65, None, 32);
    let ecdsa384 = (97, None, 48);
    match suite {
        Mlkem768X25519Aes128GcmSha256Ed25519 | Mlkem768X25519Aes256GcmSha384Ed25519 => {
            (xwing, ed25519)
        }
        Mlkem768P256Aes128GcmSha256P256 | Mlkem768P256Aes256GcmSha384P256 => (p256, ecdsa256),
        Mlkem1024P384Aes256GcmSha384P384 => (p384, ecdsa384),
        Mlkem768Aes256GcmSha384Ed25519 => (k768, ed25519),
        Mlkem768Aes256GcmSha384P256 => (k768, ecdsa256),
        Mlkem1024Aes256GcmSha384P384 => (k1024, ecdsa384),
        Mlkem768X25519Chacha20Poly1305Sha384Mldsa44 => (xwing, (1312, Some(2420), 32)),
        Mlkem768Aes256GcmSha384Mldsa65 => (k768, (1952, Some(3309), 32)),
        Mlkem1024Aes256GcmSha384Mldsa87 => (k1024, (2592, Some(4627), 32)),
    }
}

#[test]
fn sizes_match_the_drafts() {
    let provider = PqRustCryptoProvider::default();
    for pq in PqSuite::ALL {
        let suite = provider.suite(pq.default_codepoint()).expect("supported");
        let ((npk, nenc, nsk), (sig_pk, sig_len, sig_sk)) = expected(pq);
        let (sk, pk) = suite.hpke_derive_key_pair(&[3; 32]).unwrap();
        assert_eq!(
            (pk.as_bytes().len(), sk.as_bytes().len()),
            (npk, nsk),
            "{pq:?}"
        );
        let (enc, _) = suite
            .hpke_seal(pk.as_bytes(), b"info", b"aad", b"pt", &mut Counter(5))
            .unwrap();
        assert_eq!(enc.len(), nenc, "{pq:?}");
        let (ssk, spk) = suite.signature_key_pair(&mut Counter(6)).unwrap();
        assert_eq!(
            (spk.as_bytes().len(), ssk.as_bytes().len()),
            (sig_pk, sig_sk),
            "{pq:?}"
        );
        let signature = suite.sign(ssk.as_bytes(), b"message").unwrap();
        if let Some(len) = sig_len {
            assert_eq!(signature.len(), len, "{pq:?}");
        }
        // Signing is deterministic (RFC 6979, EdDSA, deterministic ML-DSA).
        assert_eq!(suite.sign(ssk.as_bytes(), b"message").unwrap(), signature);
        // Truncated or extended signatures and keys are refused.
        let short = &signature[..signature.len() - 1];
        assert!(suite.verify(spk.as_bytes(), b"message", short).is_err());
        let mut long = signature.clone();
        long.push(0);
        assert!(suite.verify(spk.as_bytes(), b"message", &long).is_err());
        assert_eq!(
            suite.verify(&spk.as_bytes()[1..], b"message", &signature),
            Err(CryptoError::InvalidKey),
            "{pq:?}"
        );
        assert_eq!(
            suite.hash_len(),
            if pq.name().contains("SHA256") { 32 } else { 48 }
        );
    }
}

#[test]
fn codepoints_default_and_remapped() {
    let defaults = PqCodepoints::default();
    for pq in PqSuite::ALL {
        assert_eq!(defaults.codepoint(pq), CipherSuite(0xF000 + pq.tbd()));
        assert_eq!(defaults.suite(CipherSuite(0xF000 + pq.tbd())), Some(pq));
    }
    let xwing = PqSuite::Mlkem768X25519Aes128GcmSha256Ed25519;
    // Another implementation's number for TBD1.
    let remapped = defaults.clone().with(xwing, CipherSuite(0xF050)).unwrap();
    assert_eq!(remapped.codepoint(xwing), CipherSuite(0xF050));
    assert_eq!(remapped.suite(CipherSuite(0xF001)), None);
    let provider = PqRustCryptoProvider::new(remapped);
    assert!(provider.suite(CipherSuite(0xF001)).is_none());
    let suite = provider.suite(CipherSuite(0xF050)).expect("remapped");
    assert_eq!(suite.cipher_suite(), CipherSuite(0xF050));
    assert!(provider.supported_suites().contains(&CipherSuite(0xF050)));
    // The RFC suites are still there, unchanged.
    assert!(provider.suite(CipherSuite(0x0001)).is_some());

    // Collisions are refused.
    assert_eq!(
        defaults.clone().with(xwing, CipherSuite(0x0002)),
        Err(PqCodepointError::Reserved(CipherSuite(0x0002)))
    );
    assert_eq!(
        defaults.clone().with(xwing, CipherSuite(0)),
        Err(PqCodepointError::Reserved(CipherSuite(0)))
    );
    assert_eq!(
        defaults.clone().with(xwing, CipherSuite(0xF002)),
        Err(PqCodepointError::Duplicate(
            CipherSuite(0xF002),
            PqSuite::Mlkem768X25519Aes256GcmSha384Ed25519
        ))
    );
    // Re-installing a suite's own codepoint is fine.
    assert_eq!(
        defaults.clone().with(xwing, CipherSuite(0xF001)),
        Ok(defaults)
    );
}

/// Hostile input: random bytes of the exact and nearby lengths for every
/// key, encapsulation and signature a PQ suite reads from the wire. Each is
/// an error or, for an ML-KEM ciphertext of the right length, an unrelated
/// secret the AEAD refuses; none panics.
#[test]
fn random_wire_input_is_refused_without_panic() {
    let provider = PqRustCryptoProvider::default();
    let mut rng = Counter(77);
    let mut random = |len: usize| {
        let mut out = vec![0u8; len];
        crate::crypto::RandomSource::fill(&mut rng, &mut out).unwrap();
        out
    };
    for pq in PqSuite::ALL {
        let suite = provider.suite(pq.default_codepoint()).unwrap();
        let ((npk, nenc, _), (sig_pk, sig_len, _)) = expected(pq);
        let (sk, pk) = suite.hpke_derive_key_pair(&[9; 32]).unwrap();
        let (ssk, spk) = suite.signature_key_pair(&mut Counter(8)).unwrap();
        let signature = suite.sign(ssk.as_bytes(), b"m").unwrap();
        let sig_len = sig_len.unwrap_or(signature.len());
        for round in 0..4 {
            for delta in [0usize, 1] {
                for len in [npk - delta, npk + delta] {
                    let key = random(len);
                    let _ = suite.hpke_seal(&key, b"", b"", b"pt", &mut Counter(round));
                }
                for len in [nenc - delta, nenc + delta] {
                    let enc = random(len);
                    let opened = suite.hpke_open(sk.as_bytes(), &enc, b"", b"", &[0; 32]);
                    assert!(opened.is_err(), "{pq:?}: a random encapsulation opened");
                    let _ = suite.hpke_export_receiver(sk.as_bytes(), &enc, b"", b"", 32);
                }
                for len in [sig_pk - delta, sig_pk + delta] {
                    let key = random(len);
                    assert!(suite.verify(&key, b"m", &signature).is_err(), "{pq:?}");
                }
                for len in [sig_len - delta, sig_len + delta] {
                    let sig = random(len);
                    assert!(suite.verify(spk.as_bytes(), b"m", &sig).is_err(), "{pq:?}");
                }
            }
        }
        // The genuine key still works after all that.
        assert!(suite.verify(spk.as_bytes(), b"m", &signature).is_ok());
        let (enc, ct) = suite
            .hpke_seal(pk.as_bytes(), b"", b"", b"pt", &mut Counter(1))
            .unwrap();
        assert_eq!(
            suite
                .hpke_open(sk.as_bytes(), &enc, b"", b"", &ct)
                .unwrap()
                .as_bytes(),
            b"pt"
        );
    }
}
