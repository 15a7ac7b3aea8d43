//! `tree-operations.json`: apply one Add, Update or Remove proposal to a tree
//! and compare the resulting tree and tree hashes.

use arbor_mls::codec::decode_exact;
use arbor_mls::messages::proposals::Proposal;
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::types::math::LeafIndex;
use serde_json::Value;

use super::Outcome;
use super::util::{Check, eq_bytes, hex, outcome, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| -> Check<Outcome> {
        let mut tree = RatchetTree::from_bytes(&hex(case, "tree_before")?)
            .map_err(|e| format!("`tree_before` is rejected: {e}"))?;
        let before = tree
            .root_tree_hash(&suite)
            .map_err(|e| format!("tree hash before: {e}"))?;
        eq_bytes("tree_hash_before", &before, &hex(case, "tree_hash_before")?)?;

        let proposal: Proposal = decode_exact(&hex(case, "proposal")?)
            .map_err(|e| format!("`proposal` does not decode: {e}"))?;
        let sender = u32::try_from(uint(case, "proposal_sender")?)
            .map(LeafIndex)
            .map_err(|_| "`proposal_sender` out of range".to_string())?;
        match proposal {
            Proposal::Add(add) => tree.add_leaf(add.key_package.leaf_node).map(|_| ()),
            Proposal::Update(update) => tree.update_leaf(sender, update.leaf_node),
            Proposal::Remove(remove) => tree.remove_leaf(remove.removed),
            other => return Err(format!("unexpected proposal {:?}", other.proposal_type())),
        }
        .map_err(|e| format!("applying the proposal: {e}"))?;

        let after = tree.to_bytes().map_err(|e| format!("encoding: {e}"))?;
        eq_bytes("tree_after", &after, &hex(case, "tree_after")?)?;
        // The cached hash (only the changed path recomputed) must agree with
        // a computation from scratch and with the vector.
        let cached = tree
            .root_tree_hash(&suite)
            .map_err(|e| format!("tree hash after: {e}"))?;
        let fresh = tree
            .tree_hash_uncached(&suite, tree.root())
            .map_err(|e| format!("tree hash after: {e}"))?;
        eq_bytes("uncached tree hash after", &fresh, &cached)?;
        eq_bytes("tree_hash_after", &cached, &hex(case, "tree_hash_after")?)?;
        Ok(Outcome::Pass)
    })())
}
