//! A committer always has a valid commit (§12.2, §12.4): from conflicting
//! cached proposals it covers a valid subset, reports the rest, and every
//! member follows the commit.

use super::*;
use crate::group::proposal_select::Selection;
use crate::types::ProposalType;

/// `groups[committer]` selects from its cache, commits the selection, and
/// everyone processes and merges it. Returns the selection and what the
/// commit removed.
fn commit_selection(
    clients: &[EngineMember],
    groups: &mut [GroupState],
    committer: usize,
) -> (Selection, Vec<LeafIndex>) {
    let selection = groups[committer].select_proposals(&[], &NoPsks, NOW);
    let mut params = clients[committer].params(vec![]);
    params.by_reference = selection.references.clone();
    let created = groups[committer]
        .create_commit(params, &mut rng(80 + committer as u8))
        .unwrap();
    let removed = created.staged.summary.removed.clone();
    deliver(groups, committer, created);
    (selection, removed)
}

/// `groups[from]` proposes `proposal`; every member caches it.
fn sent(
    clients: &[EngineMember],
    groups: &mut [GroupState],
    from: usize,
    proposal: Proposal,
) -> Vec<u8> {
    let message = propose(&groups[from], &clients[from].signer, proposal);
    cache_everywhere(groups, &message)
}

fn members_in_sync(groups: &[GroupState]) {
    let active: Vec<&GroupState> = groups.iter().filter(|g| !g.is_removed()).collect();
    for g in &active[1..] {
        assert_eq!(g.epoch_authenticator(), active[0].epoch_authenticator());
        assert_eq!(
            g.tree().root_tree_hash(&g.suite).unwrap(),
            active[0].tree().root_tree_hash(&g.suite).unwrap()
        );
    }
}

#[test]
fn two_removes_of_one_leaf_commit_one() {
    let (clients, mut groups) = group_of(4);
    let first = sent(&clients, &mut groups, 1, remove(3));
    let second = sent(&clients, &mut groups, 2, remove(3));
    let (selection, removed) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.references, vec![first]);
    assert_eq!(selection.left_out.len(), 1);
    assert_eq!(selection.left_out[0].reference, second);
    assert!(selection.left_out[0].reason.contains("already removed"));
    assert_eq!(removed, vec![LeafIndex(3)]);
    members_in_sync(&groups);
}

#[test]
fn an_update_and_a_remove_of_one_leaf_keep_the_remove() {
    let (clients, mut groups) = group_of(4);
    // The Update arrives first; the Remove still wins.
    let update = update_proposal(&groups[3], &clients[3], 81);
    let update = sent(&clients, &mut groups, 3, update);
    let removal = sent(&clients, &mut groups, 1, remove(3));
    let (selection, removed) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.references, vec![removal]);
    assert_eq!(selection.left_out[0].reference, update);
    assert_eq!(selection.left_out[0].proposal_type, ProposalType::UPDATE);
    assert_eq!(removed, vec![LeafIndex(3)]);
    members_in_sync(&groups);
}

#[test]
fn a_remove_of_the_committer_is_left_out() {
    let (clients, mut groups) = group_of(3);
    let r = sent(&clients, &mut groups, 1, remove(0));
    let (selection, removed) = commit_selection(&clients, &mut groups, 0);
    assert!(selection.references.is_empty());
    assert_eq!(selection.left_out[0].reference, r);
    assert!(
        selection.left_out[0]
            .reason
            .contains("removes the committer")
    );
    assert!(removed.is_empty());
    assert_in_sync(&groups);
    // Another member can commit it.
    let proposal = propose(&groups[1], &clients[1].signer, remove(0));
    cache_everywhere(&mut groups, &proposal);
    let (selection, removed) = commit_selection(&clients, &mut groups, 2);
    assert_eq!(selection.references.len(), 1);
    assert_eq!(removed, vec![LeafIndex(0)]);
    members_in_sync(&groups);
}

#[test]
fn two_adds_of_one_key_package_commit_one() {
    let (clients, mut groups) = group_of(3);
    let (kp, _) = EngineMember::new("dave", 4).key_package(&mut rng(82));
    let first = sent(&clients, &mut groups, 1, add(kp.clone()));
    let second = sent(&clients, &mut groups, 2, add(kp));
    let (selection, _) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.references, vec![first]);
    assert_eq!(selection.left_out[0].reference, second);
    assert_eq!(groups[0].tree().member_count(), 4);
    assert_in_sync(&groups);
}

#[test]
fn an_add_of_a_current_member_is_left_out() {
    let (clients, mut groups) = group_of(3);
    // Charlie's key package: Charlie is already in the group.
    let (kp, _) = clients[2].key_package(&mut rng(83));
    let r = sent(&clients, &mut groups, 1, add(kp));
    let (selection, _) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.left_out[0].reference, r);
    assert!(selection.left_out[0].reason.contains("already a member"));
    assert_eq!(groups[0].tree().member_count(), 3);
    assert_in_sync(&groups);
}

#[test]
fn two_group_context_extensions_commit_one() {
    let (clients, mut groups) = group_of(3);
    let gce = || Proposal::GroupContextExtensions(GroupContextExtensions { extensions: vec![] });
    let first = sent(&clients, &mut groups, 1, gce());
    let second = sent(&clients, &mut groups, 2, gce());
    let (selection, _) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.references, vec![first]);
    assert_eq!(selection.left_out[0].reference, second);
    assert_in_sync(&groups);
}

#[test]
fn a_reinit_waits_for_the_other_proposals() {
    let (clients, mut groups) = group_of(4);
    let reinit = Proposal::ReInit(ReInit {
        group_id: b"next".to_vec(),
        version: ProtocolVersion::MLS10,
        cipher_suite: groups[0].suite.id(),
        extensions: vec![],
    });
    let r = sent(&clients, &mut groups, 2, reinit);
    let removal = sent(&clients, &mut groups, 1, remove(3));
    let (selection, _) = commit_selection(&clients, &mut groups, 0);
    assert_eq!(selection.references, vec![removal]);
    assert_eq!(selection.left_out[0].reference, r);
    assert!(selection.left_out[0].reason.contains("alone"));
    members_in_sync(&groups);
}

#[test]
fn two_psks_with_one_id_commit_one() {
    let (_, groups) = group_of(3);
    let mut g = groups.into_iter().next().unwrap();
    // Cached directly: resolving the PSK is not what this checks.
    let id = psk_id(&g.suite, b"shared", 1);
    for (i, sender) in [1u32, 2].into_iter().enumerate() {
        g.cache_own_proposal(crate::group::proposal_cache::CachedProposal {
            reference: vec![i as u8; 32],
            proposal: Proposal::PreSharedKey(PreSharedKey { psk: id.clone() }),
            sender: Sender::Member(LeafIndex(sender)),
        });
    }
    let held = crate::group::psk_store::ExternalPsks(std::collections::HashMap::from([(
        b"shared".to_vec(),
        crate::crypto::Secret::new(vec![7; 32]),
    )]));
    let selection = g.select_proposals(&[], &held, NOW);
    assert_eq!(selection.references, vec![vec![0u8; 32]]);
    assert_eq!(selection.left_out[0].reference, vec![1u8; 32]);
    assert!(selection.left_out[0].reason.contains("same id"));
}

#[test]
fn a_proposal_that_expired_in_the_cache_is_left_out() {
    let (clients, mut groups) = group_of(3);
    let short = crate::tree::leaf_node::Lifetime {
        not_before: NOW - 60,
        not_after: NOW + 60,
    };
    let (kp, _) = super::limit_rules::key_package_of("dave", 84, short);
    let r = sent(&clients, &mut groups, 1, add(kp));
    let later = NOW + 3600;
    let selection = groups[0].select_proposals(&[], &NoPsks, later);
    assert!(selection.references.is_empty());
    assert_eq!(selection.left_out[0].reference, r);
    assert!(
        selection.left_out[0].reason.contains("no longer valid"),
        "{}",
        selection.left_out[0].reason
    );
    // The commit without it is valid for everyone.
    let mut params = clients[0].params(vec![]);
    params.now = later;
    let created = groups[0].create_commit(params, &mut rng(85)).unwrap();
    for g in groups[1..].iter_mut() {
        let Received::Commit(staged) = g.process(&created.message, &NoPsks, later).unwrap() else {
            panic!("expected a commit");
        };
        g.merge(*staged).unwrap();
    }
    groups[0].merge(created.staged).unwrap();
    assert_in_sync(&groups);
}
