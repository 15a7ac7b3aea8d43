//! Batch signature verification.

use super::*;

// ---------------------------------------------------------------------------
// Batch signature verification.
// ---------------------------------------------------------------------------

const BATCH_LABEL: &str = "BatchTest";

/// `n` labelled signatures by `n` distinct keys: `(public key, content,
/// signature)`.
fn signed_items(
    s: &Arc<dyn SuiteCrypto>,
    n: usize,
    rng: &mut TestRng,
) -> Vec<(SignaturePublicKey, Vec<u8>, Vec<u8>)> {
    let suite = Suite::new(s.clone());
    (0..n)
        .map(|i| {
            let (sk, pk) = s.signature_key_pair(rng).unwrap();
            let content = format!("content number {i}").into_bytes();
            let sig = suite.sign_with_label(&sk, BATCH_LABEL, &content).unwrap();
            (pk, content, sig)
        })
        .collect()
}

/// The `Suite::verify_batch_with_label` view of `items`.
fn labelled(
    items: &[(SignaturePublicKey, Vec<u8>, Vec<u8>)],
) -> Vec<(&SignaturePublicKey, &str, &[u8], &[u8])> {
    items
        .iter()
        .map(|(pk, content, sig)| (pk, BATCH_LABEL, content.as_slice(), sig.as_slice()))
        .collect()
}

/// The index of the first item that fails individual verification.
fn first_failure(
    suite: &Suite,
    items: &[(&SignaturePublicKey, &str, &[u8], &[u8])],
) -> Option<usize> {
    items.iter().position(|(pk, label, content, sig)| {
        suite.verify_with_label(pk, label, content, sig).is_err()
    })
}

/// `SignContent` for `BATCH_LABEL` (§5.1.2): both fields are short enough
/// for one-byte length prefixes.
fn sign_content(content: &[u8]) -> Vec<u8> {
    let label = format!("MLS 1.0 {BATCH_LABEL}");
    let mut out = vec![u8::try_from(label.len()).unwrap()];
    out.extend_from_slice(label.as_bytes());
    out.push(u8::try_from(content.len()).unwrap());
    out.extend_from_slice(content);
    out
}

#[test]
fn verify_batch_accepts_valid_and_empty_batches() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let items = signed_items(&s, 50, &mut TestRng(70));
        assert_eq!(suite.verify_batch_with_label(&labelled(&items)), Ok(()));
        let messages: Vec<Vec<u8>> = items.iter().map(|(_, c, _)| sign_content(c)).collect();
        let raw: Vec<(&[u8], &[u8], &[u8])> = items
            .iter()
            .zip(&messages)
            .map(|((pk, _, sig), m)| (pk.as_bytes(), m.as_slice(), sig.as_slice()))
            .collect();
        assert_eq!(s.verify_batch(&raw), Ok(()));
        // The same key signing several messages, and the same item twice.
        let (sk, pk) = s.signature_key_pair(&mut TestRng(71)).unwrap();
        let sigs: Vec<Vec<u8>> = (0..3u8)
            .map(|i| suite.sign_with_label(&sk, BATCH_LABEL, &[i]).unwrap())
            .collect();
        let contents = [[0u8], [1], [2], [0]];
        let same_key: Vec<_> = contents
            .iter()
            .zip(sigs.iter().chain(&sigs[..1]))
            .map(|(c, sig)| (&pk, BATCH_LABEL, c.as_slice(), sig.as_slice()))
            .collect();
        assert_eq!(suite.verify_batch_with_label(&same_key), Ok(()));
        // Empty batches are valid.
        assert_eq!(s.verify_batch(&[]), Ok(()));
        assert_eq!(suite.verify_batch_with_label(&[]), Ok(()));
    }
}

#[test]
fn verify_batch_reports_the_first_bad_item() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let items = signed_items(&s, 50, &mut TestRng(80));
        let (_, stranger) = s.signature_key_pair(&mut TestRng(81)).unwrap();
        for index in [0, 1, 17, 48, 49] {
            // A flipped signature bit, a changed content, another label, a
            // different key: each anywhere in the batch fails it.
            let bad_sig = flipped(&items[index].2, 8 * 40 + 3);
            let bad_content = flipped(&items[index].1, 0);
            let mut batch = labelled(&items);
            batch[index].3 = &bad_sig;
            assert_eq!(suite.verify_batch_with_label(&batch), Err(index));
            let mut batch = labelled(&items);
            batch[index].2 = &bad_content;
            assert_eq!(suite.verify_batch_with_label(&batch), Err(index));
            let mut batch = labelled(&items);
            batch[index].1 = "OtherLabel";
            assert_eq!(suite.verify_batch_with_label(&batch), Err(index));
            let mut batch = labelled(&items);
            batch[index].0 = &stranger;
            assert_eq!(suite.verify_batch_with_label(&batch), Err(index));

            // The raw trait method fails too.
            let messages: Vec<Vec<u8>> = items.iter().map(|(_, c, _)| sign_content(c)).collect();
            let mut raw: Vec<(&[u8], &[u8], &[u8])> = items
                .iter()
                .zip(&messages)
                .map(|((pk, _, sig), m)| (pk.as_bytes(), m.as_slice(), sig.as_slice()))
                .collect();
            raw[index].2 = &bad_sig;
            assert!(s.verify_batch(&raw).is_err());
        }
        // With several bad items the first is reported.
        let (bad_a, bad_b) = (flipped(&items[30].2, 9), flipped(&items[12].2, 9));
        let mut batch = labelled(&items);
        batch[30].3 = &bad_a;
        batch[12].3 = &bad_b;
        assert_eq!(suite.verify_batch_with_label(&batch), Err(12));
        // Malformed keys and signatures are failures at their index, never
        // panics.
        let short_key = SignaturePublicKey(vec![1; 5]);
        let mut batch = labelled(&items);
        batch[7].0 = &short_key;
        assert_eq!(suite.verify_batch_with_label(&batch), Err(7));
        let mut batch = labelled(&items);
        batch[8].3 = &[];
        assert_eq!(suite.verify_batch_with_label(&batch), Err(8));
    }
}

#[test]
fn verify_batch_rejects_small_order_keys() {
    // Small-order Ed25519 points: the identity, the point of order 2, and a
    // point of order 4. With the identity as key and R and S = 0, the
    // cofactorless equation holds for every message (a universal forgery).
    let identity = {
        let mut p = [0u8; 32];
        p[0] = 1;
        p
    };
    let order2 = {
        let mut p = [0xffu8; 32];
        p[0] = 0xec;
        p[31] = 0x7f;
        p
    };
    let order4 = [0u8; 32];
    for s in suites().iter().filter(|s| is_ed25519(&***s)) {
        let suite = Suite::new(s.clone());
        let items = signed_items(s, 10, &mut TestRng(90));
        for weak in [identity, order2, order4] {
            let weak_key = SignaturePublicKey(weak.to_vec());
            let mut forged = identity.to_vec();
            forged.extend_from_slice(&[0; 32]);
            for index in [0, 3, 9] {
                let mut batch = labelled(&items);
                batch[index].0 = &weak_key;
                batch[index].3 = &forged;
                assert_eq!(suite.verify_batch_with_label(&batch), Err(index));
            }
            let message = sign_content(b"anything");
            assert!(s.verify_batch(&[(&weak, &message, &forged)]).is_err());
        }
    }
}

/// Ed25519 signatures whose R or A has a small-order (torsion) component,
/// made with a known secret scalar. Strict single verification decides them
/// by the exact cofactorless equation; a batch must decide them the same
/// way. ed25519-dalek's `verify_batch` gets both of these wrong as a
/// one-item batch: it accepts the first and rejects the second.
#[test]
fn ed25519_batch_agrees_with_strict_verification_on_torsion() {
    // R = rB + T (T of order 2), honest key: strict verification rejects.
    let (torsion_r_key, torsion_r_content, torsion_r_sig) = (
        "ea6402c1a65e75ef8d486786bf691988e88de87d24d985da4b2c6c2f6049ae3d",
        b"torsion R 2".as_slice(),
        "8cf47d95ab69dc87dbd3fe3f443e3c33945959f5831e30dd384075f07703652f\
         63c276f3446d7b1df755a9cc6dad54e875fbaad274e11bb50c223acdc08ca006",
    );
    // A = aB + T (T of order 8, so the key is not weak), honest R, and a
    // message whose hash is a multiple of 8: strict verification accepts.
    let (torsion_a_key, torsion_a_content, torsion_a_sig) = (
        "6057c808c5de1551dc7be396c3de6f016069875fce20255c28cc49f07837ad4f",
        b"torsion A 4".as_slice(),
        "aec1a864b81c233c28ab2ae52f0c93b996b49793fb36685d1f256c6f2275d11e\
         68258f738408b600361988775870eb2d0cb654a9be866c07cce3e43a96526b03",
    );
    let torsion_r_key = SignaturePublicKey(unhex(torsion_r_key));
    let torsion_r_sig = unhex(torsion_r_sig);
    let torsion_a_key = SignaturePublicKey(unhex(torsion_a_key));
    let torsion_a_sig = unhex(torsion_a_sig);
    for s in suites().iter().filter(|s| is_ed25519(&***s)) {
        let suite = Suite::new(s.clone());
        let bad = (
            &torsion_r_key,
            BATCH_LABEL,
            torsion_r_content,
            torsion_r_sig.as_slice(),
        );
        let good = (
            &torsion_a_key,
            BATCH_LABEL,
            torsion_a_content,
            torsion_a_sig.as_slice(),
        );
        assert!(suite.verify_with_label(bad.0, bad.1, bad.2, bad.3).is_err());
        assert!(
            suite
                .verify_with_label(good.0, good.1, good.2, good.3)
                .is_ok()
        );

        let bad_message = sign_content(torsion_r_content);
        let good_message = sign_content(torsion_a_content);
        assert!(
            s.verify_batch(&[(torsion_r_key.as_bytes(), &bad_message, &torsion_r_sig)])
                .is_err()
        );
        assert!(
            s.verify_batch(&[(torsion_a_key.as_bytes(), &good_message, &torsion_a_sig)])
                .is_ok()
        );
        assert_eq!(suite.verify_batch_with_label(&[bad]), Err(0));
        assert_eq!(suite.verify_batch_with_label(&[good]), Ok(()));
        assert_eq!(suite.verify_batch_with_label(&[good, bad]), Err(1));

        // Among honest signatures, too.
        let items = signed_items(s, 20, &mut TestRng(95));
        let mut batch = labelled(&items);
        batch.insert(5, good);
        assert_eq!(suite.verify_batch_with_label(&batch), Ok(()));
        batch.insert(11, bad);
        assert_eq!(suite.verify_batch_with_label(&batch), Err(11));
        // Twice the same bad signature, whose torsion parts could cancel in
        // a linear combination.
        batch.insert(2, bad);
        assert_eq!(suite.verify_batch_with_label(&batch), Err(2));
    }
}

#[test]
fn verify_batch_agrees_with_individual_verification() {
    for s in suites() {
        let suite = Suite::new(s.clone());
        let mut rng = TestRng(100);
        let pool = signed_items(&s, 24, &mut rng);
        let mut byte = || {
            let mut b = [0u8; 1];
            rng.fill(&mut b).unwrap();
            b[0]
        };
        let short_key = SignaturePublicKey(vec![7; 31]);
        let garbage: Vec<u8> = vec![0x5a; 64];
        let (mut passed, mut failed) = (0, 0);
        for round in 0..60 {
            let size = usize::from(byte() % 25);
            // Owned tampered copies first, then the batch of references.
            let mut chosen = Vec::new();
            for _ in 0..size {
                let (pk, content, sig) = &pool[usize::from(byte()) % pool.len()];
                let (mut pk, mut content, mut sig) = (pk.clone(), content.clone(), sig.clone());
                // About one item in eight is spoilt, so that both outcomes
                // are common.
                match byte() % 40 {
                    0 => sig = flipped(&sig, usize::from(byte()) * 3),
                    1 => content = flipped(&content, usize::from(byte())),
                    2 => pk = pool[usize::from(byte()) % pool.len()].0.clone(),
                    3 => pk = short_key.clone(),
                    4 => sig = garbage.clone(),
                    _ => {}
                }
                chosen.push((pk, content, sig));
            }
            let batch = labelled(&chosen);
            let expected = first_failure(&suite, &batch);
            let got = suite.verify_batch_with_label(&batch);
            assert_eq!(got.err(), expected, "{:?} round {round}", s.cipher_suite());

            let messages: Vec<Vec<u8>> = chosen.iter().map(|(_, c, _)| sign_content(c)).collect();
            let raw: Vec<(&[u8], &[u8], &[u8])> = chosen
                .iter()
                .zip(&messages)
                .map(|((pk, _, sig), m)| (pk.as_bytes(), m.as_slice(), sig.as_slice()))
                .collect();
            assert_eq!(s.verify_batch(&raw).is_ok(), expected.is_none());
            if expected.is_none() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        assert!(passed > 5 && failed > 5, "{passed} passed, {failed} failed");
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
            let _ = s.hpke_export_sender(&a, &b, &c, b.len() * 110, &mut rng);
            let _ = s.hpke_export_receiver(&a, &b, &c, &a, c.len() * 150);
            let _ = s.hpke_public_key(&a);
            let _ = s.hpke_derive_key_pair(&a);
            let _ = s.signature_public_key(&a);
            let _ = s.sign(&a, &b);
            let _ = s.verify(&a, &b, &c);
            let _ = s.verify_batch(&[(&a, &b, &c), (&b, &c, &a)]);
            let suite = Suite::new(s.clone());
            let (pk_a, pk_b) = (SignaturePublicKey(a.clone()), SignaturePublicKey(b.clone()));
            let _ = suite.verify_batch_with_label(&[(&pk_a, "L", &b, &c), (&pk_b, "", &c, &a)]);
            let _ = suite.external_init_sender(&HpkePublicKey(a.clone()), &mut rng);
            let _ = suite.external_init_receiver(&HpkePrivateKey(Secret::new(a.clone())), &b);
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
