//! An observer with storage through every kind of transition between
//! branches (`docs/observer.md`, "External commits stay provisional"):
//! external commits applied provisionally and built on, proposals cached
//! in the epoch they left, a member's commit superseding them, a member's
//! message switching back to the branch the members took, confirmations
//! by proposal, commit and GroupInfo. After every call, the records in
//! storage load to exactly the observer in memory, and the observer's
//! public state is the members'.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arbor_mls::crypto::SeededRandom;
use arbor_mls::storage::{self, MemoryStorage, SharedStorage};
use arbor_mls::{
    Client, CommitOrder, Confirmation, Event, FixedClock, Group, GroupOptions, KeyPackageOptions,
    Observed, Observer, ObserverOptions,
};

const NOW: u64 = 1_750_000_000;

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

struct Server {
    observer: Observer,
    storage: SharedStorage,
}

impl Server {
    /// The stored records load to the observer in memory.
    fn check(&self, step: &str) {
        let loaded = Observer::load(self.observer.group_id(), options(&self.storage))
            .unwrap_or_else(|e| panic!("{step}: load: {e}"))
            .unwrap();
        // Compared without printing both (a few kilobytes each).
        assert!(
            loaded.to_bytes().unwrap() == self.observer.to_bytes().unwrap(),
            "{step}: the stored observer differs from the one in memory"
        );
        assert_eq!(
            loaded.confirmation(),
            self.observer.confirmation(),
            "{step}"
        );
    }

    /// Processes `message` (and merges it, if a commit), then checks the
    /// storage.
    fn serve(&mut self, step: &str, message: &[u8]) {
        match self
            .observer
            .process(message)
            .unwrap_or_else(|e| panic!("{step}: {e}"))
        {
            Observed::Commit(staged) => self.observer.merge(*staged).unwrap(),
            Observed::Proposal(_) | Observed::Private(_) => {}
        }
        self.check(step);
    }

    fn upload(&mut self, step: &str, group: &Group) {
        self.observer
            .accept_group_info(&group.group_info(true).unwrap())
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        self.check(step);
    }

    fn assert_follows(&self, step: &str, group: &Group) {
        assert_eq!(self.observer.epoch(), group.epoch(), "{step}");
        assert_eq!(self.observer.context(), group.state().context(), "{step}");
        assert_eq!(
            self.observer.ratchet_tree().unwrap(),
            group.state().tree().to_bytes().unwrap(),
            "{step}"
        );
    }
}

/// `group` processes `message`: a commit is merged (our own pending one
/// by its echo), a proposal cached.
fn receive(group: &mut Group, message: &[u8]) {
    match group.process(message).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        Event::OwnCommitMerged { .. } | Event::Proposal { .. } => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn stored_branches_follow_every_transition() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut carol = client("carol", 3);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let storage = storage::shared(MemoryStorage::new());
    let mut server = Server {
        observer: Observer::from_group_info(&a.group_info(true).unwrap(), None, options(&storage))
            .unwrap(),
        storage,
    };
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = a.add(&[&kps[0], &kps[1]]).unwrap();
    server.serve("add", &out.commit);
    receive(&mut a, &out.commit);
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    let mut c = carol.join(&welcome, None).unwrap();
    server.upload("alice's GroupInfo of epoch 1", &a);

    // Epoch 1: Bob proposes; Carol's proposal and Alice's commit are made
    // now and reach the server later.
    let bobs_proposal = b.propose_update().unwrap();
    server.serve("bob's proposal", &bobs_proposal);
    for g in [&mut a, &mut c] {
        receive(g, &bobs_proposal);
    }
    let carols_proposal = c.propose_update().unwrap();
    receive(&mut a, &carols_proposal);
    let alices_race = a.update().unwrap().commit;

    // Dave joins by external commit: provisional. Carol's proposal of
    // epoch 1 is still cached (in epoch 1).
    let mut dave = client("dave", 4);
    let (mut d, daves) = dave
        .join_by_external_commit(
            server.observer.group_info().unwrap(),
            Some(&server.observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    server.serve("dave's external commit", &daves);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    server.serve("carol's proposal of epoch 1", &carols_proposal);
    for g in [&mut a, &mut b, &mut c] {
        receive(g, &daves);
    }

    // Dave's GroupInfo is served (it confirms nothing), and Erin joins
    // from it: the unconfirmed branch grows.
    server.upload("dave's GroupInfo", &d);
    let mut erin = client("erin", 5);
    let (mut e, erins) = erin
        .join_by_external_commit(
            server.observer.group_info().unwrap(),
            Some(&server.observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    server.serve("erin's external commit", &erins);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    for g in [&mut a, &mut b, &mut c, &mut d] {
        receive(g, &erins);
    }
    server.assert_follows("erin joined", &a);

    // Alice's commit of epoch 1 arrives: it supersedes the unconfirmed
    // branch at the server, but the members took that branch.
    assert_eq!(server.observer.commit_order(1), CommitOrder::Next);
    server.serve("alice's racing commit", &alices_race);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Contested { other: 3 }
    );
    assert_eq!(server.observer.epoch(), 2);
    for g in [&mut b, &mut c, &mut d, &mut e] {
        assert!(g.process(&alices_race).is_err());
    }
    // (Alice merged Dave's commit instead of her own.)
    assert_eq!(a.epoch(), 3);

    // Carol's commit in epoch 3 confirms the members' branch: the server
    // switches back to it and applies the commit.
    let out = c.update().unwrap();
    server.serve("carol's commit in the members' branch", &out.commit);
    assert_eq!(server.observer.confirmation(), Confirmation::Confirmed);
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e] {
        receive(g, &out.commit);
    }
    server.assert_follows("carol's commit", &a);
    server.upload("carol's GroupInfo of epoch 4", &c);

    // Frank joins; Bob's proposal in the new epoch confirms it (and drops
    // the epoch Frank's commit left, with its cached proposal).
    let daves_proposal = d.propose_update().unwrap();
    server.serve("dave's proposal of epoch 4", &daves_proposal);
    let mut frank = client("frank", 6);
    let (mut f, franks) = frank
        .join_by_external_commit(
            server.observer.group_info().unwrap(),
            Some(&server.observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    server.serve("frank's external commit", &franks);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Provisional { base: 4 }
    );
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e] {
        receive(g, &franks);
    }
    let bobs_proposal = b.propose_update().unwrap();
    server.serve("bob's proposal confirming frank's commit", &bobs_proposal);
    assert_eq!(server.observer.confirmation(), Confirmation::Confirmed);
    for g in [&mut a, &mut c, &mut d, &mut e, &mut f] {
        receive(g, &bobs_proposal);
    }

    // A commit covering Bob's proposal, then Gina joins and Alice's
    // commit on top of it confirms it.
    let out = a.commit().unwrap();
    server.serve("alice's commit of epoch 5", &out.commit);
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e, &mut f] {
        receive(g, &out.commit);
    }
    server.upload("alice's GroupInfo of epoch 6", &a);
    let mut gina = client("gina", 7);
    let (mut g7, ginas) = gina
        .join_by_external_commit(
            server.observer.group_info().unwrap(),
            Some(&server.observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    server.serve("gina's external commit", &ginas);
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e, &mut f] {
        receive(g, &ginas);
    }
    let out = a.update().unwrap();
    server.serve("alice's commit confirming gina's", &out.commit);
    assert_eq!(server.observer.confirmation(), Confirmation::Confirmed);
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e, &mut f, &mut g7] {
        receive(g, &out.commit);
    }
    server.assert_follows("alice's commit of epoch 7", &g7);

    // Finally a commit the members reject (here: one they never get),
    // superseded by Bob's, which the members take; Carol's GroupInfo
    // confirms Bob's branch.
    server.upload("alice's GroupInfo of epoch 8", &a);
    let mut hank = client("hank", 8);
    let (mut h, hanks) = hank
        .join_by_external_commit(
            server.observer.group_info().unwrap(),
            Some(&server.observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    server.serve("hank's external commit", &hanks);
    // Hank builds on it: his commit removes Bob, a leaf his first commit
    // did not touch (the epoch it left keeps Bob's leaf).
    let out = h.remove(arbor_mls::LeafIndex(1)).unwrap();
    server.serve("hank's commit removing bob", &out.commit);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Provisional { base: 8 }
    );
    let out = b.update().unwrap();
    server.serve("bob's commit superseding hank's", &out.commit);
    assert_eq!(
        server.observer.confirmation(),
        Confirmation::Contested { other: 10 }
    );
    for g in [&mut a, &mut b, &mut c, &mut d, &mut e, &mut f, &mut g7] {
        receive(g, &out.commit);
    }
    server.upload("carol's GroupInfo confirming bob's branch", &c);
    assert_eq!(server.observer.confirmation(), Confirmation::Confirmed);
    server.assert_follows("the end", &b);
}
