//! Leaf signature verification for a whole [`RatchetTree`] (§7.2, §7.3).

use crate::crypto::Suite;
use crate::tree::ratchet_tree::RatchetTree;
use crate::{Error, Result};

/// Label of the LeafNode signature (§7.2).
const LEAF_NODE_TBS: &str = "LeafNodeTBS";

impl RatchetTree {
    /// Verifies the signature of every non-blank leaf (§7.3: "Verify that the
    /// signature on the LeafNode is valid using `signature_key`"), over
    /// `LeafNodeTBS` (§7.2), which for the `update` and `commit` sources
    /// includes `group_id` and the leaf's own index. Fails naming the first
    /// leaf whose signature does not verify.
    pub fn verify_leaf_signatures(&self, suite: &Suite, group_id: &[u8]) -> Result<()> {
        for (index, leaf) in self.members() {
            let tbs = leaf.to_be_signed(Some((group_id, index)))?;
            suite
                .verify_with_label(&leaf.signature_key, LEAF_NODE_TBS, &tbs, &leaf.signature)
                .map_err(|e| {
                    Error::protocol(
                        "§7.3",
                        format!("leaf {index}: LeafNode signature does not verify ({e})"),
                    )
                })?;
        }
        Ok(())
    }
}
