//! The application's credential decisions inside the engine (§5.3.1,
//! §12.4.3.2): a refused credential is never cached, staged or joined, and
//! the refusal reaches the caller with its purpose and leaf.

use std::sync::{Arc, Mutex};

use super::external_commit_rules::group_info;
use super::*;
use crate::group::authorization::{
    Authority, CredentialUse, CredentialValidator, Rejection, ValidationContext, same_identity,
};
use crate::group::external::ExternalJoin;
use crate::group::join::JoinInputs;
use crate::group::psk_store::PskUse;
use crate::tree::treekem::LeafContent;

/// A test authentication service: refuses one identity, optionally allows
/// renames and any external removal, and records every question.
#[derive(Default)]
struct Policy {
    banned: &'static [u8],
    allow_rename: bool,
    allow_any_removal: bool,
    seen: Mutex<Vec<Asked>>,
}

/// What the validator was asked: purpose, group id, epoch, leaf.
type Asked = (CredentialUse, Vec<u8>, u64, Option<LeafIndex>);

impl Policy {
    fn banning(banned: &'static [u8]) -> Arc<Self> {
        Arc::new(Self {
            banned,
            ..Self::default()
        })
    }

    fn record(&self, cx: &ValidationContext<'_>) {
        self.seen
            .lock()
            .unwrap()
            .push((cx.purpose, cx.group_id.to_vec(), cx.epoch, cx.leaf));
    }
}

impl CredentialValidator for Policy {
    fn validate(
        &self,
        cx: &ValidationContext<'_>,
        credential: &Credential,
        _key: &crate::crypto::SignaturePublicKey,
    ) -> Result<(), Rejection> {
        self.record(cx);
        match credential {
            Credential::Basic { identity } if identity == self.banned => {
                Err(Rejection::new("banned by the test policy"))
            }
            _ => Ok(()),
        }
    }

    fn validate_successor(
        &self,
        cx: &ValidationContext<'_>,
        old: &Credential,
        new: &Credential,
    ) -> Result<(), Rejection> {
        self.record(cx);
        if self.allow_rename {
            Ok(())
        } else {
            same_identity(old, new)
        }
    }

    fn validate_external_removal(
        &self,
        cx: &ValidationContext<'_>,
        removed: &Credential,
        joiner: &Credential,
    ) -> Result<(), Rejection> {
        self.record(cx);
        if self.allow_any_removal {
            Ok(())
        } else {
            same_identity(removed, joiner)
        }
    }
}

fn set_policy(groups: &mut [GroupState], policy: &Arc<Policy>) {
    for g in groups {
        g.authority = Authority::new(policy.clone());
    }
}

/// Checks that `result` is the validator's refusal for `purpose` and
/// `leaf` under `rule`.
fn assert_refusal<T: std::fmt::Debug>(
    result: crate::Result<T>,
    rule: &str,
    purpose: CredentialUse,
    leaf: Option<u32>,
) {
    match result {
        Err(Error::Rejected {
            rule: r,
            purpose: p,
            leaf: l,
            rejection,
        }) => {
            assert_eq!(r, rule, "rule ({rejection})");
            assert_eq!(p, purpose, "purpose ({rejection})");
            assert_eq!(l, leaf.map(LeafIndex), "leaf ({rejection})");
        }
        other => panic!("expected a {rule} refusal for {purpose:?}, got {other:?}"),
    }
}

/// `message` is refused by `g` as [`assert_refusal`] checks, and `g` is
/// unchanged (epoch, authenticator, tree hash, proposal cache).
fn assert_refused(
    g: &mut GroupState,
    message: &[u8],
    rule: &str,
    purpose: CredentialUse,
    leaf: Option<u32>,
) {
    let before = snapshot(g);
    assert_refusal(g.process(message, &NoPsks, NOW), rule, purpose, leaf);
    assert_eq!(snapshot(g), before, "a refused message changed the state");
    // An observer with the same validator refuses it alike (or only routes
    // a PrivateMessage).
    let mut observer = observer_of(g);
    let observer_before = observer.to_bytes().unwrap();
    let outcome = observer.process(message, NOW);
    if matches!(Route::of(message), Ok(r) if r.wire_format == WireFormat::PRIVATE_MESSAGE) {
        assert!(matches!(outcome, Ok(Observed::Private(_))), "{outcome:?}");
    } else {
        assert_refusal(outcome, rule, purpose, leaf);
    }
    assert_eq!(observer.to_bytes().unwrap(), observer_before);
}

#[test]
fn refused_add_is_never_cached_staged_or_committed() {
    let (clients, mut groups) = group_of(3);
    set_policy(&mut groups, &Policy::banning(b"mallory"));
    let mallory = EngineMember::new("mallory", 9);
    let (kp, _) = mallory.key_package(&mut rng(90));

    // By reference: nobody caches it, so no later commit can cover it.
    let message = propose(&groups[1], &clients[1].signer, add(kp.clone()));
    for g in groups.iter_mut() {
        assert_refused(g, &message, "§5.3.1", CredentialUse::Add, None);
        assert_eq!(g.proposals().iter().count(), 0);
    }

    // By value from a member with a laxer policy: nobody stages it.
    groups[1].authority = Authority::default();
    let created = groups[1]
        .create_commit(clients[1].params(vec![add(kp.clone())]), &mut rng(91))
        .unwrap();
    for i in [0, 2] {
        assert_refused(
            &mut groups[i],
            &created.message,
            "§5.3.1",
            CredentialUse::Add,
            None,
        );
    }

    // Our own commit refuses it too.
    let before = snapshot(&groups[0]);
    let own = groups[0].create_commit(clients[0].params(vec![add(kp)]), &mut rng(92));
    assert_refusal(own, "§5.3.1", CredentialUse::Add, None);
    assert_eq!(snapshot(&groups[0]), before);
    still_works(&clients, &mut groups, 2, 93);
}

/// `joiner`'s external commit into `g`'s group removing `remove`, built
/// with `authority` on the joiner's side.
fn external_commit_removing(
    g: &GroupState,
    owner: &EngineMember,
    joiner: &EngineMember,
    remove: u32,
    authority: Authority,
) -> crate::Result<(GroupState, Vec<u8>)> {
    let info = group_info(g, &owner.signer);
    let (kp, _) = joiner.key_package(&mut rng(94));
    GroupState::external_join(
        &g.suite,
        ExternalJoin {
            group_info: &info,
            ratchet_tree: None,
            leaf: LeafContent::from_leaf(&kp.leaf_node),
            signer: &joiner.signer,
            remove: Some(LeafIndex(remove)),
            now: NOW,
            config: GroupConfig::default(),
            authority,
            psks: Vec::new(),
            psk_store: &crate::group::psk_store::NoPsks,
            authenticated_data: Vec::new(),
            self_removes: Vec::new(),
        },
        &mut rng(95),
    )
}

#[test]
fn external_commit_removes_only_the_joiners_old_leaf() {
    let (clients, mut groups) = group_of(3);
    let eve = EngineMember::new("eve", 9);

    // The joiner's own engine refuses to remove someone else by default.
    let ours = external_commit_removing(&groups[0], &clients[0], &eve, 1, Authority::default());
    assert_refusal(ours, "§12.4.3.2", CredentialUse::ExternalJoin, Some(1));

    // A hostile joiner builds it anyway: every member refuses it.
    let lax = Arc::new(Policy {
        allow_any_removal: true,
        ..Policy::default()
    });
    let (_, attack) = external_commit_removing(
        &groups[0],
        &clients[0],
        &eve,
        1,
        Authority::new(lax.clone()),
    )
    .unwrap();
    for g in groups.iter_mut() {
        assert_refused(
            g,
            &attack,
            "§12.4.3.2",
            CredentialUse::ExternalJoin,
            Some(1),
        );
    }
    // The application decides: a policy that allows it stages it.
    groups[2].authority = Authority::new(lax);
    assert!(matches!(
        groups[2].process(&attack, &NoPsks, NOW),
        Ok(Received::Commit(_))
    ));
    groups[2].authority = Authority::default();

    // Bob resyncing (same identity, new keys) may remove his old leaf.
    let bob_again = EngineMember::new("bob", 2);
    let (bob2, resync) =
        external_commit_removing(&groups[0], &clients[0], &bob_again, 1, Authority::default())
            .unwrap();
    for i in [0, 2] {
        let Received::Commit(staged) = groups[i].process(&resync, &NoPsks, NOW).unwrap() else {
            panic!("expected a commit");
        };
        groups[i].merge(*staged).unwrap();
    }
    let mut rest = vec![groups.remove(0), groups.remove(1)];
    rest.push(bob2);
    assert_in_sync(&rest);
}

/// `g`'s owner's leaf renamed to `identity`, signed as an Update.
fn renamed_update(g: &GroupState, client: &EngineMember, identity: &[u8]) -> Proposal {
    let Proposal::Update(mut update) = update_proposal(g, client, 97) else {
        unreachable!()
    };
    update.leaf_node.credential = Credential::basic(identity.to_vec());
    update
        .leaf_node
        .sign(
            &g.suite,
            &client.signer,
            Some((&g.context().group_id, g.own_leaf())),
        )
        .unwrap();
    Proposal::Update(update)
}

/// Bob proposes an Update whose credential holds `identity`; Alice and
/// Charlie refuse it as no valid successor (§5.3.1), changing nothing.
fn refuse_renaming_update(clients: &[EngineMember], groups: &mut [GroupState], identity: &[u8]) {
    let message = propose(
        &groups[1],
        &clients[1].signer,
        renamed_update(&groups[1], &clients[1], identity),
    );
    for i in [0, 2] {
        assert_refused(
            &mut groups[i],
            &message,
            "§5.3.1",
            CredentialUse::Update,
            Some(1),
        );
    }
}

#[test]
fn a_member_cannot_rename_itself_without_a_successor_decision() {
    let (clients, mut groups) = group_of(3);

    // An Update that changes Bob's identity.
    refuse_renaming_update(&clients, &mut groups, b"root");

    // A commit path that changes it: Bob's own engine refuses first.
    let mut leaf = LeafContent::from_leaf(groups[1].tree().leaf(LeafIndex(1)).unwrap());
    leaf.credential = Credential::basic(b"root".to_vec());
    let mut params = clients[1].params(vec![]);
    params.leaf = Some(leaf.clone());
    let own = groups[1].create_commit(params, &mut rng(98));
    assert_refusal(own, "§5.3.1", CredentialUse::CommitPath, Some(1));

    let rename_ok = Arc::new(Policy {
        allow_rename: true,
        ..Policy::default()
    });
    groups[1].authority = Authority::new(rename_ok.clone());
    let mut params = clients[1].params(vec![]);
    params.leaf = Some(leaf);
    let created = groups[1].create_commit(params, &mut rng(98)).unwrap();
    for i in [0, 2] {
        assert_refused(
            &mut groups[i],
            &created.message,
            "§5.3.1",
            CredentialUse::CommitPath,
            Some(1),
        );
    }
    // With a policy that accepts the succession, everyone follows.
    set_policy(&mut groups, &rename_ok);
    deliver(&mut groups, 1, created);
    assert_in_sync(&groups);
    assert_eq!(
        groups[0].tree().leaf(LeafIndex(1)).unwrap().credential,
        Credential::basic(b"root".to_vec())
    );
}

#[test]
fn the_validator_learns_purpose_group_epoch_and_leaf() {
    let ds = EngineMember::new("ds", 30);
    let (clients, mut groups) = group_of(2);
    let policy = Arc::new(Policy::default());
    set_policy(&mut groups, &policy);
    let group_id = groups[0].context().group_id.clone();

    // Tree import: a new member's join sees every member.
    let charlie = EngineMember::new("charlie", 3);
    let (kp, private) = charlie.key_package(&mut rng(31));
    let created = groups[0]
        .create_commit(clients[0].params(vec![add(kp.clone())]), &mut rng(32))
        .unwrap();
    let welcome: MlsMessage =
        decode_exact("MLSMessage", created.welcome.as_ref().unwrap()).unwrap();
    let MlsMessageBody::Welcome(welcome) = welcome.body else {
        panic!("not a Welcome")
    };
    deliver(&mut groups, 0, created);
    let (charlie_group, _) = GroupState::join_authorized(
        &charlie.suite,
        JoinInputs {
            welcome: &welcome,
            key_package: &kp,
            private: &private,
            ratchet_tree: None,
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default(),
            psk_use: PskUse::Normal,
        },
        Authority::new(policy.clone()),
    )
    .unwrap();
    groups.push(charlie_group);

    // An Update, a commit path and an external_senders extension.
    let update = propose(
        &groups[1],
        &clients[1].signer,
        update_proposal(&groups[1], &clients[1], 33),
    );
    groups[0].process(&update, &NoPsks, NOW).unwrap();
    let senders = vec![ExternalSender {
        signature_key: ds.public.clone(),
        credential: Credential::basic(b"ds".to_vec()),
    }];
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: vec![Extension {
            extension_type: ExtensionType::EXTERNAL_SENDERS,
            extension_data: encode(&senders).unwrap(),
        }],
    });
    let mut params = charlie.params(vec![gce]);
    params.force_path = true;
    let created = groups[2].create_commit(params, &mut rng(34)).unwrap();
    groups[0].process(&created.message, &NoPsks, NOW).unwrap();

    let seen = policy.seen.lock().unwrap().clone();
    let asked = |purpose, epoch, leaf: Option<u32>| {
        seen.contains(&(purpose, group_id.clone(), epoch, leaf.map(LeafIndex)))
    };
    assert!(asked(CredentialUse::Add, 1, None), "{seen:?}");
    for leaf in 0..3 {
        assert!(asked(CredentialUse::TreeImport, 2, Some(leaf)), "{seen:?}");
    }
    assert!(asked(CredentialUse::Update, 2, Some(1)), "{seen:?}");
    assert!(asked(CredentialUse::ExternalSender, 2, Some(0)), "{seen:?}");
    assert!(asked(CredentialUse::CommitPath, 2, Some(2)), "{seen:?}");

    // The refusal itself reaches the caller, reason included.
    let mallory = EngineMember::new("mallory", 35);
    let (kp, _) = mallory.key_package(&mut rng(36));
    set_policy(&mut groups, &Policy::banning(b"mallory"));
    let message = propose(&groups[1], &clients[1].signer, add(kp));
    let err = groups[0].process(&message, &NoPsks, NOW).unwrap_err();
    assert_eq!(err.category(), crate::ErrorCategory::Rejected);
    assert!(
        err.to_string().contains("banned by the test policy"),
        "{err}"
    );
    assert!(matches!(
        err,
        Error::Rejected { ref rejection, .. } if *rejection == Rejection::new("banned by the test policy")
    ));
}

#[test]
fn a_refused_member_makes_the_whole_join_fail() {
    let (clients, mut groups) = group_of(2);
    let charlie = EngineMember::new("charlie", 3);
    let (kp, private) = charlie.key_package(&mut rng(41));
    let created = groups[0]
        .create_commit(clients[0].params(vec![add(kp.clone())]), &mut rng(42))
        .unwrap();
    let welcome: MlsMessage =
        decode_exact("MLSMessage", created.welcome.as_ref().unwrap()).unwrap();
    let MlsMessageBody::Welcome(welcome) = welcome.body else {
        panic!("not a Welcome")
    };
    let joined = GroupState::join_authorized(
        &charlie.suite,
        JoinInputs {
            welcome: &welcome,
            key_package: &kp,
            private: &private,
            ratchet_tree: None,
            psks: &NoPsks,
            now: NOW,
            config: GroupConfig::default(),
            psk_use: PskUse::Normal,
        },
        Authority::new(Policy::banning(b"bob")),
    );
    assert_refusal(
        joined.map(|_| ()),
        "§5.3.1",
        CredentialUse::TreeImport,
        Some(1),
    );
}

#[test]
fn an_external_commit_may_not_remove_another_device_of_the_same_user() {
    // §12.4.3.2: a joiner removes only "an old version of themselves". Bob
    // (plain "bob", his one unnamed device) is in the group; a new named
    // device of Bob may not take his leaf.
    let (clients, mut groups) = group_of(3);
    let laptop = EngineMember::new("mls-device:bob/laptop", 9);
    let ours = external_commit_removing(&groups[0], &clients[0], &laptop, 1, Authority::default());
    assert_refusal(ours, "§12.4.3.2", CredentialUse::ExternalJoin, Some(1));

    let lax = Arc::new(Policy {
        allow_any_removal: true,
        ..Policy::default()
    });
    let (_, attack) =
        external_commit_removing(&groups[0], &clients[0], &laptop, 1, Authority::new(lax)).unwrap();
    for g in groups.iter_mut() {
        assert_refused(
            g,
            &attack,
            "§12.4.3.2",
            CredentialUse::ExternalJoin,
            Some(1),
        );
        assert_eq!(
            g.tree().leaf(LeafIndex(1)).unwrap().credential,
            Credential::basic(b"bob".to_vec())
        );
    }
    still_works(&clients, &mut groups, 2, 99);
}

#[test]
fn an_update_may_not_move_a_leaf_to_another_device() {
    // §5.3.1: an Update's credential must be a valid successor; by default
    // that is the same user's same device, not a sibling device.
    let (clients, mut groups) = group_of(3);
    refuse_renaming_update(&clients, &mut groups, b"mls-device:bob/laptop");
    still_works(&clients, &mut groups, 0, 100);
}

/// An X.509 credential whose leaf certificate has `serial` and `uris` in
/// its subjectAltName.
fn certificate(serial: u8, uris: &[&[u8]]) -> Credential {
    Credential::X509 {
        certificates: vec![crate::crypto::credential::Certificate {
            cert_data: crate::crypto::x509::fixtures::cert(serial, Some(uris)),
        }],
    }
}

#[test]
fn a_renewed_certificate_succeeds_the_old_one_only_for_the_same_device() {
    // §5.3.1: the default successor rule reads the device from the
    // certificate's subjectAltName, so a renewal (another certificate, same
    // device) is accepted and a sibling device's certificate is not.
    let authority = Authority::default();
    let cx = || ValidationContext {
        purpose: CredentialUse::Update,
        group_id: b"g",
        epoch: 1,
        leaf: Some(LeafIndex(0)),
        binding: None,
    };
    let phone = certificate(1, &[b"mls-device:alice/phone"]);
    let renewed = certificate(2, &[b"https://alice.example", b"mls-device:alice/phone"]);
    let laptop = certificate(3, &[b"mls-device:alice/laptop"]);
    let mallory = certificate(4, &[b"mls-device:mallory/phone"]);
    authority.check_successor(cx(), &phone, &renewed).unwrap();
    for (old, new) in [(&phone, &laptop), (&phone, &mallory)] {
        assert_refusal(
            authority.check_successor(cx(), old, new),
            "§5.3.1",
            CredentialUse::Update,
            Some(0),
        );
        assert_refusal(
            authority.check_external_removal(cx(), old, new),
            "§12.4.3.2",
            CredentialUse::Update,
            Some(0),
        );
    }
    authority
        .check_external_removal(cx(), &phone, &renewed)
        .unwrap();
    // Certificates that name no device must be equal, as before; a basic
    // credential presenting the same device is another type: refused.
    let bare = certificate(5, &[]);
    assert!(
        authority
            .check_successor(cx(), &bare, &certificate(6, &[]))
            .is_err()
    );
    assert!(
        authority
            .check_successor(
                cx(),
                &phone,
                &Credential::basic(b"mls-device:alice/phone".to_vec())
            )
            .is_err()
    );
}
