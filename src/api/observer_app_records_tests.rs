//! The application's records written with an observer's change
//! (`Observer::merge_with`, `Observer::process_with`): stored iff the
//! change is, refused outside the application's prefix, and not written by
//! the server that loses a race for an epoch.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::storage::{MemoryStorage, SharedStorage, WriteBatch, shared, with};
use crate::test_support::clients::{NOW, client};

fn options(storage: &SharedStorage, shared: bool) -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage.clone()),
        shared,
        ..ObserverOptions::default()
    }
}

fn batch(key: &str, value: &str) -> WriteBatch {
    let mut b = WriteBatch::default();
    b.put(key.as_bytes().to_vec(), value.as_bytes().to_vec());
    b
}

fn app_records(storage: &SharedStorage) -> Vec<(Vec<u8>, Vec<u8>)> {
    with(storage, |s| s.scan(b"a/")).unwrap()
}

/// Alice's group with Bob, hosted in `storage`.
fn group_of_two(storage: &SharedStorage, shared: bool) -> (Group, Group, Observer) {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let info = a.group_info(true).unwrap();
    let mut server = Observer::from_group_info(&info, None, options(storage, shared)).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    let Observed::Commit(staged) = server.process(&out.commit).unwrap() else {
        panic!("a commit")
    };
    server.merge(*staged).unwrap();
    a.process(&out.commit).unwrap();
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    (a, b, server)
}

#[test]
fn merge_with_stores_the_records_with_the_merge_and_not_without_it() {
    for shared_observer in [false, true] {
        let storage = shared(MemoryStorage::new());
        let (mut a, mut b, mut server) = group_of_two(&storage, shared_observer);
        let epoch = server.epoch();
        let from_alice = a.update().unwrap().commit;
        let from_bob = b.update().unwrap().commit;
        let Observed::Commit(staged_alice) = server.process(&from_alice).unwrap() else {
            panic!("a commit")
        };
        let Observed::Commit(staged_bob) = server.process(&from_bob).unwrap() else {
            panic!("a commit")
        };
        server
            .merge_with(*staged_alice, batch("a/q/1", "alice's commit"))
            .unwrap();
        assert_eq!(server.epoch(), epoch + 1);
        assert_eq!(
            app_records(&storage),
            vec![(b"a/q/1".to_vec(), b"alice's commit".to_vec())]
        );
        let stored = with(&storage, |s| s.scan(b"")).unwrap();
        // Bob's commit, staged in the epoch Alice's took, is refused: its
        // records are not written either.
        assert!(
            server
                .merge_with(*staged_bob, batch("a/q/2", "bob's commit"))
                .is_err()
        );
        assert_eq!(with(&storage, |s| s.scan(b"")).unwrap(), stored);
        // The merge and its records are one batch: the stored observer is
        // the one the records were written with.
        let loaded = Observer::load(a.group_id(), options(&storage, shared_observer))
            .unwrap()
            .unwrap();
        assert_eq!(loaded.epoch(), epoch + 1);
    }
}

#[test]
fn the_server_losing_a_race_writes_neither_merge_nor_records() {
    let storage = shared(MemoryStorage::new());
    let (mut a, mut b, mut server_a) = group_of_two(&storage, true);
    let mut server_b = Observer::load(a.group_id(), options(&storage, true))
        .unwrap()
        .unwrap();
    let epoch = server_a.epoch();
    let from_alice = a.update().unwrap().commit;
    let from_bob = b.update().unwrap().commit;
    let Observed::Commit(staged_b) = server_b.process(&from_bob).unwrap() else {
        panic!("a commit")
    };
    let Observed::Commit(staged_a) = server_a.process(&from_alice).unwrap() else {
        panic!("a commit")
    };
    server_a
        .merge_with(*staged_a, batch("a/q/alice", "x"))
        .unwrap();
    let stored = with(&storage, |s| s.scan(b"")).unwrap();
    assert!(matches!(
        server_b.merge_with(*staged_b, batch("a/q/bob", "y")),
        Err(Error::Conflict(_))
    ));
    assert_eq!(with(&storage, |s| s.scan(b"")).unwrap(), stored);
    assert_eq!(
        app_records(&storage),
        vec![(b"a/q/alice".to_vec(), b"x".to_vec())]
    );
    assert_eq!(server_b.epoch(), epoch + 1, "the loser reloaded the winner");
}

#[test]
fn records_outside_the_application_prefix_are_refused() {
    let storage = shared(MemoryStorage::new());
    let (mut a, _b, mut server) = group_of_two(&storage, true);
    let stored = with(&storage, |s| s.scan(b"")).unwrap();
    let commit = a.update().unwrap().commit;
    let Observed::Commit(staged) = server.process(&commit).unwrap() else {
        panic!("a commit")
    };
    let epoch = server.epoch();
    let mut bad = batch("a/ok", "1");
    bad.put(b"o/forged".to_vec(), b"2".to_vec());
    assert!(matches!(
        server.merge_with(*staged, bad),
        Err(Error::Misuse(_))
    ));
    let mut bad_prefix = WriteBatch::default();
    bad_prefix.delete_prefix(b"o/".to_vec());
    let hello = a.encrypt(b"hi", b"").unwrap();
    assert!(matches!(
        server.process_with(&hello, bad_prefix),
        Err(Error::Misuse(_))
    ));
    assert_eq!(with(&storage, |s| s.scan(b"")).unwrap(), stored);
    assert_eq!(server.epoch(), epoch);

    // Without a storage there is nowhere to write them.
    let info = a.group_info(true).unwrap();
    let mut memory_only =
        Observer::from_group_info(&info, None, ObserverOptions::default()).unwrap();
    assert!(matches!(
        memory_only.process_with(&hello, batch("a/q", "1")),
        Err(Error::Misuse(_))
    ));
}

#[test]
fn process_with_writes_a_proposal_or_a_private_message_with_its_records() {
    let storage = shared(MemoryStorage::new());
    let (mut a, mut b, mut server_a) = group_of_two(&storage, true);
    let mut server_b = Observer::load(a.group_id(), options(&storage, true))
        .unwrap()
        .unwrap();

    // A proposal is cached with its records in one batch.
    let proposal = b.propose_update().unwrap();
    assert!(matches!(
        server_a
            .process_with(&proposal, batch("a/q/1", "proposal"))
            .unwrap(),
        Observed::Proposal(_)
    ));
    let loaded = Observer::load(a.group_id(), options(&storage, true))
        .unwrap()
        .unwrap();
    assert_eq!(loaded.to_bytes().unwrap(), server_a.to_bytes().unwrap());
    assert_eq!(app_records(&storage).len(), 1);

    // A PrivateMessage changes no observer record, but its records are
    // ordered with the group's changes: server B, which has not seen the
    // proposal, cannot write records computed before it (they may be
    // stale); caught up, it writes after it.
    let hello = a.encrypt(b"hello", b"").unwrap();
    assert!(matches!(
        server_b.process_with(&hello, batch("a/q/1", "stale")),
        Err(Error::Conflict(_))
    ));
    assert_eq!(app_records(&storage).len(), 1);
    assert_eq!(
        app_records(&storage)[0].1,
        b"proposal".to_vec(),
        "nothing overwritten"
    );
    assert!(!server_b.catch_up().unwrap(), "the conflict reloaded it");
    assert!(matches!(
        server_b
            .process_with(&hello, batch("a/q/2", "hello"))
            .unwrap(),
        Observed::Private(_)
    ));
    assert_eq!(app_records(&storage).len(), 2);
    // Server A is now behind the write of B's records: a change it decides
    // without catching up is refused, writing nothing.
    let commit = a.update().unwrap().commit;
    let Observed::Commit(staged) = server_a
        .state()
        .check(&commit, NOW)
        .map(|(o, _)| o)
        .unwrap()
    else {
        panic!("a commit")
    };
    let stored = with(&storage, |s| s.scan(b"")).unwrap();
    assert!(matches!(
        server_a.merge_with(*staged, batch("a/q/3", "commit")),
        Err(Error::Conflict(_))
    ));
    assert_eq!(with(&storage, |s| s.scan(b"")).unwrap(), stored);

    // A commit given to process_with is refused, writing nothing.
    assert!(matches!(
        server_a.process_with(&commit, batch("a/q/3", "commit")),
        Err(Error::Misuse(_))
    ));
    assert_eq!(with(&storage, |s| s.scan(b"")).unwrap(), stored);
}
