//! A storage write that fails leaves the group as it was: the call returns
//! `Error::Storage`, nothing it would have produced leaves the library, and
//! the group goes on once the storage works again.

mod common;
use common::flaky::Flaky;
use common::{deliver, pair, reopen};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arbor_mls::storage::{self, MemoryStorage, SharedStorage};
use arbor_mls::{Action, Error, Event, Group, GroupConfig};

struct Setup {
    store: SharedStorage,
    failing: Arc<AtomicBool>,
    flush_failing: Arc<AtomicBool>,
    unflushed: Arc<AtomicUsize>,
    group: Group,
    bob_group: Group,
}

fn setup() -> Setup {
    let failing = Arc::new(AtomicBool::new(false));
    let flush_failing = Arc::new(AtomicBool::new(false));
    let unflushed = Arc::new(AtomicUsize::new(0));
    let store = storage::shared(Flaky {
        inner: MemoryStorage::new(),
        failing: failing.clone(),
        flush_failing: flush_failing.clone(),
        unflushed: unflushed.clone(),
    });
    let (_alice, group, _bob, bob_group) = pair(&store);
    Setup {
        store,
        failing,
        flush_failing,
        unflushed,
        group,
        bob_group,
    }
}

fn is_storage(result: arbor_mls::Result<impl std::fmt::Debug>) -> bool {
    matches!(result, Err(Error::Storage(_)))
}

#[test]
fn a_failed_merge_changes_nothing() {
    let Setup {
        failing,
        mut group,
        mut bob_group,
        ..
    } = setup();
    let out = bob_group.update().expect("bob update");
    bob_group.merge_pending().expect("merge");
    let Event::Commit { staged, .. } = group.process(&out.commit).expect("process") else {
        panic!("expected a commit")
    };
    let (epoch, auth) = (group.epoch(), group.epoch_authenticator().to_vec());
    failing.store(true, Ordering::SeqCst);
    assert!(is_storage(group.merge(*staged)));
    assert_eq!(group.epoch(), epoch);
    assert_eq!(group.epoch_authenticator(), auth);

    // Storage back: the same commit processes and merges.
    failing.store(false, Ordering::SeqCst);
    deliver(&mut group, &out.commit);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
}

#[test]
fn a_failed_encrypt_returns_no_ciphertext_and_the_next_one_is_read() {
    let Setup {
        store,
        failing,
        mut group,
        mut bob_group,
        ..
    } = setup();
    failing.store(true, Ordering::SeqCst);
    assert!(is_storage(group.encrypt(b"lost", b"")));
    failing.store(false, Ordering::SeqCst);
    let m = group.encrypt(b"kept", b"").expect("encrypt");
    assert!(matches!(
        deliver(&mut bob_group, &m),
        Event::Application { data, .. } if data == b"kept"
    ));
    // After a restart the sending ratchet is past the generation sent.
    let id = group.group_id().to_vec();
    drop(group);
    let mut group = reopen(&store).load_group(&id).expect("load");
    let m = group.encrypt(b"after", b"").expect("encrypt");
    assert!(matches!(
        deliver(&mut bob_group, &m),
        Event::Application { data, .. } if data == b"after"
    ));
}

#[test]
fn failed_flag_and_settings_writes_keep_memory_and_storage_in_step() {
    let Setup {
        store,
        failing,
        mut group,
        ..
    } = setup();
    let id = group.group_id().to_vec();
    failing.store(true, Ordering::SeqCst);
    assert!(is_storage(group.set_authenticated_data(b"x".to_vec())));
    // Settings are written with the next batch; that batch fails here, so
    // they must go with the one after.
    group.set_config(GroupConfig::default().with_padding(64));
    assert!(is_storage(group.encrypt(b"m", b"")));
    failing.store(false, Ordering::SeqCst);
    group.encrypt(b"m", b"").expect("encrypt");
    drop(group);

    let group = reopen(&store).load_group(&id).expect("load");
    assert_eq!(group.config().padding, 64, "settings written after all");
    let mut group = group;
    let proposal = group.propose_update().expect("propose");
    let message = arbor_mls::Message::decode(&proposal).expect("decode");
    assert_eq!(
        message.authenticated_data(),
        Some(&b""[..]),
        "the refused authenticated data was not kept"
    );
}

#[test]
fn a_merge_whose_sync_fails_says_to_reopen_and_the_stored_epoch_goes_on() {
    let Setup {
        store,
        flush_failing,
        mut group,
        mut bob_group,
        ..
    } = setup();
    let id = group.group_id().to_vec();
    let out = bob_group.update().expect("bob update");
    bob_group.merge_pending().expect("merge");
    let Event::Commit { staged, .. } = group.process(&out.commit).expect("process") else {
        panic!("expected a commit")
    };
    let before = group.epoch();
    flush_failing.store(true, Ordering::SeqCst);
    let err = group
        .merge(*staged)
        .expect_err("a failed sync must fail the merge");
    // Retrying cannot help: the storage refuses writes until reopened.
    assert_eq!(err.action(), Action::Reopen, "{err}");
    let Error::StorageUncertain(message) = err else {
        panic!("a failed sync must be Error::StorageUncertain, got {err:?}")
    };
    assert!(
        message.contains(&format!("epoch {}", before + 1)) && message.contains("reopen the client"),
        "{message}"
    );
    assert!(
        message.starts_with(&format!(
            "the merge into epoch {} is applied in memory but may not be stored (",
            before + 1
        )),
        "{message}"
    );
    // The merge went through memory (the write was handed over before the
    // sync failed), and the error said so.
    assert_eq!(group.epoch(), before + 1);
    drop(group);

    // Reopened, the group is in the epoch the storage holds (here the new
    // one) and goes on with Bob.
    flush_failing.store(false, Ordering::SeqCst);
    let mut group = reopen(&store).load_group(&id).expect("load");
    assert_eq!(group.epoch(), before + 1);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
    let m = group.encrypt(b"after", b"").expect("encrypt");
    assert!(matches!(
        deliver(&mut bob_group, &m),
        Event::Application { data, .. } if data == b"after"
    ));
}

#[test]
fn merges_hand_their_write_over_unflushed_and_flush_before_returning() {
    let Setup {
        flush_failing,
        unflushed,
        mut group,
        mut bob_group,
        ..
    } = setup();
    // Alice's own commit (merge_pending) and Bob's commit (merge), each
    // handed over unflushed once, and flushed: the failing flush shows.
    let out = group.update().expect("update");
    let handed_over = unflushed.load(Ordering::SeqCst);
    flush_failing.store(true, Ordering::SeqCst);
    assert!(matches!(
        group.merge_pending(),
        Err(Error::StorageUncertain(_))
    ));
    assert_eq!(unflushed.load(Ordering::SeqCst), handed_over + 1);
    flush_failing.store(false, Ordering::SeqCst);
    deliver(&mut bob_group, &out.commit);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());

    let out = bob_group.update().expect("bob update");
    bob_group.merge_pending().expect("bob merge");
    let Event::Commit { staged, .. } = group.process(&out.commit).expect("process") else {
        panic!("expected a commit")
    };
    flush_failing.store(true, Ordering::SeqCst);
    assert!(matches!(
        group.merge(*staged),
        Err(Error::StorageUncertain(_))
    ));
    assert_eq!(unflushed.load(Ordering::SeqCst), handed_over + 2);
    assert_eq!(group.epoch_authenticator(), bob_group.epoch_authenticator());
}

#[test]
fn an_encrypt_hands_its_ratchet_step_over_unflushed_and_returns_nothing_if_the_sync_fails() {
    let Setup {
        store,
        flush_failing,
        unflushed,
        mut group,
        mut bob_group,
        ..
    } = setup();
    let id = group.group_id().to_vec();
    let handed_over = unflushed.load(Ordering::SeqCst);
    let m = group.encrypt(b"first", b"").expect("encrypt");
    assert_eq!(unflushed.load(Ordering::SeqCst), handed_over + 1);
    assert!(matches!(
        deliver(&mut bob_group, &m),
        Event::Application { data, .. } if data == b"first"
    ));

    flush_failing.store(true, Ordering::SeqCst);
    let err = group
        .encrypt(b"lost", b"")
        .expect_err("a failed sync must return no ciphertext");
    assert_eq!(err.action(), Action::Reopen, "{err}");
    let Error::StorageUncertain(message) = err else {
        panic!("a failed sync must be Error::StorageUncertain, got {err:?}")
    };
    assert_eq!(unflushed.load(Ordering::SeqCst), handed_over + 2);
    assert!(
        message.starts_with("the message of generation 1 was not sent")
            && message.contains("reopen the client"),
        "{message}"
    );
    drop(group);

    // Reopened, the sending ratchet is past the generation whose step was
    // handed over, and Bob reads what comes next.
    flush_failing.store(false, Ordering::SeqCst);
    let mut group = reopen(&store).load_group(&id).expect("load");
    let m = group.encrypt(b"after", b"").expect("encrypt");
    assert!(matches!(
        deliver(&mut bob_group, &m),
        Event::Application { data, .. } if data == b"after"
    ));
}
