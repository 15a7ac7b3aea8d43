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

    // The group works as without GREASE: an observer follows, and an
    // AppDataUpdate is applied by everyone.
    let mut observer = Observer::from_group_info(
        &g[0].group_info(true).unwrap(),
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
