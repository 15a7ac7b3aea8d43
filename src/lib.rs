//! arbor-mls: Messaging Layer Security (RFC 9420) for Rust.
//!
//! The engine is sans-IO: it takes bytes and returns bytes and events, and
//! time and randomness are passed in. Layers follow the RFC:
//! [`codec`] (§2.1), [`crypto`] (§5), [`tree`] (§4, §7), [`schedule`]
//! (§8, §9), [`framing`] (§6) and [`group`] (§10-§12).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod codec;
pub mod crypto;
mod error;
pub mod framing;
pub mod group;
pub mod schedule;
pub mod tree;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use api::{
    Client, ClientBuilder, Clock, CommitOutput, Event, FixedClock, Group, GroupOptions,
    KeyPackageOptions, Member,
};
pub use error::{Error, ErrorCategory, Result, decode_exact};
