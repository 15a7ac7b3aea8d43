//! A partial client in a group of full clients, end to end through the
//! public API: the committer annotates its own commits and messages
//! (`api/group_partial.rs`); the hostile annotations are the committer's
//! with one field changed.

use super::*;
use crate::codec::encode;
use crate::framing::AnnotatedCommit;
use crate::test_support::clients::client;
use crate::tree::membership_proof::MembershipProof;
use crate::tree::ratchet_tree::RatchetTree;
use crate::types::math::LeafIndex;

fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn tree(g: &Group) -> RatchetTree {
    g.state().epoch.tree.clone()
}

fn proof(g: &Group, tree: &RatchetTree, leaf: LeafIndex) -> MembershipProof {
    MembershipProof::from_tree(tree, &g.state().suite, leaf).unwrap()
}

fn leaf_of(g: &Group, signature_key: &crate::SignaturePublicKey) -> LeafIndex {
    g.members()
        .into_iter()
        .find(|m| &m.signature_key == signature_key)
        .unwrap()
        .index
}

#[test]
fn partial_client_joins_follows_reads_and_sends() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut carol = client("carol", 3);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp_bob = bob.key_package(KeyPackageOptions::default()).unwrap();
    let kp_carol = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp_bob, &kp_carol]).unwrap();
    let welcome = out.welcome.unwrap();
    let annotations = a.annotate_pending_commit().unwrap();
    a.process(&out.commit).unwrap();
    let mut c = carol
        .join(&welcome, Some(&a.ratchet_tree().unwrap()))
        .unwrap();

    // Bob joins from an AnnotatedWelcome: two proofs, no tree.
    let bob_leaf = leaf_of(&a, bob.signature_key());
    let annotated = annotations
        .annotate_welcome(&welcome, &[])
        .unwrap()
        .into_iter()
        .find(|(leaf, _)| *leaf == bob_leaf)
        .unwrap()
        .1;
    let mut b = bob.join_partial(&annotated).unwrap();
    assert_eq!(b.own_leaf(), bob_leaf);
    assert_eq!(b.epoch(), a.epoch());
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
    assert_eq!(
        b.export_secret("x", b"y", 32).unwrap(),
        a.export_secret("x", b"y", 32).unwrap()
    );
    // §16.8: the key package was used once.
    assert!(bob.join_partial(&annotated).is_err());

    // Alice's message, with her proof.
    let msg = a.encrypt(b"hello partial bob", b"").unwrap();
    let sam = a.sender_authenticated(&msg).unwrap();
    assert_eq!(
        b.process_message(&sam).unwrap(),
        (a.own_leaf(), b"hello partial bob".to_vec())
    );

    // Alice commits with a path; Bob follows through an AnnotatedCommit.
    let before = tree(&a);
    let out = a.update().unwrap();
    let good: AnnotatedCommit = crate::decode_exact(
        "AnnotatedCommit",
        &a.annotate_pending_commit()
            .unwrap()
            .annotate(bob_leaf)
            .unwrap(),
    )
    .unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut c, &out.commit);
    // A hostile annotation first: refused, nothing changed.
    let mut bad = good.clone();
    bad.resolution_index = Some(7);
    let epoch = b.epoch();
    assert!(b.process_annotated_commit(&encode(&bad).unwrap()).is_err());
    assert_eq!(b.epoch(), epoch);
    let mut bad = good.clone();
    bad.sender_membership_proof = Some(proof(&a, &before, bob_leaf));
    assert!(b.process_annotated_commit(&encode(&bad).unwrap()).is_err());
    assert_eq!(b.epoch(), epoch);

    assert_eq!(
        b.process_annotated_commit(&encode(&good).unwrap()).unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
    assert_eq!(c.epoch_authenticator(), a.epoch_authenticator());

    // Bob sends: full members read the inner message.
    let sam = b.encrypt(b"hi from a partial client", b"").unwrap();
    let inner = PartialGroup::inner_message(&sam).unwrap();
    match c.process(&inner).unwrap() {
        Event::Application { sender, data, .. } => {
            assert_eq!(sender, bob_leaf);
            assert_eq!(data, b"hi from a partial client");
        }
        other => panic!("expected application data, got {other:?}"),
    }

    // Committing needs the tree.
    let err = b.commit().unwrap_err();
    assert!(err.to_string().contains("cannot commit"), "{err}");
}
