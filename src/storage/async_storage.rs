//! [`AsyncStorage`]: the key-value interface of a store that is reached
//! without blocking (IndexedDB in a browser, a database client on tokio).
//! [`AsyncClient`](crate::api::async_client::AsyncClient) runs the engine
//! against an in-memory mirror of such a store and writes each batch to
//! it before the operation's result is released.

use std::future::Future;
use std::pin::Pin;

use super::WriteBatch;
use crate::Result;

/// `Send` on native targets, nothing on `wasm32`: a native store's futures
/// can be spawned on a multi-threaded runtime, while a browser store
/// (JavaScript promises, which are not `Send`) still fits the trait.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send` on native targets, nothing on `wasm32` (see the native doc).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` on native targets, nothing on `wasm32` (as [`MaybeSend`]).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}

/// `Sync` on native targets, nothing on `wasm32` (as [`MaybeSend`]).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// The future an [`AsyncStorage`] method returns: boxed so that the trait
/// is object-safe, and `Send` on native targets.
#[cfg(not(target_arch = "wasm32"))]
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// The future an [`AsyncStorage`] method returns: boxed so that the trait
/// is object-safe (not `Send` on `wasm32`, where promises are not).
#[cfg(target_arch = "wasm32")]
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + 'a>>;

/// A key-value store of byte records reached asynchronously. Keys sort
/// bytewise. One store holds one client (as a [`Storage`](super::Storage)
/// does).
///
/// The contract is that of [`Storage::write`](super::Storage::write): a
/// batch is applied atomically (prefix deletes first, then the ops in
/// order) and is durable when the future resolves `Ok`. In addition:
///
/// - The client awaits one `write` at a time, in the order its batches
///   were made; it never starts a write before the previous one resolved.
/// - A `write` future may be dropped before it resolves (the application
///   cancelled the operation). The batch must then be applied entirely or
///   not at all, as after a crash; the client writes the same batch again
///   before any later one. Applying a batch twice in a row leaves the
///   same records as applying it once, so a store need not tell the cases
///   apart.
/// - A `write` that resolves with an error may or may not have been
///   applied: the client refuses further work with
///   [`Error::StorageUncertain`](crate::Error::StorageUncertain) until it
///   is reopened from the store.
pub trait AsyncStorage: MaybeSend + MaybeSync {
    /// Every record whose key starts with `prefix`, by ascending key. The
    /// client reads the whole store (`prefix` empty) when it opens.
    fn scan<'a>(&'a self, prefix: &'a [u8]) -> StorageFuture<'a, Vec<(Vec<u8>, Vec<u8>)>>;

    /// Applies `batch` atomically and durably.
    fn write(&self, batch: WriteBatch) -> StorageFuture<'_, ()>;
}
