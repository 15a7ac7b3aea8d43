//! Commit and UpdatePath (§12.4, §7.6): wire forms.

use crate::codec::wire_struct;
use crate::crypto::HpkePublicKey;
use crate::group::proposals::ProposalOrRef;
use crate::tree::leaf_node::LeafNode;

wire_struct! {
    /// `HPKECiphertext` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HpkeCiphertext {
        /// The KEM encapsulation.
        pub kem_output: Vec<u8>,
        /// The AEAD ciphertext.
        pub ciphertext: Vec<u8>,
    }
}

wire_struct! {
    /// `UpdatePathNode` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UpdatePathNode {
        /// New public key of this node.
        pub encryption_key: HpkePublicKey,
        /// The path secret, encrypted to each node of the copath resolution.
        pub encrypted_path_secret: Vec<HpkeCiphertext>,
    }
}

wire_struct! {
    /// `UpdatePath` (§7.6).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UpdatePath {
        /// The committer's new leaf node.
        pub leaf_node: LeafNode,
        /// One entry per node of the filtered direct path.
        pub nodes: Vec<UpdatePathNode>,
    }
}

wire_struct! {
    /// `Commit` (§12.4).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Commit {
        /// Proposals, inline or by reference.
        pub proposals: Vec<ProposalOrRef>,
        /// The committer's path update, if any.
        pub path: Option<UpdatePath>,
    }
}
