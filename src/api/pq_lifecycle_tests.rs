//! A whole group lifecycle in each of the eleven PQ suites (feature `pq`),
//! through the public API: create, add by Welcome, a commit with a path,
//! application messages both ways, an external join, an external PSK, a
//! removal; and a suite-0x0001 group moved into each PQ suite by ReInit. Also the codepoint
//! mapping end to end: two clients that agree on another implementation's
//! number for a suite interoperate, and a client with the default mapping
//! does not take that number for the suite.

use std::sync::Arc;

use super::*;
use crate::crypto::rust_crypto::{PqCodepoints, PqRustCryptoProvider, PqSuite};
use crate::crypto::{CipherSuite, SeededRandom};
use crate::types::math::LeafIndex;

const NOW: u64 = 1_750_000_000;

fn client(name: &str, seed: u8, provider: &PqRustCryptoProvider, suite: CipherSuite) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .provider(Arc::new(provider.clone()))
        .cipher_suite(suite)
        .build()
        .unwrap()
}

fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn merged(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::OwnCommitMerged { .. } => {}
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

fn application(group: &mut Group, message: &[u8]) -> Vec<u8> {
    match group.process(message).unwrap() {
        Event::Application { data, .. } => data,
        other => panic!("expected application data, got {other:?}"),
    }
}

fn assert_same(groups: &[&Group]) {
    for g in &groups[1..] {
        assert_eq!(g.epoch(), groups[0].epoch());
        assert_eq!(g.epoch_authenticator(), groups[0].epoch_authenticator());
    }
}

/// The lifecycle in `suite` at `codepoint`; returns the sizes of the key
/// package, the Welcome, the path commit and an application message.
fn lifecycle(provider: &PqRustCryptoProvider, codepoint: CipherSuite, seed: u8) -> [usize; 4] {
    let mut alice = client("alice", seed, provider, codepoint);
    let mut bob = client("bob", seed + 1, provider, codepoint);
    let mut carol = client("carol", seed + 2, provider, codepoint);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    assert_eq!(a.suite_id(), codepoint);

    // Add Bob by Welcome.
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    merged(&mut a, &out.commit);
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    assert_same(&[&a, &b]);

    // Bob commits with a path: the HPKE encryption to Alice's subtree.
    let update = b.update().unwrap();
    merged(&mut b, &update.commit);
    follow(&mut a, &update.commit);
    assert_same(&[&a, &b]);

    // Application messages both ways.
    let msg = a.encrypt(b"hello bob", b"").unwrap();
    assert_eq!(application(&mut b, &msg), b"hello bob");
    let reply = b.encrypt(b"hello alice", b"ad").unwrap();
    assert_eq!(application(&mut a, &reply), b"hello alice");

    // Carol joins by external commit (HPKE export to external_pub).
    let info = a.group_info(true).unwrap();
    let (mut c, commit) = carol.join_by_external_commit(&info, None, None).unwrap();
    follow(&mut a, &commit);
    follow(&mut b, &commit);
    assert_same(&[&a, &b, &c]);
    assert_eq!(c.members().len(), 3);
    assert_eq!(c.own_leaf(), LeafIndex(2));
    let hi = c.encrypt(b"hi all", b"").unwrap();
    assert_eq!(application(&mut a, &hi), b"hi all");
    assert_eq!(application(&mut b, &hi), b"hi all");

    // An external PSK, proposed by Carol and committed by Alice, enters the
    // key schedule of every member that holds it.
    for client in [&mut alice, &mut bob, &mut carol] {
        client
            .add_external_psk(b"pq psk".to_vec(), crate::crypto::Secret::new(vec![9; 32]))
            .unwrap();
    }
    let proposal = c.propose_external_psk(b"pq psk".to_vec()).unwrap();
    for g in [&mut a, &mut b] {
        assert!(matches!(
            g.process(&proposal).unwrap(),
            Event::Proposal { .. }
        ));
    }
    let out = a.commit().unwrap();
    assert!(
        out.left_out.is_empty(),
        "the PSK is covered: {:?}",
        out.left_out
    );
    merged(&mut a, &out.commit);
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => {
            assert_eq!(staged.summary.psks.len(), 1);
            b.merge(*staged).unwrap();
        }
        other => panic!("expected the PSK commit, got {other:?}"),
    }
    follow(&mut c, &out.commit);
    assert_same(&[&a, &b, &c]);

    // Alice removes Bob with a path commit; Carol follows.
    let out = a.remove(LeafIndex(1)).unwrap();
    merged(&mut a, &out.commit);
    follow(&mut c, &out.commit);
    assert_same(&[&a, &c]);
    [kp.len(), welcome.len(), update.commit.len(), msg.len()]
}

#[test]
fn every_pq_suite_runs_a_group_lifecycle() {
    let provider = PqRustCryptoProvider::default();
    for (i, suite) in PqSuite::ALL.into_iter().enumerate() {
        let codepoint = provider.codepoints().codepoint(suite);
        let seed = 10 + 3 * u8::try_from(i).unwrap();
        let [kp, welcome, commit, message] = lifecycle(&provider, codepoint, seed);
        println!(
            "{:#06x} {}: key package {kp} B, Welcome (1 joiner) {welcome} B, \
             path commit (2 members) {commit} B, application message {message} B",
            codepoint.0,
            suite.name()
        );
    }
}

#[test]
fn a_remapped_codepoint_works_end_to_end() {
    let suite = PqSuite::Mlkem768X25519Aes128GcmSha256Ed25519;
    let theirs = CipherSuite(0xF050);
    let codepoints = PqCodepoints::default().with(suite, theirs).unwrap();
    let remapped = PqRustCryptoProvider::new(codepoints);
    lifecycle(&remapped, theirs, 90);

    // A client with the default mapping has no suite at 0xF050.
    let mut bob = client("bob", 94, &remapped, theirs);
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let default = PqRustCryptoProvider::default();
    let err = Client::builder("dave")
        .provider(Arc::new(default.clone()))
        .cipher_suite(theirs)
        .build()
        .unwrap_err();
    assert_eq!(err.category(), crate::ErrorCategory::Unsupported, "{err}");
    // And its own group at the default codepoint refuses Bob's key package.
    let mut erin = client("erin", 95, &default, suite.default_codepoint());
    let mut e = erin.create_group(GroupOptions::default()).unwrap();
    assert!(e.add(&[&kp]).is_err());
}

/// A suite-0x0001 group migrated into each PQ suite (the way to move an
/// existing group, docs/post-quantum.md): a ReInit into the PQ suite
/// closes it, the members continue with clients of that suite, linked to
/// the old group by its resumption PSK, and agree in the new suite.
#[test]
fn a_suite_1_group_moves_into_every_pq_suite_by_reinit() {
    let provider = PqRustCryptoProvider::default();
    let classic = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
    for (i, suite) in PqSuite::ALL.into_iter().enumerate() {
        let target = provider.codepoints().codepoint(suite);
        let seed = 120 + 4 * u8::try_from(i).unwrap();
        let mut alice = client("alice", seed, &provider, classic);
        let mut bob = client("bob", seed + 1, &provider, classic);
        let mut a = alice.create_group(GroupOptions::default()).unwrap();
        let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
        let out = a.add(&[&kp]).unwrap();
        merged(&mut a, &out.commit);
        let mut b = bob.join(out.welcome.as_ref().unwrap(), None).unwrap();
        let out = a.reinit_to(b"moved".to_vec(), target, vec![]).unwrap();
        merged(&mut a, &out.commit);
        follow(&mut b, &out.commit);
        assert_eq!(b.reinitialized().unwrap().cipher_suite, target);

        let mut pq_alice = client("alice", seed + 2, &provider, target);
        let mut pq_bob = client("bob", seed + 3, &provider, target);
        let kp = pq_bob.key_package(KeyPackageOptions::default()).unwrap();
        let (mut n, out) = pq_alice.create_reinit_group(&a, &[&kp]).unwrap();
        merged(&mut n, &out.commit);
        let mut nb = pq_bob
            .join_reinit(out.welcome.as_ref().unwrap(), None, &b)
            .unwrap();
        assert_eq!(n.suite_id(), target);
        assert_same(&[&n, &nb]);
        let message = nb.encrypt(b"post-quantum now", b"").unwrap();
        assert_eq!(application(&mut n, &message), b"post-quantum now");
        let update = n.update().unwrap();
        merged(&mut n, &update.commit);
        follow(&mut nb, &update.commit);
        assert_same(&[&n, &nb]);
    }
}
