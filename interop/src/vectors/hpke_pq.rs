//! hpke-pq/test-vectors.json: the official vectors of draft-ietf-hpke-pq
//! (github.com/hpkewg/hpke-pq), each case replayed by the provider's
//! `check_hpke_pq_case`: key derivation, the derandomized encapsulation,
//! decapsulation, the key schedule, every encryption and export. Cases whose
//! KEM, KDF or AEAD no MLS suite uses are skipped, naming them. Built
//! without the feature `pq`, every case is skipped.

use serde_json::Value;

use super::Outcome;

#[cfg(feature = "pq")]
mod with_pq {
    use arbor_mls::crypto::rust_crypto::hpke_pq_vectors::{
        HpkePqCase, HpkePqEncryption, HpkePqExport, HpkePqOutcome, check_hpke_pq_case,
    };
    use serde_json::Value;

    use super::super::Outcome;
    use super::super::util::{Check, array, hex, outcome, uint};

    fn id<T: TryFrom<u64>>(v: &Value, field: &str) -> Check<T> {
        T::try_from(uint(v, field)?).map_err(|_| format!("`{field}` out of range"))
    }

    fn parse(case: &Value) -> Check<HpkePqCase> {
        let encryptions = array(case, "encryptions")?
            .iter()
            .map(|e| {
                Ok(HpkePqEncryption {
                    aad: hex(e, "aad")?,
                    pt: hex(e, "pt")?,
                    nonce: hex(e, "nonce")?,
                    ct: hex(e, "ct")?,
                })
            })
            .collect::<Check<Vec<_>>>()?;
        let exports = array(case, "exports")?
            .iter()
            .map(|x| {
                Ok(HpkePqExport {
                    exporter_context: hex(x, "exporter_context")?,
                    length: id(x, "L")?,
                    exported_value: hex(x, "exported_value")?,
                })
            })
            .collect::<Check<Vec<_>>>()?;
        Ok(HpkePqCase {
            mode: id(case, "mode")?,
            kem_id: id(case, "kem_id")?,
            kdf_id: id(case, "kdf_id")?,
            aead_id: id(case, "aead_id")?,
            info: hex(case, "info")?,
            ikm_r: hex(case, "ikmR")?,
            ikm_e: hex(case, "ikmE")?,
            sk_rm: hex(case, "skRm")?,
            pk_rm: hex(case, "pkRm")?,
            enc: hex(case, "enc")?,
            shared_secret: hex(case, "shared_secret")?,
            key: hex(case, "key")?,
            base_nonce: hex(case, "base_nonce")?,
            exporter_secret: hex(case, "exporter_secret")?,
            encryptions,
            exports,
        })
    }

    pub(super) fn run(case: &Value) -> Outcome {
        outcome((|| {
            Ok(match check_hpke_pq_case(&parse(case)?)? {
                HpkePqOutcome::Passed => Outcome::Pass,
                HpkePqOutcome::Unsupported(why) => Outcome::Skip(why),
            })
        })())
    }
}

/// Runs one case.
#[cfg(feature = "pq")]
pub fn run(case: &Value) -> Outcome {
    with_pq::run(case)
}

/// Runs one case: without the feature `pq` there is no PQ KEM to run it.
#[cfg(not(feature = "pq"))]
pub fn run(_case: &Value) -> Outcome {
    Outcome::Skip("built without the feature pq".into())
}
