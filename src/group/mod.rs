//! Group operations: proposals, commits, Welcome (§10-§12).

pub mod authorization;
pub mod commit;
pub mod commit_create;
pub mod commit_stage;
pub mod engine;
pub mod extensions;
pub mod external;
pub mod join;
pub mod key_package;
pub mod member;
pub mod observer;
mod observer_codec;
pub mod proposal_rules;
pub mod proposal_select;
pub mod proposals;
pub mod psk_store;
pub(crate) mod public_view;
pub mod state;
pub mod welcome;
pub mod welcome_open;

pub use extensions::{Extension, ExtensionType};

#[cfg(test)]
mod rules_tests;
