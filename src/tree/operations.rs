//! Applying Add, Update and Remove proposals to a [`RatchetTree`]
//! (§12.1.1-§12.1.3, §7.7).
//!
//! These change only the tree; validating the proposals themselves (key
//! package, leaf node, sender rights) is the caller's job.

use crate::tree::leaf_node::LeafNode;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;
use crate::{Error, Result};

impl RatchetTree {
    /// The leftmost blank leaf, if any: a descent from the root that goes
    /// left whenever the left subtree has room, O(log n).
    pub fn leftmost_blank_leaf(&self) -> Option<LeafIndex> {
        let full = |x: crate::types::math::NodeIndex| {
            u64::from(self.occupied_below(x)) == 1u64 << x.level()
        };
        let mut x = self.root();
        if full(x) {
            return None;
        }
        while let (Some(l), Some(r)) = (x.left(), x.right()) {
            x = if full(l) { r } else { l };
        }
        x.leaf()
    }

    /// The leaf an external joiner takes (§12.4.3.2): the leftmost blank
    /// leaf, after extending the tree if there is none. The leaf stays blank.
    pub fn reserve_leaf(&mut self) -> Result<LeafIndex> {
        match self.leftmost_blank_leaf() {
            Some(l) => Ok(l),
            None => {
                let first_new = LeafIndex(self.leaf_count().get());
                self.extend()?;
                Ok(first_new)
            }
        }
    }

    /// Adds `leaf_node` as a new member (§12.1.1) and returns its index: the
    /// leftmost blank leaf, or the first new leaf after extending the tree
    /// (§7.7). The new leaf is added to the `unmerged_leaves` of every
    /// non-blank parent on its direct path.
    pub fn add_leaf(&mut self, leaf_node: LeafNode) -> Result<LeafIndex> {
        // §12.1.1: "if there are empty leaves in the tree, L is the leftmost
        // empty leaf. Otherwise, the tree is extended to the right [...] and L
        // is assigned the leftmost new blank leaf."
        let leaf = self.reserve_leaf()?;
        let path = leaf
            .node()
            .and_then(|x| x.direct_path(self.leaf_count()))
            .ok_or(Error::Internal("new leaf outside the tree"))?;
        // §12.1.1: "For each non-blank intermediate node along the path from
        // the leaf L to the root, add L's leaf index to the `unmerged_leaves`
        // list for the node." The list stays sorted (§7.1).
        for p in path {
            self.update_parent(p, |parent| {
                if let Err(pos) = parent.unmerged_leaves.binary_search(&leaf) {
                    parent.unmerged_leaves.insert(pos, leaf);
                }
            })?;
        }
        // §12.1.1: "Set the leaf node L to a new node containing the LeafNode".
        self.set_leaf(leaf, Some(leaf_node))?;
        Ok(leaf)
    }

    /// Applies an Update from the member at `sender` (§12.1.2): replaces its
    /// leaf node and blanks its direct path.
    pub fn update_leaf(&mut self, sender: LeafIndex, leaf_node: LeafNode) -> Result<()> {
        if self.leaf(sender).is_none() {
            return Err(Error::protocol(
                "§12.1.2",
                format!("Update sent from leaf {sender}, which is not a member"),
            ));
        }
        // §12.1.2: "Replace the sender's LeafNode [...] Blank the
        // intermediate nodes along the path from the sender's leaf to the root."
        self.set_leaf(sender, Some(leaf_node))?;
        self.blank_direct_path(sender)
    }

    /// Applies a Remove of the member at `removed` (§12.1.3): blanks its leaf
    /// and direct path, then truncates the tree while its right half is blank.
    pub fn remove_leaf(&mut self, removed: LeafIndex) -> Result<()> {
        // §12.1.3: "A Remove proposal is invalid if the `removed` field does
        // not identify a non-blank leaf node."
        if self.leaf(removed).is_none() {
            return Err(Error::protocol(
                "§12.1.3",
                format!("Remove of leaf {removed}, which is blank or outside the tree"),
            ));
        }
        self.set_leaf(removed, None)?;
        self.blank_direct_path(removed)?;
        // §12.1.3: "Truncate the tree by removing the right subtree until
        // there is at least one non-blank leaf node in the right subtree."
        self.truncate();
        Ok(())
    }
}
