//! Runners of the Partial MLS vector files (draft-ietf-mls-partial,
//! folder `test-vectors/partial`), one module per file.

pub mod annotated_commit;
pub mod annotated_welcome;
pub mod membership_proofs;
pub mod message_syntax;
pub mod passive_client;
pub mod sender_authenticated;
pub mod tree_operations;
