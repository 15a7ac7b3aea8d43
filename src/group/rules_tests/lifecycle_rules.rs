//! Staging and merging across groups and epochs, and replays: a staged
//! commit only merges into the epoch it was staged in, and a replayed
//! proposal is reported once.

use super::*;

fn stage(g: &mut GroupState, message: &[u8]) -> crate::group::commit_stage::StagedCommit {
    match g.process(message, &NoPsks, NOW).unwrap() {
        Received::Commit(staged) => *staged,
        other => panic!("expected a commit, got {other:?}"),
    }
}

#[test]
fn a_replayed_proposal_gives_no_second_event() {
    let (clients, mut groups) = group_of(3);
    let message = propose(&groups[1], &clients[1].signer, remove(2));
    assert!(matches!(
        groups[0].process(&message, &NoPsks, NOW),
        Ok(Received::Proposal(_))
    ));
    let before = snapshot(&groups[0]);
    match groups[0].process(&message, &NoPsks, NOW) {
        Err(Error::Replay(_)) => {}
        other => panic!("expected a replay error, got {other:?}"),
    }
    assert_eq!(snapshot(&groups[0]), before);
    assert_eq!(groups[0].proposals().iter().count(), 1);
}

#[test]
fn merge_refuses_a_commit_staged_in_another_group_or_epoch() {
    let (clients, mut groups) = group_of(3);
    let created = groups[0]
        .create_commit(clients[0].params(vec![]), &mut rng(50))
        .unwrap();

    // Another state with the same group id and epoch (a fork).
    let (_, mut fork) = group_of(2);
    assert_eq!(fork[1].epoch(), groups[1].epoch());
    let before = snapshot(&fork[1]);
    let err = fork[1]
        .merge(stage(&mut groups[1], &created.message))
        .unwrap_err();
    assert!(matches!(err, Error::Misuse(_)), "{err}");
    assert_eq!(snapshot(&fork[1]), before);

    // Another group altogether: its group id stays.
    let mut z = GroupState::create(
        &clients[1].suite,
        GroupConfig::default(),
        b"group z".to_vec(),
        vec![],
        clients[1].key_package(&mut rng(51)).0.leaf_node,
        generate_hpke_key_pair(&clients[1].suite, &mut rng(52))
            .unwrap()
            .0,
        &mut rng(53),
    )
    .unwrap();
    let before = snapshot(&z);
    assert!(z.merge(stage(&mut groups[1], &created.message)).is_err());
    assert_eq!(snapshot(&z), before);
    assert_eq!(z.context().group_id, b"group z");

    // A stale epoch: Charlie's competing commit is merged first.
    let stale = stage(&mut groups[1], &created.message);
    let competing = groups[2]
        .create_commit(clients[2].params(vec![]), &mut rng(54))
        .unwrap();
    let winner = stage(&mut groups[1], &competing.message);
    groups[1].merge(winner).unwrap();
    let before = snapshot(&groups[1]);
    assert!(groups[1].merge(stale).is_err());
    assert_eq!(snapshot(&groups[1]), before);
    let winner = stage(&mut groups[0], &competing.message);
    groups[0].merge(winner).unwrap();
    groups[2].merge(competing.staged).unwrap();
    assert_in_sync(&groups);
}

/// The commit (with its path) inside a PublicMessage.
fn commit_of(message: &[u8]) -> Commit {
    let MlsMessageBody::PublicMessage(m) = decode_exact::<MlsMessage>("MLSMessage", message)
        .unwrap()
        .body
    else {
        panic!("not a PublicMessage")
    };
    let Content::Commit(c) = m.content.content else {
        panic!("not a commit")
    };
    *c
}

#[test]
fn the_last_epoch_cannot_advance_and_nothing_overflows() {
    use crate::group::external::ExternalJoin;
    use crate::group::welcome_open::GROUP_INFO_LABEL;
    use crate::tree::treekem::LeafContent;
    let (clients, mut groups) = group_of(3);

    // A member-signed GroupInfo claiming the last epoch: an external join
    // fails with an error instead of computing epoch + 1.
    let mut info = super::external_commit_rules::group_info(&groups[0], &clients[0].signer);
    info.group_context.epoch = u64::MAX;
    info.signature = groups[0]
        .suite
        .sign_with_label(
            &clients[0].signer,
            GROUP_INFO_LABEL,
            &info.to_be_signed().unwrap(),
        )
        .unwrap();
    let dave = EngineMember::new("dave", 4);
    let (kp, _) = dave.key_package(&mut rng(70));
    let joined = GroupState::external_join(
        &groups[0].suite,
        ExternalJoin {
            group_info: &info,
            ratchet_tree: None,
            leaf: LeafContent::from_leaf(&kp.leaf_node),
            signer: &dave.signer,
            remove: None,
            now: NOW,
            config: GroupConfig::default(),
            authority: Default::default(),
            psks: Vec::new(),
            psk_store: &crate::group::psk_store::NoPsks,
            authenticated_data: Vec::new(),
            self_removes: Vec::new(),
        },
        &mut rng(71),
    );
    assert!(matches!(joined, Err(Error::Unsupported(_))), "{joined:?}");

    // Members at the last epoch: neither their own commit nor a received
    // one (with a valid path) advances, and nothing changes.
    let path_commit = commit_of(
        &groups[1]
            .create_commit(clients[1].params(vec![]), &mut rng(72))
            .unwrap()
            .message,
    );
    for g in groups.iter_mut() {
        g.epoch.context.epoch = u64::MAX;
    }
    let own = groups[0].create_commit(clients[0].params(vec![]), &mut rng(73));
    assert!(matches!(own, Err(Error::Unsupported(_))), "{own:?}");
    let forged = forge_commit(&groups[1], &clients[1].signer, path_commit, None);
    let before = snapshot(&groups[0]);
    let received = groups[0].process(&forged, &NoPsks, NOW);
    assert!(
        matches!(received, Err(Error::Unsupported(_))),
        "{received:?}"
    );
    assert_eq!(snapshot(&groups[0]), before);
}
