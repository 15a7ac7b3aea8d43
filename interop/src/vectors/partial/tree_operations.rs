//! test-vector-partial-tree-operations.json: a receiver without the tree
//! decrypts its path secret from an UpdatePath with the post-commit
//! membership proofs and `resolution_index`, and derives `commit_secret`.
//!
//! The file carries no GroupContext: its generator sealed each path secret
//! with the raw `tree_hash_after` bytes as the EncryptWithLabel context (the
//! one value of the provisional GroupContext the entry gives), which is what
//! decrypts every case. The AnnotatedCommit runner uses the whole encoded
//! provisional GroupContext, as §7.6 and the draft say.

use std::collections::BTreeMap;

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{HpkePrivateKey, Secret};
use arbor_mls::tree::partial_path::decrypt_partial_path;
use arbor_mls::tree::update_path::UpdatePath;
use arbor_mls::types::math::NodeIndex;
use serde_json::Value;

use super::membership_proofs::proof;
use crate::vectors::Outcome;
use crate::vectors::util::{array, eq_bytes, hex, outcome, private_key, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| {
        let path: UpdatePath = decode_exact(&hex(case, "update_path")?)
            .map_err(|e| format!("`update_path` does not decode: {e}"))?;
        let tree_hash_after = hex(case, "tree_hash_after")?;
        let field = |name: &str| case.get(name).cloned().unwrap_or(Value::Null);
        let sender = proof(
            &field("sender_membership_proof_after"),
            "sender_membership_proof_after",
        )?;
        let receiver = proof(
            &field("receiver_membership_proof_after"),
            "receiver_membership_proof_after",
        )?;
        sender
            .verify(&suite, &tree_hash_after)
            .map_err(|e| format!("sender proof: {e}"))?;
        receiver
            .verify(&suite, &tree_hash_after)
            .map_err(|e| format!("receiver proof: {e}"))?;
        let resolution_index = u32::try_from(uint(case, "resolution_index")?)
            .map_err(|_| "`resolution_index` out of range".to_string())?;
        let mut keys = BTreeMap::new();
        for entry in array(case, "receiver_path_state")? {
            let node = u32::try_from(uint(entry, "node")?)
                .map_err(|_| "`node` out of range".to_string())?;
            keys.insert(node, private_key(entry, "encryption_priv", &suite)?);
        }
        let lookup = |x: NodeIndex| {
            keys.get(&x.0)
                .map(|k| HpkePrivateKey(Secret::new(k.clone())))
        };
        let out = decrypt_partial_path(
            &suite,
            &path,
            &sender,
            &receiver,
            resolution_index,
            &tree_hash_after,
            &lookup,
        )
        .map_err(|e| format!("partial UpdatePath: {e}"))?;
        eq_bytes(
            "commit_secret",
            out.commit_secret.as_bytes(),
            &hex(case, "commit_secret")?,
        )?;
        Ok(Outcome::Pass)
    })())
}
