//! Differential tests of our HPKE (RFC 9180, base mode) against two
//! independent implementations, on random inputs, in both directions:
//! hpke-rs for the X25519 and P-256 suites, the `hpke` crate for those and
//! for P-384 and P-521. Each case checks `DeriveKeyPair`, that either side
//! opens what the other sealed, and that both export the same secret.
//!
//! No Rust HPKE crate implements DHKEM(X448); suites 0x0004 and 0x0006 are
//! checked against the official MLS vectors instead (crypto-basics'
//! EncryptWithLabel, welcome, treekem and the passive-client files all
//! decrypt HPKE ciphertexts made by other implementations).

use hpke::rand_core::{Rng as _, SeedableRng as _};
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use hpke_rs::hpke_types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use hpke_rs::{Hpke, Mode};
use hpke_rs_rust_crypto::HpkeRustCrypto;
use rand_chacha::ChaCha20Rng;

use super::*;

/// Random cases per suite and peer.
const CASES: usize = 24;

/// One random case: an `Nsk`-byte ikm and the rest of varied lengths,
/// empty ones included.
struct Inputs {
    ikm: Vec<u8>,
    info: Vec<u8>,
    aad: Vec<u8>,
    pt: Vec<u8>,
    ctx: Vec<u8>,
}

fn random_inputs(rng: &mut ChaCha20Rng, nsk: usize) -> Inputs {
    let mut bytes = |min: u32, max: u32| {
        let len = (min + rng.next_u32() % (max - min + 1)) as usize;
        let mut out = vec![0u8; len];
        rng.fill_bytes(&mut out);
        out
    };
    Inputs {
        ikm: bytes(nsk as u32, nsk as u32),
        info: bytes(0, 300),
        aad: bytes(0, 64),
        pt: bytes(0, 400),
        ctx: bytes(0, 40),
    }
}

fn ours(id: u16) -> Arc<dyn SuiteCrypto> {
    RustCryptoProvider.suite(CipherSuite(id)).unwrap()
}

// ---------------------------------------------------------------------------
// hpke-rs: X25519 and P-256.
// ---------------------------------------------------------------------------

fn hpke_rs_config(id: u16) -> Hpke<HpkeRustCrypto> {
    let (kem, aead) = match id {
        1 => (KemAlgorithm::DhKem25519, AeadAlgorithm::Aes128Gcm),
        2 => (KemAlgorithm::DhKemP256, AeadAlgorithm::Aes128Gcm),
        3 => (KemAlgorithm::DhKem25519, AeadAlgorithm::ChaCha20Poly1305),
        other => panic!("hpke-rs has no configuration for suite {other}"),
    };
    Hpke::new(Mode::Base, kem, KdfAlgorithm::HkdfSha256, aead)
}

#[test]
fn hpke_rs_and_ours_agree_on_suites_1_to_3() {
    for id in 1..=3u16 {
        let s = ours(id);
        let mut theirs = hpke_rs_config(id);
        let mut rng = ChaCha20Rng::from_seed([id as u8; 32]);
        for case in 0..CASES {
            let Inputs {
                ikm,
                info,
                aad,
                pt,
                ctx,
            } = random_inputs(&mut rng, 32);
            let (sk, pk) = s.hpke_derive_key_pair(&ikm).unwrap();
            let (their_sk, their_pk) = theirs.derive_key_pair(&ikm).unwrap().into_keys();
            assert_eq!(their_sk.as_slice(), sk.as_bytes(), "suite {id} case {case}");
            assert_eq!(their_pk.as_slice(), pk.as_bytes(), "suite {id} case {case}");

            // Ours seals, hpke-rs opens.
            let mut seed = TestRng(case as u64);
            let (enc, ct) = s
                .hpke_seal(pk.as_bytes(), &info, &aad, &pt, &mut seed)
                .unwrap();
            let opened = theirs
                .open(&enc, &their_sk, &info, &aad, &ct, None, None, None)
                .unwrap();
            assert_eq!(opened, pt, "suite {id} case {case}: hpke-rs opens ours");

            // hpke-rs seals, ours opens.
            let (enc, ct) = theirs
                .seal(&their_pk, &info, &aad, &pt, None, None, None)
                .unwrap();
            let opened = s.hpke_open(sk.as_bytes(), &enc, &info, &aad, &ct).unwrap();
            assert_eq!(
                opened.as_bytes(),
                pt,
                "suite {id} case {case}: ours opens hpke-rs"
            );

            // Secret export, both ways.
            let (enc, secret) = s
                .hpke_export_sender(pk.as_bytes(), &info, &ctx, 48, &mut seed)
                .unwrap();
            let theirs_secret = theirs
                .receiver_export(&enc, &their_sk, &info, None, None, None, &ctx, 48)
                .unwrap();
            assert_eq!(theirs_secret, secret.as_bytes(), "suite {id} case {case}");
            let (enc, theirs_secret) = theirs
                .send_export(&their_pk, &info, None, None, None, &ctx, 48)
                .unwrap();
            let secret = s
                .hpke_export_receiver(sk.as_bytes(), &enc, &info, &ctx, 48)
                .unwrap();
            assert_eq!(secret.as_bytes(), theirs_secret, "suite {id} case {case}");
        }
    }
}

// ---------------------------------------------------------------------------
// The `hpke` crate: X25519, P-256, P-384 and P-521.
// ---------------------------------------------------------------------------

/// Runs the differential cases for one suite against the `hpke` crate's
/// statically typed configuration `(A, Kdf, Kem)`.
fn agree_with_hpke_crate<A, Kdf, Kem>(id: u16, nsk: usize)
where
    A: hpke::aead::Aead,
    Kdf: hpke::kdf::Kdf,
    Kem: hpke::Kem,
{
    let s = ours(id);
    let mut rng = ChaCha20Rng::from_seed([0x40 + id as u8; 32]);
    for case in 0..CASES {
        let Inputs {
            ikm,
            info,
            aad,
            pt,
            ctx,
        } = random_inputs(&mut rng, nsk);
        let (sk, pk) = s.hpke_derive_key_pair(&ikm).unwrap();
        let (their_sk, their_pk) = Kem::derive_keypair(&ikm);
        // The hpke crate stores an X25519 private key clamped (RFC 7748
        // §5); RFC 9180's test vectors serialize it unclamped, as we and
        // hpke-rs do. Both name the same scalar.
        let mut our_sk = sk.as_bytes().to_vec();
        if s.hpke_public_key(sk.as_bytes()).unwrap().as_bytes().len() == 32 {
            our_sk[0] &= 248;
            our_sk[31] = (our_sk[31] & 127) | 64;
        }
        assert_eq!(
            their_sk.to_bytes().as_slice(),
            our_sk,
            "suite {id} case {case}"
        );
        assert_eq!(
            their_pk.to_bytes().as_slice(),
            pk.as_bytes(),
            "suite {id} case {case}"
        );

        // Ours seals, the hpke crate opens.
        let mut seed = TestRng(1000 + case as u64);
        let (enc, ct) = s
            .hpke_seal(pk.as_bytes(), &info, &aad, &pt, &mut seed)
            .unwrap();
        let encapped = Kem::EncappedKey::from_bytes(&enc).unwrap();
        let opened = hpke::single_shot_open::<A, Kdf, Kem>(
            &OpModeR::Base,
            &their_sk,
            &encapped,
            &info,
            &ct,
            &aad,
        )
        .unwrap();
        assert_eq!(opened, pt, "suite {id} case {case}: hpke opens ours");

        // The hpke crate seals, ours opens.
        let (encapped, ct) = hpke::single_shot_seal_with_rng::<A, Kdf, Kem>(
            &OpModeS::Base,
            &their_pk,
            &info,
            &pt,
            &aad,
            &mut rng,
        )
        .unwrap();
        let enc = encapped.to_bytes();
        let opened = s.hpke_open(sk.as_bytes(), &enc, &info, &aad, &ct).unwrap();
        assert_eq!(
            opened.as_bytes(),
            pt,
            "suite {id} case {case}: ours opens hpke"
        );

        // Secret export, both ways.
        let (enc, secret) = s
            .hpke_export_sender(pk.as_bytes(), &info, &ctx, 40, &mut seed)
            .unwrap();
        let encapped = Kem::EncappedKey::from_bytes(&enc).unwrap();
        let receiver =
            hpke::setup_receiver::<A, Kdf, Kem>(&OpModeR::Base, &their_sk, &encapped, &info)
                .unwrap();
        let mut theirs_secret = [0u8; 40];
        receiver.export(&ctx, &mut theirs_secret).unwrap();
        assert_eq!(
            theirs_secret.as_slice(),
            secret.as_bytes(),
            "suite {id} case {case}"
        );
        let (encapped, sender) =
            hpke::setup_sender_with_rng::<A, Kdf, Kem>(&OpModeS::Base, &their_pk, &info, &mut rng)
                .unwrap();
        sender.export(&ctx, &mut theirs_secret).unwrap();
        let secret = s
            .hpke_export_receiver(sk.as_bytes(), &encapped.to_bytes(), &info, &ctx, 40)
            .unwrap();
        assert_eq!(
            secret.as_bytes(),
            theirs_secret.as_slice(),
            "suite {id} case {case}"
        );
    }
}

#[test]
fn hpke_crate_and_ours_agree_on_x25519_and_p256_suites() {
    use hpke::aead::{AesGcm128, ChaCha20Poly1305};
    use hpke::kdf::HkdfSha256;
    use hpke::kem::{DhP256HkdfSha256, X25519HkdfSha256};
    agree_with_hpke_crate::<AesGcm128, HkdfSha256, X25519HkdfSha256>(1, 32);
    agree_with_hpke_crate::<AesGcm128, HkdfSha256, DhP256HkdfSha256>(2, 32);
    agree_with_hpke_crate::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(3, 32);
}

#[test]
fn hpke_crate_and_ours_agree_on_p521_and_p384_suites() {
    use hpke::aead::AesGcm256;
    use hpke::kdf::{HkdfSha384, HkdfSha512};
    use hpke::kem::{DhP384HkdfSha384, DhP521HkdfSha512};
    agree_with_hpke_crate::<AesGcm256, HkdfSha512, DhP521HkdfSha512>(5, 66);
    agree_with_hpke_crate::<AesGcm256, HkdfSha384, DhP384HkdfSha384>(7, 48);
}
