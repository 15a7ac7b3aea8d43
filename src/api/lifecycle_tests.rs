//! Authorization and lifecycle through the public API: a refused proposal
//! never reaches our commit, a pending commit survives until a competing
//! one is merged, and a refused continuation Welcome keeps the key package.

use std::sync::Arc;

use super::*;
use crate::crypto::SeededRandom;
use crate::crypto::credential::Credential;
use crate::types::math::LeafIndex;

const NOW: u64 = 1_750_000_000;

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

fn client_with(name: &str, seed: u8, validator: Arc<dyn CredentialValidator>) -> Client {
    Client::builder(name)
        .clock(Arc::new(FixedClock(NOW)))
        .random(Box::new(SeededRandom::from_seed([seed; 32])))
        .credential_validator(validator)
        .build()
        .unwrap()
}

fn client(name: &str, seed: u8) -> Client {
    client_with(name, seed, Arc::new(AcceptBasic))
}

fn stage(
    group: &mut Group,
    message: &[u8],
) -> (Box<crate::group::commit_stage::StagedCommit>, bool) {
    match group.process(message).unwrap() {
        Event::Commit {
            staged,
            supersedes_own,
        } => (staged, supersedes_own),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Alice (with `alice_validator`) and Bob in one group.
fn pair(alice_validator: Arc<dyn CredentialValidator>, seed: u8) -> (Client, Group, Client, Group) {
    let mut alice = client_with("alice", seed, alice_validator);
    let mut bob = client("bob", seed + 1);
    let mut a = alice.create_group(GroupOptions::default()).unwrap();
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let out = a.add(&[&kp]).unwrap();
    assert!(matches!(
        a.process(&out.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let b = bob.join(&out.welcome.unwrap(), None).unwrap();
    (alice, a, bob, b)
}

#[test]
fn a_refused_proposal_never_reaches_our_commit() {
    let (_alice, mut a, _bob, mut b) = pair(Arc::new(Ban(b"mallory")), 60);
    let mut mallory = client("mallory", 62);
    let kp = mallory.key_package(KeyPackageOptions::default()).unwrap();

    // Bob's policy admits Mallory; Alice's refuses her proposal, so Alice's
    // next commit cannot add her and Bob still follows it (no fork).
    let proposal = b.propose_add(&kp).unwrap();
    let err = a.process(&proposal).unwrap_err();
    assert_eq!(err.category(), crate::ErrorCategory::Rejected, "{err}");
    assert_eq!(a.state().proposals().iter().count(), 0);
    let out = a.commit().unwrap();
    assert!(out.welcome.is_none());
    assert!(matches!(
        a.process(&out.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let (staged, _) = stage(&mut b, &out.commit);
    assert!(staged.summary.added.is_empty());
    b.merge(*staged).unwrap();
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
    assert_eq!(a.members().len(), 2);

    // Adding her directly is refused before anything is built.
    let err = a.add(&[&kp]).unwrap_err();
    assert!(
        matches!(
            err,
            crate::Error::Rejected {
                purpose: CredentialUse::KeyPackage,
                ..
            }
        ),
        "{err}"
    );
    assert!(!a.has_pending_commit());
}

#[test]
fn a_pending_commit_survives_until_a_competing_commit_is_merged() {
    let (_alice, mut a, _bob, mut b) = pair(Arc::new(AcceptBasic), 64);
    let ours = a.update().unwrap();
    let theirs = b.update().unwrap();

    // Staging Bob's commit reports the race but keeps ours.
    let (staged, supersedes_own) = stage(&mut a, &theirs.commit);
    assert!(supersedes_own);
    assert!(a.has_pending_commit());
    drop(staged);
    // The delivery service sequenced ours first after all: it merges.
    assert!(matches!(
        a.process(&ours.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let (staged, supersedes_own) = stage(&mut b, &ours.commit);
    assert!(supersedes_own);
    b.merge(*staged).unwrap();
    assert!(!b.has_pending_commit());
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());

    // Merging a competing commit is what drops ours.
    let _ours = a.update().unwrap();
    let theirs = b.update().unwrap();
    let (staged, _) = stage(&mut a, &theirs.commit);
    a.merge(*staged).unwrap();
    assert!(!a.has_pending_commit());
    assert!(matches!(
        b.process(&theirs.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

#[test]
fn a_refused_branch_welcome_keeps_the_key_package() {
    let (mut alice, a, mut bob, b) = pair(Arc::new(AcceptBasic), 66);
    // A plain Welcome (no resumption PSK) is not a branch of `a`.
    let kp = bob.key_package(KeyPackageOptions::default()).unwrap();
    let mut other = alice.create_group(GroupOptions::default()).unwrap();
    let out = other.add(&[&kp]).unwrap();
    let welcome = out.welcome.unwrap();
    let err = bob.join_branch(&welcome, None, &b).unwrap_err();
    assert!(
        matches!(err, crate::Error::Protocol { rule: "§11.3", .. }),
        "{err}"
    );
    // The key package was not consumed by the refused join.
    assert!(matches!(
        other.process(&out.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let joined = bob.join(&welcome, None).unwrap();
    assert_eq!(joined.epoch_authenticator(), other.epoch_authenticator());
    assert_eq!(joined.own_leaf(), LeafIndex(1));
    let _ = a;
}

#[test]
fn commit_covers_a_valid_subset_and_reports_the_rest() {
    let (_alice, mut a, _bob, mut b) = pair(Arc::new(AcceptBasic), 68);
    // Bob proposes removing Alice and updates himself; Alice cannot commit
    // her own removal (§12.2) but still commits Bob's Update.
    let removal = b.propose_remove(LeafIndex(0)).unwrap();
    let update = b.propose_update().unwrap();
    for p in [&removal, &update] {
        assert!(matches!(a.process(p).unwrap(), Event::Proposal { .. }));
    }
    let out = a.commit().unwrap();
    assert_eq!(out.left_out.len(), 1);
    assert_eq!(
        out.left_out[0].proposal_type,
        crate::types::ProposalType::REMOVE
    );
    assert!(matches!(
        a.process(&out.commit).unwrap(),
        Event::OwnCommitMerged { .. }
    ));
    let (staged, _) = stage(&mut b, &out.commit);
    assert_eq!(staged.summary.updated, vec![LeafIndex(1)]);
    b.merge(*staged).unwrap();
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
}

#[test]
fn an_external_joiner_cannot_remove_someone_else() {
    let (_alice, mut a, mut bob, mut b) = pair(Arc::new(AcceptBasic), 70);
    let info = a.group_info(true).unwrap();
    // Eve asks to remove Bob while joining: her own engine refuses.
    let mut eve = client("eve", 72);
    let err = eve
        .join_by_external_commit(&info, None, Some(LeafIndex(1)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            crate::Error::Rejected {
                rule: "§12.4.3.2",
                purpose: CredentialUse::ExternalJoin,
                leaf: Some(LeafIndex(1)),
                ..
            }
        ),
        "{err}"
    );
    // Bob resyncing from lost state may remove his own old leaf.
    let (b2, commit) = bob
        .join_by_external_commit(&info, None, Some(LeafIndex(1)))
        .unwrap();
    let (staged, _) = stage(&mut a, &commit);
    assert_eq!(staged.summary.removed, vec![LeafIndex(1)]);
    a.merge(*staged).unwrap();
    assert_eq!(a.epoch_authenticator(), b2.epoch_authenticator());
    assert!(b.process(&commit).is_ok());
}
