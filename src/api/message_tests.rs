//! Typed messages: what a delivery service sees of each kind without keys,
//! the key package, Welcome and GroupInfo wrappers, and processing a
//! decoded message.

use crate::{
    Error, Event, GroupInfo, GroupOptions, KeyPackage, KeyPackageOptions, Message, MessageKind,
    Sender, Welcome, WireFormat,
};

use crate::test_support::clients::{NOW, client};

#[test]
fn every_kind_routes_on_its_clear_parts() {
    let mut alice = client("alice", 1);
    let mut bob = client("bob", 2);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let group_id = a.group_id().to_vec();

    let kp = Message::decode(&bob.key_package(KeyPackageOptions::default()).unwrap()).unwrap();
    assert_eq!(kp.kind(), MessageKind::KeyPackage);
    assert_eq!(kp.wire_format(), WireFormat::KEY_PACKAGE);
    assert_eq!((kp.group_id(), kp.epoch(), kp.sender()), (None, None, None));

    let out = a.add(&[kp.as_bytes()]).unwrap();
    let commit = Message::decode(&out.commit).unwrap();
    assert_eq!(commit.kind(), MessageKind::Commit);
    assert_eq!(commit.wire_format(), WireFormat::PUBLIC_MESSAGE);
    assert_eq!(commit.group_id(), Some(group_id.as_slice()));
    assert_eq!(commit.epoch(), Some(0));
    assert_eq!(commit.sender(), Some(Sender::Member(a.own_leaf())));
    assert_eq!(commit.authenticated_data(), Some(&[][..]));
    assert_eq!(commit.as_bytes(), out.commit.as_slice());

    let welcome = Message::decode(out.welcome.as_ref().unwrap()).unwrap();
    assert_eq!(welcome.kind(), MessageKind::Welcome);
    assert_eq!((welcome.group_id(), welcome.epoch()), (None, None));

    // Processing the decoded commit is the same as processing its bytes.
    assert!(matches!(
        a.process_message(&commit).unwrap(),
        Event::OwnCommitMerged { epoch: 1 }
    ));
    let mut b = bob.join(&welcome.into_bytes(), None).unwrap();

    let app = Message::decode(&a.encrypt(b"hi", b"routing hint").unwrap()).unwrap();
    assert_eq!(app.kind(), MessageKind::Application);
    assert_eq!(app.wire_format(), WireFormat::PRIVATE_MESSAGE);
    assert_eq!(app.group_id(), Some(group_id.as_slice()));
    assert_eq!(app.epoch(), Some(1));
    assert_eq!(app.sender(), None, "encrypted");
    assert_eq!(app.authenticated_data(), Some(&b"routing hint"[..]));
    match b.process_message(&app).unwrap() {
        Event::Application { data, sender, .. } => {
            assert_eq!((data.as_slice(), sender), (&b"hi"[..], a.own_leaf()))
        }
        other => panic!("expected application data, got {other:?}"),
    }

    // An encrypted proposal still says it is a proposal (§6.3 content type).
    b.set_config((*b.config()).with_encrypted_handshakes(true));
    let proposal = Message::decode(&b.propose_update().unwrap()).unwrap();
    assert_eq!(proposal.kind(), MessageKind::Proposal);
    assert_eq!(proposal.sender(), None);
    assert!(matches!(
        a.process_message(&proposal).unwrap(),
        Event::Proposal { .. }
    ));

    let info = Message::decode(&a.group_info(true).unwrap()).unwrap();
    assert_eq!(info.kind(), MessageKind::GroupInfo);
    assert_eq!(info.group_id(), Some(group_id.as_slice()));
    assert_eq!(info.epoch(), Some(1));
    assert!(!MessageKind::GroupInfo.is_group_message());
    assert!(MessageKind::Proposal.is_group_message());
}

#[test]
fn decoding_is_strict_and_kinds_are_checked() {
    let mut bob = client("bob", 3);
    let bytes = bob.key_package(KeyPackageOptions::default()).unwrap();
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Message::decode(&long).unwrap_err(),
        Error::Malformed { .. }
    ));
    let err = Welcome::decode(&bytes).unwrap_err();
    assert!(matches!(err, Error::Misuse(_)), "{err}");
    assert!(err.to_string().contains("got a KeyPackage"), "{err}");
    assert!(GroupInfo::decode(&bytes).is_err());
    let message = Message::decode(&bytes).unwrap();
    assert!(message.clone().into_welcome().is_none());
    assert!(message.clone().into_group_info().is_none());
    assert_eq!(message.into_key_package().unwrap().as_bytes(), bytes);
}

#[test]
fn key_package_and_welcome_accessors() {
    let mut alice = client("alice", 4);
    let mut bob = client("bob", 5);
    let mut carol = client("carol", 6);
    let bob_kp =
        KeyPackage::decode(&bob.key_package(KeyPackageOptions::default()).unwrap()).unwrap();
    let carol_kp =
        KeyPackage::decode(&carol.key_package(KeyPackageOptions::default()).unwrap()).unwrap();
    assert_eq!(bob_kp.identity(), Some(&b"bob"[..]));
    assert_eq!(bob_kp.credential(), bob.credential());
    assert_eq!(bob_kp.signature_key(), bob.signature_key());
    assert_eq!(bob_kp.suite(), bob.suite_id());
    let lifetime = bob_kp.lifetime().unwrap();
    assert!(lifetime.contains(&NOW));
    assert_eq!(*lifetime.end(), NOW + KeyPackageOptions::default().lifetime);
    assert_ne!(bob_kp.reference().unwrap(), carol_kp.reference().unwrap());
    assert!(format!("{bob_kp:?}").len() < 400, "{bob_kp:?}");

    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let out = a.add(&[bob_kp.as_ref()]).unwrap();
    let welcome = Welcome::decode(out.welcome.as_ref().unwrap()).unwrap();
    assert_eq!(welcome.suite(), alice.suite_id());
    let refs: Vec<&[u8]> = welcome.key_package_refs().collect();
    assert_eq!(refs, [bob_kp.reference().unwrap().as_slice()]);
    assert!(welcome.is_for(&bob_kp).unwrap());
    assert!(!welcome.is_for(&carol_kp).unwrap());
    a.process(&out.commit).unwrap();
    let b = bob.join(welcome.as_ref(), None).unwrap();
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
}

#[test]
fn group_info_members_find_an_old_leaf() {
    let mut alice = client("alice", 7);
    let mut bob = client("bob", 8);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();

    let info = GroupInfo::decode(&a.group_info(true).unwrap()).unwrap();
    assert_eq!(info.group_id(), a.group_id());
    assert_eq!(info.epoch(), a.epoch());
    assert_eq!(info.suite(), alice.suite_id());
    assert_eq!(info.signer(), a.own_leaf());
    assert!(info.has_ratchet_tree());
    assert!(info.allows_external_join());
    assert_eq!(info.members().unwrap().unwrap(), a.members());
    // Bob lost his state: he finds his old leaf and rejoins, removing it.
    let old = info.leaf_of(bob.signature_key()).unwrap().unwrap();
    assert_eq!(old.0, 1);
    let (b2, commit) = bob
        .join_by_external_commit(info.as_ref(), None, Some(old))
        .unwrap();
    match a.process(&commit).unwrap() {
        Event::Commit { staged, .. } => a.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
    assert_eq!(b2.epoch_authenticator(), a.epoch_authenticator());
    assert_eq!(a.members().len(), 2);

    let bare = GroupInfo::decode(&a.group_info(false).unwrap()).unwrap();
    assert!(!bare.has_ratchet_tree());
    assert_eq!(bare.members().unwrap(), None);
    assert_eq!(bare.leaf_of(bob.signature_key()).unwrap(), None);
}
