//! An observer with storage: every change writes the records it changes
//! before the call returns, a refused message leaves the stored state as
//! it was, a restarted server loads the observer where it was, and an
//! observer stored by the first layout (one record) still loads.

use std::sync::Arc;

use super::*;
use crate::storage::{MemoryStorage, SharedStorage, WriteBatch, shared};

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

/// The stored keys, without the `o/<hex group id>/` prefix.
fn stored_keys(storage: &SharedStorage) -> Vec<String> {
    stored(storage)
        .into_iter()
        .map(|(k, _)| {
            let k = String::from_utf8(k).unwrap();
            let (_, rest) = k[2..].split_once('/').unwrap_or(("", &k));
            rest.to_string()
        })
        .collect()
}

fn write(storage: &SharedStorage, batch: WriteBatch) {
    crate::storage::with(storage, |s| s.write(batch)).unwrap();
}

#[test]
fn the_observer_persists_each_change_and_reloads() {
    let storage = shared(MemoryStorage::new());
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let info = a.group_info(true).unwrap();
    let mut observer = Observer::from_group_info(&info, None, options(&storage)).unwrap();
    assert_eq!(
        stored_keys(&storage),
        ["epoch", "gi", "t/00000000"],
        "written at creation"
    );

    // A commit adding Bob: staged (nothing written), then merged (Bob's
    // leaf, the epoch; the GroupInfo of the left epoch deleted; an add
    // without path leaves the parent blank).
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    let before = stored(&storage);
    let Observed::Commit(staged) = observer.process(&out.commit).unwrap() else {
        panic!("expected a commit")
    };
    assert_eq!(stored(&storage), before, "staging writes nothing");
    observer.merge(*staged).unwrap();
    assert_eq!(stored_keys(&storage), ["epoch", "t/00000000", "t/00000002"]);
    a.process(&out.commit).unwrap();

    // A cached proposal is one record; a refused replay changes nothing.
    let proposal = a.propose_update().unwrap();
    assert!(matches!(
        observer.process(&proposal).unwrap(),
        Observed::Proposal(_)
    ));
    assert!(stored_keys(&storage).contains(&"prop/0/00000000".to_string()));
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
    let mut batch = WriteBatch::default();
    batch.put(key.clone(), value);
    write(&storage, batch);
    let err = Observer::load(a.group_id(), options(&storage)).unwrap_err();
    let name = String::from_utf8(key).unwrap();
    assert!(
        matches!(&err, crate::Error::Storage(m) if m.contains(&name)),
        "{err}"
    );
}

/// The version-1 fixture: what the encoder before the records wrote
/// (`src/persist/fixtures/observer_v1.txt` says how it was made).
struct V1Fixture {
    group_id: Vec<u8>,
    epoch: u64,
    tree_hash: Vec<u8>,
    group_info: Vec<u8>,
    refs: Vec<Vec<u8>>,
    state: Vec<u8>,
}

fn v1_fixture() -> V1Fixture {
    let text = include_str!("../persist/fixtures/observer_v1.txt");
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let mut f = V1Fixture {
        group_id: vec![],
        epoch: 0,
        tree_hash: vec![],
        group_info: vec![],
        refs: vec![],
        state: vec![],
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.split_once(' ').unwrap();
        match name {
            "group_id" => f.group_id = unhex(value),
            "epoch" => f.epoch = value.parse().unwrap(),
            "tree_hash" => f.tree_hash = unhex(value),
            "group_info" => f.group_info = unhex(value),
            "ref" => f.refs.push(unhex(value)),
            "state" => f.state = unhex(value),
            other => panic!("unknown fixture line {other}"),
        }
    }
    f
}

fn assert_is_fixture(observer: &Observer, f: &V1Fixture) {
    assert_eq!(observer.group_id(), f.group_id);
    assert_eq!(observer.epoch(), f.epoch);
    assert_eq!(observer.context().tree_hash, f.tree_hash);
    assert_eq!(observer.members().len(), 3);
    assert_eq!(observer.group_info(), Some(&f.group_info[..]));
    let refs: Vec<_> = observer
        .state()
        .proposals()
        .iter()
        .map(|p| p.reference.clone())
        .collect();
    assert_eq!(refs, f.refs);
    assert_eq!(observer.confirmation(), Confirmation::Confirmed);
}

/// Bytes written by the version-1 encoder load through `from_bytes`, and
/// re-encode (version 2) to the same state.
#[test]
fn a_version_1_state_loads_from_bytes() {
    let f = v1_fixture();
    assert_eq!(&f.state[..2], &[0, 1], "the fixture is version 1");
    let observer = Observer::from_bytes(&f.state, options_without_storage()).unwrap();
    assert_is_fixture(&observer, &f);
    let v2 = observer.to_bytes().unwrap();
    assert_eq!(&v2[..2], &[0, 2]);
    let again = Observer::from_bytes(&v2, options_without_storage()).unwrap();
    assert_is_fixture(&again, &f);
    assert_eq!(again.to_bytes().unwrap(), v2);
}

fn options_without_storage() -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        ..ObserverOptions::default()
    }
}

/// An observer a version-1 library stored (the record `o/<hex group id>`)
/// loads; its next change replaces the record with the records of
/// version 2, and the stored observer goes on from there.
#[test]
fn a_version_1_record_loads_and_the_next_change_rewrites_it() {
    let f = v1_fixture();
    let storage = shared(MemoryStorage::new());
    let legacy = format!("o/{}", crate::persist::records::hex(&f.group_id)).into_bytes();
    let mut batch = WriteBatch::default();
    batch.put(legacy.clone(), f.state.clone());
    write(&storage, batch);

    let mut observer = Observer::load(&f.group_id, options(&storage))
        .unwrap()
        .expect("the version-1 record");
    assert_is_fixture(&observer, &f);
    assert_eq!(stored(&storage).len(), 1, "loading writes nothing");

    // A routed message is no change: still nothing written.
    let garbage_private = {
        use crate::framing::{ContentType, MlsMessage, MlsMessageBody, PrivateMessage};
        crate::codec::encode(&MlsMessage::new(MlsMessageBody::PrivateMessage(Box::new(
            PrivateMessage {
                group_id: f.group_id.clone(),
                epoch: f.epoch,
                content_type: ContentType::Application,
                authenticated_data: vec![],
                encrypted_sender_data: vec![1; 40],
                ciphertext: vec![2; 40],
            },
        ))))
        .unwrap()
    };
    assert!(matches!(
        observer.process(&garbage_private).unwrap(),
        Observed::Private(_)
    ));
    assert_eq!(stored(&storage).len(), 1);

    // A GroupInfo upload (the same one again) is a change: the state is
    // rewritten as records, the old record deleted.
    observer.accept_group_info(&f.group_info).unwrap();
    let keys = stored_keys(&storage);
    assert!(!stored(&storage).iter().any(|(k, _)| *k == legacy));
    assert!(keys.contains(&"epoch".to_string()), "{keys:?}");
    assert!(keys.contains(&"prop/0/00000001".to_string()), "{keys:?}");
    let reloaded = Observer::load(&f.group_id, options(&storage))
        .unwrap()
        .expect("stored");
    assert_is_fixture(&reloaded, &f);
    assert_eq!(reloaded.to_bytes().unwrap(), observer.to_bytes().unwrap());

    // Both layouts at once is corruption, named.
    let mut batch = WriteBatch::default();
    batch.put(legacy, f.state.clone());
    write(&storage, batch);
    let err = Observer::load(&f.group_id, options(&storage)).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Storage(m) if m.contains("first layout")),
        "{err}"
    );
}
