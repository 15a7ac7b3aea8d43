//! The stored layout of the retained resumption PSKs: one record per
//! epoch, written as the epoch is left and deleted as it is evicted; epoch
//! records of the earlier layout (which held them all) still load.

use super::*;
use crate::api::{Client, GroupOptions, KeyPackageOptions};
use crate::group::state::GroupConfig;
use crate::storage::{self, MemoryStorage};

const KEPT: usize = 3;

/// Alice (stored in `storage`, keeping [`KEPT`] resumption PSKs) and Bob
/// (in memory) in one group; Alice's client and group, Bob's group.
fn pair(storage: &SharedStorage) -> (Client, crate::api::Group, crate::api::Group) {
    let mut alice = Client::builder("alice")
        .storage(storage.clone())
        .build()
        .expect("alice");
    let mut bob = Client::builder("bob").build().expect("bob");
    let config = GroupConfig {
        resumption_epochs: KEPT,
        ..GroupConfig::default()
    };
    let mut group = alice
        .create_group(GroupOptions {
            config,
            ..GroupOptions::default()
        })
        .expect("create");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge");
    let bob_group = bob
        .join(&out.welcome.expect("welcome"), None)
        .expect("join");
    (alice, group, bob_group)
}

/// The client stored in `storage`.
fn reopen(storage: &SharedStorage) -> Client {
    Client::builder("ignored for a stored client")
        .storage(storage.clone())
        .build()
        .expect("reopen")
}

/// Bob commits an update and Alice merges it.
fn next_epoch(alice: &mut crate::api::Group, bob: &mut crate::api::Group) {
    let commit = bob.update().expect("update").commit;
    bob.merge_pending().expect("bob merges");
    match alice.process(&commit).expect("process") {
        crate::api::Event::Commit { staged, .. } => alice.merge(*staged).expect("merge"),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// The epochs of Alice's stored PSK records.
fn stored_psk_epochs(storage: &SharedStorage, group_id: &[u8]) -> Vec<u64> {
    let prefix = GroupKeys::new(group_id).psks();
    read_prefix(storage, &prefix)
        .expect("scan")
        .iter()
        .map(|(k, _)| GroupKeys::parse_epoch(k, &prefix).expect("a PSK key"))
        .collect()
}

fn retained(group: &crate::api::Group) -> Vec<(u64, Vec<u8>)> {
    group
        .state
        .retention
        .resumption
        .iter()
        .map(|(e, s)| (*e, s.as_bytes().to_vec()))
        .collect()
}

/// The resumption PSK list of the stored epoch record.
fn inline_list(storage: &SharedStorage, group_id: &[u8]) -> Vec<u64> {
    let key = GroupKeys::new(group_id).epoch();
    let bytes = read(storage, &key).expect("read").expect("an epoch record");
    let (_, retained) = open(&key, Kind::Epoch, &bytes, |r| {
        Ok((decode_core(r)?, decode_retained(r)?))
    })
    .expect("decode");
    retained.resumption.iter().map(|(e, _)| *e).collect()
}

#[test]
fn each_merge_stores_the_left_epochs_psk_and_deletes_the_evicted() {
    let storage = storage::shared(MemoryStorage::new());
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    // Epoch 1 after the add: epoch 0's PSK is stored.
    assert_eq!(stored_psk_epochs(&storage, &id), [0]);
    for _ in 0..4 {
        next_epoch(&mut alice, &mut bob);
    }
    assert_eq!(alice.epoch(), 5);
    assert_eq!(stored_psk_epochs(&storage, &id), [2, 3, 4]);
    assert!(
        inline_list(&storage, &id).is_empty(),
        "not in the epoch record"
    );
    let before = retained(&alice);
    assert_eq!(
        before.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
        [2, 3, 4]
    );

    let mut client = reopen(&storage);
    let loaded = client.load_group(&id).expect("load");
    assert_eq!(retained(&loaded), before);
}

#[test]
fn psks_held_by_an_epoch_record_of_the_earlier_layout_load_and_move_to_records() {
    let storage = storage::shared(MemoryStorage::new());
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    for _ in 0..3 {
        next_epoch(&mut alice, &mut bob);
    }
    let before = retained(&alice);
    assert_eq!(before.len(), KEPT);

    // The earlier layout: every retained PSK in the epoch record, no PSK
    // records.
    let keys = GroupKeys::new(&id);
    let state = &alice.state;
    let (psks, past) = retained_of(state);
    let old_record = seal(Kind::Epoch, |w| {
        encode_core(&state.epoch, w);
        encode_retained(&psks, &past, w);
    })
    .expect("encode");
    let mut batch = WriteBatch::default();
    batch.delete_prefix(keys.psks());
    batch.put(keys.epoch(), old_record);
    with(&storage, |s| s.write(batch)).expect("write the old layout");
    assert!(stored_psk_epochs(&storage, &id).is_empty());

    let mut client = reopen(&storage);
    let mut loaded = client.load_group(&id).expect("load");
    assert_eq!(retained(&loaded), before, "read from the epoch record");

    // The next merge moves them into records of their own.
    next_epoch(&mut loaded, &mut bob);
    let after = retained(&loaded);
    assert_eq!(
        stored_psk_epochs(&storage, &id),
        after.iter().map(|(e, _)| *e).collect::<Vec<_>>()
    );
    assert!(inline_list(&storage, &id).is_empty());
    // Later merges write only the new one, and the stored state loads.
    next_epoch(&mut loaded, &mut bob);
    let mut client = reopen(&storage);
    let reloaded = client.load_group(&id).expect("reload");
    assert_eq!(retained(&reloaded), retained(&loaded));
    assert_eq!(reloaded.epoch_authenticator(), bob.epoch_authenticator());
}

/// PSK records beyond the group's `resumption_epochs` (only a database
/// changed outside the library holds them) load as the newest that many;
/// one of an epoch the group has not left is refused, naming the record.
#[test]
fn loading_keeps_at_most_the_configured_psks_and_refuses_unleft_epochs() {
    let storage = storage::shared(MemoryStorage::new());
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    for _ in 0..4 {
        next_epoch(&mut alice, &mut bob);
    }
    let kept = retained(&alice);
    assert_eq!(kept.iter().map(|(e, _)| *e).collect::<Vec<_>>(), [2, 3, 4]);
    let keys = GroupKeys::new(&id);
    let psk = alice.state.retention.resumption[0].1.clone();
    let store = GroupStore::new(storage.clone(), &id);
    let mut batch = WriteBatch::default();
    for e in [0, 1] {
        store.put_psk(&mut batch, e, &psk).expect("encode");
    }
    with(&storage, |s| s.write(batch)).expect("write extra PSKs");
    assert_eq!(stored_psk_epochs(&storage, &id), [0, 1, 2, 3, 4]);
    let loaded = reopen(&storage).load_group(&id).expect("load");
    assert_eq!(retained(&loaded), kept);

    let mut batch = WriteBatch::default();
    store
        .put_psk(&mut batch, alice.epoch(), &psk)
        .expect("encode");
    with(&storage, |s| s.write(batch)).expect("write a current-epoch PSK");
    match reopen(&storage).load_group(&id) {
        Err(Error::Storage(msg)) => assert!(
            msg.contains(&String::from_utf8_lossy(&keys.psk(alice.epoch())).into_owned())
                && msg.contains("has not left"),
            "{msg}"
        ),
        other => panic!(
            "expected a storage error, got {:?}",
            other.map(|g| g.epoch())
        ),
    }
}
