//! test-vector-partial-membership-proofs.json: every proof of an entry
//! decodes, re-encodes to the same bytes and recomputes the entry's tree
//! hash; each proof references the same tree as the one before it.

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::tree::membership_proof::MembershipProof;
use serde_json::Value;

use crate::vectors::Outcome;
use crate::vectors::util::{Check, array, eq_bytes, hex, outcome};

/// Decodes a hex string as a proof and checks it re-encodes unchanged.
pub fn proof(hex_text: &Value, what: &str) -> Check<MembershipProof> {
    let bytes = hex_text
        .as_str()
        .and_then(|s| ::hex::decode(s).ok())
        .ok_or_else(|| format!("{what} is not hex"))?;
    let proof: MembershipProof =
        decode_exact(&bytes).map_err(|e| format!("{what} does not decode: {e}"))?;
    let again = encode(&proof).map_err(|e| format!("{what}: encoding: {e}"))?;
    eq_bytes(&format!("{what} re-encoded"), &again, &bytes)?;
    Ok(proof)
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let tree_hash = hex(case, "tree_hash")?;
        let mut previous: Option<MembershipProof> = None;
        let proofs = array(case, "proofs")?;
        if proofs.is_empty() {
            return Err("no proofs".into());
        }
        for (i, p) in proofs.iter().enumerate() {
            let what = format!("proofs[{i}]");
            let proof = proof(p, &what)?;
            proof
                .verify(&suite, &tree_hash)
                .map_err(|e| format!("{what}: {e}"))?;
            if let Some(prev) = &previous {
                prev.same_tree(&proof, &suite)
                    .map_err(|e| format!("{what} and the one before: {e}"))?;
            }
            previous = Some(proof);
        }
        Ok(Outcome::Pass)
    })())
}
