//! Observer tests: it follows a group of members built by the engine tests
//! (and, through `deliver` and `assert_rejected` of the rule tests, accepts
//! every commit they accept and rejects every commit they reject, but for
//! the rules that need secrets).

use super::*;
use crate::codec::encode;
use crate::crypto::SeededRandom;
use crate::group::psk_store::NoPsks;
use crate::group::state::GroupState;
use crate::group::welcome_open::GROUP_INFO_LABEL;
use crate::messages::proposals::{Proposal, Remove};
use crate::test_support::engine::{NOW, deliver, group_of};
use crate::types::math::LeafIndex;

/// An observer of `g`'s group in `g`'s current epoch, holding exactly the
/// public part of `g`'s state (as if built from a GroupInfo of `g`).
pub(crate) fn observer_of(g: &GroupState) -> ObserverState {
    ObserverState {
        suite: g.suite.clone(),
        config: g.config,
        authority: g.authority.clone(),
        current: Branch {
            epoch: PublicEpoch {
                context: g.epoch.context.clone(),
                tree: g.epoch.tree.clone(),
                interim_transcript_hash: g.epoch.interim_transcript_hash.clone(),
                confirmation_tag: g.epoch.confirmation_tag.clone(),
            },
            proposals: g.proposals.clone(),
            reinit: None,
            newcomers: Vec::new(),
        },
        group_info: None,
        other: None,
    }
}

/// Checks that `observer` holds the public state of `member`.
pub(crate) fn assert_observes(observer: &ObserverState, member: &GroupState) {
    assert_eq!(observer.context(), member.context(), "GroupContext differs");
    assert_eq!(
        observer.current.epoch.interim_transcript_hash, member.epoch.interim_transcript_hash,
        "interim transcript hash differs"
    );
    assert_eq!(
        observer.current.epoch.confirmation_tag, member.epoch.confirmation_tag,
        "confirmation tag differs"
    );
    assert_eq!(
        observer.tree().to_bytes().unwrap(),
        member.tree().to_bytes().unwrap()
    );
}

/// A GroupInfo of `g`'s epoch signed by `signer` (the owner of `g`), as an
/// MLSMessage, optionally with the tree.
pub(crate) fn signed_group_info(
    g: &GroupState,
    signer: &crate::crypto::SignaturePrivateKey,
    with_tree: bool,
) -> Vec<u8> {
    let mut extensions = Vec::new();
    if with_tree {
        extensions.push(crate::types::Extension {
            extension_type: ExtensionType::RATCHET_TREE,
            extension_data: g.tree().to_bytes().unwrap(),
        });
    }
    let mut info = GroupInfo {
        group_context: g.context().clone(),
        extensions,
        confirmation_tag: g.epoch.confirmation_tag.clone(),
        signer: g.own_leaf(),
        signature: Vec::new(),
    };
    info.signature = g
        .suite
        .sign_with_label(signer, GROUP_INFO_LABEL, &info.to_be_signed().unwrap())
        .unwrap();
    encode(&MlsMessage::new(MlsMessageBody::GroupInfo(Box::new(info)))).unwrap()
}

fn decode_info(bytes: &[u8]) -> GroupInfo {
    let m: MlsMessage = crate::codec::decode_exact(bytes).unwrap();
    let MlsMessageBody::GroupInfo(info) = m.body else {
        panic!("not a GroupInfo")
    };
    *info
}

#[test]
fn from_group_info_with_and_without_tree_then_follow_commits() {
    let (clients, mut groups) = group_of(3);
    let info = decode_info(&signed_group_info(&groups[1], &clients[1].signer, true));
    let mut with_tree = ObserverState::from_group_info(
        &groups[0].suite,
        &info,
        None,
        GroupConfig::default(),
        Authority::default(),
        NOW,
    )
    .unwrap();
    assert_observes(&with_tree, &groups[0]);

    let info = decode_info(&signed_group_info(&groups[1], &clients[1].signer, false));
    let missing = ObserverState::from_group_info(
        &groups[0].suite,
        &info,
        None,
        GroupConfig::default(),
        Authority::default(),
        NOW,
    );
    assert!(matches!(missing, Err(Error::Misuse(_))), "{missing:?}");
    let mut without_tree = ObserverState::from_group_info(
        &groups[0].suite,
        &info,
        Some(groups[0].tree().clone()),
        GroupConfig::default(),
        Authority::default(),
        NOW,
    )
    .unwrap();
    assert_observes(&without_tree, &groups[0]);

    // Charlie removes Bob; both observers follow.
    let mut rng = SeededRandom::from_seed([9; 32]);
    let created = groups[2]
        .create_commit(
            clients[2].params(vec![Proposal::Remove(Remove {
                removed: LeafIndex(1),
            })]),
            &mut rng,
        )
        .unwrap();
    for o in [&mut with_tree, &mut without_tree] {
        let Observed::Commit(staged) = o.process(&created.message, NOW).unwrap() else {
            panic!("expected a commit")
        };
        assert_eq!(staged.summary().removed, vec![LeafIndex(1)]);
        assert_eq!(staged.epoch(), 2);
        o.merge(*staged).unwrap();
    }
    let mut remaining = vec![groups.remove(0), groups.remove(1)];
    deliver(&mut remaining, 1, created);
    assert_observes(&with_tree, &remaining[0]);
    assert_observes(&without_tree, &remaining[0]);
    assert_eq!(with_tree.tree().member_count(), 2);
}

#[test]
fn a_forged_group_info_is_refused() {
    let (clients, groups) = group_of(2);
    // Signed by Bob's key but naming Alice's leaf as signer.
    let mut info = decode_info(&signed_group_info(&groups[1], &clients[1].signer, true));
    info.signer = LeafIndex(0);
    let err = ObserverState::from_group_info(
        &groups[0].suite,
        &info,
        None,
        GroupConfig::default(),
        Authority::default(),
        NOW,
    )
    .unwrap_err();
    assert!(err.to_string().contains("GroupInfo"), "{err}");
}

#[test]
fn a_commit_racing_for_a_taken_epoch_is_refused() {
    let (clients, mut groups) = group_of(3);
    let mut observer = observer_of(&groups[0]);
    let mut rng = SeededRandom::from_seed([10; 32]);
    // Bob and Charlie both commit for epoch 1.
    let bob = groups[1]
        .create_commit(clients[1].params(vec![]), &mut rng)
        .unwrap();
    let charlie = groups[2]
        .create_commit(clients[2].params(vec![]), &mut rng)
        .unwrap();
    assert_eq!(observer.commit_order(1), CommitOrder::Next);
    let Observed::Commit(staged) = observer.process(&bob.message, NOW).unwrap() else {
        panic!("expected a commit")
    };
    observer.merge(*staged).unwrap();
    assert_eq!(observer.commit_order(1), CommitOrder::Taken { current: 2 });
    assert_eq!(observer.commit_order(3), CommitOrder::Ahead { current: 2 });
    let before = observer.to_bytes().unwrap();
    match observer.process(&charlie.message, NOW) {
        Err(
            e @ Error::WrongEpoch {
                group_epoch: 2,
                message_epoch: 1,
                ..
            },
        ) => assert_eq!(
            e.epoch_timing(),
            Some(crate::types::error::EpochTiming::Past)
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);
    deliver(&mut groups, 1, bob);
    assert_observes(&observer, &groups[0]);
}

#[test]
fn a_commit_staged_in_another_epoch_does_not_merge() {
    let (clients, mut groups) = group_of(2);
    let mut observer = observer_of(&groups[0]);
    let mut rng = SeededRandom::from_seed([11; 32]);
    let first = groups[1]
        .create_commit(clients[1].params(vec![]), &mut rng)
        .unwrap();
    let Observed::Commit(a) = observer.process(&first.message, NOW).unwrap() else {
        panic!("expected a commit")
    };
    let Observed::Commit(b) = observer.process(&first.message, NOW).unwrap() else {
        panic!("expected a commit")
    };
    observer.merge(*a).unwrap();
    let before = observer.to_bytes().unwrap();
    assert!(matches!(observer.merge(*b), Err(Error::Misuse(_))));
    assert_eq!(observer.to_bytes().unwrap(), before);
}

#[test]
fn proposals_are_cached_and_committed_by_reference() {
    let (clients, mut groups) = group_of(3);
    let mut observer = observer_of(&groups[0]);
    let mut rng = SeededRandom::from_seed([12; 32]);
    // Bob proposes removing Charlie; Alice commits it by reference.
    let proposal = crate::group::rules_tests::propose_for_observer(
        &groups[1],
        &clients[1].signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(2),
        }),
    );
    let Observed::Proposal(p) = observer.process(&proposal, NOW).unwrap() else {
        panic!("expected a proposal")
    };
    assert!(matches!(
        observer.process(&proposal, NOW),
        Err(Error::Replay(_))
    ));
    for g in groups.iter_mut() {
        g.process(&proposal, &NoPsks, NOW).unwrap();
    }
    // The observer's state round-trips through its encoding, cache included.
    let restored = ObserverState::from_bytes(
        &crate::crypto::rust_crypto::RustCryptoProvider,
        &observer.to_bytes().unwrap(),
        GroupConfig::default(),
        Authority::default(),
    )
    .unwrap();
    assert_eq!(restored.to_bytes().unwrap(), observer.to_bytes().unwrap());
    assert!(restored.proposals().find(&p.reference).is_some());
    let mut observer = restored;

    let mut params = clients[0].params(vec![]);
    params.by_reference = vec![p.reference.clone()];
    let created = groups[0].create_commit(params, &mut rng).unwrap();
    let Observed::Commit(staged) = observer.process(&created.message, NOW).unwrap() else {
        panic!("expected a commit")
    };
    assert_eq!(staged.summary().removed, vec![LeafIndex(2)]);
    observer.merge(*staged).unwrap();
    assert!(observer.proposals().is_empty());
    groups.truncate(2);
    deliver(&mut groups, 0, created);
    assert_observes(&observer, &groups[1]);
}

#[test]
fn group_info_uploads_are_checked() {
    let (clients, groups) = group_of(2);
    let mut observer = observer_of(&groups[0]);
    assert!(observer.group_info().is_none());
    let good = signed_group_info(&groups[1], &clients[1].signer, true);
    observer.accept_group_info(&good).unwrap();
    assert_eq!(observer.group_info(), Some(&good[..]));

    // Signed by the wrong member.
    let mut info = decode_info(&signed_group_info(&groups[1], &clients[0].signer, false));
    info.signer = LeafIndex(1);
    let forged = encode(&MlsMessage::new(MlsMessageBody::GroupInfo(Box::new(info)))).unwrap();
    let err = observer.accept_group_info(&forged).unwrap_err();
    assert!(err.to_string().contains("GroupInfo"), "{err}");

    // Another confirmation tag than the epoch's.
    let mut info = decode_info(&good);
    info.confirmation_tag[0] ^= 1;
    info.signature = groups[0]
        .suite
        .sign_with_label(
            &clients[1].signer,
            GROUP_INFO_LABEL,
            &info.to_be_signed().unwrap(),
        )
        .unwrap();
    let wrong_tag = encode(&MlsMessage::new(MlsMessageBody::GroupInfo(Box::new(info)))).unwrap();
    match observer.accept_group_info(&wrong_tag) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(rule, "§12.4.3");
            assert!(detail.contains("confirmation tag"), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(observer.group_info(), Some(&good[..]));
}

#[test]
fn private_messages_are_only_routed() {
    let (clients, mut groups) = group_of(2);
    let mut observer = observer_of(&groups[0]);
    let mut rng = SeededRandom::from_seed([13; 32]);
    let mut params = clients[0].params(vec![]);
    params.wire_format = crate::framing::WireFormat::PRIVATE_MESSAGE;
    let created = groups[0].create_commit(params, &mut rng).unwrap();
    let before = observer.to_bytes().unwrap();
    match observer.process(&created.message, NOW).unwrap() {
        Observed::Private(route) => {
            assert_eq!(route.epoch, 1);
            assert_eq!(route.content_type, ContentType::Commit);
            assert_eq!(route.group_id, groups[0].context().group_id);
        }
        other => panic!("expected routing only, got {other:?}"),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);
    deliver(&mut groups, 0, created);
}

#[test]
fn corrupted_state_is_refused() {
    let (_, groups) = group_of(2);
    let observer = observer_of(&groups[0]);
    let bytes = observer.to_bytes().unwrap();
    let provider = crate::crypto::rust_crypto::RustCryptoProvider;
    let load = |b: &[u8]| {
        ObserverState::from_bytes(&provider, b, GroupConfig::default(), Authority::default())
    };
    assert!(load(&bytes).is_ok());
    // Versions 1 and 2 are read; a later one is refused, naming both.
    let mut other_version = bytes.clone();
    other_version[1] = 3;
    match load(&other_version) {
        Err(Error::Storage(m)) => assert!(m.contains("version 3"), "{m}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
    assert!(load(&bytes[..bytes.len() - 1]).is_err());
    assert!(load(&[]).is_err());
    // Every truncation fails cleanly (no panic).
    for n in 0..bytes.len() {
        assert!(load(&bytes[..n]).is_err());
    }
}

#[test]
fn every_single_byte_change_to_a_commit_is_handled_without_panic() {
    let (clients, mut groups) = group_of(3);
    let mut rng = SeededRandom::from_seed([14; 32]);
    let created = groups[1]
        .create_commit(
            clients[1].params(vec![Proposal::Remove(Remove {
                removed: LeafIndex(2),
            })]),
            &mut rng,
        )
        .unwrap();
    let base = observer_of(&groups[0]);
    let before = base.to_bytes().unwrap();
    let mut accepted = 0;
    for i in 0..created.message.len() {
        let mut bytes = created.message.clone();
        bytes[i] ^= 0x01;
        let mut observer = observer_of(&groups[0]);
        match observer.process(&bytes, NOW) {
            Ok(Observed::Commit(_)) => accepted += 1,
            Ok(other) => panic!("byte {i}: {other:?}"),
            Err(_) => assert_eq!(observer.to_bytes().unwrap(), before, "byte {i}"),
        }
    }
    // The signature covers all but the confirmation and membership tags:
    // the observer checks neither (docs/observer.md), so only changes there
    // pass.
    let hash_len = groups[0].suite.hash_len();
    assert_eq!(accepted, 2 * hash_len, "accepted {accepted} changed bytes");
}

// External commits stay provisional (docs/observer.md): an outsider's
// external commit with a flipped confirmation tag, which every member
// rejects, must not keep the members' own commit out.

/// `g`'s GroupInfo with its external key and tree, signed by its owner.
fn external_group_info(g: &GroupState, signer: &crate::crypto::SignaturePrivateKey) -> GroupInfo {
    let (_, external_pub) =
        crate::schedule::external_key_pair(&g.suite, &g.epoch.keys.external_secret).unwrap();
    let mut info = GroupInfo {
        group_context: g.context().clone(),
        extensions: vec![
            crate::types::Extension {
                extension_type: ExtensionType::EXTERNAL_PUB,
                extension_data: encode(&ExternalPub { external_pub }).unwrap(),
            },
            crate::types::Extension {
                extension_type: ExtensionType::RATCHET_TREE,
                extension_data: g.tree().to_bytes().unwrap(),
            },
        ],
        confirmation_tag: g.epoch.confirmation_tag.clone(),
        signer: g.own_leaf(),
        signature: vec![],
    };
    info.signature = g
        .suite
        .sign_with_label(signer, GROUP_INFO_LABEL, &info.to_be_signed().unwrap())
        .unwrap();
    info
}

/// `joiner` joins the group of `g` (owned by `owner`) by external commit
/// from `g`'s GroupInfo: its state, and the commit.
fn external_join(
    g: &GroupState,
    owner: &crate::test_support::engine::EngineMember,
    joiner: &crate::test_support::engine::EngineMember,
    seed: u8,
) -> (GroupState, Vec<u8>) {
    let info = external_group_info(g, &owner.signer);
    let (kp, _) = joiner.key_package(&mut SeededRandom::from_seed([seed; 32]));
    GroupState::external_join(
        &g.suite,
        crate::group::external::ExternalJoin {
            group_info: &info,
            ratchet_tree: None,
            leaf: crate::tree::treekem::LeafContent::from_leaf(&kp.leaf_node),
            signer: &joiner.signer,
            remove: None,
            now: NOW,
            config: GroupConfig::default(),
            authority: Default::default(),
            psks: Vec::new(),
            psk_store: &NoPsks,
            authenticated_data: Vec::new(),
            self_removes: Vec::new(),
        },
        &mut SeededRandom::from_seed([seed.wrapping_add(1); 32]),
    )
    .unwrap()
}

/// `commit` with one bit of its confirmation tag flipped: the signature
/// does not cover the tag, so only the members, who hold the next epoch's
/// confirmation key, can tell.
fn flip_confirmation_tag(commit: &[u8]) -> Vec<u8> {
    let mut message: MlsMessage = crate::codec::decode_exact(commit).unwrap();
    let MlsMessageBody::PublicMessage(public) = &mut message.body else {
        panic!("not a PublicMessage")
    };
    public.auth.confirmation_tag.as_mut().unwrap()[0] ^= 1;
    encode(&message).unwrap()
}

/// Processes and merges a commit the observer must accept.
fn observe(observer: &mut ObserverState, commit: &[u8]) {
    let Observed::Commit(staged) = observer.process(commit, NOW).unwrap() else {
        panic!("expected a commit")
    };
    observer.merge(*staged).unwrap();
}

/// The state survives its encoding, other branch included.
fn assert_round_trips(observer: &ObserverState) {
    let bytes = observer.to_bytes().unwrap();
    let restored = ObserverState::from_bytes(
        &crate::crypto::rust_crypto::RustCryptoProvider,
        &bytes,
        GroupConfig::default(),
        Authority::default(),
    )
    .unwrap();
    assert_eq!(restored.to_bytes().unwrap(), bytes);
    assert_eq!(restored.confirmation(), observer.confirmation());
}

fn merge_at(g: &mut GroupState, commit: &[u8]) {
    match g.process(commit, &NoPsks, NOW).unwrap() {
        crate::group::engine::Received::Commit(staged) => g.merge(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

#[test]
fn an_outsiders_external_commit_with_a_flipped_tag_is_superseded_by_the_members() {
    let (clients, mut groups) = group_of(3);
    let mut observer = observer_of(&groups[0]);
    let mut rng = SeededRandom::from_seed([30; 32]);
    let dave = crate::test_support::engine::EngineMember::new("dave", 4);
    let (mut daves, commit) = external_join(&groups[0], &clients[0], &dave, 31);
    // (Dave's own state has the true tag: from here on it is not the
    // branch the observer holds.)
    let tampered = flip_confirmation_tag(&commit);

    // The observer cannot check the tag: it applies the commit, but only
    // provisionally. Every member rejects it.
    observe(&mut observer, &tampered);
    assert_eq!(observer.epoch(), 2);
    assert_eq!(
        observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    for g in groups.iter_mut() {
        assert!(g.process(&tampered, &NoPsks, NOW).is_err());
        assert_eq!(g.epoch(), 1);
    }
    assert_round_trips(&observer);

    // The outsider builds on its branch; it stays provisional.
    let created = daves.create_commit(dave.params(vec![]), &mut rng).unwrap();
    observe(&mut observer, &created.message);
    assert_eq!(observer.epoch(), 3);
    assert_eq!(
        observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    daves.merge(created.staged).unwrap();

    // Another outsider cannot supersede it from the epoch it left.
    let erin = crate::test_support::engine::EngineMember::new("erin", 5);
    let (_, erins) = external_join(&groups[0], &clients[0], &erin, 33);
    let before = observer.to_bytes().unwrap();
    match observer.process(&erins, NOW) {
        Err(Error::WrongEpoch {
            group_epoch: 3,
            message_epoch: 1,
            ..
        }) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);

    // The members go on in epoch 1: Bob proposes removing Charlie (cached
    // in epoch 1, which the observer keeps), Alice commits it by reference.
    let proposal = crate::group::rules_tests::propose_for_observer(
        &groups[1],
        &clients[1].signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(2),
        }),
    );
    let Observed::Proposal(p) = observer.process(&proposal, NOW).unwrap() else {
        panic!("expected a proposal")
    };
    assert!(observer.proposals().is_empty(), "cached in epoch 1, not 3");
    assert_round_trips(&observer);
    for g in groups.iter_mut() {
        g.process(&proposal, &NoPsks, NOW).unwrap();
    }
    assert_eq!(observer.commit_order(1), CommitOrder::Next);
    let mut params = clients[0].params(vec![]);
    params.by_reference = vec![p.reference.clone()];
    let created = groups[0].create_commit(params, &mut rng).unwrap();
    observe(&mut observer, &created.message);
    assert_eq!(
        observer.confirmation(),
        Confirmation::Contested { other: 3 }
    );
    groups.truncate(2);
    deliver(&mut groups, 0, created);
    assert_observes(&observer, &groups[0]);
    assert_round_trips(&observer);
    assert_eq!(observer.commit_order(1), CommitOrder::Taken { current: 2 });
    assert_eq!(observer.commit_order(2), CommitOrder::Next);
    assert_eq!(observer.commit_order(3), CommitOrder::Next);
    assert_eq!(observer.commit_order(4), CommitOrder::Ahead { current: 2 });

    // Bob's GroupInfo of epoch 2 confirms the members' branch.
    observer
        .accept_group_info(&signed_group_info(&groups[1], &clients[1].signer, true))
        .unwrap();
    assert_eq!(observer.confirmation(), Confirmation::Confirmed);
    assert_eq!(observer.commit_order(3), CommitOrder::Ahead { current: 2 });
    assert_round_trips(&observer);
    still_in_step(&clients, &mut groups, &mut observer, 1, 34);
}

/// `groups[committer]` commits; the observer and the members follow.
fn still_in_step(
    clients: &[crate::test_support::engine::EngineMember],
    groups: &mut [GroupState],
    observer: &mut ObserverState,
    committer: usize,
    seed: u8,
) {
    let created = groups[committer]
        .create_commit(
            clients[committer].params(vec![]),
            &mut SeededRandom::from_seed([seed; 32]),
        )
        .unwrap();
    observe(observer, &created.message);
    deliver(groups, committer, created);
    assert_observes(observer, &groups[0]);
}

/// An honest race: a valid external commit reaches the server first, a
/// member's commit for the same epoch second. The member's commit
/// supersedes the unconfirmed one at the observer, but the members took
/// the external commit: a member's message in its epoch switches the
/// observer back.
#[test]
fn a_members_message_confirms_the_branch_the_members_took() {
    let (clients, mut groups) = group_of(3);
    let mut observer = observer_of(&groups[0]);
    let dave = crate::test_support::engine::EngineMember::new("dave", 4);
    let (daves, commit) = external_join(&groups[0], &clients[0], &dave, 40);
    let bobs = groups[1]
        .create_commit(
            clients[1].params(vec![]),
            &mut SeededRandom::from_seed([41; 32]),
        )
        .unwrap();
    observe(&mut observer, &commit);
    for g in groups.iter_mut() {
        merge_at(g, &commit);
    }
    groups.push(daves);
    assert_observes(&observer, &groups[0]);

    observe(&mut observer, &bobs.message);
    assert_eq!(
        observer.confirmation(),
        Confirmation::Contested { other: 2 }
    );
    for g in groups.iter_mut() {
        assert!(matches!(
            g.process(&bobs.message, &NoPsks, NOW),
            Err(Error::WrongEpoch { .. })
        ));
    }
    assert_round_trips(&observer);

    // Dave's messages in his branch confirm nothing: refused while the
    // branches are contested.
    let daves_proposal = crate::group::rules_tests::propose_for_observer(
        &groups[3],
        &dave.signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(0),
        }),
    );
    let before = observer.to_bytes().unwrap();
    match observer.process(&daves_proposal, NOW) {
        Err(e @ Error::Unconfirmed(_)) => {
            assert_eq!(e.action(), crate::types::error::Action::Buffer)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(observer.to_bytes().unwrap(), before);
    let daves_commit = groups[3]
        .create_commit(dave.params(vec![]), &mut SeededRandom::from_seed([43; 32]))
        .unwrap();
    assert!(matches!(
        observer.process(&daves_commit.message, NOW),
        Err(Error::Unconfirmed(_))
    ));
    assert_eq!(observer.to_bytes().unwrap(), before);

    // Charlie's proposal verifies in the branch the members are in.
    let proposal = crate::group::rules_tests::propose_for_observer(
        &groups[2],
        &clients[2].signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(1),
        }),
    );
    assert!(matches!(
        observer.process(&proposal, NOW).unwrap(),
        Observed::Proposal(_)
    ));
    assert_eq!(observer.confirmation(), Confirmation::Confirmed);
    assert_observes(&observer, &groups[0]);
    assert_eq!(observer.proposals().len(), 1);
    assert_round_trips(&observer);
    for g in groups.iter_mut() {
        g.process(&proposal, &NoPsks, NOW).unwrap();
    }
    // The next commit covers the proposal (removing Bob, who stays in the
    // list but is out of the tree).
    let created = groups[0]
        .create_commit(
            {
                let mut params = clients[0].params(vec![]);
                params.by_reference = vec![
                    observer
                        .proposals()
                        .iter()
                        .next()
                        .unwrap()
                        .reference
                        .clone(),
                ];
                params
            },
            &mut SeededRandom::from_seed([42; 32]),
        )
        .unwrap();
    observe(&mut observer, &created.message);
    groups.remove(1);
    deliver(&mut groups, 0, created);
    assert_observes(&observer, &groups[0]);
}

/// The joiner's own messages, and proposals for the epoch its commit
/// left, do not confirm an external commit; a member's GroupInfo does.
#[test]
fn newcomers_do_not_confirm_an_external_commit() {
    let (clients, mut groups) = group_of(2);
    let mut observer = observer_of(&groups[0]);
    let dave = crate::test_support::engine::EngineMember::new("dave", 4);
    let (daves, commit) = external_join(&groups[0], &clients[0], &dave, 50);
    let bobs_proposal = crate::group::rules_tests::propose_for_observer(
        &groups[1],
        &clients[1].signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(0),
        }),
    );
    observe(&mut observer, &commit);
    for g in groups.iter_mut() {
        merge_at(g, &commit);
    }

    // Bob's proposal of epoch 1 is cached in epoch 1.
    assert!(matches!(
        observer.process(&bobs_proposal, NOW).unwrap(),
        Observed::Proposal(_)
    ));
    assert_eq!(
        observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    assert!(observer.proposals().is_empty());
    assert_eq!(observer.other.as_ref().unwrap().branch.proposals.len(), 1);

    // Dave's GroupInfo and proposal are accepted, and confirm nothing.
    let daves_info = signed_group_info(&daves, &dave.signer, true);
    observer.accept_group_info(&daves_info).unwrap();
    assert_eq!(observer.group_info(), Some(&daves_info[..]));
    let daves_proposal = crate::group::rules_tests::propose_for_observer(
        &daves,
        &dave.signer,
        Proposal::Remove(Remove {
            removed: LeafIndex(1),
        }),
    );
    assert!(matches!(
        observer.process(&daves_proposal, NOW).unwrap(),
        Observed::Proposal(_)
    ));
    assert_eq!(
        observer.confirmation(),
        Confirmation::Provisional { base: 1 }
    );
    assert_eq!(observer.proposals().len(), 1);
    assert_round_trips(&observer);

    // Alice's GroupInfo confirms it: epoch 1 and its proposals are gone.
    let alices_info = signed_group_info(&groups[0], &clients[0].signer, false);
    observer.accept_group_info(&alices_info).unwrap();
    assert_eq!(observer.confirmation(), Confirmation::Confirmed);
    assert!(observer.other.is_none());
    assert_eq!(observer.group_info(), Some(&alices_info[..]));
    assert_eq!(observer.commit_order(1), CommitOrder::Taken { current: 2 });
    assert_round_trips(&observer);
}
