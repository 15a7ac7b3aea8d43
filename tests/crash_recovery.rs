//! Crash safety: a child process holding one persisted member
//! is SIGKILLed at random points while the parent drives it through
//! commits (with and without path), adds, removes, application messages
//! both ways, proposals and key package use, with in-process peers.
//!
//! The child announces each storage write with the digest of the state it
//! leaves (`crash_recovery/recording_storage.rs`). After every kill the
//! restarted child must find exactly the stored state of before the
//! interrupted command or the one its write left, and load what that
//! state holds: for each kind of transition the parent checks the epoch,
//! epoch authenticator, pending commit, cached proposals and key packages,
//! and whether a received message was consumed (redelivered, it must
//! decrypt if not, and be refused as a replay if so). Every answered
//! command must have written its one batch (none for a refused message),
//! every message the child receives without a kill must decrypt, and the
//! child must go on with the peers (epoch authenticators match) and never
//! reuse a sending generation (the peers decrypt every message it emitted;
//! a reused generation is refused by their ratchets).
//!
//! Kills are timed uniformly over twice the command's usual duration, so
//! about half land inside it; the run goes on until kills have landed both
//! before and after a transition's write.
//!
//! Each child folds its storage log every 1 to 6 batches (picked per
//! start), so kills also land in folds and in restarts with batches still
//! logged.
//!
//! `harness = false`: the binary is both the parent and, with
//! `ARBOR_CRASH_CHILD=<db>`, the child. Lines of the protocol are hex.
//! The same run with the child on an `AsyncClient` is
//! `tests/crash_recovery_async.rs`.
//!
//! `ARBOR_CRASH_SEED` replays a run; `ARBOR_CRASH_TRANSITIONS` (default
//! 1,000) sets how many completed transitions it runs to.

#[path = "crash_recovery/child.rs"]
mod child;
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
        child::run(&db);
        return;
    }
    parent::run("crash_recovery");
}
