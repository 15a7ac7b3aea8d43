//! Group operations: proposals, commits, Welcome (§10-§12).

pub mod extensions;

pub use extensions::{Extension, ExtensionType};
