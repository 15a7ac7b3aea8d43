//! An observer whose storage write fails: the call returns
//! `Error::Storage`, the observer in memory and its records are exactly as
//! before the call, and once the storage works again the same call gives
//! what it would have given had the failure never happened (compared with
//! an observer on a storage that never fails, fed the same messages).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arbor_mls::crypto::SeededRandom;
use arbor_mls::storage::{self, MemoryStorage, SharedStorage, Storage, WriteBatch};
use arbor_mls::{
    Client, Confirmation, Error, FixedClock, Group, GroupOptions, KeyPackageOptions, Observed,
    Observer, ObserverOptions,
};

const NOW: u64 = 1_750_000_000;

/// A memory storage whose writes fail while `failing` is set.
struct Flaky {
    inner: MemoryStorage,
    failing: Arc<AtomicBool>,
}

impl Storage for Flaky {
    fn get(&self, key: &[u8]) -> arbor_mls::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, prefix: &[u8]) -> arbor_mls::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> arbor_mls::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Storage("disk full (test)".into()));
        }
        self.inner.write(batch)
    }
}

fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

fn options(storage: &SharedStorage) -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        storage: Some(storage.clone()),
        ..ObserverOptions::default()
    }
}

/// An observer on flaky storage and one on storage that never fails.
struct Pair {
    flaky: Observer,
    flaky_store: SharedStorage,
    failing: Arc<AtomicBool>,
    control: Observer,
    control_store: SharedStorage,
}

fn records(store: &SharedStorage) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.lock().unwrap().scan(b"o/").unwrap()
}

impl Pair {
    fn new(group_info: &[u8]) -> Self {
        let failing = Arc::new(AtomicBool::new(false));
        let flaky_store = storage::shared(Flaky {
            inner: MemoryStorage::new(),
            failing: failing.clone(),
        });
        let control_store = storage::shared(MemoryStorage::new());
        Self {
            flaky: Observer::from_group_info(group_info, None, options(&flaky_store)).unwrap(),
            flaky_store,
            failing,
            control: Observer::from_group_info(group_info, None, options(&control_store)).unwrap(),
            control_store,
        }
    }

    /// `call` fails on the flaky observer with a storage error and changes
    /// nothing, in memory or stored; then succeeds on both observers, which
    /// end equal, in memory, in storage and reloaded.
    fn fail_then_retry<T: std::fmt::Debug>(
        &mut self,
        what: &str,
        call: impl Fn(&mut Observer) -> arbor_mls::Result<T>,
    ) -> T {
        let memory = self.flaky.to_bytes().unwrap();
        let stored = records(&self.flaky_store);
        let confirmation = self.flaky.confirmation();
        self.failing.store(true, Ordering::SeqCst);
        match call(&mut self.flaky) {
            Err(Error::Storage(_)) => {}
            other => panic!("{what}: expected a storage error, got {other:?}"),
        }
        self.failing.store(false, Ordering::SeqCst);
        assert_eq!(
            self.flaky.to_bytes().unwrap(),
            memory,
            "{what}: memory changed"
        );
        assert_eq!(self.flaky.confirmation(), confirmation, "{what}");
        assert_eq!(
            records(&self.flaky_store),
            stored,
            "{what}: storage changed"
        );

        let out = call(&mut self.flaky).unwrap_or_else(|e| panic!("{what}: retry: {e}"));
        call(&mut self.control).unwrap_or_else(|e| panic!("{what}: control: {e}"));
        self.assert_same(what);
        out
    }

    fn assert_same(&self, what: &str) {
        let bytes = self.control.to_bytes().unwrap();
        assert_eq!(
            self.flaky.to_bytes().unwrap(),
            bytes,
            "{what}: memory differs"
        );
        assert_eq!(
            records(&self.flaky_store),
            records(&self.control_store),
            "{what}: records differ"
        );
        let reloaded = Observer::load(self.flaky.group_id(), options(&self.flaky_store))
            .unwrap()
            .unwrap();
        assert_eq!(
            reloaded.to_bytes().unwrap(),
            bytes,
            "{what}: reloaded differs"
        );
    }

    /// Processes and merges `commit` on both, the merge failing once.
    fn merge(&mut self, what: &str, commit: &[u8]) {
        self.fail_then_retry(what, |o| match o.process(commit)? {
            Observed::Commit(staged) => o.merge(*staged),
            other => panic!("{what}: expected a commit, got {other:?}"),
        });
    }
}

fn merge_commit(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        arbor_mls::Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn group_of_three() -> (Group, Group, Group, Client) {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut carol = client("carol", 3);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = a.add(&[&kps[0], &kps[1]]).unwrap();
    a.merge_pending().unwrap();
    let welcome = out.welcome.unwrap();
    let b = bob.join(&welcome, None).unwrap();
    let c = carol.join(&welcome, None).unwrap();
    (a, b, c, alice)
}

#[test]
fn a_failed_write_of_a_cached_proposal_changes_nothing() {
    let (mut a, mut b, _c, _) = group_of_three();
    let mut pair = Pair::new(&a.group_info(true).unwrap());
    for (i, proposal) in [b.propose_update().unwrap(), a.propose_update().unwrap()]
        .iter()
        .enumerate()
    {
        let observed = pair.fail_then_retry(&format!("proposal {i}"), |o| o.process(proposal));
        assert!(matches!(observed, Observed::Proposal(_)));
    }
    assert_eq!(pair.flaky.state().proposals().len(), 2);
}

#[test]
fn a_failed_write_of_a_merge_changes_nothing() {
    let (mut a, mut b, mut c, _) = group_of_three();
    let mut pair = Pair::new(&a.group_info(true).unwrap());

    // A cached proposal, then a commit covering it.
    let proposal = b.propose_update().unwrap();
    pair.fail_then_retry("proposal", |o| o.process(&proposal));
    for g in [&mut a, &mut c] {
        g.process(&proposal).unwrap();
    }
    let out = a.commit().unwrap();
    pair.merge("a commit covering a proposal", &out.commit);
    a.merge_pending().unwrap();
    for g in [&mut b, &mut c] {
        merge_commit(g, &out.commit);
    }
    assert_eq!(pair.flaky.epoch(), a.epoch());

    // A GroupInfo upload.
    let info = a.group_info(true).unwrap();
    pair.fail_then_retry("a GroupInfo", |o| o.accept_group_info(&info));

    // An external commit (provisional), then a member's commit for the
    // epoch it left (superseding it), then a member's GroupInfo
    // confirming: each a batch of its own kind.
    let mut dave = client("dave", 4);
    let (_, external) = dave
        .join_by_external_commit(
            pair.control.group_info().unwrap(),
            Some(&pair.control.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    pair.merge("an external commit", &external);
    assert!(matches!(
        pair.flaky.confirmation(),
        Confirmation::Provisional { .. }
    ));
    let out = b.update().unwrap();
    pair.merge("a member's commit superseding it", &out.commit);
    assert!(matches!(
        pair.flaky.confirmation(),
        Confirmation::Contested { .. }
    ));
    b.merge_pending().unwrap();
    merge_commit(&mut a, &out.commit);
    let info = a.group_info(false).unwrap();
    pair.fail_then_retry("a confirming GroupInfo", |o| o.accept_group_info(&info));
    assert_eq!(pair.flaky.confirmation(), Confirmation::Confirmed);
    assert_eq!(pair.flaky.epoch(), a.epoch());
}

/// An observer restored from bytes onto a storage writes its whole state
/// with its first change; that write failing leaves both as they were.
#[test]
fn a_failed_first_write_after_restoring_changes_nothing() {
    let (mut a, mut b, _c, _) = group_of_three();
    let info = a.group_info(true).unwrap();
    let mut pair = Pair::new(&info);
    let bytes = pair.flaky.to_bytes().unwrap();
    // A fresh flaky storage, empty: the restored observer is not in it.
    pair.flaky_store = storage::shared(Flaky {
        inner: MemoryStorage::new(),
        failing: pair.failing.clone(),
    });
    pair.flaky = Observer::from_bytes(&bytes, options(&pair.flaky_store)).unwrap();
    assert!(records(&pair.flaky_store).is_empty());
    let proposal = b.propose_update().unwrap();
    pair.fail_then_retry("the first change", |o| o.process(&proposal));
    a.process(&proposal).unwrap();
}
