//! The annotating side of Partial MLS end to end: full members and an
//! observer (the delivery service) annotate commits, Welcomes and
//! messages with the library's own API, and partial clients follow a group
//! of full members through them to the same epoch secrets.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::test_support::clients::{NOW, client};
use crate::types::math::LeafIndex;

fn observer_of(g: &Group) -> Observer {
    let options = ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        ..ObserverOptions::default()
    };
    Observer::from_group_info(&g.group_info(true).unwrap(), None, options).unwrap()
}

fn leaf_of(g: &Group, client: &Client) -> LeafIndex {
    g.members()
        .into_iter()
        .find(|m| &m.signature_key == client.signature_key())
        .unwrap()
        .index
}

/// The observer stages `commit` and returns its annotations; the caller
/// merges the staged commit.
fn observe(server: &mut Observer, commit: &[u8]) -> (ObservedCommit, CommitAnnotations) {
    let Observed::Commit(staged) = server.process(commit).unwrap() else {
        panic!("a commit")
    };
    let annotations = server.annotate_commit(commit, &staged).unwrap();
    (*staged, annotations)
}

/// A full member other than the committer processes `commit`; returns its
/// annotations made before merging.
fn follow_annotating(g: &mut Group, commit: &[u8]) -> CommitAnnotations {
    match g.process(commit).unwrap() {
        Event::Commit { staged, .. } => {
            let annotations = g.annotate_commit(commit, &staged).unwrap();
            g.merge(*staged).unwrap();
            annotations
        }
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn follow(g: &mut Group, commit: &[u8]) {
    match g.process(commit).unwrap() {
        Event::Commit { staged, .. } => g.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn welcome_for(annotated: &[(LeafIndex, Vec<u8>)], leaf: LeafIndex) -> &[u8] {
    &annotated.iter().find(|(l, _)| *l == leaf).unwrap().1
}

fn same_secrets(a: &Group, p: &PartialGroup) {
    assert_eq!(p.epoch(), a.epoch());
    assert_eq!(p.epoch_authenticator(), a.epoch_authenticator());
    assert_eq!(
        p.export_secret("partial", b"ctx", 32).unwrap(),
        a.export_secret("partial", b"ctx", 32).unwrap()
    );
}

#[test]
fn partial_clients_follow_a_group_through_observer_and_member_annotations() {
    let (mut alice, mut bob, mut carol) =
        (client("alice", 1), client("bob", 2), client("carol", 3));
    let (mut dave, mut erin) = (client("dave", 4), client("erin", 5));
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let mut server = observer_of(&a);

    // Alice adds Bob, Carol (full) and Dave (partial); the observer
    // annotates the Welcome for Dave.
    let kps: Vec<Vec<u8>> = [&mut bob, &mut carol, &mut dave]
        .into_iter()
        .map(|c| c.key_package(KeyPackageOptions::default()).unwrap())
        .collect();
    let out = a.add(&[&kps[0], &kps[1], &kps[2]]).unwrap();
    let welcome = out.welcome.unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    let welcomes = annotations.annotate_welcome(&welcome, &[]).unwrap();
    assert_eq!(welcomes.len(), 3);
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    let mut c = carol.join(&welcome, None).unwrap();
    let dave_leaf = leaf_of(&a, &dave);
    let mut d = dave
        .join_partial(welcome_for(&welcomes, dave_leaf))
        .unwrap();
    assert_eq!(d.own_leaf(), dave_leaf);
    same_secrets(&a, &d);
    // Each joiner's Welcome holds its own entry only.
    for (_, w) in &welcomes {
        let w: crate::framing::AnnotatedWelcome =
            crate::decode_exact("AnnotatedWelcome", w).unwrap();
        assert_eq!(w.welcome.message.secrets.len(), 1);
    }

    // Bob updates (a path); Dave follows through the observer's annotation.
    let out = b.update().unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    assert_eq!(annotations.committer(), b.own_leaf());
    assert_eq!(
        annotations.recipients(),
        vec![a.own_leaf(), c.own_leaf(), dave_leaf]
    );
    server.merge(staged).unwrap();
    b.process(&out.commit).unwrap();
    follow(&mut a, &out.commit);
    follow(&mut c, &out.commit);
    d.process_annotated_commit(&annotations.annotate(dave_leaf).unwrap())
        .unwrap();
    same_secrets(&a, &d);

    // Alice removes Bob (a path); Dave follows through Alice's annotation
    // of her own pending commit.
    let bob_leaf = b.own_leaf();
    let out = a.remove(bob_leaf).unwrap();
    let annotations = a.annotate_pending_commit().unwrap();
    let (staged, _) = observe(&mut server, &out.commit);
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut c, &out.commit);
    assert_eq!(
        d.process_annotated_commit(&annotations.annotate(dave_leaf).unwrap())
            .unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );
    same_secrets(&a, &d);

    // Carol adds Erin (partial) into Bob's old leaf, without a path: Erin
    // joins from the committer's AnnotatedWelcome (Carol names the key
    // package, as for a PrivateMessage commit), Dave follows through the
    // observer.
    let kp_erin = erin.key_package(KeyPackageOptions::default()).unwrap();
    let out = c.add(&[&kp_erin]).unwrap();
    let mine = c.annotate_pending_commit().unwrap();
    let welcome = out.welcome.unwrap();
    let welcomes = mine.annotate_welcome(&welcome, &[&kp_erin]).unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    // The observer's annotation of the same Welcome is the same.
    assert_eq!(
        annotations.annotate_welcome(&welcome, &[]).unwrap(),
        welcomes
    );
    server.merge(staged).unwrap();
    c.process(&out.commit).unwrap();
    follow(&mut a, &out.commit);
    d.process_annotated_commit(&annotations.annotate(dave_leaf).unwrap())
        .unwrap();
    let erin_leaf = leaf_of(&a, &erin);
    assert_eq!(erin_leaf, bob_leaf);
    let mut e = erin
        .join_partial(welcome_for(&welcomes, erin_leaf))
        .unwrap();
    same_secrets(&a, &d);
    same_secrets(&a, &e);

    // Carol updates: Erin is an unmerged leaf of her parent (the add had no
    // path), so her ciphertext is the one to her own leaf. Dave follows
    // through Alice's annotation (made while processing), Erin through the
    // observer's.
    let out = c.update().unwrap();
    let (staged, by_server) = observe(&mut server, &out.commit);
    server.merge(staged).unwrap();
    c.process(&out.commit).unwrap();
    let by_alice = follow_annotating(&mut a, &out.commit);
    assert_eq!(
        by_alice.annotate(erin_leaf).unwrap(),
        by_server.annotate(erin_leaf).unwrap()
    );
    let for_erin: crate::framing::AnnotatedCommit =
        crate::decode_exact("AnnotatedCommit", &by_server.annotate(erin_leaf).unwrap()).unwrap();
    // Node 1 (Alice's and Erin's parent) comes first in its resolution,
    // then Erin's unmerged leaf.
    assert_eq!(for_erin.resolution_index, Some(1));
    d.process_annotated_commit(&by_alice.annotate(dave_leaf).unwrap())
        .unwrap();
    e.process_annotated_commit(&by_server.annotate(erin_leaf).unwrap())
        .unwrap();
    same_secrets(&a, &d);
    same_secrets(&a, &e);

    // Alice updates: both partial clients follow the observer.
    let out = a.update().unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut c, &out.commit);
    for p in [&mut d, &mut e] {
        let leaf = p.own_leaf();
        p.process_annotated_commit(&annotations.annotate(leaf).unwrap())
            .unwrap();
    }

    // Application messages both ways: a full member's, wrapped by itself
    // and by the observer; a partial client's, read by full members.
    let msg = a.encrypt(b"from alice", b"").unwrap();
    assert_eq!(
        d.process_message(&a.sender_authenticated(&msg).unwrap())
            .unwrap(),
        (a.own_leaf(), b"from alice".to_vec())
    );
    assert_eq!(
        e.process_message(&server.sender_authenticated(&msg, a.own_leaf()).unwrap())
            .unwrap(),
        (a.own_leaf(), b"from alice".to_vec())
    );
    let sam = d.encrypt(b"from dave", b"").unwrap();
    assert_eq!(
        e.process_message(&sam).unwrap(),
        (dave_leaf, b"from dave".to_vec())
    );
    let inner = PartialGroup::inner_message(&sam).unwrap();
    for g in [&mut a, &mut c] {
        match g.process(&inner).unwrap() {
            Event::Application { sender, data, .. } => {
                assert_eq!((sender, data.as_slice()), (dave_leaf, &b"from dave"[..]));
            }
            other => panic!("expected application data, got {other:?}"),
        }
    }
    same_secrets(&a, &d);
    same_secrets(&c, &e);
    assert_eq!(c.epoch_authenticator(), a.epoch_authenticator());
}

/// A group of Alice, Bob and Carol with its observer, and Bob's update
/// staged by the observer (not merged).
fn staged_update() -> (Group, Group, Observer, Vec<u8>, ObservedCommit) {
    let (mut alice, mut bob, mut carol) =
        (client("alice", 1), client("bob", 2), client("carol", 3));
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let mut server = observer_of(&a);
    let kp_b = bob.key_package(KeyPackageOptions::default()).unwrap();
    let kp_c = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp_b, &kp_c]).unwrap();
    let (staged, _) = observe(&mut server, &out.commit);
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    let out = b.update().unwrap();
    let Observed::Commit(staged) = server.process(&out.commit).unwrap() else {
        panic!("a commit")
    };
    (a, b, server, out.commit, *staged)
}

fn is_misuse(e: Error, what: &str) {
    assert!(matches!(e, Error::Misuse(_)), "{e:?}");
    assert!(e.to_string().contains(what), "{e} lacks {what:?}");
}

#[test]
fn hostile_requests_to_the_annotating_api_are_refused_and_change_nothing() {
    let (mut a, b, mut server, commit, staged) = staged_update();
    let annotations = server.annotate_commit(&commit, &staged).unwrap();
    let good = annotations.annotate(a.own_leaf()).unwrap();
    // The encoding is the commit's, then the per-recipient tail.
    assert_eq!(
        good,
        [
            annotations.commit_bytes(),
            &annotations.annotation_tail(a.own_leaf()).unwrap()
        ]
        .concat()
    );
    assert_eq!(annotations.commit_bytes(), commit.as_slice());
    // A recipient outside the tree, a blank leaf, the committer.
    is_misuse(
        annotations.annotate(LeafIndex(1000)).unwrap_err(),
        "not a member",
    );
    is_misuse(
        annotations.annotate(LeafIndex(3)).unwrap_err(),
        "not a member",
    );
    is_misuse(
        annotations.annotate(b.own_leaf()).unwrap_err(),
        "made this commit",
    );
    // The same requests again give the same answer: nothing changed.
    assert_eq!(annotations.annotate(a.own_leaf()).unwrap(), good);
    let epoch = server.epoch();

    // Another commit of the epoch than the one staged.
    let other = a.update().unwrap().commit;
    is_misuse(
        server.annotate_commit(&other, &staged).unwrap_err(),
        "not the one staged",
    );
    // Garbage instead of a commit.
    assert!(server.annotate_commit(b"\x00\x01", &staged).is_err());
    // A Welcome for a key package the commit does not add.
    let mut zed = client("zed", 9);
    let kp = zed.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    assert!(
        annotations
            .annotate_welcome(&out.welcome.unwrap(), &[])
            .is_err()
    );
    assert_eq!(server.epoch(), epoch);

    // Once merged, the staged commit is of a past epoch: refused. (Staged
    // again from a copy of the observer taken before the merge.)
    let mut before = Observer::from_bytes(
        &server.to_bytes().unwrap(),
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap();
    let Observed::Commit(copy) = before.process(&commit).unwrap() else {
        panic!("a commit")
    };
    server.merge(staged).unwrap();
    is_misuse(
        server.annotate_commit(&commit, &copy).unwrap_err(),
        "another epoch",
    );
    // A message of a past epoch cannot be sender-authenticated.
    let old = a.encrypt(b"old", b"").unwrap();
    is_misuse(
        server.sender_authenticated(&old, a.own_leaf()).unwrap_err(),
        "epoch",
    );
    is_misuse(
        server
            .sender_authenticated(&commit, a.own_leaf())
            .unwrap_err(),
        "epoch",
    );
    // A member with no pending commit; a commit staged in another epoch.
    a.discard_pending();
    is_misuse(
        a.annotate_pending_commit().unwrap_err(),
        "no pending commit",
    );
    let _ = a.update().unwrap();
    let Event::Commit { staged, .. } = a.process(&commit).unwrap() else {
        panic!("a commit")
    };
    a.merge_pending().unwrap();
    is_misuse(
        a.annotate_commit(&commit, &staged).unwrap_err(),
        "another epoch",
    );
    is_misuse(a.sender_authenticated(&old).unwrap_err(), "epoch");
    assert_eq!(server.epoch(), epoch + 1);
}

/// A client whose groups are stored in `storage`, so a second copy of a
/// partial group can be loaded from it.
fn stored_client(name: &str, seed: u8, storage: &crate::storage::SharedStorage) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(crate::crypto::SeededRandom::from_seed([seed; 32])))
        .storage(storage.clone())
        .build()
        .unwrap()
}

/// A second copy of the partial group `group_id` stored in `storage`.
fn copy_of(storage: &crate::storage::SharedStorage, seed: u8, group_id: &[u8]) -> PartialGroup {
    Client::restore(storage.clone())
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(crate::crypto::SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
        .load_partial_group(group_id)
        .unwrap()
}

fn decoded(annotated: &[u8]) -> crate::framing::AnnotatedCommit {
    crate::decode_exact("AnnotatedCommit", annotated).unwrap()
}

#[test]
fn partial_clients_removed_or_leaving_are_told_so_by_observer_and_committer_annotations() {
    use crate::storage::{MemoryStorage, shared};
    let (mut alice, mut carol, mut dave) =
        (client("alice", 1), client("carol", 3), client("dave", 4));
    let (bob_store, frank_store) = (shared(MemoryStorage::new()), shared(MemoryStorage::new()));
    let mut bob = stored_client("bob", 2, &bob_store);
    let mut frank = stored_client("frank", 6, &frank_store);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let group_id = a.group_id().to_vec();
    let mut server = observer_of(&a);

    // Alice adds Carol (full), Bob, Dave and Frank (partial).
    let kps: Vec<Vec<u8>> = [&mut carol, &mut bob, &mut dave, &mut frank]
        .into_iter()
        .map(|c| c.key_package(KeyPackageOptions::default()).unwrap())
        .collect();
    let out = a.add(&[&kps[0], &kps[1], &kps[2], &kps[3]]).unwrap();
    let welcome = out.welcome.unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    let welcomes = annotations.annotate_welcome(&welcome, &[]).unwrap();
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    let mut c = carol.join(&welcome, None).unwrap();
    let (bob_leaf, dave_leaf, frank_leaf) =
        (leaf_of(&a, &bob), leaf_of(&a, &dave), leaf_of(&a, &frank));
    assert_eq!(frank_leaf, LeafIndex(4), "the rightmost leaf");
    let mut b = bob.join_partial(welcome_for(&welcomes, bob_leaf)).unwrap();
    let mut d = dave
        .join_partial(welcome_for(&welcomes, dave_leaf))
        .unwrap();
    let mut f = frank
        .join_partial(welcome_for(&welcomes, frank_leaf))
        .unwrap();
    let mut b2 = copy_of(&bob_store, 12, &group_id);

    // Alice removes Bob (a commit with a path): the committer's and the
    // observer's annotations for Bob are the same, and both tell him.
    let out = a.remove(bob_leaf).unwrap();
    let by_alice = a.annotate_pending_commit().unwrap();
    let (staged, by_server) = observe(&mut server, &out.commit);
    assert!(by_server.recipients().contains(&bob_leaf));
    assert_eq!(by_alice.recipients(), by_server.recipients());
    let for_bob = by_server.annotate(bob_leaf).unwrap();
    assert_eq!(by_alice.annotate(bob_leaf).unwrap(), for_bob);
    // Our choice for a receiver the commit removes: the committer's proof
    // after the commit, and index 0 of a path nothing is encrypted to Bob
    // in.
    let ac = decoded(&for_bob);
    assert_eq!(
        ac.receiver_membership_proof_after,
        ac.sender_membership_proof_after
    );
    assert_eq!(ac.receiver_membership_proof_after.leaf_index, a.own_leaf());
    assert_eq!(ac.resolution_index, Some(0));
    // Step 2 still holds for a removed receiver: a receiver proof of
    // another tree (the committer's proof before the commit) is refused,
    // and Bob is unchanged.
    let mut bad = ac.clone();
    bad.receiver_membership_proof_after = ac.sender_membership_proof.clone().unwrap();
    assert!(
        b.process_annotated_commit(&crate::codec::encode(&bad).unwrap())
            .is_err()
    );
    assert!(b.is_active());
    assert_eq!(
        b.process_annotated_commit(&for_bob).unwrap(),
        PartialCommitEvent::Removed
    );
    assert_eq!(
        b2.process_annotated_commit(&by_alice.annotate(bob_leaf).unwrap())
            .unwrap(),
        PartialCommitEvent::Removed
    );
    assert!(b.is_removed() && b2.is_removed());
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut c, &out.commit);
    for p in [&mut d, &mut f] {
        let leaf = p.own_leaf();
        assert_eq!(
            p.process_annotated_commit(&by_alice.annotate(leaf).unwrap())
                .unwrap(),
            PartialCommitEvent::NewEpoch(a.epoch())
        );
        same_secrets(&a, p);
    }

    // Frank leaves: his proposal is read by everyone, and Carol commits it
    // by reference (a path). Frank's leaf was the rightmost: the tree after
    // is truncated, his leaf outside it.
    let sent = f.leave().unwrap();
    let mut f2 = copy_of(&frank_store, 16, &group_id);
    assert!(matches!(
        d.process(&sent).unwrap(),
        PartialMessage::Proposal { .. }
    ));
    let inner = PartialGroup::inner_message(&sent).unwrap();
    assert!(matches!(
        server.process(&inner).unwrap(),
        Observed::Proposal(_)
    ));
    for g in [&mut a, &mut c] {
        assert!(matches!(g.process(&inner).unwrap(), Event::Proposal { .. }));
    }
    let out = c.commit().unwrap();
    let by_carol = c.annotate_pending_commit().unwrap();
    let (staged, by_server) = observe(&mut server, &out.commit);
    assert_eq!(
        by_server.recipients(),
        vec![a.own_leaf(), dave_leaf, frank_leaf]
    );
    // Bob's leaf was blank before this commit: still refused.
    is_misuse(by_server.annotate(bob_leaf).unwrap_err(), "not a member");
    let for_frank = by_server.annotate(frank_leaf).unwrap();
    assert_eq!(by_carol.annotate(frank_leaf).unwrap(), for_frank);
    let ac = decoded(&for_frank);
    assert!(frank_leaf.0 >= ac.sender_membership_proof_after.n_leaves);
    assert_eq!(ac.receiver_membership_proof_after.leaf_index, c.own_leaf());
    assert_eq!(
        f.process_annotated_commit(&for_frank).unwrap(),
        PartialCommitEvent::Removed
    );
    assert_eq!(
        f2.process_annotated_commit(&by_carol.annotate(frank_leaf).unwrap())
            .unwrap(),
        PartialCommitEvent::Removed
    );
    assert!(f.is_removed() && f2.is_removed());
    server.merge(staged).unwrap();
    c.process(&out.commit).unwrap();
    follow(&mut a, &out.commit);
    assert_eq!(
        d.process_annotated_commit(&by_server.annotate(dave_leaf).unwrap())
            .unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );
    same_secrets(&a, &d);
    assert!(
        a.members()
            .iter()
            .all(|m| m.index != bob_leaf && m.index != frank_leaf)
    );

    // The rest carry on: Alice updates, Dave follows the observer, and a
    // message of Dave's reaches both full members.
    let out = a.update().unwrap();
    let (staged, annotations) = observe(&mut server, &out.commit);
    server.merge(staged).unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut c, &out.commit);
    d.process_annotated_commit(&annotations.annotate(dave_leaf).unwrap())
        .unwrap();
    same_secrets(&a, &d);
    assert_eq!(c.epoch_authenticator(), a.epoch_authenticator());
    let inner = PartialGroup::inner_message(&d.encrypt(b"still here", b"").unwrap()).unwrap();
    for g in [&mut a, &mut c] {
        match g.process(&inner).unwrap() {
            Event::Application { sender, data, .. } => {
                assert_eq!((sender, data.as_slice()), (dave_leaf, &b"still here"[..]));
            }
            other => panic!("expected application data, got {other:?}"),
        }
    }
}
