//! The public API end to end, with deterministic clocks and randomness.

use super::*;
use crate::crypto::{Secret, SeededRandom};
use crate::types::math::LeafIndex;

use crate::test_support::clients::client;

fn merged(event: Event) {
    match event {
        Event::OwnCommitMerged { .. } => {}
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

/// Processes a commit from someone else and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn assert_same(groups: &[&Group]) {
    for g in &groups[1..] {
        assert_eq!(g.epoch(), groups[0].epoch());
        assert_eq!(g.epoch_authenticator(), groups[0].epoch_authenticator());
        assert_eq!(
            g.verification_code().unwrap(),
            groups[0].verification_code().unwrap()
        );
        assert_eq!(
            g.export_secret("test", b"ctx", 32).unwrap(),
            groups[0].export_secret("test", b"ctx", 32).unwrap()
        );
    }
}

#[test]
fn two_party_chat() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    assert_same(&[&a, &b]);
    assert_eq!(b.members().len(), 2);
    // The key package was used: its private keys are gone (§16.8), so the
    // same Welcome cannot be joined twice.
    let err = bob.join(&welcome, None).unwrap_err();
    assert_eq!(err.category(), crate::ErrorCategory::NotForUs, "{err}");

    let msg = a.encrypt(b"hello bob", b"aad").unwrap();
    match b.process(&msg).unwrap() {
        Event::Application {
            sender,
            epoch,
            data,
            authenticated_data,
        } => {
            assert_eq!(sender, LeafIndex(0));
            assert_eq!(epoch, a.epoch());
            assert_eq!(data, b"hello bob");
            assert_eq!(authenticated_data, b"aad");
        }
        other => panic!("{other:?}"),
    }
    let reply = b.encrypt(b"hi alice", b"").unwrap();
    assert!(matches!(
        a.process(&reply).unwrap(),
        Event::Application { .. }
    ));
    // The key package's private keys are gone: a second Welcome fails.
    assert!(
        bob.join(&a.add(&[]).map(|o| o.commit).unwrap(), None)
            .is_err()
    );
}

#[test]
fn pending_commit_never_wedges_the_group() {
    let mut alice = client("alice", 3);
    let mut bob = client("bob", 4);
    let mut carol = client("carol", 5);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = a.add(&[&kps[0], &kps[1]]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    let mut c = carol.join(&welcome, None).unwrap();

    // Bob and Carol commit concurrently; the delivery service orders Carol's
    // first. Bob's pending commit loses and is discarded when he processes
    // Carol's; nobody is stuck.
    let bob_commit = b.update().unwrap();
    let carol_commit = c.update().unwrap();
    merged(c.process(&carol_commit.commit).unwrap());
    follow(&mut a, &carol_commit.commit);
    match b.process(&carol_commit.commit).unwrap() {
        Event::Commit {
            staged,
            supersedes_own,
        } => {
            assert!(supersedes_own);
            b.merge(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert!(!b.has_pending_commit());
    // Bob's stale commit is now rejected by everyone (wrong epoch).
    assert!(a.process(&bob_commit.commit).is_err());
    assert_same(&[&a, &b, &c]);

    // A new commit replaces a pending one.
    let _first = a.update().unwrap();
    let second = a.update().unwrap();
    merged(a.process(&second.commit).unwrap());
    follow(&mut b, &second.commit);
    follow(&mut c, &second.commit);
    assert_same(&[&a, &b, &c]);
}

#[test]
fn proposals_by_reference_update_psk_and_remove() {
    let mut alice = client("alice", 6);
    let mut bob = client("bob", 7);
    let mut carol = client("carol", 8);
    for c in [&mut alice, &mut bob, &mut carol] {
        c.add_external_psk(b"team psk".to_vec(), Secret::new(vec![42; 32]))
            .expect("psk");
    }
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp_b = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp_b]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();

    // Bob proposes Carol's Add and his own Update; Alice proposes a PSK and
    // commits them all by reference.
    let kp_c = carol.key_package(KeyPackageOptions::default()).unwrap();
    let p1 = b.propose_add(&kp_c).unwrap();
    let p2 = b.propose_update().unwrap();
    let p3 = a.propose_external_psk(b"team psk".to_vec()).unwrap();
    for p in [&p1, &p2] {
        assert!(matches!(a.process(p).unwrap(), Event::Proposal { .. }));
    }
    assert!(matches!(b.process(&p3).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    merged(a.process(&out.commit).unwrap());
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => {
            assert_eq!(staged.summary.added, vec![LeafIndex(2)]);
            assert_eq!(staged.summary.updated, vec![LeafIndex(1)]);
            assert_eq!(staged.summary.psks.len(), 1);
            b.merge(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    let mut c = carol.join(&out.welcome.unwrap(), None).unwrap();
    assert_same(&[&a, &b, &c]);

    // Bob's new leaf key works: Carol commits and Bob decrypts the path.
    let out = c.update().unwrap();
    merged(c.process(&out.commit).unwrap());
    follow(&mut a, &out.commit);
    follow(&mut b, &out.commit);
    assert_same(&[&a, &b, &c]);

    // Carol removes Bob; Bob learns he is out.
    let out = c.remove(LeafIndex(1)).unwrap();
    merged(c.process(&out.commit).unwrap());
    follow(&mut a, &out.commit);
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => {
            assert!(staged.summary.self_removed);
            b.merge(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert!(!b.is_active());
    assert!(b.encrypt(b"x", b"").is_err());
    assert_same(&[&a, &c]);
    assert_eq!(a.members().len(), 2);
}

#[test]
fn encrypted_handshakes_and_group_info() {
    let mut alice = client("alice", 9);
    let mut bob = client("bob", 10);
    let mut a = alice
        .create_group(GroupOptions {
            config: GroupConfig::default()
                .with_encrypted_handshakes(true)
                .with_ratchet_tree_in_welcome(false)
                .with_padding(16),
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merged(a.process(&out.commit).unwrap());
    // Without the tree in the Welcome, Bob needs it out of band.
    assert!(bob.join(out.welcome.as_ref().unwrap(), None).is_err());
    let tree = a.ratchet_tree().unwrap();
    let mut b = bob
        .join_with(
            out.welcome.as_ref().unwrap(),
            Some(&tree),
            GroupConfig::default().with_encrypted_handshakes(true),
        )
        .unwrap();
    assert!(b.config().encrypt_handshakes);
    let out = b.update().unwrap();
    merged(b.process(&out.commit).unwrap());
    follow(&mut a, &out.commit);
    assert_same(&[&a, &b]);
    let info = a.group_info(true).unwrap();
    assert!(Group::decode_message(&info).is_ok());
}

#[test]
fn external_join_and_resync() {
    let mut alice = client("alice", 11);
    let mut bob = client("bob", 12);
    let mut carol = client("carol", 13);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();

    // Carol joins from a GroupInfo without anyone adding her.
    let info = a.group_info(true).unwrap();
    let (mut c, commit) = carol.join_by_external_commit(&info, None, None).unwrap();
    for g in [&mut a, &mut b] {
        match g.process(&commit).unwrap() {
            Event::Commit { staged, .. } => {
                assert_eq!(staged.summary.external_joiner, Some(LeafIndex(2)));
                g.merge(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
    assert_same(&[&a, &b, &c]);
    let msg = c.encrypt(b"hi all", b"").unwrap();
    assert!(matches!(
        a.process(&msg).unwrap(),
        Event::Application { .. }
    ));

    // Bob loses his state and resyncs: a new leaf, his old one removed.
    let info = c.group_info(false).unwrap();
    let tree = c.ratchet_tree().unwrap();
    let (b2, commit) = bob
        .join_by_external_commit(&info, Some(&tree), Some(LeafIndex(1)))
        .unwrap();
    follow(&mut a, &commit);
    follow(&mut c, &commit);
    assert_same(&[&a, &b2, &c]);
    assert_eq!(a.members().len(), 3);
    // A GroupInfo is good for one join: a commit built from the stale one
    // is for an epoch the group has left.
    let mut dave = client("dave", 14);
    let (_, stale) = dave
        .join_by_external_commit(&info, Some(&tree), None)
        .unwrap();
    let err = a.process(&stale).unwrap_err();
    assert_eq!(err.epoch_timing(), Some(crate::EpochTiming::Past), "{err}");
    assert_same(&[&a, &b2, &c]);
}

#[test]
fn external_sender_removes_a_member() {
    use crate::crypto::credential::Credential;
    let suite = crate::test_support::default_suite().unwrap();
    let (ds_key, ds_pub) = suite
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([20; 32]))
        .unwrap();
    let ext = external_senders_extension(&[(ds_pub, Credential::basic(b"ds".to_vec()))]).unwrap();
    let mut alice = client("alice", 21);
    let mut bob = client("bob", 22);
    let mut a = alice
        .create_group(GroupOptions {
            extensions: vec![ext],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();

    let ds = ExternalSender::new(suite, ds_key, 0);
    let proposal = ds
        .propose_remove(a.group_id(), a.epoch(), LeafIndex(1))
        .unwrap();
    for g in [&mut a, &mut b] {
        assert!(matches!(
            g.process(&proposal).unwrap(),
            Event::Proposal { .. }
        ));
    }
    let out = a.commit().unwrap();
    merged(a.process(&out.commit).unwrap());
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => {
            assert!(staged.summary.self_removed);
            b.merge(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.members().len(), 1);
    // An unlisted signer is rejected.
    let (other_key, _) = crate::test_support::default_suite()
        .unwrap()
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([23; 32]))
        .unwrap();
    let forger = ExternalSender::new(crate::test_support::default_suite().unwrap(), other_key, 0);
    let bad = forger
        .propose_remove(a.group_id(), a.epoch(), LeafIndex(0))
        .unwrap();
    assert!(a.process(&bad).is_err());
}

#[test]
fn reinit_and_branch() {
    let mut alice = client("alice", 31);
    let mut bob = client("bob", 32);
    let mut carol = client("carol", 33);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = a.add(&[&kps[0], &kps[1]]).unwrap();
    merged(a.process(&out.commit).unwrap());
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    let c = carol.join(&welcome, None).unwrap();

    // Branch: Alice and Bob only, linked to the current epoch.
    let kp_b = bob.key_package(KeyPackageOptions::default()).unwrap();
    let (mut sub, out) = alice.branch(&a, &[&kp_b], GroupOptions::default()).unwrap();
    merged(sub.process(&out.commit).unwrap());
    let sub_b = bob
        .join_branch(out.welcome.as_ref().unwrap(), None, &b)
        .unwrap();
    assert_same(&[&sub, &sub_b]);
    // Without the old group's PSK the Welcome cannot be opened.
    let mut mallory = client("mallory", 34);
    assert!(mallory.join(out.welcome.as_ref().unwrap(), None).is_err());
    let _ = c;

    // A resumption PSK of the current epoch (Bob joined after epoch 0, so
    // only this one is known to both), proposed and committed.
    let p = a.propose_resumption_psk(a.epoch()).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = b.commit().unwrap();
    merged(b.process(&out.commit).unwrap());
    follow(&mut a, &out.commit);
    assert_same(&[&a, &b]);

    // ReInit: Alice proposes it, Bob commits it; the old group closes.
    let p = a.propose_reinit(b"new group".to_vec(), vec![]).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = b.commit().unwrap();
    merged(b.process(&out.commit).unwrap());
    follow(&mut a, &out.commit);
    assert!(a.reinitialized().is_some());
    assert!(a.encrypt(b"x", b"").is_err());
    assert!(a.update().is_err());
    // Alice recreates the group; Bob joins and checks the link.
    let kp_b = bob.key_package(KeyPackageOptions::default()).unwrap();
    let (mut n, out) = alice.create_reinit_group(&a, &[&kp_b]).unwrap();
    merged(n.process(&out.commit).unwrap());
    let nb = bob
        .join_reinit(out.welcome.as_ref().unwrap(), None, &b)
        .unwrap();
    assert_eq!(nb.group_id(), b"new group");
    assert_same(&[&n, &nb]);
    // The same Welcome does not pass as a branch of the old group.
    let kp_b2 = bob.key_package(KeyPackageOptions::default()).unwrap();
    let (_, out2) = alice.create_reinit_group(&a, &[&kp_b2]).unwrap();
    let err = bob
        .join_branch(out2.welcome.as_ref().unwrap(), None, &b)
        .unwrap_err();
    assert!(matches!(err, crate::Error::Protocol { .. }), "{err}");
}
