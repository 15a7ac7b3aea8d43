//! KeyPackage (§10.1) and LeafNode (§7.3) validation, one test per rule.

use super::*;
use crate::ErrorCategory;
use crate::crypto::credential::CredentialType;
use crate::crypto::rust_crypto::RustCryptoProvider;
use crate::crypto::{CryptoError, Suite};
use crate::tree::leaf_node::LeafNode;
use crate::types::ExtensionType;
use crate::types::ProposalType;
use crate::types::math::LeafIndex;

struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            self.0 = self.0.wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

const NOW: u64 = 1_700_000_000;

struct Fx {
    suite: Suite,
    sk: SignaturePrivateKey,
    pk: SignaturePublicKey,
}

fn fx() -> Fx {
    let suite = Suite::from_provider(
        &RustCryptoProvider,
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
    )
    .unwrap();
    let (sk, pk) = suite
        .primitives()
        .signature_key_pair(&mut Counter(1))
        .unwrap();
    Fx { suite, sk, pk }
}

fn params(fx: &Fx) -> KeyPackageParams {
    KeyPackageParams {
        credential: Credential::basic(b"alice".to_vec()),
        lifetime: Lifetime {
            not_before: NOW - 3600,
            not_after: NOW + 30 * 24 * 3600,
        },
        capabilities: Capabilities::for_suite(fx.suite.id()),
        leaf_extensions: vec![],
        extensions: vec![],
    }
}

fn key_package(fx: &Fx, params: KeyPackageParams) -> KeyPackageData {
    KeyPackageData::create(&fx.suite, &fx.sk, &fx.pk, params, &mut Counter(3))
        .unwrap()
        .0
}

/// Re-signs leaf and key package after a test changed them, so that only
/// the rule under test is violated.
fn resign(fx: &Fx, kp: &mut KeyPackageData) {
    kp.leaf_node.sign(&fx.suite, &fx.sk, None).unwrap();
    kp.signature = fx
        .suite
        .sign_with_label(&fx.sk, KEY_PACKAGE_LABEL, &kp.to_be_signed().unwrap())
        .unwrap();
}

fn assert_rule(result: crate::Result<()>, rule: &str, needle: &str) {
    let err = result.unwrap_err();
    match &err {
        Error::Protocol { rule: r, detail } => {
            assert_eq!(*r, rule, "{err}");
            assert!(detail.contains(needle), "`{detail}` lacks `{needle}`");
        }
        other => panic!("expected protocol violation of {rule}, got {other}"),
    }
}

#[test]
fn created_key_package_is_valid() {
    let fx = fx();
    let kp = key_package(&fx, params(&fx));
    kp.validate(&fx.suite, None, LifetimePolicy::at(NOW))
        .unwrap();
    // Deterministic under injected randomness.
    assert_eq!(kp, key_package(&fx, params(&fx)));
}

#[test]
fn wrong_cipher_suite_10_1() {
    let fx = fx();
    let mut kp = key_package(&fx, params(&fx));
    kp.cipher_suite = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
    resign(&fx, &mut kp);
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§10.1",
        "suite",
    );
}

#[test]
fn bad_key_package_signature_10_1() {
    let fx = fx();
    let mut kp = key_package(&fx, params(&fx));
    kp.signature[5] ^= 1;
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§10.1",
        "signature",
    );
}

#[test]
fn init_key_equal_to_encryption_key_10_1() {
    let fx = fx();
    let mut kp = key_package(&fx, params(&fx));
    kp.init_key = kp.leaf_node.encryption_key.clone();
    resign(&fx, &mut kp);
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§10.1",
        "init_key",
    );
}

#[test]
fn bad_leaf_signature_7_3() {
    let fx = fx();
    let mut kp = key_package(&fx, params(&fx));
    kp.leaf_node.signature[0] ^= 1;
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "signature",
    );
}

#[test]
fn wrong_leaf_source_7_3() {
    let fx = fx();
    let mut kp = key_package(&fx, params(&fx));
    kp.leaf_node.leaf_node_source = LeafNodeSource::Update;
    let leaf = &kp.leaf_node;
    let err = validate_leaf_node(
        &fx.suite,
        leaf,
        LeafRole::KeyPackage,
        None,
        LifetimePolicy::at(NOW),
    );
    assert_rule(err, "§7.3", "leaf_node_source");
    // A key-package leaf cannot stand in an UpdatePath either.
    let leaf = key_package(&fx, params(&fx)).leaf_node;
    let role = LeafRole::Commit {
        group_id: b"g",
        leaf: LeafIndex(0),
    };
    assert_rule(
        validate_leaf_node(&fx.suite, &leaf, role, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "leaf_node_source",
    );
}

#[test]
fn update_must_change_encryption_key_7_3() {
    let fx = fx();
    let mut leaf: LeafNode = key_package(&fx, params(&fx)).leaf_node;
    leaf.leaf_node_source = LeafNodeSource::Update;
    let group = (b"group".as_slice(), LeafIndex(3));
    leaf.sign(&fx.suite, &fx.sk, Some(group)).unwrap();
    let same = leaf.encryption_key.clone();
    let role = LeafRole::Update {
        group_id: group.0,
        leaf: group.1,
        replaced: &same,
    };
    assert_rule(
        validate_leaf_node(&fx.suite, &leaf, role, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "reuses the encryption key",
    );
    let other = HpkePublicKey(vec![9; 32]);
    let role = LeafRole::Update {
        group_id: group.0,
        leaf: group.1,
        replaced: &other,
    };
    validate_leaf_node(&fx.suite, &leaf, role, None, LifetimePolicy::at(NOW)).unwrap();
    // The signature binds the group and leaf index.
    let role = LeafRole::Update {
        group_id: group.0,
        leaf: LeafIndex(4),
        replaced: &other,
    };
    assert_rule(
        validate_leaf_node(&fx.suite, &leaf, role, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "leaf 4",
    );
}

#[test]
fn lifetime_outside_window_7_3() {
    let fx = fx();
    let kp = key_package(&fx, params(&fx));
    let lt = match kp.leaf_node.leaf_node_source {
        LeafNodeSource::KeyPackage(lt) => lt,
        _ => unreachable!(),
    };
    for now in [lt.not_before - 1, lt.not_after + 1] {
        let err = kp
            .validate(&fx.suite, None, LifetimePolicy::at(now))
            .unwrap_err();
        match err {
            Error::Expired {
                leaf: None,
                not_before,
                not_after,
                now: at,
                ..
            } => assert_eq!(
                (not_before, not_after, at),
                (lt.not_before, lt.not_after, now)
            ),
            other => panic!("expected an expired key package, got {other}"),
        }
    }
    kp.validate(&fx.suite, None, LifetimePolicy::at(lt.not_after))
        .unwrap();
    // Only the dangerous policy skips the window.
    kp.validate(&fx.suite, None, LifetimePolicy::dangerous_unchecked())
        .unwrap();
}

#[test]
fn lifetime_longer_than_maximum_7_2() {
    let fx = fx();
    let mut p = params(&fx);
    p.lifetime.not_after = p.lifetime.not_before + LifetimePolicy::DEFAULT_MAX_LIFETIME + 1;
    let kp = key_package(&fx, p);
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "longer than the maximum",
    );
}

#[test]
fn missing_required_capabilities_7_3() {
    let fx = fx();
    let kp = key_package(&fx, params(&fx));
    let custom_ext = ExtensionType(0xff01);
    let custom_prop = ProposalType(0xff02);
    let cases = [
        (
            RequiredCapabilities {
                extension_types: vec![custom_ext],
                ..Default::default()
            },
            "required extension",
        ),
        (
            RequiredCapabilities {
                proposal_types: vec![custom_prop],
                ..Default::default()
            },
            "required proposal",
        ),
        (
            RequiredCapabilities {
                credential_types: vec![CredentialType::X509],
                ..Default::default()
            },
            "required credential",
        ),
    ];
    for (req, needle) in cases {
        assert_rule(
            kp.validate(&fx.suite, Some(&req), LifetimePolicy::at(NOW)),
            "§7.3",
            needle,
        );
    }
    // Default types are implied and need not be listed.
    let req = RequiredCapabilities {
        extension_types: vec![ExtensionType::EXTERNAL_SENDERS],
        proposal_types: vec![ProposalType::REINIT],
        credential_types: vec![CredentialType::BASIC],
    };
    kp.validate(&fx.suite, Some(&req), LifetimePolicy::at(NOW))
        .unwrap();
}

#[test]
fn leaf_extension_not_in_capabilities_7_3() {
    let fx = fx();
    let mut p = params(&fx);
    p.leaf_extensions = vec![Extension {
        extension_type: ExtensionType(0xff01),
        extension_data: vec![1, 2],
    }];
    let kp = key_package(&fx, p.clone());
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "capabilities do not list",
    );
    p.capabilities.extensions.push(ExtensionType(0xff01));
    key_package(&fx, p)
        .validate(&fx.suite, None, LifetimePolicy::at(NOW))
        .unwrap();
}

#[test]
fn credential_type_not_in_capabilities_7_2() {
    let fx = fx();
    let mut p = params(&fx);
    p.capabilities.credentials = vec![CredentialType::X509];
    let kp = key_package(&fx, p);
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§7.3",
        "credential type",
    );
}

#[test]
fn duplicate_extension_types_13_4() {
    let fx = fx();
    let mut p = params(&fx);
    let ext = Extension {
        extension_type: ExtensionType::APPLICATION_ID,
        extension_data: vec![],
    };
    p.extensions = vec![ext.clone(), ext];
    let kp = key_package(&fx, p);
    assert_rule(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        "§13.4",
        "twice",
    );
    assert_eq!(
        kp.validate(&fx.suite, None, LifetimePolicy::at(NOW))
            .unwrap_err()
            .category(),
        ErrorCategory::ProtocolViolation
    );
}

/// draft-ietf-mls-extensions: a `last_resort_key_package` component has
/// empty data, and an `app_data_dictionary` is sorted with one entry per
/// component.
#[test]
fn last_resort_mark_and_app_data_dictionary_are_checked() {
    use crate::crypto::component::component_ids::LAST_RESORT_KEY_PACKAGE;
    use crate::messages::key_package::APP_DATA_RULE;
    use crate::types::ExtensionType;
    use crate::types::app_data::{AppDataDictionary, ComponentData, put_component};
    let fx = fx();
    let mut p = params(&fx);
    put_component(&mut p.extensions, LAST_RESORT_KEY_PACKAGE, vec![], true).unwrap();
    let kp = key_package(&fx, p);
    assert!(kp.is_last_resort());
    kp.validate(&fx.suite, None, LifetimePolicy::at(NOW))
        .unwrap();
    assert!(!key_package(&fx, params(&fx)).is_last_resort());

    // The mark with data.
    let mut p = params(&fx);
    put_component(&mut p.extensions, LAST_RESORT_KEY_PACKAGE, vec![1], true).unwrap();
    assert_rule(
        key_package(&fx, p).validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        APP_DATA_RULE,
        "must be empty",
    );
    // Entries out of order (built by hand: the type refuses them).
    let entry = |id| ComponentData {
        component_id: id,
        data: vec![],
    };
    let mut bytes =
        crate::codec::encode(&AppDataDictionary::new(vec![entry(1), entry(4)]).unwrap()).unwrap();
    // Swap the two entries' ids: 4 then 1.
    let (a, b) = (
        bytes.iter().position(|x| *x == 1).unwrap(),
        bytes.iter().rposition(|x| *x == 4).unwrap(),
    );
    bytes.swap(a, b);
    let mut p = params(&fx);
    p.extensions.push(crate::types::Extension {
        extension_type: ExtensionType::APP_DATA_DICTIONARY,
        extension_data: bytes,
    });
    assert_rule(
        key_package(&fx, p).validate(&fx.suite, None, LifetimePolicy::at(NOW)),
        APP_DATA_RULE,
        "does not decode",
    );
}
