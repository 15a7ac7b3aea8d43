//! Group operations: proposals, commits, Welcome (§10-§12).

pub mod commit;
pub mod extensions;
pub mod key_package;
pub mod proposals;
pub mod welcome;
pub mod welcome_open;

pub use extensions::{Extension, ExtensionType};
