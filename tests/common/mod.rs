//! Helpers shared by the persistence tests.
#![allow(dead_code)]

pub(crate) mod flaky;
mod temp_db;

#[allow(unused_imports)]
pub(crate) use temp_db::TempDb;

use arbor_mls::storage::SharedStorage;
use arbor_mls::{Client, Event, Group, KeyPackageOptions};

/// The client stored in `storage` (its identity comes from the storage).
pub(crate) fn reopen(storage: &SharedStorage) -> Client {
    Client::restore(storage.clone()).build().expect("reopen")
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

/// Alice (persisted in `store`) and Bob (in memory) in one group:
/// `(alice, alice's group, bob, bob's group)`.
pub(crate) fn pair(store: &SharedStorage) -> (Client, Group, Client, Group) {
    let mut alice = Client::builder("alice")
        .storage(store.clone())
        .build()
        .expect("alice");
    let mut bob = Client::builder("bob").build().expect("bob");
    let mut group = alice.create_group(Default::default()).expect("create");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge add");
    let bob_group = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    (alice, group, bob, bob_group)
}
