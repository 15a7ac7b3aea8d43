//! Replays one case of the official draft-ietf-hpke-pq test vectors
//! (github.com/hpkewg/hpke-pq, `test-vectors.json`) through this provider's
//! HPKE, so a vector runner outside the crate (`arbor-interop vectors`) can
//! check them without reaching into the private KEM and HPKE types.
//!
//! A case is checked completely: `DeriveKeyPair(ikmR)` gives `skRm` and
//! `pkRm`; an encapsulation whose random source yields exactly `ikmE` gives
//! `enc` and `shared_secret` (the derandomized encapsulation) and draws no
//! more; decapsulation gives the same secret; the key schedule gives `key`,
//! `base_nonce` and `exporter_secret`; every encryption and export matches;
//! and the single-shot seal, open, sender export and receiver export agree.

use super::aead::AeadAlgorithm;
use super::hash::HashAlgorithm;
use super::hpke::HpkeSuite;
use super::kem::Kem;
use super::pq_kem::PqKem;
use crate::crypto::{CryptoError, RandomSource};

/// One base-mode case of the vector file, its hex fields decoded.
#[derive(Debug, Clone, Default)]
pub struct HpkePqCase {
    /// `mode`: only 0 (base) appears in the file and is supported.
    pub mode: u8,
    /// `kem_id`.
    pub kem_id: u16,
    /// `kdf_id`.
    pub kdf_id: u16,
    /// `aead_id`.
    pub aead_id: u16,
    /// `info`.
    pub info: Vec<u8>,
    /// `ikmR`: the recipient's key derivation input.
    pub ikm_r: Vec<u8>,
    /// `ikmE`: the randomness of the encapsulation.
    pub ikm_e: Vec<u8>,
    /// `skRm`: the serialized recipient private key.
    pub sk_rm: Vec<u8>,
    /// `pkRm`: the serialized recipient public key.
    pub pk_rm: Vec<u8>,
    /// `enc`: the encapsulation.
    pub enc: Vec<u8>,
    /// `shared_secret`.
    pub shared_secret: Vec<u8>,
    /// `key`: the AEAD key of the context.
    pub key: Vec<u8>,
    /// `base_nonce`.
    pub base_nonce: Vec<u8>,
    /// `exporter_secret`.
    pub exporter_secret: Vec<u8>,
    /// `encryptions`, in sequence order.
    pub encryptions: Vec<HpkePqEncryption>,
    /// `exports`.
    pub exports: Vec<HpkePqExport>,
}

/// One entry of a case's `encryptions`.
#[derive(Debug, Clone, Default)]
pub struct HpkePqEncryption {
    /// `aad`.
    pub aad: Vec<u8>,
    /// `pt`.
    pub pt: Vec<u8>,
    /// `nonce`: `base_nonce` XOR the sequence number.
    pub nonce: Vec<u8>,
    /// `ct`.
    pub ct: Vec<u8>,
}

/// One entry of a case's `exports`.
#[derive(Debug, Clone, Default)]
pub struct HpkePqExport {
    /// `exporter_context`.
    pub exporter_context: Vec<u8>,
    /// `L`.
    pub length: usize,
    /// `exported_value`.
    pub exported_value: Vec<u8>,
}

/// What [`check_hpke_pq_case`] concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpkePqOutcome {
    /// Every value of the case matched.
    Passed,
    /// The case uses a KEM, KDF or AEAD that no MLS suite of this provider
    /// uses (ML-KEM-512, the SHAKE and TurboSHAKE KDFs); the text says which.
    Unsupported(String),
}

/// A random source that hands out fixed bytes once, then fails, so a check
/// also proves that an encapsulation draws exactly `ikmE`.
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

fn kem(id: u16) -> Option<PqKem> {
    Some(match id {
        0x0041 => PqKem::MlKem768,
        0x0042 => PqKem::MlKem1024,
        0x0050 => PqKem::MlKem768P256,
        0x0051 => PqKem::MlKem1024P384,
        0x647a => PqKem::MlKem768X25519,
        _ => return None,
    })
}

fn kdf(id: u16) -> Option<HashAlgorithm> {
    Some(match id {
        0x0001 => HashAlgorithm::Sha256,
        0x0002 => HashAlgorithm::Sha384,
        _ => return None,
    })
}

fn aead(id: u16) -> Option<AeadAlgorithm> {
    Some(match id {
        0x0001 => AeadAlgorithm::Aes128Gcm,
        0x0002 => AeadAlgorithm::Aes256Gcm,
        0x0003 => AeadAlgorithm::ChaCha20Poly1305,
        _ => return None,
    })
}

fn same(what: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what} differs"))
    }
}

fn fail(what: &str) -> impl Fn(CryptoError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Checks one case; `Err` names the first value that differed or the
/// operation that failed.
pub fn check_hpke_pq_case(case: &HpkePqCase) -> Result<HpkePqOutcome, String> {
    let (Some(kem), Some(kdf), Some(aead)) =
        (kem(case.kem_id), kdf(case.kdf_id), aead(case.aead_id))
    else {
        return Ok(HpkePqOutcome::Unsupported(format!(
            "KEM {:#06x}, KDF {:#06x}, AEAD {:#06x}: not used by an MLS suite",
            case.kem_id, case.kdf_id, case.aead_id
        )));
    };
    if case.mode != 0 {
        return Ok(HpkePqOutcome::Unsupported(format!(
            "mode {}: only base mode is used by MLS",
            case.mode
        )));
    }
    if case.encryptions.is_empty() || case.exports.is_empty() {
        return Err("the case has no encryptions or no exports".into());
    }
    let suite = HpkeSuite::new(Kem::Pq(kem), kdf, aead);

    // Key derivation and the KEM's lengths.
    let (sk, pk) = kem
        .derive_key_pair(&case.ikm_r)
        .map_err(fail("DeriveKeyPair"))?;
    same("skRm", sk.as_bytes(), &case.sk_rm)?;
    same("pkRm", &pk, &case.pk_rm)?;
    same(
        "public key of skRm",
        &kem.public_key(&case.sk_rm).map_err(fail("public key"))?,
        &case.pk_rm,
    )?;
    if (
        case.sk_rm.len(),
        case.pk_rm.len(),
        case.enc.len(),
        case.ikm_e.len(),
    ) != (
        kem.private_key_len(),
        kem.public_key_len(),
        kem.enc_len(),
        kem.random_len(),
    ) {
        return Err("Nsk, Npk, Nenc or Nrandom differs".into());
    }

    // The derandomized encapsulation: the source holds exactly `ikmE`.
    let (shared, enc) = kem
        .encap(&case.pk_rm, &mut Fixed(case.ikm_e.clone()))
        .map_err(fail("Encap"))?;
    same("enc", &enc, &case.enc)?;
    same("shared_secret", shared.as_bytes(), &case.shared_secret)?;
    let decapped = kem.decap(&case.enc, &case.sk_rm).map_err(fail("Decap"))?;
    same(
        "Decap shared_secret",
        decapped.as_bytes(),
        &case.shared_secret,
    )?;

    // Key schedule.
    let context = suite
        .key_schedule(&shared, &suite.key_schedule_context(&case.info))
        .map_err(fail("key schedule"))?;
    same("key", context.key.as_bytes(), &case.key)?;
    same(
        "base_nonce",
        context.base_nonce.as_bytes(),
        &case.base_nonce,
    )?;
    same(
        "exporter_secret",
        context.exporter_secret.as_bytes(),
        &case.exporter_secret,
    )?;

    // Encryptions, sequence numbers 0, 1, ...: nonce = base_nonce XOR seq.
    for (seq, e) in case.encryptions.iter().enumerate() {
        let mut nonce = context.base_nonce.as_bytes().to_vec();
        let seq_bytes = (seq as u64).to_be_bytes();
        let offset = nonce
            .len()
            .checked_sub(seq_bytes.len())
            .ok_or("nonce shorter than 8 bytes")?;
        nonce[offset..]
            .iter_mut()
            .zip(seq_bytes)
            .for_each(|(n, s)| *n ^= s);
        same(&format!("nonce {seq}"), &nonce, &e.nonce)?;
        let ct = aead
            .seal(context.key.as_bytes(), &nonce, &e.aad, &e.pt)
            .map_err(fail("seal"))?;
        same(&format!("ct {seq}"), &ct, &e.ct)?;
    }

    // The single-shot seal and open give the first encryption.
    let first = &case.encryptions[0];
    let (sealed_enc, ct) = suite
        .seal(
            &case.pk_rm,
            &case.info,
            &first.aad,
            &first.pt,
            &mut Fixed(case.ikm_e.clone()),
        )
        .map_err(fail("single-shot seal"))?;
    same("single-shot seal enc", &sealed_enc, &case.enc)?;
    same("single-shot seal ct", &ct, &first.ct)?;
    let opened = suite
        .open(&case.sk_rm, &case.enc, &case.info, &first.aad, &ct)
        .map_err(fail("single-shot open"))?;
    same("single-shot open", opened.as_bytes(), &first.pt)?;

    // Exports, through the context and through the single-shot API.
    for x in &case.exports {
        let value = suite
            .export(&context, &x.exporter_context, x.length)
            .map_err(fail("export"))?;
        same("exported_value", value.as_bytes(), &x.exported_value)?;
        let received = suite
            .receiver_export(
                &case.sk_rm,
                &case.enc,
                &case.info,
                &x.exporter_context,
                x.length,
            )
            .map_err(fail("receiver export"))?;
        same("receiver export", received.as_bytes(), &x.exported_value)?;
        let (sent_enc, sent) = suite
            .send_export(
                &case.pk_rm,
                &case.info,
                &x.exporter_context,
                x.length,
                &mut Fixed(case.ikm_e.clone()),
            )
            .map_err(fail("sender export"))?;
        same("sender export enc", &sent_enc, &case.enc)?;
        same("sender export", sent.as_bytes(), &x.exported_value)?;
    }
    Ok(HpkePqOutcome::Passed)
}
