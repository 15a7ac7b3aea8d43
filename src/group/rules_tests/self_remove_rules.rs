//! The SelfRemove proposal of draft-ietf-mls-extensions: who may send it,
//! how it travels, how commits cover it, and a member leaving by it with an
//! observer following.

use super::*;
use crate::group::observer::ObserverState;
use crate::group::proposal_rules::SELF_REMOVE_RULE;
use crate::messages::proposals::SelfRemove;

fn self_remove() -> Proposal {
    Proposal::SelfRemove(SelfRemove {})
}

/// The ProposalRef of a proposal message, as an observer of `g`'s epoch
/// computes it; nobody's state changes.
fn reference_of(g: &GroupState, message: &[u8]) -> Vec<u8> {
    match observer_of(g).process(message, NOW).unwrap() {
        Observed::Proposal(p) => p.reference,
        other => panic!("expected a proposal, got {other:?}"),
    }
}

fn by_reference(references: Vec<Vec<u8>>) -> Commit {
    Commit {
        proposals: references
            .into_iter()
            .map(ProposalOrRef::Reference)
            .collect(),
        path: None,
    }
}

#[test]
fn self_remove_from_an_external_sender_is_rejected() {
    // "SelfRemove cannot be sent as an external proposal."
    let ds = EngineMember::new("ds", 60);
    let (clients, mut groups) = group_with_external_sender(3, &ds);
    let message = frame_public(
        &groups[0],
        &ds.signer,
        Sender::External(0),
        groups[0].epoch(),
        Content::Proposal(Box::new(self_remove())),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &message,
        SELF_REMOVE_RULE,
        "external sender 0 may not send a ProposalType::SELF_REMOVE proposal",
    );
}

#[test]
fn self_remove_from_a_non_member_is_rejected() {
    // A new_member_proposal sender is refused before its signature key is
    // even looked up (only an Add may come from one, §12.1.8).
    let (clients, mut groups) = group_of(3);
    let mallory = EngineMember::new("mallory", 61);
    let message = frame_public(
        &groups[0],
        &mallory.signer,
        Sender::NewMemberProposal,
        groups[0].epoch(),
        Content::Proposal(Box::new(self_remove())),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &message,
        "§12.1.8",
        "new_member_proposal sender sent something else than an Add",
    );
}

#[test]
fn self_remove_as_a_private_message_is_rejected() {
    // "these proposals MUST be sent in an MLS PublicMessage". An observer
    // only routes a PrivateMessage; every member refuses it.
    let (clients, mut groups) = group_of(3);
    let message = frame_private(
        &mut groups[1],
        &clients[1].signer,
        Content::Proposal(Box::new(self_remove())),
        &mut rng(40),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &message,
        SELF_REMOVE_RULE,
        "must be a PublicMessage",
    );
}

#[test]
fn a_second_self_remove_in_one_epoch_is_rejected() {
    // "A client MUST NOT issue more than one SelfRemove proposal per epoch."
    let (clients, mut groups) = group_of(3);
    let first = propose(&groups[1], &clients[1].signer, self_remove());
    cache_everywhere(&mut groups[..1], &first);
    cache_everywhere(&mut groups[2..], &first);
    // Same proposal, other authenticated data: another message.
    let framed = FramedContent {
        group_id: groups[1].context().group_id.clone(),
        epoch: groups[1].epoch(),
        sender: Sender::Member(LeafIndex(1)),
        authenticated_data: b"again".to_vec(),
        content: Content::Proposal(Box::new(self_remove())),
    };
    let g = &groups[1];
    let signed = sign_content(
        &g.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed,
        &g.epoch.context,
        &clients[1].signer,
    )
    .unwrap();
    let second = encode_message(MlsMessageBody::PublicMessage(Box::new(
        to_public_message(
            &g.suite,
            signed,
            &g.epoch.keys.membership_key,
            &g.epoch.context,
        )
        .unwrap(),
    )));
    for i in [0, 2] {
        assert_rejected(&mut groups[i], &second, SELF_REMOVE_RULE, "one per epoch");
    }
}

#[test]
fn self_remove_by_value_in_a_commit_is_rejected() {
    // "SelfRemove proposals are only allowed in a Commit by reference."
    let (clients, mut groups) = group_of(3);
    let message = forge_commit(
        &groups[1],
        &clients[1].signer,
        commit(vec![self_remove()]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &message,
        SELF_REMOVE_RULE,
        "only allowed by reference",
    );
}

#[test]
fn a_commit_naming_a_self_remove_never_proposed_is_rejected() {
    // Bob signs a SelfRemove but never sends it; Alice's commit names it.
    let (clients, mut groups) = group_of(3);
    let unsent = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = reference_of(&groups[0], &unsent);
    let message = forge_commit(
        &groups[0],
        &clients[0].signer,
        by_reference(vec![reference]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &message,
        "§12.4.2",
        "references a proposal not received in this epoch",
    );
}

#[test]
fn a_committer_covering_its_own_self_remove_is_rejected() {
    let (clients, mut groups) = group_of(3);
    let proposal = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = cache_everywhere(&mut groups, &proposal);
    let message = forge_commit(
        &groups[1],
        &clients[1].signer,
        by_reference(vec![reference]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &message,
        "§12.2",
        "the committer (leaf 1) covers its own SelfRemove",
    );
}

#[test]
fn a_remove_of_a_self_removing_leaf_is_rejected() {
    // "If there is a pending SelfRemove proposal for a specific leaf node
    // and a pending Remove proposal for the same leaf node, the Remove
    // proposal is invalid."
    let (clients, mut groups) = group_of(3);
    let proposal = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = cache_everywhere(&mut groups, &proposal);
    let mut both = by_reference(vec![reference]);
    both.proposals
        .push(ProposalOrRef::Proposal(Box::new(remove(1))));
    let message = forge_commit(&groups[0], &clients[0].signer, both, None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &message,
        "§12.2",
        "several Update/Remove proposals for leaf 1",
    );
}

#[test]
fn a_commit_of_only_self_removes_requires_a_path() {
    // SelfRemove "requires an UpdatePath" (IANA: Path Required Y), so a
    // commit covering only SelfRemoves carries one like any other.
    let (clients, mut groups) = group_of(3);
    let proposal = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = cache_everywhere(&mut groups, &proposal);
    let message = forge_commit(
        &groups[0],
        &clients[0].signer,
        by_reference(vec![reference]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &message,
        "§12.4.2",
        "the commit has no path, but its proposals require one",
    );
}

#[test]
fn selection_takes_the_self_remove_over_a_remove_of_the_same_leaf() {
    let (clients, mut groups) = group_of(3);
    let leave = propose(&groups[1], &clients[1].signer, self_remove());
    let self_ref = cache_everywhere(&mut groups, &leave);
    let kick = propose(&groups[2], &clients[2].signer, remove(1));
    let kick_ref = cache_everywhere(&mut groups, &kick);
    let selection = groups[0].select_proposals(&[], &NoPsks, NOW);
    assert_eq!(selection.references, vec![self_ref.clone()]);
    assert_eq!(selection.left_out.len(), 1);
    assert_eq!(selection.left_out[0].reference, kick_ref);
    // Bob's own selection leaves his SelfRemove out: he cannot commit it.
    let own = groups[1].select_self_removes(&[], &NoPsks, NOW);
    assert!(own.references.is_empty());
    assert_eq!(own.left_out[0].reference, self_ref);
    assert!(own.left_out[0].reason.contains("own SelfRemove"));
}

#[test]
fn a_member_self_removes_and_everyone_with_the_observer_follows() {
    let (clients, mut groups) = group_of(3);
    let mut observer: ObserverState = observer_of(&groups[0]);
    let leave = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = cache_everywhere(&mut groups, &leave);
    match observer.process(&leave, NOW).unwrap() {
        Observed::Proposal(p) => assert_eq!(p.reference, reference),
        other => panic!("observer: expected a proposal, got {other:?}"),
    }

    // Charlie commits: his selection covers the SelfRemove, with a path.
    let selection = groups[2].select_self_removes(&[], &NoPsks, NOW);
    assert_eq!(selection.references, vec![reference]);
    let mut params = clients[2].params(vec![]);
    params.by_reference = selection.references;
    let created = groups[2].create_commit(params, &mut rng(41)).unwrap();
    assert_eq!(created.staged.summary.removed, vec![LeafIndex(1)]);
    assert!(created.staged.summary.path_updated);

    match observer.process(&created.message, NOW).unwrap() {
        Observed::Commit(staged) => {
            assert_eq!(staged.summary().removed, vec![LeafIndex(1)]);
            observer.merge(*staged).unwrap();
        }
        other => panic!("observer: expected a commit, got {other:?}"),
    }
    // Bob, the leaver: removed, the group inactive.
    match groups[1].process(&created.message, &NoPsks, NOW).unwrap() {
        Received::Commit(staged) => {
            assert!(staged.summary.self_removed);
            assert_eq!(staged.epoch(), None);
            groups[1].merge(*staged).unwrap();
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    assert!(groups[1].is_removed());
    match groups[0].process(&created.message, &NoPsks, NOW).unwrap() {
        Received::Commit(staged) => {
            assert!(!staged.summary.self_removed);
            groups[0].merge(*staged).unwrap();
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    groups[2].merge(created.staged).unwrap();
    let mut remaining = vec![groups.remove(0), groups.remove(1)];
    assert_in_sync(&remaining);
    assert!(remaining[0].tree().leaf(LeafIndex(1)).is_none());
    crate::group::observer::tests::assert_observes(&observer, &remaining[0]);
    let clients = vec![
        EngineMember::new("alice", 1),
        EngineMember::new("charlie", 3),
    ];
    still_works(&clients, &mut remaining, 0, 0x42);
}

/// Erin joins `groups`' group by external commit, covering `self_removes`.
fn external_join_with(
    clients: &[EngineMember],
    groups: &[GroupState],
    self_removes: Vec<Vec<u8>>,
) -> crate::Result<(GroupState, Vec<u8>)> {
    use crate::group::external::ExternalJoin;
    use crate::tree::treekem::LeafContent;
    let info = super::external_commit_rules::group_info(&groups[0], &clients[0].signer);
    let joiner = EngineMember::new("erin", 60);
    let (kp, _) = joiner.key_package(&mut rng(61));
    GroupState::external_join(
        &groups[0].suite,
        ExternalJoin {
            group_info: &info,
            ratchet_tree: None,
            leaf: LeafContent::from_leaf(&kp.leaf_node),
            signer: &joiner.signer,
            remove: None,
            now: NOW,
            config: GroupConfig::default(),
            authority: Default::default(),
            psks: Vec::new(),
            psk_store: &NoPsks,
            authenticated_data: Vec::new(),
            self_removes,
        },
        &mut rng(62),
    )
}

#[test]
fn an_external_joiner_covers_pending_self_removes_by_reference() {
    // "the new joiner MUST fetch any pending SelfRemove Proposals along
    // with the GroupInfo object, and include the SelfRemove Proposals in
    // its external Commit by reference".
    let (clients, mut groups) = group_of(3);
    let leave = propose(&groups[1], &clients[1].signer, self_remove());
    let reference = cache_everywhere(&mut groups, &leave);
    let mut observer = observer_of(&groups[0]);
    let (erin, message) = external_join_with(&clients, &groups, vec![leave]).unwrap();
    let commit: MlsMessage = decode_exact("MLSMessage", &message).unwrap();
    let MlsMessageBody::PublicMessage(m) = commit.body else {
        panic!("an external commit is a PublicMessage")
    };
    let Content::Commit(c) = &m.content.content else {
        panic!("not a commit")
    };
    assert!(c.proposals.contains(&ProposalOrRef::Reference(reference)));

    match observer.process(&message, NOW).unwrap() {
        Observed::Commit(staged) => {
            assert_eq!(staged.summary().removed, vec![LeafIndex(1)]);
            observer.merge(*staged).unwrap();
        }
        other => panic!("observer: expected a commit, got {other:?}"),
    }
    for (i, g) in groups.iter_mut().enumerate() {
        match g.process(&message, &NoPsks, NOW).unwrap() {
            Received::Commit(staged) => {
                assert_eq!(staged.summary.self_removed, i == 1);
                g.merge(*staged).unwrap();
            }
            other => panic!("expected a commit, got {other:?}"),
        }
    }
    assert!(groups[1].is_removed());
    let remaining = vec![groups.remove(0), groups.remove(1), erin];
    assert_in_sync(&remaining);
    crate::group::observer::tests::assert_observes(&observer, &remaining[0]);
}

#[test]
fn an_external_joiner_refuses_a_forged_pending_self_remove() {
    // Signed by Mallory, claiming to come from Bob's leaf: the joiner
    // checks the signature against the tree (only the membership tag is
    // beyond it).
    let (clients, groups) = group_of(3);
    let mallory = EngineMember::new("mallory", 63);
    let forged = frame_public(
        &groups[0],
        &mallory.signer,
        Sender::Member(LeafIndex(1)),
        groups[0].epoch(),
        Content::Proposal(Box::new(self_remove())),
    );
    assert!(external_join_with(&clients, &groups, vec![forged]).is_err());
    // Not a SelfRemove at all.
    let other = propose(&groups[1], &clients[1].signer, remove(2));
    match external_join_with(&clients, &groups, vec![other]) {
        Err(Error::Protocol { rule, .. }) => assert_eq!(rule, SELF_REMOVE_RULE),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}
