//! The crash test of `tests/crash_recovery.rs` with the child on the
//! asynchronous path: an `AsyncClient` (on a tokio runtime) over an
//! `AsyncStorage` whose writes go, after yielding to the runtime, to the
//! same durable SQLite database, announced the same way
//! (`crash_recovery/async_child.rs`). The parent, its commands and its
//! checks are the same: SIGKILLs at random instants, and after each the
//! restarted child must hold the state before the interrupted command or
//! the one its write left, never emit an output whose state change was
//! not stored first, and go on with the peers.
//!
//! `harness = false`; `ARBOR_CRASH_SEED` and `ARBOR_CRASH_TRANSITIONS` as
//! in `tests/crash_recovery.rs`.

#[path = "crash_recovery/async_child.rs"]
mod async_child;
#[path = "crash_recovery/driver.rs"]
mod driver;
#[path = "crash_recovery/parent.rs"]
mod parent;
#[path = "crash_recovery/protocol.rs"]
mod protocol;
#[path = "crash_recovery/recording_storage.rs"]
mod recording_storage;

fn main() {
    if let Ok(db) = std::env::var("ARBOR_CRASH_CHILD") {
        async_child::run(&db);
        return;
    }
    parent::run("crash_recovery_async");
}
