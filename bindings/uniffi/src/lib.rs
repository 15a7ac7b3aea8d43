//! UniFFI bindings of arbor-mls: the client and group API, errors with the
//! action the application should take, events, and storage implemented in
//! the foreign language (optionally sealed at rest). `bindings/README.md`
//! says how to generate the Kotlin, Swift and Python code.
//!
//! Nothing here is `unsafe`: the FFI layer is UniFFI's generated
//! scaffolding. The library itself does not depend on this crate.

mod client;
mod error;
mod group;
mod storage;

pub use client::{ExternalJoin, MlsClient};
pub use error::{ErrorAction, MlsError};
pub use group::{
    CommitBundle, CommitInfo, EchoKind, GroupMember, MessageSender, MlsEvent, MlsGroup,
    StagedCommit,
};
pub use storage::{
    EncryptionKey, StorageBatch, StorageCallback, StorageFailure, StorageOp, StoredRecord,
};

uniffi::setup_scaffolding!();
