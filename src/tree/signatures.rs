//! Leaf signature verification for a whole [`RatchetTree`] (§7.2, §7.3).

use crate::Result;
use crate::crypto::Suite;
use crate::tree::ratchet_tree::RatchetTree;

impl RatchetTree {
    /// Verifies the signature of every non-blank leaf (§7.3: "Verify that the
    /// signature on the LeafNode is valid using `signature_key`"), over
    /// `LeafNodeTBS` (§7.2), which for the `update` and `commit` sources
    /// includes `group_id` and the leaf's own index. Fails naming the first
    /// leaf whose signature does not verify.
    pub fn verify_leaf_signatures(&self, suite: &Suite, group_id: &[u8]) -> Result<()> {
        self.members()
            .try_for_each(|(index, leaf)| leaf.verify_signature(suite, Some((group_id, index))))
    }
}
