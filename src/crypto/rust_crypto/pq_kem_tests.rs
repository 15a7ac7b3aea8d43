//! The official test vectors of draft-ietf-hpke-pq
//! (`interop/test-vectors/hpke-pq/test-vectors.json`, copied unchanged from
//! github.com/hpkewg/hpke-pq, commit 74dafaa), replayed through our HPKE:
//! every case whose KEM, KDF and AEAD the MLS PQ suites use.
//!
//! Each case goes through `hpke_pq_vectors::check_hpke_pq_case`, which
//! `arbor-interop vectors` also uses (see that module for what it checks).
//!
//! The remaining cases use what no MLS suite uses (ML-KEM-512, the SHAKE and
//! TurboSHAKE KDFs, the DHKEMs with those KDFs) and are counted as skipped.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::dhkem::DhKem;
use super::hpke_pq_vectors::{
    HpkePqCase, HpkePqEncryption, HpkePqExport, HpkePqOutcome, check_hpke_pq_case,
};
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

/// A case of the file, its hex fields decoded.
fn parse_case(case: &Value) -> HpkePqCase {
    let id = |field: &str| u16::try_from(case[field].as_u64().expect("id")).expect("id");
    HpkePqCase {
        mode: u8::try_from(case["mode"].as_u64().expect("mode")).expect("mode"),
        kem_id: id("kem_id"),
        kdf_id: id("kdf_id"),
        aead_id: id("aead_id"),
        info: unhex(&case["info"]),
        ikm_r: unhex(&case["ikmR"]),
        ikm_e: unhex(&case["ikmE"]),
        sk_rm: unhex(&case["skRm"]),
        pk_rm: unhex(&case["pkRm"]),
        enc: unhex(&case["enc"]),
        shared_secret: unhex(&case["shared_secret"]),
        key: unhex(&case["key"]),
        base_nonce: unhex(&case["base_nonce"]),
        exporter_secret: unhex(&case["exporter_secret"]),
        encryptions: case["encryptions"]
            .as_array()
            .expect("encryptions")
            .iter()
            .map(|e| HpkePqEncryption {
                aad: unhex(&e["aad"]),
                pt: unhex(&e["pt"]),
                nonce: unhex(&e["nonce"]),
                ct: unhex(&e["ct"]),
            })
            .collect(),
        exports: case["exports"]
            .as_array()
            .expect("exports")
            .iter()
            .map(|x| HpkePqExport {
                exporter_context: unhex(&x["exporter_context"]),
                length: usize::try_from(x["L"].as_u64().expect("L")).expect("L"),
                exported_value: unhex(&x["exported_value"]),
            })
            .collect(),
    }
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
        let parsed = parse_case(case);
        match check_hpke_pq_case(&parsed) {
            Ok(HpkePqOutcome::Passed) => {
                kems_seen.push(parsed.kem_id);
                passed += 1;
            }
            Ok(HpkePqOutcome::Unsupported(_)) => skipped += 1,
            Err(e) => panic!(
                "kem {:#06x} kdf {} aead {}: {e}",
                parsed.kem_id, parsed.kdf_id, parsed.aead_id
            ),
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
        assert!(kems_seen.contains(&kem.id()), "no case for {kem:?}");
    }
    assert_eq!((passed, skipped), (5, 8));
}

/// A case with one value changed fails, naming it: the check compares.
#[test]
fn hpke_pq_vector_check_detects_a_changed_value() {
    let cases: Vec<Value> = serde_json::from_str(VECTORS).expect("valid JSON");
    let case = cases
        .iter()
        .map(parse_case)
        .find(|c| matches!(check_hpke_pq_case(c), Ok(HpkePqOutcome::Passed)))
        .expect("a supported case");
    let mut bad = case.clone();
    bad.shared_secret[0] ^= 1;
    assert_eq!(
        check_hpke_pq_case(&bad),
        Err("shared_secret differs".into())
    );
    let mut bad = case.clone();
    bad.encryptions[3].ct[0] ^= 1;
    assert_eq!(check_hpke_pq_case(&bad), Err("ct 3 differs".into()));
    let mut bad = case.clone();
    bad.exports[1].exported_value[0] ^= 1;
    assert_eq!(
        check_hpke_pq_case(&bad),
        Err("exported_value differs".into())
    );
    // ikmE one byte longer: the encapsulation must not draw it.
    let mut bad = case;
    bad.ikm_e.push(0);
    assert!(check_hpke_pq_case(&bad).is_err());
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
