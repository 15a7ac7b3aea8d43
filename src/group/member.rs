//! [`Member`]: a member as the application sees it.

use crate::crypto::SignaturePublicKey;
use crate::crypto::credential::Credential;
use crate::tree::leaf_node::LeafNode;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;

/// A member as the application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member {
    /// Leaf index: the member's stable address in this group.
    pub index: LeafIndex,
    /// Credential.
    pub credential: Credential,
    /// Signature key.
    pub signature_key: SignaturePublicKey,
}

impl Member {
    internal_pub! {
        /// The member at `index` of `tree`, if that leaf is occupied.
        pub fn at(tree: &RatchetTree, index: LeafIndex) -> Option<Self> {
            tree.leaf(index).map(|leaf| Self::from_leaf(index, leaf))
        }
    }

    fn from_leaf(index: LeafIndex, leaf: &LeafNode) -> Self {
        Self {
            index,
            credential: leaf.credential.clone(),
            signature_key: leaf.signature_key.clone(),
        }
    }

    internal_pub! {
        /// The members at `indices` of `tree` (blank leaves skipped).
        pub fn all_at(tree: &RatchetTree, indices: &[LeafIndex]) -> Vec<Self> {
            indices.iter().filter_map(|&i| Self::at(tree, i)).collect()
        }
    }

    internal_pub! {
        /// Every member of `tree`, by leaf index.
        pub fn all_of(tree: &RatchetTree) -> Vec<Self> {
            tree.members()
                .map(|(index, leaf)| Self::from_leaf(index, leaf))
                .collect()
        }
    }
}
