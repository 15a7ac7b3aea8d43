//! The Safe Application Interface through the API (draft-ietf-mls-extensions):
//! the safe exporter agrees across members, differs per component and epoch
//! and is consumed; safe signatures and encryption work for their component
//! and label only.

use super::*;
use crate::ErrorCategory;
use crate::crypto::component::component_ids;
use crate::test_support::clients::client;
use crate::types::app_data::{AppDataDictionary, ComponentData, ComponentsList};
use crate::types::math::LeafIndex;

fn pair(seed: u8) -> (Group, Group) {
    let mut alice = client("alice", seed);
    let mut bob = client("bob", seed + 1);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    (a, b)
}

#[test]
fn the_safe_exporter_agrees_per_component_and_is_consumed() {
    let (mut a, mut b) = pair(90);
    let a7 = a.safe_export_secret(7).unwrap();
    assert_eq!(a7.as_bytes().len(), 32);
    assert_eq!(b.safe_export_secret(7).unwrap(), a7);
    assert_ne!(a.safe_export_secret(8).unwrap(), a7);
    // Consumed: the source material is gone.
    assert_eq!(
        a.safe_export_secret(7).unwrap_err().category(),
        ErrorCategory::ApiMisuse
    );
    // Not the RFC 9420 exporter's output under any label.
    assert_ne!(a.export_secret("7", &[], 32).unwrap(), a7);
    // A new epoch, a new Exporter Tree.
    let out = a.update().unwrap();
    a.process(&out.commit).unwrap();
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => b.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
    let next = a.safe_export_secret(7).unwrap();
    assert_ne!(next, a7);
    assert_eq!(b.safe_export_secret(7).unwrap(), next);
}

#[test]
fn safe_signatures_and_ciphertexts_hold_for_their_component_only() {
    let (mut a, b) = pair(92);
    let signature = a.safe_sign(0x8001, b"vote", b"yes").unwrap();
    b.safe_verify(LeafIndex(0), 0x8001, b"vote", b"yes", &signature)
        .unwrap();
    for (id, label, content) in [
        (0x8002, &b"vote"[..], &b"yes"[..]),
        (0x8001, b"veto", b"yes"),
        (0x8001, b"vote", b"no"),
    ] {
        assert!(
            b.safe_verify(LeafIndex(0), id, label, content, &signature)
                .is_err()
        );
    }
    // Signed by Alice, not Bob.
    assert!(
        b.safe_verify(LeafIndex(1), 0x8001, b"vote", b"yes", &signature)
            .is_err()
    );

    let (kem, ct) = a
        .safe_encrypt_to_member(LeafIndex(1), 0x8001, b"file", b"ctx", b"key")
        .unwrap();
    assert_eq!(
        b.safe_decrypt(0x8001, b"file", b"ctx", &kem, &ct)
            .unwrap()
            .as_bytes(),
        b"key"
    );
    assert!(b.safe_decrypt(0x8002, b"file", b"ctx", &kem, &ct).is_err());
    assert!(
        b.safe_decrypt(0x8001, b"file", b"other", &kem, &ct)
            .is_err()
    );
}

#[test]
fn a_group_with_the_safe_aad_component_uses_safe_aad() {
    let mut alice = client("alice", 94);
    let plain = alice.create_group(GroupOptions::default()).unwrap();
    assert!(!plain.uses_safe_aad().unwrap());
    let required = ComponentsList {
        component_ids: vec![],
    };
    let dictionary = AppDataDictionary::new(vec![ComponentData {
        component_id: component_ids::SAFE_AAD,
        data: crate::codec::encode(&required).unwrap(),
    }])
    .unwrap();
    let options = GroupOptions {
        extensions: vec![dictionary.to_extension().unwrap()],
        ..GroupOptions::default()
    };
    let g = alice.create_group(options).unwrap();
    assert!(g.uses_safe_aad().unwrap());
    assert_eq!(g.app_data_dictionary().unwrap(), Some(dictionary));
}
