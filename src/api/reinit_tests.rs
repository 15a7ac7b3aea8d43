//! ReInit into another cipher suite (§11.2): the members of a suite-0x0001
//! group continue, with clients of the new suite, in a group of each other
//! suite, linked to the old group by its resumption PSK.

use std::sync::Arc;

use super::*;
use crate::crypto::{CipherSuite, SeededRandom};

const NOW: u64 = 1_750_000_000;

fn client(name: &str, seed: u8, suite: u16) -> Client {
    Client::builder(name)
        .cipher_suite(CipherSuite(suite))
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn merge_own(group: &mut Group, commit: &[u8]) {
    assert!(matches!(
        group.process(commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
}

/// An Alice-and-Bob group of suite 0x0001, closed by a ReInit into
/// `target`: returns both closed groups.
fn closed_group(target: u16, seed: u8) -> (Group, Group) {
    let mut alice = client("alice", seed, 1);
    let mut bob = client("bob", seed + 1, 1);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merge_own(&mut a, &out.commit);
    let mut b = bob.join(out.welcome.as_ref().unwrap(), None).unwrap();
    let out = a
        .reinit_to(b"continued".to_vec(), CipherSuite(target), vec![])
        .unwrap();
    merge_own(&mut a, &out.commit);
    follow(&mut b, &out.commit);
    assert_eq!(b.reinitialized().unwrap().cipher_suite, CipherSuite(target));
    (a, b)
}

#[test]
fn reinit_into_every_other_suite() {
    for target in 2..=7u16 {
        let seed = 40 + 4 * target as u8;
        let (a, b) = closed_group(target, seed);
        // The members continue with clients of the new suite.
        let mut alice = client("alice", seed + 2, target);
        let mut bob = client("bob", seed + 3, target);
        let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
        let (mut n, out) = alice.create_reinit_group(&a, &[&kp]).unwrap();
        merge_own(&mut n, &out.commit);
        let mut nb = bob
            .join_reinit(out.welcome.as_ref().unwrap(), None, &b)
            .unwrap();
        assert_eq!(n.group_id(), b"continued");
        assert_eq!(nb.epoch(), 1);
        assert_eq!(n.epoch_authenticator(), nb.epoch_authenticator());
        assert_eq!(
            n.export_secret("reinit", b"", 32).unwrap(),
            nb.export_secret("reinit", b"", 32).unwrap()
        );
        let message = n.encrypt(b"in the new suite", b"").unwrap();
        match nb.process(&message).unwrap() {
            Event::Application { data, .. } => assert_eq!(data, b"in the new suite"),
            other => panic!("suite {target}: expected application data, got {other:?}"),
        }
        // An update commit in the new suite keeps both in sync.
        let out = nb.update().unwrap();
        merge_own(&mut nb, &out.commit);
        follow(&mut n, &out.commit);
        assert_eq!(n.epoch_authenticator(), nb.epoch_authenticator());
    }
}

#[test]
fn reinit_group_needs_a_client_of_the_new_suite() {
    let (a, _) = closed_group(4, 90);
    let mut old_suite_alice = client("alice", 92, 1);
    let mut bob = client("bob", 93, 4);
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let err = old_suite_alice.create_reinit_group(&a, &[&kp]).unwrap_err();
    assert!(matches!(err, crate::Error::Misuse(_)), "{err}");
}

#[test]
fn reinit_welcome_without_the_old_groups_psk_is_refused() {
    let (a, _) = closed_group(7, 100);
    let mut alice = client("alice", 102, 7);
    let mut mallory = client("mallory", 103, 7);
    let kp = mallory.key_package(KeyPackageOptions::default()).unwrap();
    let (_, out) = alice.create_reinit_group(&a, &[&kp]).unwrap();
    // Mallory was never in the old group: she lacks its resumption PSK.
    assert!(mallory.join(out.welcome.as_ref().unwrap(), None).is_err());
}
