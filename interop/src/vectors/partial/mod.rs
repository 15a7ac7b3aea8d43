//! Runners of the Partial MLS vector files (draft-ietf-mls-partial,
//! folder `test-vectors/partial`), one module per file.

pub mod annotated_welcome;
pub mod membership_proofs;
pub mod message_syntax;
pub mod tree_operations;
