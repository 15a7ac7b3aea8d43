//! Observers of one group kept by several servers in one storage
//! (`ObserverOptions::shared`): of two commits for one epoch that reach
//! different servers, exactly one is stored; the other server's observer
//! reloads and sees the epoch taken; a server behind catches up before
//! deciding; and a backend without conditional writes is refused rather
//! than raced silently.

use std::sync::Arc;

use super::*;
use crate::storage::{MemoryStorage, SharedStorage, Storage, WriteBatch, shared};
use crate::{Error, Result};

use crate::test_support::clients::{NOW, client};

fn options(storage: &SharedStorage) -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage.clone()),
        shared: true,
        ..ObserverOptions::default()
    }
}

/// Alice's group with Bob, hosted in `storage`; the server that hosted it.
fn group_of_two(storage: &SharedStorage) -> (Group, Group, Observer) {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let info = a.group_info(true).unwrap();
    let mut server = Observer::from_group_info(&info, None, options(storage)).unwrap();
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
fn two_servers_racing_for_one_epoch_store_exactly_one_commit() {
    let storage = shared(MemoryStorage::new());
    let (mut a, mut b, mut server_a) = group_of_two(&storage);
    let mut server_b = Observer::load(a.group_id(), options(&storage))
        .unwrap()
        .unwrap();
    let epoch = server_a.epoch();
    let from_alice = a.update().unwrap().commit;
    let from_bob = b.update().unwrap().commit;

    // Both servers stage a commit for the epoch from the same state.
    let Observed::Commit(staged_b) = server_b.process(&from_bob).unwrap() else {
        panic!("a commit")
    };
    let Observed::Commit(staged_a) = server_a.process(&from_alice).unwrap() else {
        panic!("a commit")
    };
    server_a.merge(*staged_a).unwrap();
    let stored = crate::storage::with(&storage, |s| s.scan(b"o/")).unwrap();

    // Server B's write is refused whole; its observer reloaded the winner.
    assert!(matches!(server_b.merge(*staged_b), Err(Error::Conflict(_))));
    assert_eq!(
        crate::storage::with(&storage, |s| s.scan(b"o/")).unwrap(),
        stored
    );
    assert_eq!(server_b.epoch(), epoch + 1);
    assert_eq!(
        server_b.commit_order(epoch),
        CommitOrder::Taken { current: epoch + 1 }
    );
    assert_eq!(server_b.to_bytes().unwrap(), server_a.to_bytes().unwrap());
    // Bob's commit sent again is refused as from the past.
    assert!(server_b.process(&from_bob).is_err());
}

#[test]
fn a_server_behind_catches_up_before_deciding() {
    let storage = shared(MemoryStorage::new());
    let (mut a, mut b, mut server_a) = group_of_two(&storage);
    let mut server_b = Observer::load(a.group_id(), options(&storage))
        .unwrap()
        .unwrap();
    assert!(!server_b.catch_up().unwrap(), "nothing new yet");

    // Server A takes Alice's commit; server B has not seen it.
    let from_alice = a.update().unwrap().commit;
    let Observed::Commit(staged) = server_a.process(&from_alice).unwrap() else {
        panic!("a commit")
    };
    server_a.merge(*staged).unwrap();
    a.process(&from_alice).unwrap();
    let Event::Commit { staged, .. } = b.process(&from_alice).unwrap() else {
        panic!("a commit")
    };
    b.merge(*staged).unwrap();
    let epoch = server_a.epoch();

    // Bob commits in the new epoch through server B: behind, it would
    // call the commit ahead; caught up, it takes it.
    let from_bob = b.update().unwrap().commit;
    assert_eq!(
        server_b.commit_order(epoch),
        CommitOrder::Ahead { current: epoch - 1 }
    );
    assert!(server_b.catch_up().unwrap());
    assert_eq!(server_b.commit_order(epoch), CommitOrder::Next);
    let Observed::Commit(staged) = server_b.process(&from_bob).unwrap() else {
        panic!("a commit")
    };
    server_b.merge(*staged).unwrap();

    // Server A, behind now, catches up inside process(): Alice's stale
    // commit is from the past.
    let stale = a.update().unwrap().commit;
    assert_eq!(server_a.epoch(), epoch);
    assert!(matches!(
        server_a.process(&stale),
        Err(Error::WrongEpoch { .. })
    ));
    assert_eq!(server_a.epoch(), epoch + 1);
    assert!(matches!(
        b.process(&from_bob).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
}

#[test]
fn a_shared_observer_needs_conditional_writes() {
    struct Plain(MemoryStorage);
    impl Storage for Plain {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            self.0.get(key)
        }
        fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
            self.0.scan(prefix)
        }
        fn write(&mut self, batch: WriteBatch) -> Result<()> {
            self.0.write(batch)
        }
    }
    let storage = shared(Plain(MemoryStorage::new()));
    let mut alice = client("alice", 1);
    let a = alice.create_group(GroupOptions::default()).unwrap();
    let info = a.group_info(true).unwrap();
    assert!(matches!(
        Observer::from_group_info(&info, None, options(&storage)),
        Err(Error::Unsupported(_))
    ));
    assert!(
        crate::storage::with(&storage, |s| s.scan(b""))
            .unwrap()
            .is_empty(),
        "nothing written"
    );
    // The same backend serves an observer that is its group's only writer.
    let only = ObserverOptions {
        shared: false,
        ..options(&storage)
    };
    Observer::from_group_info(&info, None, only).unwrap();
}
