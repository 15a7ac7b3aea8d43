//! arbor-mls: Messaging Layer Security (RFC 9420) for Rust.
//!
//! End-to-end encrypted group messaging: only the members hold the keys;
//! the delivery service that relays messages learns nothing.
//!
//! # Quick start
//!
//! ```
//! use arbor_mls::{Client, Event, GroupOptions, KeyPackageOptions};
//!
//! # fn main() -> arbor_mls::Result<()> {
//! let mut alice = Client::builder("alice").build()?;
//! let mut bob = Client::builder("bob").build()?;
//!
//! // Bob publishes a key package; Alice creates a group and adds him.
//! let bob_kp = bob.key_package(KeyPackageOptions::default())?;
//! let mut group = alice.create_group(GroupOptions::default())?;
//! let out = group.add(&[&bob_kp])?;
//! group.process(&out.commit)?; // the delivery service echoes the commit
//! let mut bob_group = bob.join(&out.welcome.expect("welcome"), None)?;
//! assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
//!
//! let msg = group.encrypt(b"hello", b"")?;
//! match bob_group.process(&msg)? {
//!     Event::Application { data, .. } => assert_eq!(data, b"hello"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! The engine is sans-IO: it takes bytes and returns bytes and events, and
//! time and randomness are injected ([`ClientBuilder`]). Processing a
//! commit stages it ([`Event::Commit`]); the epoch only changes on merge. A
//! rejected message leaves the group as it was. Layers only point down,
//! and follow the RFC: `codec` (§2.1), [`crypto`] (§5), `types`
//! (codepoints, extensions, tree indexes, the error type), [`storage`],
//! `tree` (§4, §7), `schedule` (§8, §9), `messages` (§10, §12 wire forms),
//! `framing` (§6), `group` (§10-§12), the stored records, and [`api`] on
//! top (see `docs/ARCHITECTURE.md`).
//!
//! # Public surface
//!
//! Applications use the crate root, [`api`], [`crypto`] (suites, keys,
//! providers, randomness) and [`wire`] (the RFC structures seen in events).
//! The engine modules are internal; the feature `unstable-internals` makes
//! them public for the interop harness, benches and fuzz targets, with no
//! stability promise.
// The public API names only types its users can name too (engine types
// appear only with `unstable-internals`).
#![warn(unnameable_types)]
// docs.rs (nightly) marks the items each feature gates.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

/// An item of a public type that names engine types: `pub` with the
/// `unstable-internals` feature (where those types are public too),
/// crate-private otherwise, so that the stable API never names a type its
/// users cannot name.
macro_rules! internal_pub {
    ($(#[$meta:meta])* pub $($item:tt)*) => {
        #[cfg(feature = "unstable-internals")]
        $(#[$meta])* pub $($item)*
        #[cfg(not(feature = "unstable-internals"))]
        #[allow(dead_code)]
        $(#[$meta])* pub(crate) $($item)*
    };
}

/// Declares engine modules: public with the `unstable-internals` feature
/// (for the interop harness, benches and fuzz targets, with no stability
/// promise), crate-private otherwise.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "unstable-internals")]
        pub mod $name;
        #[cfg(not(feature = "unstable-internals"))]
        #[allow(unreachable_pub, dead_code, unused_imports)]
        pub(crate) mod $name;
    )*};
}

pub mod api;
pub mod crypto;
mod parallel;
pub mod storage;
mod trace;
pub mod wire;
internal_modules!(codec, framing, group, messages, schedule, tree, types);
mod persist;

/// The Rust code blocks of `docs/guide.md`, compiled and run as doctests.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideDoctests;

/// The Rust code blocks of `docs/persistence.md`, compiled and run as
/// doctests.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../docs/persistence.md")]
pub struct PersistenceDoctests;

/// The Rust code blocks of `docs/wasm.md`, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/wasm.md")]
pub struct WasmDoctests;

/// The Rust code blocks of `docs/errors.md`, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/errors.md")]
pub struct ErrorsDoctests;

// The fixtures name engine types, so they are public only where those are
// (`unstable-internals`); `test-support` alone is for backend authors
// (`storage::conformance`).
#[cfg(all(feature = "test-support", feature = "unstable-internals"))]
pub mod test_support;
#[cfg(all(
    any(test, feature = "test-support"),
    not(all(feature = "test-support", feature = "unstable-internals"))
))]
#[allow(unreachable_pub, dead_code)]
pub(crate) mod test_support;

pub use api::group::Event;
pub use api::{
    AcceptBasic, AsyncClient, AsyncGroup, Client, ClientBuilder, Clock, CommitOrder, CommitOutput,
    Confirmation, CredentialUse, CredentialValidator, DeviceIdentity, ExternalJoinOptions,
    ExternalSender, FixedClock, Group, GroupConfig, GroupInfo, GroupOptions, KeyPackage,
    KeyPackageOptions, Member, Message, MessageKind, Observed, ObservedCommit, Observer,
    ObserverOptions, PublishGroupInfo, Rejection, Route, SystemClock, ValidationContext, Welcome,
    WireFormat,
};
pub use api::{AsyncPartialGroup, CommitAnnotations, PartialCommitEvent, PartialGroup};
pub use codec::{DecodeError, DecodeErrorKind, EncodeError};
pub use crypto::credential::{Certificate, Credential, CredentialType};
pub use crypto::{CipherSuite, Secret, SignaturePublicKey};
pub use schedule::SecretTreeConfig;
/// Decodes exactly one wire structure (no trailing bytes).
#[cfg(feature = "unstable-internals")]
pub use types::error::decode_exact;
#[cfg(not(feature = "unstable-internals"))]
pub(crate) use types::error::decode_exact;
pub use types::error::{Action, EpochTiming, Error, ErrorCategory, NotForUs, Result};
pub use wire::{
    Capabilities, CommitSummary, Extension, ExtensionType, LeafIndex, LeftOut, Proposal, Sender,
    StagedCommit,
};
