//! Safe AAD (draft-ietf-mls-extensions, "Safe AAD") for the parties other
//! than full members: an observer refuses what members refuse, an external
//! sender's proposals carry the empty SafeAAD, and a partial client frames
//! what it sends and checks what it receives, each beside full members of
//! a group that uses Safe AAD.

use std::sync::Arc;

use super::app_data_tests::refused;
use super::safe_aad_tests::{
    C1, C2, aad_of, application_with_aad, forge_with_aad, pair, raw_safe_aad, safe_aad_extension,
    supporting,
};
use super::*;
use crate::ErrorCategory;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::crypto::credential::Credential;
use crate::framing::{AnnotatedCommit, Content, MlsMessage};
use crate::group::safe_aad_rules::SAFE_AAD_RULE;
use crate::messages::commit::Commit;
use crate::messages::proposals::{Proposal, Remove};
use crate::test_support::clients::NOW;
use crate::types::math::LeafIndex;

fn remove(leaf: u32) -> Content {
    Content::Proposal(Box::new(Proposal::Remove(Remove {
        removed: LeafIndex(leaf),
    })))
}

fn empty_commit() -> Content {
    Content::Commit(Box::new(Commit {
        proposals: Vec::new(),
        path: None,
    }))
}

fn is_safe_aad_refusal<T>(result: crate::Result<T>) -> bool {
    matches!(result, Err(crate::Error::Protocol { rule, .. }) if rule == SAFE_AAD_RULE)
}

#[test]
fn an_observer_refuses_what_members_refuse() {
    let [mut a, mut b] = pair(180, &[C1], &[C1], &[]);
    let mut observer = Observer::from_group_info(
        &a.group_info(true).unwrap(),
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap();
    for raw in [
        b"raw".to_vec(),
        Vec::new(),
        raw_safe_aad(&[(C1, b"x")]).into_iter().chain([9]).collect(),
    ] {
        for content in [remove(1), empty_commit()] {
            let m = forge_with_aad(&a, content, raw.clone());
            let before = observer.to_bytes().unwrap();
            let result = observer.process(&m);
            assert!(
                matches!(&result, Err(crate::Error::Protocol { rule, .. }) if *rule == SAFE_AAD_RULE),
                "{result:?}"
            );
            assert_eq!(observer.to_bytes().unwrap(), before);
            refused(&mut b, &m, SAFE_AAD_RULE, "not one valid SafeAAD");
        }
    }
    // A valid SafeAAD: the proposal is cached by both, and a real commit
    // is staged and merged by the observer as by the member.
    let m = forge_with_aad(&a, remove(1), raw_safe_aad(&[(C1, b"x")]));
    assert!(matches!(
        observer.process(&m).unwrap(),
        Observed::Proposal(_)
    ));
    assert!(matches!(b.process(&m).unwrap(), Event::Proposal { .. }));
    let out = a.update().unwrap();
    a.process(&out.commit).unwrap();
    match observer.process(&out.commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => b.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(observer.epoch(), a.epoch());
    assert_eq!(b.epoch(), a.epoch());
}

#[test]
fn an_external_senders_proposals_carry_the_empty_safe_aad() {
    let suite = crate::test_support::default_suite().unwrap();
    let mut rng = SeededRandom::from_seed([185; 32]);
    let (ds_key, ds_pub) = suite.primitives().signature_key_pair(&mut rng).unwrap();
    let ds_ext = external_senders_extension(&[(ds_pub, Credential::basic("ds"))]).unwrap();
    let mut alice = supporting("alice", 186, &[C1]);
    let mut bob = supporting("bob", 187, &[C1]);
    let mut a = alice
        .create_group(GroupOptions {
            extensions: vec![safe_aad_extension(&[C1]), ds_ext],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();

    // Not told the group uses Safe AAD: no AAD, refused by members.
    let plain = ExternalSender::new(suite.clone(), ds_key.clone(), 0);
    let p = plain
        .propose_remove(a.group_id(), a.epoch(), LeafIndex(1))
        .unwrap();
    assert_eq!(aad_of(&p), b"");
    refused(&mut b, &p, SAFE_AAD_RULE, "not one valid SafeAAD");

    // Told by the GroupContext: the empty SafeAAD, accepted and committed.
    let ds = ExternalSender::new(suite, ds_key, 0)
        .for_context(&a.state.epoch.context)
        .unwrap();
    let p = ds
        .propose_remove(a.group_id(), a.epoch(), LeafIndex(1))
        .unwrap();
    assert_eq!(aad_of(&p), [0]);
    assert!(matches!(a.process(&p).unwrap(), Event::Proposal { .. }));
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    a.process(&out.commit).unwrap();
    assert_eq!(a.members().len(), 1);
}

#[test]
fn a_partial_client_frames_what_it_sends_and_checks_what_it_receives() {
    let suite = crate::test_support::default_suite().unwrap();
    let mut rng = SeededRandom::from_seed([192; 32]);
    let (ds_key, ds_pub) = suite.primitives().signature_key_pair(&mut rng).unwrap();
    let ds_ext = external_senders_extension(&[(ds_pub, Credential::basic("ds"))]).unwrap();
    let mut alice = supporting("alice", 190, &[C1, C2]);
    let mut bob = supporting("bob", 191, &[C1, C2]);
    let mut a = alice
        .create_group(GroupOptions {
            extensions: vec![safe_aad_extension(&[C1]), ds_ext],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    let annotations = a.annotate_pending_commit().unwrap();
    a.process(&out.commit).unwrap();
    let (bob_leaf, annotated) = annotations
        .annotate_welcome(&out.welcome.unwrap(), &[])
        .unwrap()
        .pop()
        .unwrap();
    let mut b = bob.join_partial(&annotated).unwrap();

    // Sent: no AAD becomes the empty SafeAAD, items for the required
    // component go through, and raw AAD or an item for a component the
    // group does not require (a partial client cannot see who supports
    // it) is refused before anything is used up.
    let m = PartialGroup::inner_message(&b.encrypt(b"one", b"").unwrap()).unwrap();
    assert_eq!(aad_of(&m), [0]);
    assert!(matches!(a.process(&m).unwrap(), Event::Application { .. }));
    let with_item = raw_safe_aad(&[(C1, b"v")]);
    let m = PartialGroup::inner_message(&b.encrypt(b"two", &with_item).unwrap()).unwrap();
    match a.process(&m).unwrap() {
        Event::Application {
            authenticated_data, ..
        } => assert_eq!(authenticated_data, with_item),
        other => panic!("{other:?}"),
    }
    for raw in [b"raw".to_vec(), raw_safe_aad(&[(C2, b"v")])] {
        let err = b.encrypt(b"x", &raw).unwrap_err();
        assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
    }

    // Received: messages and proposals without a valid SafeAAD are
    // refused, the partial client unchanged; valid ones are read.
    let epoch = (b.epoch(), b.epoch_authenticator().to_vec());
    let m = application_with_aad(&mut a, b"raw");
    let sam = a.sender_authenticated(&m).unwrap();
    assert!(is_safe_aad_refusal(b.process_message(&sam)));
    let m = forge_with_aad(&a, remove(0), b"raw".to_vec());
    let sam = a.sender_authenticated(&m).unwrap();
    assert!(is_safe_aad_refusal(b.process(&sam)));
    let plain = ExternalSender::new(suite.clone(), ds_key.clone(), 0);
    let p = plain
        .propose_remove(a.group_id(), a.epoch(), a.own_leaf())
        .unwrap();
    assert!(is_safe_aad_refusal(b.process_external(&p)));
    assert_eq!(b.cached_proposals(), 0);
    let ds = ExternalSender::new(suite, ds_key, 0).with_safe_aad(true);
    let p = ds
        .propose_remove(a.group_id(), a.epoch(), a.own_leaf())
        .unwrap();
    assert!(matches!(
        b.process_external(&p).unwrap(),
        PartialMessage::ExternalProposal { .. }
    ));
    assert_eq!(b.cached_proposals(), 1);
    let m = a.encrypt(b"fine", b"").unwrap();
    let sam = a.sender_authenticated(&m).unwrap();
    assert_eq!(
        b.process_message(&sam).unwrap(),
        (a.own_leaf(), b"fine".to_vec())
    );

    // An AnnotatedCommit whose commit has raw AAD is refused; the real
    // one is followed.
    let out = a.update().unwrap();
    let good = a
        .annotate_pending_commit()
        .unwrap()
        .annotate(bob_leaf)
        .unwrap();
    let forged = forge_with_aad(&a, empty_commit(), b"raw".to_vec());
    a.process(&out.commit).unwrap();
    let mut bad: AnnotatedCommit = crate::decode_exact("AnnotatedCommit", &good).unwrap();
    bad.commit = crate::decode_exact::<MlsMessage>("MLSMessage", &forged).unwrap();
    assert!(is_safe_aad_refusal(
        b.process_annotated_commit(&encode(&bad).unwrap())
    ));
    assert_eq!((b.epoch(), b.epoch_authenticator().to_vec()), epoch);
    assert_eq!(
        b.process_annotated_commit(&good).unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );

    // Leaving: the proposal carries the empty SafeAAD and members take it.
    let m = PartialGroup::inner_message(&b.leave().unwrap()).unwrap();
    assert_eq!(aad_of(&m), [0]);
    assert!(matches!(a.process(&m).unwrap(), Event::Proposal { .. }));
}
