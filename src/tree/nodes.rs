//! Wire form of ratchet tree nodes (§7.1, §12.4.3.3).

use crate::codec::{
    Decode, DecodeError, Encode, Reader, Writer, bad_tag, field, tag_u8, wire_struct,
};
use crate::crypto::HpkePublicKey;
use crate::tree::leaf_node::LeafNode;
use crate::types::math::LeafIndex;

wire_struct! {
    /// `ParentNode` (§7.1).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ParentNode {
        /// HPKE key shared by the members below.
        pub encryption_key: HpkePublicKey,
        /// Hash of this node's parent (§7.9).
        pub parent_hash: Vec<u8>,
        /// Leaves below that do not know the private key, sorted.
        pub unmerged_leaves: Vec<LeafIndex>,
    }
}

/// `Node` (§12.4.3.3): a leaf or a parent. Boxed so that a tree of mostly
/// blank nodes stays small in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `node_type = leaf`.
    Leaf(Box<LeafNode>),
    /// `node_type = parent`.
    Parent(Box<ParentNode>),
}

impl Encode for Node {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Leaf(leaf) => {
                w.put(&[1]);
                leaf.encode(w);
            }
            Self::Parent(parent) => {
                w.put(&[2]);
                parent.encode(w);
            }
        }
    }
}

impl Decode for Node {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (tag, at) = tag_u8(r)?;
        match tag {
            1 => Ok(Self::Leaf(field(r, "leaf_node")?)),
            2 => Ok(Self::Parent(field(r, "parent_node")?)),
            v => Err(bad_tag(v.into(), at, "node_type")),
        }
    }
}

/// `optional<Node> ratchet_tree<V>` as carried in the `ratchet_tree`
/// extension: the array representation, blanks as `None`.
pub type RatchetTreeWire = Vec<Option<Node>>;
