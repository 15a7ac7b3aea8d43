//! The forging helper, and §12.2 proposal-list rules.

use super::*;

// ---------------------------------------------------------------------------
// The forging helper itself: a valid list fails only at the tag
// ---------------------------------------------------------------------------

/// A forged commit with a valid list passes signature, membership tag, list
/// and path checks and fails only at the (dummy) confirmation tag: the
/// rejections of the other tests are due to the rule they break.
#[test]
fn forged_valid_commit_fails_only_at_confirmation_tag() {
    let (clients, mut groups) = group_of(3);
    let erin = EngineMember::new("erin", 50);
    let (kp, _) = erin.key_package(&mut rng(1));
    let forged = forge_commit(&groups[0], &clients[0].signer, commit(vec![add(kp)]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.4.2",
        "confirmation tag",
    );
}

// ---------------------------------------------------------------------------
// §12.2: proposal list validation
// ---------------------------------------------------------------------------

#[test]
fn duplicate_adds_12_2() {
    let (clients, mut groups) = group_of(3);
    let erin = EngineMember::new("erin", 50);
    let mut r = rng(2);
    let (kp1, _) = erin.key_package(&mut r);
    let (kp2, _) = erin.key_package(&mut r);
    assert_ne!(kp1, kp2);
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![add(kp1), add(kp2)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "two Adds of the same client",
    );
}

#[test]
fn add_of_existing_member_12_2() {
    let (clients, mut groups) = group_of(3);
    let (bob_again, _) = clients[1].key_package(&mut rng(3));
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![add(bob_again.clone())]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "already in the group",
    );

    // The exception: with a Remove of that client in the same list, the
    // Add is valid.
    let created = groups[0]
        .create_commit(
            clients[0].params(vec![remove(1), add(bob_again)]),
            &mut rng(4),
        )
        .unwrap();
    let Received::Commit(staged) = groups[2].process(&created.message, &NoPsks, NOW).unwrap()
    else {
        panic!("expected a commit");
    };
    assert_eq!(staged.summary.removed, vec![LeafIndex(1)]);
    assert_eq!(staged.summary.added, vec![LeafIndex(1)]);
    groups[2].merge(*staged).unwrap();
    groups[0].merge(created.staged).unwrap();
    assert_eq!(
        groups[0].epoch_authenticator(),
        groups[2].epoch_authenticator()
    );
}

#[test]
fn update_by_committer_12_2() {
    let (clients, mut groups) = group_of(3);
    // Inline: the committer's own Update.
    let update = update_proposal(&groups[0], &clients[0], 5);
    let forged = forge_commit(&groups[0], &clients[0].signer, commit(vec![update]), None);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "the committer (leaf 0) covers its own Update",
    );

    // By reference: Bob's valid Update proposal, committed by Bob himself.
    let update = update_proposal(&groups[1], &clients[1], 6);
    let message = propose(&groups[1], &clients[1].signer, update);
    let reference = cache_everywhere(&mut groups, &message);
    let forged = forge_commit(
        &groups[1],
        &clients[1].signer,
        Commit {
            proposals: vec![ProposalOrRef::Reference(reference)],
            path: None,
        },
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &forged,
        "§12.2",
        "the committer (leaf 1) covers its own Update",
    );
}

#[test]
fn remove_of_committer_12_2() {
    let (clients, mut groups) = group_of(3);
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![remove(0)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "the committer (leaf 0) removes itself",
    );
}

#[test]
fn update_and_remove_of_same_leaf_12_2() {
    let (clients, mut groups) = group_of(4);
    // Two Removes of leaf 2.
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![remove(2), remove(2)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "several Update/Remove proposals for leaf 2",
    );

    // Bob's Update by reference and a Remove of Bob.
    let update = update_proposal(&groups[1], &clients[1], 7);
    let message = propose(&groups[1], &clients[1].signer, update);
    let reference = cache_everywhere(&mut groups, &message);
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        Commit {
            proposals: vec![
                ProposalOrRef::Reference(reference),
                ProposalOrRef::Proposal(Box::new(remove(1))),
            ],
            path: None,
        },
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "several Update/Remove proposals for leaf 1",
    );
}

#[test]
fn duplicate_psk_ids_12_2() {
    let (clients, mut groups) = group_of(3);
    let id = psk_id(&groups[0].suite, b"shared psk", 9);
    let psk = || Proposal::PreSharedKey(PreSharedKey { psk: id.clone() });
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![psk(), psk()]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "two PreSharedKey proposals with the same PreSharedKeyID",
    );
}

#[test]
fn two_group_context_extensions_12_2() {
    let (clients, mut groups) = group_of(3);
    let gce = || Proposal::GroupContextExtensions(GroupContextExtensions { extensions: vec![] });
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![gce(), gce()]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "several GroupContextExtensions proposals",
    );
}

#[test]
fn reinit_with_other_proposal_12_2() {
    let (clients, mut groups) = group_of(3);
    let reinit = Proposal::ReInit(ReInit {
        group_id: b"the next group".to_vec(),
        version: ProtocolVersion::MLS10,
        cipher_suite: groups[0].suite.id(),
        extensions: vec![],
    });
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![reinit, remove(2)]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "a ReInit together with other proposals",
    );
}

#[test]
fn external_init_in_regular_commit_12_2() {
    let (clients, mut groups) = group_of(3);
    let external_init = Proposal::ExternalInit(ExternalInit {
        kem_output: vec![0x42; 32],
    });
    let forged = forge_commit(
        &groups[0],
        &clients[0].signer,
        commit(vec![external_init]),
        None,
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(0),
        &forged,
        "§12.2",
        "an ExternalInit in a regular commit",
    );
}

// ---------------------------------------------------------------------------
