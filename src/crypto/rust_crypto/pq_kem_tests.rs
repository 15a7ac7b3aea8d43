//! The official test vectors of draft-ietf-hpke-pq
//! (`interop/test-vectors/hpke-pq/test-vectors.json`, copied unchanged from
//! github.com/hpkewg/hpke-pq, commit 74dafaa), replayed through our HPKE:
//! every case whose KEM, KDF and AEAD the MLS PQ suites use.
//!
//! For each case: `DeriveKeyPair(ikmR)` gives `skRm` and `pkRm`; an
//! encapsulation whose random source yields `ikmE` gives `enc` and
//! `shared_secret` (the derandomized encapsulation); decapsulation of `enc`
//! gives the same secret; the key schedule gives `key`, `base_nonce` and
//! `exporter_secret`; every encryption and export matches; and the
//! single-shot seal and open of the provider reproduce the first encryption.
//!
//! The remaining cases use what no MLS suite uses (ML-KEM-512, the SHAKE and
//! TurboSHAKE KDFs, the DHKEMs with those KDFs) and are counted as skipped.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::aead::AeadAlgorithm;
use super::dhkem::DhKem;
use super::hash::HashAlgorithm;
use super::hpke::HpkeSuite;
use super::kem::Kem;
use super::pq_kem::PqKem;
use crate::crypto::{CryptoError, RandomSource};

const VECTORS: &str = include_str!("../../../interop/test-vectors/hpke-pq/test-vectors.json");

/// SHA-256 of the file as published (hpkewg/hpke-pq, `test-vectors.json`,
/// commit 74dafaa).
const VECTORS_SHA256: &str = "ba1f90672903e0df25610a1eef84b5f157e44d34849c0a72a2f9b164f3213888";

/// A random source that hands out fixed bytes once, then fails, so a test
/// also proves that an encapsulation draws exactly `Nrandom` bytes.
struct Fixed(Vec<u8>);

impl RandomSource for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        if dest.len() > self.0.len() {
            return Err(CryptoError::Rng);
        }
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

fn unhex(value: &Value) -> Vec<u8> {
    let s = value.as_str().expect("hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The KEMs, KDFs and AEADs of the MLS PQ suites; `None` for the others.
fn kem(id: u64) -> Option<PqKem> {
    Some(match id {
        0x0041 => PqKem::MlKem768,
        0x0042 => PqKem::MlKem1024,
        0x0050 => PqKem::MlKem768P256,
        0x0051 => PqKem::MlKem1024P384,
        0x647a => PqKem::MlKem768X25519,
        _ => return None,
    })
}

fn kdf(id: u64) -> Option<HashAlgorithm> {
    Some(match id {
        0x0001 => HashAlgorithm::Sha256,
        0x0002 => HashAlgorithm::Sha384,
        _ => return None,
    })
}

fn aead(id: u64) -> Option<AeadAlgorithm> {
    Some(match id {
        0x0001 => AeadAlgorithm::Aes128Gcm,
        0x0002 => AeadAlgorithm::Aes256Gcm,
        0x0003 => AeadAlgorithm::ChaCha20Poly1305,
        _ => return None,
    })
}

/// Checks one case; returns the number of encryptions and exports checked.
fn check_case(case: &Value, kem: PqKem, kdf: HashAlgorithm, aead: AeadAlgorithm) -> usize {
    let name = format!(
        "kem {:#06x} kdf {} aead {}",
        kem.id(),
        case["kdf_id"],
        case["aead_id"]
    );
    assert_eq!(case["mode"], 0, "{name}: base mode only");
    let suite = HpkeSuite::new(Kem::Pq(kem), kdf, aead);
    let info = unhex(&case["info"]);
    let ikm_e = unhex(&case["ikmE"]);
    let sk_rm = unhex(&case["skRm"]);
    let pk_rm = unhex(&case["pkRm"]);
    let enc = unhex(&case["enc"]);
    let shared_secret = unhex(&case["shared_secret"]);

    // Key derivation.
    let (sk, pk) = kem.derive_key_pair(&unhex(&case["ikmR"])).expect(&name);
    assert_eq!(sk.as_bytes(), sk_rm, "{name}: skRm");
    assert_eq!(pk, pk_rm, "{name}: pkRm");
    assert_eq!(kem.public_key(&sk_rm).expect(&name), pk_rm, "{name}");
    assert_eq!(sk_rm.len(), kem.private_key_len(), "{name}: Nsk");
    assert_eq!(pk_rm.len(), kem.public_key_len(), "{name}: Npk");
    assert_eq!(enc.len(), kem.enc_len(), "{name}: Nenc");

    // Derandomized encapsulation: the source holds exactly `ikmE`.
    assert_eq!(ikm_e.len(), kem.random_len(), "{name}: Nrandom");
    let (shared, our_enc) = kem.encap(&pk_rm, &mut Fixed(ikm_e.clone())).expect(&name);
    assert_eq!(our_enc, enc, "{name}: enc");
    assert_eq!(shared.as_bytes(), shared_secret, "{name}: shared_secret");
    let decapped = kem.decap(&enc, &sk_rm).expect(&name);
    assert_eq!(decapped.as_bytes(), shared_secret, "{name}: Decap");

    // Key schedule.
    let context = suite
        .key_schedule(&shared, &suite.key_schedule_context(&info))
        .expect(&name);
    assert_eq!(context.key.as_bytes(), unhex(&case["key"]), "{name}: key");
    assert_eq!(
        context.base_nonce.as_bytes(),
        unhex(&case["base_nonce"]),
        "{name}: base_nonce"
    );
    assert_eq!(
        context.exporter_secret.as_bytes(),
        unhex(&case["exporter_secret"]),
        "{name}: exporter_secret"
    );

    // Encryptions, sequence numbers 0, 1, ...: nonce = base_nonce XOR seq.
    let encryptions = case["encryptions"].as_array().expect("encryptions");
    for (seq, e) in encryptions.iter().enumerate() {
        let mut nonce = context.base_nonce.as_bytes().to_vec();
        let seq_bytes = (seq as u64).to_be_bytes();
        let offset = nonce.len() - seq_bytes.len();
        nonce[offset..]
            .iter_mut()
            .zip(seq_bytes)
            .for_each(|(n, s)| *n ^= s);
        assert_eq!(nonce, unhex(&e["nonce"]), "{name}: nonce {seq}");
        let ct = aead
            .seal(
                context.key.as_bytes(),
                &nonce,
                &unhex(&e["aad"]),
                &unhex(&e["pt"]),
            )
            .expect(&name);
        assert_eq!(ct, unhex(&e["ct"]), "{name}: ct {seq}");
    }

    // The provider's single-shot seal and open give the first encryption.
    let first = &encryptions[0];
    let (sealed_enc, ct) = suite
        .seal(
            &pk_rm,
            &info,
            &unhex(&first["aad"]),
            &unhex(&first["pt"]),
            &mut Fixed(ikm_e.clone()),
        )
        .expect(&name);
    assert_eq!(sealed_enc, enc, "{name}: seal enc");
    assert_eq!(ct, unhex(&first["ct"]), "{name}: seal ct");
    let opened = suite
        .open(&sk_rm, &enc, &info, &unhex(&first["aad"]), &ct)
        .expect(&name);
    assert_eq!(opened.as_bytes(), unhex(&first["pt"]), "{name}: open");

    // Exports, through the context and through the single-shot API.
    let exports = case["exports"].as_array().expect("exports");
    for x in exports {
        let length = usize::try_from(x["L"].as_u64().expect("L")).expect("L");
        let exporter_context = unhex(&x["exporter_context"]);
        let expected = unhex(&x["exported_value"]);
        let value = suite
            .export(&context, &exporter_context, length)
            .expect(&name);
        assert_eq!(value.as_bytes(), expected, "{name}: export");
        let received = suite
            .receiver_export(&sk_rm, &enc, &info, &exporter_context, length)
            .expect(&name);
        assert_eq!(received.as_bytes(), expected, "{name}: receiver export");
        let (sent_enc, sent) = suite
            .send_export(
                &pk_rm,
                &info,
                &exporter_context,
                length,
                &mut Fixed(ikm_e.clone()),
            )
            .expect(&name);
        assert_eq!(sent_enc, enc, "{name}: sender export enc");
        assert_eq!(sent.as_bytes(), expected, "{name}: sender export");
    }
    encryptions.len() + exports.len()
}

#[test]
fn hpke_pq_vector_file_unchanged() {
    let digest = Sha256::digest(VECTORS.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, VECTORS_SHA256, "test-vectors.json was modified");
}

#[test]
fn hpke_pq_vectors() {
    let cases: Vec<Value> = serde_json::from_str(VECTORS).expect("valid JSON");
    let (mut passed, mut skipped) = (0, 0);
    let mut kems_seen = Vec::new();
    for case in &cases {
        let id = |field: &str| case[field].as_u64().expect("id");
        match (kem(id("kem_id")), kdf(id("kdf_id")), aead(id("aead_id"))) {
            (Some(kem), Some(kdf), Some(aead)) => {
                assert!(check_case(case, kem, kdf, aead) > 0);
                kems_seen.push(kem);
                passed += 1;
            }
            _ => skipped += 1,
        }
    }
    println!("hpke-pq test-vectors.json: {passed} passed, 0 failed, {skipped} skipped");
    // One case per PQ KEM in the file uses an MLS KDF and AEAD.
    for kem in [
        PqKem::MlKem768,
        PqKem::MlKem1024,
        PqKem::MlKem768P256,
        PqKem::MlKem1024P384,
        PqKem::MlKem768X25519,
    ] {
        assert!(kems_seen.contains(&kem), "no case for {kem:?}");
    }
    assert_eq!((passed, skipped), (5, 8));
}

/// Wrong-length and malformed inputs are errors, never panics; a tampered
/// ciphertext decapsulates to an unrelated secret (implicit rejection) or,
/// for a NIST hybrid whose point no longer decodes, to an error.
#[test]
fn pq_kem_rejects_malformed_input() {
    for kem in [
        PqKem::MlKem768,
        PqKem::MlKem1024,
        PqKem::MlKem768P256,
        PqKem::MlKem1024P384,
        PqKem::MlKem768X25519,
    ] {
        let (sk, pk) = kem.derive_key_pair(&[7; 32]).unwrap();
        let mut rng = Fixed(vec![9; kem.random_len()]);
        let (shared, enc) = kem.encap(&pk, &mut rng).unwrap();
        assert_eq!(kem.decap(&enc, sk.as_bytes()).unwrap(), shared);

        // Lengths.
        for len in [0, 1, kem.public_key_len() - 1, kem.public_key_len() + 1] {
            let bad = vec![0x04; len];
            assert_eq!(kem.check_public_key(&bad), Err(CryptoError::InvalidKey));
            let mut rng = Fixed(vec![9; kem.random_len()]);
            assert!(kem.encap(&bad, &mut rng).is_err());
        }
        for len in [0, kem.enc_len() - 1, kem.enc_len() + 1] {
            assert_eq!(
                kem.decap(&vec![1; len], sk.as_bytes()).unwrap_err(),
                CryptoError::DecryptionFailed
            );
        }
        for len in [0, kem.private_key_len() - 1, kem.private_key_len() + 1] {
            assert_eq!(kem.public_key(&vec![1; len]), Err(CryptoError::InvalidKey));
            assert!(kem.decap(&enc, &vec![1; len]).is_err());
        }

        // An ML-KEM key that fails the modulus check (coefficients 0xfff).
        let mut bad = pk.clone();
        bad[..3].fill(0xff);
        assert_eq!(kem.check_public_key(&bad), Err(CryptoError::InvalidKey));

        // A flipped bit in the ML-KEM ciphertext: implicit rejection.
        let mut tampered = enc.clone();
        tampered[0] ^= 1;
        assert_ne!(kem.decap(&tampered, sk.as_bytes()).unwrap(), shared);

        // A flipped bit in the last byte (the traditional share of a
        // hybrid): another secret, or an invalid NIST point.
        let mut tampered = enc.clone();
        *tampered.last_mut().unwrap() ^= 1;
        match kem.decap(&tampered, sk.as_bytes()) {
            Ok(other) => assert_ne!(other, shared),
            Err(e) => assert_eq!(e, CryptoError::DecryptionFailed),
        }

        // A random source that fails.
        assert_eq!(
            kem.encap(&pk, &mut Fixed(Vec::new())).unwrap_err(),
            CryptoError::Rng
        );
    }
}

/// The hybrid KEMs are the combiner over the same curve code as the
/// DHKEMs: the traditional half of a P-256 hybrid key is a P-256 point.
#[test]
fn hybrid_public_key_halves_are_valid_points() {
    let (_, pk) = PqKem::MlKem768P256.derive_key_pair(&[1; 32]).unwrap();
    assert!(DhKem::P256.check_public_key(&pk[1184..]).is_ok());
    let (_, pk) = PqKem::MlKem1024P384.derive_key_pair(&[1; 32]).unwrap();
    assert!(DhKem::P384.check_public_key(&pk[1568..]).is_ok());
}
