//! §12.1 individual proposals, §12.4.2 commit processing, §6.3 late
//! application messages.

use super::*;

// §12.1: individual proposals
// ---------------------------------------------------------------------------

#[test]
fn remove_of_blank_or_missing_leaf_12_1_3() {
    let (mut clients, mut groups) = group_of(4);
    // Alice removes Bob: leaf 1 becomes blank (leaf 3 keeps the tree at 4).
    let created = groups[0]
        .create_commit(clients[0].params(vec![remove(1)]), &mut rng(10))
        .unwrap();
    deliver(&mut groups, 0, created);
    assert!(groups[1].is_removed());
    groups.remove(1);
    clients.remove(1);
    assert_in_sync(&groups);
    assert!(groups[0].tree().leaf(LeafIndex(1)).is_none());
    assert_eq!(
        groups[0].tree().leaf_count(),
        crate::types::math::LeafCount::new(4).unwrap()
    );

    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![remove(1)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.1.3",
        "Remove of leaf 1, which is blank or outside the tree",
    );
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![remove(9)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.1.3",
        "Remove of leaf 9, which is blank or outside the tree",
    );
}

#[test]
fn external_proposal_without_external_senders_12_1_8_1() {
    let (clients, mut groups) = group_of(3);
    let ds = EngineMember::new("ds", 60);
    let message = frame_public(
        &groups[0],
        &ds.signer,
        Sender::External(0),
        groups[0].epoch(),
        Content::Proposal(Box::new(remove(2))),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &message,
        "§12.1.8.1",
        "no external_senders extension",
    );
}

#[test]
fn external_sender_rules_12_1_8() {
    let ds = EngineMember::new("ds", 60);
    let (clients, mut groups) = group_with_external_sender(3, &ds);
    let epoch = groups[0].epoch();
    let external = |g: &GroupState, index: u32, p: Proposal| {
        frame_public(
            g,
            &ds.signer,
            Sender::External(index),
            epoch,
            Content::Proposal(Box::new(p)),
        )
    };

    // An index outside external_senders.
    let message = external(&groups[0], 1, remove(2));
    for g in groups.iter_mut() {
        assert_rejected(g, &message, "§12.1.8.1", "external sender 1 is not in");
    }
    // A proposal type external senders may not send.
    let update = update_proposal(&groups[2], &clients[2], 11);
    let message = external(&groups[0], 0, update);
    for g in groups.iter_mut() {
        assert_rejected(g, &message, "§12.1.8", "external sender 0 may not send");
    }
    // A valid external Remove is cached and committed by reference.
    let message = external(&groups[0], 0, remove(2));
    let reference = cache_everywhere(&mut groups, &message);
    let mut params = clients[0].params(vec![]);
    params.by_reference = vec![reference];
    let created = groups[0].create_commit(params, &mut rng(12)).unwrap();
    assert_eq!(created.staged.summary.removed, vec![LeafIndex(2)]);
    deliver(&mut groups, 0, created);
    assert!(groups[2].is_removed());
    assert_in_sync(&groups[..2]);
    still_works(&clients[..2], &mut groups[..2], 1, 13);
}

#[test]
fn commit_from_external_sender_12_1_8() {
    // Even from a listed external sender, correctly signed: external
    // senders only send proposals (§6.1, §12.1.8).
    let ds = EngineMember::new("ds", 60);
    let (clients, mut groups) = group_with_external_sender(3, &ds);
    let forged = forge_commit(
        &groups[0],
        &ds.signer,
        commit(vec![remove(2)]),
        Some(Sender::External(0)),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &forged,
        "§12.1.8",
        "External(0) may not send this content",
    );
}

#[test]
fn new_member_proposal_not_add_12_1_8() {
    let (clients, mut groups) = group_of(3);
    let erin = EngineMember::new("erin", 50);
    let message = frame_public(
        &groups[0],
        &erin.signer,
        Sender::NewMemberProposal,
        groups[0].epoch(),
        Content::Proposal(Box::new(remove(2))),
    );
    for g in groups.iter_mut() {
        assert_rejected(
            g,
            &message,
            "§12.1.8",
            "new_member_proposal sender sent something else than an Add",
        );
    }
    // Its own Add, signed with the key package's key, is accepted.
    let (kp, _) = erin.key_package(&mut rng(14));
    let message = frame_public(
        &groups[0],
        &erin.signer,
        Sender::NewMemberProposal,
        groups[0].epoch(),
        Content::Proposal(Box::new(add(kp))),
    );
    let reference = cache_everywhere(&mut groups, &message);
    let mut params = clients[1].params(vec![]);
    params.by_reference = vec![reference];
    let created = groups[1].create_commit(params, &mut rng(15)).unwrap();
    assert!(created.welcome.is_some());
    deliver(&mut groups, 1, created);
    assert_in_sync(&groups);
    assert_eq!(groups[0].tree().member_count(), 4);
}

#[test]
fn standalone_external_init_12_1_6() {
    let (clients, mut groups) = group_of(3);
    let external_init = || {
        Proposal::ExternalInit(ExternalInit {
            kem_output: vec![0x42; 32],
        })
    };
    // From a member, as PublicMessage and as PrivateMessage.
    let message = propose(&groups[1], &clients[1].signer, external_init());
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &message,
        "§12.1.6",
        "an ExternalInit sent as a standalone proposal",
    );
    let message = frame_private(
        &mut groups[1],
        &clients[1].signer,
        Content::Proposal(Box::new(external_init())),
        &mut rng(16),
    );
    // The rejected PrivateMessage did not consume its key: the same bytes
    // decrypt again and fail the same way.
    assert_rejected(
        &mut groups[0],
        &message,
        "§12.1.6",
        "an ExternalInit sent as a standalone proposal",
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &message,
        "§12.1.6",
        "an ExternalInit sent as a standalone proposal",
    );
    // From a new member, it is not an Add (§12.1.8).
    let erin = EngineMember::new("erin", 50);
    let message = frame_public(
        &groups[0],
        &erin.signer,
        Sender::NewMemberProposal,
        groups[0].epoch(),
        Content::Proposal(Box::new(external_init())),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &message,
        "§12.1.8",
        "something else than an Add",
    );
}

// ---------------------------------------------------------------------------
// §12.4.2: commit processing
// ---------------------------------------------------------------------------

#[test]
fn missing_path_12_4_2() {
    let (clients, mut groups) = group_of(4);
    // A Remove requires a path.
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![remove(3)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.4.2",
        "the commit has no path",
    );
    // So does an empty commit.
    let forged = forge_commit(&groups[1], &clients[1].signer, commit(vec![]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &forged,
        "§12.4.2",
        "the commit has no path",
    );
    // An Add-only commit does not: created without a path, it is accepted.
    let erin = EngineMember::new("erin", 50);
    let (kp, _) = erin.key_package(&mut rng(17));
    let created = groups[2]
        .create_commit(clients[2].params(vec![add(kp)]), &mut rng(18))
        .unwrap();
    let MlsMessageBody::PublicMessage(m) =
        decode_exact::<MlsMessage>("MLSMessage", &created.message)
            .unwrap()
            .body
    else {
        panic!("expected a PublicMessage");
    };
    let Content::Commit(c) = &m.content.content else {
        panic!("expected a commit");
    };
    assert!(c.path.is_none());
    deliver(&mut groups, 2, created);
    assert_in_sync(&groups);
}

#[test]
fn wrong_confirmation_tag_12_4_2() {
    let (clients, mut groups) = group_of(3);
    let created = groups[1]
        .create_commit(clients[1].params(vec![]), &mut rng(19))
        .unwrap();
    // Flip a bit of the tag and recompute the membership tag, so that only
    // the confirmation tag is wrong.
    let decoded: MlsMessage = decode_exact("MLSMessage", &created.message).unwrap();
    let MlsMessageBody::PublicMessage(m) = decoded.body else {
        panic!("expected a PublicMessage");
    };
    let mut auth = m.auth.clone();
    auth.confirmation_tag.as_mut().unwrap()[0] ^= 1;
    let tampered = to_public_message(
        &groups[1].suite,
        AuthenticatedContent {
            wire_format: WireFormat::PUBLIC_MESSAGE,
            content: m.content.clone(),
            auth,
        },
        &groups[1].epoch.keys.membership_key,
        &groups[1].epoch.context,
    )
    .unwrap();
    let tampered = encode_message(MlsMessageBody::PublicMessage(Box::new(tampered)));
    for i in [0, 2] {
        assert_rejected(
            &mut groups[i],
            &tampered,
            "§12.4.2",
            "confirmation tag of the commit for epoch 2 does not verify",
        );
    }
    // The untouched commit is then accepted by the same receivers.
    deliver(&mut groups, 1, created);
    assert_in_sync(&groups);
    still_works(&clients, &mut groups, 2, 20);
}

#[test]
fn unknown_proposal_reference_12_4_2() {
    let (clients, mut groups) = group_of(3);
    let nh = groups[0].suite.hash_len();
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        Commit {
            proposals: vec![ProposalOrRef::Reference(vec![0xab; nh])],
            path: None,
        },
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.4.2",
        "references a proposal not received in this epoch",
    );
}

#[test]
fn handshake_for_past_or_future_epoch_12_4_2() {
    use crate::EpochTiming::{Future, Past};
    let (clients, mut groups) = group_of(3);
    // Bob's proposal as PrivateMessage in epoch 1, delivered late.
    let late_private = frame_private(
        &mut groups[1],
        &clients[1].signer,
        Content::Proposal(Box::new(remove(2))),
        &mut rng(21),
    );
    // Alice's commit of epoch 1, replayed in epoch 2.
    let created = groups[0]
        .create_commit(clients[0].params(vec![]), &mut rng(22))
        .unwrap();
    let replay = created.message.clone();
    deliver(&mut groups, 0, created);
    assert_eq!(groups[0].epoch(), 2);

    reject_wrong_epoch_everywhere(&clients, &mut groups, None, &replay, 1, Past);
    // Epoch is now 3. A commit for epoch 4, else well-formed.
    let future = frame_public(
        &groups[1],
        &clients[1].signer,
        Sender::Member(LeafIndex(1)),
        4,
        Content::Commit(Box::new(commit(vec![]))),
    );
    reject_wrong_epoch_everywhere(&clients, &mut groups, Some(1), &future, 4, Future);
    // Epoch 4; epoch 1 is still retained (3 past epochs), but only for
    // application messages.
    assert_eq!(groups[0].epoch(), 4);
    reject_wrong_epoch_everywhere(&clients, &mut groups, Some(1), &late_private, 1, Past);
}

#[test]
fn proposal_by_reference_then_replay_12_4_2() {
    use crate::EpochTiming::Past;
    let (clients, mut groups) = group_of(4);
    // Bob proposes to remove Dave; everyone, Bob included, caches it.
    let message = propose(&groups[1], &clients[1].signer, remove(3));
    let reference = cache_everywhere(&mut groups, &message);
    for g in &groups {
        let cached = g.proposals().find(&reference).unwrap();
        assert_eq!(cached.sender, Sender::Member(LeafIndex(1)));
        assert_eq!(cached.proposal, remove(3));
    }
    // Alice commits it by reference.
    let mut params = clients[0].params(vec![]);
    params.by_reference = vec![reference.clone()];
    let created = groups[0].create_commit(params, &mut rng(23)).unwrap();
    deliver(&mut groups, 0, created);
    assert!(groups[3].is_removed());
    groups.pop();
    let clients = &clients[..3];
    assert_in_sync(&groups);
    assert_eq!(groups[0].tree().member_count(), 3);
    assert!(groups.iter().all(|g| g.proposals().iter().count() == 0));

    // The same proposal replayed in the next epoch.
    reject_wrong_epoch_everywhere(clients, &mut groups, None, &message, 1, Past);
    // A commit referencing it after its epoch ended.
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        Commit {
            proposals: vec![ProposalOrRef::Reference(reference)],
            path: None,
        },
        None,
    );
    reject_everywhere(
        clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.4.2",
        "references a proposal not received in this epoch",
    );
}

// ---------------------------------------------------------------------------
// §6.3: late application messages
// ---------------------------------------------------------------------------

#[test]
fn late_application_message_retention_6_3() {
    use crate::EpochTiming::Past;
    let (clients, mut groups) = group_of(3);
    let past_epochs = groups[2].config.past_epochs;
    assert!(past_epochs >= 1);
    let mut r = rng(24);
    let sent_in = groups[1].epoch();
    let mut app = |g: &mut GroupState, text: &[u8]| {
        frame_private(
            g,
            &clients[1].signer,
            Content::Application(text.to_vec()),
            &mut r,
        )
    };
    let one_late = app(&mut groups[1], b"one epoch late");
    let at_limit = app(&mut groups[1], b"at the retention limit");
    let too_late = app(&mut groups[1], b"too late");

    let check_decrypts = |g: &mut GroupState, message: &[u8], text: &[u8]| match g
        .process(message, &NoPsks, NOW)
        .unwrap()
    {
        Received::Application {
            sender,
            epoch,
            data,
            authenticated_data,
            ..
        } => {
            assert_eq!(sender, LeafIndex(1));
            assert_eq!(epoch, sent_in);
            assert_eq!(data, text);
            assert_eq!(authenticated_data, b"aad");
        }
        other => panic!("expected application data, got {other:?}"),
    };

    still_works(&clients, &mut groups, 0, 25);
    check_decrypts(&mut groups[2], &one_late, b"one epoch late");
    for i in 1..past_epochs {
        still_works(&clients, &mut groups, i % 3, 26 + i as u8);
    }
    assert_eq!(groups[2].epoch(), sent_in + past_epochs as u64);
    check_decrypts(&mut groups[2], &at_limit, b"at the retention limit");

    still_works(&clients, &mut groups, 2, 40);
    reject_wrong_epoch_everywhere(&clients, &mut groups, Some(1), &too_late, sent_in, Past);
}
