//! Each actionable error provoked through the public API: the variant, the
//! action it names, and that the group is unchanged and still works.

use std::sync::Arc;

use crate::crypto::SeededRandom;
use crate::{
    Action, Client, EpochTiming, Error, ErrorCategory, Event, FixedClock, Group, GroupOptions,
    KeyPackage, KeyPackageOptions, MessageKind, NotForUs,
};

const NOW: u64 = 1_750_000_000;

fn client_at(name: &str, seed: u8, now: u64) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(now)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

fn client(name: &str, seed: u8) -> Client {
    client_at(name, seed, NOW)
}

/// Alice's group with Bob in it, both in epoch 1.
fn pair(seed: u8) -> (Client, Group, Client, Group) {
    let mut alice = client("alice", seed);
    let mut bob = client("bob", seed + 1);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    (alice, a, bob, b)
}

fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Alice refreshes her keys (merging at once); Bob follows.
fn step(a: &mut Group, b: &mut Group) {
    let out = a.update().unwrap();
    a.merge_pending().unwrap();
    follow(b, &out.commit);
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

/// What a rejected message must not change.
fn fingerprint(g: &Group) -> (u64, Vec<u8>) {
    (g.epoch(), g.epoch_authenticator().to_vec())
}

fn chat_works(from: &mut Group, to: &mut Group) {
    let msg = from.encrypt(b"still fine", b"").unwrap();
    match to.process(&msg).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"still fine"),
        other => panic!("expected application data, got {other:?}"),
    }
}

#[test]
fn a_commit_from_the_past_is_dropped() {
    let (_, mut a, _, mut b) = pair(1);
    let out = a.update().unwrap();
    a.merge_pending().unwrap();
    follow(&mut b, &out.commit);
    let before = fingerprint(&b);
    let err = b.process(&out.commit).unwrap_err();
    match &err {
        Error::WrongEpoch {
            group_epoch: 2,
            message_epoch: 1,
            timing: EpochTiming::Past,
            kind: MessageKind::Commit,
            rule: "§12.4.2",
            ..
        } => {}
        other => panic!("expected a commit of epoch 1 in epoch 2, got {other:?}"),
    }
    assert_eq!(err.action(), Action::Drop);
    assert_eq!(err.category(), ErrorCategory::WrongEpoch);
    assert_eq!(err.epoch_timing(), Some(EpochTiming::Past));
    assert!(err.to_string().contains("drop it"), "{err}");
    assert_eq!(fingerprint(&b), before);
    chat_works(&mut a, &mut b);
}

#[test]
fn future_messages_are_buffered_then_processed() {
    let (_, mut a, _, mut b) = pair(3);
    // Alice commits twice and writes in the newest epoch; Bob gets it all
    // in reverse order.
    let first = a.update().unwrap();
    a.merge_pending().unwrap();
    let second = a.update().unwrap();
    a.merge_pending().unwrap();
    let text = a.encrypt(b"from epoch 3", b"").unwrap();
    let before = fingerprint(&b);

    let err = b.process(&text).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongEpoch {
                group_epoch: 1,
                message_epoch: 3,
                timing: EpochTiming::Future,
                kind: MessageKind::Application,
                rule: "§6.3",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.action(), Action::Buffer);
    let err = b.process(&second.commit).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongEpoch {
                message_epoch: 2,
                timing: EpochTiming::Future,
                kind: MessageKind::Commit,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.action(), Action::Buffer);
    assert_eq!(fingerprint(&b), before);

    // The buffered messages go through once the group gets there.
    follow(&mut b, &first.commit);
    follow(&mut b, &second.commit);
    match b.process(&text).unwrap() {
        Event::Application { data, .. } => assert_eq!(data, b"from epoch 3"),
        other => panic!("expected application data, got {other:?}"),
    }
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

#[test]
fn an_application_message_older_than_the_kept_epochs_is_dropped() {
    let (_, mut a, _, mut b) = pair(5);
    let late = a.encrypt(b"late", b"").unwrap();
    let kept = crate::group::state::GroupConfig::default().past_epochs as u64;
    for _ in 0..=kept {
        step(&mut a, &mut b);
    }
    let before = fingerprint(&b);
    let err = b.process(&late).unwrap_err();
    match &err {
        Error::WrongEpoch {
            message_epoch: 1,
            timing: EpochTiming::Past,
            keys_kept: false,
            kind: MessageKind::Application,
            ..
        } => {}
        other => panic!("expected an application message of epoch 1, got {other:?}"),
    }
    assert_eq!(err.action(), Action::Drop);
    assert!(err.to_string().contains("no keys kept"), "{err}");
    assert_eq!(fingerprint(&b), before);
    chat_works(&mut a, &mut b);
}

#[test]
fn a_message_for_another_group_is_not_for_us() {
    let (mut alice, mut a, _, mut b) = pair(7);
    let mut other = alice
        .create_group(GroupOptions {
            group_id: Some(b"another group".to_vec()),
            ..GroupOptions::default()
        })
        .unwrap();
    let msg = other.encrypt(b"wrong group", b"").unwrap();
    let before = fingerprint(&a);
    let err = a.process(&msg).unwrap_err();
    match &err {
        Error::NotForUs(NotForUs::OtherGroup { group_id }) => {
            assert_eq!(group_id, b"another group")
        }
        other => panic!("expected a message for another group, got {other:?}"),
    }
    assert_eq!(err.action(), Action::Drop);
    assert_eq!(err.category(), ErrorCategory::NotForUs);
    assert_eq!(fingerprint(&a), before);
    chat_works(&mut b, &mut a);
}

#[test]
fn a_welcome_for_someone_else_is_not_for_us() {
    let mut alice = client("alice", 9);
    let mut bob = client("bob", 10);
    let mut carol = client("carol", 11);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let bob_kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let carol_kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&bob_kp]).unwrap();
    a.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();

    let err = carol.join(&welcome, None).unwrap_err();
    match &err {
        Error::NotForUs(NotForUs::Welcome { key_package_refs }) => assert_eq!(
            key_package_refs,
            &[KeyPackage::decode(&bob_kp).unwrap().reference().unwrap()]
        ),
        other => panic!("expected a Welcome for someone else, got {other:?}"),
    }
    assert_eq!(err.action(), Action::Drop);
    // Carol's own key package is untouched: she can still be added.
    let out = a.add(&[&carol_kp]).unwrap();
    a.process(&out.commit).unwrap();
    let c = carol.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(c.epoch_authenticator(), a.epoch_authenticator());
}

#[test]
fn own_application_messages_echoed_back_are_events() {
    let (_, mut a, _, mut b) = pair(13);
    let first = a.encrypt(b"one", b"").unwrap();
    let second = a.encrypt(b"two", b"").unwrap();
    // Echoes in any order, even after others arrived, change nothing.
    for msg in [&second, &first] {
        match a.process(msg).unwrap() {
            Event::OwnMessageEcho {
                epoch: 1,
                kind: MessageKind::Application,
            } => {}
            other => panic!("expected our own echo, got {other:?}"),
        }
    }
    for (msg, text) in [(&first, b"one"), (&second, b"two")] {
        match b.process(msg).unwrap() {
            Event::Application { data, .. } => assert_eq!(data, text),
            other => panic!("expected application data, got {other:?}"),
        }
    }
    // One sent before a commit and echoed after it: still ours.
    let old = a.encrypt(b"before the commit", b"").unwrap();
    step(&mut a, &mut b);
    match a.process(&old).unwrap() {
        Event::OwnMessageEcho { epoch: 1, .. } => {}
        other => panic!("expected our own echo of epoch 1, got {other:?}"),
    }
    chat_works(&mut a, &mut b);
    chat_works(&mut b, &mut a);
}

#[test]
fn own_proposals_echoed_back_are_events() {
    for encrypted in [false, true] {
        let (_, mut a, _, mut b) = pair(15);
        a.set_config((*a.config()).with_encrypted_handshakes(encrypted));
        let proposal = a.propose_update().unwrap();
        match a.process(&proposal).unwrap() {
            Event::OwnMessageEcho {
                epoch: 1,
                kind: MessageKind::Proposal,
            } => {}
            other => panic!("encrypted {encrypted}: expected our own echo, got {other:?}"),
        }
        assert!(matches!(
            b.process(&proposal).unwrap(),
            Event::Proposal { .. }
        ));
        // Committing it works as if no echo had come.
        let out = b.commit().unwrap();
        b.merge_pending().unwrap();
        follow(&mut a, &out.commit);
        assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
    }
}

#[test]
fn another_members_message_received_twice_is_a_replay() {
    let (_, mut a, _, mut b) = pair(17);
    let msg = a.encrypt(b"once", b"").unwrap();
    b.process(&msg).unwrap();
    let err = b.process(&msg).unwrap_err();
    assert!(matches!(err, Error::Replay(_)), "{err:?}");
    assert_eq!(err.action(), Action::Drop);
    assert_eq!(err.category(), ErrorCategory::Replay);

    let proposal = a.propose_update().unwrap();
    b.process(&proposal).unwrap();
    let err = b.process(&proposal).unwrap_err();
    assert!(matches!(err, Error::Replay(_)), "{err:?}");
    assert_eq!(err.action(), Action::Drop);
    chat_works(&mut a, &mut b);
}

#[test]
fn an_expired_key_package_is_refused() {
    let mut alice = client_at("alice", 19, NOW + 3600);
    let mut bob = client("bob", 20);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob
        .key_package(KeyPackageOptions {
            lifetime: 600,
            ..KeyPackageOptions::default()
        })
        .unwrap();
    let err = a.add(&[&kp]).unwrap_err();
    match &err {
        Error::Expired {
            leaf: None,
            not_after,
            now,
            ..
        } => assert_eq!((*not_after, *now), (NOW + 600, NOW + 3600)),
        other => panic!("expected an expired key package, got {other:?}"),
    }
    assert_eq!(err.action(), Action::Drop);
    assert_eq!(err.category(), ErrorCategory::Expired);
    assert!(!a.has_pending_commit());
    assert_eq!(a.epoch(), 0);
}

#[test]
fn other_errors_name_their_action() {
    let (_, mut a, _, mut b) = pair(21);
    // Not MLS at all: report whoever sent it.
    let err = b.process(b"not an MLS message").unwrap_err();
    assert_eq!(
        (err.category(), err.action()),
        (ErrorCategory::MalformedInput, Action::Report)
    );
    // A corrupted ciphertext: report.
    let mut msg = a.encrypt(b"tampered", b"").unwrap();
    let last = msg.len() - 1;
    msg[last] ^= 1;
    let err = b.process(&msg).unwrap_err();
    assert_eq!(err.action(), Action::Report, "{err}");
    // A Welcome handed to a group: the call was wrong.
    let mut carol = client("carol", 23);
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    let err = b.process(out.welcome.as_ref().unwrap()).unwrap_err();
    assert_eq!(
        (err.category(), err.action()),
        (ErrorCategory::ApiMisuse, Action::FixCall)
    );
    // Storage failures are retried.
    let err = Error::Storage("disk full".into());
    assert_eq!(err.action(), Action::Retry);
}

/// Refuses every credential whose identity is "mallory".
struct NoMallory;

impl crate::api::CredentialValidator for NoMallory {
    fn validate(
        &self,
        _: &crate::api::ValidationContext<'_>,
        credential: &crate::crypto::credential::Credential,
        _: &crate::crypto::SignaturePublicKey,
    ) -> Result<(), crate::api::Rejection> {
        match credential {
            crate::crypto::credential::Credential::Basic { identity } if identity == b"mallory" => {
                Err(crate::api::Rejection::new("mallory is banned"))
            }
            _ => Ok(()),
        }
    }
}

#[test]
fn a_rejected_credential_is_reported() {
    let (_, mut a, _, _) = pair(25);
    let mut guarded = Client::builder("bob")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([40; 32])))
        .credential_validator(Arc::new(NoMallory))
        .build()
        .unwrap();
    let mut mallory = client("mallory", 41);
    let kp = mallory.key_package(KeyPackageOptions::default()).unwrap();
    let guarded_kp = guarded.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&guarded_kp, &kp]).unwrap();
    let err = guarded.join(&out.welcome.unwrap(), None).unwrap_err();
    match &err {
        Error::Rejected { rejection, .. } => assert_eq!(rejection.reason, "mallory is banned"),
        other => panic!("expected a rejected credential, got {other:?}"),
    }
    assert_eq!(
        (err.category(), err.action()),
        (ErrorCategory::Rejected, Action::Report)
    );
}

#[test]
fn an_own_commit_that_is_not_pending_is_refused() {
    for encrypted in [false, true] {
        let (_, mut a, _, mut b) = pair(29);
        a.set_config((*a.config()).with_encrypted_handshakes(encrypted));
        let replaced = a.update().unwrap();
        let pending = a.update().unwrap();
        let before = fingerprint(&a);
        let err = a.process(&replaced.commit).unwrap_err();
        assert!(
            matches!(err, Error::Misuse(_)),
            "encrypted {encrypted}: {err:?}"
        );
        assert_eq!(err.action(), Action::FixCall);
        assert!(err.to_string().contains("resync"), "{err}");
        assert_eq!(fingerprint(&a), before);
        assert!(a.has_pending_commit());
        assert!(matches!(
            a.process(&pending.commit).unwrap(),
            Event::OwnCommitMerged { epoch: 2 }
        ));
        follow(&mut b, &pending.commit);
        chat_works(&mut a, &mut b);
    }
}
