//! The vocabulary every layer shares: codepoints (proposal and extension
//! types, protocol version), extensions, tree math (leaf and node indexes),
//! the credential-validation vocabulary, users and devices, message kinds,
//! and the error type.
//! It depends only on `codec` and `crypto`.

pub mod app_data;
pub mod content_media;
pub mod credential_validation;
mod device_identity;
#[cfg(test)]
mod device_identity_tests;
pub mod error;
pub mod extensions;
pub mod grease;
pub mod math;
mod message_kind;
mod proposal_type;
mod protocol_version;
pub(crate) mod redacted;

pub use device_identity::DeviceIdentity;
pub use extensions::{Extension, ExtensionType};
pub use message_kind::MessageKind;
pub use proposal_type::{Commits, ProposalRules, ProposalType};
pub use protocol_version::ProtocolVersion;
