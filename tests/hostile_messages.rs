//! Hostile bytes through the public API: every truncation, every byte
//! flipped with 0x01, 0x80 and 0xff, and one trailing byte, of a valid
//! commit (as PublicMessage and as PrivateMessage), a valid proposal
//! (PublicMessage), a valid application message (PrivateMessage) and a valid
//! Welcome.
//!
//! Each mutant must be rejected with an error — never a panic — and must
//! leave the group exactly as it was: epoch, epoch authenticator, ratchet
//! tree, member list, exported secret, pending commit and proposal cache.
//! Finally the original message must still be accepted, which shows that no
//! rejected mutant burnt a message key or half-applied anything. (Each
//! original is processed once, at the end: a processed PrivateMessage
//! consumes its key.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arbor_mls::api::GroupConfig;
use arbor_mls::crypto::SeededRandom;
use arbor_mls::framing::Sender;
use arbor_mls::types::math::LeafIndex;
use arbor_mls::{Client, Event, FixedClock, Group, GroupOptions, KeyPackageOptions, Member};

const NOW: u64 = 1_750_000_000;

fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap_or_else(|e| panic!("client {name}: {e}"))
}

/// Everything about a group a rejected message must not change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    epoch: u64,
    epoch_authenticator: Vec<u8>,
    ratchet_tree: Vec<u8>,
    members: Vec<Member>,
    exported: Vec<u8>,
    pending_commit: bool,
    proposals: usize,
    active: bool,
}

fn snapshot(group: &Group) -> Snapshot {
    Snapshot {
        epoch: group.epoch(),
        epoch_authenticator: group.epoch_authenticator().to_vec(),
        ratchet_tree: group
            .ratchet_tree()
            .unwrap_or_else(|e| panic!("ratchet_tree: {e}")),
        members: group.members(),
        exported: group
            .export_secret("hostile", b"", 32)
            .unwrap_or_else(|e| panic!("export_secret: {e}"))
            .as_bytes()
            .to_vec(),
        pending_commit: group.has_pending_commit(),
        proposals: group.state().proposals().iter().count(),
        active: group.is_active(),
    }
}

/// Every truncation, the three flips at every position, and one trailing
/// byte, each with a label naming it.
fn mutants(valid: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::with_capacity(4 * valid.len() + 1);
    for len in 0..valid.len() {
        out.push((format!("truncated to {len} bytes"), valid[..len].to_vec()));
    }
    for pos in 0..valid.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut m = valid.to_vec();
            m[pos] ^= mask;
            out.push((format!("byte {pos} ^ {mask:#04x}"), m));
        }
    }
    let mut longer = valid.to_vec();
    longer.push(0);
    out.push(("one trailing byte".into(), longer));
    out
}

/// Feeds every mutant of `valid` to each group in `receivers`; each must be
/// rejected and leave its group unchanged.
fn assault(what: &str, valid: &[u8], receivers: &mut [&mut Group]) -> usize {
    let before: Vec<Snapshot> = receivers.iter().map(|g| snapshot(g)).collect();
    let mutants = mutants(valid);
    for (label, bytes) in &mutants {
        for (i, group) in receivers.iter_mut().enumerate() {
            let result = catch_unwind(AssertUnwindSafe(|| group.process(bytes)))
                .unwrap_or_else(|_| panic!("{what}, {label}: receiver {i} panicked"));
            if let Ok(event) = result {
                panic!("{what}, {label}: receiver {i} accepted it: {event:?}");
            }
            assert_eq!(
                snapshot(group),
                before[i],
                "{what}, {label}: receiver {i} changed"
            );
        }
    }
    mutants.len()
}

/// Processes a commit from someone else and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit) {
        Ok(Event::Commit { staged, .. }) => group
            .merge(*staged)
            .unwrap_or_else(|e| panic!("merge: {e}")),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn own_echo(group: &mut Group, commit: &[u8]) {
    match group.process(commit) {
        Ok(Event::OwnCommitMerged { .. }) => {}
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

struct Trio {
    alice: Group,
    bob: Group,
    carol: Group,
}

/// A three-member group: Alice (leaf 0) added Bob and Carol.
fn trio(seed: u8, settings: GroupConfig) -> Trio {
    let mut a = client("alice", seed);
    let mut b = client("bob", seed.wrapping_add(1));
    let mut c = client("carol", seed.wrapping_add(2));
    let mut alice = a
        .create_group(GroupOptions::default())
        .unwrap_or_else(|e| panic!("create_group: {e}"));
    alice.set_config(settings);
    let kps = [
        b.key_package(KeyPackageOptions::default())
            .unwrap_or_else(|e| panic!("key package: {e}")),
        c.key_package(KeyPackageOptions::default())
            .unwrap_or_else(|e| panic!("key package: {e}")),
    ];
    let out = alice
        .add(&[&kps[0], &kps[1]])
        .unwrap_or_else(|e| panic!("add: {e}"));
    own_echo(&mut alice, &out.commit);
    let welcome = out.welcome.unwrap_or_else(|| panic!("no Welcome"));
    let mut bob = b
        .join(&welcome, None)
        .unwrap_or_else(|e| panic!("bob joins: {e}"));
    let mut carol = c
        .join(&welcome, None)
        .unwrap_or_else(|e| panic!("carol joins: {e}"));
    bob.set_config(settings);
    carol.set_config(settings);
    assert_same(&[&alice, &bob, &carol]);
    Trio { alice, bob, carol }
}

fn assert_same(groups: &[&Group]) {
    let first = snapshot(groups[0]);
    for g in &groups[1..] {
        let s = snapshot(g);
        assert_eq!(s.epoch, first.epoch);
        assert_eq!(s.epoch_authenticator, first.epoch_authenticator);
        assert_eq!(s.ratchet_tree, first.ratchet_tree);
        assert_eq!(s.members, first.members);
        assert_eq!(s.exported, first.exported);
    }
}

/// A commit with a path (Bob's update) against Alice, who has no pending
/// commit, and against Bob himself, whose pending commit must survive.
fn hostile_commit(seed: u8, encrypt_handshakes: bool) {
    let settings = GroupConfig::default().with_encrypted_handshakes(encrypt_handshakes);
    let Trio {
        mut alice,
        mut bob,
        mut carol,
    } = trio(seed, settings);
    let out = bob.update().unwrap_or_else(|e| panic!("update: {e}"));
    let what = if encrypt_handshakes {
        "commit (PrivateMessage)"
    } else {
        "commit (PublicMessage)"
    };
    let n = assault(what, &out.commit, &mut [&mut alice, &mut bob]);
    assert!(n > 4 * 500, "{what}: only {n} mutants");
    assert!(bob.has_pending_commit());
    // The original still works, for everyone.
    follow(&mut alice, &out.commit);
    own_echo(&mut bob, &out.commit);
    follow(&mut carol, &out.commit);
    assert_same(&[&alice, &bob, &carol]);
    assert_eq!(alice.epoch(), 2);
}

#[test]
fn hostile_commit_public_message() {
    hostile_commit(10, false);
}

#[test]
fn hostile_commit_private_message() {
    hostile_commit(20, true);
}

#[test]
fn hostile_proposal_public_message() {
    let Trio {
        mut alice,
        mut bob,
        mut carol,
    } = trio(30, GroupConfig::default());
    // Carol proposes adding Dave; the proposal carries a whole key package.
    let mut dave = client("dave", 33);
    let kp = dave
        .key_package(KeyPackageOptions::default())
        .unwrap_or_else(|e| panic!("key package: {e}"));
    let proposal = carol
        .propose_add(&kp)
        .unwrap_or_else(|e| panic!("propose_add: {e}"));
    let n = assault("proposal", &proposal, &mut [&mut alice, &mut bob]);
    assert!(n > 4 * 300, "proposal: only {n} mutants");
    for g in [&mut alice, &mut bob] {
        match g.process(&proposal) {
            Ok(Event::Proposal { sender, .. }) => assert_eq!(sender, Sender::Member(LeafIndex(2))),
            other => panic!("proposal: {other:?}"),
        }
        assert_eq!(g.state().proposals().iter().count(), 1);
    }
    // And it is committed as usual.
    let out = alice.commit().unwrap_or_else(|e| panic!("commit: {e}"));
    own_echo(&mut alice, &out.commit);
    follow(&mut bob, &out.commit);
    follow(&mut carol, &out.commit);
    let welcome = out.welcome.unwrap_or_else(|| panic!("no Welcome"));
    let d = dave
        .join(&welcome, None)
        .unwrap_or_else(|e| panic!("dave joins: {e}"));
    assert_same(&[&alice, &bob, &carol, &d]);
    assert_eq!(d.members().len(), 4);
}

#[test]
fn hostile_application_message() {
    let Trio {
        mut alice,
        mut bob,
        mut carol,
    } = trio(40, GroupConfig::default());
    let plaintext = b"the quick brown fox jumps over the lazy dog";
    let message = alice
        .encrypt(plaintext, b"header")
        .unwrap_or_else(|e| panic!("encrypt: {e}"));
    let n = assault("application", &message, &mut [&mut bob, &mut carol]);
    assert!(n > 4 * 100, "application: only {n} mutants");
    for g in [&mut bob, &mut carol] {
        match g.process(&message) {
            Ok(Event::Application {
                sender,
                data,
                authenticated_data,
                ..
            }) => {
                assert_eq!(sender, LeafIndex(0));
                assert_eq!(data, plaintext);
                assert_eq!(authenticated_data, b"header");
            }
            other => panic!("application: {other:?}"),
        }
        // Its key is now consumed: a replay is rejected.
        assert!(g.process(&message).is_err());
    }
}

#[test]
fn hostile_welcome() {
    let Trio {
        mut alice,
        mut bob,
        mut carol,
    } = trio(50, GroupConfig::default());
    let mut dave = client("dave", 53);
    let kp = dave
        .key_package(KeyPackageOptions::default())
        .unwrap_or_else(|e| panic!("key package: {e}"));
    let out = alice.add(&[&kp]).unwrap_or_else(|e| panic!("add: {e}"));
    own_echo(&mut alice, &out.commit);
    follow(&mut bob, &out.commit);
    follow(&mut carol, &out.commit);
    let welcome = out.welcome.unwrap_or_else(|| panic!("no Welcome"));
    let mutants = mutants(&welcome);
    assert!(
        mutants.len() > 4 * 500,
        "Welcome: only {} mutants",
        mutants.len()
    );
    for (label, bytes) in &mutants {
        let result = catch_unwind(AssertUnwindSafe(|| dave.join(bytes, None)))
            .unwrap_or_else(|_| panic!("Welcome, {label}: join panicked"));
        if let Ok(group) = result {
            panic!("Welcome, {label}: joined epoch {}", group.epoch());
        }
    }
    // No mutant consumed the key package.
    let d = dave
        .join(&welcome, None)
        .unwrap_or_else(|e| panic!("dave joins: {e}"));
    assert_same(&[&alice, &bob, &carol, &d]);
    assert_eq!(d.own_leaf(), LeafIndex(3));
}

/// A Welcome without the tree, joined with every mutant of the tree the
/// committer hands out of band: the tree hash in the signed GroupInfo
/// rejects each.
#[test]
fn hostile_ratchet_tree_out_of_band() {
    let settings = GroupConfig::default().with_ratchet_tree_in_welcome(false);
    let Trio { mut alice, .. } = trio(60, GroupConfig::default());
    alice.set_config(settings);
    let mut dave = client("dave", 63);
    let kp = dave
        .key_package(KeyPackageOptions::default())
        .unwrap_or_else(|e| panic!("key package: {e}"));
    let out = alice.add(&[&kp]).unwrap_or_else(|e| panic!("add: {e}"));
    own_echo(&mut alice, &out.commit);
    let welcome = out.welcome.unwrap_or_else(|| panic!("no Welcome"));
    let tree = alice
        .ratchet_tree()
        .unwrap_or_else(|e| panic!("ratchet_tree: {e}"));
    let mutants = mutants(&tree);
    assert!(
        mutants.len() > 4 * 300,
        "tree: only {} mutants",
        mutants.len()
    );
    for (label, bytes) in &mutants {
        let result = catch_unwind(AssertUnwindSafe(|| dave.join(&welcome, Some(bytes))))
            .unwrap_or_else(|_| panic!("tree, {label}: join panicked"));
        if let Ok(group) = result {
            panic!("tree, {label}: joined epoch {}", group.epoch());
        }
    }
    let d = dave
        .join(&welcome, Some(&tree))
        .unwrap_or_else(|e| panic!("dave joins: {e}"));
    assert_same(&[&alice, &d]);
}
