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

#[test]
fn the_observer_picks_the_self_removes_to_attach_for_an_external_joiner() {
    // "If the DS provides a GroupInfo object to an external joiner, the DS
    // SHOULD attach any SelfRemove proposals known to the DS."
    let mut alice = client("alice", 86);
    let mut bob = client("bob", 87);
    let mut dave = client("dave", 88);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    let mut observer = observer_of(&a);

    let leave = b.leave().unwrap();
    let other = a.propose_remove(LeafIndex(1)).unwrap();
    let never_processed = {
        // A proposal of another group, which the observer never cached.
        let mut c = client("carol", 89);
        let mut g = c.create_group(GroupOptions::default()).unwrap();
        g.propose_update().unwrap()
    };
    for m in [&leave, &other] {
        assert!(matches!(
            observer.process(m).unwrap(),
            Observed::Proposal(_)
        ));
        a.process(m).unwrap_or_else(|e| panic!("{e:?}"));
    }
    let attached = observer.self_removes_to_attach(&[&other, &leave, &never_processed, b"junk"]);
    assert_eq!(attached, vec![leave.as_slice()]);

    // Dave joins with the GroupInfo and what the observer attached: his
    // external commit covers Bob's SelfRemove by reference.
    let info = a.group_info(true).unwrap();
    let (mut d, commit) = dave
        .join_by_external_commit_with(
            &info,
            ExternalJoinOptions::default().self_remove(attached[0].to_vec()),
        )
        .unwrap();
    let staged = follow(&mut a, &commit);
    assert_eq!(staged.summary.removed, vec![LeafIndex(1)]);
    a.merge(*staged).unwrap();
    match observer.process(&commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    d.process(&commit).unwrap();
    assert_eq!(a.epoch_authenticator(), d.epoch_authenticator());
    // Bob's leaf was blanked and Dave took it, the leftmost blank leaf.
    assert_eq!(a.members().len(), 2);
    assert_eq!(
        a.member(LeafIndex(1)).unwrap().credential,
        crate::Credential::basic(b"dave".to_vec())
    );
    // A new epoch: nothing left to attach.
    assert!(observer.self_removes_to_attach(&[&leave]).is_empty());
}
