//! Group operations (§10-§12): proposal rules, creating and staging commits,
//! joining by Welcome or external commit, and the observer. The wire forms
//! they act on are in `messages`.

pub mod app_data_rules;
pub mod authorization;
pub mod commit_create;
pub mod commit_stage;
pub mod engine;
pub mod external;
pub mod join;
pub mod member;
pub mod observer;
pub mod partial_annotate;
pub mod partial_commit;
pub mod partial_epoch;
pub mod partial_external;
pub mod partial_join;
pub mod partial_upgrade;
pub mod proposal_cache;
pub mod proposal_rules;
pub mod proposal_select;
pub mod psk_store;
pub(crate) mod public_view;
pub mod required_components;
pub mod safe_aad_rules;
pub(crate) mod send;
pub mod state;
pub mod welcome_open;
pub mod wire_format_rules;

#[cfg(test)]
mod rules_tests;
