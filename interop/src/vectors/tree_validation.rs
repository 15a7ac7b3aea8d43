//! `tree-validation.json`: resolution and tree hash of every node, parent
//! hashes of the whole tree and the signatures of all leaves.

use arbor_mls::tree::leaf_validation::LifetimePolicy;
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::tree::validation::TreeValidation;
use arbor_mls::types::math::NodeIndex;
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq, eq_bytes, hex, outcome};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome((|| -> Check<Outcome> {
        let tree = RatchetTree::from_bytes(&hex(case, "tree")?)
            .map_err(|e| format!("`tree` is rejected: {e}"))?;
        let group_id = hex(case, "group_id")?;
        let width = tree.leaf_count().node_width() as usize;

        let resolutions = array(case, "resolutions")?;
        eq("length of `resolutions`", resolutions.len(), width)?;
        for (i, want) in resolutions.iter().enumerate() {
            let x = node(i)?;
            let want = want
                .as_array()
                .and_then(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
                .ok_or_else(|| format!("`resolutions[{i}]` is not an array of integers"))?;
            let got: Vec<u64> = tree
                .resolution(x)
                .into_iter()
                .map(|n| u64::from(n.0))
                .collect();
            eq(&format!("resolutions[{i}]"), got, want)?;
        }

        let tree_hashes = array(case, "tree_hashes")?;
        eq("length of `tree_hashes`", tree_hashes.len(), width)?;
        for (i, want) in tree_hashes.iter().enumerate() {
            let want = want
                .as_str()
                .and_then(|s| ::hex::decode(s).ok())
                .ok_or_else(|| format!("`tree_hashes[{i}]` is not hex"))?;
            let got = tree
                .tree_hash(&suite, node(i)?)
                .map_err(|e| format!("tree hash of node {i}: {e}"))?;
            eq_bytes(&format!("tree_hashes[{i}]"), &got, &want)?;
        }

        tree.verify_parent_hashes(&suite)
            .map_err(|e| format!("parent hashes: {e}"))?;
        tree.verify_leaf_signatures(&suite, &group_id)
            .map_err(|e| format!("leaf signatures: {e}"))?;
        // The whole import validation of §12.4.3.1. The vectors carry no
        // clock, so lifetimes are checked for length but not against a time.
        let root_hash = tree.root_tree_hash(&suite).map_err(|e| e.to_string())?;
        let v = TreeValidation {
            group_id: &group_id,
            tree_hash: &root_hash,
            required: None,
            lifetime: LifetimePolicy::dangerous_unchecked(),
        };
        tree.validate(&suite, &v)
            .map_err(|e| format!("tree validation: {e}"))?;
        Ok(Outcome::Pass)
    })())
}

fn node(i: usize) -> Check<NodeIndex> {
    u32::try_from(i)
        .map(NodeIndex)
        .map_err(|_| format!("node {i} out of range"))
}
