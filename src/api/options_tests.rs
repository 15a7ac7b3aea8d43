//! The lifecycle options of the API: PSKs shared by a client's groups,
//! external joins with PSKs and authenticated data, leaving, staged-commit
//! member lists, key-package management, credentials and the group config.

use std::sync::Arc;

use super::*;
use crate::ErrorCategory;
use crate::crypto::credential::{Certificate, Credential, CredentialType};
use crate::crypto::{Secret, SeededRandom, SignaturePublicKey};
use crate::types::math::LeafIndex;

use crate::test_support::clients::{NOW, client};

fn staged(group: &mut Group, message: &[u8]) -> Box<crate::group::commit_stage::StagedCommit> {
    match group.process(message).unwrap() {
        Event::Commit { staged, .. } => staged,
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn own_merged(group: &mut Group, message: &[u8]) {
    match group.process(message).unwrap() {
        Event::OwnCommitMerged { .. } => {}
        other => panic!("expected our commit to merge, got {other:?}"),
    }
}

/// Alice and Bob in one group.
fn pair(seed: u8) -> (Client, Group, Client, Group) {
    let mut alice = client("alice", seed);
    let mut bob = client("bob", seed + 1);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    own_merged(&mut a, &out.commit);
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    (alice, a, bob, b)
}

#[test]
fn a_psk_provisioned_after_the_group_exists_is_seen_by_it() {
    let (mut alice, mut a, mut bob, mut b) = pair(1);
    // Not yet provisioned: the commit leaves the proposal out and says why
    // (committing it would make a commit nobody can process, §12.4.2).
    a.propose_external_psk(b"later".to_vec()).expect("propose");
    let early = a.commit().expect("commit without the PSK");
    assert_eq!(early.left_out.len(), 1);
    assert!(
        early.left_out[0].reason.contains("does not hold this PSK"),
        "{:?}",
        early.left_out
    );
    let epoch = a.epoch();
    a.discard_pending();

    // Provisioned on both clients after both groups exist.
    alice
        .add_external_psk(b"later".to_vec(), Secret::new(vec![7; 32]))
        .expect("psk");
    bob.add_external_psk(b"later".to_vec(), Secret::new(vec![7; 32]))
        .expect("psk");
    // Alice's first proposal was cached on her side only; start clean.
    let (mut a, mut b) = {
        let out = a.update().unwrap();
        own_merged(&mut a, &out.commit);
        let s = staged(&mut b, &out.commit);
        b.merge(*s).unwrap();
        (a, b)
    };
    assert_eq!(a.epoch(), epoch + 1);
    let p = a.propose_external_psk(b"later".to_vec()).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    assert_eq!(s.summary.psks.len(), 1);
    b.merge(*s).unwrap();
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());

    // Bob forgets it: a later commit using it is rejected, Bob unchanged.
    assert!(bob.remove_external_psk(b"later").expect("remove psk"));
    let p = a.propose_external_psk(b"later".to_vec()).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    let before = (b.epoch(), b.epoch_authenticator().to_vec());
    assert!(b.process(&out.commit).is_err());
    assert_eq!((b.epoch(), b.epoch_authenticator().to_vec()), before);
}

#[test]
fn external_join_with_a_psk_and_authenticated_data() {
    let (mut alice, mut a, _bob, _b) = pair(3);
    let mut carol = client("carol", 5);
    for c in [&mut alice, &mut carol] {
        c.add_external_psk(b"invite".to_vec(), Secret::new(vec![9; 32]))
            .expect("psk");
    }
    let info = a.group_info(true).unwrap();
    let (mut c, commit) = carol
        .join_by_external_commit_with(
            &info,
            ExternalJoinOptions::default()
                .external_psk(b"invite".to_vec())
                .authenticated_data(b"hello from carol".to_vec()),
        )
        .unwrap();
    let s = staged(&mut a, &commit);
    assert_eq!(s.summary.psks.len(), 1);
    assert_eq!(s.summary.authenticated_data, b"hello from carol");
    let added = s.added_members();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].credential, Credential::basic("carol"));
    a.merge(*s).unwrap();
    assert_eq!(a.epoch_authenticator(), c.epoch_authenticator());
    // The delivery service echoes Carol's commit to her too.
    match c.process(&commit).unwrap() {
        Event::OwnCommitMerged { epoch } => assert_eq!(epoch, a.epoch()),
        other => panic!("expected the echo to be recognised, got {other:?}"),
    }

    // Without the PSK on the member's side the commit is rejected.
    let mut dave = client("dave", 6);
    dave.add_external_psk(b"unknown".to_vec(), Secret::new(vec![1; 32]))
        .expect("psk");
    let info = a.group_info(true).unwrap();
    let (_d, commit) = dave
        .join_by_external_commit_with(
            &info,
            ExternalJoinOptions::default().external_psk(b"unknown".to_vec()),
        )
        .unwrap();
    assert!(a.process(&commit).is_err());
}

#[test]
fn leaving_is_a_self_remove_that_another_member_commits() {
    let (_alice, mut a, _bob, mut b) = pair(7);
    // A leave request lost in an epoch does not bar Bob for good.
    let _lost = b.leave().unwrap();
    let out = a.update().unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    b.merge(*s).unwrap();
    assert!(!b.is_leaving());

    let proposal = b.leave().unwrap();
    assert!(b.is_leaving());
    // Bob may not commit his own removal (§12.1.3).
    assert_eq!(b.update().unwrap_err().category(), ErrorCategory::ApiMisuse);
    assert!(matches!(
        a.process(&proposal).unwrap(),
        Event::Proposal { .. }
    ));
    a.set_authenticated_data(b"bye bob".to_vec()).expect("aad");
    let out = a.commit().unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    assert!(s.summary.self_removed);
    assert_eq!(s.summary.authenticated_data, b"bye bob");
    let removed = s.removed_members();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].index, LeafIndex(1));
    assert_eq!(removed[0].credential, Credential::basic("bob"));
    b.merge(*s).unwrap();
    assert!(!b.is_active());
    assert!(!b.is_leaving());
    assert_eq!(a.members().len(), 1);
    // The authenticated data was used once.
    let out = a.update().unwrap();
    let message = Group::decode_message(&out.commit).unwrap();
    let crate::framing::MlsMessageBody::PublicMessage(pm) = message.body else {
        panic!("expected a PublicMessage")
    };
    assert!(pm.content.authenticated_data.is_empty());
}

#[test]
fn staged_commit_names_the_committer_path_update_and_proposal_authors() {
    let (_alice, mut a, mut bob, mut b) = pair(9);
    let mut carol = client("carol", 11);
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let p = b.propose_update().unwrap();
    assert!(matches!(a.process(&p).unwrap(), Event::Proposal { .. }));
    let add = a.propose_add(&kp).unwrap();
    assert!(matches!(b.process(&add).unwrap(), Event::Proposal { .. }));
    let out = a.commit_with(Vec::new(), true, true).unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    let mut updated: Vec<u32> = s.updated_members().iter().map(|m| m.index.0).collect();
    updated.sort_unstable();
    assert_eq!(updated, vec![0, 1], "Bob's Update and Alice's path");
    assert_eq!(s.added_members()[0].credential, Credential::basic("carol"));
    assert!(s.removed_members().is_empty());
    b.merge(*s).unwrap();
    let _ = &mut bob;
}

#[test]
fn key_packages_are_listed_counted_deleted_and_capped() {
    let mut alice = client("alice", 13);
    let mut bob = client("bob", 14);
    let kp1 = bob.key_package(KeyPackageOptions::default()).unwrap();
    let kp2 = bob.key_package(KeyPackageOptions::default()).unwrap();
    assert_eq!(bob.key_package_count(), 2);
    let refs = bob.key_package_refs();
    assert_eq!(refs.len(), 2);

    // A Welcome consumes its key package.
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let out = a.add(&[&kp1]).unwrap();
    own_merged(&mut a, &out.commit);
    bob.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(bob.key_package_count(), 1);

    // A deleted key package cannot be joined with.
    let remaining = bob.key_package_refs().pop().unwrap();
    assert!(bob.delete_key_package(&remaining).expect("delete"));
    assert!(!bob.delete_key_package(&remaining).expect("delete"));
    assert_eq!(bob.key_package_count(), 0);
    let mut other = alice.create_group(GroupOptions::default()).unwrap();
    let out = other.add(&[&kp2]).unwrap();
    assert!(bob.join(&out.welcome.unwrap(), None).is_err());

    // §7.2: a lifetime beyond the client's maximum is refused.
    let ten_years = KeyPackageOptions {
        lifetime: 10 * 365 * 24 * 3600,
        ..KeyPackageOptions::default()
    };
    let err = bob.key_package(ten_years.clone()).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::ApiMisuse);
    let mut long_lived = Client::builder("carol")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([15; 32])))
        .max_key_package_lifetime(11 * 365 * 24 * 3600)
        .build()
        .unwrap();
    let kp = long_lived.key_package(ten_years).unwrap();
    // Our own groups enforce their maximum (366 days by default).
    let mut g = alice.create_group(GroupOptions::default()).unwrap();
    assert!(g.add(&[&kp]).is_err());
}

/// Accepts basic and X.509 credentials (the library carries certificates
/// without parsing them; this validator only checks the chain is there).
struct AcceptX509;

impl CredentialValidator for AcceptX509 {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        credential: &Credential,
        _key: &SignaturePublicKey,
    ) -> Result<(), Rejection> {
        match credential {
            Credential::Basic { .. } => Ok(()),
            Credential::X509 { certificates } if !certificates.is_empty() => Ok(()),
            _ => Err(Rejection::new("unsupported credential")),
        }
    }
}

#[test]
fn x509_credentials_and_capabilities_come_from_the_builder() {
    let chain = Credential::X509 {
        certificates: vec![Certificate {
            cert_data: b"not parsed by the library".to_vec(),
        }],
    };
    let mut bob = Client::builder("ignored")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([17; 32])))
        .credential(chain.clone())
        .credential_validator(Arc::new(AcceptX509))
        .build()
        .unwrap();
    assert_eq!(bob.credential(), &chain);
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();

    // The default validator accepts basic credentials only.
    let mut strict = client("alice", 18);
    let mut g = strict.create_group(GroupOptions::default()).unwrap();
    let err = g.add(&[&kp]).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Rejected);

    // Alice's leaf must list x509 too, or Bob's leaf is not supported by
    // every member (§7.2 capabilities cover credential types).
    let caps = crate::tree::leaf_node::Capabilities {
        credentials: vec![CredentialType::BASIC, CredentialType::X509],
        ..crate::tree::leaf_node::Capabilities::for_suite(strict.suite_id())
    };
    let mut alice = Client::builder("alice")
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([19; 32])))
        .credential_validator(Arc::new(AcceptX509))
        .capabilities(caps)
        .build()
        .unwrap();
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    own_merged(&mut a, &out.commit);
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(b.members()[1].credential, chain);
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

#[test]
fn the_config_is_given_at_creation_and_join() {
    let mut alice = client("alice", 21);
    let mut bob = client("bob", 22);
    let config = GroupConfig::default()
        .with_encrypted_handshakes(true)
        .with_padding(32)
        .with_past_epochs(1);
    let mut a = alice
        .create_group(GroupOptions {
            config,
            ..GroupOptions::default()
        })
        .unwrap();
    assert_eq!(*a.config(), config);
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    // Handshakes are PrivateMessages from the first commit on.
    let message = Group::decode_message(&out.commit).unwrap();
    assert!(matches!(
        message.body,
        crate::framing::MlsMessageBody::PrivateMessage(_)
    ));
    own_merged(&mut a, &out.commit);
    let b = bob.join_with(&out.welcome.unwrap(), None, config).unwrap();
    assert_eq!(*b.config(), config);
    // 32 bytes of padding per message, until the config changes.
    let padded = a.encrypt(b"x", b"").unwrap();
    a.set_config(config.with_padding(0));
    let unpadded = a.encrypt(b"x", b"").unwrap();
    assert_eq!(padded.len(), unpadded.len() + 32);
}

#[test]
fn an_external_sender_proposes_every_kind_it_may() {
    let suite = crate::test_support::default_suite().unwrap();
    let mut rng = SeededRandom::from_seed([30; 32]);
    let (ds_key, ds_pub) = suite.primitives().signature_key_pair(&mut rng).unwrap();
    let ext = external_senders_extension(&[(ds_pub, Credential::basic("ds"))]).unwrap();
    let mut alice = client("alice", 31);
    let mut bob = client("bob", 32);
    for c in [&mut alice, &mut bob] {
        c.add_external_psk(b"ds psk".to_vec(), Secret::new(vec![3; 32]))
            .expect("psk");
    }
    let mut a = alice
        .create_group(GroupOptions {
            extensions: vec![ext.clone()],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    own_merged(&mut a, &out.commit);
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    let ds = ExternalSender::new(suite, ds_key, 0);

    // A PSK and new group context extensions, committed together.
    let psk = ds
        .propose_external_psk(a.group_id(), a.epoch(), b"ds psk".to_vec(), &mut rng)
        .unwrap();
    let gce = ds
        .propose_group_context_extensions(a.group_id(), a.epoch(), vec![ext])
        .unwrap();
    for p in [&psk, &gce] {
        for g in [&mut a, &mut b] {
            assert!(matches!(g.process(p).unwrap(), Event::Proposal { .. }));
        }
    }
    let out = a.commit().unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    assert_eq!(s.summary.psks.len(), 1);
    assert!(s.summary.extensions.is_some());
    b.merge(*s).unwrap();
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());

    // A ReInit closes the group.
    let reinit = ds
        .propose_reinit(
            a.group_id(),
            a.epoch(),
            b"next".to_vec(),
            a.suite_id(),
            Vec::new(),
        )
        .unwrap();
    for g in [&mut a, &mut b] {
        assert!(matches!(
            g.process(&reinit).unwrap(),
            Event::Proposal { .. }
        ));
    }
    let out = a.commit().unwrap();
    own_merged(&mut a, &out.commit);
    let s = staged(&mut b, &out.commit);
    assert_eq!(s.summary.reinit.as_ref().unwrap().group_id, b"next");
    b.merge(*s).unwrap();
    assert!(b.reinitialized().is_some());
}

#[test]
fn debug_of_events_is_compact() {
    let (_alice, mut a, _bob, mut b) = pair(40);
    let out = a.update().unwrap();
    own_merged(&mut a, &out.commit);
    let event = b.process(&out.commit).unwrap();
    let text = format!("{event:?}");
    assert!(text.len() < 600, "{} bytes: {text}", text.len());
    assert!(text.contains("to_epoch: Some(2)"), "{text}");
    let text = format!("{b:?}");
    assert!(text.len() < 200, "{text}");
}

#[test]
fn required_capabilities_come_from_the_group_options() {
    use crate::wire::{Capabilities, RequiredCapabilities};
    let required = RequiredCapabilities {
        extension_types: Vec::new(),
        proposal_types: Vec::new(),
        credential_types: vec![CredentialType::BASIC, CredentialType::X509],
    };
    let options = GroupOptions::default()
        .required_capabilities(required.clone())
        .unwrap();
    let alice = client("alice", 50);
    let both = |name: &str, seed: u8| {
        Client::builder(name)
            .clock(Arc::new(FixedClock(NOW)))
            .random(Box::new(SeededRandom::from_seed([seed; 32])))
            .capabilities(Capabilities {
                credentials: vec![CredentialType::BASIC, CredentialType::X509],
                ..Capabilities::for_suite(alice.suite_id())
            })
            .build()
            .unwrap()
    };
    let mut alice = both("alice", 51);
    let mut a = alice.create_group(options).unwrap();
    // Bob's default key package lacks x509: refused (§11.1).
    let mut bob = client("bob", 52);
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    assert!(a.add(&[&kp]).is_err());
    // Carol supports it: added.
    let mut carol = both("carol", 53);
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    own_merged(&mut a, &out.commit);
    let c = carol.join(&out.welcome.unwrap(), None).unwrap();
    assert_eq!(a.epoch_authenticator(), c.epoch_authenticator());
}
