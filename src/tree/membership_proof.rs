//! Membership proofs of Partial MLS (draft-ietf-mls-partial, "Membership
//! Proofs and Partial Trees"): a leaf, the nodes of its direct path and the
//! tree hashes of its copath, from which the root tree hash (§7.8) is
//! recomputed without the rest of the tree.
//!
//! A proof comes from an unauthenticated party (the DS or a committer), so
//! every field is checked against the shape it claims before any hash is
//! computed: a power-of-two leaf count, a leaf inside it, exactly one node
//! per level and one copath hash per level below the root, each of the
//! suite's hash length. The proof is then valid only if the recomputed root
//! equals a tree hash the client already trusts (its GroupContext's).

use crate::codec::wire_struct;
use crate::crypto::Suite;
use crate::tree::hashes::{leaf_hash_input, parent_hash_input};
use crate::tree::leaf_node::LeafNode;
use crate::tree::nodes::Node;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::{LeafCount, LeafIndex, NodeIndex};
use crate::{Error, Result};

/// The rule cited by the errors of this module.
const RULE: &str = "§7.8 via draft-ietf-mls-partial membership proofs";

wire_struct! {
    /// `CopathHash`: the tree hash of one copath node.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CopathHash {
        /// The node's tree hash (§7.8).
        pub hash_value: Vec<u8>,
    }
}

wire_struct! {
    /// `MembershipProof`: proves that a leaf node sits at `leaf_index` of a
    /// tree of `n_leaves` leaves with a given root tree hash.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MembershipProof {
        /// The proven leaf's index.
        pub leaf_index: LeafIndex,
        /// The number of leaves of the tree (a power of two).
        pub n_leaves: u32,
        /// The leaf node, then each node of its direct path up to the root;
        /// blank nodes are `None`.
        pub direct_path_nodes: Vec<Option<Node>>,
        /// The tree hash of each copath node, from the leaf's sibling up to
        /// the root's child.
        pub copath_hashes: Vec<CopathHash>,
    }
}

impl MembershipProof {
    /// Builds the proof for `leaf` from a full tree (as a full client or the
    /// DS does). Fails if the leaf is blank or outside the tree.
    pub fn from_tree(tree: &RatchetTree, suite: &Suite, leaf: LeafIndex) -> Result<Self> {
        let n = tree.leaf_count();
        let start = leaf
            .node()
            .filter(|x| n.contains_node(*x))
            .ok_or_else(|| Error::Misuse(format!("leaf {leaf} is outside a tree of {n} leaves")))?;
        if tree.leaf(leaf).is_none() {
            return Err(Error::Misuse(format!(
                "leaf {leaf} is blank: no proof for it"
            )));
        }
        let mut direct_path_nodes = vec![tree.node(start).cloned()];
        let mut copath_hashes = Vec::new();
        let mut x = start;
        while let Some(parent) = x.parent(n) {
            let sibling = x
                .sibling(n)
                .ok_or(Error::Internal("a non-root node without sibling"))?;
            copath_hashes.push(CopathHash {
                hash_value: tree.tree_hash(suite, sibling)?,
            });
            direct_path_nodes.push(tree.node(parent).cloned());
            x = parent;
        }
        Ok(Self {
            leaf_index: leaf,
            n_leaves: n.get(),
            direct_path_nodes,
            copath_hashes,
        })
    }

    /// The tree's leaf count, checked to be a power of two that holds
    /// `leaf_index`.
    pub fn leaf_count(&self) -> Result<LeafCount> {
        let n = LeafCount::new(self.n_leaves).ok_or_else(|| {
            Error::protocol(
                RULE,
                format!("n_leaves {} is not a power of two", self.n_leaves),
            )
        })?;
        if !n.contains_leaf(self.leaf_index) {
            return Err(Error::protocol(
                RULE,
                format!(
                    "leaf {} is outside a tree of {} leaves",
                    self.leaf_index, self.n_leaves
                ),
            ));
        }
        Ok(n)
    }

    /// The proven leaf node.
    pub fn leaf_node(&self) -> Result<&LeafNode> {
        match self.direct_path_nodes.first() {
            Some(Some(Node::Leaf(leaf))) => Ok(leaf),
            Some(None) => Err(Error::protocol(RULE, "the proven leaf is blank")),
            Some(Some(Node::Parent(_))) => Err(Error::protocol(
                RULE,
                "the first node of the proof is a parent, not a leaf",
            )),
            None => Err(Error::protocol(RULE, "the proof has no nodes")),
        }
    }

    /// The node indices of the leaf and its direct path, paired with the
    /// proof's nodes, from the leaf up to the root. Checks the shape.
    pub fn path(&self) -> Result<Vec<(NodeIndex, Option<&Node>)>> {
        let n = self.leaf_count()?;
        let depth = n.depth() as usize;
        if self.direct_path_nodes.len() != depth + 1 || self.copath_hashes.len() != depth {
            return Err(Error::protocol(
                RULE,
                format!(
                    "a tree of {} leaves needs {} nodes and {depth} copath hashes, the proof has {} and {}",
                    self.n_leaves,
                    depth + 1,
                    self.direct_path_nodes.len(),
                    self.copath_hashes.len()
                ),
            ));
        }
        let leaf = self
            .leaf_index
            .node()
            .ok_or(Error::Internal("a leaf index without node index"))?;
        let mut out = Vec::with_capacity(depth + 1);
        let mut x = Some(leaf);
        for node in &self.direct_path_nodes {
            let at = x.ok_or(Error::Internal("direct path shorter than the tree depth"))?;
            out.push((at, node.as_ref()));
            x = at.parent(n);
        }
        Ok(out)
    }

    /// Recomputes the root tree hash (§7.8) from the proven leaf, the
    /// direct-path nodes and the copath hashes.
    pub fn root_tree_hash(&self, suite: &Suite) -> Result<Vec<u8>> {
        let leaf = self.leaf_node()?;
        let path = self.path()?;
        let hash_len = suite.hash_len();
        if let Some((i, bad)) = self
            .copath_hashes
            .iter()
            .enumerate()
            .find(|(_, h)| h.hash_value.len() != hash_len)
        {
            return Err(Error::protocol(
                RULE,
                format!(
                    "copath hash {i} has {} bytes, the suite's hash has {hash_len}",
                    bad.hash_value.len()
                ),
            ));
        }
        let mut hash = suite.hash(&leaf_hash_input(self.leaf_index, Some(leaf))?);
        for (level, ((_, node), copath)) in path.iter().skip(1).zip(&self.copath_hashes).enumerate()
        {
            let parent = match node {
                None => None,
                Some(Node::Parent(p)) => Some(&**p),
                Some(Node::Leaf(_)) => {
                    return Err(Error::protocol(
                        RULE,
                        format!("direct-path node {} is a leaf", level + 1),
                    ));
                }
            };
            // Bit `level` of the leaf index says whether the subtree hashed
            // so far is the left or the right child.
            let input = if (self.leaf_index.0 >> level) & 1 == 0 {
                parent_hash_input(parent, &hash, &copath.hash_value)?
            } else {
                parent_hash_input(parent, &copath.hash_value, &hash)?
            };
            hash = suite.hash(&input);
        }
        Ok(hash)
    }

    /// Checks that the proof is valid relative to `tree_hash`: the root it
    /// recomputes equals it.
    pub fn verify(&self, suite: &Suite, tree_hash: &[u8]) -> Result<()> {
        let root = self.root_tree_hash(suite)?;
        // Tree hashes are public: no constant-time comparison is needed.
        if root == tree_hash {
            Ok(())
        } else {
            Err(Error::protocol(
                RULE,
                format!(
                    "the proof for leaf {} does not lead to the tree hash",
                    self.leaf_index
                ),
            ))
        }
    }

    /// Checks that `self` and `other` reference the same tree: equal
    /// `n_leaves` and equal recomputed root tree hashes. Returns that hash.
    pub fn same_tree(&self, other: &Self, suite: &Suite) -> Result<Vec<u8>> {
        if self.n_leaves != other.n_leaves {
            return Err(Error::protocol(
                RULE,
                format!(
                    "the proofs are for trees of {} and {} leaves",
                    self.n_leaves, other.n_leaves
                ),
            ));
        }
        let root = self.root_tree_hash(suite)?;
        other.verify(suite, &root)?;
        Ok(root)
    }
}

#[cfg(test)]
#[path = "membership_proof_tests.rs"]
mod tests;
