//! An observer with storage: every change is written before the call
//! returns, a refused message leaves the stored state as it was, and a
//! restarted server loads the observer where it was.

use std::sync::Arc;

use super::*;
use crate::storage::{MemoryStorage, SharedStorage, shared};

use crate::test_support::clients::{NOW, client};

fn options(storage: &SharedStorage) -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage.clone()),
        ..ObserverOptions::default()
    }
}

fn stored(storage: &SharedStorage) -> Vec<(Vec<u8>, Vec<u8>)> {
    crate::storage::with(storage, |s| s.scan(b"o/")).unwrap()
}

#[test]
fn the_observer_persists_each_change_and_reloads() {
    let storage = shared(MemoryStorage::new());
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let info = a.group_info(true).unwrap();
    let mut observer = Observer::from_group_info(&info, None, options(&storage)).unwrap();
    assert_eq!(stored(&storage).len(), 1, "written at creation");

    // A commit adding Bob: staged (nothing written), then merged (written).
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    let before = stored(&storage);
    let Observed::Commit(staged) = observer.process(&out.commit).unwrap() else {
        panic!("expected a commit")
    };
    assert_eq!(stored(&storage), before, "staging writes nothing");
    observer.merge(*staged).unwrap();
    assert_ne!(stored(&storage), before);
    a.process(&out.commit).unwrap();

    // A cached proposal is written; a refused replay of it changes nothing.
    let proposal = a.propose_update().unwrap();
    assert!(matches!(
        observer.process(&proposal).unwrap(),
        Observed::Proposal(_)
    ));
    let after_proposal = stored(&storage);
    assert!(observer.process(&proposal).is_err());
    assert_eq!(stored(&storage), after_proposal, "a refusal writes nothing");

    // A restarted server loads the observer where it was.
    let reloaded = Observer::load(a.group_id(), options(&storage))
        .unwrap()
        .expect("stored");
    assert_eq!(reloaded.to_bytes().unwrap(), observer.to_bytes().unwrap());
    assert_eq!(reloaded.epoch(), 1);
    assert_eq!(reloaded.members().len(), 2);
    assert!(
        Observer::load(b"another group", options(&storage))
            .unwrap()
            .is_none()
    );

    // A corrupt record is a storage error naming it, not a panic.
    let (key, mut value) = stored(&storage).pop().unwrap();
    value.truncate(value.len() / 2);
    let mut batch = crate::storage::WriteBatch::default();
    batch.put(key, value);
    crate::storage::with(&storage, |s| s.write(batch)).unwrap();
    let err = Observer::load(a.group_id(), options(&storage)).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Storage(m) if m.contains("o/")),
        "{err}"
    );
}
