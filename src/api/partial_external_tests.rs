//! A partial client reads proposals from the group's external senders
//! (RFC 9420 §12.1.8.1, `PartialGroup::process_external`): verified from
//! the GroupContext alone, cached, and resolved by reference when a
//! member's commit covers them; every hostile variant is refused with the
//! state and the storage unchanged.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::crypto::credential::Credential;
use crate::messages::proposals::{Proposal, SelfRemove};
use crate::storage::{MemoryStorage, SharedStorage, shared};
use crate::test_support::clients::{NOW, client};
use crate::test_support::partial::{
    annotated_commit, annotated_welcome, follow, from_member, leaf_of, tree,
};
use crate::types::ProposalType;
use crate::types::math::LeafIndex;

/// Alice (full) created the group with one external sender, the delivery
/// service; Bob follows it as a partial client (stored), Carol as a full
/// one.
struct Setup {
    ds: ExternalSender,
    a: Group,
    bob: Client,
    b: PartialGroup,
    c: Group,
    storage: SharedStorage,
    bob_leaf: LeafIndex,
    carol_leaf: LeafIndex,
}

fn stored_client(name: &str, seed: u8, storage: &SharedStorage) -> ClientBuilder {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .storage(storage.clone())
}

fn setup_with(bob: ClientBuilder, storage: SharedStorage) -> Setup {
    let suite = crate::test_support::default_suite().unwrap();
    let (ds_key, ds_pub) = suite
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([40; 32]))
        .unwrap();
    let ext = external_senders_extension(&[(ds_pub, Credential::basic(b"ds".to_vec()))]).unwrap();
    let mut alice = client("alice", 41);
    let mut bob = bob.build().unwrap();
    let mut carol = client("carol", 43);
    let mut a = alice
        .create_group(GroupOptions {
            extensions: vec![ext],
            ..GroupOptions::default()
        })
        .unwrap();
    let kp_bob = bob.key_package(KeyPackageOptions::default()).unwrap();
    let kp_carol = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp_bob, &kp_carol]).unwrap();
    a.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();
    let c = carol.join(&welcome, None).unwrap();
    let bob_leaf = leaf_of(&a, bob.signature_key());
    let carol_leaf = leaf_of(&a, carol.signature_key());
    let b = bob
        .join_partial(&annotated_welcome(&a, &welcome, bob_leaf))
        .unwrap();
    Setup {
        ds: ExternalSender::new(suite, ds_key, 0),
        a,
        bob,
        b,
        c,
        storage,
        bob_leaf,
        carol_leaf,
    }
}

fn setup() -> Setup {
    let storage = shared(MemoryStorage::new());
    setup_with(stored_client("bob", 42, &storage), storage)
}

fn everything(storage: &SharedStorage) -> Vec<(Vec<u8>, Vec<u8>)> {
    crate::storage::with(storage, |s| s.scan(b"")).unwrap()
}

/// Alice commits the cached proposals; Carol follows unless removed; the
/// AnnotatedCommit for Bob.
fn alice_commits(s: &mut Setup, carol_follows: bool) -> (Vec<u8>, Option<Vec<u8>>) {
    let before = tree(&s.a);
    let out = s.a.commit().unwrap();
    s.a.process(&out.commit).unwrap();
    if carol_follows {
        follow(&mut s.c, &out.commit);
    }
    let annotated = encode(&annotated_commit(&s.a, &before, &out.commit, s.bob_leaf)).unwrap();
    (annotated, out.welcome)
}

#[test]
fn an_external_remove_and_add_are_cached_and_resolved_by_reference() {
    let mut s = setup();
    // The delivery service removes Carol.
    let remove =
        s.ds.propose_remove(s.a.group_id(), s.a.epoch(), s.carol_leaf)
            .unwrap();
    assert!(matches!(
        s.a.process(&remove).unwrap(),
        Event::Proposal { .. }
    ));
    s.c.process(&remove).unwrap();
    let stored = everything(&s.storage);
    assert_eq!(
        s.b.process_external(&remove).unwrap(),
        PartialMessage::ExternalProposal {
            sender_index: 0,
            proposal_type: ProposalType::REMOVE,
        }
    );
    assert_eq!(s.b.cached_proposals(), 1);
    assert_ne!(everything(&s.storage), stored, "cached and stored");
    assert!(matches!(
        s.b.process_external(&remove),
        Err(Error::Replay(_))
    ));
    // Survives a restart with the group.
    let group_id = s.a.group_id().to_vec();
    let restarted = Client::restore(s.storage.clone())
        .clock(Arc::new(FixedClock(NOW)))
        .build()
        .unwrap()
        .load_partial_group(&group_id)
        .unwrap();
    assert_eq!(restarted.cached_proposals(), 1);

    let (annotated, _) = alice_commits(&mut s, false);
    // Without the proposal, the reference does not resolve.
    let mut fresh = PartialGroup {
        proposals: crate::group::proposal_cache::ProposalCache::default(),
        storage: None,
        ..s.bob.load_partial_group(&group_id).unwrap()
    };
    assert!(fresh.process_annotated_commit(&annotated).is_err());
    assert_eq!(
        s.b.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::NewEpoch(s.a.epoch())
    );
    assert_eq!(s.b.epoch_authenticator(), s.a.epoch_authenticator());
    assert!(s.a.members().iter().all(|m| m.index != s.carol_leaf));

    // The delivery service adds Dave.
    let mut dave = client("dave", 44);
    let kp = dave.key_package(KeyPackageOptions::default()).unwrap();
    let add = s.ds.propose_add(s.a.group_id(), s.a.epoch(), &kp).unwrap();
    s.a.process(&add).unwrap();
    assert_eq!(
        s.b.process_external(&add).unwrap(),
        PartialMessage::ExternalProposal {
            sender_index: 0,
            proposal_type: ProposalType::ADD,
        }
    );
    let (annotated, welcome) = alice_commits(&mut s, false);
    s.b.process_annotated_commit(&annotated).unwrap();
    let mut d = dave.join(&welcome.unwrap(), None).unwrap();
    assert_eq!(s.b.epoch_authenticator(), s.a.epoch_authenticator());
    assert_eq!(s.b.epoch_authenticator(), d.epoch_authenticator());
    let sent = s.b.encrypt(b"hi dave", b"").unwrap();
    match d
        .process(&PartialGroup::inner_message(&sent).unwrap())
        .unwrap()
    {
        Event::Application { data, .. } => assert_eq!(data, b"hi dave"),
        other => panic!("{other:?}"),
    }

    // And removes Bob: the commit covering it ends the partial client.
    let remove =
        s.ds.propose_remove(s.a.group_id(), s.a.epoch(), s.bob_leaf)
            .unwrap();
    s.a.process(&remove).unwrap();
    s.b.process_external(&remove).unwrap();
    let (annotated, _) = alice_commits(&mut s, false);
    assert_eq!(
        s.b.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::Removed
    );
}

/// Refuses the basic credential `identity`.
struct Ban(&'static [u8]);

impl CredentialValidator for Ban {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        credential: &Credential,
        _key: &crate::crypto::SignaturePublicKey,
    ) -> Result<(), Rejection> {
        match credential {
            Credential::Basic { identity } if identity == self.0 => Err(Rejection::new("banned")),
            _ => Ok(()),
        }
    }
}

#[test]
fn hostile_external_proposals_are_refused_and_change_nothing() {
    let mut s = setup();
    let (group_id, epoch) = (s.a.group_id().to_vec(), s.a.epoch());
    let suite = crate::test_support::default_suite().unwrap();
    let (forged_key, _) = suite
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([45; 32]))
        .unwrap();
    let forger = ExternalSender::new(suite.clone(), forged_key, 0);
    let (unknown_key, _) = suite
        .primitives()
        .signature_key_pair(&mut SeededRandom::from_seed([46; 32]))
        .unwrap();
    let unknown = ExternalSender::new(suite, unknown_key, 1);
    let genuine = s.ds.propose_remove(&group_id, epoch, s.carol_leaf).unwrap();
    let mut truncated = genuine.clone();
    truncated.pop();
    // A member's proposal, which comes with a proof, not through here.
    let member = s.c.propose_remove(s.bob_leaf).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "signed with another key",
            forger
                .propose_remove(&group_id, epoch, s.carol_leaf)
                .unwrap(),
        ),
        (
            "an index outside external_senders",
            unknown
                .propose_remove(&group_id, epoch, s.carol_leaf)
                .unwrap(),
        ),
        (
            "the next epoch",
            s.ds.propose_remove(&group_id, epoch + 1, s.carol_leaf)
                .unwrap(),
        ),
        (
            "the previous epoch",
            s.ds.propose_remove(&group_id, epoch - 1, s.carol_leaf)
                .unwrap(),
        ),
        (
            "another group",
            s.ds.propose_remove(b"another group", epoch, s.carol_leaf)
                .unwrap(),
        ),
        (
            "a type external senders may not send",
            s.ds.propose(&group_id, epoch, Proposal::SelfRemove(SelfRemove {}))
                .unwrap(),
        ),
        ("a member's proposal", member.clone()),
        (
            "a member's proposal with its proof",
            from_member(&s.c, &member),
        ),
        ("truncated", truncated),
    ];
    let stored = everything(&s.storage);
    for (what, message) in &cases {
        assert!(
            s.b.process_external(message).is_err(),
            "{what} was accepted"
        );
        assert_eq!(s.b.cached_proposals(), 0, "{what}");
        assert_eq!(everything(&s.storage), stored, "{what}");
    }
    // Every byte changed: refused or, never, a panic.
    for i in 0..genuine.len() {
        let mut bytes = genuine.clone();
        bytes[i] ^= 0x20;
        assert!(s.b.process_external(&bytes).is_err(), "byte {i}");
    }
    assert_eq!(everything(&s.storage), stored);
    // The genuine one is still accepted.
    s.b.process_external(&genuine).unwrap();
    assert_eq!(s.b.cached_proposals(), 1);

    // A client whose validator refuses the external sender's credential
    // refuses its proposals (§5.3.1), as a full member does.
    let storage = shared(MemoryStorage::new());
    let strict = stored_client("bob", 47, &storage).credential_validator(Arc::new(Ban(b"ds")));
    let mut s = setup_with(strict, storage);
    let proposal =
        s.ds.propose_remove(s.a.group_id(), s.a.epoch(), s.carol_leaf)
            .unwrap();
    let stored = everything(&s.storage);
    let err = s.b.process_external(&proposal).unwrap_err();
    assert!(err.to_string().contains("banned"), "{err}");
    assert_eq!(s.b.cached_proposals(), 0);
    assert_eq!(everything(&s.storage), stored);
}
