//! Hostile bytes through the observer's public API: every truncation,
//! every byte flipped with 0x01, 0x80 and 0xff, and one trailing byte, of a
//! valid commit, a valid GroupInfo and a stored observer state.
//!
//! Nothing may panic. A mutant commit or GroupInfo the observer rejects
//! leaves it exactly as it was (its stored form is compared). The only
//! mutants of a commit an observer can accept are changes to the two tags
//! it cannot check (confirmation tag and membership tag, docs/observer.md);
//! the test counts them. Finally the original commit is still accepted.

#![allow(clippy::unwrap_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arbor_mls::crypto::SeededRandom;
use arbor_mls::{
    Client, FixedClock, GroupOptions, KeyPackageOptions, Observed, Observer, ObserverOptions,
};

const NOW: u64 = 1_750_000_000;

fn client(name: &str, seed: u8) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap_or_else(|e| panic!("client {name}: {e}"))
}

fn options() -> ObserverOptions {
    ObserverOptions {
        clock: Arc::new(FixedClock(NOW)),
        ..ObserverOptions::default()
    }
}

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

#[test]
fn hostile_input_to_an_observer() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut carol = client("carol", 3);
    let mut group = alice.create_group(GroupOptions::default()).unwrap();
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = group.add(&[&kps[0], &kps[1]]).unwrap();
    group.process(&out.commit).unwrap();
    let info = group.group_info(true).unwrap();
    let mut observer = Observer::from_group_info(&info, None, options()).unwrap();
    let before = observer.to_bytes().unwrap();

    // GroupInfo mutants: all refused, to start from and as uploads (the
    // signature covers every other field).
    for (label, bytes) in mutants(&info) {
        let started = catch_unwind(AssertUnwindSafe(|| {
            Observer::from_group_info(&bytes, None, options())
        }))
        .unwrap_or_else(|_| panic!("GroupInfo, {label}: from_group_info panicked"));
        assert!(started.is_err(), "GroupInfo, {label}: observed from it");
        let mut o = Observer::from_bytes(&before, options()).unwrap();
        let uploaded = catch_unwind(AssertUnwindSafe(|| o.accept_group_info(&bytes)))
            .unwrap_or_else(|_| panic!("GroupInfo, {label}: accept_group_info panicked"));
        assert!(uploaded.is_err(), "GroupInfo, {label}: accepted");
        assert_eq!(o.to_bytes().unwrap(), before, "GroupInfo, {label}: changed");
    }

    // Stored-state mutants: refused or loaded (a flipped tag byte is not
    // detectable), never a panic.
    for (label, bytes) in mutants(&before) {
        let _loaded = catch_unwind(AssertUnwindSafe(|| Observer::from_bytes(&bytes, options())))
            .unwrap_or_else(|_| panic!("stored state, {label}: from_bytes panicked"));
    }

    // Commit mutants.
    let commit = group.update().unwrap().commit;
    let mut accepted = 0;
    for (label, bytes) in mutants(&commit) {
        let result = catch_unwind(AssertUnwindSafe(|| observer.process(&bytes)))
            .unwrap_or_else(|_| panic!("commit, {label}: the observer panicked"));
        match result {
            Ok(Observed::Commit(_)) => accepted += 1,
            Ok(other) => panic!("commit, {label}: {other:?}"),
            Err(_) => {}
        }
        assert_eq!(
            observer.to_bytes().unwrap(),
            before,
            "commit, {label}: changed"
        );
    }
    // Three flips at each byte of the two 32-byte tags (suite 1).
    assert_eq!(accepted, 3 * 2 * 32, "accepted mutants");
    match observer.process(&commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("the original commit: {other:?}"),
    }
    group.process(&commit).unwrap();
    assert_eq!(observer.epoch(), group.epoch());
    assert_eq!(observer.context(), group.state().context());
}

/// `commit` (an external commit) with one bit of its confirmation tag
/// flipped. The signature does not cover the tag; only members, who hold
/// the next epoch's confirmation key, can tell.
fn flip_confirmation_tag(commit: &[u8]) -> Vec<u8> {
    use arbor_mls::framing::{MlsMessage, MlsMessageBody};
    let mut message: MlsMessage = arbor_mls::decode_exact("MLSMessage", commit).unwrap();
    let MlsMessageBody::PublicMessage(public) = &mut message.body else {
        panic!("not a PublicMessage")
    };
    public.auth.confirmation_tag.as_mut().unwrap()[0] ^= 1;
    arbor_mls::codec::encode(&message).unwrap()
}

/// What a delivery service does with a commit: order it (one per epoch),
/// then validate and apply it.
fn serve_commit(observer: &mut Observer, commit: &[u8]) -> Result<(), String> {
    let route = arbor_mls::Route::of(commit).unwrap();
    match observer.commit_order(route.epoch) {
        arbor_mls::CommitOrder::Next => {}
        other => {
            return Err(format!(
                "commit for epoch {} refused: {other:?}",
                route.epoch
            ));
        }
    }
    match observer.process(commit).map_err(|e| e.to_string())? {
        Observed::Commit(staged) => observer.merge(*staged).map_err(|e| e.to_string()),
        other => Err(format!("not a commit: {other:?}")),
    }
}

fn merge_commit(group: &mut arbor_mls::Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        arbor_mls::Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// An outsider takes the GroupInfo the server serves, makes an external
/// commit, flips a bit of its confirmation tag and sends it. The server
/// cannot tell and applies it; every member rejects it. The members'
/// honest commit for that epoch must still get through, and the server
/// must end where the members are.
#[test]
fn an_outsider_cannot_wedge_the_server_with_a_bad_confirmation_tag() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut mallory = client("mallory", 4);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let mut observer =
        Observer::from_group_info(&a.group_info(true).unwrap(), None, options()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    serve_commit(&mut observer, &out.commit).unwrap();
    a.merge_pending().unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    observer
        .accept_group_info(&a.group_info(false).unwrap())
        .unwrap();

    // Mallory's tampered external commit: the server takes it, the
    // members do not.
    let (_, commit) = mallory
        .join_by_external_commit(
            observer.group_info().unwrap(),
            Some(&observer.ratchet_tree().unwrap()),
            None,
        )
        .unwrap();
    let tampered = flip_confirmation_tag(&commit);
    serve_commit(&mut observer, &tampered).unwrap();
    assert_eq!(observer.epoch(), 2);
    for g in [&mut a, &mut b] {
        assert!(g.process(&tampered).is_err());
        assert_eq!(g.epoch(), 1);
    }

    // Alice's commit for epoch 1 gets through and the server follows it.
    let out = a.update().unwrap();
    serve_commit(&mut observer, &out.commit).unwrap();
    a.merge_pending().unwrap();
    merge_commit(&mut b, &out.commit);
    assert_eq!(observer.epoch(), a.epoch());
    assert_eq!(observer.context(), a.state().context());
    assert_eq!(observer.context(), b.state().context());

    // A member's GroupInfo settles it, and the group goes on.
    observer
        .accept_group_info(&b.group_info(false).unwrap())
        .unwrap();
    assert_eq!(observer.confirmation(), arbor_mls::Confirmation::Confirmed);
    let out = b.update().unwrap();
    serve_commit(&mut observer, &out.commit).unwrap();
    b.merge_pending().unwrap();
    merge_commit(&mut a, &out.commit);
    assert_eq!(observer.context(), a.state().context());
}
