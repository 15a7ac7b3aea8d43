//! The RFC 9420 structures an application meets in events, staged commits
//! and options: proposals and what they carry, leaf nodes, key packages,
//! extensions, PSK ids and senders. Read-only views of what was on the wire;
//! the engine that produces and checks them is internal.

pub use crate::framing::{ContentType, Sender, WireFormat};
pub use crate::group::commit_stage::{CommitSummary, StagedCommit};
pub use crate::group::proposal_cache::CachedProposal;
pub use crate::group::proposal_select::LeftOut;
pub use crate::group::wire_format_rules::WireFormats;
pub use crate::messages::app_data_proposals::{AppDataOperation, AppDataUpdate, AppEphemeral};
pub use crate::messages::key_package::KeyPackageData;
pub use crate::messages::proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, Proposal, ReInit, Remove, SelfRemove,
    Update,
};
pub use crate::schedule::{
    GroupContext, PSK_TYPE_APPLICATION, PreSharedKeyId, Psk, ResumptionPskUsage,
};
pub use crate::tree::leaf_node::{Capabilities, LeafNode, LeafNodeSource, Lifetime};
pub use crate::types::ProposalType;
pub use crate::types::ProtocolVersion;
pub use crate::types::app_data::{
    AppDataDictionary, ComponentData, ComponentsList, SafeAad, SafeAadItem,
};
pub use crate::types::content_media::{
    AppAck, ApplicationFraming, MediaType, MediaTypeList, MediaTypeParameter, MessageRange,
};
pub use crate::types::extensions::{
    Extension, ExtensionType, ExternalSender as ExternalSenderEntry, RequiredCapabilities,
};
pub use crate::types::math::LeafIndex;
