//! Key schedule, secret tree, transcript hashes and PSKs (§8, §9).

mod group_context;
mod psk_id;

pub use group_context::{GroupContext, ProtocolVersion};
pub use psk_id::{PreSharedKeyId, Psk, PskLabel, ResumptionPskUsage};
