//! Helpers shared by the persistence tests.
#![allow(dead_code)]

use arbor_mls::storage::SharedStorage;
use arbor_mls::{Client, Event, Group};

/// The client stored in `storage` (its identity comes from the storage).
pub(crate) fn reopen(storage: &SharedStorage) -> Client {
    Client::builder("ignored for a stored client")
        .storage(storage.clone())
        .build()
        .expect("reopen")
}

/// Processes `message`, merging it if it is a commit (then reported as
/// `OwnCommitMerged` with the new epoch).
pub(crate) fn deliver(to: &mut Group, message: &[u8]) -> Event {
    let event = to.process(message).expect("process");
    if let Event::Commit { staged, .. } = event {
        to.merge(*staged).expect("merge");
        return Event::OwnCommitMerged { epoch: to.epoch() };
    }
    event
}
