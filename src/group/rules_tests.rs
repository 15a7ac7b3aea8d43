//! One test per group rule (§6.3, §12.1, §12.2, §12.4.2): each feeds a
//! violating message to the other members and checks the exact rule of the
//! error, that the receiver's state did not change, and that the group still
//! works afterwards (nothing was half-applied).

use crate::codec::encode;
use crate::crypto::credential::Credential;
use crate::crypto::{SeededRandom, SignaturePrivateKey};
use crate::framing::{
    AuthenticatedContent, Content, FramedContent, MlsMessage, MlsMessageBody, Sender, WireFormat,
    encrypt_private, sign_content, to_public_message,
};
use crate::group::commit::Commit;
use crate::group::engine::tests::{Client, NOW, assert_in_sync, deliver, group_of};
use crate::group::engine::{GroupState, Received};
use crate::group::extensions::{Extension, ExtensionType, ExternalSender};
use crate::group::key_package::generate_hpke_key_pair;
use crate::group::proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, Proposal, ProposalOrRef, ReInit,
    Remove, Update,
};
use crate::group::psk_store::NoPsks;
use crate::group::state::GroupConfig;
use crate::schedule::{PreSharedKeyId, ProtocolVersion, Psk};
use crate::tree::leaf_node::LeafNodeSource;
use crate::tree::math::LeafIndex;
use crate::{Error, decode_exact};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn rng(seed: u8) -> SeededRandom {
    SeededRandom::from_seed([seed; 32])
}

/// What can be observed of a member's state from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    epoch: u64,
    epoch_authenticator: Vec<u8>,
    tree_hash: Vec<u8>,
    cached_proposals: usize,
    removed: bool,
}

fn snapshot(g: &GroupState) -> Snapshot {
    Snapshot {
        epoch: g.epoch(),
        epoch_authenticator: g.epoch_authenticator().to_vec(),
        tree_hash: g.tree().root_tree_hash(&g.suite).unwrap(),
        cached_proposals: g.proposals().iter().count(),
        removed: g.is_removed(),
    }
}

/// Processes `message` and checks that it fails with `Error::Protocol` of
/// rule `expected_rule` and a detail containing `needle`, leaving the
/// state as it was.
fn assert_rejected(group: &mut GroupState, message: &[u8], expected_rule: &str, needle: &str) {
    let before = snapshot(group);
    match group.process(message, &NoPsks, NOW) {
        Err(Error::Protocol { rule, detail }) => {
            assert_eq!(
                rule, expected_rule,
                "wrong rule (detail: {detail}), expected {expected_rule} / {needle:?}"
            );
            assert!(
                detail.contains(needle),
                "detail {detail:?} does not contain {needle:?}"
            );
        }
        Err(other) => panic!("expected {expected_rule} ({needle:?}), got {other:?}"),
        Ok(received) => panic!("expected {expected_rule} ({needle:?}), accepted: {received:?}"),
    }
    assert_eq!(
        snapshot(group),
        before,
        "a rejected message changed the state"
    );
}

/// `groups[committer]` sends an empty commit (with path) that everyone
/// processes and merges; the group must stay in sync.
fn still_works(clients: &[Client], groups: &mut [GroupState], committer: usize, seed: u8) {
    let before = groups[0].epoch();
    // Fresh randomness per epoch and committer: a reused seed would reuse
    // path keys, which receivers rightly reject.
    let mut seed = [seed; 32];
    seed[..8].copy_from_slice(&before.to_le_bytes());
    seed[8] = committer as u8;
    let created = groups[committer]
        .create_commit(
            clients[committer].params(vec![]),
            &mut SeededRandom::from_seed(seed),
        )
        .unwrap();
    deliver(groups, committer, created);
    assert_in_sync(groups);
    assert_eq!(groups[0].epoch(), before + 1);
}

/// Every member but `skip` (the one who built the message, if a member)
/// rejects `message` as [`assert_rejected`] checks; then another member's
/// valid commit is processed by all and the group stays in sync.
fn reject_everywhere(
    clients: &[Client],
    groups: &mut [GroupState],
    skip: Option<usize>,
    message: &[u8],
    rule: &str,
    needle: &str,
) {
    for (i, g) in groups.iter_mut().enumerate() {
        if Some(i) != skip {
            assert_rejected(g, message, rule, needle);
        }
    }
    let next = skip.map_or(0, |s| (s + 1) % groups.len());
    still_works(clients, groups, next, 0xEE);
}

fn encode_message(body: MlsMessageBody) -> Vec<u8> {
    encode(&MlsMessage::new(body)).unwrap()
}

/// Frames `content` as a PublicMessage of `epoch` from `sender`, signed by
/// `signer` over `g`'s current GroupContext and, for member senders, with a
/// valid membership tag of `g`'s current epoch. A commit gets a dummy
/// confirmation tag of Nh bytes.
fn frame_public(
    g: &GroupState,
    signer: &SignaturePrivateKey,
    sender: Sender,
    epoch: u64,
    content: Content,
) -> Vec<u8> {
    let is_commit = matches!(content, Content::Commit(_));
    let framed = FramedContent {
        group_id: g.context().group_id.clone(),
        epoch,
        sender,
        authenticated_data: vec![],
        content,
    };
    let mut signed = sign_content(
        &g.suite,
        WireFormat::PUBLIC_MESSAGE,
        framed,
        &g.epoch.context,
        signer,
    )
    .unwrap();
    if is_commit {
        signed.auth.confirmation_tag = Some(vec![0x5a; g.suite.hash_len()]);
    }
    let message = to_public_message(
        &g.suite,
        signed,
        &g.epoch.keys.membership_key,
        &g.epoch.context,
    )
    .unwrap();
    encode_message(MlsMessageBody::PublicMessage(Box::new(message)))
}

/// Frames an arbitrary `commit` from the owner of `committer` (or from
/// `sender`) in the current epoch, with a dummy confirmation tag: receivers
/// check the proposal list and the path before the tag.
fn forge_commit(
    committer: &GroupState,
    signer: &SignaturePrivateKey,
    commit: Commit,
    sender: Option<Sender>,
) -> Vec<u8> {
    frame_public(
        committer,
        signer,
        sender.unwrap_or(Sender::Member(committer.own_leaf())),
        committer.epoch(),
        Content::Commit(Box::new(commit)),
    )
}

/// A proposal from `g`'s owner as a PublicMessage of the current epoch.
fn propose(g: &GroupState, signer: &SignaturePrivateKey, proposal: Proposal) -> Vec<u8> {
    frame_public(
        g,
        signer,
        Sender::Member(g.own_leaf()),
        g.epoch(),
        Content::Proposal(Box::new(proposal)),
    )
}

/// Content from `g`'s owner as a PrivateMessage of the current epoch
/// (consumes a key of the sender's ratchet).
fn frame_private(
    g: &mut GroupState,
    signer: &SignaturePrivateKey,
    content: Content,
    rng: &mut SeededRandom,
) -> Vec<u8> {
    let framed = FramedContent {
        group_id: g.context().group_id.clone(),
        epoch: g.epoch(),
        sender: Sender::Member(g.own_leaf()),
        authenticated_data: b"aad".to_vec(),
        content,
    };
    let signed = sign_content(
        &g.suite,
        WireFormat::PRIVATE_MESSAGE,
        framed,
        &g.epoch.context,
        signer,
    )
    .unwrap();
    let suite = g.suite.clone();
    let state = &mut g.epoch;
    let message = encrypt_private(
        &suite,
        &signed,
        &mut state.secret_tree,
        &state.keys.sender_data_secret,
        0,
        rng,
    )
    .unwrap();
    encode_message(MlsMessageBody::PrivateMessage(Box::new(message)))
}

fn commit(proposals: Vec<Proposal>) -> Commit {
    Commit {
        proposals: proposals
            .into_iter()
            .map(|p| ProposalOrRef::Proposal(Box::new(p)))
            .collect(),
        path: None,
    }
}

fn add(kp: crate::group::key_package::KeyPackage) -> Proposal {
    Proposal::Add(Add { key_package: kp })
}

fn remove(leaf: u32) -> Proposal {
    Proposal::Remove(Remove {
        removed: LeafIndex(leaf),
    })
}

/// A valid Update of `g`'s owner: its leaf with a fresh encryption key.
fn update_proposal(g: &GroupState, client: &Client, seed: u8) -> Proposal {
    let own = g.own_leaf();
    let mut leaf = g.tree().leaf(own).unwrap().clone();
    leaf.encryption_key = generate_hpke_key_pair(&g.suite, &mut rng(seed)).unwrap().1;
    leaf.leaf_node_source = LeafNodeSource::Update;
    leaf.sign(&g.suite, &client.signer, Some((&g.context().group_id, own)))
        .unwrap();
    Proposal::Update(Update { leaf_node: leaf })
}

/// Every member processes a proposal message; returns its reference, which
/// all agree on.
fn cache_everywhere(groups: &mut [GroupState], message: &[u8]) -> Vec<u8> {
    let mut reference: Option<Vec<u8>> = None;
    for g in groups.iter_mut() {
        let before = g.proposals().iter().count();
        let Received::Proposal(p) = g.process(message, &NoPsks, NOW).unwrap() else {
            panic!("expected a proposal");
        };
        assert!(g.proposals().find(&p.reference).is_some());
        assert_eq!(g.proposals().iter().count(), before + 1);
        match &reference {
            Some(r) => assert_eq!(r, &p.reference),
            None => reference = Some(p.reference.clone()),
        }
    }
    reference.unwrap()
}

/// Like `group_of`, with the given GroupContext extensions from epoch 0.
fn group_with_extensions(n: usize, extensions: Vec<Extension>) -> (Vec<Client>, Vec<GroupState>) {
    let names = ["alice", "bob", "charlie", "dave", "erin"];
    let mut rng = rng(7);
    let clients: Vec<Client> = (0..n).map(|i| Client::new(names[i], i as u8 + 1)).collect();
    let (kp, private) = clients[0].key_package(&mut rng);
    let mut alice = GroupState::create(
        &clients[0].suite,
        GroupConfig::default(),
        b"test group".to_vec(),
        extensions,
        kp.leaf_node,
        private.encryption_key,
        &mut rng,
    )
    .unwrap();
    let kps: Vec<_> = clients[1..]
        .iter()
        .map(|c| c.key_package(&mut rng))
        .collect();
    let adds = kps.iter().map(|(kp, _)| add(kp.clone())).collect();
    let created = alice
        .create_commit(clients[0].params(adds), &mut rng)
        .unwrap();
    let welcome = created.welcome.clone().unwrap();
    alice.merge(created.staged).unwrap();
    let mut groups = vec![alice];
    for (c, (kp, private)) in clients[1..].iter().zip(&kps) {
        groups.push(c.join(&welcome, kp, private));
    }
    assert_in_sync(&groups);
    (clients, groups)
}

/// A group whose `external_senders` lists `ds`.
fn group_with_external_sender(n: usize, ds: &Client) -> (Vec<Client>, Vec<GroupState>) {
    let senders = vec![ExternalSender {
        signature_key: ds.public.clone(),
        credential: Credential::basic(ds.name.as_bytes().to_vec()),
    }];
    group_with_extensions(
        n,
        vec![Extension {
            extension_type: ExtensionType::EXTERNAL_SENDERS,
            extension_data: encode(&senders).unwrap(),
        }],
    )
}

fn psk_id(suite: &crate::crypto::Suite, id: &[u8], nonce: u8) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: id.to_vec(),
        },
        psk_nonce: vec![nonce; suite.hash_len()],
    }
}

// ---------------------------------------------------------------------------
// The forging helper itself: a valid list fails only at the tag
// ---------------------------------------------------------------------------

/// A forged commit with a valid list passes signature, membership tag, list
/// and path checks and fails only at the (dummy) confirmation tag: the
/// rejections of the other tests are due to the rule they break.
#[test]
fn forged_valid_commit_fails_only_at_confirmation_tag() {
    let (clients, mut groups) = group_of(3);
    let erin = Client::new("erin", 50);
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
    let erin = Client::new("erin", 50);
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
        crate::tree::math::LeafCount::new(4).unwrap()
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
    let ds = Client::new("ds", 60);
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
    let ds = Client::new("ds", 60);
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
    let ds = Client::new("ds", 60);
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
    let erin = Client::new("erin", 50);
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
    let erin = Client::new("erin", 50);
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
    let erin = Client::new("erin", 50);
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

    reject_everywhere(
        &clients,
        &mut groups,
        None,
        &replay,
        "§12.4.2",
        "handshake message for epoch 1, the group is in epoch 2",
    );
    // Epoch is now 3. A commit for epoch 4, else well-formed.
    let future = frame_public(
        &groups[1],
        &clients[1].signer,
        Sender::Member(LeafIndex(1)),
        4,
        Content::Commit(Box::new(commit(vec![]))),
    );
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &future,
        "§12.4.2",
        "handshake message for epoch 4, the group is in epoch 3",
    );
    // Epoch 4; epoch 1 is still retained (3 past epochs), but only for
    // application messages.
    assert_eq!(groups[0].epoch(), 4);
    reject_everywhere(
        &clients,
        &mut groups,
        Some(1),
        &late_private,
        "§12.4.2",
        "handshake message for past epoch 1, the group is in epoch 4",
    );
}

#[test]
fn proposal_by_reference_then_replay_12_4_2() {
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
    reject_everywhere(
        clients,
        &mut groups,
        None,
        &message,
        "§12.4.2",
        "handshake message for epoch 1, the group is in epoch 2",
    );
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
    let needle = format!(
        "message for epoch {sent_in}, the group is in epoch {} and keeps no keys for it",
        sent_in + past_epochs as u64 + 1
    );
    reject_everywhere(&clients, &mut groups, Some(1), &too_late, "§6.3", &needle);
}
