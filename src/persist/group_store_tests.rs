//! The stored layout of the retained resumption PSKs (one record per
//! epoch, written as the epoch is left and deleted as it is evicted) and of
//! the proposal cache (one record per cached proposal, written once); the
//! earlier layouts (the epoch record, or the `proposals` record, held them
//! all) still load.

use super::*;
use crate::api::{Client, GroupOptions, KeyPackageOptions};
use crate::group::state::GroupConfig;
use crate::storage::{self, MemoryStorage, Storage};

const KEPT: usize = 3;

/// Alice (stored in `storage`, keeping [`KEPT`] resumption PSKs) and Bob
/// (in memory) in one group; Alice's client and group, Bob's group.
fn pair(storage: &SharedStorage) -> (Client, crate::api::Group, crate::api::Group) {
    pair_with(
        storage,
        GroupConfig {
            resumption_epochs: KEPT,
            ..GroupConfig::default()
        },
    )
}

/// [`pair`] with the group made with `config`.
fn pair_with(
    storage: &SharedStorage,
    config: GroupConfig,
) -> (Client, crate::api::Group, crate::api::Group) {
    let mut alice = Client::builder("alice")
        .storage(storage.clone())
        .build()
        .expect("alice");
    let mut bob = Client::builder("bob").build().expect("bob");
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
    Client::restore(storage.clone()).build().expect("reopen")
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

/// Storage that keeps the bytes of each batch it is asked to write.
struct Sizes {
    inner: MemoryStorage,
    written: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl Storage for Sizes {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        self.written
            .lock()
            .expect("lock")
            .push(batch.bytes_written());
        self.inner.write(batch)
    }
}

/// Bob proposes adding `n` new clients; Alice caches each proposal.
fn bob_proposes_adds(alice: &mut crate::api::Group, bob: &mut crate::api::Group, n: usize) {
    for i in 0..n {
        let mut c = Client::builder(format!("joiner {i:03}"))
            .build()
            .expect("joiner");
        let kp = c.key_package(KeyPackageOptions::default()).expect("kp");
        let proposal = bob.propose_add(&kp).expect("propose");
        match alice.process(&proposal).expect("process") {
            crate::api::Event::Proposal { .. } => {}
            other => panic!("expected a proposal, got {other:?}"),
        }
    }
}

fn cached_refs(group: &crate::api::Group) -> Vec<Vec<u8>> {
    group
        .state
        .proposals
        .iter()
        .map(|p| p.reference.clone())
        .collect()
}

fn proposal_record_indices(storage: &SharedStorage, group_id: &[u8]) -> Vec<u32> {
    let prefix = GroupKeys::new(group_id).cached_proposals();
    read_prefix(storage, &prefix)
        .expect("scan")
        .iter()
        .map(|(k, _)| GroupKeys::parse_index(k, &prefix).expect("an index"))
        .collect()
}

/// Caching the k-th proposal writes one record, not the k before it: the
/// batches of the 1st and the 40th are about the same size. The cache
/// reloads in order, and a commit covering it keeps the reloaded group in
/// step; the merge deletes the records.
#[test]
fn each_cached_proposal_is_one_record_written_once() {
    let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let storage = storage::shared(Sizes {
        inner: MemoryStorage::new(),
        written: written.clone(),
    });
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    let before = written.lock().expect("lock").len();
    bob_proposes_adds(&mut alice, &mut bob, 40);
    let sizes = written.lock().expect("lock")[before..].to_vec();
    assert_eq!(sizes.len(), 40, "one batch per proposal");
    let (least, most) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(most - least < 64, "batch sizes {sizes:?}");
    assert_eq!(
        proposal_record_indices(&storage, &id),
        (0..40).collect::<Vec<u32>>()
    );
    assert!(
        read(&storage, &GroupKeys::new(&id).proposals())
            .expect("read")
            .is_none(),
        "no own Update keys, no proposals record"
    );

    let mut loaded = reopen(&storage).load_group(&id).expect("load");
    assert_eq!(cached_refs(&loaded), cached_refs(&alice));
    let commit = bob.commit().expect("commit").commit;
    bob.merge_pending().expect("bob merges");
    match loaded.process(&commit).expect("process") {
        crate::api::Event::Commit { staged, .. } => loaded.merge(*staged).expect("merge"),
        other => panic!("expected a commit, got {other:?}"),
    }
    assert_eq!(loaded.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(loaded.members().len(), 42);
    assert!(proposal_record_indices(&storage, &id).is_empty());
    // Caching starts again at index 0 in the new epoch.
    bob_proposes_adds(&mut loaded, &mut bob, 2);
    assert_eq!(proposal_record_indices(&storage, &id), [0, 1]);
}

/// A `proposals` record of the earlier layout (every cached proposal in
/// its list) loads; the next proposal moves them all into records and
/// writes the list empty.
#[test]
fn a_proposals_record_of_the_earlier_layout_loads_and_moves_to_records() {
    let storage = storage::shared(MemoryStorage::new());
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    bob_proposes_adds(&mut alice, &mut bob, 3);
    let keys = GroupKeys::new(&id);
    let old_record = seal(Kind::Proposals, |w| {
        w.vector(|w| {
            for p in alice.state.proposals.iter() {
                encode_cached_proposal(p, w);
            }
        });
        w.vector(|_| {}); // no own Update keys
    })
    .expect("encode");
    let mut batch = WriteBatch::default();
    batch.delete_prefix(keys.cached_proposals());
    batch.put(keys.proposals(), old_record);
    with(&storage, |s| s.write(batch)).expect("write the old layout");

    let mut loaded = reopen(&storage).load_group(&id).expect("load");
    assert_eq!(cached_refs(&loaded), cached_refs(&alice));
    bob_proposes_adds(&mut loaded, &mut bob, 1);
    assert_eq!(proposal_record_indices(&storage, &id), [0, 1, 2, 3]);
    let bytes = read(&storage, &keys.proposals())
        .expect("read")
        .expect("rewritten");
    let (inline, own) =
        open(&keys.proposals(), Kind::Proposals, &bytes, decode_proposals).expect("decode");
    assert!(inline.is_empty() && own.is_empty());
    let reloaded = reopen(&storage).load_group(&id).expect("reload");
    assert_eq!(cached_refs(&reloaded), cached_refs(&loaded));
}

/// Cached proposal records must be numbered from 0 without gaps, be
/// distinct, number at most `max_cached_proposals`, and not sit beside a
/// `proposals` record that holds cached proposals: otherwise loading
/// fails with `Error::Storage` naming the record.
#[test]
fn cached_proposal_records_are_checked_on_load() {
    let config = GroupConfig {
        max_cached_proposals: 3,
        ..GroupConfig::default()
    };
    let expect_error =
        |storage: &SharedStorage, id: &[u8], key: &[u8], why: &str| match reopen(storage)
            .load_group(id)
        {
            Err(Error::Storage(msg)) => assert!(
                msg.contains(&*String::from_utf8_lossy(key)) && msg.contains(why),
                "{msg}"
            ),
            other => panic!(
                "expected a storage error, got {:?}",
                other.map(|g| g.epoch())
            ),
        };
    let setup = || {
        let storage = storage::shared(MemoryStorage::new());
        let (_, mut alice, mut bob) = pair_with(&storage, config);
        bob_proposes_adds(&mut alice, &mut bob, 2);
        let id = alice.group_id().to_vec();
        let keys = GroupKeys::new(&id);
        let record = |i| {
            read(&storage, &keys.cached_proposal(i))
                .expect("read")
                .expect("record")
                .to_vec()
        };
        let (first, second) = (record(0), record(1));
        (storage, id, keys, first, second)
    };
    let put = |storage: &SharedStorage, key: Vec<u8>, value: Option<Vec<u8>>| {
        let mut batch = WriteBatch::default();
        match value {
            Some(v) => batch.put(key, v),
            None => batch.delete(key),
        }
        with(storage, |s| s.write(batch)).expect("write");
    };

    let (storage, id, keys, _, _) = setup();
    put(&storage, keys.cached_proposal(0), None);
    expect_error(
        &storage,
        &id,
        &keys.cached_proposal(1),
        "is not cached proposal 0",
    );

    let (storage, id, keys, first, _) = setup();
    put(&storage, keys.cached_proposal(2), Some(first));
    expect_error(
        &storage,
        &id,
        &keys.cached_proposal(2),
        "repeats a cached proposal",
    );

    // Two proposals of another group: distinct, a fourth record is past
    // the limit of 3.
    let (storage, id, keys, _, _) = setup();
    let (_, _, _, third, fourth) = setup();
    put(&storage, keys.cached_proposal(2), Some(third));
    put(&storage, keys.cached_proposal(3), Some(fourth));
    expect_error(
        &storage,
        &id,
        &keys.cached_proposal(3),
        "more than max_cached_proposals (3)",
    );

    let (storage, id, keys, first, _) = setup();
    let inline = seal(Kind::Proposals, |w| {
        w.vector(|w| w.put(&first[2..]));
        w.vector(|_| {}); // no own Update keys
    })
    .expect("encode");
    put(&storage, keys.proposals(), Some(inline));
    expect_error(
        &storage,
        &id,
        &keys.cached_proposal(0),
        "beside a proposals record",
    );
}

/// A cached SelfRemove (draft-ietf-mls-extensions) survives a restart and
/// the reloaded group's next commit covers it; the safe exporter, never
/// stored, is unavailable in the reloaded epoch and back in the next.
#[test]
fn a_stored_self_remove_is_committed_after_a_restart() {
    let storage = storage::shared(MemoryStorage::new());
    let (_, mut alice, mut bob) = pair(&storage);
    let id = alice.group_id().to_vec();
    let leave = bob.leave().expect("leave");
    alice.process(&leave).expect("cached");
    drop(alice);

    let mut alice = reopen(&storage).load_group(&id).expect("load");
    assert!(alice.safe_export_secret(1).is_err());
    let out = alice.update().expect("commit");
    alice.merge_pending().expect("merge");
    match bob.process(&out.commit).expect("process") {
        crate::api::Event::Commit { staged, .. } => {
            assert!(staged.summary.self_removed);
            bob.merge(*staged).expect("merge");
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    assert!(!bob.is_active());
    assert_eq!(alice.members().len(), 1);
    assert!(alice.safe_export_secret(1).is_ok());
}
