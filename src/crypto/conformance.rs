//! What the engine relies on from a [`CryptoProvider`], as one suite any
//! provider can run (feature `test-support`): round trips, that tampering
//! with any input is detected, determinism where the protocol needs it, and
//! that a failing random source is reported. The interop vectors check the
//! outputs against other implementations; this checks the behaviour they do
//! not exercise.
//!
//! ```ignore
//! arbor_mls::crypto::conformance::run(&MyProvider::new());
//! ```
//!
//! It panics, naming the suite and the property, on the first failure.

use super::{CryptoError, CryptoProvider, RandomSource, Suite, SuiteCrypto};

/// A deterministic random source (SplitMix64), so runs are reproducible.
pub(crate) struct Counter(pub(crate) u64);

impl RandomSource for Counter {
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

/// A random source that always fails.
pub(crate) struct Failing;

impl RandomSource for Failing {
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::Rng)
    }
}

fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(b) = out.get_mut((bit / 8) % bytes.len().max(1)) {
        *b ^= 1 << (bit % 8);
    }
    out
}

/// Runs every check on every suite `provider` lists as supported.
pub fn run(provider: &dyn CryptoProvider) {
    let ids = provider.supported_suites();
    assert!(!ids.is_empty(), "the provider supports no suite");
    for id in ids {
        let suite = provider
            .suite(id)
            .unwrap_or_else(|| panic!("{id:?} is listed as supported but not provided"));
        assert_eq!(suite.cipher_suite(), id, "the suite reports another id");
        signatures(&*suite);
        hpke(&*suite);
        hpke_export(&*suite);
        symmetric(&*suite);
        labelled(suite);
    }
}

fn signatures(s: &dyn SuiteCrypto) {
    let id = s.cipher_suite();
    let (sk, pk) = s.signature_key_pair(&mut Counter(1)).expect("key pair");
    assert_eq!(
        s.signature_public_key(sk.as_bytes()).expect("public key"),
        pk,
        "{id:?}: the public key of a generated private key"
    );
    let msg = b"the message to sign";
    let sig = s.sign(sk.as_bytes(), msg).expect("sign");
    s.verify(pk.as_bytes(), msg, &sig)
        .unwrap_or_else(|e| panic!("{id:?}: a signature does not verify: {e}"));
    for bit in [0, 8 * sig.len() / 2 + 1, 8 * sig.len() - 1] {
        assert!(
            s.verify(pk.as_bytes(), msg, &flipped(&sig, bit)).is_err(),
            "{id:?}: a signature with bit {bit} flipped verifies"
        );
    }
    assert!(
        s.verify(pk.as_bytes(), &flipped(msg, 3), &sig).is_err(),
        "{id:?}: a signature verifies another message"
    );
    let (_, other) = s.signature_key_pair(&mut Counter(2)).expect("key pair");
    assert_ne!(other, pk, "{id:?}: two random key pairs are equal");
    assert!(
        s.verify(other.as_bytes(), msg, &sig).is_err(),
        "{id:?}: a signature verifies under another key"
    );
    assert!(
        s.verify(pk.as_bytes(), msg, &[]).is_err(),
        "{id:?}: an empty signature verifies"
    );
    // Batch verification accepts exactly what single verification accepts.
    let bad = flipped(&sig, 5);
    assert!(s.verify_batch(&[(pk.as_bytes(), msg, &sig)]).is_ok());
    assert!(
        s.verify_batch(&[(pk.as_bytes(), msg, &sig), (pk.as_bytes(), msg, &bad)])
            .is_err(),
        "{id:?}: a batch with one bad signature verifies"
    );
    assert_eq!(
        s.signature_key_pair(&mut Failing).map(|_| ()),
        Err(CryptoError::Rng),
        "{id:?}: a failing random source is not reported"
    );
}

fn hpke(s: &dyn SuiteCrypto) {
    let id = s.cipher_suite();
    let (sk, pk) = s.hpke_derive_key_pair(b"ikm").expect("derive");
    assert_eq!(
        s.hpke_derive_key_pair(b"ikm").expect("derive"),
        (sk.clone(), pk.clone()),
        "{id:?}: DeriveKeyPair is not deterministic"
    );
    assert_eq!(s.hpke_public_key(sk.as_bytes()).expect("public"), pk);
    let (info, aad, pt) = (
        b"info".as_slice(),
        b"aad".as_slice(),
        b"plaintext".as_slice(),
    );
    let (enc, ct) = s
        .hpke_seal(pk.as_bytes(), info, aad, pt, &mut Counter(3))
        .expect("seal");
    let opened = s
        .hpke_open(sk.as_bytes(), &enc, info, aad, &ct)
        .expect("open");
    assert_eq!(opened.as_bytes(), pt, "{id:?}: HPKE round trip");
    let open = |enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]| {
        s.hpke_open(sk.as_bytes(), enc, info, aad, ct).is_err()
    };
    assert!(
        open(&flipped(&enc, 8 * enc.len() / 2 + 3), info, aad, &ct),
        "{id:?}: a tampered kem_output opens"
    );
    assert!(
        open(&enc, info, aad, &flipped(&ct, 8 * ct.len() - 1)),
        "{id:?}: tampered ciphertext opens"
    );
    assert!(open(&enc, b"infO", aad, &ct), "{id:?}: another info opens");
    assert!(open(&enc, info, b"aaD", &ct), "{id:?}: another aad opens");
    assert!(
        open(&enc, info, aad, &[]),
        "{id:?}: an empty ciphertext opens"
    );
    assert!(
        open(&[], info, aad, &ct),
        "{id:?}: an empty kem_output opens"
    );
    let (other, _) = s.hpke_derive_key_pair(b"other").expect("derive");
    assert!(
        s.hpke_open(other.as_bytes(), &enc, info, aad, &ct).is_err(),
        "{id:?}: another key opens"
    );
    // Seal is deterministic given the random source, and prepared info
    // seals as the plain info does.
    let seal = |seed| {
        s.hpke_seal(pk.as_bytes(), info, aad, pt, &mut Counter(seed))
            .expect("seal")
    };
    assert_eq!(
        seal(4),
        seal(4),
        "{id:?}: seal is not a function of its randomness"
    );
    assert_ne!(seal(4).0, seal(5).0, "{id:?}: seal ignores its randomness");
    let prepared = s.hpke_prepare_info(info);
    assert_eq!(
        s.hpke_seal_prepared(pk.as_bytes(), &prepared, aad, pt, &mut Counter(4))
            .expect("seal prepared"),
        seal(4),
        "{id:?}: a prepared info seals differently"
    );
    assert_eq!(
        s.hpke_seal(pk.as_bytes(), info, aad, pt, &mut Failing)
            .map(|_| ()),
        Err(CryptoError::Rng),
        "{id:?}: a failing random source is not reported"
    );
}

fn hpke_export(s: &dyn SuiteCrypto) {
    let id = s.cipher_suite();
    let (sk, pk) = s.hpke_derive_key_pair(b"export ikm").expect("derive");
    let (enc, secret) = s
        .hpke_export_sender(
            pk.as_bytes(),
            b"",
            b"context",
            s.hash_len(),
            &mut Counter(6),
        )
        .expect("export");
    let received = s
        .hpke_export_receiver(sk.as_bytes(), &enc, b"", b"context", s.hash_len())
        .expect("export");
    assert_eq!(
        secret, received,
        "{id:?}: sender and receiver export differently"
    );
    let other = s
        .hpke_export_receiver(sk.as_bytes(), &enc, b"", b"other context", s.hash_len())
        .expect("export");
    assert_ne!(secret, other, "{id:?}: the exporter context is ignored");
}

fn symmetric(s: &dyn SuiteCrypto) {
    let id = s.cipher_suite();
    assert_eq!(s.hash(b"x").len(), s.hash_len(), "{id:?}: hash length");
    let key = vec![7; s.hash_len()];
    assert_eq!(s.mac(&key, b"x").len(), s.hash_len(), "{id:?}: MAC length");
    assert_ne!(s.mac(&key, b"x"), s.mac(&key, b"y"));
    let prk = s.kdf_extract(b"salt", b"ikm");
    let out = s.kdf_expand(prk.as_bytes(), b"info", 42).expect("expand");
    assert_eq!(out.as_bytes().len(), 42, "{id:?}: expand length");
    assert!(
        s.kdf_expand(prk.as_bytes(), b"info", 255 * s.hash_len() + 1)
            .is_err(),
        "{id:?}: expand beyond 255 * Nh"
    );
    let (k, n) = (vec![1; s.aead_key_len()], vec![2; s.aead_nonce_len()]);
    let ct = s.aead_seal(&k, &n, b"aad", b"plaintext").expect("seal");
    assert_eq!(
        s.aead_open(&k, &n, b"aad", &ct).expect("open").as_bytes(),
        b"plaintext"
    );
    assert!(
        s.aead_open(&k, &n, b"aaD", &ct).is_err(),
        "{id:?}: AEAD ignores aad"
    );
    assert!(
        s.aead_open(&k, &n, b"aad", &flipped(&ct, 8 * ct.len() - 1))
            .is_err(),
        "{id:?}: a tampered AEAD ciphertext opens"
    );
}

fn labelled(suite: std::sync::Arc<dyn SuiteCrypto>) {
    let id = suite.cipher_suite();
    let (sk, pk) = suite.signature_key_pair(&mut Counter(8)).expect("key pair");
    let suite = Suite::new(suite);
    let sig = suite
        .sign_with_label(&sk, "Label", b"content")
        .expect("sign");
    assert!(
        suite
            .verify_with_label(&pk, "Label", b"content", &sig)
            .is_ok()
    );
    assert!(
        suite
            .verify_with_label(&pk, "Other", b"content", &sig)
            .is_err(),
        "{id:?}: the label is not bound into the signature"
    );
}
