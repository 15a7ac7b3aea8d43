//! The situations in which the only way forward is to rejoin, each with its
//! signal and the one call that acts on it (`Client::resync`); see
//! `docs/errors.md`. Storage that must be reopened is in
//! persistence_failures.rs, a rolled-back store in rollback.rs.

use arbor_mls::{
    Action, Client, EpochTiming, Error, Event, ExternalJoinOptions, Group, GroupOptions,
    KeyPackageOptions, LeafIndex,
};

/// Alice, Bob and Carol in one group (in memory): their clients and groups.
fn three() -> (Vec<Client>, Vec<Group>) {
    let mut clients: Vec<Client> = ["alice", "bob", "carol"]
        .iter()
        .map(|name| Client::builder(*name).build().expect("client"))
        .collect();
    let mut alice = clients[0]
        .create_group(GroupOptions::default())
        .expect("create");
    let kps: Vec<Vec<u8>> = clients[1..]
        .iter_mut()
        .map(|c| c.key_package(KeyPackageOptions::default()).expect("kp"))
        .collect();
    let out = alice
        .add(&kps.iter().map(Vec::as_slice).collect::<Vec<_>>())
        .expect("add");
    alice.merge_pending().expect("merge");
    let welcome = out.welcome.expect("welcome");
    let bob = clients[1].join(&welcome, None).expect("bob joins");
    let carol = clients[2].join(&welcome, None).expect("carol joins");
    (clients, vec![alice, bob, carol])
}

/// Processes `commit` and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).expect("process") {
        Event::Commit { staged, .. } => group.merge(*staged).expect("merge"),
        Event::OwnCommitMerged { .. } => {}
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Bob missed the commit into epoch 2 and the delivery service no longer
/// has it: every later message is from the future (`Buffer`), forever.
/// Nothing Bob holds can tell that apart from a commit still on its way,
/// and a future epoch is not authenticated (anyone can write one), so the
/// library never gives up on its own: the delivery service's answer that
/// the commit is gone is the signal, and `resync` rejoins, removing Bob's
/// old leaf. Carol and Alice keep their leaves; everyone agrees after.
#[test]
fn a_member_that_missed_a_commit_the_service_no_longer_has_resyncs() {
    let (mut clients, mut groups) = three();
    let lost = groups[0].update().expect("commit into epoch 2");
    groups[0].merge_pending().expect("merge");
    follow(&mut groups[2], &lost.commit);
    let next = groups[2].update().expect("commit into epoch 3");
    groups[2].merge_pending().expect("merge");
    follow(&mut groups[0], &next.commit);
    let text = groups[0].encrypt(b"in epoch 3", b"").expect("encrypt");

    // Bob only gets what came after the lost commit.
    let bob = &mut groups[1];
    assert_eq!(bob.epoch(), 1);
    for message in [&next.commit, &text] {
        let err = bob.process(message).expect_err("from the future");
        assert_eq!(err.epoch_timing(), Some(EpochTiming::Future), "{err}");
        assert_eq!(err.action(), Action::Buffer);
    }
    assert_eq!(bob.epoch(), 1, "buffering changed nothing");

    // The delivery service says the commit for epoch 1 is gone: resync.
    let old_leaf = bob.own_leaf();
    let info = groups[0].group_info(true).expect("current GroupInfo");
    let (mut bob, commit) = clients[1]
        .resync(&info, ExternalJoinOptions::default())
        .expect("resync");
    let Event::Commit { staged, .. } = groups[0].process(&commit).expect("alice") else {
        panic!("expected Bob's resync")
    };
    assert_eq!(
        staged.summary.removed,
        vec![old_leaf],
        "only Bob's old leaf"
    );
    assert!(staged.summary.external_joiner.is_some());
    groups[0].merge(*staged).expect("merge");
    follow(&mut groups[2], &commit);
    assert!(matches!(
        bob.process(&commit).expect("echo"),
        Event::OwnCommitMerged { .. }
    ));
    for other in [&groups[0], &groups[2]] {
        assert_eq!(other.epoch_authenticator(), bob.epoch_authenticator());
        assert_eq!(other.members().len(), 3);
    }
    let hello = groups[2].encrypt(b"welcome back", b"").expect("encrypt");
    let Event::Application { data, .. } = bob.process(&hello).expect("read") else {
        panic!("expected application data")
    };
    assert_eq!(data, b"welcome back");
}

/// Bob missed the commit that removed him. His key is nowhere in the
/// current tree, so `resync` removes no one: it only joins, and the others
/// see a new member, not a resync (their validator and the delivery
/// service decide whether to let him back).
#[test]
fn a_member_that_missed_its_removal_only_joins_when_it_resyncs() {
    let (mut clients, mut groups) = three();
    let removal = groups[0].remove(LeafIndex(1)).expect("remove bob");
    groups[0].merge_pending().expect("merge");
    follow(&mut groups[2], &removal.commit);
    let info = groups[0].group_info(true).expect("GroupInfo");
    let (bob, commit) = clients[1]
        .resync(&info, ExternalJoinOptions::default())
        .expect("resync");
    let Event::Commit { staged, .. } = groups[2].process(&commit).expect("carol") else {
        panic!("expected Bob's external commit")
    };
    assert!(staged.summary.removed.is_empty(), "nobody else is removed");
    assert_eq!(staged.summary.joined(), vec![bob.own_leaf()]);
    groups[2].merge(*staged).expect("merge");
    assert_eq!(groups[2].members().len(), 3);
    assert_eq!(groups[2].epoch_authenticator(), bob.epoch_authenticator());
}

/// Anything but a GroupInfo is refused before anything is built or stored.
#[test]
fn resync_needs_a_group_info() {
    let (mut clients, mut groups) = three();
    let err = clients[1]
        .resync(b"not a GroupInfo", ExternalJoinOptions::default())
        .expect_err("garbage");
    assert!(matches!(err, Error::Malformed { .. }), "{err:?}");
    let private = groups[0].encrypt(b"x", b"").expect("a PrivateMessage");
    let err = clients[1]
        .resync(&private, ExternalJoinOptions::default())
        .expect_err("not a GroupInfo");
    assert_eq!(err.action(), Action::FixCall, "{err}");
}

/// Alice committed twice (the second replaced the first as pending), and
/// the delivery service accepted the first: the group went on with a
/// commit whose secrets Alice dropped. Processing it names the case, and
/// `resync` (her key is still in the tree) brings her back.
#[test]
fn a_member_whose_older_commit_was_accepted_resyncs() {
    let (mut clients, mut groups) = three();
    let first = groups[0].update().expect("first commit");
    let _second = groups[0].update().expect("second commit, now pending");
    follow(&mut groups[1], &first.commit);
    follow(&mut groups[2], &first.commit);
    let err = groups[0]
        .process(&first.commit)
        .expect_err("not the pending one");
    assert!(matches!(err, Error::Misuse(_)), "{err:?}");
    assert!(err.to_string().contains("older commit of ours"), "{err}");
    assert!(err.to_string().contains("resync"), "{err}");

    let info = groups[1].group_info(true).expect("GroupInfo");
    let (alice, commit) = clients[0]
        .resync(&info, ExternalJoinOptions::default())
        .expect("resync");
    let Event::Commit { staged, .. } = groups[1].process(&commit).expect("bob") else {
        panic!("expected Alice's resync")
    };
    assert_eq!(staged.summary.removed, vec![LeafIndex(0)]);
    groups[1].merge(*staged).expect("merge");
    assert_eq!(groups[1].epoch_authenticator(), alice.epoch_authenticator());
}
