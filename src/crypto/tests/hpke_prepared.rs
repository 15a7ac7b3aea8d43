//! Sealing with a prepared `info` (hashed once for many recipients) is the
//! same operation as sealing with the `info` itself, in every suite.

use super::*;

#[test]
fn prepared_seal_equals_seal_and_opens() {
    for s in suites() {
        let (sk, pk) = s.hpke_derive_key_pair(b"prepared").unwrap();
        let info = vec![0x5a; 10_000];
        let prepared = s.hpke_prepare_info(&info);
        let direct = s
            .hpke_seal(pk.as_bytes(), &info, b"aad", b"pt", &mut TestRng(70))
            .unwrap();
        let via_prepared = s
            .hpke_seal_prepared(pk.as_bytes(), &prepared, b"aad", b"pt", &mut TestRng(70))
            .unwrap();
        assert_eq!(direct, via_prepared, "{:?}", s.cipher_suite());
        let (enc, ct) = via_prepared;
        let opened = s
            .hpke_open(sk.as_bytes(), &enc, &info, b"aad", &ct)
            .unwrap();
        assert_eq!(opened.as_bytes(), b"pt");
        // The prepared form holds RFC 9180's key_schedule_context
        // (mode, psk_id_hash, info_hash), not the 10,000-byte info.
        assert_eq!(prepared.as_bytes().len(), 1 + 2 * s.hash_len());
    }
}

#[test]
fn prepared_context_serves_many_recipients() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let context = vec![7u8; 4_096];
        let prepared = suite.prepare_encrypt_context("Welcome", &context).unwrap();
        for i in 0..4u8 {
            let (sk, pk) = suite.derive_key_pair(&[i; 32]).unwrap();
            let mut rng = TestRng(80 + u64::from(i));
            let (enc, ct) = suite
                .encrypt_with_prepared(&pk, &prepared, b"group secrets", &mut rng)
                .unwrap();
            // Byte for byte what EncryptWithLabel produces (§5.1.3).
            let mut rng = TestRng(80 + u64::from(i));
            assert_eq!(
                suite
                    .encrypt_with_label(&pk, "Welcome", &context, b"group secrets", &mut rng)
                    .unwrap(),
                (enc.clone(), ct.clone())
            );
            let opened = suite
                .decrypt_with_label(&sk, "Welcome", &context, &enc, &ct)
                .unwrap();
            assert_eq!(opened.as_bytes(), b"group secrets");
            // Another label or context does not open it.
            assert!(
                suite
                    .decrypt_with_label(&sk, "Welcome", b"other", &enc, &ct)
                    .is_err()
            );
        }
    }
}

#[test]
fn prepared_info_of_another_suite_is_refused() {
    let all = suites();
    for s in &all {
        let (_, pk) = s.hpke_derive_key_pair(b"k").unwrap();
        for other in &all {
            if other.hash_len() == s.hash_len() {
                continue;
            }
            // A context of another length cannot be this suite's.
            let foreign = other.hpke_prepare_info(b"info");
            assert_eq!(
                s.hpke_seal_prepared(pk.as_bytes(), &foreign, b"", b"x", &mut TestRng(1)),
                Err(CryptoError::InvalidKey),
                "{:?} given {:?}'s context",
                s.cipher_suite(),
                other.cipher_suite()
            );
        }
        // Raw info bytes are not a prepared context either.
        let raw = PreparedHpkeInfo::new(b"raw info".to_vec());
        assert_eq!(
            s.hpke_seal_prepared(pk.as_bytes(), &raw, b"", b"x", &mut TestRng(1)),
            Err(CryptoError::InvalidKey)
        );
    }
}
