//! Application components' PSKs (draft-ietf-mls-extensions, PSKType
//! `application`) through the API: committed by two and three members and
//! named in a Welcome; kept apart from external PSKs and from other
//! components' PSKs with the same id; refused, with the group unchanged,
//! by a member lacking the secret or not knowing the component; their
//! encoding; and their persistence across a restart.

use std::sync::Arc;

use super::app_data_tests::snapshot;
use super::*;
use crate::Error;
use crate::codec::{decode_exact, encode};
use crate::crypto::component::ComponentId;
use crate::crypto::{Secret, SeededRandom};
use crate::group::psk_store::APPLICATION_PSK_RULE;
use crate::schedule::{PSK_TYPE_APPLICATION, PreSharedKeyId, Psk, PskSecret};
use crate::storage::{MemoryStorage, shared};
use crate::test_support::clients::{NOW, client};

const VAULT: ComponentId = 0x8001;
const OTHER: ComponentId = 0x8002;

fn secret() -> Secret {
    Secret::new(vec![7; 32])
}

/// `g` processes `commit` and merges it.
fn follow(g: &mut Group, commit: &[u8]) {
    match g.process(commit).unwrap() {
        Event::Commit { staged, .. } => g.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Alice and Bob, Bob with the PSKs `bob_psks` and Alice with VAULT's
/// `pw`. Alice proposes VAULT's `pw` and Bob receives the proposal.
fn proposed(seed: u8, bob_psks: &[(Option<ComponentId>, &[u8])]) -> (Group, Group, Vec<u8>) {
    let mut alice = client("alice", seed);
    let mut bob = client("bob", seed + 1);
    alice
        .add_application_psk(VAULT, b"pw".to_vec(), secret())
        .unwrap();
    for (component, id) in bob_psks {
        match component {
            Some(c) => bob.add_application_psk(*c, id.to_vec(), secret()).unwrap(),
            None => bob.add_external_psk(id.to_vec(), secret()).unwrap(),
        }
    }
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    let p = a.propose_application_psk(VAULT, b"pw".to_vec()).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    (a, b, p)
}

/// `g` refuses `commit` with `rule` and a detail holding `needle`, and is
/// unchanged.
fn refuses(g: &mut Group, commit: &[u8], rule: &str, needle: &str) {
    let before = snapshot(g);
    match g.process(commit) {
        Err(Error::Protocol { rule: r, detail }) => {
            assert_eq!(r, rule, "{detail}");
            assert!(detail.contains(needle), "{detail:?} lacks {needle:?}");
        }
        other => panic!("expected {rule} ({needle}), got {other:?}"),
    }
    assert_eq!(snapshot(g), before, "a refused commit changed the group");
}

#[test]
fn an_application_psk_is_committed_by_two_members_and_joined_by_a_third() {
    let mut carol = client("carol", 12);
    carol
        .add_application_psk(VAULT, b"pw".to_vec(), secret())
        .unwrap();
    let (mut a, mut b, _) = proposed(10, &[(Some(VAULT), b"pw")]);
    // Alice commits her proposal and adds Carol: the Welcome names the PSK.
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let p = a.propose_add(&kp).unwrap();
    assert!(matches!(b.process(&p).unwrap(), Event::Proposal { .. }));
    let out = a.commit().unwrap();
    a.process(&out.commit).unwrap();
    match b.process(&out.commit).unwrap() {
        Event::Commit { staged, .. } => {
            assert_eq!(staged.summary.psks.len(), 1);
            assert_eq!(
                staged.summary.psks[0].psk,
                Psk::Application {
                    component_id: VAULT,
                    psk_id: b"pw".to_vec()
                }
            );
            b.merge(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    let mut c = carol.join(&out.welcome.unwrap(), None).unwrap();
    for g in [&b, &c] {
        assert_eq!(g.epoch(), a.epoch());
        assert_eq!(g.epoch_authenticator(), a.epoch_authenticator());
    }

    // Three members: Bob proposes, Carol commits, everyone agrees.
    let p = b.propose_application_psk(VAULT, b"pw".to_vec()).unwrap();
    for g in [&mut a, &mut c] {
        assert!(matches!(g.process(&p).unwrap(), Event::Proposal { .. }));
    }
    let out = c.commit().unwrap();
    c.process(&out.commit).unwrap();
    follow(&mut a, &out.commit);
    follow(&mut b, &out.commit);
    for g in [&b, &c] {
        assert_eq!(g.epoch_authenticator(), a.epoch_authenticator());
    }
}

#[test]
fn a_joiner_lacking_the_application_psk_cannot_join() {
    let mut carol = client("carol", 22);
    let (mut a, _b, _) = proposed(20, &[(Some(VAULT), b"pw")]);
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    a.propose_add(&kp).unwrap();
    let out = a.commit().unwrap();
    let err = carol.join(&out.welcome.unwrap(), None).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("component 0x8001")),
        "{err:?}"
    );
}

#[test]
fn a_member_lacking_the_secret_refuses_the_commit_unchanged() {
    // Bob knows the component (another of its PSKs) but not this id: the
    // RFC's rule for a missing PSK (§12.4.2).
    let (mut a, mut b, _) = proposed(30, &[(Some(VAULT), b"other")]);
    let out = a.commit().unwrap();
    refuses(&mut b, &out.commit, "§12.4.2", "is not available");

    // Bob does not know the component at all.
    let (mut a, mut b, _) = proposed(32, &[]);
    let out = a.commit().unwrap();
    refuses(&mut b, &out.commit, APPLICATION_PSK_RULE, "does not know");
}

#[test]
fn an_application_psk_is_not_an_external_psk_nor_another_components() {
    // Bob holds the same id and value as an external PSK and as OTHER's
    // PSK, but not as VAULT's: neither stands in for it.
    let (mut a, mut b, _) = proposed(40, &[(None, b"pw"), (Some(OTHER), b"pw")]);
    let out = a.commit().unwrap();
    refuses(&mut b, &out.commit, APPLICATION_PSK_RULE, "does not know");

    // Alice cannot propose a PSK of a component she holds none of, nor
    // VAULT's PSK as an external one.
    let err = a
        .propose_application_psk(OTHER, b"pw".to_vec())
        .unwrap_err();
    assert_eq!(err.category(), crate::ErrorCategory::ApiMisuse, "{err}");

    // The same id, nonce and value give three different psk_secrets.
    let nonce = vec![1; 32];
    let ids = [
        Psk::External {
            psk_id: b"pw".to_vec(),
        },
        Psk::Application {
            component_id: VAULT,
            psk_id: b"pw".to_vec(),
        },
        Psk::Application {
            component_id: OTHER,
            psk_id: b"pw".to_vec(),
        },
    ]
    .map(|psk| PreSharedKeyId {
        psk,
        psk_nonce: nonce.clone(),
    });
    let secrets: Vec<PskSecret> = ids
        .iter()
        .map(|id| PskSecret::compute(&a.state.suite, [(id, &[7u8; 32][..])]).unwrap())
        .collect();
    assert_ne!(secrets[0], secrets[1]);
    assert_ne!(secrets[1], secrets[2]);
    assert_ne!(secrets[0], secrets[2]);
}

#[test]
fn a_different_secret_under_the_same_id_gives_a_different_epoch() {
    let mut alice = client("alice", 50);
    let mut bob = client("bob", 51);
    alice
        .add_application_psk(VAULT, b"pw".to_vec(), secret())
        .unwrap();
    bob.add_application_psk(VAULT, b"pw".to_vec(), Secret::new(vec![8; 32]))
        .unwrap();
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    let p = a.propose_application_psk(VAULT, b"pw".to_vec()).unwrap();
    b.process(&p).unwrap();
    let out = a.commit().unwrap();
    // The psk_secret enters the key schedule: Bob's confirmation tag
    // check fails, and his group is unchanged.
    let before = snapshot(&b);
    assert!(b.process(&out.commit).is_err());
    assert_eq!(snapshot(&b), before);
}

#[test]
fn the_application_psk_id_encodes_as_the_draft_says_and_malformed_ones_are_refused() {
    let id = PreSharedKeyId {
        psk: Psk::Application {
            component_id: VAULT,
            psk_id: b"pw".to_vec(),
        },
        psk_nonce: vec![9, 9],
    };
    let bytes = encode(&id).unwrap();
    assert_eq!(
        bytes,
        [PSK_TYPE_APPLICATION, 0x80, 0x01, 2, b'p', b'w', 2, 9, 9]
    );
    assert_eq!(decode_exact::<PreSharedKeyId>(&bytes).unwrap(), id);
    // Truncated in the component id, in the psk_id, in the nonce.
    for cut in [2, 4, 7] {
        assert!(decode_exact::<PreSharedKeyId>(&bytes[..cut]).is_err());
    }
    // Trailing bytes, and an unknown PSKType.
    let mut long = bytes.clone();
    long.push(0);
    assert!(decode_exact::<PreSharedKeyId>(&long).is_err());
    let mut unknown = bytes.clone();
    unknown[0] = 4;
    assert!(decode_exact::<PreSharedKeyId>(&unknown).is_err());
}

#[test]
fn application_psks_survive_a_restart_and_their_removal_too() {
    let storage = shared(MemoryStorage::new());
    let build = |storage| {
        Client::builder("alice")
            .storage(storage)
            .clock(Arc::new(FixedClock(NOW)))
            .random(Box::new(SeededRandom::from_seed([60; 32])))
            .build()
            .unwrap()
    };
    let mut alice = build(storage.clone());
    alice
        .add_application_psk(VAULT, b"pw".to_vec(), secret())
        .unwrap();
    alice
        .add_application_psk(OTHER, b"gone".to_vec(), secret())
        .unwrap();
    assert!(alice.remove_application_psk(OTHER, b"gone").unwrap());
    drop(alice);

    let mut alice = build(storage);
    let mut bob = client("bob", 61);
    bob.add_application_psk(VAULT, b"pw".to_vec(), secret())
        .unwrap();
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let mut b = bob.join(&out.welcome.unwrap(), None).unwrap();
    // The restored PSK is there; the removed one is not.
    assert!(a.propose_application_psk(OTHER, b"gone".to_vec()).is_err());
    let p = a.propose_application_psk(VAULT, b"pw".to_vec()).unwrap();
    b.process(&p).unwrap();
    let out = a.commit().unwrap();
    a.process(&out.commit).unwrap();
    follow(&mut b, &out.commit);
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}
