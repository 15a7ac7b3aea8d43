//! Leaving through the API (draft-ietf-mls-extensions, SelfRemove): the
//! proposal `leave` sends, the commits that cover it, an observer that
//! follows, and the RFC 9420 Remove when a member lacks SelfRemove.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::ErrorCategory;
use crate::framing::{Content, MlsMessageBody};
use crate::messages::proposals::{Proposal, SelfRemove};
use crate::test_support::clients::{NOW, client};
use crate::tree::leaf_node::Capabilities;
use crate::types::math::LeafIndex;

/// The proposal a PublicMessage carries; `None` for a PrivateMessage.
fn public_proposal(message: &[u8]) -> Option<Proposal> {
    match Group::decode_message(message).unwrap().body {
        MlsMessageBody::PublicMessage(pm) => match pm.content.content {
            Content::Proposal(p) => Some(*p),
            other => panic!("expected a proposal, got {other:?}"),
        },
        _ => None,
    }
}

fn follow(group: &mut Group, commit: &[u8]) -> Box<crate::group::commit_stage::StagedCommit> {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => staged,
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn observer_of(group: &Group) -> Observer {
    Observer::from_group_info(
        &group.group_info(true).unwrap(),
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn leave_sends_a_self_remove_that_any_commit_covers() {
    let mut alice = client("alice", 80);
    let mut bob = client("bob", 81);
    let mut carol = client("carol", 82);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kps = [
        bob.key_package(KeyPackageOptions::default()).unwrap(),
        carol.key_package(KeyPackageOptions::default()).unwrap(),
    ];
    let out = a.add(&[&kps[0], &kps[1]]).unwrap();
    a.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();
    let mut b = bob.join(&welcome, None).unwrap();
    let mut c = carol.join(&welcome, None).unwrap();
    let mut observer = observer_of(&a);
    // Handshakes are encrypted by policy, yet the SelfRemove goes out as a
    // PublicMessage, as the draft requires.
    b.set_config(b.config().with_encrypted_handshakes(true));

    let leave = b.leave().unwrap();
    assert_eq!(
        public_proposal(&leave),
        Some(Proposal::SelfRemove(SelfRemove {}))
    );
    assert!(b.is_leaving());
    // One SelfRemove per epoch.
    assert_eq!(b.leave().unwrap_err().category(), ErrorCategory::ApiMisuse);
    for g in [&mut a, &mut c] {
        assert!(matches!(g.process(&leave).unwrap(), Event::Proposal { .. }));
    }
    assert!(matches!(
        observer.process(&leave).unwrap(),
        Observed::Proposal(_)
    ));

    // Alice only wants to refresh her keys; her commit covers the
    // SelfRemove all the same.
    let out = a.update().unwrap();
    assert!(out.left_out.is_empty());
    assert!(matches!(
        a.process(&out.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let staged = follow(&mut c, &out.commit);
    assert_eq!(staged.summary.removed, vec![LeafIndex(1)]);
    c.merge(*staged).unwrap();
    let staged = follow(&mut b, &out.commit);
    assert!(staged.summary.self_removed);
    b.merge(*staged).unwrap();
    assert!(!b.is_active());
    match observer.process(&out.commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("observer: expected a commit, got {other:?}"),
    }
    assert_eq!(a.epoch(), c.epoch());
    assert_eq!(a.epoch(), observer.epoch());
    assert_eq!(a.epoch_authenticator(), c.epoch_authenticator());
    assert_eq!(a.members().len(), 2);
    assert!(a.member(LeafIndex(1)).is_none());
}

#[test]
fn leave_falls_back_to_remove_when_a_member_lacks_self_remove() {
    let mut alice = client("alice", 84);
    let mut dave = Client::builder("dave")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(crate::crypto::SeededRandom::from_seed([85; 32])))
        .capabilities(Capabilities {
            proposals: Vec::new(),
            ..Capabilities::default()
        })
        .build()
        .unwrap();
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = dave.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut d = dave.join(&out.welcome.unwrap(), None).unwrap();

    // Dave's leaf does not list SelfRemove: RFC 9420's Remove of oneself.
    let leave = a.leave().unwrap();
    assert_eq!(
        public_proposal(&leave),
        Some(Proposal::Remove(crate::messages::proposals::Remove {
            removed: LeafIndex(0)
        }))
    );
    // A SelfRemove sent anyway is refused: the group is not
    // self-remove-capable, and Dave's state does not change.
    let (hostile, _) = a
        .propose_with_ref_as(
            Proposal::SelfRemove(SelfRemove {}),
            crate::framing::WireFormat::PUBLIC_MESSAGE,
        )
        .unwrap();
    let epoch = d.epoch();
    let err = d.process(&hostile).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { rule: "§12.2", detail } if detail.contains("does not support")),
        "{err:?}"
    );
    assert_eq!(d.epoch(), epoch);
    assert!(matches!(d.process(&leave).unwrap(), Event::Proposal { .. }));
}
