//! The ratchet tree (§4, §7).

pub mod leaf_node;
pub mod leaf_validation;
pub mod math;
pub mod nodes;
