//! `psk_secret.json`: chaining external PSKs into `psk_secret` (§8.4).

use arbor_mls::crypto::Suite;
use arbor_mls::schedule::{PreSharedKeyId, Psk, PskSecret};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq_bytes, hex, outcome};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome(check(&suite, case).map(|()| Outcome::Pass))
}

fn check(suite: &Suite, case: &Value) -> Check {
    let mut ids = Vec::new();
    let mut values = Vec::new();
    for (i, psk) in array(case, "psks")?.iter().enumerate() {
        let field = |name: &str| hex(psk, name).map_err(|e| format!("psks[{i}]: {e}"));
        ids.push(PreSharedKeyId {
            psk: Psk::External {
                psk_id: field("psk_id")?,
            },
            psk_nonce: field("psk_nonce")?,
        });
        values.push(field("psk")?);
    }
    let psk_secret = PskSecret::compute(suite, ids.iter().zip(values.iter().map(Vec::as_slice)))
        .map_err(|e| e.to_string())?;
    eq_bytes(
        "psk_secret",
        psk_secret.as_secret().as_bytes(),
        &hex(case, "psk_secret")?,
    )
}
