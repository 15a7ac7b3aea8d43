//! Key schedule, secret tree and PSKs (§8, §9).

pub mod exporter_tree;
mod group_context;
pub mod key_schedule;
pub mod psk;
mod psk_id;
pub mod secret_tree;

pub use group_context::GroupContext;
pub use key_schedule::{
    EpochSecret, EpochSecrets, InitSecret, JoinerSecret, WelcomeSecret, confirmation_tag,
    external_key_pair, mls_exporter, verify_confirmation_tag,
};
pub use psk::PskSecret;
pub use psk_id::{PSK_TYPE_APPLICATION, PreSharedKeyId, Psk, PskLabel, ResumptionPskUsage};
pub use secret_tree::{
    KeyAndNonce, RatchetType, SecretTree, SecretTreeConfig, StagedKey, sender_data_key_nonce,
};
