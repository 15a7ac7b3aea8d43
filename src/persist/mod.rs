//! The records the library writes through the [`Storage`](crate::storage::Storage)
//! trait: encoders and decoders of client, group and observer state, and
//! the per-group store that turns transitions into write batches (see
//! `docs/persistence.md`). Above the engine, whose state it reads; the
//! trait and its backends are below, in `storage`.

pub(crate) mod client_store;
pub(crate) mod group_records;
pub(crate) mod group_store;
pub(crate) mod observer_records;
pub(crate) mod observer_store;
pub(crate) mod partial_records;
pub(crate) mod records;
pub(crate) mod secret_tree_records;
