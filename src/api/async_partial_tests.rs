//! [`AsyncPartialGroup`] end to end over the slow asynchronous store of
//! `async_client_tests`: a partial client joins, reads, sends and follows
//! commits with each change durable before its output, restarts from the
//! store alone, upgrades, downgrades and leaves; a refused annotation, a
//! failed write and a stalled write release nothing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::async_client_tests::{SlowMemory, open, reopen, uncertain};
use super::*;
use crate::codec::encode;
use crate::storage::Storage;
use crate::test_support::partial::{
    annotated_commit, annotated_welcome, follow, from_member, leaf_of, tree,
};
use crate::types::math::LeafIndex;

fn partial_records(store: &SlowMemory) -> usize {
    store.records.lock().unwrap().scan(b"p/").unwrap().len()
}

fn writes(store: &SlowMemory) -> usize {
    store.writes.load(Ordering::SeqCst)
}

fn everything(store: &SlowMemory) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.records.lock().unwrap().scan(b"").unwrap()
}

/// Alice (full, synchronous) adds Bob (an async client on `store`), who
/// joins as a partial client.
async fn setup(store: &Arc<SlowMemory>) -> (Group, AsyncClient, AsyncPartialGroup, LeafIndex) {
    let mut alice = Client::builder("alice").build().unwrap();
    let mut bob = open(store, "bob").await;
    let kp = bob.key_package(KeyPackageOptions::default()).await.unwrap();
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let leaf = leaf_of(&a, bob.client().signature_key());
    let annotated = annotated_welcome(&a, &out.welcome.unwrap(), leaf);
    let before = writes(store);
    assert_eq!(partial_records(store), 0);
    let b = bob.join_partial(&annotated).await.unwrap();
    // The record (and the key package's deletion, same batch) were in the
    // store before the group came out.
    assert_eq!(writes(store), before + 1);
    assert_eq!(partial_records(store), 1);
    assert_eq!(b.group().epoch_authenticator(), a.epoch_authenticator());
    (a, bob, b, leaf)
}

/// Alice commits an update; the AnnotatedCommit for `leaf`.
fn alice_updates(a: &mut Group, leaf: LeafIndex) -> Vec<u8> {
    let before = tree(a);
    let out = a.update().unwrap();
    a.process(&out.commit).unwrap();
    encode(&annotated_commit(a, &before, &out.commit, leaf)).unwrap()
}

fn sealed(a: &mut Group, data: &[u8]) -> Vec<u8> {
    let message = a.encrypt(data, b"").unwrap();
    from_member(a, &message)
}

#[tokio::test]
async fn a_partial_client_on_an_async_store_follows_restarts_upgrades_downgrades_and_leaves() {
    let store = Arc::new(SlowMemory::default());
    let (mut a, bob, mut b, bob_leaf) = setup(&store).await;
    let group_id = a.group_id().to_vec();

    // Reading a message: the key's deletion is durable first.
    let msg = sealed(&mut a, b"hi bob");
    let w = writes(&store);
    assert_eq!(b.process_message(&msg).await.unwrap().1, b"hi bob");
    assert_eq!(writes(&store), w + 1);
    // Sending: the ratchet step is durable first.
    let sent = b.encrypt(b"hi alice", b"").await.unwrap();
    assert_eq!(writes(&store), w + 2);
    match a
        .process(&PartialGroup::inner_message(&sent).unwrap())
        .unwrap()
    {
        Event::Application { data, .. } => assert_eq!(data, b"hi alice"),
        other => panic!("{other:?}"),
    }
    // A commit.
    let annotated = alice_updates(&mut a, bob_leaf);
    assert_eq!(
        b.process_annotated_commit(&annotated).await.unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );
    assert_eq!(writes(&store), w + 3);
    assert_eq!(b.group().epoch_authenticator(), a.epoch_authenticator());
    let msg = sealed(&mut a, b"before the restart");
    b.process_message(&msg).await.unwrap();

    // Restart from the store alone.
    drop((b, bob));
    let mut bob = reopen(&store).await;
    let mut b = bob.load_partial_group(&group_id).await.unwrap();
    assert_eq!(b.group().epoch(), a.epoch());
    assert_eq!(b.group().epoch_authenticator(), a.epoch_authenticator());
    assert!(
        b.process_message(&msg).await.is_err(),
        "its key was deleted"
    );
    let annotated = alice_updates(&mut a, bob_leaf);
    b.process_annotated_commit(&annotated).await.unwrap();
    assert_eq!(b.group().epoch_authenticator(), a.epoch_authenticator());

    // Upgrade: the full group's records replace the partial one.
    let mut g = bob
        .upgrade_partial(&mut b, &a.ratchet_tree().unwrap())
        .await
        .unwrap();
    assert!(!b.group().is_active());
    assert_eq!(partial_records(&store), 0);
    assert_eq!(bob.groups().unwrap(), vec![group_id.clone()]);
    let commit = g.update().await.unwrap().commit;
    g.merge_pending().await.unwrap();
    follow(&mut a, &commit);
    assert_eq!(g.group().epoch_authenticator(), a.epoch_authenticator());

    // Restarted, it is a full group; downgraded, a partial one again.
    drop((g, b, bob));
    let mut bob = reopen(&store).await;
    let g = bob.load_group(&group_id).await.unwrap();
    let mut p = bob.downgrade(g).await.unwrap();
    assert_eq!(partial_records(&store), 1);
    assert!(bob.groups().unwrap().is_empty());
    let annotated = alice_updates(&mut a, bob_leaf);
    p.process_annotated_commit(&annotated).await.unwrap();
    assert_eq!(p.group().epoch_authenticator(), a.epoch_authenticator());

    // Leaving: the proposal is cached and stored before it comes out;
    // Alice commits it and Bob's record is deleted with his removal.
    let w = writes(&store);
    let leave = p.leave().await.unwrap();
    assert_eq!(writes(&store), w + 1);
    a.process(&PartialGroup::inner_message(&leave).unwrap())
        .unwrap();
    let before = tree(&a);
    let out = a.commit().unwrap();
    a.process(&out.commit).unwrap();
    let annotated = encode(&annotated_commit(&a, &before, &out.commit, bob_leaf)).unwrap();
    assert_eq!(
        p.process_annotated_commit(&annotated).await.unwrap(),
        PartialCommitEvent::Removed
    );
    assert_eq!(partial_records(&store), 0);
    drop((p, bob));
    let mut bob = reopen(&store).await;
    assert!(bob.load_partial_group(&group_id).await.is_err());
}

/// A hostile annotation is refused without a write; a failed write
/// releases nothing and poisons the client until it is reopened from the
/// store, which then holds the state before the operation.
#[tokio::test]
async fn refused_input_writes_nothing_and_a_failed_write_releases_nothing() {
    let store = Arc::new(SlowMemory::default());
    let (mut a, bob, mut b, bob_leaf) = setup(&store).await;
    let group_id = a.group_id().to_vec();
    let annotated = alice_updates(&mut a, bob_leaf);

    let mut bad: crate::framing::AnnotatedCommit =
        crate::decode_exact("AnnotatedCommit", &annotated).unwrap();
    bad.resolution_index = Some(7);
    let stored = everything(&store);
    let w = writes(&store);
    assert!(
        b.process_annotated_commit(&encode(&bad).unwrap())
            .await
            .is_err()
    );
    assert_eq!(writes(&store), w);
    assert_eq!(everything(&store), stored);

    store.fail.store(true, Ordering::SeqCst);
    uncertain(b.process_annotated_commit(&annotated).await);
    assert!(!store.fail.load(Ordering::SeqCst), "the store was asked");
    // Refused without asking the store.
    uncertain(b.encrypt(b"refused", b"").await);
    assert_eq!(everything(&store), stored);

    drop((b, bob));
    let mut bob = reopen(&store).await;
    let mut b = bob.load_partial_group(&group_id).await.unwrap();
    assert_eq!(b.group().epoch() + 1, a.epoch(), "the old epoch was stored");
    b.process_annotated_commit(&annotated).await.unwrap();
    assert_eq!(b.group().epoch_authenticator(), a.epoch_authenticator());
}

/// A read whose write stalls does not release its plaintext; dropped, its
/// batch is written by the next operation; a restart before that finds the
/// message unread.
#[tokio::test]
async fn a_stalled_read_releases_nothing() {
    let store = Arc::new(SlowMemory::default());
    let (mut a, bob, mut b, _) = setup(&store).await;
    let group_id = a.group_id().to_vec();
    let msg = sealed(&mut a, b"held back");
    let w = writes(&store);
    store.stall.store(true, Ordering::SeqCst);
    let read = tokio::time::timeout(Duration::from_millis(30), b.process_message(&msg)).await;
    assert!(read.is_err(), "no plaintext before the write");
    store.stall.store(false, Ordering::SeqCst);
    assert_eq!(writes(&store), w);

    // Restarted now, the store has the message unread.
    let mut again = reopen(&store).await;
    let mut b2 = again.load_partial_group(&group_id).await.unwrap();
    assert_eq!(b2.process_message(&msg).await.unwrap().1, b"held back");
    drop((b2, again));

    // Kept running, the dropped read's batch is written first.
    bob.flush().await.unwrap();
    assert_eq!(writes(&store), w + 2);
    assert!(b.process_message(&msg).await.is_err(), "already read");
}
