//! Safe AAD (draft-ietf-mls-extensions, "Safe AAD" and the `safe_aad`
//! component) through the API: in a group whose GroupContext has the
//! `safe_aad` component, every message this library sends carries a
//! `SafeAAD`, raw or invalid AAD is not sent, received messages without a
//! valid `SafeAAD` are refused with the group unchanged (both directions),
//! and the required components hold for every member at admission and in
//! GroupContextExtensions.

use std::sync::Arc;

pub(super) use super::app_data_tests::forge_with_aad;
use super::app_data_tests::{refused, snapshot};
use super::*;
use crate::ErrorCategory;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::crypto::component::{ComponentId, component_ids};
use crate::framing::{Content, MlsMessage, MlsMessageBody};
use crate::group::safe_aad_rules::{SAFE_AAD_NEGOTIATION_RULE, SAFE_AAD_RULE};
use crate::messages::commit::Commit;
use crate::messages::proposals::{Add, GroupContextExtensions, Proposal, ProposalOrRef, Remove};
use crate::test_support::clients::NOW;
use crate::tree::leaf_node::Capabilities;
use crate::types::app_data::{AppDataDictionary, ComponentData, ComponentsList, SafeAadItem};
use crate::types::extensions::{Extension, ExtensionType};
use crate::types::math::LeafIndex;

pub(super) const C1: ComponentId = 0x8001;
pub(super) const C2: ComponentId = 0x8002;
const C3: ComponentId = 0x8003;

/// An `app_data_dictionary` extension whose `safe_aad` lists `ids`.
pub(super) fn safe_aad_extension(ids: &[ComponentId]) -> Extension {
    AppDataDictionary::new(vec![ComponentData {
        component_id: component_ids::SAFE_AAD,
        data: encode(&ComponentsList {
            component_ids: ids.to_vec(),
        })
        .unwrap(),
    }])
    .unwrap()
    .to_extension()
    .unwrap()
}

/// A client whose leaves list `supported` as Safe AAD components.
pub(super) fn supporting(name: &str, seed: u8, supported: &[ComponentId]) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .capabilities(Capabilities {
            extensions: vec![ExtensionType::APP_DATA_DICTIONARY],
            ..Capabilities::default()
        })
        .leaf_extensions(vec![safe_aad_extension(supported)])
        .build()
        .unwrap()
}

/// Alice (supporting `a`) and Bob (supporting `b`) in a group requiring
/// `required` Safe AAD components.
pub(super) fn pair(
    seed: u8,
    a: &[ComponentId],
    b: &[ComponentId],
    required: &[ComponentId],
) -> [Group; 2] {
    let mut alice = supporting("alice", seed, a);
    let mut bob = supporting("bob", seed + 1, b);
    let mut g = alice
        .create_group(GroupOptions {
            extensions: vec![safe_aad_extension(required)],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = g.add(&[&kp]).unwrap();
    g.process(&out.commit).unwrap();
    let h = bob.join(&out.welcome.unwrap(), None).unwrap();
    [g, h]
}

pub(super) fn item(component_id: ComponentId, data: &[u8]) -> SafeAadItem {
    SafeAadItem {
        component_id,
        aad_item_data: data.to_vec(),
    }
}

/// An application message from `g` with raw `authenticated_data`, sealed
/// below the API's framing.
pub(super) fn application_with_aad(g: &mut Group, authenticated_data: &[u8]) -> Vec<u8> {
    let key = g.state.take_application_key().unwrap();
    let message = g
        .state
        .seal_application(key, b"text", authenticated_data, &g.signer, &mut *g.rng)
        .unwrap();
    encode(&MlsMessage::new(MlsMessageBody::PrivateMessage(Box::new(
        message,
    ))))
    .unwrap()
}

pub(super) fn aad_of(message: &[u8]) -> Vec<u8> {
    match Group::decode_message(message).unwrap().body {
        MlsMessageBody::PublicMessage(m) => m.content.authenticated_data,
        MlsMessageBody::PrivateMessage(m) => m.authenticated_data,
        _ => unreachable!(),
    }
}

/// The encoded SafeAAD of `items` (any order: built by hand).
pub(super) fn raw_safe_aad(items: &[(ComponentId, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (c, d) in items {
        body.extend_from_slice(&c.to_be_bytes());
        body.push(d.len() as u8);
        body.extend_from_slice(d);
    }
    let mut out = vec![body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn every_message_carries_a_safe_aad_in_both_directions() {
    let [mut a, mut b] = pair(150, &[C1, C3], &[C1, C3], &[C1]);
    assert_eq!(a.required_safe_aad_components().unwrap(), Some(vec![C1]));
    for (from, to) in [(0, 1), (1, 0)] {
        let [x, y] = if from == 0 {
            [&mut a, &mut b]
        } else {
            [&mut b, &mut a]
        };
        // Items for a required component and one every member supports.
        let m = x
            .encrypt_with_safe_aad(vec![item(C1, b"one"), item(C3, b"three")], b"hi")
            .unwrap();
        match y.process(&m).unwrap() {
            Event::Application {
                data,
                authenticated_data,
                ..
            } => {
                assert_eq!(data, b"hi");
                let aad = y.received_safe_aad(&authenticated_data).unwrap().unwrap();
                assert_eq!(aad.get(C1), Some(&b"one"[..]));
                assert_eq!(aad.get(C3), Some(&b"three"[..]));
            }
            other => panic!("{other:?}"),
        }
        // No AAD at all is sent as the SafeAAD with no items.
        let m = x.encrypt(b"plain", b"").unwrap();
        assert_eq!(aad_of(&m), [0]);
        assert!(matches!(y.process(&m).unwrap(), Event::Application { .. }));
        // A proposal and a commit, with and without items.
        x.set_safe_aad(vec![item(C1, b"p")]).unwrap();
        let p = x.propose_update().unwrap();
        assert_eq!(aad_of(&p), raw_safe_aad(&[(C1, b"p")]));
        assert!(matches!(y.process(&p).unwrap(), Event::Proposal { .. }));
        let out = x.commit().unwrap();
        assert_eq!(aad_of(&out.commit), [0], "from {from} to {to}");
        x.process(&out.commit).unwrap();
        match y.process(&out.commit).unwrap() {
            Event::Commit { staged, .. } => y.merge(*staged).unwrap(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

#[test]
fn aad_that_is_not_a_valid_safe_aad_is_not_sent() {
    // Alice alone supports C2; nobody supports C3.
    let [mut a, mut b] = pair(155, &[C1, C2], &[C1], &[C1]);
    let before = snapshot(&a);
    for raw in [
        b"raw".to_vec(),
        raw_safe_aad(&[(C1, b"x")]).into_iter().chain([0]).collect(),
    ] {
        let err = a.encrypt(b"x", &raw).unwrap_err();
        assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
    }
    for items in [
        vec![item(C2, b"x"), item(C1, b"x")],
        vec![item(C1, b"x"), item(C1, b"y")],
        vec![item(C2, b"only alice")],
        vec![item(C3, b"nobody")],
    ] {
        let err = a.encrypt_with_safe_aad(items.clone(), b"x").unwrap_err();
        assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
        assert!(a.set_safe_aad(items).is_err());
    }
    // Raw handshake AAD that is not a SafeAAD is refused when sending.
    a.set_authenticated_data(b"raw".to_vec()).unwrap();
    assert!(a.propose_update().is_err());
    assert!(a.commit().is_err());
    assert!(!a.has_pending_commit());
    assert_eq!(snapshot(&a), before);
    // Nothing was used up: the next messages go through.
    a.set_authenticated_data(Vec::new()).unwrap();
    let m = a.encrypt(b"after", b"").unwrap();
    assert!(matches!(b.process(&m).unwrap(), Event::Application { .. }));

    // In a group without Safe AAD, raw AAD is sent as it is and the Safe
    // AAD API is refused.
    let mut carol = supporting("carol", 157, &[C1]);
    let mut plain = carol.create_group(GroupOptions::default()).unwrap();
    assert_eq!(plain.required_safe_aad_components().unwrap(), None);
    let m = plain.encrypt(b"x", b"raw").unwrap();
    assert_eq!(aad_of(&m), b"raw");
    assert_eq!(
        plain
            .encrypt_with_safe_aad(vec![item(C1, b"x")], b"x")
            .unwrap_err()
            .category(),
        ErrorCategory::ApiMisuse
    );
}

#[test]
fn received_messages_without_a_valid_safe_aad_are_refused_unchanged() {
    let [mut a, mut b] = pair(160, &[C1, C2], &[C1, C2], &[]);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("raw", b"raw".to_vec()),
        ("empty", Vec::new()),
        ("unsorted", raw_safe_aad(&[(C2, b"x"), (C1, b"y")])),
        ("duplicate", raw_safe_aad(&[(C1, b"x"), (C1, b"y")])),
        (
            "trailing",
            raw_safe_aad(&[(C1, b"x")]).into_iter().chain([7]).collect(),
        ),
    ];
    for (from, to) in [(0, 1), (1, 0)] {
        let [x, y] = if from == 0 {
            [&mut a, &mut b]
        } else {
            [&mut b, &mut a]
        };
        let remove = |g: &Group| {
            Content::Proposal(Box::new(Proposal::Remove(Remove {
                removed: LeafIndex(1 - g.state.epoch.own_leaf().0),
            })))
        };
        for (what, aad) in &bad {
            let m = forge_with_aad(x, remove(x), aad.clone());
            refused(y, &m, SAFE_AAD_RULE, "not one valid SafeAAD");
            let before = snapshot(y);
            let m = application_with_aad(x, aad);
            match y.process(&m) {
                Err(crate::Error::Protocol { rule, .. }) => assert_eq!(rule, SAFE_AAD_RULE),
                other => panic!("{what} from {from} to {to}: {other:?}"),
            }
            assert_eq!(snapshot(y), before);
        }
        // The same messages with a valid SafeAAD are accepted.
        let good = raw_safe_aad(&[(C1, b"x"), (C2, b"y")]);
        let m = forge_with_aad(x, remove(x), good.clone());
        assert!(matches!(y.process(&m).unwrap(), Event::Proposal { .. }));
        let m = application_with_aad(x, &good);
        assert!(matches!(y.process(&m).unwrap(), Event::Application { .. }));
    }
}

#[test]
fn required_components_hold_at_admission() {
    let [mut a, mut b] = pair(165, &[C1], &[C1], &[C1]);
    let mut carol = supporting("carol", 167, &[C2]);
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let err = a.add(&[&kp]).unwrap_err();
    assert!(
        matches!(&err, crate::Error::Protocol { rule, .. } if *rule == SAFE_AAD_NEGOTIATION_RULE),
        "{err:?}"
    );
    assert!(!a.has_pending_commit());
    // A forged commit adding her is refused by Bob.
    let kp = match Group::decode_message(&kp).unwrap().body {
        MlsMessageBody::KeyPackage(kp) => *kp,
        _ => unreachable!(),
    };
    let forged = forge_with_aad(
        &a,
        Content::Commit(Box::new(Commit {
            proposals: vec![ProposalOrRef::Proposal(Box::new(Proposal::Add(Add {
                key_package: kp,
            })))],
            path: None,
        })),
        vec![0],
    );
    refused(
        &mut b,
        &forged,
        SAFE_AAD_NEGOTIATION_RULE,
        "added member does not list the required component 0x8001 in its safe_aad",
    );
    // Dave lists C1: admitted.
    let mut dave = supporting("dave", 168, &[C1, C2]);
    let kp = dave.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    assert!(matches!(
        b.process(&out.commit).unwrap(),
        Event::Commit { .. }
    ));
    dave.join(&out.welcome.unwrap(), None).unwrap();
}

#[test]
fn required_components_hold_in_group_context_extensions() {
    let [mut a, mut b] = pair(170, &[C1], &[C1, C2], &[]);
    let gce = |ids: &[ComponentId]| {
        Content::Proposal(Box::new(Proposal::GroupContextExtensions(
            GroupContextExtensions {
                extensions: vec![safe_aad_extension(ids)],
            },
        )))
    };
    // Requiring C2, which Alice does not list, is refused by Bob.
    let m = forge_with_aad(&a, gce(&[C2]), vec![0]);
    refused(
        &mut b,
        &m,
        SAFE_AAD_NEGOTIATION_RULE,
        "leaf 0 does not list component 0x8002 in its safe_aad",
    );
    // Requiring C1, which both list, is accepted and committed.
    let p = b
        .propose_group_context_extensions(vec![safe_aad_extension(&[C1])])
        .unwrap();
    assert!(matches!(a.process(&p).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    a.process(&out.commit).unwrap();
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => b.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.required_safe_aad_components().unwrap(), Some(vec![C1]));
    assert_eq!(b.required_safe_aad_components().unwrap(), Some(vec![C1]));
}

#[test]
fn an_external_joiner_frames_its_commit_and_must_list_the_required_components() {
    let [mut a, _b] = pair(175, &[C1], &[C1], &[C1]);
    let info = a.group_info(true).unwrap();
    // Raw AAD is not sent by a joiner either.
    let mut erin = supporting("erin", 176, &[C1]);
    let options = ExternalJoinOptions {
        authenticated_data: b"raw".to_vec(),
        ..ExternalJoinOptions::default()
    };
    let err = erin
        .join_by_external_commit_with(&info, options)
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse, "{err}");
    // A joiner whose leaf lacks C1: its commit (its path leaf) is refused.
    let mut frank = supporting("frank", 177, &[C2]);
    let (_, commit) = frank.join_by_external_commit(&info, None, None).unwrap();
    assert_eq!(aad_of(&commit), [0]);
    refused(
        &mut a,
        &commit,
        SAFE_AAD_NEGOTIATION_RULE,
        "the committer's new leaf does not list the required component 0x8001 in its safe_aad",
    );
    // One that lists it joins, its commit carrying the empty SafeAAD.
    let (_, commit) = erin.join_by_external_commit(&info, None, None).unwrap();
    assert_eq!(aad_of(&commit), [0]);
    match a.process(&commit).unwrap() {
        Event::Commit { staged, .. } => a.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.members().len(), 3);
}
