//! Last-resort key packages (draft-ietf-mls-extensions, "Last-Resort
//! KeyPackages"): marked on the wire, advertised in the leaf's
//! capabilities, and usable for more than one Welcome.

use super::*;
use crate::crypto::component::component_ids::{APP_COMPONENTS, LAST_RESORT_KEY_PACKAGE};
use crate::framing::MlsMessageBody;
use crate::test_support::clients::client;
use crate::types::ExtensionType;
use crate::types::app_data::{AppDataDictionary, ComponentsList};

fn wire(bytes: &[u8]) -> crate::messages::key_package::KeyPackageData {
    match Group::decode_message(bytes).unwrap().body {
        MlsMessageBody::KeyPackage(kp) => *kp,
        other => panic!("expected a key package, got {other:?}"),
    }
}

#[test]
fn a_last_resort_key_package_is_marked_and_joins_twice() {
    let mut bob = client("bob", 101);
    let regular = bob.key_package(KeyPackageOptions::default()).unwrap();
    let last = bob
        .key_package(KeyPackageOptions::default().last_resort(true))
        .unwrap();
    assert!(!KeyPackage::decode(&regular).unwrap().is_last_resort());
    assert!(KeyPackage::decode(&last).unwrap().is_last_resort());

    // The mark: an app_data_dictionary key package extension holding the
    // last_resort_key_package component with empty data; the leaf lists
    // app_data_dictionary and advertises its app_components.
    let kp = wire(&last);
    let ext = kp
        .extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::APP_DATA_DICTIONARY)
        .unwrap();
    let d = AppDataDictionary::parse(&ext.extension_data).unwrap();
    assert_eq!(d.get(LAST_RESORT_KEY_PACKAGE), Some(&[][..]));
    let leaf = &kp.leaf_node;
    assert!(
        leaf.capabilities
            .extensions
            .contains(&ExtensionType::APP_DATA_DICTIONARY)
    );
    let leaf_ext = leaf
        .extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::APP_DATA_DICTIONARY)
        .unwrap();
    let leaf_d = AppDataDictionary::parse(&leaf_ext.extension_data).unwrap();
    let components: ComponentsList =
        crate::codec::decode_exact(leaf_d.get(APP_COMPONENTS).unwrap()).unwrap();
    assert!(components.component_ids.contains(&LAST_RESORT_KEY_PACKAGE));
    // A regular key package carries none of it.
    assert!(wire(&regular).extensions.is_empty());

    // Two groups add Bob with the same last-resort key package; both
    // Welcomes open, and the private keys stay for a third.
    for (name, seed) in [("alice", 102), ("carol", 103)] {
        let mut owner = client(name, seed);
        let mut g = owner.create_group(GroupOptions::default()).unwrap();
        let out = g.add(&[&last]).unwrap();
        g.process(&out.commit).unwrap();
        let b = bob.join(&out.welcome.unwrap(), None).unwrap();
        assert_eq!(b.epoch(), g.epoch());
    }
    assert_eq!(bob.key_package_count(), 2);
    // The regular one opens once.
    let mut dave = client("dave", 104);
    let mut g = dave.create_group(GroupOptions::default()).unwrap();
    let out = g.add(&[&regular]).unwrap();
    bob.join(out.welcome.as_ref().unwrap(), None).unwrap();
    assert_eq!(bob.key_package_count(), 1);
    assert!(bob.join(out.welcome.as_ref().unwrap(), None).is_err());
}
