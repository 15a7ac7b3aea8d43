//! The wire structures of the group protocol (§10-§12): proposals, commits,
//! Welcome, GroupInfo and key packages. Below `framing`, which carries them,
//! and `group`, which acts on them.

pub mod app_data_proposals;
pub mod commit;
pub mod key_package;
pub mod proposals;
pub mod welcome;
