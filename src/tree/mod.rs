//! The ratchet tree (§4, §7).

mod cow;
pub mod hashes;
pub mod leaf_node;
pub mod leaf_validation;
pub mod membership_proof;
pub mod multi_credential_rules;
pub mod nodes;
pub mod operations;
pub mod partial_path;
pub mod private;
pub mod ratchet_tree;
pub mod signatures;
pub mod treekem;
pub mod update_path;
pub mod validation;
