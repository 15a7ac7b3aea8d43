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
use crate::group::engine::Received;
use crate::group::observer::tests::observer_of;
use crate::group::observer::{Observed, Route};
use crate::group::psk_store::NoPsks;
use crate::group::state::GroupConfig;
use crate::group::state::GroupState;
use crate::messages::commit::Commit;
use crate::messages::proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, Proposal, ProposalOrRef, ReInit,
    Remove, Update,
};
use crate::schedule::{PreSharedKeyId, Psk};
use crate::test_support::engine::{EngineMember, NOW, assert_in_sync, deliver, group_of};
use crate::tree::leaf_node::LeafNodeSource;
use crate::tree::private::generate_hpke_key_pair;
use crate::types::ProtocolVersion;
use crate::types::extensions::{Extension, ExtensionType, ExternalSender};
use crate::types::math::LeafIndex;
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
    observer_agrees(group, message, expected_rule, needle);
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

/// Rules an observer cannot check, as `(rule, part of the detail)`: each
/// needs a secret of the epoch. A message that breaks only one of these is
/// accepted by an observer (docs/observer.md).
const NEEDS_SECRETS: &[(&str, &str)] = &[
    // The confirmation key comes from the next epoch's key schedule.
    ("§12.4.2", "confirmation tag"),
    // The membership key is an epoch secret (§6.2).
    ("§6.2", "membership tag"),
    // PSK values are the members' (§8.4): an observer cannot tell whether
    // they hold the PSKs a commit injects.
    ("§12.4.2", "is not available"),
];

/// An observer of `group`'s epoch given `message`: rejects it as the member
/// does (same rule, same detail, state unchanged), or, where the member's
/// rule needs secrets ([`NEEDS_SECRETS`]) or the message is a
/// PrivateMessage, accepts or routes it.
fn observer_agrees(group: &GroupState, message: &[u8], rule: &str, needle: &str) {
    let mut observer = observer_of(group);
    let before = observer.to_bytes().unwrap();
    let outcome = observer.process(message, NOW);
    if let Err(Error::Protocol { rule: seen, detail }) = &outcome
        && *seen == rule
        && detail.contains(needle)
    {
        assert_eq!(
            observer.to_bytes().unwrap(),
            before,
            "a message the observer rejected changed its state"
        );
        return;
    }
    let private = matches!(
        Route::of(message),
        Ok(r) if r.wire_format == WireFormat::PRIVATE_MESSAGE
    );
    if private {
        assert!(
            matches!(outcome, Ok(Observed::Private(_))),
            "observer on a PrivateMessage the member rejects ({rule} {needle:?}): {outcome:?}"
        );
    } else if NEEDS_SECRETS
        .iter()
        .any(|(r, n)| *r == rule && needle.contains(n))
    {
        assert!(
            matches!(outcome, Ok(Observed::Commit(_) | Observed::Proposal(_))),
            "observer on a message breaking only the secret rule {rule} {needle:?}: {outcome:?}"
        );
    } else {
        panic!("observer: expected {rule} ({needle:?}) as the member, got {outcome:?}");
    }
}

/// A proposal message from `g`'s owner (for the observer tests).
pub(crate) fn propose_for_observer(
    g: &GroupState,
    signer: &SignaturePrivateKey,
    proposal: Proposal,
) -> Vec<u8> {
    propose(g, signer, proposal)
}

/// `groups[committer]` sends an empty commit (with path) that everyone
/// processes and merges; the group must stay in sync.
fn still_works(clients: &[EngineMember], groups: &mut [GroupState], committer: usize, seed: u8) {
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
/// Processes `message` at every member but `skip` and checks that each
/// refuses it as a message of epoch `message_epoch`, from the `timing` side
/// of its own epoch, leaving its state as it was; then that the group
/// still works.
fn reject_wrong_epoch_everywhere(
    clients: &[EngineMember],
    groups: &mut [GroupState],
    skip: Option<usize>,
    message: &[u8],
    message_epoch: u64,
    timing: crate::EpochTiming,
) {
    for (i, g) in groups.iter_mut().enumerate() {
        if Some(i) == skip {
            continue;
        }
        let before = snapshot(g);
        match g.process(message, &NoPsks, NOW) {
            Err(Error::WrongEpoch {
                group_epoch,
                message_epoch: m,
                timing: t,
                ..
            }) => {
                assert_eq!((group_epoch, m, t), (before.epoch, message_epoch, timing));
            }
            other => panic!("expected a wrong epoch ({message_epoch}), got {other:?}"),
        }
        assert_eq!(snapshot(g), before, "a rejected message changed the state");
    }
    let next = skip.map_or(0, |s| (s + 1) % groups.len());
    still_works(clients, groups, next, 0xEE);
}

fn reject_everywhere(
    clients: &[EngineMember],
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

fn add(kp: crate::messages::key_package::KeyPackageData) -> Proposal {
    Proposal::Add(Add { key_package: kp })
}

fn remove(leaf: u32) -> Proposal {
    Proposal::Remove(Remove {
        removed: LeafIndex(leaf),
    })
}

/// A valid Update of `g`'s owner: its leaf with a fresh encryption key.
fn update_proposal(g: &GroupState, client: &EngineMember, seed: u8) -> Proposal {
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
fn group_with_extensions(
    n: usize,
    extensions: Vec<Extension>,
) -> (Vec<EngineMember>, Vec<GroupState>) {
    let names = ["alice", "bob", "charlie", "dave", "erin"];
    let mut rng = rng(7);
    let clients: Vec<EngineMember> = (0..n)
        .map(|i| EngineMember::new(names[i], i as u8 + 1))
        .collect();
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
fn group_with_external_sender(n: usize, ds: &EngineMember) -> (Vec<EngineMember>, Vec<GroupState>) {
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

mod authorization_rules;
mod extension_rules;
mod external_commit_rules;
mod lifecycle_rules;
mod limit_rules;
mod list_rules;
mod message_rules;
mod observer_limits;
mod selection_attacks;
mod selection_rules;
mod self_remove_rules;
