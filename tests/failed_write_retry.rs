//! docs/errors.md, `Retry`: when a transition's write fails, nothing
//! changed in memory, and retrying it once storage works gives the result
//! it would have given had the write never failed. One test per transition
//! that writes; where randomness is involved, two worlds built from the
//! same seeds (one whose write fails once, one whose write never fails)
//! must produce the same bytes.

mod common;
use common::deliver;
use common::flaky::Flaky;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arbor_mls::crypto::SeededRandom;
use arbor_mls::storage;
use arbor_mls::{
    Client, Error, Event, FixedClock, Group, GroupConfig, GroupOptions, KeyPackageOptions,
    LeafIndex,
};

/// Alice, persisted in a store whose writes fail on demand, and Bob, in
/// memory, in one group; every client's randomness comes from a seed.
struct World {
    failing: Arc<AtomicBool>,
    alice: Group,
    bob: Group,
}

fn client(name: &str, seed: u8) -> arbor_mls::ClientBuilder {
    Client::builder(name)
        .clock(Arc::new(FixedClock(1_750_000_000)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
}

fn world(encrypt_handshakes: bool) -> World {
    let (flaky, failing) = Flaky::new();
    let mut alice = client("alice", 1)
        .storage(storage::shared(flaky))
        .build()
        .expect("alice");
    let mut bob = client("bob", 2).build().expect("bob");
    let config = GroupConfig::default().with_encrypted_handshakes(encrypt_handshakes);
    let mut group = alice
        .create_group(GroupOptions::default().config(config))
        .expect("create");
    let kp = bob.key_package(KeyPackageOptions::default()).expect("kp");
    let out = group.add(&[&kp]).expect("add");
    group.merge_pending().expect("merge add");
    let bob_group = bob
        .join_with(&out.welcome.expect("welcome"), None, config)
        .expect("join");
    World {
        failing,
        alice: group,
        bob: bob_group,
    }
}

fn fails_with_storage<T: std::fmt::Debug>(result: arbor_mls::Result<T>) {
    assert!(
        matches!(result, Err(Error::Storage(_))),
        "expected Error::Storage, got {result:?}"
    );
}

/// A received application message whose consumed key could not be stored
/// is read when retried: its key was not consumed in memory either.
#[test]
fn a_received_message_is_read_on_retry_after_a_failed_write() {
    let mut w = world(false);
    let m = w.bob.encrypt(b"hello", b"ad").expect("encrypt");
    w.failing.store(true, Ordering::SeqCst);
    fails_with_storage(w.alice.process(&m));
    w.failing.store(false, Ordering::SeqCst);
    match w.alice.process(&m).expect("retry") {
        Event::Application {
            data,
            authenticated_data,
            ..
        } => {
            assert_eq!(data, b"hello");
            assert_eq!(authenticated_data, b"ad");
        }
        other => panic!("expected the application message, got {other:?}"),
    }
    // Read once: now the key is consumed, in memory and in storage.
    assert!(matches!(w.alice.process(&m), Err(Error::Replay(_))));
}

/// An encrypt whose ratchet step could not be stored did not move the
/// ratchet: the retry sends the bytes a run without the failure sends.
#[test]
fn an_encrypt_retried_after_a_failed_write_sends_what_an_undisturbed_run_sends() {
    let mut failing = world(false);
    let mut clean = world(false);
    failing.failing.store(true, Ordering::SeqCst);
    fails_with_storage(failing.alice.encrypt(b"hi", b""));
    failing.failing.store(false, Ordering::SeqCst);
    let retried = failing.alice.encrypt(b"hi", b"").expect("retry");
    let undisturbed = clean.alice.encrypt(b"hi", b"").expect("encrypt");
    assert_eq!(retried, undisturbed);
    assert!(matches!(
        deliver(&mut failing.bob, &retried),
        Event::Application { data, .. } if data == b"hi"
    ));
}

/// A proposal received while storage fails is not cached; the retry caches
/// it, and the commit that covers it is accepted.
#[test]
fn a_received_proposal_is_cached_on_retry_after_a_failed_write() {
    for encrypted in [false, true] {
        let mut w = world(encrypted);
        let proposal = w.bob.propose_update().expect("propose");
        w.failing.store(true, Ordering::SeqCst);
        fails_with_storage(w.alice.process(&proposal));
        w.failing.store(false, Ordering::SeqCst);
        assert!(
            matches!(
                w.alice.process(&proposal).expect("retry"),
                Event::Proposal { .. }
            ),
            "encrypted handshakes: {encrypted}"
        );
        let out = w.alice.commit().expect("commit");
        assert!(out.left_out.is_empty());
        let Event::Commit { staged, .. } = w.bob.process(&out.commit).expect("bob") else {
            panic!("expected a commit");
        };
        assert_eq!(staged.summary.updated, [LeafIndex(1)]);
        w.bob.merge(*staged).expect("merge");
        deliver(&mut w.alice, &out.commit);
        assert_eq!(w.alice.epoch_authenticator(), w.bob.epoch_authenticator());
    }
}

/// A commit received as a PrivateMessage while storage fails stages on
/// retry: its handshake key was not consumed.
#[test]
fn a_received_commit_stages_on_retry_after_a_failed_write() {
    let mut w = world(true);
    let out = w.bob.update().expect("update");
    w.bob.merge_pending().expect("merge");
    w.failing.store(true, Ordering::SeqCst);
    fails_with_storage(w.alice.process(&out.commit));
    w.failing.store(false, Ordering::SeqCst);
    let Event::Commit { staged, .. } = w.alice.process(&out.commit).expect("retry") else {
        panic!("expected a commit");
    };
    w.alice.merge(*staged).expect("merge");
    assert_eq!(w.alice.epoch_authenticator(), w.bob.epoch_authenticator());
}

/// A proposal of ours whose write failed was not sent: it is not cached,
/// so our next commit does not carry it.
#[test]
fn a_proposal_we_failed_to_store_is_not_committed() {
    for encrypted in [false, true] {
        let mut w = world(encrypted);
        w.failing.store(true, Ordering::SeqCst);
        fails_with_storage(w.alice.propose_remove(LeafIndex(1)));
        w.failing.store(false, Ordering::SeqCst);
        let out = w.alice.commit().expect("commit");
        let Event::Commit { staged, .. } = w.bob.process(&out.commit).expect("bob") else {
            panic!("expected a commit");
        };
        assert!(
            staged.summary.removed.is_empty(),
            "encrypted handshakes: {encrypted}"
        );
        w.bob.merge(*staged).expect("merge");
        deliver(&mut w.alice, &out.commit);
        assert_eq!(w.alice.epoch_authenticator(), w.bob.epoch_authenticator());
    }
}

/// A commit of ours whose write failed leaves no pending commit and no
/// ratchet step; the retried commit is accepted.
#[test]
fn a_commit_we_failed_to_store_is_retried() {
    for encrypted in [false, true] {
        let mut w = world(encrypted);
        w.failing.store(true, Ordering::SeqCst);
        fails_with_storage(w.alice.update());
        assert!(!w.alice.has_pending_commit());
        w.failing.store(false, Ordering::SeqCst);
        let out = w.alice.update().expect("retry");
        deliver(&mut w.bob, &out.commit);
        assert!(matches!(
            w.alice.process(&out.commit).expect("echo"),
            Event::OwnCommitMerged { .. }
        ));
        assert_eq!(w.alice.epoch_authenticator(), w.bob.epoch_authenticator());
        // The handshake ratchet in memory is the stored one: a message after
        // the commit is read by Bob.
        let m = w.alice.encrypt(b"after", b"").expect("encrypt");
        assert!(matches!(
            deliver(&mut w.bob, &m),
            Event::Application { data, .. } if data == b"after"
        ));
    }
}

/// A key package whose write failed is not kept; the next one is.
#[test]
fn a_key_package_we_failed_to_store_is_not_kept() {
    let (flaky, failing) = Flaky::new();
    let mut carol = client("carol", 3)
        .storage(storage::shared(flaky))
        .build()
        .expect("carol");
    failing.store(true, Ordering::SeqCst);
    fails_with_storage(carol.key_package(KeyPackageOptions::default()));
    assert_eq!(carol.key_package_count(), 0);
    failing.store(false, Ordering::SeqCst);
    carol
        .key_package(KeyPackageOptions::default())
        .expect("retry");
    assert_eq!(carol.key_package_count(), 1);
}

/// A join whose write failed keeps the key package, so the same Welcome
/// joins once storage works.
#[test]
fn a_join_we_failed_to_store_can_be_retried() {
    let mut w = world(false);
    let (flaky, failing) = Flaky::new();
    let mut carol = client("carol", 3)
        .storage(storage::shared(flaky))
        .build()
        .expect("carol");
    let kp = carol.key_package(KeyPackageOptions::default()).expect("kp");
    let out = w.alice.add(&[&kp]).expect("add");
    w.alice.merge_pending().expect("merge");
    let welcome = out.welcome.expect("welcome");
    failing.store(true, Ordering::SeqCst);
    fails_with_storage(carol.join(&welcome, None));
    assert_eq!(carol.key_package_count(), 1);
    failing.store(false, Ordering::SeqCst);
    let group = carol.join(&welcome, None).expect("retry");
    assert_eq!(group.epoch_authenticator(), w.alice.epoch_authenticator());
    assert_eq!(carol.key_package_count(), 0);
}
