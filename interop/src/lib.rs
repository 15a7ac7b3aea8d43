//! Test-vector harness and live interop for arbor-mls.
//!
//! [`vectors`] replays the official MLS test-vector files
//! (github.com/mlswg/mls-implementations, folder `test-vectors`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod grpc;
#[cfg(feature = "peers")]
pub mod peers;
pub mod scenarios;
pub mod vectors;
