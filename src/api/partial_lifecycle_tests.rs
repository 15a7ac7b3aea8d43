//! A partial client's life beyond one session: persisted and restored,
//! removed, upgraded to a full client and downgraded from one, with
//! proposals read ahead of the commits that cover them by reference.

use std::sync::Arc;

use super::*;
use crate::Error;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::persist::partial_records::partial_key;
use crate::storage::{MemoryStorage, SharedStorage, shared};
use crate::test_support::clients::{NOW, client};
use crate::test_support::partial::{
    annotated_commit, annotated_welcome, follow, from_member, leaf_of, proof, tree,
};
use crate::types::math::LeafIndex;

fn stored_client(name: &str, seed: u8, storage: &SharedStorage) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .storage(storage.clone())
        .build()
        .unwrap()
}

/// The client stored in `storage`, as after a restart.
fn restarted(storage: &SharedStorage, seed: u8) -> Client {
    Client::restore(storage.clone())
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .build()
        .unwrap()
}

fn record(storage: &SharedStorage, group_id: &[u8]) -> Option<Vec<u8>> {
    crate::storage::read(storage, &partial_key(group_id))
        .unwrap()
        .map(|v| v.to_vec())
}

/// Alice (full) adds Bob (partial, stored) and Carol (full).
struct Setup {
    alice: Client,
    a: Group,
    bob: Client,
    b: PartialGroup,
    carol: Client,
    c: Group,
    storage: SharedStorage,
    bob_leaf: LeafIndex,
}

fn setup() -> Setup {
    let storage = shared(MemoryStorage::new());
    let mut alice = client("alice", 1);
    let mut bob = stored_client("bob", 2, &storage);
    let mut carol = client("carol", 3);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp_bob = bob.key_package(KeyPackageOptions::default()).unwrap();
    let kp_carol = carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp_bob, &kp_carol]).unwrap();
    a.process(&out.commit).unwrap();
    let welcome = out.welcome.unwrap();
    let c = carol
        .join(&welcome, Some(&a.ratchet_tree().unwrap()))
        .unwrap();
    let bob_leaf = leaf_of(&a, bob.signature_key());
    let b = bob
        .join_partial(&annotated_welcome(&a, &welcome, bob_leaf))
        .unwrap();
    Setup {
        alice,
        a,
        bob,
        b,
        carol,
        c,
        storage,
        bob_leaf,
    }
}

/// Alice commits an update; Carol follows; the AnnotatedCommit for `leaf`.
fn alice_updates(a: &mut Group, c: &mut Group, leaf: LeafIndex) -> Vec<u8> {
    let before = tree(a);
    let out = a.update().unwrap();
    a.process(&out.commit).unwrap();
    follow(c, &out.commit);
    encode(&annotated_commit(a, &before, &out.commit, leaf)).unwrap()
}

/// Application data `g` encrypts, wrapped with `g`'s proof.
fn sealed(g: &mut Group, data: &[u8]) -> Vec<u8> {
    let message = g.encrypt(data, b"").unwrap();
    from_member(g, &message)
}

#[test]
fn a_partial_group_survives_a_restart_and_follows_the_next_commit() {
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    assert!(record(&s.storage, &group_id).is_some(), "stored at join");
    let msg = sealed(&mut s.a, b"before the restart");
    assert_eq!(s.b.process_message(&msg).unwrap().1, b"before the restart");
    let sent = s.b.encrypt(b"from bob", b"").unwrap();
    assert!(matches!(
        s.c.process(&PartialGroup::inner_message(&sent).unwrap())
            .unwrap(),
        Event::Application { .. }
    ));

    // Restart: the client and its partial group come back from storage.
    drop(s.b);
    drop(s.bob);
    let mut bob = restarted(&s.storage, 9);
    let mut b = bob.load_partial_group(&group_id).unwrap();
    assert_eq!(b.epoch(), s.a.epoch());
    assert_eq!(b.own_leaf(), s.bob_leaf);
    assert_eq!(b.epoch_authenticator(), s.a.epoch_authenticator());
    // The key of the message read before the restart was deleted.
    assert!(b.process_message(&msg).is_err());
    // Bob's own generation was stored: his next message is new to Carol.
    let sent = b.encrypt(b"after the restart", b"").unwrap();
    match s
        .c
        .process(&PartialGroup::inner_message(&sent).unwrap())
        .unwrap()
    {
        Event::Application { data, .. } => assert_eq!(data, b"after the restart"),
        other => panic!("expected application data, got {other:?}"),
    }

    // A refused commit writes nothing; the good one is stored.
    let good = alice_updates(&mut s.a, &mut s.c, s.bob_leaf);
    let mut bad: crate::framing::AnnotatedCommit =
        crate::decode_exact("AnnotatedCommit", &good).unwrap();
    bad.resolution_index = Some(5);
    let stored = record(&s.storage, &group_id);
    assert!(b.process_annotated_commit(&encode(&bad).unwrap()).is_err());
    assert_eq!(record(&s.storage, &group_id), stored);
    assert_eq!(
        b.process_annotated_commit(&good).unwrap(),
        PartialCommitEvent::NewEpoch(s.a.epoch())
    );
    assert_ne!(record(&s.storage, &group_id), stored);
    assert_eq!(b.epoch_authenticator(), s.a.epoch_authenticator());
    let msg = sealed(&mut s.a, b"new epoch");
    assert_eq!(b.process_message(&msg).unwrap().1, b"new epoch");

    // And once more after a second restart, in the new epoch.
    drop(b);
    drop(bob);
    let mut bob = restarted(&s.storage, 10);
    let b = bob.load_partial_group(&group_id).unwrap();
    assert_eq!(b.epoch(), s.a.epoch());
    assert_eq!(b.epoch_authenticator(), s.a.epoch_authenticator());
}

#[test]
fn a_tampered_or_truncated_partial_record_is_a_storage_error() {
    let s = setup();
    let group_id = s.a.group_id().to_vec();
    let good = record(&s.storage, &group_id).unwrap();
    drop(s.b);
    drop(s.bob);
    let put = |bytes: Vec<u8>| {
        let mut batch = crate::storage::WriteBatch::default();
        batch.put(partial_key(&group_id), bytes);
        crate::storage::with(&s.storage, |st| st.write(batch)).unwrap();
    };
    let mut bob = restarted(&s.storage, 9);
    for len in 0..good.len() {
        put(good[..len].to_vec());
        let err = bob.load_partial_group(&group_id).unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "length {len}: {err}");
    }
    let mut longer = good.clone();
    longer.push(0);
    put(longer);
    assert!(matches!(
        bob.load_partial_group(&group_id),
        Err(Error::Storage(_))
    ));
    // Every single-byte change loads or fails, never panics.
    for i in 0..good.len() {
        let mut bytes = good.clone();
        bytes[i] ^= 0x41;
        put(bytes);
        let _ = bob.load_partial_group(&group_id);
    }
    // The record kind is checked.
    let mut kind = good.clone();
    kind[1] = 5;
    put(kind);
    assert!(matches!(
        bob.load_partial_group(&group_id),
        Err(Error::Storage(_))
    ));
    put(good);
    assert!(bob.load_partial_group(&group_id).is_ok());
    // A partial group is not a full one, and the errors say which it is.
    let err = bob.load_group(&group_id).unwrap_err();
    assert!(err.to_string().contains("load_partial_group"), "{err}");
}

#[test]
fn a_commit_removing_the_partial_client_ends_it() {
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    let before = tree(&s.a);
    let out = s.a.remove(s.bob_leaf).unwrap();
    s.a.process(&out.commit).unwrap();
    follow(&mut s.c, &out.commit);
    let good = annotated_commit(&s.a, &before, &out.commit, s.bob_leaf);
    // Its leaf is blank now: no proof of it after the commit exists.
    assert!(tree(&s.a).leaf(s.bob_leaf).is_none());
    // The removal still needs the committer's proof and signature.
    let mut bad = good.clone();
    bad.sender_membership_proof = Some(proof(&s.a, &before, s.bob_leaf));
    assert!(
        s.b.process_annotated_commit(&encode(&bad).unwrap())
            .is_err()
    );
    assert!(s.b.is_active());
    assert!(record(&s.storage, &group_id).is_some());

    assert_eq!(
        s.b.process_annotated_commit(&encode(&good).unwrap())
            .unwrap(),
        PartialCommitEvent::Removed
    );
    assert!(!s.b.is_active());
    assert!(s.b.is_removed());
    assert!(record(&s.storage, &group_id).is_none(), "state deleted");
    let err = s.b.encrypt(b"x", b"").unwrap_err();
    assert!(err.to_string().contains("removed"), "{err}");
    assert!(s.bob.load_partial_group(&group_id).is_err());
}

#[test]
fn proposals_read_ahead_are_resolved_by_reference_and_a_remove_by_reference_ends_the_client() {
    let mut s = setup();
    // Carol proposes an external PSK-free change Bob can follow: a
    // GroupContextExtensions proposal (no tree change).
    let proposal = s.c.propose_group_context_extensions(Vec::new()).unwrap();
    s.a.process(&proposal).unwrap();
    let wrapped = from_member(&s.c, &proposal);
    // process_message reads application data only, and leaves the
    // message unread; process caches it.
    assert!(s.b.process_message(&wrapped).is_err());
    assert_eq!(s.b.cached_proposals(), 0);
    assert!(matches!(
        s.b.process(&wrapped).unwrap(),
        PartialMessage::Proposal { .. }
    ));
    assert_eq!(s.b.cached_proposals(), 1);
    // A replay is refused.
    assert!(matches!(s.b.process(&wrapped), Err(Error::Replay(_))));
    // Survives a restart with the group.
    let group_id = s.a.group_id().to_vec();
    let mut bob = restarted(&s.storage, 9);
    let mut b2 = bob.load_partial_group(&group_id).unwrap();
    assert_eq!(b2.cached_proposals(), 1);

    // Alice commits it by reference; Bob (restored) follows.
    let before = tree(&s.a);
    let out = s.a.commit().unwrap();
    s.a.process(&out.commit).unwrap();
    follow(&mut s.c, &out.commit);
    let annotated = encode(&annotated_commit(&s.a, &before, &out.commit, s.bob_leaf)).unwrap();
    // Without the proposal the reference is unknown: refused.
    let mut fresh = PartialGroup {
        proposals: crate::group::proposal_cache::ProposalCache::default(),
        storage: None,
        ..bob.load_partial_group(&group_id).unwrap()
    };
    assert!(fresh.process_annotated_commit(&annotated).is_err());
    assert_eq!(
        b2.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::NewEpoch(s.a.epoch())
    );
    assert_eq!(b2.epoch_authenticator(), s.a.epoch_authenticator());
    assert_eq!(b2.cached_proposals(), 0);

    // Carol proposes to remove Bob; Alice commits it by reference.
    let proposal = s.c.propose_remove(s.bob_leaf).unwrap();
    s.a.process(&proposal).unwrap();
    b2.process(&from_member(&s.c, &proposal)).unwrap();
    let before = tree(&s.a);
    let out = s.a.commit().unwrap();
    s.a.process(&out.commit).unwrap();
    let annotated = encode(&annotated_commit(&s.a, &before, &out.commit, s.bob_leaf)).unwrap();
    assert_eq!(
        b2.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::Removed
    );
    assert!(record(&s.storage, &group_id).is_none());
}

#[test]
fn an_upgraded_partial_client_commits_as_a_full_member() {
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    let annotated = alice_updates(&mut s.a, &mut s.c, s.bob_leaf);
    s.b.process_annotated_commit(&annotated).unwrap();
    let msg = sealed(&mut s.a, b"read as partial");
    s.b.process_message(&msg).unwrap();

    let mut g = s
        .bob
        .upgrade_partial(&mut s.b, &s.a.ratchet_tree().unwrap())
        .unwrap();
    assert!(!s.b.is_active());
    assert!(s.b.encrypt(b"x", b"").is_err());
    assert_eq!(g.epoch(), s.a.epoch());
    assert_eq!(g.epoch_authenticator(), s.a.epoch_authenticator());
    assert_eq!(g.own_leaf(), s.bob_leaf);
    // Stored as a full group, in place of the partial record.
    assert!(record(&s.storage, &group_id).is_none());
    let err = s.bob.load_partial_group(&group_id).unwrap_err();
    assert!(err.to_string().contains("load_group"), "{err}");

    // Bob commits; Alice and Carol accept it.
    let out = g.update().unwrap();
    g.process(&out.commit).unwrap();
    follow(&mut s.a, &out.commit);
    follow(&mut s.c, &out.commit);
    assert_eq!(g.epoch_authenticator(), s.a.epoch_authenticator());
    assert_eq!(g.epoch_authenticator(), s.c.epoch_authenticator());
    let m = g.encrypt(b"full bob", b"").unwrap();
    assert!(matches!(
        s.a.process(&m).unwrap(),
        Event::Application { .. }
    ));
    drop(g);
    let loaded = s.bob.load_group(&group_id).unwrap();
    assert_eq!(loaded.epoch(), s.a.epoch());
}

#[test]
fn an_upgrade_with_a_tree_that_does_not_match_is_refused_and_changes_nothing() {
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    let old_tree = s.a.ratchet_tree().unwrap();
    let annotated = alice_updates(&mut s.a, &mut s.c, s.bob_leaf);
    s.b.process_annotated_commit(&annotated).unwrap();
    let stored = record(&s.storage, &group_id);

    // The previous epoch's tree: its tree hash is not this epoch's.
    assert!(s.bob.upgrade_partial(&mut s.b, &old_tree).is_err());
    // Another group's tree.
    let mut other = s.alice.create_group(GroupOptions::default()).unwrap();
    let kp = s.carol.key_package(KeyPackageOptions::default()).unwrap();
    let out = other.add(&[&kp]).unwrap();
    other.process(&out.commit).unwrap();
    assert!(
        s.bob
            .upgrade_partial(&mut s.b, &other.ratchet_tree().unwrap())
            .is_err()
    );
    // Bytes that are no tree.
    assert!(s.bob.upgrade_partial(&mut s.b, &[0xff, 0x01]).is_err());

    assert!(s.b.is_active());
    assert_eq!(record(&s.storage, &group_id), stored);
    // Still a working partial client.
    let annotated = alice_updates(&mut s.a, &mut s.c, s.bob_leaf);
    s.b.process_annotated_commit(&annotated).unwrap();
    assert_eq!(s.b.epoch_authenticator(), s.a.epoch_authenticator());
    let msg = sealed(&mut s.a, b"still here");
    assert_eq!(s.b.process_message(&msg).unwrap().1, b"still here");
}

#[test]
fn a_downgraded_full_client_follows_commits_as_a_partial_client() {
    let storage = shared(MemoryStorage::new());
    let mut alice = client("alice", 1);
    let mut dave = stored_client("dave", 4, &storage);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = dave.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    a.process(&out.commit).unwrap();
    let d = dave
        .join(&out.welcome.unwrap(), Some(&a.ratchet_tree().unwrap()))
        .unwrap();
    let group_id = a.group_id().to_vec();
    let dave_leaf = d.own_leaf();
    // Dave read a message as a full client first: its key stays used.
    let first = a.encrypt(b"to full dave", b"").unwrap();
    let mut d = d;
    d.process(&first).unwrap();

    let mut p = dave.downgrade(d).unwrap();
    assert!(p.is_active());
    assert_eq!(p.epoch_authenticator(), a.epoch_authenticator());
    assert!(dave.load_group(&group_id).is_err(), "full records replaced");
    assert!(record(&storage, &group_id).is_some());
    assert!(
        p.process_message(&sender_authenticated_from(&a, &first))
            .is_err()
    );

    // Alice commits with a path; Dave follows through an AnnotatedCommit.
    let before = tree(&a);
    let out = a.update().unwrap();
    a.process(&out.commit).unwrap();
    let annotated = encode(&annotated_commit(&a, &before, &out.commit, dave_leaf)).unwrap();
    assert_eq!(
        p.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::NewEpoch(a.epoch())
    );
    assert_eq!(p.epoch_authenticator(), a.epoch_authenticator());
    let msg = sealed(&mut a, b"to partial dave");
    assert_eq!(p.process_message(&msg).unwrap().1, b"to partial dave");
    let sent = p.encrypt(b"from partial dave", b"").unwrap();
    match a
        .process(&PartialGroup::inner_message(&sent).unwrap())
        .unwrap()
    {
        Event::Application { sender, data, .. } => {
            assert_eq!(sender, dave_leaf);
            assert_eq!(data, b"from partial dave");
        }
        other => panic!("expected application data, got {other:?}"),
    }
    // Committing needs the tree.
    assert!(p.commit().is_err());
}

fn sender_authenticated_from(g: &Group, message: &[u8]) -> Vec<u8> {
    crate::test_support::partial::sender_authenticated(message, proof(g, &tree(g), g.own_leaf()))
}

#[test]
fn a_partial_client_leaves_by_a_proposal_a_member_commits() {
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    let sent = s.b.leave().unwrap();
    // One per epoch.
    assert!(matches!(s.b.leave(), Err(Error::Misuse(_))));
    // Stored with the group: still known after a restart.
    let mut bob = restarted(&s.storage, 9);
    let mut b2 = bob.load_partial_group(&group_id).unwrap();
    assert!(matches!(b2.leave(), Err(Error::Misuse(_))));

    // Full members read the inner proposal; Alice commits it by reference.
    let inner = PartialGroup::inner_message(&sent).unwrap();
    assert!(matches!(
        s.a.process(&inner).unwrap(),
        Event::Proposal { .. }
    ));
    let before = tree(&s.a);
    let out = s.a.commit().unwrap();
    s.a.process(&out.commit).unwrap();
    assert!(s.a.members().iter().all(|m| m.index != s.bob_leaf));
    let annotated = encode(&annotated_commit(&s.a, &before, &out.commit, s.bob_leaf)).unwrap();
    assert_eq!(
        b2.process_annotated_commit(&annotated).unwrap(),
        PartialCommitEvent::Removed
    );
    assert!(record(&s.storage, &group_id).is_none());
}

/// Refuses the basic credential `identity`.
struct Ban(&'static [u8]);

impl CredentialValidator for Ban {
    fn validate(
        &self,
        _cx: &ValidationContext<'_>,
        credential: &crate::crypto::credential::Credential,
        _key: &crate::crypto::SignaturePublicKey,
    ) -> Result<(), Rejection> {
        match credential {
            crate::crypto::credential::Credential::Basic { identity } if identity == self.0 => {
                Err(Rejection::new("banned"))
            }
            _ => Ok(()),
        }
    }
}

#[test]
fn an_upgrade_validates_every_leaf_of_the_tree_as_a_join_does() {
    // The tree matches the epoch's tree hash, but a leaf the partial
    // client never saw holds a credential its validator refuses (§5.3.1,
    // §12.4.3.1): the upgrade is refused as a join would be.
    let s = setup();
    let group_id = s.a.group_id().to_vec();
    let tree_bytes = s.a.ratchet_tree().unwrap();
    drop(s.b);
    drop(s.bob);
    let mut strict = Client::restore(s.storage.clone())
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([11; 32])))
        .credential_validator(Arc::new(Ban(b"carol")))
        .build()
        .unwrap();
    let mut b = strict.load_partial_group(&group_id).unwrap();
    let stored = record(&s.storage, &group_id);
    assert!(strict.upgrade_partial(&mut b, &tree_bytes).is_err());
    assert!(b.is_active());
    assert_eq!(record(&s.storage, &group_id), stored);
    drop(b);
    drop(strict);
    // The same tree with a validator that accepts Carol.
    let mut bob = restarted(&s.storage, 12);
    let mut b = bob.load_partial_group(&group_id).unwrap();
    let g = bob.upgrade_partial(&mut b, &tree_bytes).unwrap();
    assert_eq!(g.epoch_authenticator(), s.a.epoch_authenticator());
}

/// The whole store, to check a refused operation wrote nothing.
fn everything(storage: &SharedStorage) -> Vec<(Vec<u8>, Vec<u8>)> {
    crate::storage::with(storage, |s| s.scan(b"")).unwrap()
}

#[test]
fn a_stored_record_with_more_cached_proposals_than_the_limit_is_refused() {
    use crate::group::proposal_cache::{CachedProposal, ProposalCache};
    use crate::messages::proposals::{Proposal, Remove};
    // `process` never caches more than MAX_PARTIAL_PROPOSALS; a record
    // holding more was written by something else (tampered storage) and
    // would make every later commit resolve references in a larger cache.
    let s = setup();
    let group_id = s.a.group_id().to_vec();
    drop(s.b);
    drop(s.bob);
    let mut bob = restarted(&s.storage, 9);
    let state = bob.load_partial_group(&group_id).unwrap().state;
    let with_proposals = |n: usize| {
        let mut cache = ProposalCache::default();
        for i in 0..n {
            let mut reference = vec![0u8; 32];
            reference[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.insert(CachedProposal {
                reference,
                proposal: Proposal::Remove(Remove {
                    removed: LeafIndex(2),
                }),
                sender: crate::framing::Sender::Member(LeafIndex(0)),
            });
        }
        assert_eq!(cache.len(), n);
        crate::persist::partial_records::encode_partial(&state, &cache).unwrap()
    };
    let put = |bytes: Vec<u8>| {
        let mut batch = crate::storage::WriteBatch::default();
        batch.put(partial_key(&group_id), bytes);
        crate::storage::with(&s.storage, |st| st.write(batch)).unwrap();
    };

    put(with_proposals(MAX_PARTIAL_PROPOSALS + 1));
    let before = everything(&s.storage);
    let err = bob.load_partial_group(&group_id).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err}");
    assert!(err.to_string().contains("MAX_PARTIAL_PROPOSALS"), "{err}");
    // Loading wrote nothing, deleted nothing.
    assert_eq!(everything(&s.storage), before);

    // At the limit the record is one `process` could have written.
    put(with_proposals(MAX_PARTIAL_PROPOSALS));
    let b = bob.load_partial_group(&group_id).unwrap();
    assert_eq!(b.cached_proposals(), MAX_PARTIAL_PROPOSALS);
    assert_eq!(b.epoch_authenticator(), s.a.epoch_authenticator());
}

#[test]
fn an_upgrade_with_the_applications_config_keeps_it() {
    use crate::group::state::GroupConfig;
    let mut s = setup();
    let group_id = s.a.group_id().to_vec();
    let tree_bytes = s.a.ratchet_tree().unwrap();
    let stored = everything(&s.storage);

    // The caller's limits apply to the tree: three members need four
    // leaves, two are allowed. Refused, nothing changed.
    let small = GroupConfig::default().with_max_leaves(2);
    let err = s
        .bob
        .upgrade_partial_with(&mut s.b, &tree_bytes, small)
        .unwrap_err();
    assert!(
        matches!(err, Error::Limit(_)) && err.to_string().contains("max_leaves"),
        "{err}"
    );
    assert!(s.b.is_active());
    assert_eq!(everything(&s.storage), stored);

    let config = GroupConfig::default()
        .with_encrypted_handshakes(true)
        .with_padding(64)
        .with_past_epochs(3)
        .with_max_leaves(64);
    assert_ne!(config, GroupConfig::default());
    let mut g = s
        .bob
        .upgrade_partial_with(&mut s.b, &tree_bytes, config)
        .unwrap();
    assert_eq!(*g.config(), config);
    assert_eq!(g.epoch_authenticator(), s.a.epoch_authenticator());

    // The setting is in force: Bob's commit is a PrivateMessage.
    let out = g.update().unwrap();
    let wire: crate::framing::MlsMessage = crate::decode_exact("commit", &out.commit).unwrap();
    assert!(matches!(
        wire.body,
        crate::framing::MlsMessageBody::PrivateMessage(_)
    ));
    g.process(&out.commit).unwrap();
    follow(&mut s.a, &out.commit);
    assert_eq!(g.epoch_authenticator(), s.a.epoch_authenticator());

    // And stored: a restart loads the group with it.
    drop(g);
    let loaded = s.bob.load_group(&group_id).unwrap();
    assert_eq!(*loaded.config(), config);
}
