//! Several devices per user through the public API: a device that lost its
//! state resyncs without removing its siblings, and the device queries.

use std::sync::Arc;

use super::*;
use crate::crypto::SeededRandom;
use crate::crypto::credential::Credential;
use crate::test_support::clients::NOW;
use crate::{Error, SignaturePublicKey};

fn device(user: &str, name: &str) -> DeviceIdentity {
    DeviceIdentity::new(user, name).unwrap()
}

fn device_client(id: &DeviceIdentity, seed: u8) -> Client {
    Client::builder_for_device(id)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

/// Processes another member's commit and merges it.
fn follow(group: &mut Group, commit: &[u8]) {
    match group.process(commit).unwrap() {
        Event::Commit { staged, .. } => group.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn add(committer: &mut Group, others: &mut [&mut Group], joiner: &mut Client) -> Group {
    let kp = joiner.key_package(KeyPackageOptions::default()).unwrap();
    let out = committer.add(&[&kp]).unwrap();
    committer.merge_pending().unwrap();
    for g in others {
        follow(g, &out.commit);
    }
    joiner.join(&out.welcome.unwrap(), None).unwrap()
}

/// Alice's phone and laptop and Bob, in one group.
struct Scene {
    phone: Client,
    bob: Client,
    p: Group,
    l: Group,
    b: Group,
}

fn scene() -> Scene {
    let mut phone = device_client(&device("alice", "phone"), 31);
    let mut laptop = device_client(&device("alice", "laptop"), 32);
    let mut bob = device_client(&device("bob", "phone"), 33);
    let mut p = phone.create_group(GroupOptions::default()).unwrap();
    let mut l = add(&mut p, &mut [], &mut laptop);
    let b = add(&mut p, &mut [&mut l], &mut bob);
    Scene {
        phone,
        bob,
        p,
        l,
        b,
    }
}

/// A validator that lets a joiner remove any leaf: a hostile or buggy
/// client's own engine.
struct AnyRemoval;

impl CredentialValidator for AnyRemoval {
    fn validate(
        &self,
        cx: &ValidationContext<'_>,
        credential: &Credential,
        key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        AcceptBasic.validate(cx, credential, key)
    }

    fn validate_external_removal(
        &self,
        _cx: &ValidationContext<'_>,
        _removed: &Credential,
        _joiner: &Credential,
    ) -> Result<(), Rejection> {
        Ok(())
    }
}

#[test]
fn a_device_that_lost_its_state_resyncs_and_its_sibling_stays() {
    let Scene {
        mut p, l, mut b, ..
    } = scene();
    let phone_leaf = p.own_leaf();
    let old_laptop_leaf = l.own_leaf();
    drop(l);

    // The laptop's database is gone: same device, new keys.
    let mut laptop = device_client(&device("alice", "laptop"), 41);
    let info = b.group_info(true).unwrap();
    let (mut l, commit) = laptop
        .rejoin_device(&info, ExternalJoinOptions::default())
        .unwrap();
    for g in [&mut p, &mut b] {
        match g.process(&commit).unwrap() {
            Event::Commit { staged, .. } => {
                // Exactly the laptop's old leaf goes.
                assert_eq!(staged.summary.removed.len(), 1);
                assert_eq!(staged.summary.removed[0], old_laptop_leaf);
                g.merge(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(p.is_active());
    assert_eq!(
        p.leaf_of_device(&device("alice", "phone")),
        Some(phone_leaf)
    );
    assert_eq!(
        b.leaf_of_device(&device("alice", "laptop")),
        Some(l.own_leaf())
    );
    assert_eq!(b.leaves_of_user(b"alice").len(), 2);
    assert_eq!(p.epoch(), l.epoch());
    assert_eq!(p.epoch_authenticator(), l.epoch_authenticator());

    // The phone still sends and receives.
    let from_phone = p.encrypt(b"still here", b"").unwrap();
    for g in [&mut b, &mut l] {
        let Event::Application { data, .. } = g.process(&from_phone).unwrap() else {
            panic!("expected the phone's message");
        };
        assert_eq!(data, b"still here");
    }
    let from_laptop = l.encrypt(b"back", b"").unwrap();
    assert!(matches!(
        p.process(&from_laptop).unwrap(),
        Event::Application { .. }
    ));
}

#[test]
fn a_new_device_may_not_remove_another_device_of_its_user() {
    let Scene {
        mut p, l, mut b, ..
    } = scene();
    let phone_leaf = p.own_leaf();
    let laptop_leaf = l.own_leaf();
    let info = b.group_info(true).unwrap();

    // The laptop, resyncing, names the phone's leaf: its own engine refuses.
    let mut laptop = device_client(&device("alice", "laptop"), 42);
    let refused = laptop.join_by_external_commit(&info, None, Some(phone_leaf));
    assert!(
        matches!(
            &refused,
            Err(Error::Rejected {
                rule: "§12.4.3.2",
                ..
            })
        ),
        "{refused:?}"
    );

    // A laptop whose engine lets it through: every member refuses the
    // commit, and nothing changes.
    let mut hostile = Client::builder_for_device(&device("alice", "laptop"))
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([43; 32])))
        .credential_validator(Arc::new(AnyRemoval))
        .build()
        .unwrap();
    let (_, attack) = hostile
        .join_by_external_commit(&info, None, Some(phone_leaf))
        .unwrap();
    for g in [&mut p, &mut b] {
        let (epoch, auth, members) = (g.epoch(), g.epoch_authenticator().to_vec(), g.members());
        let err = g.process(&attack).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Rejected {
                    rule: "§12.4.3.2",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(g.epoch(), epoch);
        assert_eq!(g.epoch_authenticator(), auth);
        assert_eq!(g.members(), members);
    }
    assert_eq!(b.leaves_of_user(b"alice"), vec![phone_leaf, laptop_leaf]);
}

#[test]
fn device_queries_tell_users_and_devices_apart() {
    let Scene {
        phone, bob, p, l, ..
    } = scene();
    let (phone_leaf, laptop_leaf) = (p.own_leaf(), l.own_leaf());
    assert_eq!(phone.device(), Some(device("alice", "phone")));
    assert_eq!(bob.device(), Some(device("bob", "phone")));

    assert_eq!(p.leaves_of_user(b"alice"), vec![phone_leaf, laptop_leaf]);
    assert_eq!(p.leaves_of_user(b"bob").len(), 1);
    assert!(p.leaves_of_user(b"carol").is_empty());
    // Bob's phone is not Alice's phone.
    assert_ne!(
        p.leaf_of_device(&device("bob", "phone")),
        p.leaf_of_device(&device("alice", "phone"))
    );
    assert_eq!(p.leaf_of_device(&device("alice", "tablet")), None);

    assert!(p.is_new_device_of_member(&device("alice", "tablet")));
    assert!(!p.is_new_device_of_member(&device("alice", "laptop")));
    assert!(!p.is_new_device_of_member(&device("carol", "phone")));
    // A plain identity is its user's unnamed device: a new device of alice.
    let plain = DeviceIdentity::from_identity(b"alice").unwrap();
    assert!(p.is_new_device_of_member(&plain));

    // Read from a key package, before adding it.
    let mut tablet = device_client(&device("alice", "tablet"), 44);
    let kp =
        KeyPackage::decode(&tablet.key_package(KeyPackageOptions::default()).unwrap()).unwrap();
    let of_kp = DeviceIdentity::of_credential(kp.credential())
        .unwrap()
        .unwrap();
    assert!(p.is_new_device_of_member(&of_kp));
}

#[test]
fn rejoin_needs_a_device_it_can_tell_apart() {
    // Two devices sharing the plain identity "carol": the resync cannot
    // know which leaf is its own, so it refuses instead of guessing.
    let mut one = crate::test_support::clients::client("carol", 51);
    let mut two = crate::test_support::clients::client("carol", 52);
    let mut g1 = one.create_group(GroupOptions::default()).unwrap();
    let _g2 = add(&mut g1, &mut [], &mut two);
    let info = g1.group_info(true).unwrap();
    let mut restored = crate::test_support::clients::client("carol", 53);
    let err = restored
        .rejoin_device(&info, ExternalJoinOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::Misuse(_)), "{err}");

    // A device no longer in the group (removed meanwhile) just joins.
    let mut dave = device_client(&device("dave", "phone"), 54);
    let (d, commit) = dave
        .rejoin_device(&info, ExternalJoinOptions::default())
        .unwrap();
    follow(&mut g1, &commit);
    assert_eq!(
        g1.leaf_of_device(&device("dave", "phone")),
        Some(d.own_leaf())
    );
    assert_eq!(g1.members().len(), 3);
}

#[test]
fn the_default_validator_refuses_a_malformed_device_identity() {
    let mut bad = crate::test_support::clients::client("mls-device:alice/ph%6Fne", 55);
    assert_eq!(bad.device(), None);
    let mut phone = device_client(&device("alice", "phone"), 56);
    let mut p = phone.create_group(GroupOptions::default()).unwrap();
    let kp = bad.key_package(KeyPackageOptions::default()).unwrap();
    let err = p.add(&[&kp]).unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    assert_eq!(p.members().len(), 1);
}
