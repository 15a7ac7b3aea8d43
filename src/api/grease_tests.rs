//! GREASE (RFC 9420 §13.5, draft-ietf-mls-extensions "GREASE"): what a
//! client built with `grease(true)` advertises, and receivers (members,
//! joiners, an observer) ignoring those values.

use std::sync::Arc;

use super::app_data_tests::{LogApp, app, group_of};
use super::*;
use crate::crypto::SeededRandom;
use crate::messages::app_data_proposals::{AppDataOperation, AppDataUpdate};
use crate::test_support::clients::{NOW, client};
use crate::types::app_data::AppDataDictionary;
use crate::types::extensions::{ExtensionType, find_extension};
use crate::types::grease::{COMPONENT_GREASE, is_grease};
use crate::types::math::LeafIndex;

const LOG: u16 = 0x8001;

fn greasy(name: &str, seed: u8, app: Option<Arc<LogApp>>) -> Client {
    let mut b = Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .grease(true);
    if let Some(app) = app {
        b = b.app_components(app);
    }
    b.build().unwrap()
}

#[test]
fn greased_leaves_are_accepted_and_their_grease_ignored() {
    let mut alice = greasy("alice", 110, Some(app(&[LOG], true)));
    let mut bob = super::app_data_tests::app_client("bob", 111, app(&[LOG], true));
    let mut carol = greasy("carol", 112, Some(app(&[LOG], true)));
    let mut g = group_of(
        &mut alice,
        &mut [&mut bob, &mut carol],
        GroupOptions::default(),
    );

    // What Alice's leaf advertises, as Bob (who joined by Welcome and
    // imported the tree) sees it.
    let tree = g[1].state.tree();
    let leaf = tree.leaf(LeafIndex(0)).unwrap();
    let caps = &leaf.capabilities;
    assert!(caps.extensions.iter().any(|t| is_grease(t.0)));
    assert!(caps.cipher_suites.iter().any(|s| is_grease(s.0)));
    assert!(caps.proposals.iter().any(|t| is_grease(t.0)));
    assert!(caps.credentials.iter().any(|t| is_grease(t.0)));
    let components = crate::group::app_data_rules::leaf_components(&leaf.extensions);
    assert!(components.iter().any(|c| COMPONENT_GREASE.contains(c)));
    let dictionary = AppDataDictionary::parse(
        &find_extension(&leaf.extensions, ExtensionType::APP_DATA_DICTIONARY)
            .unwrap()
            .extension_data,
    )
    .unwrap();
    assert!(
        dictionary
            .component_data()
            .iter()
            .any(|c| COMPONENT_GREASE.contains(&c.component_id))
    );
    // Bob's leaf has none.
    let bob_leaf = tree.leaf(LeafIndex(1)).unwrap();
    assert!(
        !bob_leaf
            .capabilities
            .extensions
            .iter()
            .any(|t| is_grease(t.0))
    );

    // Alice's GroupInfo carries a GREASE extension (RFC 9420 §13.5);
    // Bob's does not.
    let info = g[0].group_info(true).unwrap();
    let grease_in = |bytes: &[u8]| match Group::decode_message(bytes).unwrap().body {
        crate::framing::MlsMessageBody::GroupInfo(gi) => {
            gi.extensions.iter().any(|e| is_grease(e.extension_type.0))
        }
        other => panic!("{other:?}"),
    };
    assert!(grease_in(&info));
    assert!(!grease_in(&g[1].group_info(true).unwrap()));

    // The group works as without GREASE: an observer follows from Alice's
    // GroupInfo, and an AppDataUpdate is applied by everyone.
    let mut observer = Observer::from_group_info(
        &info,
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            app_components: Some(app(&[LOG], true)),
            ..ObserverOptions::default()
        },
    )
    .unwrap();
    let out = g[2]
        .commit_app_data(vec![AppDataUpdate {
            component_id: LOG,
            op: AppDataOperation::Update(b"g".to_vec()),
        }])
        .unwrap();
    for (i, m) in g.iter_mut().enumerate() {
        match m.process(&out.commit).unwrap() {
            Event::Commit { staged, .. } => m.merge(*staged).unwrap(),
            Event::OwnCommitMerged { .. } => assert_eq!(i, 2),
            other => panic!("{other:?}"),
        }
    }
    match observer.process(&out.commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        observer.app_data_dictionary().unwrap().get(LOG),
        Some(&b"g"[..])
    );
    assert_eq!(
        g[0].app_data_dictionary().unwrap().unwrap().get(LOG),
        Some(&b"g"[..])
    );
}

#[test]
fn a_plain_client_adds_a_greased_one() {
    // Only the capabilities are greased (no dictionary on this leaf).
    let mut dave = client("dave", 113);
    let mut erin = greasy("erin", 114, None);
    let g = group_of(&mut dave, &mut [&mut erin], GroupOptions::default());
    assert_eq!(g[0].epoch(), g[1].epoch());
    assert_eq!(g[0].epoch_authenticator(), g[1].epoch_authenticator());
    let erin_leaf = g[0].state.tree().leaf(LeafIndex(1)).unwrap();
    assert!(
        erin_leaf
            .capabilities
            .proposals
            .iter()
            .any(|t| is_grease(t.0))
    );
    // A GREASE cipher suite in the capabilities is ignored too.
    assert!(
        erin_leaf
            .capabilities
            .cipher_suites
            .iter()
            .any(|s| is_grease(s.0))
    );
    assert!(find_extension(&erin_leaf.extensions, ExtensionType::APP_DATA_DICTIONARY).is_none());
}

fn key_package_of(bytes: &[u8]) -> crate::messages::key_package::KeyPackageData {
    match Group::decode_message(bytes).unwrap().body {
        crate::framing::MlsMessageBody::KeyPackage(kp) => *kp,
        other => panic!("expected a key package, got {other:?}"),
    }
}

fn greased_dictionary_entry(extensions: &[crate::types::extensions::Extension]) -> bool {
    let Some(ext) = find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY) else {
        return false;
    };
    AppDataDictionary::parse(&ext.extension_data)
        .unwrap()
        .component_data()
        .iter()
        .any(|c| COMPONENT_GREASE.contains(&c.component_id))
}

#[test]
fn greased_key_packages_carry_grease_and_are_added_by_plain_members() {
    // RFC 9420 §13.5: GREASE in LeafNode.extensions and
    // KeyPackage.extensions; draft-ietf-mls-extensions "GREASE": in the
    // key package's app_data_dictionary when it has one (last resort).
    let mut erin = greasy("erin", 115, None);
    let plain = key_package_of(&erin.key_package(KeyPackageOptions::default()).unwrap());
    let grease_ext = plain
        .extensions
        .iter()
        .find(|e| is_grease(e.extension_type.0))
        .unwrap();
    assert!(grease_ext.extension_data.len() < 16);
    let leaf_grease = plain
        .leaf_node
        .extensions
        .iter()
        .find(|e| is_grease(e.extension_type.0))
        .unwrap();
    assert!(
        plain
            .leaf_node
            .capabilities
            .extensions
            .contains(&leaf_grease.extension_type)
    );
    assert!(!greased_dictionary_entry(&plain.extensions));
    let last = erin
        .key_package(KeyPackageOptions::default().last_resort(true))
        .unwrap();
    let last_kp = key_package_of(&last);
    assert!(KeyPackage::decode(&last).unwrap().is_last_resort());
    assert!(greased_dictionary_entry(&last_kp.extensions));
    assert!(
        last_kp
            .extensions
            .iter()
            .any(|e| is_grease(e.extension_type.0))
    );

    // Plain members and an observer take a greased key package in an Add
    // made by another member; the joiner opens the Welcome.
    let mut alice = client("alice", 116);
    let mut bob = client("bob", 117);
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());
    let mut observer = Observer::from_group_info(
        &g[0].group_info(true).unwrap(),
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap();
    let out = g[1].add(&[&last]).unwrap();
    match g[0].process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => g[0].merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    g[1].process(&out.commit).unwrap();
    match observer.process(&out.commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    let erin_group = erin.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(erin_group.epoch_authenticator(), g[0].epoch_authenticator());
    assert_eq!(g[1].epoch_authenticator(), g[0].epoch_authenticator());
    assert_eq!(observer.epoch(), g[0].epoch());
    // The GREASE leaf extension is in the tree everyone holds.
    let leaf = g[0].state.tree().leaf(LeafIndex(2)).unwrap();
    assert!(
        leaf.extensions
            .iter()
            .any(|e| is_grease(e.extension_type.0))
    );
}

/// A GroupInfo from `g` with a GREASE extension (random-looking data) and
/// an app_data_dictionary holding a GREASE component, as a greasing peer
/// would send it, re-signed by `g`'s member.
fn greased_group_info(g: &Group) -> Vec<u8> {
    let crate::framing::MlsMessageBody::GroupInfo(mut info) =
        Group::decode_message(&g.group_info(true).unwrap())
            .unwrap()
            .body
    else {
        panic!("not a GroupInfo")
    };
    info.extensions.push(crate::types::extensions::Extension {
        extension_type: ExtensionType(0x3A3A),
        extension_data: vec![0x5C; 11],
    });
    crate::types::app_data::put_component(
        &mut info.extensions,
        COMPONENT_GREASE[5],
        vec![1, 2, 3],
        true,
    )
    .unwrap();
    info.signature = g
        .state
        .suite
        .sign_with_label(
            &g.signer,
            crate::group::welcome_open::GROUP_INFO_LABEL,
            &info.to_be_signed().unwrap(),
        )
        .unwrap();
    crate::codec::encode(&crate::framing::MlsMessage::new(
        crate::framing::MlsMessageBody::GroupInfo(info),
    ))
    .unwrap()
}

#[test]
fn grease_in_group_info_extensions_is_ignored() {
    // RFC 9420 §13.5 and draft-ietf-mls-extensions "GREASE": GroupInfo
    // extensions and the GroupInfo app_data_dictionary may carry GREASE;
    // an observer and an external joiner ignore it.
    let mut alice = client("alice", 118);
    let mut bob = client("bob", 119);
    let mut g = group_of(&mut alice, &mut [&mut bob], GroupOptions::default());
    let info = greased_group_info(&g[0]);
    let mut observer = Observer::from_group_info(
        &info,
        None,
        ObserverOptions {
            clock: Arc::new(FixedClock(NOW)),
            ..ObserverOptions::default()
        },
    )
    .unwrap();
    assert_eq!(observer.epoch(), g[0].epoch());

    let mut frank = client("frank", 120);
    let (frank_group, commit) = frank.join_by_external_commit(&info, None, None).unwrap();
    for m in g.iter_mut() {
        match m.process(&commit).unwrap() {
            Event::Commit { staged, .. } => m.merge(*staged).unwrap(),
            other => panic!("{other:?}"),
        }
    }
    match observer.process(&commit).unwrap() {
        Observed::Commit(staged) => observer.merge(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        frank_group.epoch_authenticator(),
        g[0].epoch_authenticator()
    );
    assert_eq!(observer.epoch(), g[0].epoch());
}
